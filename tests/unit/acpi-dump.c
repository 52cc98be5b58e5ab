// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * acpi-dump OUTDIR [NCPUS] [NVIRTIO]
 *
 * Builds the ACPI tables of a typical machine and writes each one to
 * OUTDIR/<SIG>.dat, so that `iasl -d` can check them; prints one
 * "SIG GPA LENGTH" line per table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x86/acpi.h"
#include "x86/layout.h"

/*
 * GSIs 16..23 are the IOAPIC pins no ISA device can claim; KVM's IOAPIC
 * stops at 23, so that is also how many edge-triggered devices fit there.
 */
#define FIRST_VIRTIO_GSI	16
#define MAX_DUMP_VIRTIO		8
/*
 * One page per device keeps them apart for the VMM's MMIO dispatch; the
 * announced window is the register block (0x100) plus room for the device
 * config space, which is what the guest driver maps.
 */
#define VIRTIO_STRIDE		0x1000
#define VIRTIO_SIZE		0x200

static int parse_count(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || end == s || *end || *v > max ? -1 : 0;
}

static int write_table(const char *dir, const char *sig, const uint8_t *p,
		       size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	if (snprintf(path, sizeof(path), "%s/%s.dat", dir, sig) >=
	    (int)sizeof(path)) {
		fprintf(stderr, "acpi-dump: path too long\n");
		return -1;
	}
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "acpi-dump: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(p, 1, len, f) == len;
	if (fclose(f) || !ok) {
		fprintf(stderr, "acpi-dump: %s: write failed\n", path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t buf[X86_ACPI_SIZE];
	unsigned long ncpus = 1, nvirtio = 0;
	struct acpi_config cfg = { 0 };
	struct acpi_tables out;
	size_t i;
	int ret;

	if (argc < 2 || argc > 4 ||
	    (argc > 2 && parse_count(argv[2], 255, &ncpus)) ||
	    (argc > 3 && parse_count(argv[3], MAX_DUMP_VIRTIO, &nvirtio))) {
		fprintf(stderr,
			"usage: acpi-dump OUTDIR [NCPUS (1-255, default 1)] "
			"[NVIRTIO (0-%d, default 0)]\n", MAX_DUMP_VIRTIO);
		return 2;
	}

	cfg.ncpus = (uint32_t)ncpus;
	/*
	 * 0 is what KVM's IOAPIC reports in its id register after reset, and
	 * IOAPIC ids do not share a namespace with LAPIC ids on any CPU with
	 * an xAPIC, so there is nothing to avoid.
	 */
	cfg.ioapic_id = 0;
	cfg.ioapic_addr = X86_IOAPIC_ADDR;
	cfg.lapic_addr = X86_LAPIC_ADDR;
	cfg.com1_port = X86_COM1_PORT;
	cfg.com1_irq = X86_COM1_IRQ;
	cfg.pm_port = X86_PM_PORT;
	cfg.ged_irq = X86_GED_IRQ;
	cfg.pvpanic_port = X86_PVPANIC_PORT;
	cfg.nvirtio_mmio = nvirtio;
	for (i = 0; i < nvirtio; i++) {
		cfg.virtio_mmio[i].base = X86_MMIO_DEVICES_BASE +
					  i * VIRTIO_STRIDE;
		cfg.virtio_mmio[i].size = VIRTIO_SIZE;
		cfg.virtio_mmio[i].gsi = (uint32_t)(FIRST_VIRTIO_GSI + i);
	}

	ret = acpi_build(&cfg, buf, sizeof(buf), X86_ACPI_ADDR, &out);
	if (ret) {
		fprintf(stderr, "acpi-dump: acpi_build: %s\n", strerror(-ret));
		return 1;
	}
	for (i = 0; i < out.ntables; i++) {
		const struct acpi_table_ref *r = &out.tables[i];

		if (write_table(argv[1], r->signature,
				buf + (r->gpa - X86_ACPI_ADDR), r->length))
			return 1;
		/* The addresses are not in the files; checkers want them. */
		printf("%s 0x%llx %u\n", r->signature,
		       (unsigned long long)r->gpa, (unsigned int)r->length);
	}
	return 0;
}
