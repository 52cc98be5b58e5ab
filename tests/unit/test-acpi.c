// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for the ACPI table builder and the AML encoder.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "x86/acpi.h"
#include "x86/aml.h"
#include "x86/layout.h"

#define NVIRTIO_TEST	8

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void make_config(struct acpi_config *cfg, uint32_t ncpus,
			size_t nvirtio)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpus = ncpus;
	cfg->ioapic_id = 0;
	cfg->ioapic_addr = X86_IOAPIC_ADDR;
	cfg->lapic_addr = X86_LAPIC_ADDR;
	cfg->com1_port = X86_COM1_PORT;
	cfg->com1_irq = X86_COM1_IRQ;
	cfg->pm_port = X86_PM_PORT;
	cfg->ged_irq = X86_GED_IRQ;
	cfg->pvpanic_port = X86_PVPANIC_PORT;
	cfg->nvirtio_mmio = nvirtio;
	for (i = 0; i < nvirtio; i++) {
		cfg->virtio_mmio[i].base = X86_MMIO_DEVICES_BASE + i * 0x1000;
		cfg->virtio_mmio[i].size = 0x200;
		cfg->virtio_mmio[i].gsi = (uint32_t)(16 + i);
	}
}

struct built {
	uint8_t *buf;
	size_t size;
	struct acpi_tables out;
};

static const struct acpi_table_ref *find_ref(const struct built *b,
					     const char *sig)
{
	size_t i;

	for (i = 0; i < b->out.ntables; i++) {
		if (!strcmp(b->out.tables[i].signature, sig))
			return &b->out.tables[i];
	}
	g_assert_not_reached();
	return NULL;
}

static const uint8_t *at(const struct built *b, uint64_t gpa, uint32_t len)
{
	g_assert_cmpuint(gpa, >=, X86_ACPI_ADDR);
	g_assert_cmpuint(gpa - X86_ACPI_ADDR + len, <=, b->size);
	return b->buf + (gpa - X86_ACPI_ADDR);
}

static const uint8_t *table(const struct built *b, const char *sig)
{
	const struct acpi_table_ref *r = find_ref(b, sig);

	return at(b, r->gpa, r->length);
}

static size_t count_mem(const uint8_t *hay, size_t n, const void *needle,
			size_t m)
{
	size_t i, count = 0;

	for (i = 0; i + m <= n; i++) {
		if (!memcmp(hay + i, needle, m))
			count++;
	}
	return count;
}

static void build(struct built *b, const struct acpi_config *cfg)
{
	b->size = X86_ACPI_SIZE;
	b->buf = g_malloc(b->size);
	memset(b->buf, 0xa5, b->size);
	g_assert_cmpint(acpi_build(cfg, b->buf, b->size, X86_ACPI_ADDR,
				   &b->out), ==, 0);
}

static void check_layout(const struct built *b)
{
	static const char *const sigs[] = { "RSDP", "XSDT", "FACP", "APIC",
					    "DSDT" };
	const struct acpi_table_ref *r, *q;
	const uint8_t *t;
	size_t i, j;

	g_assert_cmpuint(b->out.rsdp_gpa, ==, X86_ACPI_ADDR);
	g_assert_cmpuint(b->out.ntables, ==, G_N_ELEMENTS(sigs));
	for (i = 0; i < G_N_ELEMENTS(sigs); i++)
		(void)find_ref(b, sigs[i]);

	for (i = 0; i < b->out.ntables; i++) {
		r = &b->out.tables[i];
		t = at(b, r->gpa, r->length);
		g_assert_cmpuint(r->gpa % (i == 0 ? 16 : 8), ==, 0);
		for (j = 0; j < i; j++) {
			q = &b->out.tables[j];
			g_assert_true(r->gpa >= q->gpa + q->length ||
				      q->gpa >= r->gpa + r->length);
		}
		if (!strcmp(r->signature, "RSDP"))
			continue;
		g_assert_cmpmem(t, 4, r->signature, 4);
		g_assert_cmpuint(get32(t + 4), ==, r->length);
		g_assert_cmpuint(acpi_checksum(t, r->length), ==, 0);
		g_assert_cmpmem(t + 10, 6, "DUVSOR", 6);
	}
}

static void check_rsdp_xsdt(const struct built *b)
{
	const uint8_t *rsdp = table(b, "RSDP"), *xsdt = table(b, "XSDT");
	uint32_t n;

	g_assert_cmpmem(rsdp, 8, "RSD PTR ", 8);
	g_assert_cmpuint(rsdp[15], ==, 2);
	g_assert_cmpuint(acpi_checksum(rsdp, 20), ==, 0);
	g_assert_cmpuint(get32(rsdp + 20), ==, 36);
	g_assert_cmpuint(acpi_checksum(rsdp, 36), ==, 0);
	g_assert_cmpuint(get64(rsdp + 24), ==, find_ref(b, "XSDT")->gpa);

	n = (get32(xsdt + 4) - 36) / 8;
	g_assert_cmpuint(n, ==, 2);
	g_assert_cmpuint(get64(xsdt + 36), ==, find_ref(b, "FACP")->gpa);
	g_assert_cmpuint(get64(xsdt + 44), ==, find_ref(b, "APIC")->gpa);
}

static void check_gas_io8(const uint8_t *g, uint64_t port)
{
	g_assert_cmpuint(g[0], ==, 1);		/* SystemIO */
	g_assert_cmpuint(g[1], ==, 8);
	g_assert_cmpuint(g[2], ==, 0);
	g_assert_cmpuint(g[3], ==, 1);		/* byte access */
	g_assert_cmpuint(get64(g + 4), ==, port);
}

static void check_fadt(const struct built *b)
{
	const uint8_t *f = table(b, "FACP");
	uint32_t flags = get32(f + 112);

	g_assert_cmpuint(get32(f + 4), ==, 276);
	g_assert_cmpuint(f[8], ==, 6);
	g_assert_cmpuint(f[131] & 0xf, ==, 3);
	g_assert_cmpuint(flags & (1u << 20), !=, 0);	/* HW_REDUCED_ACPI */
	g_assert_cmpuint(flags & (1u << 10), !=, 0);	/* RESET_REG_SUP */
	/* VGA and CMOS RTC not present; no LEGACY_DEVICES, no 8042. */
	g_assert_cmpuint(get16(f + 109), ==, (1u << 2) | (1u << 5));
	g_assert_cmpuint(get16(f + 46), ==, 0);		/* SCI_INT */
	g_assert_cmpuint(get32(f + 36), ==, 0);		/* FIRMWARE_CTRL */
	g_assert_cmpuint(get32(f + 40), ==, 0);		/* 32-bit DSDT */
	g_assert_cmpuint(get64(f + 140), ==, find_ref(b, "DSDT")->gpa);
	check_gas_io8(f + 116, X86_PM_RESET);
	g_assert_cmpuint(f[128], ==, X86_PM_RESET_VALUE);
	check_gas_io8(f + 244, X86_PM_SLEEP_CTL);
	check_gas_io8(f + 256, X86_PM_SLEEP_STS);
	g_assert_cmpmem(f + 268, 7, "DUVISOR", 7);
}

static void check_madt(const struct built *b, const struct acpi_config *cfg)
{
	const struct acpi_table_ref *r = find_ref(b, "APIC");
	const uint8_t *m = table(b, "APIC"), *e;
	uint32_t nlapic = 0, nioapic = 0;

	g_assert_cmpuint(get32(m + 36), ==, X86_LAPIC_ADDR);
	g_assert_cmpuint(get32(m + 40), ==, 1);		/* PCAT_COMPAT */
	for (e = m + 44; e < m + r->length; e += e[1]) {
		g_assert_cmpuint(e[1], >=, 2);
		g_assert_cmpuint(e + e[1] - m, <=, r->length);
		switch (e[0]) {
		case 0:
			g_assert_cmpuint(e[1], ==, 8);
			g_assert_cmpuint(e[2], ==, nlapic);
			g_assert_cmpuint(e[3], ==, nlapic);
			g_assert_cmpuint(get32(e + 4), ==, 1);
			nlapic++;
			break;
		case 1:
			g_assert_cmpuint(e[1], ==, 12);
			g_assert_cmpuint(e[2], ==, cfg->ioapic_id);
			g_assert_cmpuint(get32(e + 4), ==, X86_IOAPIC_ADDR);
			g_assert_cmpuint(get32(e + 8), ==, 0);
			nioapic++;
			break;
		default:
			g_assert_not_reached();
		}
	}
	g_assert_true(e == m + r->length);
	g_assert_cmpuint(nlapic, ==, cfg->ncpus);
	g_assert_cmpuint(nioapic, ==, 1);
}

static void check_dsdt(const struct built *b, const struct acpi_config *cfg)
{
	/* Name (_S5_, Package (4) { 5, 0, 0, 0 }) */
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x07,
				      0x04, 0x0a, X86_PM_SLP_TYP_S5, 0, 0, 0 };
	/* OperationRegion (GDST, SystemIO, 0x603, 1) */
	static const uint8_t region[] = { 0x5b, 0x80, 'G', 'D', 'S', 'T', 0x01,
					  0x0b, 0x03, 0x06, 0x01 };
	/* Notify (PWRB, 0x80) */
	static const uint8_t notify[] = { 0x86, 'P', 'W', 'R', 'B', 0x0a,
					  0x80 };
	static const uint8_t pnp0501[] = { 0x0c, 0x41, 0xd0, 0x05, 0x01 };
	static const uint8_t pnp0c0c[] = { 0x0c, 0x41, 0xd0, 0x0c, 0x0c };
	const struct acpi_table_ref *r = find_ref(b, "DSDT");
	const uint8_t *d = table(b, "DSDT");
	size_t n = r->length;

	g_assert_cmpuint(d[8], ==, 2);
	g_assert_cmpuint(count_mem(d, n, s5, sizeof(s5)), ==, 1);
	g_assert_cmpuint(count_mem(d, n, "_SB_", 4), ==, 1);
	g_assert_cmpuint(count_mem(d, n, "_EVT", 4), ==, 1);
	g_assert_cmpuint(count_mem(d, n, "ACPI0013", 9), ==, 1);
	g_assert_cmpuint(count_mem(d, n, region, sizeof(region)), ==, 1);
	g_assert_cmpuint(count_mem(d, n, notify, sizeof(notify)), ==, 1);
	g_assert_cmpuint(count_mem(d, n, pnp0c0c, sizeof(pnp0c0c)), ==, 1);
	g_assert_cmpuint(count_mem(d, n, pnp0501, sizeof(pnp0501)), ==,
			 cfg->com1_port ? 1 : 0);
	g_assert_cmpuint(count_mem(d, n, "LNRO0005", 9), ==,
			 cfg->nvirtio_mmio);
	/* pvpanic: QEMU0001 with an I/O port descriptor for its one port. */
	if (cfg->pvpanic_port) {
		const uint8_t io[] = { 0x47, 0x01, cfg->pvpanic_port & 0xff,
				       cfg->pvpanic_port >> 8,
				       cfg->pvpanic_port & 0xff,
				       cfg->pvpanic_port >> 8, 0x01, 0x01 };

		g_assert_cmpuint(count_mem(d, n, "QEMU0001", 9), ==, 1);
		g_assert_cmpuint(count_mem(d, n, io, sizeof(io)), ==, 1);
	}
	if (cfg->nvirtio_mmio)
		g_assert_cmpuint(count_mem(d, n, "V000", 4), ==, 1);
}

struct build_case {
	uint32_t ncpus;
	size_t nvirtio;
};

static void test_build(gconstpointer data)
{
	const struct build_case *c = data;
	struct acpi_config cfg;
	struct built b;

	make_config(&cfg, c->ncpus, c->nvirtio);
	build(&b, &cfg);
	check_layout(&b);
	check_rsdp_xsdt(&b);
	check_fadt(&b);
	check_madt(&b, &cfg);
	check_dsdt(&b, &cfg);
	g_free(b.buf);
}

static void test_no_com1(void)
{
	struct acpi_config cfg;
	struct built b;

	make_config(&cfg, 2, 1);
	cfg.com1_port = 0;
	build(&b, &cfg);
	check_layout(&b);
	check_dsdt(&b, &cfg);
	g_free(b.buf);
}

static void test_invalid(void)
{
	struct acpi_tables out;
	struct acpi_config cfg;
	uint8_t *buf = g_malloc(X86_ACPI_SIZE);

#define EXPECT_EINVAL(base)						\
	g_assert_cmpint(acpi_build(&cfg, buf, X86_ACPI_SIZE, (base), &out), \
			==, -EINVAL)

	make_config(&cfg, 256, 0);
	EXPECT_EINVAL(X86_ACPI_ADDR);
	make_config(&cfg, 0, 0);
	EXPECT_EINVAL(X86_ACPI_ADDR);
	make_config(&cfg, 1, 0);
	EXPECT_EINVAL(X86_ACPI_ADDR + 8);
	make_config(&cfg, 1, 2);
	cfg.virtio_mmio[1].gsi = cfg.virtio_mmio[0].gsi;
	EXPECT_EINVAL(X86_ACPI_ADDR);
	make_config(&cfg, 1, 1);
	cfg.virtio_mmio[0].gsi = 24;
	EXPECT_EINVAL(X86_ACPI_ADDR);
	make_config(&cfg, 1, 1);
	cfg.virtio_mmio[0].gsi = X86_GED_IRQ;
	EXPECT_EINVAL(X86_ACPI_ADDR);
	make_config(&cfg, 1, 1);
	cfg.virtio_mmio[0].base = X86_4GIB;
	EXPECT_EINVAL(X86_ACPI_ADDR);
	make_config(&cfg, 1, 1);
	cfg.virtio_mmio[0].base = X86_4GIB - 0x100;
	EXPECT_EINVAL(X86_ACPI_ADDR);
	make_config(&cfg, 1, 0);
	cfg.nvirtio_mmio = ACPI_MAX_VIRTIO_MMIO + 1;
	EXPECT_EINVAL(X86_ACPI_ADDR);
	make_config(&cfg, 1, 0);
	cfg.com1_irq = 16;
	EXPECT_EINVAL(X86_ACPI_ADDR);
	make_config(&cfg, 1, 0);
	cfg.lapic_addr = X86_4GIB;
	EXPECT_EINVAL(X86_ACPI_ADDR);
#undef EXPECT_EINVAL

	/* The largest machine still fits the reserved area. */
	make_config(&cfg, 255, NVIRTIO_TEST);
	g_assert_cmpint(acpi_build(&cfg, buf, X86_ACPI_SIZE, X86_ACPI_ADDR,
				   &out), ==, 0);
	g_free(buf);
}

/* Every size short of the exact need fails cleanly, within the buffer. */
static void test_enospc(void)
{
	struct acpi_config cfg;
	struct built b;
	struct acpi_tables out;
	const struct acpi_table_ref *dsdt;
	size_t need, size;
	uint8_t *buf;

	make_config(&cfg, 4, 3);
	build(&b, &cfg);
	dsdt = find_ref(&b, "DSDT");
	need = dsdt->gpa + dsdt->length - X86_ACPI_ADDR;

	for (size = 0; size <= need; size++) {
		buf = g_malloc(size ? size : 1);
		g_assert_cmpint(acpi_build(&cfg, buf, size, X86_ACPI_ADDR,
					   &out), ==, size < need ? -ENOSPC : 0);
		if (size == need)
			g_assert_cmpmem(buf, size, b.buf, size);
		g_free(buf);
	}
	g_free(b.buf);
}

/* Decode a PkgLength as an AML parser would. */
static uint32_t pkglength_decode(const uint8_t *p, size_t *n)
{
	uint32_t v;
	size_t follow = p[0] >> 6, i;

	*n = follow + 1;
	if (!follow)
		return p[0] & 0x3f;
	g_assert_cmpuint(p[0] & 0x30, ==, 0);
	v = p[0] & 0x0f;
	for (i = 1; i <= follow; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

static void test_pkglength_encode(void)
{
	static const struct {
		uint32_t value;
		size_t n;
	} cases[] = {
		{ 0, 1 }, { 1, 1 }, { 63, 1 }, { 64, 2 }, { 65, 2 },
		{ 4095, 2 }, { 4096, 3 }, { 0xfffff, 3 }, { 0x100000, 4 },
		{ AML_PKGLENGTH_MAX, 4 }, { AML_PKGLENGTH_MAX + 1, 0 },
		{ UINT32_MAX, 0 },
	};
	uint8_t out[4];
	size_t i, n, dn;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		n = aml_pkglength_encode(out, cases[i].value);
		g_assert_cmpuint(n, ==, cases[i].n);
		if (!n)
			continue;
		g_assert_cmpuint(pkglength_decode(out, &dn), ==,
				 cases[i].value);
		g_assert_cmpuint(dn, ==, n);
	}

	n = aml_pkglength_encode(out, 64);
	g_assert_cmpuint(out[0], ==, 0x40);
	g_assert_cmpuint(out[1], ==, 0x04);
	n = aml_pkglength_encode(out, 4096);
	g_assert_cmpmem(out, n, ((const uint8_t[]){ 0x80, 0x00, 0x01 }), 3);
}

static void test_pkglength_body(void)
{
	static const struct {
		size_t body;
		size_t n;
	} cases[] = {
		{ 0, 1 }, { 62, 1 }, { 63, 2 }, { 64, 2 }, { 4093, 2 },
		{ 4094, 3 }, { 4095, 3 }, { 0xffffc, 3 }, { 0xffffd, 4 },
		{ 0xffffffb, 4 }, { 0xffffffc, 0 }, { SIZE_MAX, 0 },
	};
	uint8_t out[4];
	size_t i, n, dn;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		n = aml_pkglength_for_body(out, cases[i].body);
		g_assert_cmpuint(n, ==, cases[i].n);
		if (!n)
			continue;
		g_assert_cmpuint(pkglength_decode(out, &dn), ==,
				 cases[i].body + n);
		g_assert_cmpuint(dn, ==, n);
	}
}

/*
 * Scopes whose PkgLength straddles each encoding boundary. Some totals
 * cannot occur (a 62-byte body gives 63, a 63-byte one 65), so walk bodies.
 */
static void test_pkglength_scope(void)
{
	static const size_t limit[] = { 63, 4095, 0xfffff };
	size_t cap = 0x100000 + 64, i, body, mark, n, expect_n;
	uint8_t *data = g_malloc(cap), *fill = g_malloc0(cap);
	struct aml_buf b;

	for (i = 0; i < G_N_ELEMENTS(limit); i++) {
		for (body = limit[i] - 6; body <= limit[i] + 2; body++) {
			expect_n = body + i + 1 <= limit[i] ? i + 1 : i + 2;
			aml_init(&b, data, cap);
			mark = aml_scope_begin(&b, "ABCD");
			aml_bytes(&b, fill, body - 4);
			aml_end(&b, mark);
			g_assert_cmpint(aml_error(&b), ==, 0);
			g_assert_cmpuint(data[0], ==, 0x10);
			g_assert_cmpuint(pkglength_decode(data + 1, &n), ==,
					 body + expect_n);
			g_assert_cmpuint(n, ==, expect_n);
			g_assert_cmpuint(b.len, ==, 1 + n + body);
			g_assert_cmpmem(data + 1 + n, 4, "ABCD", 4);
		}
	}
	g_free(fill);
	g_free(data);
}

static void check_aml(void (*emit)(struct aml_buf *, const void *),
		      const void *arg, const void *expect, size_t len, int err)
{
	uint8_t data[64];
	struct aml_buf b;

	aml_init(&b, data, sizeof(data));
	emit(&b, arg);
	g_assert_cmpint(aml_error(&b), ==, err);
	if (!err)
		g_assert_cmpmem(data, b.len, expect, len);
}

static void emit_int(struct aml_buf *b, const void *arg)
{
	aml_integer(b, *(const uint64_t *)arg);
}

static void emit_name(struct aml_buf *b, const void *arg)
{
	aml_name_string(b, arg);
}

#define AML_OK(fn, arg, ...)						\
	check_aml(fn, arg, (const uint8_t[]){ __VA_ARGS__ },		\
		  sizeof((const uint8_t[]){ __VA_ARGS__ }), 0)

static void test_integer(void)
{
	static const uint64_t v[] = { 0, 1, 2, 0xff, 0x100, 0xffff, 0x10000,
				      0xffffffff, 0x100000000ull };

	AML_OK(emit_int, &v[0], 0x00);
	AML_OK(emit_int, &v[1], 0x01);
	AML_OK(emit_int, &v[2], 0x0a, 0x02);
	AML_OK(emit_int, &v[3], 0x0a, 0xff);
	AML_OK(emit_int, &v[4], 0x0b, 0x00, 0x01);
	AML_OK(emit_int, &v[5], 0x0b, 0xff, 0xff);
	AML_OK(emit_int, &v[6], 0x0c, 0x00, 0x00, 0x01, 0x00);
	AML_OK(emit_int, &v[7], 0x0c, 0xff, 0xff, 0xff, 0xff);
	AML_OK(emit_int, &v[8], 0x0e, 0, 0, 0, 0, 1, 0, 0, 0);
}

static void test_name_string(void)
{
	AML_OK(emit_name, "_SB", '_', 'S', 'B', '_');
	AML_OK(emit_name, "\\_SB.PWRB", '\\', 0x2e, '_', 'S', 'B', '_', 'P',
	       'W', 'R', 'B');
	AML_OK(emit_name, "A.B1.C", 0x2f, 3, 'A', '_', '_', '_', 'B', '1',
	       '_', '_', 'C', '_', '_', '_');
	AML_OK(emit_name, "^^GED", '^', '^', 'G', 'E', 'D', '_');
	AML_OK(emit_name, "\\", '\\', 0x00);
	check_aml(emit_name, "", NULL, 0, -EINVAL);
	check_aml(emit_name, "1ABC", NULL, 0, -EINVAL);
	check_aml(emit_name, "ABCDE", NULL, 0, -EINVAL);
	check_aml(emit_name, "abcd", NULL, 0, -EINVAL);
	check_aml(emit_name, "A..B", NULL, 0, -EINVAL);
	check_aml(emit_name, "A.", NULL, 0, -EINVAL);
}

static void test_eisaid(void)
{
	g_assert_cmphex(aml_eisaid_value("PNP0501"), ==, 0x0105d041);
	g_assert_cmphex(aml_eisaid_value("PNP0C0C"), ==, 0x0c0cd041);
	g_assert_cmphex(aml_eisaid_value("PNP0c0C"), ==, 0);
	g_assert_cmphex(aml_eisaid_value("PNP050"), ==, 0);
	g_assert_cmphex(aml_eisaid_value("pNP0501"), ==, 0);
}

static void test_restemplate(void)
{
	static const uint8_t expect[] = {
		0x11, 0x11, 0x0a, 0x0e,				/* Buffer */
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,	/* IO */
		0x23, 0x10, 0x00, 0x01,				/* IRQ {4} */
		0x79,						/* EndTag */
	};
	uint8_t data[64];
	struct aml_buf b;
	size_t mark;

	aml_init(&b, data, sizeof(data));
	mark = aml_restemplate_begin(&b);
	aml_res_io(&b, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq(&b, 4);
	aml_restemplate_end(&b, mark);
	g_assert_cmpint(aml_error(&b), ==, 0);
	g_assert_cmpuint(b.len, ==, sizeof(expect) + 1);
	g_assert_cmpmem(data, sizeof(expect), expect, sizeof(expect));
	/* Bytes after the BufferSize, EndTag checksum included, sum to 0. */
	g_assert_cmpuint(acpi_checksum(data + 4, b.len - 4), ==, 0);
}

static void test_aml_enospc(void)
{
	uint8_t data[8];
	struct aml_buf b;
	size_t mark;

	aml_init(&b, data, sizeof(data));
	mark = aml_device_begin(&b, "ABCD");
	aml_name(&b, "_UID");
	aml_end(&b, mark);
	g_assert_cmpint(aml_error(&b), ==, -ENOSPC);
	g_assert_cmpuint(b.len, <=, sizeof(data));
	/* Errors are sticky. */
	aml_init(&b, data, sizeof(data));
	aml_name_string(&b, "bad");
	aml_byte(&b, 0);
	g_assert_cmpint(aml_error(&b), ==, -EINVAL);
	g_assert_cmpuint(b.len, ==, 0);
}

int main(int argc, char **argv)
{
	static const struct build_case cases[] = {
		{ 1, 0 }, { 1, NVIRTIO_TEST }, { 4, 0 }, { 4, NVIRTIO_TEST },
		{ 255, 0 }, { 255, NVIRTIO_TEST },
	};
	char path[64];
	size_t i;

	g_test_init(&argc, &argv, NULL);
	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_snprintf(path, sizeof(path), "/acpi/build/ncpus-%u/virtio-%zu",
			   cases[i].ncpus, cases[i].nvirtio);
		g_test_add_data_func(path, &cases[i], test_build);
	}
	g_test_add_func("/acpi/build/no-com1", test_no_com1);
	g_test_add_func("/acpi/invalid", test_invalid);
	g_test_add_func("/acpi/enospc", test_enospc);
	g_test_add_func("/aml/pkglength/encode", test_pkglength_encode);
	g_test_add_func("/aml/pkglength/body", test_pkglength_body);
	g_test_add_func("/aml/pkglength/scope", test_pkglength_scope);
	g_test_add_func("/aml/integer", test_integer);
	g_test_add_func("/aml/name-string", test_name_string);
	g_test_add_func("/aml/eisaid", test_eisaid);
	g_test_add_func("/aml/restemplate", test_restemplate);
	g_test_add_func("/aml/enospc", test_aml_enospc);
	return g_test_run();
}
