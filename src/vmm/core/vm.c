// SPDX-License-Identifier: GPL-2.0-or-later
/* Process and machine lifecycle: build, run, reboot in place, stop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/control.h"
#include "core/sandbox.h"
#include "core/vmm.h"
#include "virtio/setup.h"

/* Kernels and initrds larger than this are certainly a mistake. */
#define MAX_IMAGE_SIZE GIB(2)

void vm_request_stop(struct vm *vm, enum vm_stop_reason reason)
{
	int expected = VM_STOP_NONE;

	if (__atomic_compare_exchange_n(&vm->stop_reason, &expected,
					(int)reason, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST))
		event_loop_wake(vm->vmm->loop);
}

enum vm_stop_reason vm_stop_reason(struct vm *vm)
{
	return (enum vm_stop_reason)__atomic_load_n(&vm->stop_reason,
						     __ATOMIC_SEQ_CST);
}

void vm_set_irq(void *opaque, uint32_t gsi, bool level)
{
	struct vm *vm = opaque;
	int r = arch_vm_set_irq(vm, gsi, level);

	if (r < 0)
		vmm_warn("cannot set IRQ %u: %s", gsi, strerror(-r));
}

int vm_add_irqfd(void *opaque, uint32_t gsi, int efd)
{
	return arch_vm_add_irqfd(opaque, gsi, efd);
}

static int check_image(const char *what, const char *path,
		       struct image_file *img)
{
	int r = image_file_init(img->fd, MAX_IMAGE_SIZE, img);

	if (r < 0)
		vmm_error("cannot read %s '%s': %s", what, path,
			  r == -EINVAL ? "not a regular file" :
			  r == -ENODATA ? "file is empty" : strerror(-r));
	return r;
}

/*
 * Opens and checks an image once up front, so a bad path fails at start;
 * a manager may hand it in as an open fd (inherited >= 0) instead.
 */
static int open_image(const char *what, const char *path, int inherited,
		      struct image_file *out)
{
	if (inherited >= 0) {
		out->fd = inherited;
		return check_image(what, path, out);
	}
	out->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (out->fd < 0) {
		int r = -errno;

		vmm_error("cannot open %s '%s': %s", what, path, strerror(errno));
		return r;
	}
	return check_image(what, path, out);
}

/* Each boot takes the images as they are now: a file replaced in place
 * between boots is read at its new size. */
static int check_images(struct vmm *vmm)
{
	int r = check_image("kernel", vmm->cfg->kernel_path, &vmm->kernel);

	if (!r && vmm->initrd.fd >= 0)
		r = check_image("initrd", vmm->cfg->initrd_path, &vmm->initrd);
	return r;
}

static void add_stats(struct vcpu_stats *sum, const struct vcpu_stats *s)
{
	for (size_t i = 0; i < ACCEL_EXIT__COUNT; i++)
		sum->exits[i] += s->exits[i];
	sum->in_accel += s->in_accel;
	for (size_t i = 0; i <= BUS_MAX_RANGES; i++) {
		sum->pio[i] += s->pio[i];
		sum->mmio[i] += s->mmio[i];
	}
}

static void vm_destroy(struct vm *vm)
{
	struct vmm *vmm = vm->vmm;

	if (vm->vcpus) {
		for (uint32_t i = 0; i < vm->ncpus; i++) {
			struct vcpu *vcpu = &vm->vcpus[i];

			if (vcpu->acc && vmm->ops->vcpu_exits_in_accel)
				vcpu->stats.in_accel =
					vmm->ops->vcpu_exits_in_accel(vcpu->acc);
			add_stats(&vmm->totals, &vcpu->stats);
			vmm->ops->vcpu_destroy(vcpu->acc);
		}
		free(vm->vcpus);
	}
	for (size_t i = 0; i < vm->pio.nranges; i++)
		vmm->pio_names[i] = vm->pio.ranges[i].name;
	for (size_t i = 0; i < vm->mmio.nranges; i++)
		vmm->mmio_names[i] = vm->mmio.ranges[i].name;
	arch_vm_cleanup(vm);
	vmm->ops->vm_destroy(vm->avm);
	guest_mem_free(&vm->mem);
	free(vm);
}

static struct vm *vm_create(struct vmm *vmm)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int r;

	if (!vm)
		return NULL;
	vm->vmm = vmm;
	vm->ncpus = vmm->cfg->ncpus;
	vm->mem.mergeable = vmm->cfg->mem_merge;
	vm->pio.name = "pio";
	vm->mmio.name = "mmio";
	r = vmm->ops->vm_create(vmm->acc, &vm->avm);
	if (r < 0)
		goto fail;
	r = check_images(vmm);
	if (r < 0)
		goto fail;
	r = arch_vm_init(vm);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < vm->mem.nregions; i++) {
		const struct guest_mem_region *reg = &vm->mem.regions[i];

		r = vmm->ops->vm_add_memory(vm->avm, (uint32_t)i, reg->gpa,
					    reg->size, reg->hva);
		if (r < 0)
			goto fail;
	}
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		goto fail;
	for (uint32_t i = 0; i < vm->ncpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		vcpu->vm = vm;
		vcpu->index = i;
		r = vmm->ops->vcpu_create(vm->avm, i, &vcpu->acc);
		if (r < 0)
			goto fail;
		r = arch_vcpu_init(vm, vcpu);
		if (r < 0) {
			vmm_error("cannot set up vCPU %u: %s", i, strerror(-r));
			goto fail;
		}
	}
	return vm;
fail:
	vm_destroy(vm);
	return NULL;
}

void vmm_sum_stats(const struct vmm *vmm, struct vcpu_stats *out)
{
	*out = vmm->totals;
	if (vmm->vm && vmm->vm->vcpus)
		for (uint32_t i = 0; i < vmm->vm->ncpus; i++)
			add_stats(out, &vmm->vm->vcpus[i].stats);
}

void vmm_request_quit(struct vmm *vmm)
{
	vmm->quit_requested = true;
	if (vmm->vm)
		vm_request_stop(vmm->vm, VM_STOP_QUIT);
}

static void on_signal(void *opaque, uint32_t events)
{
	struct vmm *vmm = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(vmm->signal_fd, &si, sizeof(si)) != sizeof(si) || !vmm->vm)
		return;
	switch (si.ssi_signo) {
	case SIGTERM:
	case SIGINT:
		/* A manager's polite request: let the guest shut down. */
		vmm_info("signal %u: pressing the power button", si.ssi_signo);
		arch_vm_power_button(vmm->vm);
		break;
	case SIGQUIT:
		vmm_request_quit(vmm);
		break;
	default:
		break;
	}
}

static void console_quit(void *opaque)
{
	vmm_request_quit(opaque);
}

static void console_power_button(void *opaque)
{
	struct vmm *vmm = opaque;

	if (vmm->vm)
		arch_vm_power_button(vmm->vm);
}

static int setup_signals(struct vmm *vmm)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, ACCEL_KICK_SIGNAL);  /* only vCPU threads take kicks */
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -EINVAL;
	sigdelset(&set, ACCEL_KICK_SIGNAL);
	vmm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vmm->signal_fd < 0)
		return -errno;
	return event_loop_add(vmm->loop, vmm->signal_fd, EPOLLIN, on_signal,
			      vmm);
}

static void print_stats(const struct vmm *vmm)
{
	const struct vcpu_stats *t = &vmm->totals;
	char line[2048];
	size_t n = 0;
	uint64_t total = 0;

	for (size_t i = 0; i < ACCEL_EXIT__COUNT; i++)
		total += t->exits[i];
	n += (size_t)snprintf(line + n, sizeof(line) - n,
			      "stats: boots=%llu runtime_ms=%llu exits=%llu",
			      (unsigned long long)vmm->boots,
			      (unsigned long long)((now_ns_monotonic() -
						    vmm->start_ns) / 1000000),
			      (unsigned long long)total);
	for (size_t i = 0; i < ACCEL_EXIT__COUNT && n < sizeof(line); i++)
		if (t->exits[i])
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      " exits.%s=%llu",
					      accel_exit_kind_name(i),
					      (unsigned long long)t->exits[i]);
	if (t->in_accel && n < sizeof(line))
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      " exits.in-accel=%llu",
				      (unsigned long long)t->in_accel);
	for (size_t i = 0; i <= BUS_MAX_RANGES && n < sizeof(line); i++) {
		const char *name = i < BUS_MAX_RANGES ? vmm->pio_names[i] :
				   "unclaimed";

		if (t->pio[i])
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      " io.%s=%llu", name ? name : "?",
					      (unsigned long long)t->pio[i]);
	}
	for (size_t i = 0; i <= BUS_MAX_RANGES && n < sizeof(line); i++) {
		const char *name = i < BUS_MAX_RANGES ? vmm->mmio_names[i] :
				   "unclaimed";

		if (t->mmio[i])
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      " mmio.%s=%llu", name ? name : "?",
					      (unsigned long long)t->mmio[i]);
	}
	vmm_info("%s", line);
}

static int exit_status(enum vm_stop_reason reason)
{
	switch (reason) {
	case VM_STOP_POWEROFF:
		vmm_info("guest powered off");
		return VMM_EXIT_POWEROFF;
	case VM_STOP_QUIT:
		vmm_info("stopped on request");
		return VMM_EXIT_POWEROFF;
	case VM_STOP_RESET:
		vmm_info("guest reset (--no-reboot)");
		return VMM_EXIT_RESET;
	case VM_STOP_TRIPLE_FAULT:
		return VMM_EXIT_TRIPLE_FAULT;
	case VM_STOP_CRASH:
		vmm_info("guest crashed");
		return VMM_EXIT_CRASH;
	default:
		return VMM_EXIT_VCPU_ERROR;
	}
}

/* One boot: build the machine, run it, tear it down. */
static enum vm_stop_reason run_once(struct vmm *vmm)
{
	enum vm_stop_reason reason;

	vmm->vm = vm_create(vmm);
	if (!vmm->vm)
		return VM_STOP_NONE;
	vmm->boots++;
	control_boot_started(vmm->control);
	if (vcpus_start(vmm->vm) == 0) {
		while (vm_stop_reason(vmm->vm) == VM_STOP_NONE)
			if (event_loop_run_once(vmm->loop, -1) < 0)
				vm_request_stop(vmm->vm, VM_STOP_ERROR);
	}
	vcpus_stop(vmm->vm);
	reason = vm_stop_reason(vmm->vm);
	vm_destroy(vmm->vm);
	vmm->vm = NULL;
	return reason;
}

/* Blocks until the manager writes a byte or closes its end (also when it
 * dies): whatever it still had to set up is done. */
static void wait_for_manager(int fd)
{
	char byte;
	ssize_t n;

	do
		n = read(fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		vmm_warn("--wait-fd %d: %s; going on", fd, strerror(errno));
	close(fd);
}

static const struct accel_ops *accel_ops_of(enum vmm_accel accel)
{
#if defined(__riscv)
	if (accel == VMM_ACCEL_DVEXT)
		return &accel_dvext_ops;
#endif
	(void)accel;
	return &accel_kvm_ops;
}

int vmm_run(const struct vmm_config *cfg)
{
	struct console_actions actions;
	struct vmm vmm = { .cfg = cfg, .ops = accel_ops_of(cfg->accel),
			   .signal_fd = -1,
			   .kernel.fd = -1, .initrd.fd = -1,
			   .balloon = cfg->balloon };
	enum vm_stop_reason reason = VM_STOP_NONE;
	int status = VMM_EXIT_FAILURE;

	vmm.start_ns = now_ns_monotonic();
	pthread_mutex_init(&vmm.pause.lock, NULL);
	pthread_cond_init(&vmm.pause.cond, NULL);
	if (open_image("kernel", cfg->kernel_path, cfg->kernel_fd,
		       &vmm.kernel) < 0)
		goto out_images;
	if (cfg->initrd_path &&
	    open_image("initrd", cfg->initrd_path, cfg->initrd_fd,
		       &vmm.initrd) < 0)
		goto out_images;
	if (vmm_open_backends(&vmm) < 0)
		goto out_images;
	vmm.loop = event_loop_new();
	if (!vmm.loop || setup_signals(&vmm) < 0) {
		vmm_error("cannot set up the event loop");
		goto out_loop;
	}
	if (vmm.ops->open(cfg->kvm_fd, &vmm.acc) < 0)
		goto out_loop;
	if (cfg->ncpus > MIN(vmm.ops->max_vcpus(vmm.acc), arch_max_vcpus())) {
		vmm_error("%u vCPUs requested, at most %u possible", cfg->ncpus,
			  MIN(vmm.ops->max_vcpus(vmm.acc), arch_max_vcpus()));
		goto out_accel;
	}
	if (console_open(&vmm.console, cfg->console_spec, cfg->console_log) < 0)
		goto out_accel;
	actions = (struct console_actions){
		.quit = console_quit, .power_button = console_power_button,
		.opaque = &vmm,
	};
	if (console_attach(&vmm.console, vmm.loop, &actions) < 0)
		goto out_console;
	/* From here on no path is opened: every resource is at hand. */
	if (control_open(&vmm) < 0 || sandbox_enter(cfg) < 0)
		goto out_control;
	if (cfg->wait_fd >= 0)
		wait_for_manager(cfg->wait_fd);

	for (;;) {
		bool by_request, reboot;

		reason = run_once(&vmm);
		if (vmm.quit_requested && reason == VM_STOP_RESET)
			reason = VM_STOP_QUIT;
		by_request = vmm.reset_requested;
		vmm.reset_requested = false;
		reboot = reason == VM_STOP_RESET &&
			 (!cfg->no_reboot || by_request);
		control_vm_stopped(vmm.control, reason, by_request, reboot);
		if (!reboot)
			break;
		vmm_info("%s reset: rebooting", by_request ? "requested" :
			 "guest");
	}
	status = reason == VM_STOP_NONE ? VMM_EXIT_FAILURE : exit_status(reason);
	control_exiting(vmm.control, status);
	if (cfg->stats)
		print_stats(&vmm);
out_control:
	control_close(&vmm);
out_console:
	console_close(&vmm.console);
out_accel:
	vmm.ops->close(vmm.acc);
out_loop:
	if (vmm.signal_fd >= 0)
		close(vmm.signal_fd);
	event_loop_free(vmm.loop);
out_images:
	vmm_close_backends(&vmm);
	if (vmm.initrd.fd >= 0)
		close(vmm.initrd.fd);
	if (vmm.kernel.fd >= 0)
		close(vmm.kernel.fd);
	pthread_cond_destroy(&vmm.pause.cond);
	pthread_mutex_destroy(&vmm.pause.lock);
	return status;
}
