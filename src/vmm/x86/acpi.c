// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ACPI tables for the x86 machine, following ACPI 6.3.
 *
 * The machine is hardware-reduced: no PM1 blocks, no GPEs, no SCI, no FACS.
 * Sleep (only S5) and reset go through the small port I/O block described in
 * layout.h, and the one platform event (the power button) is delivered by a
 * Generic Event Device whose _EVT method notifies the PNP0C0C device.
 *
 * Tables are written with explicit little-endian stores at spec offsets
 * instead of packed structs, so nothing depends on host struct layout.
 */
#include "x86/acpi.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "x86/aml.h"
#include "x86/layout.h"

#define ACPI_OEM_ID		"DUVSOR"
#define ACPI_OEM_TABLE_ID	"DUVISORV"
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"DUVI"
#define ACPI_CREATOR_REVISION	1

/* KVM's in-kernel IOAPIC (KVM_IOAPIC_NUM_PINS); it is the only one, GSI 0. */
#define X86_IOAPIC_PINS		24

/*
 * Processor Local APIC entries carry an 8-bit APIC id and 0xff is the xAPIC
 * broadcast id, so ids 0..254 are all this MADT can describe. More vCPUs
 * would need x2APIC entries, and x2APIC ids above 254 need interrupt
 * remapping or the extended destination id to be reachable from the IOAPIC.
 */
#define ACPI_MAX_CPUS		255

/* System description table header (ACPI 6.3, 5.2.6). */
#define SDT_SIGNATURE		0
#define SDT_LENGTH		4
#define SDT_REVISION		8
#define SDT_CHECKSUM		9
#define SDT_OEM_ID		10
#define SDT_OEM_TABLE_ID	16
#define SDT_OEM_REVISION	24
#define SDT_CREATOR_ID		28
#define SDT_CREATOR_REVISION	32
#define SDT_HEADER_SIZE		36

/* RSDP (5.2.5.3). */
#define RSDP_CHECKSUM		8
#define RSDP_OEM_ID		9
#define RSDP_REVISION		15
#define RSDP_RSDT_ADDRESS	16
#define RSDP_LENGTH		20
#define RSDP_XSDT_ADDRESS	24
#define RSDP_EXT_CHECKSUM	32
#define RSDP_V1_SIZE		20
#define RSDP_SIZE		36

#define XSDT_REVISION		1

/* FADT (5.2.9), revision 6 layout. */
#define FADT_REVISION		6
#define FADT_MINOR_VERSION	3
#define FADT_IAPC_BOOT_ARCH	109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_MINOR		131
#define FADT_X_DSDT		140
#define FADT_SLEEP_CONTROL_REG	244
#define FADT_SLEEP_STATUS_REG	256
#define FADT_HYPERVISOR_ID	268
#define FADT_SIZE		276

#define FADT_F_WBINVD		(1u << 0)
#define FADT_F_PWR_BUTTON	(1u << 4)
#define FADT_F_SLP_BUTTON	(1u << 5)
#define FADT_F_RESET_REG_SUP	(1u << 10)
#define FADT_F_HW_REDUCED_ACPI	(1u << 20)

#define IAPC_BOOT_VGA_NOT_PRESENT	(1u << 2)
#define IAPC_BOOT_CMOS_RTC_NOT_PRESENT	(1u << 5)

/* Generic Address Structure (5.2.3.2). */
#define GAS_SPACE_SYSTEM_IO	1
#define GAS_ACCESS_BYTE		1

/* MADT (5.2.12). */
#define MADT_REVISION		5
#define MADT_LAPIC_ADDR		36
#define MADT_FLAGS		40
#define MADT_ENTRIES		44
#define MADT_F_PCAT_COMPAT	(1u << 0)
#define MADT_TYPE_LAPIC		0
#define MADT_LAPIC_SIZE		8
#define MADT_LAPIC_ENABLED	(1u << 0)
#define MADT_TYPE_IOAPIC	1
#define MADT_IOAPIC_SIZE	12

#define DSDT_REVISION		2	/* 2: AML integers are 64-bit */

/* Notify value for a power button press (5.6.6, Device Object Notifications). */
#define ACPI_NOTIFY_BUTTON_PRESSED	0x80

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum;
}

static void sdt_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t + SDT_SIGNATURE, sig, 4);
	put32(t + SDT_LENGTH, len);
	t[SDT_REVISION] = rev;
	memcpy(t + SDT_OEM_ID, ACPI_OEM_ID, 6);
	memcpy(t + SDT_OEM_TABLE_ID, ACPI_OEM_TABLE_ID, 8);
	put32(t + SDT_OEM_REVISION, ACPI_OEM_REVISION);
	memcpy(t + SDT_CREATOR_ID, ACPI_CREATOR_ID, 4);
	put32(t + SDT_CREATOR_REVISION, ACPI_CREATOR_REVISION);
}

static void sdt_checksum(uint8_t *t, uint32_t len)
{
	t[SDT_CHECKSUM] = 0;
	t[SDT_CHECKSUM] = (uint8_t)-acpi_checksum(t, len);
}

static void put_gas_io8(uint8_t *p, uint16_t port)
{
	p[0] = GAS_SPACE_SYSTEM_IO;
	p[1] = 8;		/* bit width */
	p[2] = 0;		/* bit offset */
	p[3] = GAS_ACCESS_BYTE;
	put64(p + 4, port);
}

static size_t align8(size_t v)
{
	return (v + 7) & ~(size_t)7;
}

static bool gsi_ok(uint32_t gsi)
{
	return gsi < X86_IOAPIC_PINS;
}

static int check_config(const struct acpi_config *cfg)
{
	const struct acpi_virtio_mmio *v;
	size_t i, j;

	if (cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS)
		return -EINVAL;
	if (cfg->ioapic_id > 0xff)
		return -EINVAL;
	/* MADT address fields are 32 bits; we add no LAPIC address override. */
	if (cfg->lapic_addr > UINT32_MAX || cfg->ioapic_addr > UINT32_MAX)
		return -EINVAL;
	if (cfg->com1_port &&
	    (cfg->com1_irq > 15 || cfg->com1_port > 0xffff - 7))
		return -EINVAL;
	if (!cfg->pm_port || cfg->pm_port > 0x10000 - X86_PM_PORT_LEN)
		return -EINVAL;
	if (!gsi_ok(cfg->ged_irq) ||
	    (cfg->com1_port && cfg->ged_irq == cfg->com1_irq))
		return -EINVAL;
	if (cfg->nvirtio_mmio > ACPI_MAX_VIRTIO_MMIO)
		return -EINVAL;
	for (i = 0; i < cfg->nvirtio_mmio; i++) {
		v = &cfg->virtio_mmio[i];
		if (!v->size || v->base > UINT32_MAX ||
		    v->size - 1 > UINT32_MAX - v->base)
			return -EINVAL;
		/* Edge-triggered lines cannot be shared, see dsdt_virtio(). */
		if (!gsi_ok(v->gsi) || v->gsi == cfg->ged_irq ||
		    (cfg->com1_port && v->gsi == cfg->com1_irq))
			return -EINVAL;
		for (j = 0; j < i; j++) {
			if (cfg->virtio_mmio[j].gsi == v->gsi)
				return -EINVAL;
		}
	}
	return 0;
}

static void dsdt_com1(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev, crs;

	dev = aml_device_begin(b, "COM1");
	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0501");
	aml_name(b, "_UID");
	aml_integer(b, 0);
	aml_name(b, "_CRS");
	crs = aml_restemplate_begin(b);
	aml_res_io(b, cfg->com1_port, cfg->com1_port, 1, 8);
	aml_res_irq(b, (uint8_t)cfg->com1_irq);
	aml_restemplate_end(b, crs);
	aml_end(b, dev);
}

static void dsdt_power_button(struct aml_buf *b)
{
	size_t dev;

	dev = aml_device_begin(b, "PWRB");
	aml_name(b, "_HID");
	aml_eisaid(b, "PNP0C0C");
	aml_name(b, "_UID");
	aml_integer(b, 0);
	aml_end(b, dev);
}

/*
 * The GED line is edge-triggered: the device model latches event bits in
 * the status register and then pulses the interrupt; holding a level line
 * would make it deassert on the guest's read, for no gain. Linux's evged driver runs _EVT from a
 * threaded handler with Arg0 = GSI; there is one interrupt, so Arg0 is
 * not looked at.
 */
static void dsdt_ged(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev, crs, field, method, cond;

	dev = aml_device_begin(b, "GED_");
	aml_name(b, "_HID");
	aml_string(b, "ACPI0013");
	aml_name(b, "_UID");
	aml_integer(b, 0);
	aml_name(b, "_CRS");
	crs = aml_restemplate_begin(b);
	aml_res_ext_irq(b, AML_IRQ_CONSUMER | AML_IRQ_EDGE, cfg->ged_irq);
	aml_restemplate_end(b, crs);

	aml_operation_region(b, "GDST", AML_SPACE_SYSTEM_IO,
			     cfg->pm_port + (X86_PM_GED_STATUS - X86_PM_PORT), 1);
	/* Never written, but a stray write must not clear unread events. */
	field = aml_field_begin(b, "GDST",
				AML_FIELD_BYTE_ACC | AML_FIELD_WRITE_ZEROS);
	aml_field_unit(b, "GSTS", 8);
	aml_end(b, field);

	/*
	 * Read the register exactly once: the read clears it on the device
	 * side, so testing GSTS twice could lose an event.
	 */
	method = aml_method_begin(b, "_EVT", 1, false);
	aml_byte(b, AML_STORE_OP);
	aml_name_string(b, "GSTS");
	aml_local(b, 0);
	cond = aml_if_begin(b);
	aml_byte(b, AML_AND_OP);
	aml_local(b, 0);
	aml_integer(b, X86_PM_GED_POWER_BUTTON);
	aml_byte(b, AML_NULL_NAME);
	aml_notify(b, "PWRB", ACPI_NOTIFY_BUTTON_PRESSED);
	aml_end(b, cond);
	aml_end(b, method);

	aml_end(b, dev);
}

/* QEMU's id for pvpanic; Linux's pvpanic-mmio driver takes an I/O port too. */
static void dsdt_pvpanic(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t dev, crs;

	dev = aml_device_begin(b, "PEVT");
	aml_name(b, "_HID");
	aml_string(b, "QEMU0001");
	aml_name(b, "_UID");
	aml_integer(b, 0);
	aml_name(b, "_CRS");
	crs = aml_restemplate_begin(b);
	aml_res_io(b, cfg->pvpanic_port, cfg->pvpanic_port, 1, 1);
	aml_restemplate_end(b, crs);
	aml_end(b, dev);
}

/*
 * Virtio-mmio interrupts are announced edge-triggered, active-high,
 * exclusive. Linux's virtio_mmio handler reads InterruptStatus, acks it and
 * then scans every virtqueue, so it works with either mode; what decides is
 * how the VMM raises the line. The device model signals a pulse (a KVM
 * irqfd without a resampler, or KVM_IRQ_LINE 1 then 0) rather than holding
 * the line until the guest acks. On a level-triggered IOAPIC pin KVM drops
 * a pulse that arrives while Remote IRR is still set (between the guest
 * taking the interrupt and its EOI), which stalls a queue; on an edge pin
 * every pulse is delivered. Edge lines cannot be shared, so each device gets
 * its own GSI (check_config() enforces that).
 */
static void dsdt_virtio(struct aml_buf *b, size_t idx,
			const struct acpi_virtio_mmio *v)
{
	/* V000, V001, ...: idx < ACPI_MAX_VIRTIO_MMIO keeps it to 4 chars. */
	char name[5] = { 'V', (char)('0' + idx / 100 % 10),
			 (char)('0' + idx / 10 % 10), (char)('0' + idx % 10),
			 '\0' };
	size_t dev, crs;

	dev = aml_device_begin(b, name);
	aml_name(b, "_HID");
	aml_string(b, "LNRO0005");
	aml_name(b, "_UID");
	aml_integer(b, idx);
	aml_name(b, "_CRS");
	crs = aml_restemplate_begin(b);
	aml_res_memory32_fixed(b, true, (uint32_t)v->base, v->size);
	aml_res_ext_irq(b, AML_IRQ_CONSUMER | AML_IRQ_EDGE, v->gsi);
	aml_restemplate_end(b, crs);
	aml_end(b, dev);
}

static int build_dsdt_body(struct aml_buf *b, const struct acpi_config *cfg)
{
	size_t pkg, sb, i;

	/*
	 * Only SLP_TYPa reaches the hardware-reduced sleep control register;
	 * the other three elements are SLP_TYPb and two reserved bytes.
	 */
	aml_name(b, "_S5_");
	pkg = aml_package_begin(b, 4);
	aml_integer(b, X86_PM_SLP_TYP_S5);
	aml_integer(b, 0);
	aml_integer(b, 0);
	aml_integer(b, 0);
	aml_end(b, pkg);

	sb = aml_scope_begin(b, "_SB_");
	if (cfg->com1_port)
		dsdt_com1(b, cfg);
	dsdt_power_button(b);
	dsdt_ged(b, cfg);
	if (cfg->pvpanic_port)
		dsdt_pvpanic(b, cfg);
	for (i = 0; i < cfg->nvirtio_mmio; i++)
		dsdt_virtio(b, i, &cfg->virtio_mmio[i]);
	aml_end(b, sb);

	return aml_error(b);
}

static void build_fadt(uint8_t *t, const struct acpi_config *cfg,
		       uint64_t dsdt_gpa)
{
	uint16_t pm = cfg->pm_port;

	sdt_header(t, "FACP", FADT_SIZE, FADT_REVISION);
	/*
	 * No FACS: hardware-reduced firmware needs no global lock or waking
	 * vector. The 32-bit DSDT field stays 0 because X_DSDT is set.
	 * PWR_BUTTON/SLP_BUTTON say there is no fixed-feature button, so the
	 * OS only uses the PNP0C0C control-method device.
	 */
	put32(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PWR_BUTTON |
		FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP |
		FADT_F_HW_REDUCED_ACPI);
	/*
	 * No VGA and no CMOS RTC. The 8042 bit stays clear so that Linux marks
	 * the i8042 as absent and never probes a keyboard controller; LEGACY
	 * stays clear as there are no ISA devices other than what the DSDT lists.
	 */
	put16(t + FADT_IAPC_BOOT_ARCH,
	      IAPC_BOOT_VGA_NOT_PRESENT | IAPC_BOOT_CMOS_RTC_NOT_PRESENT);
	put_gas_io8(t + FADT_RESET_REG,
		    (uint16_t)(pm + (X86_PM_RESET - X86_PM_PORT)));
	t[FADT_RESET_VALUE] = X86_PM_RESET_VALUE;
	t[FADT_MINOR] = FADT_MINOR_VERSION;
	put64(t + FADT_X_DSDT, dsdt_gpa);
	put_gas_io8(t + FADT_SLEEP_CONTROL_REG,
		    (uint16_t)(pm + (X86_PM_SLEEP_CTL - X86_PM_PORT)));
	put_gas_io8(t + FADT_SLEEP_STATUS_REG,
		    (uint16_t)(pm + (X86_PM_SLEEP_STS - X86_PM_PORT)));
	memcpy(t + FADT_HYPERVISOR_ID, "DUVISOR ", 8);
	sdt_checksum(t, FADT_SIZE);
}

static uint32_t madt_size(const struct acpi_config *cfg)
{
	return MADT_ENTRIES + cfg->ncpus * MADT_LAPIC_SIZE + MADT_IOAPIC_SIZE;
}

static void build_madt(uint8_t *t, const struct acpi_config *cfg)
{
	uint32_t len = madt_size(cfg), i;
	uint8_t *e = t + MADT_ENTRIES;

	sdt_header(t, "APIC", len, MADT_REVISION);
	put32(t + MADT_LAPIC_ADDR, (uint32_t)cfg->lapic_addr);
	/*
	 * KVM's in-kernel irqchip does contain a dual 8259 and its default
	 * routing feeds ISA IRQs to it as well as to the IOAPIC, so the flag
	 * is true and tells an OS to mask the 8259. Linux in hardware-reduced
	 * mode ignores the 8259 anyway (null legacy PIC).
	 */
	put32(t + MADT_FLAGS, MADT_F_PCAT_COMPAT);

	for (i = 0; i < cfg->ncpus; i++, e += MADT_LAPIC_SIZE) {
		e[0] = MADT_TYPE_LAPIC;
		e[1] = MADT_LAPIC_SIZE;
		e[2] = (uint8_t)i;	/* ACPI processor UID */
		e[3] = (uint8_t)i;	/* APIC id */
		put32(e + 4, MADT_LAPIC_ENABLED);
	}

	e[0] = MADT_TYPE_IOAPIC;
	e[1] = MADT_IOAPIC_SIZE;
	e[2] = (uint8_t)cfg->ioapic_id;
	put32(e + 4, (uint32_t)cfg->ioapic_addr);
	put32(e + 8, 0);	/* GSI base */

	/*
	 * No Interrupt Source Overrides. KVM's default GSI routing sends ISA
	 * IRQ n to IOAPIC pin n for n < 16, the in-kernel PIT included (it
	 * raises GSI 0, not pin 2 as on PC chipsets), and ISA polarity/trigger
	 * (edge, active high) is the MADT default. A hardware-reduced FADT has
	 * no SCI, so no SCI override either.
	 */
	sdt_checksum(t, len);
}

static void build_xsdt(uint8_t *t, const uint64_t *entries, size_t n)
{
	uint32_t len = (uint32_t)(SDT_HEADER_SIZE + 8 * n);
	size_t i;

	sdt_header(t, "XSDT", len, XSDT_REVISION);
	for (i = 0; i < n; i++)
		put64(t + SDT_HEADER_SIZE + 8 * i, entries[i]);
	sdt_checksum(t, len);
}

static void build_rsdp(uint8_t *t, uint64_t xsdt_gpa)
{
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + RSDP_OEM_ID, ACPI_OEM_ID, 6);
	t[RSDP_REVISION] = 2;
	/* No RSDT: revision-2 consumers must use the XSDT. */
	put32(t + RSDP_RSDT_ADDRESS, 0);
	put32(t + RSDP_LENGTH, RSDP_SIZE);
	put64(t + RSDP_XSDT_ADDRESS, xsdt_gpa);
	t[RSDP_CHECKSUM] = (uint8_t)-acpi_checksum(t, RSDP_V1_SIZE);
	t[RSDP_EXT_CHECKSUM] = (uint8_t)-acpi_checksum(t, RSDP_SIZE);
}

static void add_ref(struct acpi_tables *out, const char *sig, uint64_t gpa,
		    uint32_t len)
{
	struct acpi_table_ref *r = &out->tables[out->ntables++];

	memcpy(r->signature, sig, 4);
	r->signature[4] = '\0';
	r->gpa = gpa;
	r->length = len;
}

int acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t size,
	       uint64_t base_gpa, struct acpi_tables *out)
{
	size_t xsdt, fadt, madt, dsdt, dsdt_len;
	uint64_t entries[2];
	struct aml_buf b;
	int ret;

	if (!cfg || !buf || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	/* The RSDP must be 16-byte aligned for the legacy scan to find it. */
	if ((base_gpa & 15) || size > UINT64_MAX - base_gpa)
		return -EINVAL;
	ret = check_config(cfg);
	if (ret)
		return ret;

	memset(buf, 0, size);
	xsdt = align8(RSDP_SIZE);
	fadt = align8(xsdt + SDT_HEADER_SIZE + sizeof(entries));
	madt = align8(fadt + FADT_SIZE);
	dsdt = align8(madt + madt_size(cfg));
	if (dsdt + SDT_HEADER_SIZE > size)
		return -ENOSPC;

	aml_init(&b, buf + dsdt + SDT_HEADER_SIZE,
		 size - dsdt - SDT_HEADER_SIZE);
	ret = build_dsdt_body(&b, cfg);
	if (ret)
		return ret;
	dsdt_len = SDT_HEADER_SIZE + b.len;
	if (dsdt_len > UINT32_MAX)
		return -ENOSPC;
	sdt_header(buf + dsdt, "DSDT", (uint32_t)dsdt_len, DSDT_REVISION);
	sdt_checksum(buf + dsdt, (uint32_t)dsdt_len);

	build_fadt(buf + fadt, cfg, base_gpa + dsdt);
	build_madt(buf + madt, cfg);
	entries[0] = base_gpa + fadt;
	entries[1] = base_gpa + madt;
	build_xsdt(buf + xsdt, entries, 2);
	build_rsdp(buf, base_gpa + xsdt);

	out->rsdp_gpa = base_gpa;
	add_ref(out, "RSDP", base_gpa, RSDP_SIZE);
	add_ref(out, "XSDT", base_gpa + xsdt,
		(uint32_t)(SDT_HEADER_SIZE + sizeof(entries)));
	add_ref(out, "FACP", base_gpa + fadt, FADT_SIZE);
	add_ref(out, "APIC", base_gpa + madt, madt_size(cfg));
	add_ref(out, "DSDT", base_gpa + dsdt, (uint32_t)dsdt_len);
	return 0;
}
