/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * duvisor.h - user-space API of the DuVisor DV-Ext control plane
 * (kmod/, /dev/duvisor).  See docs/dvext-kmod.md.
 *
 * Objects are file descriptors, like KVM's: /dev/duvisor creates VM fds,
 * a VM fd creates vCPU fds, and a vCPU fd maps one page holding its
 * struct duvisor_run.  Nothing the module returns is a kernel address:
 * only numbers (VMID, vCPU id, limits) and fds.
 *
 * Versioning: DUVISOR_GET_API_VERSION returns DUVISOR_API_VERSION; a
 * module with another major number is incompatible.  Structures only
 * grow at their end, and their reserved fields must be zero.  Requests
 * added since version 1 first appeared are announced in
 * struct duvisor_info.features (0 from a module that predates them).
 */
#ifndef _UAPI_LINUX_DUVISOR_H
#define _UAPI_LINUX_DUVISOR_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define DUVISOR_API_VERSION		1

#define DUVISOR_IO			0xDB

/* How this CPU is driven (struct duvisor_info.mode). */
#define DUVISOR_MODE_TRAP		1	/* H extension only: module runs the guest */
#define DUVISOR_MODE_DVEXT		2	/* DV-Ext: user space runs it (HURET) */

/*
 * Causes user space may ask to handle itself (DUVISOR_REQUEST_DELEG).
 * Exceptions, by scause code: VS-mode ecall, the guest-page faults and
 * the virtual instruction fault.  Interrupts, by bit of the U-level
 * interrupt registers: U software (vIPI), U timer (vtimer), U external.
 */
#define DUVISOR_EXC_VS_ECALL		10
#define DUVISOR_EXC_INST_GUEST_PF	20
#define DUVISOR_EXC_LOAD_GUEST_PF	21
#define DUVISOR_EXC_VIRTUAL_INST	22
#define DUVISOR_EXC_STORE_GUEST_PF	23
#define DUVISOR_EDELEG_ALLOWED		((1ULL << DUVISOR_EXC_VS_ECALL) | \
					 (1ULL << DUVISOR_EXC_INST_GUEST_PF) | \
					 (1ULL << DUVISOR_EXC_LOAD_GUEST_PF) | \
					 (1ULL << DUVISOR_EXC_VIRTUAL_INST) | \
					 (1ULL << DUVISOR_EXC_STORE_GUEST_PF))
#define DUVISOR_IRQ_U_SOFT		0
#define DUVISOR_IRQ_U_TIMER		4
#define DUVISOR_IRQ_U_EXT		8
#define DUVISOR_IDELEG_ALLOWED		((1ULL << DUVISOR_IRQ_U_SOFT) | \
					 (1ULL << DUVISOR_IRQ_U_TIMER) | \
					 (1ULL << DUVISOR_IRQ_U_EXT))

/*
 * Synchronous exceptions DUVISOR_INJECT_EXCEPTION can raise in a guest:
 * those a VS-mode guest takes itself (misaligned, access faults, illegal
 * instruction, breakpoint, ecall from VU-mode, page faults), by cause.
 */
#define DUVISOR_EXC_INJECTABLE		(0x1ffULL | (1ULL << 12) | \
					 (1ULL << 13) | (1ULL << 15))

/* Virtual interrupts a vCPU can be given (bits of hvip). */
#define DUVISOR_VIRQ_VS_SOFT		2
#define DUVISOR_VIRQ_VS_TIMER		6
#define DUVISOR_VIRQ_VS_EXT		10

struct duvisor_info {
	__u32 mode;		/* DUVISOR_MODE_* */
	__u32 vmid_bits;	/* hardware VMID width (0: none) */
	__u32 vmid_first;	/* VMIDs we use: [vmid_first, vmid_last] */
	__u32 vmid_last;
	__u32 max_vcpus;	/* per VM */
	__u32 max_regions;	/* memory regions per VM */
	__u64 max_guest_bytes;	/* guest memory per VM */
	__u64 gpa_limit;	/* guest physical addresses are below this */
	__u64 edeleg_allowed;	/* DUVISOR_EDELEG_ALLOWED */
	__u64 ideleg_allowed;	/* DUVISOR_IDELEG_ALLOWED */
	__u32 run_size;		/* bytes to mmap from a vCPU fd */
	__u32 features;		/* DUVISOR_FEATURE_* */
	__u32 reserved[6];
};

/* struct duvisor_info.features: requests added to API version 1. */
#define DUVISOR_FEATURE_REMOTE_FENCE	(1U << 0)	/* DUVISOR_REMOTE_FENCE */
#define DUVISOR_FEATURE_INJECT_EXC	(1U << 1)	/* DUVISOR_INJECT_EXCEPTION */

/* Guest memory: user memory pinned by the module for the VM's life. */
struct duvisor_memory_region {
	__u64 guest_phys_addr;	/* page aligned */
	__u64 size;		/* page aligned, not 0 */
	__u64 userspace_addr;	/* page aligned, writable */
	__u32 flags;		/* none defined: 0 */
	__u32 reserved;
};

struct duvisor_deleg {
	__u64 edeleg;		/* subset of DUVISOR_EDELEG_ALLOWED */
	__u64 ideleg;		/* subset of DUVISOR_IDELEG_ALLOWED */
};

struct duvisor_vm_info {
	__u32 vmid;
	__u32 nr_vcpus;
	__u64 guest_bytes;	/* registered so far */
	__u32 nr_regions;
	__u32 reserved[5];
};

struct duvisor_irq {
	__u32 irq;		/* DUVISOR_VIRQ_* */
	__u32 level;		/* 1 raise, 0 lower */
};

/*
 * DUVISOR_REMOTE_FENCE: fences the target vCPUs execute before they next
 * enter the guest (SBI RFENCE).  The call returns once no target is
 * still in the guest without them.
 */
#define DUVISOR_FENCE_I			1	/* fence.i */
#define DUVISOR_FENCE_VVMA		2	/* hfence.vvma, every ASID */
#define DUVISOR_FENCE_VVMA_ASID		3	/* hfence.vvma, one ASID */
#define DUVISOR_FENCE_ALL_VCPUS		(~0ULL)	/* vcpu_base: every vCPU */
#define DUVISOR_FENCE_ASID_LIMIT	(1ULL << 16)

struct duvisor_fence {
	__u32 kind;		/* DUVISOR_FENCE_* */
	__u32 flags;		/* none defined: 0 */
	__u64 vcpu_mask;	/* bit n: the vCPU with id vcpu_base + n */
	__u64 vcpu_base;	/* or DUVISOR_FENCE_ALL_VCPUS (mask ignored) */
	/*
	 * VVMA kinds: the guest virtual range, size 0 or ~0 for all of it
	 * (SBI's convention); 0 for FENCE_I.
	 */
	__u64 start;
	__u64 size;
	__u64 asid;		/* VVMA_ASID: below DUVISOR_FENCE_ASID_LIMIT; else 0 */
	__u64 reserved[2];
};

/*
 * DUVISOR_INJECT_EXCEPTION: the guest takes a synchronous exception
 * before its next instruction, as the hart would raise it: vsepc = the
 * run page's pc, vscause, vstval, vsstatus.SPP/SPIE/SIE updated, VS-mode,
 * and the run page's pc set to vstvec's base.
 */
struct duvisor_exception {
	__u64 cause;		/* in DUVISOR_EXC_INJECTABLE */
	__u64 tval;		/* vstval */
	__u64 reserved[2];
};

/* The guest's VS-level CSRs (and scounteren, which VS-mode sees as is). */
struct duvisor_vcpu_csrs {
	__u64 vsstatus;
	__u64 vsie;
	__u64 vstvec;
	__u64 vsscratch;
	__u64 vsepc;
	__u64 vscause;
	__u64 vstval;
	__u64 vsatp;
	__u64 scounteren;
	__u64 reserved[7];
};

/* The guest's F/D registers (trap mode; 0 at vCPU creation). */
struct duvisor_fp_regs {
	__u64 f[32];
	__u32 fcsr;
	__u32 reserved;
};

/* struct duvisor_run.exit_reason */
#define DUVISOR_EXIT_NONE		0
/* A delegated exception (DUVISOR_REQUEST_DELEG): trap holds it. */
#define DUVISOR_EXIT_TRAP		1
/* An exception nobody delegated to user space; trap holds it. */
#define DUVISOR_EXIT_UNDELEGATED	2
/* RUN returned -EINTR (signal or immediate_exit): just run again. */
#define DUVISOR_EXIT_INTR		3

struct duvisor_trap {
	__u64 scause;
	__u64 sepc;		/* the guest pc of the trap */
	__u64 stval;
	__u64 htval;		/* guest-page faults: guest physical >> 2 */
	__u64 htinst;		/* transformed instruction, or 0 */
	__u64 gpa;		/* guest-page faults: (htval << 2) | (stval & 3) */
	/*
	 * Load/store guest-page faults: the faulting instruction as read
	 * from guest memory (through the guest's own page tables), 16 or
	 * 32 bits, for MMIO decoding; 0 if it could not be read.  Hardware
	 * may leave htinst 0, and user space cannot walk guest page tables
	 * as cheaply.
	 */
	__u64 insn;
};

/*
 * The page shared by a vCPU fd (mmap offset 0, DUVISOR_RUN_SIZE bytes).
 * regs and pc are the guest's: the module loads them on DUVISOR_RUN and
 * stores them back on every exit, so user space edits them in place
 * (advance pc past an ecall, write an MMIO load's result).  regs[0] is
 * ignored.
 */
struct duvisor_run {
	__u32 exit_reason;	/* DUVISOR_EXIT_* */
	__u8 immediate_exit;	/* set by user space: RUN returns -EINTR */
	__u8 pad[3];
	__u64 regs[32];
	__u64 pc;
	struct duvisor_trap trap;
	/* Statistics, cumulative for this vCPU. */
	__u64 stat_exits;	/* exits to user space */
	__u64 stat_host_irqs;	/* host interrupts taken while in the guest */
	__u64 stat_fences;	/* entries that first ran requested fences */
	__u64 reserved[15];
};

#define DUVISOR_RUN_SIZE		4096

/* /dev/duvisor */
#define DUVISOR_GET_API_VERSION		_IO(DUVISOR_IO, 0x00)
#define DUVISOR_GET_INFO		_IOR(DUVISOR_IO, 0x01, struct duvisor_info)
#define DUVISOR_CREATE_VM		_IO(DUVISOR_IO, 0x02)	/* returns a VM fd */

/* VM fd */
#define DUVISOR_SET_MEMORY_REGION	_IOW(DUVISOR_IO, 0x10, struct duvisor_memory_region)
#define DUVISOR_REQUEST_DELEG		_IOW(DUVISOR_IO, 0x11, struct duvisor_deleg)
#define DUVISOR_GET_VM_INFO		_IOR(DUVISOR_IO, 0x12, struct duvisor_vm_info)
/* Argument: the vCPU id, below max_vcpus; returns a vCPU fd. */
#define DUVISOR_CREATE_VCPU		_IO(DUVISOR_IO, 0x13)
/* Trap mode; DUVISOR_FEATURE_REMOTE_FENCE. */
#define DUVISOR_REMOTE_FENCE		_IOW(DUVISOR_IO, 0x14, struct duvisor_fence)

/* vCPU fd */
/* Binds the calling thread to the vCPU (DV-Ext: sets its hstatus.HU). */
#define DUVISOR_REGISTER_VCPU		_IO(DUVISOR_IO, 0x20)
#define DUVISOR_UNREGISTER_VCPU		_IO(DUVISOR_IO, 0x21)
/* Trap mode only, from the registered thread: runs until an exit. */
#define DUVISOR_RUN			_IO(DUVISOR_IO, 0x22)
/* Any thread: raises or lowers a virtual interrupt. */
#define DUVISOR_SET_IRQ			_IOW(DUVISOR_IO, 0x23, struct duvisor_irq)
#define DUVISOR_GET_CSRS		_IOR(DUVISOR_IO, 0x24, struct duvisor_vcpu_csrs)
#define DUVISOR_SET_CSRS		_IOW(DUVISOR_IO, 0x25, struct duvisor_vcpu_csrs)
#define DUVISOR_GET_FP_REGS		_IOR(DUVISOR_IO, 0x26, struct duvisor_fp_regs)
#define DUVISOR_SET_FP_REGS		_IOW(DUVISOR_IO, 0x27, struct duvisor_fp_regs)
/* Trap mode, not from another thread than the bound one; _INJECT_EXC. */
#define DUVISOR_INJECT_EXCEPTION	_IOW(DUVISOR_IO, 0x28, struct duvisor_exception)

#endif /* _UAPI_LINUX_DUVISOR_H */
