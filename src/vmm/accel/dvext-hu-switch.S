/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DV-Ext world switch of the dvext accelerator (dvext-hu.c), in
 * HU-mode: a registered thread enters its guest with HURET and the
 * guest's delegated traps land at utvec, in this thread, with no kernel
 * code on the path (docs/dvext-kmod.md, /work/shared/docs/dv-ext.md).
 * BUILD-CHECKED ONLY: no CPU here implements DV-Ext.
 *
 * struct dvext_hu_ctx (dvext-internal.h): host[16] (ra sp gp tp s0-s11),
 * guest[32] (x0-x31), pc, then the trap: ucause, utval, hutval, hutinst.
 */
#define CSR_HUSTATUS    0x800
#define CSR_HUTVAL      0x843
#define CSR_HUTINST     0x84a
#define CSR_UTVEC       0x005
#define CSR_USCRATCH    0x040
#define CSR_UEPC        0x041
#define CSR_UCAUSE      0x042
#define CSR_UTVAL       0x043
#define HSTATUS_SPV     (1 << 7)
#define HSTATUS_SPVP    (1 << 8)
#define INSN_HURET      0x00200073      /* the uret encoding */

#define HOST(n)         ((n) * 8)
#define GUEST(n)        (128 + (n) * 8)
#define PC              (128 + 32 * 8)
#define UCAUSE          (PC + 8)
#define UTVAL           (PC + 16)
#define HUTVAL          (PC + 24)
#define HUTINST         (PC + 32)

	.text
	.align 2
	.globl dvext_hu_enter
	.type dvext_hu_enter, @function
/* void dvext_hu_enter(struct dvext_hu_ctx *ctx): one entry and exit. */
dvext_hu_enter:
	sd ra, HOST(0)(a0)
	sd sp, HOST(1)(a0)
	sd gp, HOST(2)(a0)
	sd tp, HOST(3)(a0)
	sd s0, HOST(4)(a0)
	sd s1, HOST(5)(a0)
	sd s2, HOST(6)(a0)
	sd s3, HOST(7)(a0)
	sd s4, HOST(8)(a0)
	sd s5, HOST(9)(a0)
	sd s6, HOST(10)(a0)
	sd s7, HOST(11)(a0)
	sd s8, HOST(12)(a0)
	sd s9, HOST(13)(a0)
	sd s10, HOST(14)(a0)
	sd s11, HOST(15)(a0)
	csrw CSR_USCRATCH, a0
	la t0, dvext_hu_exit
	csrw CSR_UTVEC, t0
	ld t0, PC(a0)
	csrw CSR_UEPC, t0
	/* Return into the guest (V=1); SPVP is the guest's privilege as
	 * the last trap left it (dvext-hu.c sets it for the first entry). */
	li t0, HSTATUS_SPV
	csrs CSR_HUSTATUS, t0
	ld x1, GUEST(1)(a0)
	ld x2, GUEST(2)(a0)
	ld x3, GUEST(3)(a0)
	ld x4, GUEST(4)(a0)
	ld x5, GUEST(5)(a0)
	ld x6, GUEST(6)(a0)
	ld x7, GUEST(7)(a0)
	ld x8, GUEST(8)(a0)
	ld x9, GUEST(9)(a0)
	ld x11, GUEST(11)(a0)
	ld x12, GUEST(12)(a0)
	ld x13, GUEST(13)(a0)
	ld x14, GUEST(14)(a0)
	ld x15, GUEST(15)(a0)
	ld x16, GUEST(16)(a0)
	ld x17, GUEST(17)(a0)
	ld x18, GUEST(18)(a0)
	ld x19, GUEST(19)(a0)
	ld x20, GUEST(20)(a0)
	ld x21, GUEST(21)(a0)
	ld x22, GUEST(22)(a0)
	ld x23, GUEST(23)(a0)
	ld x24, GUEST(24)(a0)
	ld x25, GUEST(25)(a0)
	ld x26, GUEST(26)(a0)
	ld x27, GUEST(27)(a0)
	ld x28, GUEST(28)(a0)
	ld x29, GUEST(29)(a0)
	ld x30, GUEST(30)(a0)
	ld x31, GUEST(31)(a0)
	ld x10, GUEST(10)(a0)
	.word INSN_HURET

	/* utvec: a delegated trap of the guest, in HU-mode. */
	.align 2
dvext_hu_exit:
	csrrw a0, CSR_USCRATCH, a0
	sd x1, GUEST(1)(a0)
	sd x2, GUEST(2)(a0)
	sd x3, GUEST(3)(a0)
	sd x4, GUEST(4)(a0)
	sd x5, GUEST(5)(a0)
	sd x6, GUEST(6)(a0)
	sd x7, GUEST(7)(a0)
	sd x8, GUEST(8)(a0)
	sd x9, GUEST(9)(a0)
	sd x11, GUEST(11)(a0)
	sd x12, GUEST(12)(a0)
	sd x13, GUEST(13)(a0)
	sd x14, GUEST(14)(a0)
	sd x15, GUEST(15)(a0)
	sd x16, GUEST(16)(a0)
	sd x17, GUEST(17)(a0)
	sd x18, GUEST(18)(a0)
	sd x19, GUEST(19)(a0)
	sd x20, GUEST(20)(a0)
	sd x21, GUEST(21)(a0)
	sd x22, GUEST(22)(a0)
	sd x23, GUEST(23)(a0)
	sd x24, GUEST(24)(a0)
	sd x25, GUEST(25)(a0)
	sd x26, GUEST(26)(a0)
	sd x27, GUEST(27)(a0)
	sd x28, GUEST(28)(a0)
	sd x29, GUEST(29)(a0)
	sd x30, GUEST(30)(a0)
	sd x31, GUEST(31)(a0)
	csrr t0, CSR_USCRATCH
	sd t0, GUEST(10)(a0)
	csrr t0, CSR_UEPC
	sd t0, PC(a0)
	csrr t0, CSR_UCAUSE
	sd t0, UCAUSE(a0)
	csrr t0, CSR_UTVAL
	sd t0, UTVAL(a0)
	csrr t0, CSR_HUTVAL
	sd t0, HUTVAL(a0)
	csrr t0, CSR_HUTINST
	sd t0, HUTINST(a0)
	ld ra, HOST(0)(a0)
	ld sp, HOST(1)(a0)
	ld gp, HOST(2)(a0)
	ld tp, HOST(3)(a0)
	ld s0, HOST(4)(a0)
	ld s1, HOST(5)(a0)
	ld s2, HOST(6)(a0)
	ld s3, HOST(7)(a0)
	ld s4, HOST(8)(a0)
	ld s5, HOST(9)(a0)
	ld s6, HOST(10)(a0)
	ld s7, HOST(11)(a0)
	ld s8, HOST(12)(a0)
	ld s9, HOST(13)(a0)
	ld s10, HOST(14)(a0)
	ld s11, HOST(15)(a0)
	ret
	.size dvext_hu_enter, . - dvext_hu_enter

	.section .note.GNU-stack, "", @progbits
