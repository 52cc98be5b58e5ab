/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The RISC-V machine's device tree: what ACPI tables are on x86. Built from
 * a plain description so that it is unit tested without KVM.
 */
#ifndef DUVISOR_RISCV_DT_H
#define DUVISOR_RISCV_DT_H

#include <stddef.h>
#include <stdint.h>

#define RISCV_DT_MAX_VIRTIO 16
#define RISCV_ISA_STRING_MAX 96

struct riscv_dt_device {
	uint64_t base, size;
	uint32_t irq;             /* PLIC source */
};

struct riscv_dt_config {
	uint32_t ncpus;
	const char *isa;          /* "rv64imafdc" (riscv_isa_string) */
	uint64_t timebase_hz;
	uint64_t ram_base, ram_size;
	uint64_t plic_base, plic_size;
	uint32_t plic_sources;    /* riscv,ndev + 1 (source 0 is none) */
	struct riscv_dt_device uart;
	uint32_t uart_clock;
	size_t nvirtio;
	struct riscv_dt_device virtio[RISCV_DT_MAX_VIRTIO];
	const char *bootargs;
	uint64_t initrd_start, initrd_end;   /* equal: no initrd */
};

/* The blob into out[0..cap): its size, or -errno. */
long riscv_build_dt(const struct riscv_dt_config *cfg, uint8_t *out,
		    size_t cap);

/*
 * The riscv,isa string: "rv64", the single-letter extensions (bit n = 'a'
 * + n) in the order the ISA manual names them, then the multi-letter ones
 * (bit n = enum riscv_isa_ext n), each after an underscore. The hypervisor
 * extension is left out: guests get no nested virtualization.
 */
void riscv_isa_string(uint64_t isa, uint32_t exts, char *buf, size_t size);

#endif
