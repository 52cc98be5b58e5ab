// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvext-kmod-test, the requests added to API version 1: remote fences
 * (DUVISOR_REMOTE_FENCE, SBI RFENCE's half in the module) and exceptions
 * raised in the guest (DUVISOR_INJECT_EXCEPTION).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dvext-kmod-test.h"

#define INSN_CSRR_T1_HGATP	0x68002373u	/* csrr t1, 0x680 */
#define SR_SIE			(1ULL << 1)
#define SR_SPIE			(1ULL << 5)
#define SR_SPP			(1ULL << 8)

static struct duvisor_fence fence(uint32_t kind, uint64_t mask, uint64_t base)
{
	return (struct duvisor_fence){ .kind = kind, .vcpu_mask = mask,
				       .vcpu_base = base };
}

static void fence_errors(int vm)
{
	struct duvisor_fence f;

	f = fence(0, 1, 0);
	check_errno(vm, DUVISOR_REMOTE_FENCE, &f, EINVAL, "fence.bad-kind");
	f = fence(4, 1, 0);
	check_errno(vm, DUVISOR_REMOTE_FENCE, &f, EINVAL, "fence.kind-too-big");
	f = fence(DUVISOR_FENCE_I, 1, 0);
	f.flags = 1;
	check_errno(vm, DUVISOR_REMOTE_FENCE, &f, EINVAL, "fence.flags");
	f = fence(DUVISOR_FENCE_I, 1, 0);
	f.reserved[1] = 1;
	check_errno(vm, DUVISOR_REMOTE_FENCE, &f, EINVAL, "fence.reserved");
	f = fence(DUVISOR_FENCE_I, 1, 0);
	f.size = 4096;
	check_errno(vm, DUVISOR_REMOTE_FENCE, &f, EINVAL, "fence.i-with-range");
	f = fence(DUVISOR_FENCE_VVMA, 1, 0);
	f.asid = 1;
	check_errno(vm, DUVISOR_REMOTE_FENCE, &f, EINVAL, "fence.vvma-with-asid");
	f = fence(DUVISOR_FENCE_VVMA_ASID, 1, 0);
	f.asid = DUVISOR_FENCE_ASID_LIMIT;
	check_errno(vm, DUVISOR_REMOTE_FENCE, &f, EINVAL, "fence.asid-too-big");
	f = fence(DUVISOR_FENCE_VVMA, 1, 0);
	f.start = ~0ULL - 4095;
	f.size = 8192;
	check_errno(vm, DUVISOR_REMOTE_FENCE, &f, EINVAL, "fence.range-wraps");
	f = fence(DUVISOR_FENCE_I, 1ULL << 5, 0);
	check_errno(vm, DUVISOR_REMOTE_FENCE, &f, EINVAL, "fence.no-such-vcpu");
	f = fence(DUVISOR_FENCE_I, 1, 1ULL << 40);
	check_errno(vm, DUVISOR_REMOTE_FENCE, &f, EINVAL, "fence.base-too-big");
	f = fence(DUVISOR_FENCE_I, 1ULL << 63, ~0ULL - 1);
	check_errno(vm, DUVISOR_REMOTE_FENCE, &f, EINVAL, "fence.id-wraps");
	check_errno(vm, DUVISOR_REMOTE_FENCE, (void *)8, EFAULT, "fence.bad-pointer");
}

/* vCPU 1 spins in the guest on its own thread until told to stop. */
struct spinner {
	int vcpu;
	struct duvisor_run *rs;
	int ret;
};

static void *spin_thread(void *p)
{
	struct spinner *s = p;

	if (ioctl(s->vcpu, DUVISOR_REGISTER_VCPU, 0) < 0) {
		s->ret = -errno;
		return NULL;
	}
	s->rs->pc = GUEST_BASE + GOFF(guest_spin);
	/* Only immediate_exit ends it: the guest never exits by itself. */
	s->ret = ioctl(s->vcpu, DUVISOR_RUN, 0) < 0 ? -errno : 0;
	return NULL;
}

/* Until the spinner's fence count reaches n (the module runs it at the
 * re-entry that follows its kick), at most 5 s. */
static int wait_fences(struct duvisor_run *rs, uint64_t n)
{
	for (int i = 0; i < 500; i++) {
		if (__atomic_load_n(&rs->stat_fences, __ATOMIC_ACQUIRE) >= n)
			return 1;
		usleep(10000);
	}
	return 0;
}

void test_remote_fence(void)
{
	struct duvisor_info info;
	struct duvisor_fence f;
	struct spinner sp = { 0 };
	struct duvisor_run *rs;
	pthread_t th;
	struct vm v;
	uint64_t exits;
	int c0;

	ioctl(dev_fd, DUVISOR_GET_INFO, &info);
	check(info.features & DUVISOR_FEATURE_REMOTE_FENCE, "fence.feature",
	      "features %#x", info.features);
	v = make_vm(1, DUVISOR_EDELEG_ALLOWED);
	c0 = ioctl(v.vm, DUVISOR_CREATE_VCPU, 0);
	sp.vcpu = ioctl(v.vm, DUVISOR_CREATE_VCPU, 1);
	rs = map_run(c0);
	sp.rs = map_run(sp.vcpu);
	if (!rs || !sp.rs) {
		check(0, "fence.setup", "vcpus %d %d", c0, sp.vcpu);
		return;
	}
	fence_errors(v.vm);

	/* Honoured at the next entry, once, however many were merged. */
	ioctl(c0, DUVISOR_REGISTER_VCPU, 0);
	f = fence(DUVISOR_FENCE_I, 1, 0);
	check(ioctl(v.vm, DUVISOR_REMOTE_FENCE, &f) == 0 && rs->stat_fences == 0,
	      "fence.posted", "%s, fences %llu", strerror(errno), rs->stat_fences);
	f = fence(DUVISOR_FENCE_VVMA_ASID, 1, 0);
	f.asid = 0;
	f.start = 0x80001000;
	f.size = 8192;
	check(ioctl(v.vm, DUVISOR_REMOTE_FENCE, &f) == 0, "fence.vvma-asid-range",
	      "%s", strerror(errno));
	f.start = 0x80004000;	/* a second range: merged into a full fence */
	check(ioctl(v.vm, DUVISOR_REMOTE_FENCE, &f) == 0, "fence.vvma-asid-other-range",
	      "%s", strerror(errno));
	rs->pc = GUEST_BASE;
	if (expect_trap(c0, rs, DUVISOR_EXC_VS_ECALL, "fence.guest-ran"))
		check(rs->stat_fences == 1, "fence.run-at-next-entry", "fences %llu",
		      rs->stat_fences);
	rs->pc += 4;
	expect_trap(c0, rs, DUVISOR_EXC_STORE_GUEST_PF, "fence.guest-ran-again");
	check(rs->stat_fences == 1, "fence.only-once", "fences %llu", rs->stat_fences);

	/*
	 * A target in the guest: kicked out and fenced on its way back in,
	 * without an exit to user space, and every vCPU with base ~0.
	 */
	pthread_create(&th, NULL, spin_thread, &sp);
	usleep(300000);
	exits = sp.rs->stat_exits;
	f = fence(DUVISOR_FENCE_VVMA, 0, DUVISOR_FENCE_ALL_VCPUS);
	check(ioctl(v.vm, DUVISOR_REMOTE_FENCE, &f) == 0, "fence.all-vcpus",
	      "%s", strerror(errno));
	check(wait_fences(sp.rs, 1) && sp.rs->stat_exits == exits,
	      "fence.running-target", "fences %llu, exits %llu (were %llu)",
	      sp.rs->stat_fences, sp.rs->stat_exits, (unsigned long long)exits);
	__atomic_store_n(&sp.rs->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	check(sp.ret == -EINTR, "fence.spinner-stopped", "RUN: %d", sp.ret);
	rs->pc += 4;
	expect_trap(c0, rs, DUVISOR_EXC_LOAD_GUEST_PF, "fence.all-vcpus-ran");
	check(rs->stat_fences == 2, "fence.all-vcpus-honoured", "fences %llu",
	      rs->stat_fences);

	munmap(rs, DUVISOR_RUN_SIZE);
	munmap(sp.rs, DUVISOR_RUN_SIZE);
	close(c0);
	close(sp.vcpu);
	close(v.vm);
	munmap(v.mem, GUEST_SIZE);
}

static void *inject_other_thread(void *p)
{
	struct duvisor_exception e = { .cause = 2 };

	return (void *)(long)(ioctl(*(int *)p, DUVISOR_INJECT_EXCEPTION, &e) < 0 ?
			      errno : 0);
}

static void inject_errors(int vcpu)
{
	struct duvisor_exception e = { 0 };
	static const uint64_t bad[] = {
		9, 10, 11, 14, 16, 20, 21, 22, 23, 63, 64, 1ULL << 63 | 2, ~0ULL,
	};
	char name[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.cause = bad[i];
		snprintf(name, sizeof(name), "inject.bad-cause-%#" PRIx64, bad[i]);
		check_errno(vcpu, DUVISOR_INJECT_EXCEPTION, &e, EINVAL, name);
	}
	e = (struct duvisor_exception){ .cause = 2, .reserved = { 0, 1 } };
	check_errno(vcpu, DUVISOR_INJECT_EXCEPTION, &e, EINVAL, "inject.reserved");
	check_errno(vcpu, DUVISOR_INJECT_EXCEPTION, (void *)8, EFAULT, "inject.bad-pointer");
}

/*
 * The guest reads hgatp, a virtual instruction: user space answers with
 * an illegal instruction, which the guest's own handler takes.
 */
void test_inject_exception(void)
{
	struct duvisor_info info;
	struct duvisor_run *rs;
	struct vm v;
	pthread_t th;
	void *ret;
	int vcpu;

	ioctl(dev_fd, DUVISOR_GET_INFO, &info);
	check(info.features & DUVISOR_FEATURE_INJECT_EXC, "inject.feature",
	      "features %#x", info.features);
	v = make_vm(1, DUVISOR_EDELEG_ALLOWED);
	vcpu = ioctl(v.vm, DUVISOR_CREATE_VCPU, 0);
	rs = map_run(vcpu);
	if (!rs) {
		check(0, "inject.setup", "vcpu %d", vcpu);
		return;
	}
	inject_errors(vcpu);
	ioctl(vcpu, DUVISOR_REGISTER_VCPU, 0);
	pthread_create(&th, NULL, inject_other_thread, &vcpu);
	pthread_join(th, &ret);
	check((long)ret == EBUSY, "inject.other-thread", "errno %ld", (long)ret);

	rs->pc = GUEST_BASE + GOFF(guest_exc);
	if (!expect_trap(vcpu, rs, DUVISOR_EXC_VIRTUAL_INST, "inject.virtual-instruction"))
		goto out;
	check(rs->pc == GUEST_BASE + GOFF(guest_exc_csr) &&
	      rs->trap.stval == INSN_CSRR_T1_HGATP, "inject.virtual-instruction.stval",
	      "pc %#llx stval %#llx", rs->pc, rs->trap.stval);
	{
		struct duvisor_exception e = { .cause = 2, .tval = rs->trap.stval };

		check(ioctl(vcpu, DUVISOR_INJECT_EXCEPTION, &e) == 0 &&
		      rs->pc == GUEST_BASE + GOFF(guest_exc_handler), "inject.pc-at-handler",
		      "%s, pc %#llx", strerror(errno), rs->pc);
	}
	if (!expect_trap(vcpu, rs, DUVISOR_EXC_VS_ECALL, "inject.handler-ran"))
		goto out;
	check(rs->regs[17] == EXC_EXT, "inject.guest-took-it", "a7 %#llx", rs->regs[17]);
	check(rs->regs[10] == 2, "inject.guest-scause", "scause %#llx", rs->regs[10]);
	check(rs->regs[11] == INSN_CSRR_T1_HGATP, "inject.guest-stval", "stval %#llx",
	      rs->regs[11]);
	check(rs->regs[12] == GUEST_BASE + GOFF(guest_exc_csr), "inject.guest-sepc",
	      "sepc %#llx", rs->regs[12]);
	/* It came from VS-mode with interrupts off: SPP 1, SPIE 0, SIE 0. */
	check((rs->regs[13] & (SR_SPP | SR_SPIE | SR_SIE)) == SR_SPP,
	      "inject.guest-sstatus", "sstatus %#llx", rs->regs[13]);
out:
	munmap(rs, DUVISOR_RUN_SIZE);
	close(vcpu);
	close(v.vm);
	munmap(v.mem, GUEST_SIZE);
}
