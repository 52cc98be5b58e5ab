// SPDX-License-Identifier: GPL-2.0
/*
 * DuVisor DV-Ext control plane: vCPUs, thread registration and the trap
 * mode run loop.
 *
 * A vCPU belongs to the one thread that registered it.  The thread gets
 * a preempt notifier, so the vCPU's hardware state (VS CSRs in trap
 * mode, the DV-Ext state in DV-Ext mode) is on the hart exactly while
 * the thread runs there: no kernel patch, no work on other threads'
 * context switches.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/csr.h>
#include "dv.h"

static_assert(offsetof(struct dv_ctx, host) == DV_CTX_HOST);
static_assert(offsetof(struct dv_ctx, guest) == DV_CTX_GUEST);
static_assert(offsetof(struct dv_ctx, guest_pc) == DV_CTX_GUEST_PC);
static_assert(offsetof(struct dv_ctx, guest_sstatus) == DV_CTX_GUEST_SSTATUS);
static_assert(offsetof(struct dv_ctx, guest_hstatus) == DV_CTX_GUEST_HSTATUS);
static_assert(offsetof(struct dv_ctx, host_sstatus) == DV_CTX_HOST_SSTATUS);
static_assert(offsetof(struct dv_ctx, host_hstatus) == DV_CTX_HOST_HSTATUS);
static_assert(offsetof(struct dv_ctx, host_stvec) == DV_CTX_HOST_STVEC);
static_assert(offsetof(struct dv_ctx, host_sscratch) == DV_CTX_HOST_SSCRATCH);
static_assert(offsetof(struct dv_fp, fcsr) == 32 * 8);
static_assert(sizeof(struct duvisor_run) <= DUVISOR_RUN_SIZE);
static_assert(DUVISOR_RUN_SIZE == PAGE_SIZE);

/*
 * What the guest handles itself in trap mode: its own page faults,
 * breakpoints, user ecalls and fetch misalignment (KVM's choice too),
 * and its virtual interrupts.  Everything else reaches the module and is
 * forwarded to user space.
 */
#define DV_TRAP_HEDELEG	(BIT(EXC_INST_MISALIGNED) | BIT(EXC_BREAKPOINT) | \
			 BIT(EXC_SYSCALL) | BIT(EXC_INST_PAGE_FAULT) | \
			 BIT(EXC_LOAD_PAGE_FAULT) | BIT(EXC_STORE_PAGE_FAULT))
/* In dv_vcpu.virqs: the interrupt was raised since the guest's last entry. */
#define DV_VIRQ_RAISED(bits)	((bits) << 16)
/* The guest reads time; other counters would leak the host's. */
#define DV_HCOUNTEREN_TM	BIT(1)

static LIST_HEAD(dv_registered);	/* one vCPU per thread */
static DEFINE_MUTEX(dv_reg_lock);

/*
 * Arriving on a hart: whatever ran here last (a KVM guest whose VMID
 * collides with ours, in the worst case) must not lend us translations.
 */
static void dv_vcpu_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct dv_vcpu *vcpu = container_of(pn, struct dv_vcpu, pn);

	dv_flush_vm_local(vcpu->vm);
	if (dv_mode == DUVISOR_MODE_DVEXT)
		dv_dvext_sched_in(vcpu, cpu);
	else
		dv_csrs_load(&vcpu->csrs);
}

/* Leaving a hart: and we must not lend ours to whatever comes next. */
static void dv_vcpu_sched_out(struct preempt_notifier *pn,
			      struct task_struct *next)
{
	struct dv_vcpu *vcpu = container_of(pn, struct dv_vcpu, pn);

	if (dv_mode == DUVISOR_MODE_DVEXT)
		dv_dvext_sched_out(vcpu);
	else
		dv_csrs_save(&vcpu->csrs);
	dv_flush_vm_local(vcpu->vm);
}

static struct preempt_ops dv_preempt_ops = {
	.sched_in = dv_vcpu_sched_in,
	.sched_out = dv_vcpu_sched_out,
};

static void dv_vcpu_free(struct kref *ref)
{
	struct dv_vcpu *vcpu = container_of(ref, struct dv_vcpu, ref);
	struct dv_vm *vm = vcpu->vm;

	mutex_lock(&vm->lock);
	xa_erase(&vm->vcpus, vcpu->id);
	vm->nr_vcpus--;
	mutex_unlock(&vm->lock);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
	dv_vm_put(vm);
}

static void dv_vcpu_put(struct dv_vcpu *vcpu)
{
	kref_put(&vcpu->ref, dv_vcpu_free);
}

/* Ends the registration; vcpu->lock held, current is the thread. */
static void dv_unregister_current(struct dv_vcpu *vcpu)
{
	preempt_disable();
	dv_vcpu_sched_out(&vcpu->pn, NULL);
	preempt_notifier_unregister(&vcpu->pn);
	preempt_enable();
	mutex_lock(&dv_reg_lock);
	list_del(&vcpu->reg_node);
	mutex_unlock(&dv_reg_lock);
	put_task_struct(vcpu->task);
	vcpu->task = NULL;
	module_put(THIS_MODULE);
	/* The registration's reference; the caller still holds another. */
	kref_put(&vcpu->ref, dv_vcpu_free);
}

static int dv_register(struct dv_vcpu *vcpu)
{
	struct dv_vcpu *other;
	int ret = 0;

	mutex_lock(&vcpu->lock);
	if (vcpu->task) {
		ret = -EBUSY;
		goto out;
	}
	mutex_lock(&dv_reg_lock);
	list_for_each_entry(other, &dv_registered, reg_node) {
		if (other->task == current) {
			mutex_unlock(&dv_reg_lock);
			ret = -EBUSY;
			goto out;
		}
	}
	list_add(&vcpu->reg_node, &dv_registered);
	mutex_unlock(&dv_reg_lock);

	get_task_struct(current);
	vcpu->task = current;
	kref_get(&vcpu->ref);
	/* The notifier calls into us for as long as the thread is bound. */
	__module_get(THIS_MODULE);
	preempt_disable();
	preempt_notifier_init(&vcpu->pn, &dv_preempt_ops);
	preempt_notifier_register(&vcpu->pn);
	dv_vcpu_sched_in(&vcpu->pn, smp_processor_id());
	preempt_enable();
out:
	mutex_unlock(&vcpu->lock);
	return ret;
}

static int dv_unregister(struct dv_vcpu *vcpu)
{
	int ret = 0;

	mutex_lock(&vcpu->lock);
	if (vcpu->task != current)
		ret = -EPERM;
	else
		dv_unregister_current(vcpu);
	mutex_unlock(&vcpu->lock);
	return ret;
}

/* Runs in the registered thread, queued by a release from another one. */
static void dv_unregister_work(struct callback_head *head)
{
	struct dv_vcpu *vcpu = container_of(head, struct dv_vcpu, unreg_work);

	mutex_lock(&vcpu->lock);
	if (vcpu->task == current)
		dv_unregister_current(vcpu);
	mutex_unlock(&vcpu->lock);
	dv_vcpu_put(vcpu);
	/*
	 * No file holds the module here: the reference taken when the work
	 * was queued goes last, so that rmmod cannot pull this code away
	 * while it still runs (a tail call; the window left is the return).
	 */
	module_put(THIS_MODULE);
}

/*
 * The vCPU's file is gone but the registered thread may live on.  Only
 * that thread can unlink its preempt notifier safely (the scheduler
 * walks the list without a lock), so it is asked to with a task work.
 * A thread already past its task works is exiting: once its last
 * context switch is over, the notifier is never called again and the
 * registration can be dropped from here.
 */
static void dv_release_registration(struct dv_vcpu *vcpu)
{
	struct task_struct *task;

	mutex_lock(&vcpu->lock);
	task = vcpu->task;
	if (!task) {
		mutex_unlock(&vcpu->lock);
		return;
	}
	if (task == current) {
		dv_unregister_current(vcpu);
		mutex_unlock(&vcpu->lock);
		return;
	}
	kref_get(&vcpu->ref);
	__module_get(THIS_MODULE);
	init_task_work(&vcpu->unreg_work, dv_unregister_work);
	if (!task_work_add(task, &vcpu->unreg_work, TWA_SIGNAL)) {
		mutex_unlock(&vcpu->lock);
		return;
	}
	module_put(THIS_MODULE);
	kref_put(&vcpu->ref, dv_vcpu_free);	/* not the last one */
	mutex_unlock(&vcpu->lock);

	while (READ_ONCE(task->__state) != TASK_DEAD)
		schedule_timeout_uninterruptible(1);
#ifdef CONFIG_SMP
	/* Its final switch, and with it the last sched_out, is over. */
	smp_cond_load_acquire(&task->on_cpu, !VAL);
#endif

	mutex_lock(&vcpu->lock);
	mutex_lock(&dv_reg_lock);
	list_del(&vcpu->reg_node);
	mutex_unlock(&dv_reg_lock);
	vcpu->task = NULL;
	mutex_unlock(&vcpu->lock);
	put_task_struct(task);
	module_put(THIS_MODULE);
	dv_vcpu_put(vcpu);
}

static int dv_vcpu_release(struct inode *inode, struct file *file)
{
	struct dv_vcpu *vcpu = file->private_data;

	dv_release_registration(vcpu);
	dv_vcpu_put(vcpu);
	return 0;
}

/* The guest's vsstatus.FS; the thread is current, its VS CSRs loaded. */
static unsigned long vcpu_vsstatus_fs(struct dv_vcpu *vcpu)
{
	return csr_read(CSR_VSSTATUS) & SR_FS;
}

/*
 * The instruction at the guest's pc, read while its vsatp and our hgatp
 * are still loaded (right after the exit, interrupts off).
 */
static u64 dv_read_guest_insn(struct dv_ctx *c)
{
	unsigned long hstatus, fault, lo, hi = 0;

	hstatus = csr_read(CSR_HSTATUS);
	csr_write(CSR_HSTATUS, (hstatus & ~HSTATUS_SPVP) |
		  (c->guest_hstatus & HSTATUS_SPVP));
	lo = dv_hlvx_hu(c->guest_pc, &fault);
	if (!fault && (lo & 3) == 3)
		hi = dv_hlvx_hu(c->guest_pc + 2, &fault);
	csr_write(CSR_HSTATUS, hstatus);
	return fault ? 0 : lo | hi << 16;
}

/*
 * VSSIP is the one virtual interrupt the guest changes itself (through
 * sip): it clears it once it has taken the interrupt, and its view is
 * kept, unless SET_IRQ raised VSSIP again since the entry.  That raise
 * is an IPI the guest has not seen (its handler may have looked for IPI
 * messages before the sender posted one), and dropping it loses the IPI
 * for good: a 2-vCPU Linux guest stopped with a wakeup queued for a CPU
 * that was never told.
 */
static void dv_sync_vssip(struct dv_vcpu *vcpu, unsigned long entry_hvip,
			  unsigned long exit_hvip)
{
	const unsigned long ssip = BIT(IRQ_VS_SOFT);
	long old;

	if ((entry_hvip & ssip) == (exit_hvip & ssip))
		return;
	if (exit_hvip & ssip) {
		atomic_long_or(ssip, &vcpu->virqs);
		return;
	}
	old = atomic_long_read(&vcpu->virqs);
	do {
		if (old & DV_VIRQ_RAISED(ssip))
			return;
	} while (!atomic_long_try_cmpxchg(&vcpu->virqs, &old, old & ~ssip));
}

/* One guest entry and exit; interrupts off, the vCPU's thread current. */
static void dv_enter_guest(struct dv_vcpu *vcpu, struct duvisor_trap *trap)
{
	struct dv_ctx *c = &vcpu->ctx;
	unsigned long hvip, scounteren, hedeleg, hideleg, hcounteren;
	unsigned long host_sstatus;
	bool guest_fp;

	/*
	 * Host sstatus, but returning to the guest's privilege, with SIE off.
	 * The thread's own FP registers are live in this ioctl: a guest with
	 * FP on (vsstatus.FS) gets its registers swapped in here, where no
	 * context switch can see them; one with FP off runs with FS off too.
	 */
	host_sstatus = csr_read(CSR_SSTATUS);
	guest_fp = (csr_read(CSR_VSSTATUS) & SR_FS) != SR_FS_OFF;
	vcpu->fp_on = guest_fp;
	c->guest_sstatus = (host_sstatus & ~(SR_SIE | SR_SPIE | SR_SPP | SR_FS)) |
			   (c->guest_sstatus & SR_SPP) |
			   (guest_fp ? SR_FS_CLEAN : SR_FS_OFF);
	if (guest_fp) {
		csr_set(CSR_SSTATUS, SR_FS);
		dv_fp_save(&vcpu->host_fp);
		dv_fp_load(&vcpu->guest_fp);
	}
	c->guest_hstatus = (csr_read(CSR_HSTATUS) & HSTATUS_VSXL) |
			   HSTATUS_SPV | HSTATUS_VTW |
			   (c->guest_hstatus & HSTATUS_SPVP);
	/* From here on, a raise is one the guest has not seen. */
	hvip = atomic_long_fetch_andnot(DV_VIRQ_RAISED(DV_VIRQS), &vcpu->virqs) &
	       DV_VIRQS;

	/* KVM reloads its own on vcpu_load: these are ours until the exit. */
	csr_write(CSR_HGATP, vcpu->vm->hgatp);
	WRITE_ONCE(vcpu->guest_seq, vcpu->guest_seq + 1);
	/* Pairs with dv_remote_fence: it sees us in the guest, or we it. */
	smp_mb();
	dv_fence_before_entry(vcpu);
	csr_write(CSR_HTIMEDELTA, 0);
	csr_write(CSR_HENVCFG, 0);
	csr_write(CSR_HVIP, hvip);
	/*
	 * KVM sets these per hart when its first VM appears and clears them
	 * after its last: whatever they are now, they are back on exit.
	 */
	hedeleg = csr_swap(CSR_HEDELEG, DV_TRAP_HEDELEG);
	hideleg = csr_swap(CSR_HIDELEG, DV_VIRQS);
	hcounteren = csr_swap(CSR_HCOUNTEREN, DV_HCOUNTEREN_TM);
	scounteren = csr_swap(CSR_SCOUNTEREN, vcpu->csrs.scounteren);

	dv_switch_to(c);
	/* Out of the guest: a waiting dv_remote_fence may go on. */
	smp_store_release(&vcpu->guest_seq, vcpu->guest_seq + 1);

	if (guest_fp) {
		/* The FS the host had, once the registers are back. */
		csr_set(CSR_SSTATUS, SR_FS);
		if ((c->guest_sstatus & SR_FS) == SR_FS_DIRTY)
			dv_fp_save(&vcpu->guest_fp);
		dv_fp_load(&vcpu->host_fp);
		csr_clear(CSR_SSTATUS, SR_FS & ~host_sstatus);
	}
	trap->scause = csr_read(CSR_SCAUSE);
	trap->stval = csr_read(CSR_STVAL);
	trap->htval = csr_read(CSR_HTVAL);
	trap->htinst = csr_read(CSR_HTINST);
	trap->insn = 0;
	if (trap->scause == EXC_LOAD_GUEST_PAGE_FAULT ||
	    trap->scause == EXC_STORE_GUEST_PAGE_FAULT)
		trap->insn = dv_read_guest_insn(c);
	vcpu->csrs.scounteren = csr_swap(CSR_SCOUNTEREN, scounteren);
	csr_write(CSR_HEDELEG, hedeleg);
	csr_write(CSR_HIDELEG, hideleg);
	csr_write(CSR_HCOUNTEREN, hcounteren);
	dv_sync_vssip(vcpu, hvip, csr_read(CSR_HVIP));
	/*
	 * With hideleg back to the host's (0 without KVM VMs), a pending
	 * VS interrupt the guest enabled in vsie (that is hie) would trap
	 * into the host, which has no handler for it: an interrupt storm.
	 */
	csr_write(CSR_HVIP, 0);
}

static long dv_vcpu_run(struct dv_vcpu *vcpu)
{
	struct duvisor_run *run = vcpu->run;
	struct dv_ctx *c = &vcpu->ctx;
	struct duvisor_trap trap;
	unsigned long cause;
	long ret = 0;
	int i;

	if (dv_mode != DUVISOR_MODE_TRAP)
		return -EOPNOTSUPP;
	if (vcpu->task != current)
		return -EPERM;

	/* Read once: user space may rewrite the page at any moment. */
	c->guest[0] = 0;
	for (i = 1; i < 32; i++)
		c->guest[i] = READ_ONCE(run->regs[i]);
	c->guest_pc = READ_ONCE(run->pc);
	WRITE_ONCE(run->exit_reason, DUVISOR_EXIT_NONE);

	for (;;) {
		if (READ_ONCE(run->immediate_exit) || signal_pending(current)) {
			WRITE_ONCE(run->exit_reason, DUVISOR_EXIT_INTR);
			ret = -EINTR;
			break;
		}
		cond_resched();
		local_irq_disable();
		if (need_resched() || signal_pending(current)) {
			local_irq_enable();
			continue;
		}
		dv_enter_guest(vcpu, &trap);
		/* A host interrupt that ended the run is taken right here. */
		local_irq_enable();

		if (trap.scause & CAUSE_IRQ_FLAG) {
			run->stat_host_irqs++;
			continue;
		}
		/*
		 * The guest turned FP on (vsstatus.FS) in a run that had it
		 * off: the FP instruction trapped; run it again with FP on.
		 */
		if (trap.scause == EXC_INST_ILLEGAL && !vcpu->fp_on &&
		    vcpu_vsstatus_fs(vcpu) != SR_FS_OFF)
			continue;
		cause = trap.scause;
		trap.sepc = c->guest_pc;
		trap.gpa = 0;
		if (cause == EXC_INST_GUEST_PAGE_FAULT ||
		    cause == EXC_LOAD_GUEST_PAGE_FAULT ||
		    cause == EXC_STORE_GUEST_PAGE_FAULT)
			trap.gpa = (trap.htval << 2) | (trap.stval & 3);
		run->trap = trap;
		WRITE_ONCE(run->exit_reason,
			   cause < 64 && (vcpu->vm->edeleg & BIT_ULL(cause)) ?
			   DUVISOR_EXIT_TRAP : DUVISOR_EXIT_UNDELEGATED);
		break;
	}
	for (i = 1; i < 32; i++)
		WRITE_ONCE(run->regs[i], c->guest[i]);
	WRITE_ONCE(run->pc, c->guest_pc);
	run->stat_exits++;
	return ret;
}

/* Out of the guest if it runs there (an IPI), and back in by itself. */
void dv_vcpu_kick(struct dv_vcpu *vcpu)
{
	struct task_struct *task;

	mutex_lock(&dv_reg_lock);
	task = vcpu->task;
	if (task && task != current)
		kick_process(task);
	mutex_unlock(&dv_reg_lock);
}

static long dv_set_irq(struct dv_vcpu *vcpu, void __user *argp)
{
	struct duvisor_irq irq;

	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	if (irq.irq >= BITS_PER_LONG || !(BIT(irq.irq) & DV_VIRQS) ||
	    irq.level > 1)
		return -EINVAL;
	/* DV-Ext VMMs write HUVIP and VIPI themselves. */
	if (dv_mode != DUVISOR_MODE_TRAP)
		return -EOPNOTSUPP;
	if (irq.level)
		atomic_long_or(BIT(irq.irq) | DV_VIRQ_RAISED(BIT(irq.irq)),
			       &vcpu->virqs);
	else
		atomic_long_andnot(BIT(irq.irq), &vcpu->virqs);
	/*
	 * A running guest sees hvip only at its next entry: the kick makes
	 * it exit (a host interrupt) and re-enter with the new value.  The
	 * barrier: a thread about to enter either sees the new value or is
	 * seen running and kicked.
	 */
	smp_mb__after_atomic();
	dv_vcpu_kick(vcpu);
	return 0;
}

static long dv_vcpu_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct dv_vcpu *vcpu = file->private_data;
	long ret;

	switch (cmd) {
	case DUVISOR_REGISTER_VCPU:
		return dv_register(vcpu);
	case DUVISOR_UNREGISTER_VCPU:
		return dv_unregister(vcpu);
	case DUVISOR_RUN:
		if (!mutex_trylock(&vcpu->lock))
			return -EBUSY;
		ret = dv_vcpu_run(vcpu);
		mutex_unlock(&vcpu->lock);
		return ret;
	case DUVISOR_SET_IRQ:
		return dv_set_irq(vcpu, (void __user *)arg);
	case DUVISOR_GET_CSRS:
	case DUVISOR_SET_CSRS:
		return dv_csrs_ioctl(vcpu, cmd, (void __user *)arg);
	case DUVISOR_GET_FP_REGS:
	case DUVISOR_SET_FP_REGS:
		return dv_fp_ioctl(vcpu, cmd, (void __user *)arg);
	case DUVISOR_INJECT_EXCEPTION:
		return dv_inject_exception(vcpu, (void __user *)arg);
	}
	return -ENOTTY;
}

static int dv_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dv_vcpu *vcpu = file->private_data;

	/* Shared: a private mapping would copy the page on the first write. */
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != DUVISOR_RUN_SIZE ||
	    vma->vm_flags & VM_EXEC || !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vma->vm_flags &= ~VM_MAYEXEC;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	return vm_insert_page(vma, vma->vm_start, virt_to_page(vcpu->run));
}

static const struct file_operations dv_vcpu_fops = {
	.owner = THIS_MODULE,
	.release = dv_vcpu_release,
	.unlocked_ioctl = dv_vcpu_ioctl,
	.mmap = dv_vcpu_mmap,
	.llseek = noop_llseek,
};

int dv_create_vcpu(struct dv_vm *vm, unsigned long id)
{
	struct dv_vcpu *vcpu;
	int ret;

	if (id >= dv_max_vcpus)
		return -EINVAL;
	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run) {
		kfree(vcpu);
		return -ENOMEM;
	}
	kref_init(&vcpu->ref);
	mutex_init(&vcpu->lock);
	raw_spin_lock_init(&vcpu->fence.lock);
	vcpu->last_entry_cpu = -1;
	INIT_LIST_HEAD(&vcpu->reg_node);
	vcpu->vm = vm;
	vcpu->id = id;
	/* The guest starts in VS-mode. */
	vcpu->ctx.guest_sstatus = SR_SPP;
	vcpu->ctx.guest_hstatus = HSTATUS_SPVP;

	mutex_lock(&vm->lock);
	ret = xa_insert(&vm->vcpus, id, vcpu, GFP_KERNEL_ACCOUNT);
	if (ret) {
		mutex_unlock(&vm->lock);
		free_page((unsigned long)vcpu->run);
		kfree(vcpu);
		return ret == -EBUSY ? -EEXIST : ret;
	}
	vm->nr_vcpus++;
	kref_get(&vm->ref);
	mutex_unlock(&vm->lock);

	ret = anon_inode_getfd("duvisor-vcpu", &dv_vcpu_fops, vcpu,
			       O_RDWR | O_CLOEXEC);
	if (ret < 0)
		dv_vcpu_put(vcpu);
	return ret;
}

int dv_vcpu_module_init(void)
{
	preempt_notifier_inc();
	return 0;
}

void dv_vcpu_module_exit(void)
{
	preempt_notifier_dec();
}
