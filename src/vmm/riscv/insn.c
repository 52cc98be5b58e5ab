// SPDX-License-Identifier: GPL-2.0-or-later
/* Load/store decoding for MMIO exits (RISC-V unprivileged ISA, RV64GC). */
#include "riscv/insn.h"

#define OP_LOAD         0x03
#define OP_STORE        0x23

/* Compressed quadrants and the funct3 of their loads and stores. */
#define C_Q0            0
#define C_Q2            2
#define C_LW            2
#define C_LD            3
#define C_SW            6
#define C_SD            7

static bool decode_32(uint32_t insn, struct riscv_mmio_access *a)
{
	uint32_t funct3 = (insn >> 12) & 7;

	a->insn_len = 4;
	switch (insn & 0x7f) {
	case OP_LOAD:
		/* LB LH LW LD LBU LHU LWU; 7 is not a load. */
		if (funct3 == 7)
			return false;
		a->write = false;
		a->len = (uint8_t)(1u << (funct3 & 3));
		a->sign_extend = funct3 < 3;
		a->reg = (insn >> 7) & 31;
		return true;
	case OP_STORE:
		if (funct3 > 3)
			return false;
		a->write = true;
		a->len = (uint8_t)(1u << funct3);
		a->reg = (insn >> 20) & 31;
		return true;
	default:
		return false;
	}
}

static bool decode_16(uint32_t insn, struct riscv_mmio_access *a)
{
	uint32_t funct3 = (insn >> 13) & 7;

	a->insn_len = 2;
	if (funct3 != C_LW && funct3 != C_LD && funct3 != C_SW &&
	    funct3 != C_SD)
		return false;
	a->write = funct3 == C_SW || funct3 == C_SD;
	a->len = funct3 == C_LW || funct3 == C_SW ? 4 : 8;
	a->sign_extend = funct3 == C_LW;
	switch (insn & 3) {
	case C_Q0:      /* rd' or rs2' in bits 4:2, x8 to x15 */
		a->reg = (uint8_t)(8 + ((insn >> 2) & 7));
		return true;
	case C_Q2:      /* sp-relative: rd in 11:7, rs2 in 6:2 */
		a->reg = a->write ? (insn >> 2) & 31 : (insn >> 7) & 31;
		/* C.LWSP/C.LDSP with rd 0 are reserved encodings. */
		return a->write || a->reg != 0;
	default:
		return false;
	}
}

bool riscv_decode_mmio(uint64_t insn, struct riscv_mmio_access *out)
{
	struct riscv_mmio_access a = { 0 };
	bool ok;

	if ((insn & 3) == 3)
		ok = (insn >> 32) == 0 && decode_32((uint32_t)insn, &a);
	else
		ok = (insn >> 16) == 0 && insn != 0 &&
		     decode_16((uint32_t)insn, &a);
	if (ok)
		*out = a;
	return ok;
}

uint64_t riscv_mmio_load_value(const struct riscv_mmio_access *a,
			       const uint8_t *data)
{
	uint64_t v = 0;
	uint32_t bits = a->len * 8u;

	if (!bits)
		return 0;
	for (uint32_t i = 0; i < a->len && i < 8; i++)
		v |= (uint64_t)data[i] << (8 * i);
	if (bits < 64) {
		uint64_t sign = 1ull << (bits - 1);

		v &= (1ull << bits) - 1;
		if (a->sign_extend && (v & sign))
			v |= ~((1ull << bits) - 1);
	}
	return v;
}
