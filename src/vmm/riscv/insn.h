/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decoding the load or store instruction behind a guest-page fault on an
 * MMIO address, for accelerators that get the raw instruction rather than
 * a decoded access (dvext: the module reads it from the guest's memory).
 * Plain C: unit tested on every architecture.
 */
#ifndef DUVISOR_RISCV_INSN_H
#define DUVISOR_RISCV_INSN_H

#include <stdbool.h>
#include <stdint.h>

struct riscv_mmio_access {
	bool write;
	bool sign_extend;        /* loads: LB, LH, LW */
	uint8_t len;             /* 1, 2, 4 or 8 bytes */
	uint8_t reg;             /* x register: loads' rd, stores' rs2 */
	uint8_t insn_len;        /* 2 (compressed) or 4: how far pc moves */
};

/*
 * Decodes an integer load or store of RV64GC (32-bit or compressed);
 * false for anything else (FP, atomics, an unreadable instruction: 0).
 */
bool riscv_decode_mmio(uint64_t insn, struct riscv_mmio_access *out);

/* A loaded value as the register receives it: zero- or sign-extended. */
uint64_t riscv_mmio_load_value(const struct riscv_mmio_access *a,
			       const uint8_t *data);

#endif
