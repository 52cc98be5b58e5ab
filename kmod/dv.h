/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DuVisor DV-Ext control plane: internal interfaces.
 * See docs/dvext-kmod.md for the design.
 */
#ifndef DUVISOR_DV_H
#define DUVISOR_DV_H

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/task_work.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <uapi/linux/duvisor.h>

/* The virtual interrupts a guest can be given (hvip, hideleg bits). */
#define DV_VIRQS	(BIT(IRQ_VS_SOFT) | BIT(IRQ_VS_TIMER) | BIT(IRQ_VS_EXT))

/* Sv39x4: 41-bit guest physical addresses, a 16 KiB root table. */
#define DV_GPA_BITS		41
#define DV_GPA_LIMIT		BIT_ULL(DV_GPA_BITS)
#define DV_PGD_ORDER		2

struct dv_region {
	u64 gpa;
	u64 size;
	unsigned long npages;
	struct page **pages;	/* pinned (FOLL_LONGTERM) */
};

struct dv_vm {
	struct kref ref;
	struct mutex lock;	/* regions, deleg, vcpus */
	u32 vmid;
	struct mm_struct *mm;	/* the creator's, for locked_vm accounting */
	struct dv_region *regions;
	u32 nr_regions;
	u64 guest_bytes;
	u64 edeleg;
	u64 ideleg;
	struct xarray vcpus;	/* id -> struct dv_vcpu (no reference) */
	u32 nr_vcpus;
	struct page *pgd;	/* G-stage root, DV_PGD_ORDER */
	unsigned long hgatp;
	unsigned long nr_tables;	/* G-stage table pages besides the root */
};

/*
 * The world switch's context (dv_switch.S).  The offsets are checked
 * against the assembly with static_assert in dv_vcpu.c.
 */
struct dv_ctx {
	unsigned long host[32];		/* x0..x31, callee-saved ones used */
	unsigned long guest[32];	/* x0..x31 */
	unsigned long guest_pc;
	unsigned long guest_sstatus;
	unsigned long guest_hstatus;
	unsigned long host_sstatus;
	unsigned long host_hstatus;
	unsigned long host_stvec;
	unsigned long host_sscratch;
};

#define DV_CTX_HOST		0
#define DV_CTX_GUEST		256
#define DV_CTX_GUEST_PC		512
#define DV_CTX_GUEST_SSTATUS	520
#define DV_CTX_GUEST_HSTATUS	528
#define DV_CTX_HOST_SSTATUS	536
#define DV_CTX_HOST_HSTATUS	544
#define DV_CTX_HOST_STVEC	552
#define DV_CTX_HOST_SSCRATCH	560

/* F/D registers (dv_fp.S relies on this layout). */
struct dv_fp {
	u64 f[32];
	u32 fcsr;
};

/* DV-Ext per-thread hardware state, switched by the preempt notifier. */
struct dv_hu_state {
	/* The host's delegation, put back when the thread leaves. */
	unsigned long host_hedeleg, host_hideleg, host_hcounteren;
	unsigned long utvec, uscratch, uepc, ucause, utval;
	unsigned long vtimecmp, vtimectl;
	unsigned long hedeleg, hideleg, hcounteren, htimedelta, hvip;
	unsigned long vsstatus, vsie, vstvec, vsscratch, vsepc, vscause;
	unsigned long vstval, vsatp;
};

/* Fences asked for by DUVISOR_REMOTE_FENCE, run before the next entry. */
#define DV_FENCE_I		BIT(0)
#define DV_FENCE_VVMA_ALL	BIT(1)	/* every address, every ASID */
#define DV_FENCE_VVMA_ONE	BIT(2)	/* the one below */

struct dv_fence_req {
	/* The request; its target takes it at entry, with interrupts off. */
	raw_spinlock_t lock;
	unsigned long pending;	/* DV_FENCE_*; read without the lock first */
	bool by_asid;
	u64 asid;
	u64 start, size;	/* size 0: every address */
};

struct dv_vcpu {
	struct kref ref;	/* the file, and the registration */
	struct dv_vm *vm;	/* holds a VM reference */
	u32 id;
	struct duvisor_run *run;	/* the mmap'd page */
	struct mutex lock;	/* RUN and the CSR ioctls */
	struct dv_ctx ctx;
	struct duvisor_vcpu_csrs csrs;	/* in memory while not loaded */
	struct dv_fp guest_fp;
	struct dv_fp host_fp;
	bool fp_on;		/* the last run had the guest's FP on */
	/*
	 * Pending virtual interrupts: hvip bits, and above them
	 * (DV_VIRQ_RAISED) the ones SET_IRQ raised since the last entry.
	 */
	atomic_long_t virqs;
	struct dv_fence_req fence;
	/*
	 * Odd while the thread is between entering the guest and leaving
	 * it (interrupts off): a fence request waits for it to change.
	 */
	unsigned long guest_seq;
	int last_entry_cpu;	/* -1 before the first entry */
	struct dv_hu_state hu;

	/* Registration: the thread this vCPU belongs to. */
	struct task_struct *task;	/* with a reference, or NULL */
	struct preempt_notifier pn;
	struct callback_head unreg_work;
	struct list_head reg_node;	/* dv_registered */
};

extern int dv_mode;		/* DUVISOR_MODE_* */
extern u32 dv_vmid_bits;
extern unsigned int dv_max_vcpus;
extern unsigned int dv_max_regions;
extern unsigned long dv_max_guest_bytes;

/* dv_main.c */
void dv_vm_put(struct dv_vm *vm);
void dv_flush_vm_local(struct dv_vm *vm);
void dv_flush_vm_everywhere(struct dv_vm *vm);

/* dv_mem.c */
int dv_gstage_init(struct dv_vm *vm);
void dv_gstage_free(struct dv_vm *vm);
int dv_set_memory_region(struct dv_vm *vm,
			 const struct duvisor_memory_region *r);
void dv_regions_release(struct dv_vm *vm);

/* dv_vcpu.c */
int dv_create_vcpu(struct dv_vm *vm, unsigned long id);
void dv_vcpu_kick(struct dv_vcpu *vcpu);

/* dv_csrs.c */
void dv_csrs_load(const struct duvisor_vcpu_csrs *c);
void dv_csrs_save(struct duvisor_vcpu_csrs *c);
long dv_csrs_ioctl(struct dv_vcpu *vcpu, unsigned int cmd, void __user *argp);
long dv_fp_ioctl(struct dv_vcpu *vcpu, unsigned int cmd, void __user *argp);
long dv_inject_exception(struct dv_vcpu *vcpu, void __user *argp);

/* dv_fence.c */
long dv_remote_fence(struct dv_vm *vm, void __user *argp);
void dv_fence_before_entry(struct dv_vcpu *vcpu);
int dv_vcpu_module_init(void);
void dv_vcpu_module_exit(void);

/* dv_dvext.c */
bool dv_dvext_probe(void);
void dv_dvext_sched_in(struct dv_vcpu *vcpu, int cpu);
void dv_dvext_sched_out(struct dv_vcpu *vcpu);

/* dv_switch.S */
void dv_switch_to(struct dv_ctx *ctx);
unsigned long dv_probe_hu_csr(void);
unsigned long dv_hlvx_hu(unsigned long gva, unsigned long *fault);

/* dv_fp.S */
void dv_fp_save(struct dv_fp *fp);
void dv_fp_load(const struct dv_fp *fp);

#endif /* DUVISOR_DV_H */
