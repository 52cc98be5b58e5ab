// SPDX-License-Identifier: GPL-2.0-or-later
/* The vCPU loop: every guest exit of every vCPU is handled here. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "core/vmm.h"

/* Under --verbose, the first accesses nobody claims are named: they are
 * either a missing device or exits worth absorbing. */
#define UNCLAIMED_REPORTS 32

static void count_bus(uint64_t *by_range, int index, const char *bus,
		      uint64_t addr, bool write)
{
	by_range[index >= 0 ? index : BUS_MAX_RANGES]++;
	if (index < 0 && by_range[BUS_MAX_RANGES] <= UNCLAIMED_REPORTS)
		vmm_debug("unclaimed %s %s at %#llx", bus,
			  write ? "write" : "read", (unsigned long long)addr);
}

static void handle_io(struct vcpu *vcpu, const struct accel_exit *exit)
{
	const struct bus *pio = &vcpu->vm->pio;
	uint8_t *data = exit->io.data;
	int index = -1;

	for (uint32_t i = 0; i < exit->io.count; i++, data += exit->io.size) {
		if (exit->io.write)
			index = bus_write(pio, exit->io.port, data, exit->io.size);
		else
			index = bus_read(pio, exit->io.port, data, exit->io.size);
	}
	count_bus(vcpu->stats.pio, index, "port", exit->io.port, exit->io.write);
}

static void handle_mmio(struct vcpu *vcpu, const struct accel_exit *exit)
{
	const struct bus *mmio = &vcpu->vm->mmio;
	int index;

	if (exit->mmio.write)
		index = bus_write(mmio, exit->mmio.addr, exit->mmio.data,
				  exit->mmio.len);
	else
		index = bus_read(mmio, exit->mmio.addr, exit->mmio.data,
				 exit->mmio.len);
	count_bus(vcpu->stats.mmio, index, "mmio", exit->mmio.addr,
		  exit->mmio.write);
}

/* The state an exit the accelerator could not handle left, for the log. */
static void report_state(struct vcpu *vcpu)
{
	const struct accel_ops *ops = vcpu->vm->vmm->ops;
	char state[384];

	if (ops->vcpu_describe &&
	    ops->vcpu_describe(vcpu->acc, state, sizeof(state)) == 0)
		vmm_info("vCPU %u: %s", vcpu->index, state);
}

/* Returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *vcpu, const struct accel_exit *exit)
{
	struct vm *vm = vcpu->vm;

	switch (exit->kind) {
	case ACCEL_EXIT_IO:
		handle_io(vcpu, exit);
		return true;
	case ACCEL_EXIT_MMIO:
		handle_mmio(vcpu, exit);
		return true;
	case ACCEL_EXIT_INTERRUPTED:
	case ACCEL_EXIT_HLT:
		return true;
	case ACCEL_EXIT_SHUTDOWN:
		/* No register dump: kvm-amd has already reset the vCPU. */
		vmm_info("vCPU %u: triple fault, machine shut down", vcpu->index);
		vm_request_stop(vm, VM_STOP_TRIPLE_FAULT);
		return false;
	case ACCEL_EXIT_SYSTEM_RESET:
		vm_request_stop(vm, VM_STOP_RESET);
		return false;
	case ACCEL_EXIT_SYSTEM_OFF:
		vm_request_stop(vm, VM_STOP_POWEROFF);
		return false;
	case ACCEL_EXIT_SYSTEM_CRASH:
		vm_request_stop(vm, VM_STOP_CRASH);
		return false;
	case ACCEL_EXIT_ERROR:
		vmm_error("vCPU %u: the accelerator cannot run the guest "
			  "(exit reason %u, suberror %u, data %#llx)",
			  vcpu->index, exit->raw_reason, exit->error.suberror,
			  (unsigned long long)exit->error.data0);
		report_state(vcpu);
		vm_request_stop(vm, VM_STOP_ERROR);
		return false;
	case ACCEL_EXIT_HYPERCALL:
		return arch_vcpu_exit(vcpu, exit);
	default:
		vmm_error("vCPU %u: unexpected exit reason %u", vcpu->index,
			  exit->raw_reason);
		vm_request_stop(vm, VM_STOP_ERROR);
		return false;
	}
}

/* Waits outside the guest while the VM is paused, unless it stops. */
static void park_while_paused(struct vcpu *vcpu)
{
	struct vcpu_pause *p = &vcpu->vm->vmm->pause;

	if (!__atomic_load_n(&p->paused, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&p->lock);
	if (p->paused && vm_stop_reason(vcpu->vm) == VM_STOP_NONE) {
		p->parked++;
		pthread_cond_broadcast(&p->cond);
		while (p->paused && vm_stop_reason(vcpu->vm) == VM_STOP_NONE)
			pthread_cond_wait(&p->cond, &p->lock);
		p->parked--;
	}
	pthread_mutex_unlock(&p->lock);
}

static void leave_run_loop(struct vcpu *vcpu)
{
	struct vcpu_pause *p = &vcpu->vm->vmm->pause;

	pthread_mutex_lock(&p->lock);
	p->active--;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	const struct accel_ops *ops = vm->vmm->ops;
	struct accel_exit exit;
	sigset_t kick;

	/* Managers read the thread's CPU time in /proc/PID/task/TID. */
	__atomic_store_n(&vcpu->tid, (int32_t)gettid(), __ATOMIC_RELAXED);
	sigemptyset(&kick);
	sigaddset(&kick, ACCEL_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	if (ops->vcpu_thread_init && ops->vcpu_thread_init(vcpu->acc) < 0) {
		vmm_error("vCPU %u: cannot bind its thread", vcpu->index);
		vm_request_stop(vm, VM_STOP_ERROR);
	}
	/* Guest code may own this thread from here on: confine it first. */
	if (sandbox_enter_vcpu_thread() < 0) {
		vmm_error("vCPU %u: cannot install its seccomp filter",
			  vcpu->index);
		vm_request_stop(vm, VM_STOP_ERROR);
	}

	for (;;) {
		int r;

		park_while_paused(vcpu);
		if (vm_stop_reason(vm) != VM_STOP_NONE)
			break;
		r = ops->vcpu_run(vcpu->acc, &exit);

		if (r < 0) {
			vmm_error("vCPU %u: run failed: %s", vcpu->index,
				  strerror(-r));
			vm_request_stop(vm, VM_STOP_ERROR);
			break;
		}
		vcpu->stats.exits[exit.kind]++;
		if (!handle_exit(vcpu, &exit))
			break;
	}
	leave_run_loop(vcpu);
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpus_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	int r;

	/* No SA_RESTART: the point is to interrupt KVM_RUN. */
	sigemptyset(&sa.sa_mask);
	sigaction(ACCEL_KICK_SIGNAL, &sa, NULL);
	for (uint32_t i = 0; i < vm->ncpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		pthread_mutex_lock(&vm->vmm->pause.lock);
		vm->vmm->pause.active++;
		pthread_mutex_unlock(&vm->vmm->pause.lock);
		r = vmm_thread_create(&vcpu->thread, vcpu_thread, vcpu);
		if (r) {
			leave_run_loop(vcpu);
			vmm_error("cannot start vCPU %u: %s", i, strerror(r));
			vm_request_stop(vm, VM_STOP_ERROR);
			return -r;
		}
		vcpu->running = true;
	}
	return 0;
}

static void kick_all(struct vm *vm)
{
	const struct accel_ops *ops = vm->vmm->ops;

	for (uint32_t i = 0; i < vm->ncpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		if (!vcpu->running)
			continue;
		ops->vcpu_request_exit(vcpu->acc);
		pthread_kill(vcpu->thread, ACCEL_KICK_SIGNAL);
	}
}

void vcpus_pause(struct vmm *vmm)
{
	struct vcpu_pause *p = &vmm->pause;

	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->paused, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->lock);
	if (!vmm->vm)
		return;
	kick_all(vmm->vm);
	/* Device work a vCPU is in the middle of is short: wait for it. */
	pthread_mutex_lock(&p->lock);
	while (p->parked < p->active &&
	       vm_stop_reason(vmm->vm) == VM_STOP_NONE)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void vcpus_resume(struct vmm *vmm)
{
	struct vcpu_pause *p = &vmm->pause;

	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->paused, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void vcpus_stop(struct vm *vm)
{
	struct vcpu_pause *p = &vm->vmm->pause;

	kick_all(vm);
	/* Parked vCPUs see the stop reason once woken. */
	pthread_mutex_lock(&p->lock);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (uint32_t i = 0; i < vm->ncpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		if (!vcpu->running)
			continue;
		pthread_join(vcpu->thread, NULL);
		vcpu->running = false;
	}
}
