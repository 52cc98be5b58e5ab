// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The dvext accelerator: the SBI extensions KVM implements in the kernel
 * (base, TIME, IPI, RFENCE, HSM), here in the VMM, with the guest timer,
 * interrupt injection and the waits of an idle or stopped hart.
 *
 * Every vCPU has a POSIX timer that signals its own thread at the guest's
 * deadline; the signal's handler sets the run page's immediate_exit, so a
 * deadline that passes just before DUVISOR_RUN is never lost.  Interrupts
 * reach a running guest through DUVISOR_SET_IRQ (the module kicks it) and a
 * waiting vCPU through its condition variable.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/dvext-internal.h"
#include "core/util.h"
#include "riscv/sbi.h"

#define SBI_SPEC_VERSION        (1u << 24)      /* 1.0 */
/* Not a registered SBI implementation id: a VMM of our own. */
#define SBI_IMPL_ID_DUVISOR     0x4456u         /* "DV" */

#define SBI_BASE_GET_SPEC_VERSION       0
#define SBI_BASE_GET_IMPL_ID            1
#define SBI_BASE_GET_IMPL_VERSION       2
#define SBI_BASE_PROBE_EXT              3
#define SBI_BASE_GET_MVENDORID          4
#define SBI_BASE_GET_MARCHID            5
#define SBI_BASE_GET_MIMPID             6

#define SBI_TIME_SET_TIMER              0
#define SBI_IPI_SEND_IPI                0
#define SBI_RFENCE_FENCE_I              0
#define SBI_RFENCE_SFENCE_VMA           1
#define SBI_RFENCE_SFENCE_VMA_ASID      2
#define SBI_HSM_HART_START              0
#define SBI_HSM_HART_STOP               1
#define SBI_HSM_HART_GET_STATUS         2

/* Registers by ABI name: a0 is x10. */
#define REG_A0 10
#define REG_A1 11
#define REG_A6 16
#define REG_A7 17

/* vsie bit of each injected interrupt: one below its hvip bit. */
#define VSIE_OF(virq) (1ull << ((virq) - 1))

uint64_t dvext_read_time(void)
{
	uint64_t t;

	__asm__ volatile("rdtime %0" : "=r"(t));
	return t;
}

int dvext_set_irq(struct accel_vcpu *vcpu, uint32_t irq, bool level)
{
	struct duvisor_irq req = { .irq = irq, .level = level };

	if (dvext_hu(vcpu)) {
		dvext_hu_set_irq_level(vcpu, irq, level);
		if (vcpu != dvext_current_vcpu())
			dvext_hu_kick(vcpu);
		return 0;
	}
	return ioctl(vcpu->fd, DUVISOR_SET_IRQ, &req) < 0 ? -errno : 0;
}

void dvext_wake(struct accel_vcpu *vcpu)
{
	pthread_cond_signal(&vcpu->cond);
}

static uint64_t ticks_to_ns(const struct accel_vcpu *vcpu, uint64_t ticks)
{
	const uint64_t hz = vcpu->vm->acc->timebase_hz;
	const uint64_t day_s = 86400;

	/* A day is as good as never: the guest reprograms long before. */
	if (ticks / hz >= day_s)
		return day_s * 1000000000u;
	/* In two parts: ticks * 10^9 overflows after 30 minutes at 10 MHz. */
	return ticks / hz * 1000000000u + ticks % hz * 1000000000u / hz;
}

static void raise_timer(struct accel_vcpu *vcpu)
{
	vcpu->timer_deadline = UINT64_MAX;
	if (vcpu->timer_raised)
		return;
	if (dvext_set_irq(vcpu, DUVISOR_VIRQ_VS_TIMER, true) == 0)
		vcpu->timer_raised = true;
}

void dvext_timer_check(struct accel_vcpu *vcpu)
{
	if (vcpu->timer_deadline != UINT64_MAX &&
	    dvext_read_time() >= vcpu->timer_deadline)
		raise_timer(vcpu);
}

/* SBI TIME set_timer: the next deadline replaces the last, and lowers
 * the interrupt it raised. */
static int64_t set_timer(struct accel_vcpu *vcpu, uint64_t deadline)
{
	struct itimerspec its = { 0 };
	uint64_t now = dvext_read_time(), ns;

	if (vcpu->timer_raised &&
	    dvext_set_irq(vcpu, DUVISOR_VIRQ_VS_TIMER, false) == 0)
		vcpu->timer_raised = false;
	vcpu->timer_deadline = deadline;
	if (deadline <= now) {
		raise_timer(vcpu);
		return SBI_SUCCESS;
	}
	if (deadline != UINT64_MAX) {
		ns = ticks_to_ns(vcpu, deadline - now);
		its.it_value.tv_sec = (time_t)(ns / 1000000000u);
		its.it_value.tv_nsec = (long)(ns % 1000000000u);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (dvext_hu(vcpu)) {
		dvext_hu_set_timer(deadline);
		return SBI_SUCCESS;
	}
	/* UINT64_MAX (never) disarms the timer. */
	if (vcpu->has_timer && timer_settime(vcpu->timer, 0, &its, NULL) < 0)
		return SBI_ERR_FAILED;
	return SBI_SUCCESS;
}

/* The guest's sie, through the module: which interrupts wake a WFI. */
static uint64_t guest_vsie(struct accel_vcpu *vcpu)
{
	struct duvisor_vcpu_csrs csrs;

	if (dvext_hu(vcpu))
		return dvext_hu_guest_vsie();
	if (ioctl(vcpu->fd, DUVISOR_GET_CSRS, &csrs) < 0)
		return ~0ull;
	return csrs.vsie;
}

static bool deadline_to_abstime(struct accel_vcpu *vcpu, struct timespec *ts)
{
	uint64_t now = dvext_read_time(), ns;

	if (vcpu->timer_deadline == UINT64_MAX)
		return false;
	ns = vcpu->timer_deadline > now ?
	     ticks_to_ns(vcpu, vcpu->timer_deadline - now) : 0;
	clock_gettime(CLOCK_MONOTONIC, ts);
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
	return true;
}

/*
 * WFI wakes on an interrupt that is pending and enabled in the guest's
 * sie (the architecture ignores sstatus.SIE here).  A raised timer that
 * the guest masked must not wake it, or an idle guest would spin.
 */
bool dvext_wait_for_interrupt(struct accel_vcpu *vcpu)
{
	struct timespec until;
	bool kicked = false;

	pthread_mutex_lock(&vcpu->lock);
	for (;;) {
		uint64_t pending = 0;
		int r = 0;

		if (vcpu->exit_requested) {
			kicked = true;
			break;
		}
		dvext_timer_check(vcpu);
		if (vcpu->timer_raised)
			pending |= VSIE_OF(DUVISOR_VIRQ_VS_TIMER);
		if (vcpu->ipi_pending)
			pending |= VSIE_OF(DUVISOR_VIRQ_VS_SOFT);
		if (vcpu->ext_level)
			pending |= VSIE_OF(DUVISOR_VIRQ_VS_EXT);
		if (pending && (pending & guest_vsie(vcpu))) {
			vcpu->ipi_pending = false;
			break;
		}
		if (deadline_to_abstime(vcpu, &until))
			r = pthread_cond_timedwait(&vcpu->cond, &vcpu->lock,
						   &until);
		else
			pthread_cond_wait(&vcpu->cond, &vcpu->lock);
		(void)r;
	}
	pthread_mutex_unlock(&vcpu->lock);
	return !kicked;
}

bool dvext_wait_until_started(struct accel_vcpu *vcpu)
{
	struct duvisor_vcpu_csrs csrs = { 0 };
	struct duvisor_run *run = vcpu->run;
	bool started = true;

	pthread_mutex_lock(&vcpu->lock);
	while (!vcpu->exit_requested &&
	       vcpu->hart_state == DVEXT_HART_STOPPED)
		pthread_cond_wait(&vcpu->cond, &vcpu->lock);
	if (vcpu->hart_state == DVEXT_HART_START_PENDING) {
		/* The SBI HSM entry state: a0 hart id, a1 opaque, satp 0,
		 * interrupts off. */
		memset(run->regs, 0, sizeof(run->regs));
		run->regs[REG_A0] = vcpu->index;
		run->regs[REG_A1] = vcpu->start_opaque;
		run->pc = vcpu->start_pc;
		if (dvext_hu(vcpu))
			dvext_hu_reset_csrs();
		else
			started = ioctl(vcpu->fd, DUVISOR_SET_CSRS, &csrs) == 0;
		vcpu->hart_state = started ? DVEXT_HART_STARTED :
				   DVEXT_HART_STOPPED;
	}
	started = started && vcpu->hart_state == DVEXT_HART_STARTED;
	pthread_mutex_unlock(&vcpu->lock);
	return started;
}

/* The harts of an SBI hart mask (a0 mask, a1 base; base -1: all). */
static int64_t for_each_hart(struct accel_vcpu *vcpu, uint64_t mask,
			     uint64_t base,
			     void (*fn)(struct accel_vcpu *from,
					struct accel_vcpu *to))
{
	struct accel_vm *vm = vcpu->vm;

	if (base == UINT64_MAX) {
		for (uint32_t i = 0; i < vm->nvcpus; i++)
			fn(vcpu, vm->vcpus[i]);
		return SBI_SUCCESS;
	}
	for (uint32_t bit = 0; bit < 64; bit++) {
		if (!(mask & (1ull << bit)))
			continue;
		if (base >= vm->nvcpus || bit >= vm->nvcpus - base)
			return SBI_ERR_INVALID_PARAM;
	}
	for (uint32_t bit = 0; bit < 64; bit++)
		if (mask & (1ull << bit))
			fn(vcpu, vm->vcpus[base + bit]);
	return SBI_SUCCESS;
}

static void send_ipi(struct accel_vcpu *from, struct accel_vcpu *to)
{
	(void)from;
	pthread_mutex_lock(&to->lock);
	to->ipi_pending = true;
	dvext_set_irq(to, DUVISOR_VIRQ_VS_SOFT, true);
	dvext_wake(to);
	pthread_mutex_unlock(&to->lock);
}

/*
 * A remote fence without the module's DUVISOR_REMOTE_FENCE (DV-Ext mode,
 * or an older module): the target only leaves the guest (the module
 * kicks it on any SET_IRQ; setting VSEIP to its current level changes
 * nothing for the guest).  That fences on QEMU TCG, which flushes its TLB
 * at every world switch, not on hardware.
 */
static void kick_for_fence(struct accel_vcpu *from, struct accel_vcpu *to)
{
	if (to == from)
		return;
	pthread_mutex_lock(&to->lock);
	dvext_set_irq(to, DUVISOR_VIRQ_VS_EXT, to->ext_level);
	pthread_mutex_unlock(&to->lock);
}

static int64_t hart_start(struct accel_vcpu *vcpu, const __u64 *a)
{
	struct accel_vcpu *target;
	int64_t err = SBI_SUCCESS;

	if (a[0] >= vcpu->vm->nvcpus)
		return SBI_ERR_INVALID_PARAM;
	target = vcpu->vm->vcpus[a[0]];
	pthread_mutex_lock(&target->lock);
	if (target->hart_state != DVEXT_HART_STOPPED) {
		err = SBI_ERR_ALREADY_AVAILABLE;
	} else {
		target->start_pc = a[1];
		target->start_opaque = a[2];
		target->hart_state = DVEXT_HART_START_PENDING;
		dvext_wake(target);
	}
	pthread_mutex_unlock(&target->lock);
	return err;
}

static bool hart_status(struct accel_vcpu *vcpu, uint64_t hart,
			uint64_t *state)
{
	struct accel_vcpu *target;

	if (hart >= vcpu->vm->nvcpus)
		return false;
	target = vcpu->vm->vcpus[hart];
	pthread_mutex_lock(&target->lock);
	*state = target->hart_state;
	pthread_mutex_unlock(&target->lock);
	return true;
}

static bool implements(uint64_t ext)
{
	return ext == SBI_EXT_BASE || ext == SBI_EXT_TIME ||
	       ext == SBI_EXT_IPI || ext == SBI_EXT_RFENCE ||
	       ext == SBI_EXT_HSM || riscv_sbi_implements(ext);
}

static int64_t base_call(uint64_t fn, uint64_t arg, uint64_t *value)
{
	switch (fn) {
	case SBI_BASE_GET_SPEC_VERSION:
		*value = SBI_SPEC_VERSION;
		return SBI_SUCCESS;
	case SBI_BASE_GET_IMPL_ID:
		*value = SBI_IMPL_ID_DUVISOR;
		return SBI_SUCCESS;
	case SBI_BASE_PROBE_EXT:
		*value = implements(arg);
		return SBI_SUCCESS;
	case SBI_BASE_GET_IMPL_VERSION:
	case SBI_BASE_GET_MVENDORID:
	case SBI_BASE_GET_MARCHID:
	case SBI_BASE_GET_MIMPID:
		*value = 0;
		return SBI_SUCCESS;
	default:
		return SBI_ERR_NOT_SUPPORTED;
	}
}

/*
 * SBI RFENCE (a0 hart mask, a1 base, a2 start, a3 size, a4 ASID): the
 * module runs the fences on each target before its next entry and
 * returns once none is in the guest without them.  Hart ids are vCPU ids.
 */
static int64_t rfence_call(struct accel_vcpu *vcpu, uint64_t fn,
			   const __u64 *a)
{
	struct duvisor_fence f = { .vcpu_mask = a[0], .vcpu_base = a[1] };

	switch (fn) {
	case SBI_RFENCE_FENCE_I:
		f.kind = DUVISOR_FENCE_I;
		break;
	case SBI_RFENCE_SFENCE_VMA_ASID:
		f.asid = a[4];
		/* fall through */
	case SBI_RFENCE_SFENCE_VMA:
		f.kind = fn == SBI_RFENCE_SFENCE_VMA ? DUVISOR_FENCE_VVMA :
			 DUVISOR_FENCE_VVMA_ASID;
		f.start = a[2];
		f.size = a[3];
		if (f.size != UINT64_MAX && f.start + f.size < f.start)
			return SBI_ERR_INVALID_ADDRESS;
		break;
	default:
		return SBI_ERR_NOT_SUPPORTED;
	}
	if (!(vcpu->vm->acc->info.features & DUVISOR_FEATURE_REMOTE_FENCE))
		return for_each_hart(vcpu, a[0], a[1], kick_for_fence);
	if (ioctl(vcpu->vm->fd, DUVISOR_REMOTE_FENCE, &f) == 0)
		return SBI_SUCCESS;
	/* Hart ids (checked by the module against its vCPUs) or the ASID. */
	return errno == EINVAL ? SBI_ERR_INVALID_PARAM : SBI_ERR_FAILED;
}

enum dvext_sbi_result dvext_sbi_call(struct accel_vcpu *vcpu)
{
	struct duvisor_run *run = vcpu->run;
	const __u64 *a = &run->regs[REG_A0];
	uint64_t ext = run->regs[REG_A7], fn = run->regs[REG_A6];
	uint64_t value = 0;
	int64_t err;

	switch (ext) {
	case SBI_EXT_BASE:
		err = base_call(fn, a[0], &value);
		break;
	case SBI_EXT_TIME:
		err = fn == SBI_TIME_SET_TIMER ? set_timer(vcpu, a[0]) :
		      SBI_ERR_NOT_SUPPORTED;
		break;
	case SBI_EXT_IPI:
		err = fn == SBI_IPI_SEND_IPI ?
		      for_each_hart(vcpu, a[0], a[1], send_ipi) :
		      SBI_ERR_NOT_SUPPORTED;
		break;
	case SBI_EXT_RFENCE:
		err = rfence_call(vcpu, fn, a);
		break;
	case SBI_EXT_HSM:
		if (fn == SBI_HSM_HART_STOP) {
			pthread_mutex_lock(&vcpu->lock);
			vcpu->hart_state = DVEXT_HART_STOPPED;
			pthread_mutex_unlock(&vcpu->lock);
			return DVEXT_SBI_STOPPED;
		}
		if (fn == SBI_HSM_HART_START)
			err = hart_start(vcpu, a);
		else if (fn == SBI_HSM_HART_GET_STATUS)
			err = hart_status(vcpu, a[0], &value) ? SBI_SUCCESS :
			      SBI_ERR_INVALID_PARAM;
		else
			err = SBI_ERR_NOT_SUPPORTED;
		break;
	default:
		return DVEXT_SBI_TO_VMM;
	}
	run->regs[REG_A0] = (uint64_t)err;
	run->regs[REG_A1] = value;
	run->pc += 4;
	return DVEXT_SBI_DONE;
}
