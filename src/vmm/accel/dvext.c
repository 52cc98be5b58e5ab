// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The dvext accelerator: RISC-V guests on the DV-Ext control plane
 * (/dev/duvisor, kmod/).  The machine model (device tree, boot, PLIC,
 * UART, virtio) is the KVM flavour's; only entering the guest and the
 * exits differ.  In trap mode DUVISOR_RUN enters the guest and returns at
 * every exit with the trap on the run page: VS ecalls (SBI), guest-page
 * faults (MMIO: the module has mapped all of RAM, so nothing else faults),
 * virtual instructions (WFI).  What the VMM must see leaves vcpu_run as an
 * ACCEL_EXIT_MMIO or _HYPERCALL and is completed at the next vcpu_run.
 * On a DV-Ext CPU the module refuses RUN: dvext-hu.c enters the guest
 * with HURET and fills the run page the same way (build-checked only).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel/dvext-internal.h"
#include "core/util.h"
#include "riscv/sbi.h"

#define DUVISOR_DEVICE_PATH "/dev/duvisor"
/* The host's device tree: the time CSR's frequency, for the guest's. */
#define TIMEBASE_PATH "/proc/device-tree/cpus/timebase-frequency"
#define DEFAULT_TIMEBASE_HZ 10000000u   /* QEMU virt, if none is found */

/* Signals a vCPU thread at its guest's timer deadline. */
#define DVEXT_TIMER_SIGNAL SIGUSR2

#define INSN_WFI        0x10500073u
#define INSN_CSR_MASK   0x0000707fu     /* SYSTEM opcode, funct3 */

#define EXITS_DELEGATED ((1ull << DUVISOR_EXC_VS_ECALL) | \
			 (1ull << DUVISOR_EXC_INST_GUEST_PF) | \
			 (1ull << DUVISOR_EXC_LOAD_GUEST_PF) | \
			 (1ull << DUVISOR_EXC_VIRTUAL_INST) | \
			 (1ull << DUVISOR_EXC_STORE_GUEST_PF))

/* The thread's vCPU, for the timer signal's handler. */
static __thread struct accel_vcpu *thread_vcpu;

struct accel_vcpu *dvext_current_vcpu(void)
{
	return thread_vcpu;
}

static void on_timer_signal(int sig)
{
	(void)sig;
	if (thread_vcpu)
		__atomic_store_n(&thread_vcpu->run->immediate_exit, 1,
				 __ATOMIC_SEQ_CST);
}

static uint64_t host_timebase_hz(void)
{
	uint8_t be[4];
	uint32_t hz = 0;
	int fd = open(TIMEBASE_PATH, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, be, sizeof(be)) == (ssize_t)sizeof(be))
			hz = (uint32_t)be[0] << 24 | (uint32_t)be[1] << 16 |
			     (uint32_t)be[2] << 8 | be[3];
		close(fd);
	}
	if (!hz) {
		vmm_warn("no timebase in %s: assuming %u Hz", TIMEBASE_PATH,
			 DEFAULT_TIMEBASE_HZ);
		hz = DEFAULT_TIMEBASE_HZ;
	}
	return hz;
}

static int dvext_open(int fd, struct accel **out)
{
	struct sigaction sa = { .sa_handler = on_timer_signal };
	struct accel *acc;
	int version, r;

	if (fd < 0)
		fd = open(DUVISOR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		vmm_error("cannot open %s: %s (is duvisor.ko loaded?)",
			  DUVISOR_DEVICE_PATH, strerror(errno));
		return r;
	}
	acc = calloc(1, sizeof(*acc));
	if (!acc) {
		close(fd);
		return -ENOMEM;
	}
	acc->fd = fd;
	version = ioctl(fd, DUVISOR_GET_API_VERSION, 0);
	if (version != DUVISOR_API_VERSION ||
	    ioctl(fd, DUVISOR_GET_INFO, &acc->info) < 0) {
		vmm_error("%s: API version %d, need %d", DUVISOR_DEVICE_PATH,
			  version, DUVISOR_API_VERSION);
		r = -ENOTSUP;
		goto fail;
	}
	if (acc->info.mode == DUVISOR_MODE_DVEXT)
		vmm_warn("%s is in DV-Ext mode: entering guests with HURET, "
			 "a path never run on a real CPU (docs/dvext-kmod.md)",
			 DUVISOR_DEVICE_PATH);
	else if (acc->info.mode != DUVISOR_MODE_TRAP) {
		vmm_error("%s: unknown mode %u", DUVISOR_DEVICE_PATH,
			  acc->info.mode);
		r = -ENOTSUP;
		goto fail;
	}
	if ((acc->info.edeleg_allowed & EXITS_DELEGATED) != EXITS_DELEGATED) {
		vmm_error("%s does not forward the exits we handle",
			  DUVISOR_DEVICE_PATH);
		r = -ENOTSUP;
		goto fail;
	}
	acc->timebase_hz = host_timebase_hz();
	/* No SA_RESTART: the signal is there to end DUVISOR_RUN. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(DVEXT_TIMER_SIGNAL, &sa, NULL) < 0) {
		r = -errno;
		goto fail;
	}
	vmm_debug("%s: mode %u, VMIDs %u-%u, up to %u vCPUs, %llu MiB, "
		  "timebase %llu Hz", DUVISOR_DEVICE_PATH, acc->info.mode,
		  acc->info.vmid_first,
		  acc->info.vmid_last, acc->info.max_vcpus,
		  acc->info.max_guest_bytes >> 20,
		  (unsigned long long)acc->timebase_hz);
	*out = acc;
	return 0;
fail:
	close(fd);
	free(acc);
	return r;
}

static void dvext_close(struct accel *acc)
{
	if (!acc)
		return;
	close(acc->fd);
	free(acc);
}

static uint32_t dvext_max_vcpus(struct accel *acc)
{
	return MIN(acc->info.max_vcpus, RISCV_MAX_VCPUS);
}

static int dvext_vm_create(struct accel *acc, struct accel_vm **out)
{
	const struct duvisor_deleg deleg = { .edeleg = EXITS_DELEGATED };
	struct accel_vm *vm;
	int fd, r;

	fd = ioctl(acc->fd, DUVISOR_CREATE_VM, 0);
	if (fd < 0) {
		r = -errno;
		vmm_error("DUVISOR_CREATE_VM: %s", strerror(errno));
		return r;
	}
	if (ioctl(fd, DUVISOR_REQUEST_DELEG, &deleg) < 0) {
		r = -errno;
		vmm_error("DUVISOR_REQUEST_DELEG: %s", strerror(errno));
		close(fd);
		return r;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		close(fd);
		return -ENOMEM;
	}
	vm->acc = acc;
	vm->fd = fd;
	*out = vm;
	return 0;
}

static void dvext_vm_destroy(struct accel_vm *vm)
{
	if (!vm)
		return;
	close(vm->fd);
	free(vm);
}

static int dvext_vm_add_memory(struct accel_vm *vm, uint32_t slot,
			       uint64_t gpa, uint64_t size, void *hva)
{
	struct duvisor_memory_region region = {
		.guest_phys_addr = gpa,
		.size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	(void)slot;
	if (ioctl(vm->fd, DUVISOR_SET_MEMORY_REGION, &region) < 0) {
		int r = -errno;

		vmm_error("DUVISOR_SET_MEMORY_REGION (%llu MiB): %s%s",
			  (unsigned long long)(size >> 20), strerror(errno), r == -ENOMEM ?
			  " (RLIMIT_MEMLOCK?)" : r == -E2BIG ?
			  " (the module's max_guest_mb)" : "");
		return r;
	}
	return 0;
}

/* riscv: the PLIC is the machine's (arch_vm_set_irq), not ours. */
static int dvext_vm_set_irq(struct accel_vm *vm, uint32_t gsi, bool level)
{
	(void)vm, (void)gsi, (void)level;
	return -ENOSYS;
}

static int dvext_vm_add_irqfd(struct accel_vm *vm, uint32_t gsi, int efd)
{
	(void)vm, (void)gsi, (void)efd;
	return -ENOSYS;
}

static int add_ioeventfd(struct accel_vm *vm, const struct dvext_ioeventfd *e)
{
	if (vm->nioeventfds == DVEXT_MAX_IOEVENTFDS)
		return -ENOSPC;
	vm->ioeventfds[vm->nioeventfds++] = *e;
	return 0;
}

static int dvext_vm_add_ioeventfd(struct accel_vm *vm, uint64_t addr,
				  uint32_t len, bool pio, int efd)
{
	const struct dvext_ioeventfd e = { .addr = addr, .len = len, .efd = efd };

	return pio ? -ENOTSUP : add_ioeventfd(vm, &e);
}

static int dvext_vm_add_ioeventfd_match(struct accel_vm *vm, uint64_t addr,
					uint32_t len, uint64_t data, int efd)
{
	const struct dvext_ioeventfd e = {
		.addr = addr, .len = len, .match = true, .data = data, .efd = efd,
	};

	return add_ioeventfd(vm, &e);
}

/* A write an eventfd absorbs (a virtqueue notification), as KVM would. */
static bool absorb_write(struct accel_vm *vm, uint64_t addr, uint32_t len,
			 uint64_t value)
{
	for (size_t i = 0; i < vm->nioeventfds; i++) {
		const struct dvext_ioeventfd *e = &vm->ioeventfds[i];

		if (e->addr == addr && e->len == len &&
		    (!e->match || e->data == value)) {
			eventfd_write(e->efd, 1);
			return true;
		}
	}
	return false;
}

static int dvext_vcpu_create(struct accel_vm *vm, uint32_t index,
			     struct accel_vcpu **out)
{
	struct accel_vcpu *vcpu;
	pthread_condattr_t attr;
	void *run;
	int fd, r;

	if (index >= RISCV_MAX_VCPUS)
		return -EINVAL;
	fd = ioctl(vm->fd, DUVISOR_CREATE_VCPU, (unsigned long)index);
	if (fd < 0) {
		r = -errno;
		vmm_error("DUVISOR_CREATE_VCPU %u: %s", index, strerror(errno));
		return r;
	}
	run = mmap(NULL, DUVISOR_RUN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (run == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu) {
		munmap(run, DUVISOR_RUN_SIZE);
		close(fd);
		return -ENOMEM;
	}
	vcpu->vm = vm;
	vcpu->fd = fd;
	vcpu->index = index;
	vcpu->run = run;
	/* Every hart waits until the boot state or HSM starts it. */
	vcpu->hart_state = DVEXT_HART_STOPPED;
	vcpu->timer_deadline = UINT64_MAX;
	pthread_mutex_init(&vcpu->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&vcpu->cond, &attr);
	pthread_condattr_destroy(&attr);
	vm->vcpus[index] = vcpu;
	if (index >= vm->nvcpus)
		vm->nvcpus = index + 1;
	*out = vcpu;
	return 0;
}

static void dvext_vcpu_destroy(struct accel_vcpu *vcpu)
{
	if (!vcpu)
		return;
	if (vcpu->has_timer)
		timer_delete(vcpu->timer);
	vcpu->vm->vcpus[vcpu->index] = NULL;
	munmap(vcpu->run, DUVISOR_RUN_SIZE);
	/* The module unbinds the thread, which has ended by now. */
	close(vcpu->fd);
	pthread_cond_destroy(&vcpu->cond);
	pthread_mutex_destroy(&vcpu->lock);
	free(vcpu);
}

/* On the vCPU's thread: the module binds it, its timer signals it. */
static int dvext_vcpu_thread_init(struct accel_vcpu *vcpu)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = DVEXT_TIMER_SIGNAL,
	};
	sigset_t set;

	if (ioctl(vcpu->fd, DUVISOR_REGISTER_VCPU, 0) < 0) {
		vmm_error("DUVISOR_REGISTER_VCPU %u: %s", vcpu->index,
			  strerror(errno));
		return -errno;
	}
	vcpu->thread_bound = true;
	thread_vcpu = vcpu;
	/* glibc 2.36 spells sigev_notify_thread_id so. */
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &vcpu->timer) < 0) {
		vmm_error("vCPU %u: timer_create: %s", vcpu->index,
			  strerror(errno));
		return -errno;
	}
	vcpu->has_timer = true;
	sigemptyset(&set);
	sigaddset(&set, DVEXT_TIMER_SIGNAL);
	return pthread_sigmask(SIG_UNBLOCK, &set, NULL) ? -EINVAL : 0;
}

static void dvext_vcpu_request_exit(struct accel_vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	vcpu->exit_requested = true;
	dvext_wake(vcpu);
	pthread_mutex_unlock(&vcpu->lock);
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

/* The VMM's answer to the last exit, into the guest's registers. */
static void complete_pending(struct accel_vcpu *vcpu)
{
	struct duvisor_run *run = vcpu->run;

	switch (vcpu->pending) {
	case DVEXT_PENDING_MMIO:
		if (!vcpu->mmio.write && vcpu->mmio.reg)
			run->regs[vcpu->mmio.reg] =
				riscv_mmio_load_value(&vcpu->mmio,
						      vcpu->mmio_data);
		run->pc += vcpu->mmio.insn_len;
		break;
	case DVEXT_PENDING_SBI:
		run->regs[10] = vcpu->sbi_ret[0];
		run->regs[11] = vcpu->sbi_ret[1];
		run->pc += 4;
		break;
	case DVEXT_PENDING_NONE:
		break;
	}
	vcpu->pending = DVEXT_PENDING_NONE;
}

static void error_exit(struct accel_exit *exit, const struct duvisor_trap *t)
{
	exit->kind = ACCEL_EXIT_ERROR;
	exit->raw_reason = (uint32_t)t->scause;
	exit->error.data0 = t->gpa ? t->gpa : t->stval;
}

/* An exit neither we nor the guest can handle: the VM stops. */
static int cannot_take(struct accel_vcpu *vcpu, struct accel_exit *exit)
{
	const struct duvisor_trap *t = &vcpu->run->trap;

	vmm_error("vCPU %u: exception %#llx at %#llx (tval %#llx) that the guest cannot take",
		  vcpu->index, t->scause, t->sepc, t->stval);
	error_exit(exit, t);
	return 1;
}

/*
 * What the VMM does not emulate, the guest gets as the hart would raise
 * it (an illegal instruction, an access fault), in its own trap handler:
 * a real CPU does not stop the machine for it either.  Returns 0 to
 * re-enter the guest, 1 when exit is filled for the VMM (a module
 * without DUVISOR_INJECT_EXCEPTION, or DV-Ext mode: the VM stops).
 */
static int guest_exception(struct accel_vcpu *vcpu, struct accel_exit *exit,
			   uint64_t cause, uint64_t tval)
{
	const struct duvisor_trap *t = &vcpu->run->trap;
	struct duvisor_exception e = { .cause = cause, .tval = tval };

	if (!(vcpu->vm->acc->info.features & DUVISOR_FEATURE_INJECT_EXC) ||
	    ioctl(vcpu->fd, DUVISOR_INJECT_EXCEPTION, &e) < 0)
		return cannot_take(vcpu, exit);
	vmm_debug("vCPU %u: exception %#llx at %#llx (tval %#llx) raised as %llu in the guest",
		  vcpu->index, t->scause, t->sepc, t->stval,
		  (unsigned long long)cause);
	return 0;
}

/* A load or store on an address outside RAM: decode it for the bus.
 * Returns 0 if absorbed, 1 if exit is filled for the VMM. */
static int mmio_exit(struct accel_vcpu *vcpu, struct accel_exit *exit)
{
	const struct duvisor_trap *t = &vcpu->run->trap;
	struct riscv_mmio_access *a = &vcpu->mmio;
	uint64_t value;

	/* An FP or atomic access to a device: no bus takes it. */
	if (!riscv_decode_mmio(t->insn, a) ||
	    a->write != (t->scause == DUVISOR_EXC_STORE_GUEST_PF))
		return guest_exception(vcpu, exit,
				       t->scause == DUVISOR_EXC_STORE_GUEST_PF ?
				       RISCV_EXC_STORE_ACCESS :
				       RISCV_EXC_LOAD_ACCESS, t->stval);
	if (a->write) {
		value = vcpu->run->regs[a->reg];
		for (uint32_t i = 0; i < a->len; i++)
			vcpu->mmio_data[i] = (uint8_t)(value >> (8 * i));
		if (absorb_write(vcpu->vm, t->gpa, a->len, value)) {
			vcpu->run->pc += a->insn_len;
			return 0;
		}
	} else {
		memset(vcpu->mmio_data, 0, sizeof(vcpu->mmio_data));
	}
	vcpu->pending = DVEXT_PENDING_MMIO;
	exit->kind = ACCEL_EXIT_MMIO;
	exit->mmio.addr = t->gpa;
	exit->mmio.len = a->len;
	exit->mmio.write = a->write;
	exit->mmio.data = vcpu->mmio_data;
	return 1;
}

static void sbi_exit(struct accel_vcpu *vcpu, struct accel_exit *exit)
{
	const __u64 *regs = vcpu->run->regs;

	exit->kind = ACCEL_EXIT_HYPERCALL;
	exit->hypercall.ext = regs[17];
	exit->hypercall.fn = regs[16];
	for (size_t i = 0; i < 6; i++)
		exit->hypercall.args[i] = regs[10 + i];
	/* What riscv/sbi.c does not answer fails cleanly. */
	vcpu->sbi_ret[0] = (uint64_t)(int64_t)SBI_ERR_NOT_SUPPORTED;
	vcpu->sbi_ret[1] = 0;
	exit->hypercall.ret = vcpu->sbi_ret;
	vcpu->pending = DVEXT_PENDING_SBI;
}

/* Kicked by the VMM (pause, stop) while waiting outside the guest. */
static int interrupted(struct accel_exit *exit)
{
	exit->kind = ACCEL_EXIT_INTERRUPTED;
	return 1;
}

/*
 * A virtual-instruction exit: WFI (hstatus.VTW) waits for an interrupt;
 * reads of the cycle and instret counters (hcounteren has only time)
 * return time.  Anything else (a hypervisor CSR, an H instruction) is an
 * illegal instruction for the guest, as on a CPU without them.
 */
static int virtual_instruction(struct accel_vcpu *vcpu, struct accel_exit *exit)
{
	const struct duvisor_trap *t = &vcpu->run->trap;
	uint32_t insn = (uint32_t)t->stval, csr = insn >> 20, rd;

	if (insn == INSN_WFI) {
		vcpu->run->pc += 4;
		return dvext_wait_for_interrupt(vcpu) ? 0 : interrupted(exit);
	}
	/* csrrs rd, cycle/instret, x0: a read. */
	if ((insn & INSN_CSR_MASK) == 0x2073 && ((insn >> 15) & 31) == 0 &&
	    (csr == 0xc00 || csr == 0xc02)) {
		rd = (insn >> 7) & 31;
		if (rd)
			vcpu->run->regs[rd] = dvext_read_time();
		vcpu->run->pc += 4;
		return 0;
	}
	return guest_exception(vcpu, exit, RISCV_EXC_ILLEGAL_INSN, insn);
}

/*
 * One forwarded exit.  Returns 0 to re-enter the guest, 1 when exit is
 * filled for the VMM.
 */
static int handle_trap(struct accel_vcpu *vcpu, struct accel_exit *exit)
{
	const struct duvisor_trap *t = &vcpu->run->trap;

	/* Not delegated to the guest (an illegal instruction, a misaligned
	 * access): it takes it all the same, with the hart's cause. */
	if (vcpu->run->exit_reason != DUVISOR_EXIT_TRAP)
		return t->scause < 64 &&
		       ((1ull << t->scause) & DUVISOR_EXC_INJECTABLE) ?
		       guest_exception(vcpu, exit, t->scause, t->stval) :
		       cannot_take(vcpu, exit);
	switch (t->scause) {
	case DUVISOR_EXC_VS_ECALL:
		switch (dvext_sbi_call(vcpu)) {
		case DVEXT_SBI_DONE:
			return 0;
		case DVEXT_SBI_STOPPED:
			return dvext_wait_until_started(vcpu) ? 0 :
			       interrupted(exit);
		case DVEXT_SBI_TO_VMM:
			sbi_exit(vcpu, exit);
			return 1;
		}
		return 0;
	case DUVISOR_EXC_LOAD_GUEST_PF:
	case DUVISOR_EXC_STORE_GUEST_PF:
		return mmio_exit(vcpu, exit);
	case DUVISOR_EXC_VIRTUAL_INST:
		return virtual_instruction(vcpu, exit);
	default:
		/* A fetch outside RAM: nothing executes from devices. */
		return guest_exception(vcpu, exit, RISCV_EXC_INSN_ACCESS,
				       t->stval);
	}
}

/* Kicked by the VMM (pause, stop): consumed here. */
static bool take_exit_request(struct accel_vcpu *vcpu)
{
	bool requested;

	pthread_mutex_lock(&vcpu->lock);
	requested = vcpu->exit_requested;
	vcpu->exit_requested = false;
	pthread_mutex_unlock(&vcpu->lock);
	return requested;
}

static int dvext_vcpu_run(struct accel_vcpu *vcpu, struct accel_exit *exit)
{
	struct duvisor_run *run = vcpu->run;
	int r;

	memset(exit, 0, sizeof(*exit));
	complete_pending(vcpu);
	for (;;) {
		if (take_exit_request(vcpu)) {
			exit->kind = ACCEL_EXIT_INTERRUPTED;
			return 0;
		}
		if (__atomic_load_n(&vcpu->hart_state, __ATOMIC_ACQUIRE) !=
		    DVEXT_HART_STARTED &&
		    !dvext_wait_until_started(vcpu))
			continue;
		dvext_timer_check(vcpu);
		r = dvext_hu(vcpu) ? dvext_hu_run(vcpu) :
		    ioctl(vcpu->fd, DUVISOR_RUN, 0) < 0 ? -errno : 0;
		if (r < 0) {
			if (r != -EINTR)
				return r;
			/* A kick, or the timer: the loop looks at both. */
			__atomic_store_n(&run->immediate_exit, 0,
					 __ATOMIC_SEQ_CST);
			continue;
		}
		if (handle_trap(vcpu, exit)) {
			/* A kick during a wait is the VMM's, not an exit. */
			if (exit->kind == ACCEL_EXIT_INTERRUPTED)
				take_exit_request(vcpu);
			return 0;
		}
		vcpu->exits_in_accel++;
	}
}

static int dvext_vcpu_describe(struct accel_vcpu *vcpu, char *buf,
			       size_t len)
{
	const struct duvisor_run *run = vcpu->run;

	snprintf(buf, len, "pc=%#llx ra=%#llx sp=%#llx scause=%#llx "
		 "stval=%#llx gpa=%#llx insn=%#llx", run->pc, run->regs[1], run->regs[2],
		 run->trap.scause, run->trap.stval, run->trap.gpa,
		 run->trap.insn);
	return 0;
}

static uint64_t dvext_vcpu_exits_in_accel(struct accel_vcpu *vcpu)
{
	return vcpu->exits_in_accel;
}

static int dvext_vcpu_set_boot_state(struct accel_vcpu *vcpu,
				     const struct riscv_boot_state *st)
{
	vcpu->run->pc = st->pc;
	vcpu->run->regs[10] = st->a0;
	vcpu->run->regs[11] = st->a1;
	pthread_mutex_lock(&vcpu->lock);
	vcpu->hart_state = DVEXT_HART_STARTED;
	pthread_mutex_unlock(&vcpu->lock);
	return 0;
}

static int dvext_vcpu_timebase_hz(struct accel_vcpu *vcpu, uint64_t *hz)
{
	*hz = vcpu->vm->acc->timebase_hz;
	return 0;
}

/* What the module runs the guest with: RV64IMAFDC (F/D saved by the
 * module), no vector. */
static int dvext_vcpu_isa(struct accel_vcpu *vcpu, uint64_t *isa)
{
	(void)vcpu;
	*isa = 0;
	for (const char *c = "imafdc"; *c; c++)
		*isa |= 1ull << (*c - 'a');
	return 0;
}

/* None: henvcfg is 0 in the guest (no Sstc, no Svpbmt). */
static int dvext_vcpu_isa_exts(struct accel_vcpu *vcpu, uint32_t *exts)
{
	(void)vcpu;
	*exts = 0;
	return 0;
}

static int dvext_vcpu_set_external_irq(struct accel_vcpu *vcpu, bool level)
{
	int r;

	pthread_mutex_lock(&vcpu->lock);
	vcpu->ext_level = level;
	r = dvext_set_irq(vcpu, DUVISOR_VIRQ_VS_EXT, level);
	if (level)
		dvext_wake(vcpu);
	pthread_mutex_unlock(&vcpu->lock);
	return r;
}

static const struct accel_riscv_ops dvext_riscv_ops = {
	.vcpu_set_boot_state = dvext_vcpu_set_boot_state,
	.vcpu_timebase_hz = dvext_vcpu_timebase_hz,
	.vcpu_isa = dvext_vcpu_isa,
	.vcpu_isa_exts = dvext_vcpu_isa_exts,
	.vcpu_set_external_irq = dvext_vcpu_set_external_irq,
};

const struct accel_ops accel_dvext_ops = {
	.name = "dvext",
	.open = dvext_open,
	.close = dvext_close,
	.max_vcpus = dvext_max_vcpus,
	.vm_create = dvext_vm_create,
	.vm_destroy = dvext_vm_destroy,
	.vm_add_memory = dvext_vm_add_memory,
	.vm_set_irq = dvext_vm_set_irq,
	.vm_add_ioeventfd = dvext_vm_add_ioeventfd,
	.vm_add_ioeventfd_match = dvext_vm_add_ioeventfd_match,
	.vm_add_irqfd = dvext_vm_add_irqfd,
	.vcpu_create = dvext_vcpu_create,
	.vcpu_destroy = dvext_vcpu_destroy,
	.vcpu_thread_init = dvext_vcpu_thread_init,
	.vcpu_run = dvext_vcpu_run,
	.vcpu_request_exit = dvext_vcpu_request_exit,
	.vcpu_describe = dvext_vcpu_describe,
	.vcpu_exits_in_accel = dvext_vcpu_exits_in_accel,
	.riscv = &dvext_riscv_ops,
};
