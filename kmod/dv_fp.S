/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DuVisor trap mode: the F/D register file of a guest, swapped with the
 * thread's around a guest run (dv_vcpu.c).  struct dv_fp: f0..f31 at
 * 8-byte steps, then fcsr.  The caller has sstatus.FS on.
 */
#include <linux/linkage.h>
#include <asm/asm.h>

	.text

/* void dv_fp_save(struct dv_fp *fp) */
SYM_FUNC_START(dv_fp_save)
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	fsd	f\n, (\n * 8)(a0)
	.endr
	.irp n, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	fsd	f\n, (\n * 8)(a0)
	.endr
	frcsr	t0
	sw	t0, (32 * 8)(a0)
	ret
SYM_FUNC_END(dv_fp_save)

/* void dv_fp_load(const struct dv_fp *fp) */
SYM_FUNC_START(dv_fp_load)
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	fld	f\n, (\n * 8)(a0)
	.endr
	.irp n, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	fld	f\n, (\n * 8)(a0)
	.endr
	lw	t0, (32 * 8)(a0)
	fscsr	t0
	ret
SYM_FUNC_END(dv_fp_load)
