/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DuVisor trap mode: the world switch into a VS-mode guest and back, and
 * the DV-Ext probe.
 *
 * dv_switch_to(ctx) runs with interrupts off.  It keeps the host's
 * callee-saved registers (and ra, sp, gp, tp) in ctx->host, swaps in the
 * guest's sstatus/hstatus, points stvec at dv_switch_return and sscratch
 * at ctx, loads the guest's registers and srets into the guest.  Any trap
 * out of the guest (exception, or a host interrupt: HS interrupts are
 * always enabled while V=1) lands at dv_switch_return, which saves the
 * guest's registers, puts the host's CSRs back and returns to C, where
 * scause/stval/htval/htinst still describe the trap.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/csr.h>

#define DV_CTX_HOST		0
#define DV_CTX_GUEST		256
#define DV_CTX_GUEST_PC		512
#define DV_CTX_GUEST_SSTATUS	520
#define DV_CTX_GUEST_HSTATUS	528
#define DV_CTX_HOST_SSTATUS	536
#define DV_CTX_HOST_HSTATUS	544
#define DV_CTX_HOST_STVEC	552
#define DV_CTX_HOST_SSCRATCH	560

	.text
	.option push
	.option norelax

SYM_FUNC_START(dv_switch_to)
	REG_S	ra, (DV_CTX_HOST + 8)(a0)
	REG_S	sp, (DV_CTX_HOST + 16)(a0)
	REG_S	gp, (DV_CTX_HOST + 24)(a0)
	REG_S	tp, (DV_CTX_HOST + 32)(a0)
	REG_S	s0, (DV_CTX_HOST + 64)(a0)
	REG_S	s1, (DV_CTX_HOST + 72)(a0)
	REG_S	s2, (DV_CTX_HOST + 144)(a0)
	REG_S	s3, (DV_CTX_HOST + 152)(a0)
	REG_S	s4, (DV_CTX_HOST + 160)(a0)
	REG_S	s5, (DV_CTX_HOST + 168)(a0)
	REG_S	s6, (DV_CTX_HOST + 176)(a0)
	REG_S	s7, (DV_CTX_HOST + 184)(a0)
	REG_S	s8, (DV_CTX_HOST + 192)(a0)
	REG_S	s9, (DV_CTX_HOST + 200)(a0)
	REG_S	s10, (DV_CTX_HOST + 208)(a0)
	REG_S	s11, (DV_CTX_HOST + 216)(a0)

	REG_L	t0, DV_CTX_GUEST_SSTATUS(a0)
	REG_L	t1, DV_CTX_GUEST_HSTATUS(a0)
	REG_L	t2, DV_CTX_GUEST_PC(a0)
	la	t3, dv_switch_return
	csrrw	t0, CSR_SSTATUS, t0
	csrrw	t1, CSR_HSTATUS, t1
	csrrw	t3, CSR_STVEC, t3
	csrrw	t4, CSR_SSCRATCH, a0
	csrw	CSR_SEPC, t2
	REG_S	t0, DV_CTX_HOST_SSTATUS(a0)
	REG_S	t1, DV_CTX_HOST_HSTATUS(a0)
	REG_S	t3, DV_CTX_HOST_STVEC(a0)
	REG_S	t4, DV_CTX_HOST_SSCRATCH(a0)

	/* Guest registers, a0 (the context pointer) last. */
	REG_L	ra, (DV_CTX_GUEST + 8)(a0)
	REG_L	sp, (DV_CTX_GUEST + 16)(a0)
	REG_L	gp, (DV_CTX_GUEST + 24)(a0)
	REG_L	tp, (DV_CTX_GUEST + 32)(a0)
	REG_L	t0, (DV_CTX_GUEST + 40)(a0)
	REG_L	t1, (DV_CTX_GUEST + 48)(a0)
	REG_L	t2, (DV_CTX_GUEST + 56)(a0)
	REG_L	s0, (DV_CTX_GUEST + 64)(a0)
	REG_L	s1, (DV_CTX_GUEST + 72)(a0)
	REG_L	a1, (DV_CTX_GUEST + 88)(a0)
	REG_L	a2, (DV_CTX_GUEST + 96)(a0)
	REG_L	a3, (DV_CTX_GUEST + 104)(a0)
	REG_L	a4, (DV_CTX_GUEST + 112)(a0)
	REG_L	a5, (DV_CTX_GUEST + 120)(a0)
	REG_L	a6, (DV_CTX_GUEST + 128)(a0)
	REG_L	a7, (DV_CTX_GUEST + 136)(a0)
	REG_L	s2, (DV_CTX_GUEST + 144)(a0)
	REG_L	s3, (DV_CTX_GUEST + 152)(a0)
	REG_L	s4, (DV_CTX_GUEST + 160)(a0)
	REG_L	s5, (DV_CTX_GUEST + 168)(a0)
	REG_L	s6, (DV_CTX_GUEST + 176)(a0)
	REG_L	s7, (DV_CTX_GUEST + 184)(a0)
	REG_L	s8, (DV_CTX_GUEST + 192)(a0)
	REG_L	s9, (DV_CTX_GUEST + 200)(a0)
	REG_L	s10, (DV_CTX_GUEST + 208)(a0)
	REG_L	s11, (DV_CTX_GUEST + 216)(a0)
	REG_L	t3, (DV_CTX_GUEST + 224)(a0)
	REG_L	t4, (DV_CTX_GUEST + 232)(a0)
	REG_L	t5, (DV_CTX_GUEST + 240)(a0)
	REG_L	t6, (DV_CTX_GUEST + 248)(a0)
	REG_L	a0, (DV_CTX_GUEST + 80)(a0)
	sret

	/* stvec needs 4-byte alignment (direct mode). */
	.balign 4
dv_switch_return:
	/* a0 <-> sscratch: the context in a0, the guest's a0 in sscratch. */
	csrrw	a0, CSR_SSCRATCH, a0
	REG_S	ra, (DV_CTX_GUEST + 8)(a0)
	REG_S	sp, (DV_CTX_GUEST + 16)(a0)
	REG_S	gp, (DV_CTX_GUEST + 24)(a0)
	REG_S	tp, (DV_CTX_GUEST + 32)(a0)
	REG_S	t0, (DV_CTX_GUEST + 40)(a0)
	REG_S	t1, (DV_CTX_GUEST + 48)(a0)
	REG_S	t2, (DV_CTX_GUEST + 56)(a0)
	REG_S	s0, (DV_CTX_GUEST + 64)(a0)
	REG_S	s1, (DV_CTX_GUEST + 72)(a0)
	REG_S	a1, (DV_CTX_GUEST + 88)(a0)
	REG_S	a2, (DV_CTX_GUEST + 96)(a0)
	REG_S	a3, (DV_CTX_GUEST + 104)(a0)
	REG_S	a4, (DV_CTX_GUEST + 112)(a0)
	REG_S	a5, (DV_CTX_GUEST + 120)(a0)
	REG_S	a6, (DV_CTX_GUEST + 128)(a0)
	REG_S	a7, (DV_CTX_GUEST + 136)(a0)
	REG_S	s2, (DV_CTX_GUEST + 144)(a0)
	REG_S	s3, (DV_CTX_GUEST + 152)(a0)
	REG_S	s4, (DV_CTX_GUEST + 160)(a0)
	REG_S	s5, (DV_CTX_GUEST + 168)(a0)
	REG_S	s6, (DV_CTX_GUEST + 176)(a0)
	REG_S	s7, (DV_CTX_GUEST + 184)(a0)
	REG_S	s8, (DV_CTX_GUEST + 192)(a0)
	REG_S	s9, (DV_CTX_GUEST + 200)(a0)
	REG_S	s10, (DV_CTX_GUEST + 208)(a0)
	REG_S	s11, (DV_CTX_GUEST + 216)(a0)
	REG_S	t3, (DV_CTX_GUEST + 224)(a0)
	REG_S	t4, (DV_CTX_GUEST + 232)(a0)
	REG_S	t5, (DV_CTX_GUEST + 240)(a0)
	REG_S	t6, (DV_CTX_GUEST + 248)(a0)

	csrr	t0, CSR_SEPC
	REG_S	t0, DV_CTX_GUEST_PC(a0)
	REG_L	t1, DV_CTX_HOST_SSCRATCH(a0)
	csrrw	t1, CSR_SSCRATCH, t1
	REG_S	t1, (DV_CTX_GUEST + 10 * 8)(a0)
	REG_L	t2, DV_CTX_HOST_STVEC(a0)
	csrw	CSR_STVEC, t2
	/* The trap's sstatus.SPP and hstatus.SPVP say where the guest was. */
	REG_L	t3, DV_CTX_HOST_HSTATUS(a0)
	csrrw	t3, CSR_HSTATUS, t3
	REG_S	t3, DV_CTX_GUEST_HSTATUS(a0)
	REG_L	t4, DV_CTX_HOST_SSTATUS(a0)
	csrrw	t4, CSR_SSTATUS, t4
	REG_S	t4, DV_CTX_GUEST_SSTATUS(a0)

	REG_L	ra, (DV_CTX_HOST + 8)(a0)
	REG_L	sp, (DV_CTX_HOST + 16)(a0)
	REG_L	gp, (DV_CTX_HOST + 24)(a0)
	REG_L	tp, (DV_CTX_HOST + 32)(a0)
	REG_L	s0, (DV_CTX_HOST + 64)(a0)
	REG_L	s1, (DV_CTX_HOST + 72)(a0)
	REG_L	s2, (DV_CTX_HOST + 144)(a0)
	REG_L	s3, (DV_CTX_HOST + 152)(a0)
	REG_L	s4, (DV_CTX_HOST + 160)(a0)
	REG_L	s5, (DV_CTX_HOST + 168)(a0)
	REG_L	s6, (DV_CTX_HOST + 176)(a0)
	REG_L	s7, (DV_CTX_HOST + 184)(a0)
	REG_L	s8, (DV_CTX_HOST + 192)(a0)
	REG_L	s9, (DV_CTX_HOST + 200)(a0)
	REG_L	s10, (DV_CTX_HOST + 208)(a0)
	REG_L	s11, (DV_CTX_HOST + 216)(a0)
	ret
SYM_FUNC_END(dv_switch_to)

/*
 * dv_probe_hu_csr() reads HUSTATUS (0x800), a DV-Ext CSR, with stvec
 * pointed at the next instruction: it returns 1 when the read worked and
 * 0 when it trapped (no DV-Ext).  Interrupts must be off; the trap only
 * clobbers scause/stval/sepc and sstatus.SPP/SPIE, which the kernel
 * rewrites on its next trap anyway.
 */
SYM_FUNC_START(dv_probe_hu_csr)
	la	t0, 1f
	csrrw	t0, CSR_STVEC, t0
	li	a0, 0
	csrr	t1, 0x800
	li	a0, 1
	.balign 4
1:	csrw	CSR_STVEC, t0
	ret
SYM_FUNC_END(dv_probe_hu_csr)

/*
 * unsigned long dv_hlvx_hu(unsigned long gva, unsigned long *fault)
 * reads 16 bits of guest instruction memory at gva with HLVX.HU, through
 * the guest's vsatp and our hgatp, at hstatus.SPVP's privilege.  A fault
 * lands at 1f with *fault = 1 and 0 returned.  Interrupts must be off.
 */
SYM_FUNC_START(dv_hlvx_hu)
	la	t0, 1f
	csrrw	t0, CSR_STVEC, t0
	mv	t1, a0
	li	a0, 0
	li	t2, 1
	/* hlvx.hu a0, (t1) */
	.insn r 0x73, 4, 0x32, a0, t1, x3
	li	t2, 0
	.balign 4
1:	csrw	CSR_STVEC, t0
	REG_S	t2, 0(a1)
	ret
SYM_FUNC_END(dv_hlvx_hu)

	.option pop
