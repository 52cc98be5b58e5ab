// SPDX-License-Identifier: GPL-2.0-or-later
/* CPUID as each vCPU sees it. */
#include <glib.h>

#include "x86/cpuid.h"

static uint32_t base_entries(struct cpuid_entry *e)
{
	uint32_t n = 0;

	e[n++] = (struct cpuid_entry){ .function = 0x0, .eax = 0x1f };
	e[n++] = (struct cpuid_entry){ .function = 0x1, .ebx = 0x12340800,
				       .ecx = (1u << 5) | (1u << 3),
				       .edx = 1u << 28 };
	e[n++] = (struct cpuid_entry){ .function = 0x4, .index = 0,
				       .flags = CPUID_FLAG_SIGNIFICANT_INDEX,
				       .eax = 0xfc004121 };
	e[n++] = (struct cpuid_entry){ .function = 0xa, .eax = 0x07300805 };
	for (uint32_t i = 0; i < 3; i++)
		e[n++] = (struct cpuid_entry){
			.function = 0xb, .index = i,
			.flags = CPUID_FLAG_SIGNIFICANT_INDEX,
			.eax = 9, .ebx = 9, .ecx = 9, .edx = 9 };
	e[n++] = (struct cpuid_entry){ .function = 0x80000001, .ecx = 1u << 2 };
	e[n++] = (struct cpuid_entry){ .function = 0x80000008, .ecx = 0x703f };
	e[n++] = (struct cpuid_entry){ .function = 0x8000001e, .eax = 77 };
	return n;
}

static void test_leaf1(void)
{
	struct cpuid_entry e[32];
	uint32_t n = base_entries(e);
	struct cpuid_topology topo = { .ncpus = 4, .cpu_index = 3,
				       .tsc_deadline = true };
	struct cpuid_entry *l1;

	cpuid_normalize(e, n, &topo);
	l1 = cpuid_find(e, n, 0x1, 0);
	g_assert_nonnull(l1);
	g_assert_cmpuint(l1->ebx >> 24, ==, 3);           /* APIC id */
	g_assert_cmpuint((l1->ebx >> 16) & 0xff, ==, 4);  /* logical count */
	g_assert_cmphex(l1->ebx & 0xffff, ==, 0x0800);    /* rest kept */
	g_assert_true(l1->ecx & (1u << 31));              /* hypervisor */
	g_assert_true(l1->ecx & (1u << 24));              /* TSC deadline */
	g_assert_false(l1->ecx & (1u << 5));              /* no VMX */
	g_assert_false(l1->ecx & (1u << 3));              /* no MONITOR */
	g_assert_true(l1->edx & (1u << 28));
}

static void test_single_cpu(void)
{
	struct cpuid_entry e[32];
	uint32_t n = base_entries(e);
	struct cpuid_topology topo = { .ncpus = 1, .cpu_index = 0 };

	cpuid_normalize(e, n, &topo);
	g_assert_false(cpuid_find(e, n, 0x1, 0)->edx & (1u << 28));
	g_assert_cmpuint(cpuid_find(e, n, 0x4, 0)->eax >> 26, ==, 0);
	g_assert_cmpuint(cpuid_find(e, n, 0x80000008, 0)->ecx & 0xff, ==, 0);
}

static void test_topology_leaves(void)
{
	struct cpuid_entry e[32];
	uint32_t n = base_entries(e);
	struct cpuid_topology topo = { .ncpus = 6, .cpu_index = 5 };
	struct cpuid_entry *smt, *core, *end;

	cpuid_normalize(e, n, &topo);
	smt = cpuid_find(e, n, 0xb, 0);
	core = cpuid_find(e, n, 0xb, 1);
	end = cpuid_find(e, n, 0xb, 2);
	g_assert_cmpuint(smt->ebx, ==, 1);
	g_assert_cmpuint((smt->ecx >> 8) & 0xff, ==, 1);
	g_assert_cmpuint(core->eax, ==, 3);   /* 6 cpus need 3 id bits */
	g_assert_cmpuint(core->ebx, ==, 6);
	g_assert_cmpuint((core->ecx >> 8) & 0xff, ==, 2);
	g_assert_cmpuint(core->edx, ==, 5);
	g_assert_cmpuint(end->ebx, ==, 0);    /* the list ends here */
	g_assert_cmpuint((end->ecx >> 8) & 0xff, ==, 0);
	g_assert_cmpuint(cpuid_find(e, n, 0x4, 0)->eax >> 26, ==, 5);
	g_assert_cmpuint(cpuid_find(e, n, 0xa, 0)->eax, ==, 0);  /* no PMU */
	g_assert_cmpuint(cpuid_find(e, n, 0x80000001, 0)->ecx & (1u << 2), ==, 0);
	g_assert_cmpuint(cpuid_find(e, n, 0x80000008, 0)->ecx & 0xff, ==, 5);
	g_assert_cmpuint(cpuid_find(e, n, 0x8000001e, 0)->eax, ==, 5);
}

static void test_find_index(void)
{
	struct cpuid_entry e[32];
	uint32_t n = base_entries(e);

	g_assert_null(cpuid_find(e, n, 0xb, 7));
	g_assert_null(cpuid_find(e, n, 0x12345, 0));
	/* Without the significant-index flag any index matches. */
	g_assert_nonnull(cpuid_find(e, n, 0x1, 5));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cpuid/leaf1", test_leaf1);
	g_test_add_func("/cpuid/single-cpu", test_single_cpu);
	g_test_add_func("/cpuid/topology-leaves", test_topology_leaves);
	g_test_add_func("/cpuid/find-index", test_find_index);
	return g_test_run();
}
