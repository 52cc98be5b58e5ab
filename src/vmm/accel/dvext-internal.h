/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The dvext accelerator (riscv64): a user-level hypervisor's run loop on
 * the DV-Ext control plane, /dev/duvisor (kmod/, docs/dvext-kmod.md).
 * In trap mode the module enters the guest and forwards every exit
 * through the vCPU's run page; everything else is here: SBI (base, TIME,
 * IPI, RFENCE, HSM; the console and SRST go to riscv/sbi.c through the
 * VMM), MMIO decoding, WFI, the guest timer and interrupt injection.
 */
#ifndef DUVISOR_DVEXT_INTERNAL_H
#define DUVISOR_DVEXT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <linux/duvisor.h>     /* kmod/include/uapi: the UAPI, standalone */
#include "accel/accel.h"
#include "riscv/insn.h"
#include "riscv/layout.h"

/* Exception causes (scause) the VMM raises in a guest. */
#define RISCV_EXC_INSN_ACCESS   1
#define RISCV_EXC_ILLEGAL_INSN  2
#define RISCV_EXC_LOAD_ACCESS   5
#define RISCV_EXC_STORE_ACCESS  7

/* Queue notifications absorbed without leaving the vCPU loop. */
#define DVEXT_MAX_IOEVENTFDS 64

struct accel {
	int fd;                          /* /dev/duvisor */
	struct duvisor_info info;
	uint64_t timebase_hz;            /* the time CSR's, the host's */
};

struct dvext_ioeventfd {
	uint64_t addr;
	uint32_t len;
	bool match;
	uint64_t data;
	int efd;
};

struct accel_vm {
	struct accel *acc;
	int fd;
	/* Set on the main thread before any vCPU runs, then read-only:
	 * the targets of IPIs, fences and HSM calls. */
	struct accel_vcpu *vcpus[RISCV_MAX_VCPUS];
	uint32_t nvcpus;
	size_t nioeventfds;
	struct dvext_ioeventfd ioeventfds[DVEXT_MAX_IOEVENTFDS];
};

/* The HU-mode world switch's context (dvext-hu-switch.S's layout). */
struct dvext_hu_ctx {
	uint64_t host[16];               /* ra sp gp tp s0-s11 */
	uint64_t guest[32];
	uint64_t pc;
	uint64_t ucause, utval, hutval, hutinst;
};

/* SBI HSM hart states (the values hart_get_status returns). */
enum dvext_hart_state {
	DVEXT_HART_STARTED = 0,
	DVEXT_HART_STOPPED = 1,
	DVEXT_HART_START_PENDING = 2,
};

/* What the VMM's answer to the last exit still has to complete. */
enum dvext_pending {
	DVEXT_PENDING_NONE,
	DVEXT_PENDING_MMIO,              /* loads: the value into a register */
	DVEXT_PENDING_SBI,               /* a0/a1 from sbi_ret */
};

struct accel_vcpu {
	struct accel_vm *vm;
	int fd;
	uint32_t index;
	struct duvisor_run *run;

	/* Wakes the vCPU thread where it waits outside the guest (WFI, a
	 * stopped hart); guarded by lock: */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum dvext_hart_state hart_state;
	uint64_t start_pc, start_opaque;
	bool ipi_pending;                /* VSSIP raised since the last WFI */
	bool ext_level;                  /* the PLIC context's output */
	bool exit_requested;

	/* The vCPU thread's own. */
	bool thread_bound;
	timer_t timer;
	bool has_timer;
	uint64_t timer_deadline;         /* in time CSR ticks; UINT64_MAX: none */
	bool timer_raised;               /* VSTIP is up */
	enum dvext_pending pending;
	struct riscv_mmio_access mmio;
	uint8_t mmio_data[8];
	uint64_t sbi_ret[2];
	uint64_t exits_in_accel;

	/* DV-Ext mode (dvext-hu.c, build-checked only). */
	struct dvext_hu_ctx hu;
	bool hu_entered;
	uint64_t hu_virqs;               /* HUVIP at the next entry (atomic) */
};

/* Whether the module runs in DV-Ext mode: the VMM enters with HURET. */
static inline bool dvext_hu(const struct accel_vcpu *vcpu)
{
	return vcpu->vm->acc->info.mode == DUVISOR_MODE_DVEXT;
}

/* The vCPU bound to the calling thread, or NULL (dvext.c). */
struct accel_vcpu *dvext_current_vcpu(void);

/* dvext-hu.c: DV-Ext mode, on the vCPU's thread unless said otherwise. */
int dvext_hu_run(struct accel_vcpu *vcpu);
/* Any thread: the level is loaded into HUVIP at the next entry. */
void dvext_hu_set_irq_level(struct accel_vcpu *vcpu, uint32_t irq, bool level);
/* Any thread: makes vcpu leave its guest (its VIPI bit). */
void dvext_hu_kick(struct accel_vcpu *vcpu);
void dvext_hu_set_timer(uint64_t deadline);
uint64_t dvext_hu_guest_vsie(void);
void dvext_hu_reset_csrs(void);

/* dvext-sbi.c: the firmware interface and interrupts. */

enum dvext_sbi_result {
	DVEXT_SBI_DONE,                  /* answered in a0/a1, pc advanced */
	DVEXT_SBI_STOPPED,               /* HSM hart_stop: the hart waits */
	DVEXT_SBI_TO_VMM,                /* for riscv/sbi.c, as a hypercall */
};

enum dvext_sbi_result dvext_sbi_call(struct accel_vcpu *vcpu);
int dvext_set_irq(struct accel_vcpu *vcpu, uint32_t irq, bool level);
/* Raises VSTIP once the guest's deadline has passed. */
void dvext_timer_check(struct accel_vcpu *vcpu);
/* WFI: until an interrupt the guest enabled is pending, or a kick.
 * Returns false when kicked by the VMM. */
bool dvext_wait_for_interrupt(struct accel_vcpu *vcpu);
/* A stopped hart: until the guest starts it (true) or a kick (false). */
bool dvext_wait_until_started(struct accel_vcpu *vcpu);
/* Wakes a vCPU waiting outside the guest; kicks it out if inside. */
void dvext_wake(struct accel_vcpu *vcpu);
uint64_t dvext_read_time(void);

#endif
