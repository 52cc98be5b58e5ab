// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The x86-64 machine: RAM around the device hole, legacy devices on port
 * I/O (COM1, i8042 reset, ACPI PM block), ACPI tables, and a kernel loaded
 * for direct 64-bit boot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/control.h"
#include "core/vmm.h"
#include "devices/power.h"
#include "devices/pvpanic.h"
#include "devices/serial.h"
#include "x86/acpi.h"
#include "x86/boot.h"
#include "x86/cpuid.h"
#include "x86/layout.h"
#include "virtio/setup.h"

/* xAPIC ids are 8 bits and 0xff is the broadcast id. */
#define X86_MAX_VCPUS 254
/* Port 0x80 (POST codes, I/O delay) is written often and means nothing. */
#define X86_POST_PORT 0x80

struct arch_vm {
	struct serial *com1;
	struct acpi_pm *pm;
	struct i8042 *kbd;
	struct pvpanic_handler pvpanic;
	int post_efd;
	struct x86_boot_state boot;
	uint32_t ncpuid;
	struct cpuid_entry cpuid[CPUID_MAX_ENTRIES];
};

uint32_t arch_max_vcpus(void)
{
	return X86_MAX_VCPUS;
}

const char *arch_kernel_formats(void)
{
	return "bzImage (boot protocol 2.12+) or ELF vmlinux";
}

static void on_power_event(void *ctx, enum power_event ev)
{
	vm_request_stop(ctx, ev == POWER_EVENT_OFF ? VM_STOP_POWEROFF :
			VM_STOP_RESET);
}

/* A panic stops the VM (exit status 34); with a kdump kernel loaded the
 * guest carries on into it, so the manager is only told. */
static void on_pvpanic(void *ctx, unsigned int events)
{
	struct vm *vm = ctx;

	if (events & PVPANIC_PANICKED)
		vm_request_stop(vm, VM_STOP_CRASH);
	else
		control_post_async(vm->vmm->control, CONTROL_ASYNC_CRASH_LOADED);
}

static int setup_virtio(struct vm *vm)
{
	uint32_t gsis[X86_VIRTIO_GSI_COUNT];

	for (uint32_t i = 0; i < X86_VIRTIO_GSI_COUNT; i++)
		gsis[i] = X86_VIRTIO_GSI_FIRST + i;
	return vm_virtio_setup(vm, X86_MMIO_DEVICES_BASE, gsis,
			       X86_VIRTIO_GSI_COUNT);
}

static int setup_devices(struct vm *vm)
{
	struct arch_vm *a = vm->arch;
	struct power_handler power = { .event = on_power_event, .ctx = vm };
	struct irq_line com1_irq = { vm_set_irq, vm, X86_COM1_IRQ };
	struct irq_line ged_irq = { vm_set_irq, vm, X86_GED_IRQ };
	int r;

	a->com1 = serial_new(&vm->vmm->console, &com1_irq);
	a->pm = acpi_pm_new(&power, &ged_irq);
	a->kbd = i8042_new(&power);
	if (!a->com1 || !a->pm || !a->kbd)
		return -ENOMEM;
	r = bus_register(&vm->pio, X86_COM1_PORT, SERIAL_PORT_LEN,
			 &serial_bus_ops, a->com1, "com1");
	if (!r)
		r = bus_register(&vm->pio, X86_PM_PORT, X86_PM_PORT_LEN,
				 &acpi_pm_bus_ops, a->pm, "acpi-pm");
	if (!r)
		r = bus_register(&vm->pio, X86_I8042_DATA_PORT,
				 X86_I8042_CMD_PORT - X86_I8042_DATA_PORT + 1,
				 &i8042_bus_ops, a->kbd, "i8042");
	a->pvpanic = (struct pvpanic_handler){ on_pvpanic, vm };
	if (!r)
		r = bus_register(&vm->pio, X86_PVPANIC_PORT, PVPANIC_PORT_LEN,
				 &pvpanic_bus_ops, &a->pvpanic, "pvpanic");
	if (r)
		return r;
	/* Let KVM swallow POST-port writes instead of exiting to us. */
	a->post_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->post_efd < 0)
		return -errno;
	r = vm->vmm->ops->vm_add_ioeventfd(vm->avm, X86_POST_PORT, 1, true,
					   a->post_efd);
	if (r)
		return r;
	return setup_virtio(vm);
}

static int build_acpi(struct vm *vm, uint64_t *rsdp)
{
	struct acpi_config cfg = {
		.ncpus = vm->ncpus,
		.ioapic_id = 0,
		.ioapic_addr = X86_IOAPIC_ADDR,
		.lapic_addr = X86_LAPIC_ADDR,
		.com1_port = X86_COM1_PORT,
		.com1_irq = X86_COM1_IRQ,
		.pm_port = X86_PM_PORT,
		.ged_irq = X86_GED_IRQ,
		.pvpanic_port = X86_PVPANIC_PORT,
	};
	const struct vm_virtio *virtio = vm->virtio;
	struct acpi_tables tables;
	uint8_t *buf = guest_mem_ptr(&vm->mem, X86_ACPI_ADDR, X86_ACPI_SIZE);
	int r;

	if (!buf)
		return -EFAULT;
	for (size_t i = 0; i < virtio->n; i++)
		cfg.virtio_mmio[cfg.nvirtio_mmio++] = (struct acpi_virtio_mmio){
			.base = virtio->slots[i].base,
			.size = virtio->slots[i].size,
			.gsi = virtio->slots[i].gsi,
		};
	r = acpi_build(&cfg, buf, X86_ACPI_SIZE, X86_ACPI_ADDR, &tables);
	if (r < 0) {
		vmm_error("cannot build ACPI tables: %s", strerror(-r));
		return r;
	}
	*rsdp = tables.rsdp_gpa;
	return 0;
}

static int load_guest(struct vm *vm, uint64_t low_ram, uint64_t rsdp)
{
	const struct vmm *vmm = vm->vmm;
	const char *cmdline = vmm->cfg->cmdline ? vmm->cfg->cmdline : "";
	size_t cmdline_len = strlen(cmdline);
	struct x86_kernel kernel;
	struct boot_params *bp;
	uint64_t initrd_gpa = 0;
	char err[256];
	int r;

	r = x86_load_kernel(&vm->mem, &vmm->kernel, &kernel, err, sizeof(err));
	if (r < 0) {
		vmm_error("kernel '%s': %s", vmm->cfg->kernel_path, err);
		return r;
	}
	if (vmm->initrd.fd >= 0) {
		r = x86_load_initrd(&vm->mem, &kernel, low_ram, &vmm->initrd,
				    &initrd_gpa, err, sizeof(err));
		if (r < 0) {
			vmm_error("initrd '%s': %s", vmm->cfg->initrd_path, err);
			return r;
		}
	}
	if (cmdline_len > kernel.cmdline_max || cmdline_len >= X86_CMDLINE_MAX) {
		vmm_error("kernel command line is %zu bytes, this kernel "
			  "takes at most %u", cmdline_len, kernel.cmdline_max);
		return -E2BIG;
	}
	if (guest_mem_write(&vm->mem, X86_CMDLINE_ADDR, cmdline,
			    cmdline_len + 1) < 0)
		return -EFAULT;
	bp = guest_mem_ptr(&vm->mem, X86_ZERO_PAGE_ADDR, sizeof(*bp));
	if (!bp)
		return -EFAULT;
	x86_build_boot_params(bp, &(struct x86_boot_params_input){
		.kernel = &kernel,
		.mem_size = vmm->cfg->mem_size,
		.cmdline_gpa = X86_CMDLINE_ADDR,
		.cmdline_len = (uint32_t)cmdline_len,
		.initrd_gpa = initrd_gpa,
		.initrd_size = vmm->initrd.fd >= 0 ? vmm->initrd.size : 0,
		.rsdp_gpa = rsdp,
	});
	r = x86_write_reset_vector(&vm->mem);
	if (r < 0)
		return r;
	return x86_setup_boot_cpu(&vm->mem, kernel.entry, &vm->arch->boot);
}

int arch_vm_init(struct vm *vm)
{
	const struct vmm *vmm = vm->vmm;
	uint64_t low, high, rsdp;
	int r;

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -ENOMEM;
	vm->arch->post_efd = -1;
	x86_ram_split(vmm->cfg->mem_size, &low, &high);
	r = guest_mem_add(&vm->mem, 0, low);
	if (!r && high)
		r = guest_mem_add(&vm->mem, X86_4GIB, high);
	if (r < 0) {
		vmm_error("cannot allocate %llu MiB of guest memory: %s",
			  (unsigned long long)(vmm->cfg->mem_size >> 20),
			  strerror(-r));
		return r;
	}
	/* Boot tables, the guest's real-mode area and what it allocates last
	 * share the first 2 MiB, a few hundred KiB of it in all. */
	guest_mem_small_pages(&vm->mem, 0, GUEST_HUGE_PAGE_SIZE);
	r = setup_devices(vm);
	if (r < 0) {
		vmm_error("cannot set up devices: %s", strerror(-r));
		return r;
	}
	r = build_acpi(vm, &rsdp);
	if (r < 0)
		return r;
	r = load_guest(vm, low, rsdp);
	if (r < 0)
		return r;
	vm->arch->ncpuid = CPUID_MAX_ENTRIES;
	return vmm->ops->x86->supported_cpuid(vmm->acc, vm->arch->cpuid,
					      &vm->arch->ncpuid);
}

int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu)
{
	const struct accel_x86_ops *x86 = vm->vmm->ops->x86;
	struct cpuid_entry cpuid[CPUID_MAX_ENTRIES];
	struct cpuid_topology topo = {
		.ncpus = vm->ncpus,
		.cpu_index = vcpu->index,
		.tsc_deadline = x86->has_tsc_deadline(vm->vmm->acc),
	};
	int r;

	memcpy(cpuid, vm->arch->cpuid, vm->arch->ncpuid * sizeof(cpuid[0]));
	cpuid_normalize(cpuid, vm->arch->ncpuid, &topo);
	r = x86->vcpu_set_cpuid(vcpu->acc, cpuid, vm->arch->ncpuid);
	if (!r)
		r = x86->vcpu_set_boot_msrs(vcpu->acc);
	/* Other vCPUs wait in the in-kernel LAPIC for the guest's SIPI. */
	if (!r && vcpu->index == 0)
		r = x86->vcpu_set_boot_state(vcpu->acc, &vm->arch->boot);
	return r;
}

/* The PIC/IOAPIC are in the kernel: lines and irqfds go straight there. */
int arch_vm_set_irq(struct vm *vm, uint32_t gsi, bool level)
{
	return vm->vmm->ops->vm_set_irq(vm->avm, gsi, level);
}

int arch_vm_add_irqfd(struct vm *vm, uint32_t gsi, int efd)
{
	return vm->vmm->ops->vm_add_irqfd(vm->avm, gsi, efd);
}

/* KVM x86 leaves no firmware calls to us. */
bool arch_vcpu_exit(struct vcpu *vcpu, const struct accel_exit *exit)
{
	vmm_error("vCPU %u: unexpected exit %s (reason %u)", vcpu->index,
		  accel_exit_kind_name(exit->kind), exit->raw_reason);
	vm_request_stop(vcpu->vm, VM_STOP_ERROR);
	return false;
}

void arch_vm_power_button(struct vm *vm)
{
	if (vm->arch && vm->arch->pm)
		acpi_pm_press_power_button(vm->arch->pm);
}

void arch_vm_cleanup(struct vm *vm)
{
	struct arch_vm *a = vm->arch;

	if (!a)
		return;
	vm_virtio_cleanup(vm);
	serial_free(a->com1);
	acpi_pm_free(a->pm);
	i8042_free(a->kbd);
	if (a->post_efd >= 0)
		close(a->post_efd);
	free(a);
	vm->arch = NULL;
}
