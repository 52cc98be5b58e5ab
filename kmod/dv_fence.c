// SPDX-License-Identifier: GPL-2.0
/*
 * DuVisor DV-Ext control plane: remote fences (DUVISOR_REMOTE_FENCE), the
 * module's half of SBI RFENCE in trap mode.
 *
 * A guest that changed its page tables or its code asks for fences on
 * other harts, i.e. on other vCPUs.  Only a vCPU's own thread can fence
 * the hart it runs the guest on, with the VM's VMID in hgatp, so the
 * request is posted to each target and run by it just before its next
 * entry; a target in the guest right now is kicked out, and the request
 * returns once it is out: from then on no target runs the guest without
 * the fence, which is what the SBI call promises its caller.
 */
#include <linux/bitops.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <asm/cacheflush.h>
#include <asm/csr.h>
#include "dv.h"

/* Beyond this many pages one fence of everything is cheaper. */
#define DV_FENCE_MAX_PAGES	64

static bool dv_fence_whole(const struct duvisor_fence *f)
{
	return f->size == 0 || f->size == ~0ULL;
}

static int dv_fence_check(const struct duvisor_fence *f)
{
	int i;

	if (f->flags)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(f->reserved); i++)
		if (f->reserved[i])
			return -EINVAL;
	switch (f->kind) {
	case DUVISOR_FENCE_I:
		return f->start || f->size || f->asid ? -EINVAL : 0;
	case DUVISOR_FENCE_VVMA:
		if (f->asid)
			return -EINVAL;
		break;
	case DUVISOR_FENCE_VVMA_ASID:
		if (f->asid >= DUVISOR_FENCE_ASID_LIMIT)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (!dv_fence_whole(f) && f->start + f->size < f->start)
		return -EINVAL;
	return 0;
}

/* Merges the request into what the target has pending. */
static void dv_fence_post(struct dv_vcpu *vcpu, const struct duvisor_fence *f)
{
	struct dv_fence_req *r = &vcpu->fence;
	bool by_asid = f->kind == DUVISOR_FENCE_VVMA_ASID;
	u64 size = dv_fence_whole(f) ? 0 : f->size;
	unsigned long pending;

	raw_spin_lock(&r->lock);
	pending = r->pending;
	if (f->kind == DUVISOR_FENCE_I) {
		pending |= DV_FENCE_I;
	} else if ((!by_asid && !size) || (pending & DV_FENCE_VVMA_ALL)) {
		pending |= DV_FENCE_VVMA_ALL;
	} else if ((pending & DV_FENCE_VVMA_ONE) &&
		   (r->by_asid != by_asid || r->asid != f->asid ||
		    r->start != f->start || r->size != size)) {
		/* Two different ones: everything covers both. */
		pending |= DV_FENCE_VVMA_ALL;
	} else {
		r->by_asid = by_asid;
		r->asid = f->asid;
		r->start = f->start;
		r->size = size;
		pending |= DV_FENCE_VVMA_ONE;
	}
	WRITE_ONCE(r->pending, pending);
	raw_spin_unlock(&r->lock);
}

/*
 * hfence.vvma (funct7 0x11) for the VMID in hgatp: rs1 the guest virtual
 * address, rs2 the ASID; x0 for either means all of them (so ASID 0 is
 * passed in a register).
 */
static void dv_hfence_vvma(bool one_va, unsigned long va, bool by_asid,
			   unsigned long asid)
{
	if (one_va && by_asid)
		asm volatile(".insn r 0x73, 0, 0x11, x0, %0, %1"
			     : : "r" (va), "r" (asid) : "memory");
	else if (one_va)
		asm volatile(".insn r 0x73, 0, 0x11, x0, %0, x0"
			     : : "r" (va) : "memory");
	else if (by_asid)
		asm volatile(".insn r 0x73, 0, 0x11, x0, x0, %0"
			     : : "r" (asid) : "memory");
	else
		asm volatile(".insn r 0x73, 0, 0x11, x0, x0, x0" : : : "memory");
}

static void dv_fence_vvma_one(const struct dv_fence_req *r)
{
	unsigned long va, end, pages;

	pages = r->size ? (PAGE_ALIGN(r->start + r->size) -
			   (r->start & PAGE_MASK)) >> PAGE_SHIFT : 0;
	if (!pages || pages > DV_FENCE_MAX_PAGES) {
		dv_hfence_vvma(false, 0, r->by_asid, r->asid);
		return;
	}
	end = r->start + r->size;
	for (va = r->start & PAGE_MASK; va < end; va += PAGE_SIZE)
		dv_hfence_vvma(true, va, r->by_asid, r->asid);
}

/*
 * On the vCPU's thread, interrupts off, the VM's hgatp loaded, just
 * before the guest is entered.
 */
void dv_fence_before_entry(struct dv_vcpu *vcpu)
{
	struct dv_fence_req *r = &vcpu->fence, todo;
	int cpu = smp_processor_id();

	/*
	 * A hart new to this vCPU may hold stale guest code: fence.i ran on
	 * the harts the vCPU was on (and before the first entry the VMM
	 * wrote the guest's code).  Stale VS-stage translations cannot be
	 * left: every hart flushes the VM's at each switch of a vCPU thread.
	 */
	if (cpu != vcpu->last_entry_cpu) {
		local_flush_icache_all();
		vcpu->last_entry_cpu = cpu;
	}
	if (!READ_ONCE(r->pending))
		return;
	raw_spin_lock(&r->lock);
	todo = *r;
	r->pending = 0;
	raw_spin_unlock(&r->lock);
	if (todo.pending & DV_FENCE_I)
		local_flush_icache_all();
	if (todo.pending & DV_FENCE_VVMA_ALL)
		dv_hfence_vvma(false, 0, false, 0);
	else if (todo.pending & DV_FENCE_VVMA_ONE)
		dv_fence_vvma_one(&todo);
	vcpu->run->stat_fences++;
}

/* Returns once the vCPU is not in the guest with what was posted before. */
static void dv_fence_wait(struct dv_vcpu *vcpu)
{
	unsigned long seq = READ_ONCE(vcpu->guest_seq);

	if (!(seq & 1))
		return;
	dv_vcpu_kick(vcpu);
	/* Interrupts are off in there: the kick's IPI ends it promptly. */
	while (READ_ONCE(vcpu->guest_seq) == seq)
		cpu_relax();
}

enum dv_fence_step { DV_FENCE_CHECK, DV_FENCE_POST, DV_FENCE_WAIT };

/* One step for every target; vm->lock held.  Only CHECK fails. */
static int dv_fence_step(struct dv_vm *vm, const struct duvisor_fence *f,
			 enum dv_fence_step step)
{
	struct dv_vcpu *vcpu;
	unsigned long id;
	int bit;

	if (f->vcpu_base == DUVISOR_FENCE_ALL_VCPUS) {
		xa_for_each(&vm->vcpus, id, vcpu) {
			if (step == DV_FENCE_POST)
				dv_fence_post(vcpu, f);
			else if (step == DV_FENCE_WAIT)
				dv_fence_wait(vcpu);
		}
		return 0;
	}
	for (bit = 0; bit < 64; bit++) {
		if (!(f->vcpu_mask & BIT_ULL(bit)))
			continue;
		if (f->vcpu_base >= dv_max_vcpus ||
		    bit >= dv_max_vcpus - f->vcpu_base)
			return -EINVAL;
		vcpu = xa_load(&vm->vcpus, f->vcpu_base + bit);
		if (!vcpu)
			return -EINVAL;
		if (step == DV_FENCE_POST)
			dv_fence_post(vcpu, f);
		else if (step == DV_FENCE_WAIT)
			dv_fence_wait(vcpu);
	}
	return 0;
}

long dv_remote_fence(struct dv_vm *vm, void __user *argp)
{
	struct duvisor_fence f;
	int ret;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	ret = dv_fence_check(&f);
	if (ret)
		return ret;
	/* DV-Ext VMMs enter the guest themselves (HURET). */
	if (dv_mode != DUVISOR_MODE_TRAP)
		return -EOPNOTSUPP;
	/* The lock keeps the targets: a vCPU is freed under it. */
	mutex_lock(&vm->lock);
	ret = dv_fence_step(vm, &f, DV_FENCE_CHECK);
	if (!ret) {
		dv_fence_step(vm, &f, DV_FENCE_POST);
		/* Pairs with dv_enter_guest: posted, then seen in or out. */
		smp_mb();
		dv_fence_step(vm, &f, DV_FENCE_WAIT);
	}
	mutex_unlock(&vm->lock);
	return ret;
}
