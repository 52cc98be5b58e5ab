/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ACPI tables for the x86 machine: RSDP, XSDT, hardware-reduced FADT,
 * DSDT (\_S5, COM1, power button, GED, pvpanic, virtio-mmio nodes) and
 * MADT.
 *
 * The builder is a pure function over a buffer that stands for the guest
 * physical range [base_gpa, base_gpa + size): it knows nothing of KVM, so it
 * can be unit tested and dumped for `iasl -d`.
 */
#ifndef DUVISOR_X86_ACPI_H
#define DUVISOR_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_VIRTIO_MMIO 32

struct acpi_virtio_mmio {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
};

struct acpi_config {
	uint32_t ncpus;              /* LAPIC ids 0..ncpus-1 */
	uint32_t ioapic_id;
	uint64_t ioapic_addr;
	uint64_t lapic_addr;
	uint16_t com1_port;          /* 0: no COM1 node */
	uint32_t com1_irq;
	uint16_t pm_port;            /* see layout.h, X86_PM_* */
	uint32_t ged_irq;
	uint16_t pvpanic_port;       /* 0: no pvpanic node */
	size_t nvirtio_mmio;
	struct acpi_virtio_mmio virtio_mmio[ACPI_MAX_VIRTIO_MMIO];
};

/* A table as laid out in the buffer, for dumping and tests. */
struct acpi_table_ref {
	char signature[5];           /* "RSD PTR " is reported as "RSDP" */
	uint64_t gpa;
	uint32_t length;
};

#define ACPI_MAX_TABLES 8

struct acpi_tables {
	uint64_t rsdp_gpa;
	size_t ntables;
	struct acpi_table_ref tables[ACPI_MAX_TABLES];
};

/*
 * Lay out all tables in buf (zeroed first). Returns 0, or -ENOSPC when they
 * do not fit, or -EINVAL for a config that cannot be described.
 */
int acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t size,
	       uint64_t base_gpa, struct acpi_tables *out);

/* Byte sum of [p, p + len) modulo 256; a valid table sums to 0. */
uint8_t acpi_checksum(const void *p, size_t len);

#endif
