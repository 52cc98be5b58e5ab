// SPDX-License-Identifier: GPL-2.0
/*
 * DuVisor DV-Ext control plane: a vCPU's guest CSR and FP state as user
 * space sees it (GET/SET_CSRS, GET/SET_FP_REGS) and exceptions raised in
 * the guest on user space's behalf (INJECT_EXCEPTION).
 *
 * A bound vCPU's VS CSRs live on its thread's hart (the preempt notifier
 * moves them), so only that thread may touch them; an unbound vCPU's are
 * in memory.
 */
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/csr.h>
#include "dv.h"

/*
 * vsie holds only the interrupts hideleg delegates; everything else in it
 * reads as zero and ignores writes.  Outside a run hideleg is the host's
 * (0 while KVM runs no VM), so the guest's vsie is moved with the
 * guest's delegation in place, or a save after an exit would lose it.
 */
static void dv_vsie_write(unsigned long vsie)
{
	unsigned long hideleg = csr_swap(CSR_HIDELEG, DV_VIRQS);

	csr_write(CSR_VSIE, vsie);
	csr_write(CSR_HIDELEG, hideleg);
}

static unsigned long dv_vsie_read(void)
{
	unsigned long hideleg = csr_swap(CSR_HIDELEG, DV_VIRQS);
	unsigned long vsie = csr_read(CSR_VSIE);

	csr_write(CSR_HIDELEG, hideleg);
	return vsie;
}

void dv_csrs_load(const struct duvisor_vcpu_csrs *c)
{
	csr_write(CSR_VSSTATUS, c->vsstatus);
	dv_vsie_write(c->vsie);
	csr_write(CSR_VSTVEC, c->vstvec);
	csr_write(CSR_VSSCRATCH, c->vsscratch);
	csr_write(CSR_VSEPC, c->vsepc);
	csr_write(CSR_VSCAUSE, c->vscause);
	csr_write(CSR_VSTVAL, c->vstval);
	csr_write(CSR_VSATP, c->vsatp);
}

void dv_csrs_save(struct duvisor_vcpu_csrs *c)
{
	c->vsstatus = csr_read(CSR_VSSTATUS);
	c->vsie = dv_vsie_read();
	c->vstvec = csr_read(CSR_VSTVEC);
	c->vsscratch = csr_read(CSR_VSSCRATCH);
	c->vsepc = csr_read(CSR_VSEPC);
	c->vscause = csr_read(CSR_VSCAUSE);
	c->vstval = csr_read(CSR_VSTVAL);
	c->vsatp = csr_read(CSR_VSATP);
}

/* Whether the vCPU's VS CSRs are on the hart (its thread is current). */
static bool dv_csrs_live(struct dv_vcpu *vcpu)
{
	return vcpu->task && dv_mode == DUVISOR_MODE_TRAP;
}

/*
 * What the hart does when the guest takes an exception in VS-mode: the
 * pc to vsepc, SPP the privilege it was in, SPIE its SIE, interrupts
 * off, VS-mode, and on at vstvec's base (vectored or not: synchronous).
 * The guest's pc is the run page's, where the next RUN takes it from.
 */
static void dv_raise_exception(struct dv_vcpu *vcpu,
			       const struct duvisor_exception *e)
{
	struct duvisor_vcpu_csrs *c = &vcpu->csrs;
	unsigned long sstatus = c->vsstatus & ~(SR_SPP | SR_SPIE | SR_SIE);

	if (vcpu->ctx.guest_sstatus & SR_SPP)
		sstatus |= SR_SPP;
	if (c->vsstatus & SR_SIE)
		sstatus |= SR_SPIE;
	c->vsstatus = sstatus;
	c->vsepc = READ_ONCE(vcpu->run->pc);
	c->vscause = e->cause;
	c->vstval = e->tval;
	vcpu->ctx.guest_sstatus |= SR_SPP;
	vcpu->ctx.guest_hstatus |= HSTATUS_SPVP;
	WRITE_ONCE(vcpu->run->pc, c->vstvec & ~3UL);
}

long dv_inject_exception(struct dv_vcpu *vcpu, void __user *argp)
{
	struct duvisor_exception e;
	long ret = 0;
	int i;

	if (copy_from_user(&e, argp, sizeof(e)))
		return -EFAULT;
	if (e.cause >= 64 || !(BIT_ULL(e.cause) & DUVISOR_EXC_INJECTABLE))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(e.reserved); i++)
		if (e.reserved[i])
			return -EINVAL;
	/* In DV-Ext mode the VMM's thread writes the VS CSRs itself. */
	if (dv_mode != DUVISOR_MODE_TRAP)
		return -EOPNOTSUPP;
	mutex_lock(&vcpu->lock);
	if (vcpu->task && vcpu->task != current) {
		ret = -EBUSY;
		goto out;
	}
	preempt_disable();
	if (dv_csrs_live(vcpu))
		dv_csrs_save(&vcpu->csrs);
	dv_raise_exception(vcpu, &e);
	if (dv_csrs_live(vcpu))
		dv_csrs_load(&vcpu->csrs);
	preempt_enable();
out:
	mutex_unlock(&vcpu->lock);
	return ret;
}

long dv_csrs_ioctl(struct dv_vcpu *vcpu, unsigned int cmd, void __user *argp)
{
	struct duvisor_vcpu_csrs c;
	long ret = 0;
	int i;

	if (cmd == DUVISOR_SET_CSRS) {
		if (copy_from_user(&c, argp, sizeof(c)))
			return -EFAULT;
		for (i = 0; i < ARRAY_SIZE(c.reserved); i++)
			if (c.reserved[i])
				return -EINVAL;
	}
	mutex_lock(&vcpu->lock);
	/* A bound vCPU's CSRs live on its thread's hart. */
	if (vcpu->task && vcpu->task != current) {
		ret = -EBUSY;
		goto out;
	}
	preempt_disable();
	if (cmd == DUVISOR_SET_CSRS) {
		vcpu->csrs = c;
		if (dv_csrs_live(vcpu))
			dv_csrs_load(&vcpu->csrs);
	} else {
		if (dv_csrs_live(vcpu))
			dv_csrs_save(&vcpu->csrs);
		c = vcpu->csrs;
	}
	preempt_enable();
	if (cmd == DUVISOR_GET_CSRS && copy_to_user(argp, &c, sizeof(c)))
		ret = -EFAULT;
out:
	mutex_unlock(&vcpu->lock);
	return ret;
}

/*
 * The guest's FP registers are in memory whenever no run is going on
 * (they are swapped with interrupts off), so the vCPU lock is enough.
 */
long dv_fp_ioctl(struct dv_vcpu *vcpu, unsigned int cmd, void __user *argp)
{
	struct duvisor_fp_regs r;

	static_assert(sizeof(r.f) == sizeof(vcpu->guest_fp.f));
	if (cmd == DUVISOR_SET_FP_REGS) {
		if (copy_from_user(&r, argp, sizeof(r)))
			return -EFAULT;
		if (r.reserved)
			return -EINVAL;
		mutex_lock(&vcpu->lock);
		memcpy(vcpu->guest_fp.f, r.f, sizeof(r.f));
		vcpu->guest_fp.fcsr = r.fcsr;
		mutex_unlock(&vcpu->lock);
		return 0;
	}
	memset(&r, 0, sizeof(r));
	mutex_lock(&vcpu->lock);
	memcpy(r.f, vcpu->guest_fp.f, sizeof(r.f));
	r.fcsr = vcpu->guest_fp.fcsr;
	mutex_unlock(&vcpu->lock);
	return copy_to_user(argp, &r, sizeof(r)) ? -EFAULT : 0;
}
