// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The KVM side of dvext-kmod-test's exit round-trip measurement: a guest
 * looping on the legacy SBI console putchar, which KVM RISC-V (6.1)
 * forwards to user space as KVM_EXIT_RISCV_SBI and completes itself
 * (pc + 4) on the next KVM_RUN.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#define KVM_BASE	0x80000000ULL

int bench_kvm(long n);

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int bench_kvm(long n)
{
	/* li a7, 1; li a0, 'x'; 1: ecall; j 1b */
	static const uint32_t code[] = { 0x00100893, 0x07800513, 0x00000073, 0xffdff06f };
	struct kvm_userspace_memory_region mr = { 0 };
	struct kvm_one_reg reg;
	struct kvm_run *run;
	uint64_t pc = KVM_BASE;
	int kvm, vm, vcpu;
	double t0, t;
	long i;
	void *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		printf("# KVM: %s\n", strerror(errno));
		return -1;
	}
	mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(mem, code, sizeof(code));
	mr.guest_phys_addr = KVM_BASE;
	mr.memory_size = 1 << 20;
	mr.userspace_addr = (uintptr_t)mem;
	vcpu = -1;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &mr) == 0)
		vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) {
		printf("# KVM vCPU: %s\n", strerror(errno));
		return -1;
	}
	run = mmap(NULL, ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE,
		   MAP_SHARED, vcpu, 0);
	reg.id = KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE |
		 KVM_REG_RISCV_CORE_REG(regs.pc);
	reg.addr = (uintptr_t)&pc;
	ioctl(vcpu, KVM_SET_ONE_REG, &reg);
	ioctl(vcpu, KVM_RUN, 0);	/* warm up */
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_RISCV_SBI)
			break;
	t = now_ns() - t0;
	printf("%s bench.kvm%s\n", i == n ? "PASS" : "FAIL", i == n ? "" : ": exit not SBI");
	printf("BENCH kvm-sbi-forward-roundtrip ns=%.0f n=%ld\n", t / n, n);
	close(vcpu);
	close(vm);
	close(kvm);
	munmap(mem, 1 << 20);
	return 0;
}
