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
int kvm_loop(long n);

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct kvm_guest {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	void *mem;
};

static int kvm_guest_open(struct kvm_guest *g)
{
	/* li a7, 1; li a0, 'x'; 1: ecall; j 1b */
	static const uint32_t code[] = { 0x00100893, 0x07800513, 0x00000073, 0xffdff06f };
	struct kvm_userspace_memory_region mr = { 0 };
	struct kvm_one_reg reg;
	uint64_t pc = KVM_BASE;

	g->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	g->vm = g->kvm < 0 ? -1 : ioctl(g->kvm, KVM_CREATE_VM, 0);
	if (g->vm < 0) {
		printf("# KVM: %s\n", strerror(errno));
		return -1;
	}
	g->mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(g->mem, code, sizeof(code));
	mr.guest_phys_addr = KVM_BASE;
	mr.memory_size = 1 << 20;
	mr.userspace_addr = (uintptr_t)g->mem;
	g->vcpu = -1;
	if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &mr) == 0)
		g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	if (g->vcpu < 0) {
		printf("# KVM vCPU: %s\n", strerror(errno));
		return -1;
	}
	g->run = mmap(NULL, ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0), PROT_READ | PROT_WRITE,
		      MAP_SHARED, g->vcpu, 0);
	reg.id = KVM_REG_RISCV | KVM_REG_SIZE_U64 | KVM_REG_RISCV_CORE |
		 KVM_REG_RISCV_CORE_REG(regs.pc);
	reg.addr = (uintptr_t)&pc;
	return ioctl(g->vcpu, KVM_SET_ONE_REG, &reg);
}

static void kvm_guest_close(struct kvm_guest *g)
{
	close(g->vcpu);
	close(g->vm);
	close(g->kvm);
	munmap(g->mem, 1 << 20);
}

/* n exits, each checked: the SBI call and its argument as the guest set them. */
static long kvm_exits(struct kvm_guest *g, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		int r = ioctl(g->vcpu, KVM_RUN, 0);

		if (r < 0 && errno == EINTR) {
			i--;
			continue;
		}
		if (r < 0 || g->run->exit_reason != KVM_EXIT_RISCV_SBI ||
		    g->run->riscv_sbi.extension_id != 1 ||
		    g->run->riscv_sbi.args[0] != 'x') {
			printf("# KVM exit %ld: ret %d errno %d reason %u ext %#lx a0 %#lx\n",
			       i, r, r < 0 ? errno : 0, g->run->exit_reason,
			       g->run->riscv_sbi.extension_id, g->run->riscv_sbi.args[0]);
			break;
		}
		/* KVM puts ret[0] in a0: keep the guest's 'x' for the next check. */
		g->run->riscv_sbi.ret[0] = 'x';
	}
	return i;
}

/* Returns 0 when all n exits were right. */
int kvm_loop(long n)
{
	struct kvm_guest g;
	long done;

	if (kvm_guest_open(&g) < 0)
		return -1;
	done = kvm_exits(&g, n);
	kvm_guest_close(&g);
	return done == n ? 0 : -1;
}

int bench_kvm(long n)
{
	struct kvm_guest g;
	double t0, t;
	long i;

	if (kvm_guest_open(&g) < 0)
		return -1;
	kvm_exits(&g, 1);	/* warm up */
	t0 = now_ns();
	i = kvm_exits(&g, n);
	t = now_ns() - t0;
	printf("%s bench.kvm%s\n", i == n ? "PASS" : "FAIL", i == n ? "" : ": exit not SBI");
	printf("BENCH kvm-sbi-forward-roundtrip ns=%.0f n=%ld\n", t / n, n);
	kvm_guest_close(&g);
	return 0;
}
