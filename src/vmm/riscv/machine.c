// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The RISC-V (rv64) machine: RAM at 2 GiB, a PLIC modelled here (KVM
 * RISC-V in Linux 6.1 has no in-kernel interrupt controller), a 16550A
 * UART and virtio-mmio devices, all announced in a device tree; a Linux
 * Image entered in S-mode on hart 0. The other harts wait powered off in
 * KVM until the guest starts them with SBI HSM.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/vmm.h"
#include "devices/plic.h"
#include "devices/serial.h"
#include "riscv/boot.h"
#include "riscv/dt.h"
#include "riscv/layout.h"
#include "riscv/sbi.h"
#include "virtio/devices.h"
#include "virtio/setup.h"

/* An eventfd whose writes pulse a PLIC source, from the event loop. */
struct irqfd_watch {
	struct vm *vm;
	int fd;
	uint32_t gsi;
};

struct arch_vm {
	struct plic *plic;
	struct serial *uart;
	struct virtio_dev *power_button;
	struct riscv_boot_layout layout;
	size_t nirqfds;
	struct irqfd_watch irqfds[VM_MAX_VIRTIO];
};

uint32_t arch_max_vcpus(void)
{
	return RISCV_MAX_VCPUS;
}

const char *arch_kernel_formats(void)
{
	return "RISC-V Image (arch/riscv/boot/Image)";
}

/* PLIC context c is hart c's S-mode external interrupt. */
static void plic_output(void *opaque, uint32_t ctx, bool level)
{
	struct vm *vm = opaque;
	int r;

	if (!vm->vcpus || ctx >= vm->ncpus || !vm->vcpus[ctx].acc)
		return;
	r = vm->vmm->ops->riscv->vcpu_set_external_irq(vm->vcpus[ctx].acc,
						       level);
	if (r < 0)
		vmm_warn("hart %u: cannot %s its external interrupt: %s", ctx,
			 level ? "raise" : "lower", strerror(-r));
}

int arch_vm_set_irq(struct vm *vm, uint32_t gsi, bool level)
{
	if (!vm->arch || !vm->arch->plic)
		return -ENODEV;
	plic_set_level(vm->arch->plic, gsi, level);
	return 0;
}

static void on_irqfd(void *opaque, uint32_t events)
{
	struct irqfd_watch *w = opaque;
	eventfd_t count;

	(void)events;
	if (eventfd_read(w->fd, &count) == 0)
		plic_pulse(w->vm->arch->plic, w->gsi);
}

/* No irqfd without an in-kernel irqchip: the main loop relays them. */
int arch_vm_add_irqfd(struct vm *vm, uint32_t gsi, int efd)
{
	struct arch_vm *a = vm->arch;
	struct irqfd_watch *w;
	int r;

	if (a->nirqfds == ARRAY_SIZE(a->irqfds))
		return -ENOSPC;
	w = &a->irqfds[a->nirqfds];
	*w = (struct irqfd_watch){ .vm = vm, .fd = efd, .gsi = gsi };
	r = event_loop_add(vm->vmm->loop, efd, EPOLLIN, on_irqfd, w);
	if (r == 0)
		a->nirqfds++;
	return r;
}

static void sbi_console_out(void *opaque, const uint8_t *buf, size_t len)
{
	console_write(opaque, buf, len);
}

/* An SBI call KVM left to us. */
bool arch_vcpu_exit(struct vcpu *vcpu, const struct accel_exit *exit)
{
	const struct riscv_sbi_env env = {
		.mem = &vcpu->vm->mem,
		.console_out = sbi_console_out,
		.opaque = &vcpu->vm->vmm->console,
	};

	switch (riscv_sbi_handle(&env, exit->hypercall.ext, exit->hypercall.fn,
				 exit->hypercall.args, exit->hypercall.ret)) {
	case RISCV_SBI_POWEROFF:
		vm_request_stop(vcpu->vm, VM_STOP_POWEROFF);
		return false;
	case RISCV_SBI_RESET:
		vm_request_stop(vcpu->vm, VM_STOP_RESET);
		return false;
	default:
		return true;
	}
}

static int setup_devices(struct vm *vm)
{
	struct arch_vm *a = vm->arch;
	const struct plic_output out = { plic_output, vm };
	struct irq_line uart_irq = { vm_set_irq, vm, RISCV_UART_IRQ };
	uint32_t gsis[RISCV_VIRTIO_IRQ_COUNT];
	int r;

	a->plic = plic_new(RISCV_PLIC_SOURCES, vm->ncpus, &out);
	a->uart = serial_new(&vm->vmm->console, &uart_irq);
	if (!a->plic || !a->uart)
		return -ENOMEM;
	r = bus_register(&vm->mmio, RISCV_PLIC_BASE, RISCV_PLIC_SIZE,
			 &plic_bus_ops, a->plic, "plic");
	if (!r)
		r = bus_register(&vm->mmio, RISCV_UART_BASE, SERIAL_PORT_LEN,
				 &serial_bus_ops, a->uart, "uart");
	if (r)
		return r;
	for (uint32_t i = 0; i < RISCV_VIRTIO_IRQ_COUNT; i++)
		gsis[i] = RISCV_VIRTIO_IRQ_FIRST + i;
	r = vm_virtio_setup(vm, RISCV_VIRTIO_BASE, gsis,
			    RISCV_VIRTIO_IRQ_COUNT);
	/* Last, so that disks and NICs keep their windows and names. */
	if (!r)
		r = vm_virtio_add_power_button(vm, RISCV_VIRTIO_BASE, gsis,
					       RISCV_VIRTIO_IRQ_COUNT,
					       &a->power_button);
	return r;
}

static int load_guest(struct vm *vm)
{
	const struct vmm *vmm = vm->vmm;
	char err[256];
	int r;

	r = riscv_load(&vm->mem, RISCV_RAM_BASE, vmm->cfg->mem_size,
		       &vmm->kernel, vmm->initrd.fd >= 0 ? &vmm->initrd : NULL,
		       RISCV_FDT_MAX, &vm->arch->layout, err, sizeof(err));
	if (r < 0) {
		vmm_error("kernel '%s'%s%s: %s", vmm->cfg->kernel_path,
			  vmm->initrd.fd >= 0 ? ", initrd " : "",
			  vmm->initrd.fd >= 0 ? vmm->cfg->initrd_path : "", err);
		return r;
	}
	return 0;
}

int arch_vm_init(struct vm *vm)
{
	const struct vmm *vmm = vm->vmm;
	int r;

	if (!vmm->ops->riscv) {
		vmm_error("the %s accelerator cannot run RISC-V guests",
			  vmm->ops->name);
		return -ENOTSUP;
	}
	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -ENOMEM;
	r = guest_mem_add(&vm->mem, RISCV_RAM_BASE, vmm->cfg->mem_size);
	if (r < 0) {
		vmm_error("cannot allocate %llu MiB of guest memory: %s",
			  (unsigned long long)(vmm->cfg->mem_size >> 20),
			  strerror(-r));
		return r;
	}
	r = setup_devices(vm);
	if (r < 0) {
		vmm_error("cannot set up devices: %s", strerror(-r));
		return r;
	}
	return load_guest(vm);
}

/* The tree describes the vCPUs as KVM made them: built once hart 0 is. */
static int write_device_tree(struct vm *vm, struct accel_vcpu *boot)
{
	const struct accel_riscv_ops *rv = vm->vmm->ops->riscv;
	const struct riscv_boot_layout *l = &vm->arch->layout;
	const struct vm_virtio *virtio = vm->virtio;
	char isa_string[RISCV_ISA_STRING_MAX];
	struct riscv_dt_config cfg = {
		.ncpus = vm->ncpus,
		.isa = isa_string,
		.ram_base = RISCV_RAM_BASE,
		.ram_size = vm->vmm->cfg->mem_size,
		.plic_base = RISCV_PLIC_BASE,
		.plic_size = RISCV_PLIC_SIZE,
		.plic_sources = RISCV_PLIC_SOURCES,
		.uart = { RISCV_UART_BASE, RISCV_UART_SIZE, RISCV_UART_IRQ },
		.uart_clock = RISCV_UART_CLOCK,
		.bootargs = vm->vmm->cfg->cmdline,
		.initrd_start = l->initrd_gpa,
		.initrd_end = l->initrd_gpa + l->initrd_size,
	};
	uint8_t *buf = guest_mem_ptr(&vm->mem, l->fdt_gpa, RISCV_FDT_MAX);
	uint64_t isa;
	uint32_t exts;
	long size;
	int r;

	if (!buf)
		return -EFAULT;
	r = rv->vcpu_isa(boot, &isa);
	if (!r)
		r = rv->vcpu_isa_exts(boot, &exts);
	if (!r)
		r = rv->vcpu_timebase_hz(boot, &cfg.timebase_hz);
	if (r)
		return r;
	riscv_isa_string(isa, exts, isa_string, sizeof(isa_string));
	for (size_t i = 0; i < virtio->n && i < RISCV_DT_MAX_VIRTIO; i++)
		cfg.virtio[cfg.nvirtio++] = (struct riscv_dt_device){
			.base = virtio->slots[i].base,
			.size = virtio->slots[i].size,
			.irq = virtio->slots[i].gsi,
		};
	size = riscv_build_dt(&cfg, buf, RISCV_FDT_MAX);
	if (size < 0) {
		vmm_error("cannot build the device tree: %s", strerror((int)-size));
		return (int)size;
	}
	vmm_debug("device tree: %ld bytes at %#llx, isa %s, timebase %llu Hz",
		  size, (unsigned long long)l->fdt_gpa, isa_string,
		  (unsigned long long)cfg.timebase_hz);
	return 0;
}

int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu)
{
	const struct riscv_boot_state boot = {
		.pc = vm->arch->layout.kernel_gpa,
		.a0 = vcpu->index,
		.a1 = vm->arch->layout.fdt_gpa,
	};
	int r;

	/* Secondary harts start where the guest's HSM call says. */
	if (vcpu->index != 0)
		return 0;
	r = write_device_tree(vm, vcpu->acc);
	if (r < 0)
		return r;
	return vm->vmm->ops->riscv->vcpu_set_boot_state(vcpu->acc, &boot);
}

/* No ACPI here: the power button is a virtio-input key. */
void arch_vm_power_button(struct vm *vm)
{
	if (vm->arch && vm->arch->power_button)
		virtio_input_press_power(vm->arch->power_button);
}

void arch_vm_cleanup(struct vm *vm)
{
	struct arch_vm *a = vm->arch;

	if (!a)
		return;
	for (size_t i = 0; i < a->nirqfds; i++)
		event_loop_remove(vm->vmm->loop, a->irqfds[i].fd);
	vm_virtio_cleanup(vm);
	serial_free(a->uart);
	plic_free(a->plic);
	free(a);
	vm->arch = NULL;
}
