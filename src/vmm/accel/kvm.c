// SPDX-License-Identifier: GPL-2.0-or-later
/* The KVM accelerator: the arch-neutral part. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "accel/kvm-internal.h"
#include "core/util.h"

#define KVM_DEVICE_PATH "/dev/kvm"

int kvm_check_extension(int fd, long cap)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static const struct kvm_cap_name required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "USER_MEMORY" },
	{ KVM_CAP_IOEVENTFD, "IOEVENTFD" },
	{ KVM_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
};

static bool has_caps(int fd, const struct kvm_cap_name *caps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!kvm_check_extension(fd, caps[i].cap)) {
			vmm_error("KVM lacks the required capability %s",
				  caps[i].name);
			return false;
		}
	}
	return true;
}

static int kvm_open(int fd, struct accel **out)
{
	struct accel *acc;
	int version, mmap_size, r;

	if (fd < 0) {
		fd = open(KVM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			vmm_error("cannot open %s: %s", KVM_DEVICE_PATH,
				  strerror(errno));
			return r;
		}
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		vmm_error("KVM API version %d, need %d", version,
			  KVM_API_VERSION);
		close(fd);
		return -ENOTSUP;
	}
	if (!has_caps(fd, required_caps, ARRAY_SIZE(required_caps)) ||
	    !has_caps(fd, kvm_arch_required_caps, kvm_arch_nrequired_caps)) {
		close(fd);
		return -ENOTSUP;
	}
	mmap_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run)) {
		vmm_error("KVM_GET_VCPU_MMAP_SIZE failed");
		close(fd);
		return -ENOTSUP;
	}
	acc = calloc(1, sizeof(*acc));
	if (!acc) {
		close(fd);
		return -ENOMEM;
	}
	acc->kvm_fd = fd;
	acc->run_size = (size_t)mmap_size;
	r = kvm_check_extension(fd, KVM_CAP_MAX_VCPUS);
	if (r <= 0)
		r = kvm_check_extension(fd, KVM_CAP_NR_VCPUS);
	acc->max_vcpus = r > 0 ? (uint32_t)r : 4;
	*out = acc;
	return 0;
}

static void kvm_close(struct accel *acc)
{
	if (!acc)
		return;
	close(acc->kvm_fd);
	free(acc);
}

static uint32_t kvm_max_vcpus(struct accel *acc)
{
	return acc->max_vcpus;
}

static int kvm_vm_create(struct accel *acc, struct accel_vm **out)
{
	struct accel_vm *vm;
	int fd, r;

	do {
		fd = ioctl(acc->kvm_fd, KVM_CREATE_VM, 0);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		r = -errno;
		vmm_error("KVM_CREATE_VM: %s", strerror(errno));
		return r;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		close(fd);
		return -ENOMEM;
	}
	vm->acc = acc;
	vm->fd = fd;
	r = kvm_arch_vm_setup(vm);
	if (r < 0) {
		close(fd);
		free(vm);
		return r;
	}
	*out = vm;
	return 0;
}

static void kvm_vm_destroy(struct accel_vm *vm)
{
	if (!vm)
		return;
	close(vm->fd);
	free(vm);
}

static int kvm_vm_add_memory(struct accel_vm *vm, uint32_t slot, uint64_t gpa,
			     uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		int r = -errno;

		vmm_error("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return r;
	}
	return 0;
}

static int kvm_vm_set_irq(struct accel_vm *vm, uint32_t gsi, bool level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };

	return ioctl(vm->fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

static int add_ioeventfd(struct accel_vm *vm, struct kvm_ioeventfd *ioe)
{
	return ioctl(vm->fd, KVM_IOEVENTFD, ioe) < 0 ? -errno : 0;
}

static int kvm_vm_add_ioeventfd(struct accel_vm *vm, uint64_t addr,
				uint32_t len, bool pio, int efd)
{
	struct kvm_ioeventfd ioe = {
		.addr = addr,
		.len = len,
		.fd = efd,
		.flags = pio ? KVM_IOEVENTFD_FLAG_PIO : 0,
	};

	return add_ioeventfd(vm, &ioe);
}

static int kvm_vm_add_ioeventfd_match(struct accel_vm *vm, uint64_t addr,
				      uint32_t len, uint64_t data, int efd)
{
	struct kvm_ioeventfd ioe = {
		.datamatch = data,
		.addr = addr,
		.len = len,
		.fd = efd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	return add_ioeventfd(vm, &ioe);
}

static int kvm_vm_add_irqfd(struct accel_vm *vm, uint32_t gsi, int efd)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)efd, .gsi = gsi };

	return ioctl(vm->fd, KVM_IRQFD, &irqfd) < 0 ? -errno : 0;
}

static int kvm_vcpu_create(struct accel_vm *vm, uint32_t index,
			   struct accel_vcpu **out)
{
	struct accel_vcpu *vcpu;
	void *run;
	int fd, r;

	fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (fd < 0) {
		r = -errno;
		vmm_error("KVM_CREATE_VCPU %u: %s", index, strerror(errno));
		return r;
	}
	run = mmap(NULL, vm->acc->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (run == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu) {
		munmap(run, vm->acc->run_size);
		close(fd);
		return -ENOMEM;
	}
	vcpu->vm = vm;
	vcpu->fd = fd;
	vcpu->index = index;
	vcpu->run = run;
	*out = vcpu;
	return 0;
}

static void kvm_vcpu_destroy(struct accel_vcpu *vcpu)
{
	if (!vcpu)
		return;
	munmap(vcpu->run, vcpu->vm->acc->run_size);
	close(vcpu->fd);
	free(vcpu);
}

static void kvm_vcpu_request_exit(struct accel_vcpu *vcpu)
{
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

static void decode_system_event(struct kvm_run *run, struct accel_exit *exit)
{
	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		exit->kind = ACCEL_EXIT_SYSTEM_OFF;
		break;
	case KVM_SYSTEM_EVENT_RESET:
		exit->kind = ACCEL_EXIT_SYSTEM_RESET;
		break;
	case KVM_SYSTEM_EVENT_CRASH:
		exit->kind = ACCEL_EXIT_SYSTEM_CRASH;
		break;
	default:
		exit->kind = ACCEL_EXIT_OTHER;
		break;
	}
}

static int kvm_vcpu_run(struct accel_vcpu *vcpu, struct accel_exit *exit)
{
	struct kvm_run *run = vcpu->run;

	memset(exit, 0, sizeof(*exit));
	if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			__atomic_store_n(&run->immediate_exit, 0,
					 __ATOMIC_SEQ_CST);
			exit->kind = ACCEL_EXIT_INTERRUPTED;
			return 0;
		}
		return -errno;
	}
	exit->raw_reason = run->exit_reason;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		exit->kind = ACCEL_EXIT_IO;
		exit->io.port = run->io.port;
		exit->io.size = run->io.size;
		exit->io.write = run->io.direction == KVM_EXIT_IO_OUT;
		exit->io.count = run->io.count;
		/* data_offset comes from the kernel, but check it anyway. */
		if (run->io.data_offset >= vcpu->vm->acc->run_size ||
		    (uint64_t)run->io.size * run->io.count >
		    vcpu->vm->acc->run_size - run->io.data_offset) {
			exit->kind = ACCEL_EXIT_ERROR;
			break;
		}
		exit->io.data = (uint8_t *)run + run->io.data_offset;
		break;
	case KVM_EXIT_MMIO:
		exit->kind = ACCEL_EXIT_MMIO;
		exit->mmio.addr = run->mmio.phys_addr;
		exit->mmio.len = MIN(run->mmio.len, (uint32_t)sizeof(run->mmio.data));
		exit->mmio.write = run->mmio.is_write;
		exit->mmio.data = run->mmio.data;
		break;
	case KVM_EXIT_INTR:
		exit->kind = ACCEL_EXIT_INTERRUPTED;
		break;
	case KVM_EXIT_HLT:
		exit->kind = ACCEL_EXIT_HLT;
		break;
	case KVM_EXIT_SHUTDOWN:
		exit->kind = ACCEL_EXIT_SHUTDOWN;
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		decode_system_event(run, exit);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		exit->kind = ACCEL_EXIT_ERROR;
		exit->error.suberror = run->internal.suberror;
		exit->error.data0 = run->internal.ndata ? run->internal.data[0] : 0;
		break;
	case KVM_EXIT_FAIL_ENTRY:
		exit->kind = ACCEL_EXIT_ERROR;
		exit->error.data0 =
			run->fail_entry.hardware_entry_failure_reason;
		break;
	default:
		if (!kvm_arch_decode_exit(vcpu, exit))
			exit->kind = ACCEL_EXIT_OTHER;
		break;
	}
	return 0;
}

const struct accel_ops accel_kvm_ops = {
	.name = "kvm",
	.open = kvm_open,
	.close = kvm_close,
	.max_vcpus = kvm_max_vcpus,
	.vm_create = kvm_vm_create,
	.vm_destroy = kvm_vm_destroy,
	.vm_add_memory = kvm_vm_add_memory,
	.vm_set_irq = kvm_vm_set_irq,
	.vm_add_ioeventfd = kvm_vm_add_ioeventfd,
	.vm_add_ioeventfd_match = kvm_vm_add_ioeventfd_match,
	.vm_add_irqfd = kvm_vm_add_irqfd,
	.vcpu_create = kvm_vcpu_create,
	.vcpu_destroy = kvm_vcpu_destroy,
	.vcpu_run = kvm_vcpu_run,
	.vcpu_request_exit = kvm_vcpu_request_exit,
#if defined(__x86_64__)
	.vcpu_describe = kvm_x86_vcpu_describe,
	.x86 = &kvm_x86_ops,
#elif defined(__riscv)
	.riscv = &kvm_riscv_ops,
#endif
};

const char *accel_exit_kind_name(enum accel_exit_kind kind)
{
	static const char *const names[ACCEL_EXIT__COUNT] = {
		[ACCEL_EXIT_IO] = "io",
		[ACCEL_EXIT_MMIO] = "mmio",
		[ACCEL_EXIT_INTERRUPTED] = "interrupted",
		[ACCEL_EXIT_HLT] = "hlt",
		[ACCEL_EXIT_SHUTDOWN] = "shutdown",
		[ACCEL_EXIT_SYSTEM_RESET] = "system-reset",
		[ACCEL_EXIT_SYSTEM_OFF] = "system-off",
		[ACCEL_EXIT_SYSTEM_CRASH] = "system-crash",
		[ACCEL_EXIT_ERROR] = "error",
		[ACCEL_EXIT_HYPERCALL] = "hypercall",
		[ACCEL_EXIT_OTHER] = "other",
	};

	return kind < ACCEL_EXIT__COUNT ? names[kind] : "?";
}
