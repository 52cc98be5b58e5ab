// SPDX-License-Identifier: GPL-2.0-or-later
#include "x86/cpuid.h"

#include <stddef.h>

#define CPUID1_ECX_VMX        (1u << 5)
#define CPUID1_ECX_MONITOR    (1u << 3)
#define CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define CPUID1_EDX_HTT        (1u << 28)
#define CPUID_EXT1_ECX_CMP_LEGACY (1u << 1)
#define CPUID_EXT1_ECX_SVM    (1u << 2)

/* x2APIC topology level types (leaves 0xb and 0x1f, ECX[15:8]). */
#define TOPO_LEVEL_SMT  1u
#define TOPO_LEVEL_CORE 2u

struct cpuid_entry *cpuid_find(struct cpuid_entry *entries, uint32_t n,
			       uint32_t function, uint32_t index)
{
	for (uint32_t i = 0; i < n; i++) {
		struct cpuid_entry *e = &entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & CPUID_FLAG_SIGNIFICANT_INDEX) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

/* Bits needed to number count items: the APIC-id field width. */
static uint32_t id_bits(uint32_t count)
{
	uint32_t bits = 0;

	while ((1u << bits) < count)
		bits++;
	return bits;
}

static void set_topology_leaf(struct cpuid_entry *e,
			      const struct cpuid_topology *topo)
{
	uint32_t apic_id = topo->cpu_index;

	e->edx = apic_id;
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (TOPO_LEVEL_SMT << 8) | e->index;
		break;
	case 1:
		e->eax = id_bits(topo->ncpus);
		e->ebx = topo->ncpus;
		e->ecx = (TOPO_LEVEL_CORE << 8) | e->index;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;
		break;
	}
}

void cpuid_normalize(struct cpuid_entry *entries, uint32_t n,
		     const struct cpuid_topology *topo)
{
	uint32_t ncpus = topo->ncpus ? topo->ncpus : 1;
	uint32_t apic_id = topo->cpu_index;

	for (uint32_t i = 0; i < n; i++) {
		struct cpuid_entry *e = &entries[i];

		switch (e->function) {
		case 0x1:
			e->ebx &= 0x0000ffffu;
			e->ebx |= (apic_id & 0xffu) << 24;
			e->ebx |= (ncpus & 0xffu) << 16;
			if (ncpus > 1)
				e->edx |= CPUID1_EDX_HTT;
			else
				e->edx &= ~CPUID1_EDX_HTT;
			e->ecx |= CPUID1_ECX_HYPERVISOR;
			/* No nested virtualisation, no MONITOR/MWAIT exits. */
			e->ecx &= ~(CPUID1_ECX_VMX | CPUID1_ECX_MONITOR);
			if (topo->tsc_deadline)
				e->ecx |= CPUID1_ECX_TSC_DEADLINE;
			break;
		case 0x4:
			/* Deterministic cache parameters: cores per package
			 * in EAX[31:26], threads sharing the cache in EAX[25:14]. */
			if ((e->eax & 0x1f) == 0)
				break;
			e->eax &= 0x00003fffu;
			e->eax |= ((ncpus - 1) & 0x3fu) << 26;
			break;
		case 0x6:
			/* No power management to report. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xa:
			/* No virtual PMU: performance counters are not part of
			 * the machine we promise. */
			e->eax = e->ebx = e->ecx = e->edx = 0;
			break;
		case 0xb:
		case 0x1f:
			set_topology_leaf(e, topo);
			break;
		case 0x80000001:
			e->ecx &= ~CPUID_EXT1_ECX_SVM;
			if (ncpus > 1)
				e->ecx |= CPUID_EXT1_ECX_CMP_LEGACY;
			else
				e->ecx &= ~CPUID_EXT1_ECX_CMP_LEGACY;
			break;
		case 0x80000008:
			/* AMD: NC in ECX[7:0], APIC id core bits in [15:12]. */
			e->ecx &= ~0xf0ffu;
			e->ecx |= (ncpus - 1) & 0xffu;
			e->ecx |= (id_bits(ncpus) & 0xfu) << 12;
			break;
		case 0x8000001e:
			/* AMD extended APIC id; one thread per core. */
			e->eax = apic_id;
			e->ebx = apic_id & 0xffu;
			e->ecx = 0;
			e->edx = 0;
			break;
		default:
			break;
		}
	}
}
