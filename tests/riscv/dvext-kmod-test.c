// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvext-kmod-test: exercises /dev/duvisor (kmod/, trap mode) inside the
 * riscv64 test host.  Static riscv64 binary, built by
 * tests/riscv/build-kmod-test; run by tests/riscv/kmod-scenario after
 * insmod.  Prints one "PASS name" or "FAIL name: why" line per check,
 * "BENCH name ns=N" lines, and exits 1 if anything failed.
 *
 *   dvext-kmod-test [--bench N]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../../kmod/include/uapi/linux/duvisor.h"

#include "dvext-kmod-test.h"

static int failures;

void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS %s\n", name);
	} else {
		failures++;
		printf("FAIL %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

/* An ioctl expected to fail with err. */
void check_errno(int fd, unsigned long req, void *arg, int err,
			const char *name)
{
	int r = ioctl(fd, req, arg);

	check(r < 0 && errno == err, name, "ioctl returned %d errno %d (%s), expected %s",
	      r, r < 0 ? errno : 0, r < 0 ? strerror(errno) : "-", strerror(err));
}

/*
 * The guest: position independent, copied to GUEST_BASE, run in VS-mode
 * with vsatp = 0 (guest virtual = guest physical).
 */

__asm__(
	"	.section .rodata\n"
	"	.balign 4\n"
	"	.option push\n"
	"	.option norvc\n"
	"	.globl	guest_start, guest_bench, guest_spin, guest_exc\n"
	"	.globl	guest_exc_csr, guest_exc_handler\n"	/* the other files */
	"guest_start:\n"
	"	lla	t0, guest_handler\n"
	"	csrw	stvec, t0\n"
	"	li	a7, 0x10\n"		/* SBI base: get_spec_version */
	"	li	a6, 0\n"
	"guest_ecall:\n"
	"	ecall\n"
	"	mv	s1, a1\n"
	"	li	t1, 0x10000000\n"
	"	li	t2, 0x1234abcd\n"
	"guest_sw:\n"
	"	sw	t2, 0(t1)\n"		/* MMIO store: not guest RAM */
	"guest_lw:\n"
	"	lw	t3, 8(t1)\n"		/* MMIO load */
	"	li	s0, 0x10000000\n"
	"	.option rvc\n"
	"guest_clw:\n"
	"	c.lw	a2, 4(s0)\n"		/* a compressed MMIO load */
	"	.option norvc\n"
	"	add	t3, t3, a2\n"
	"	mv	a0, t3\n"
	"	mv	a1, s1\n"
	"	li	a7, 0x0A000001\n"
	"	ecall\n"
	"guest_wfi:\n"
	"	wfi\n"				/* hstatus.VTW: a virtual instruction */
	"	li	t0, 0x200\n"
	"	csrs	sie, t0\n"		/* SEIE, i.e. VSEIP for us */
	"	csrsi	sstatus, 2\n"
	"1:	j	1b\n"			/* until user space injects VSEIP */
	"	.balign 4\n"
	"guest_handler:\n"
	"	csrr	a0, scause\n"
	"	csrr	a1, sepc\n"
	"	li	a7, 0x0A000002\n"
	"	ecall\n"
	"	li	a7, 0x08\n"		/* legacy shutdown */
	"	ecall\n"
	"2:	j	2b\n"
	"guest_bench:\n"
	"	li	a7, 0x0A000003\n"
	"3:	ecall\n"
	"	j	3b\n"
	"guest_fp:\n"
	"	li	t0, 0x2000\n"		/* vsstatus.FS = Initial */
	"	csrs	sstatus, t0\n"
	"	li	t1, 0x1122334455667788\n"
	"	fmv.d.x	f5, t1\n"
	"	li	a7, 0x0A000004\n"
	"	ecall\n"
	"	fmv.x.d	a0, f5\n"
	"	ecall\n"
	"4:	j	4b\n"
	"guest_spin:\n"
	"	j	guest_spin\n"
	"guest_exc:\n"				/* dvext-kmod-requests.c */
	"	lla	t0, guest_exc_handler\n"
	"	csrw	stvec, t0\n"
	"guest_exc_csr:\n"
	"	csrr	t1, 0x680\n"		/* hgatp: a virtual instruction */
	"	li	a7, 0x0A000005\n"	/* not reached if it was raised */
	"	ecall\n"
	"	.balign 4\n"
	"guest_exc_handler:\n"
	"	csrr	a0, scause\n"
	"	csrr	a1, stval\n"
	"	csrr	a2, sepc\n"
	"	csrr	a3, sstatus\n"
	"	li	a7, 0x0A000006\n"
	"	ecall\n"
	"5:	j	5b\n"
	"guest_end:\n"
	"	.option pop\n"
	"	.text\n");

int dev_fd;

struct vm make_vm(int with_mem, uint64_t edeleg)
{
	struct duvisor_memory_region r = { 0 };
	struct duvisor_deleg d = { .edeleg = edeleg };
	struct vm v = { -1, NULL };

	v.vm = ioctl(dev_fd, DUVISOR_CREATE_VM, 0);
	if (v.vm < 0)
		return v;
	if (ioctl(v.vm, DUVISOR_REQUEST_DELEG, &d) < 0)
		printf("# REQUEST_DELEG: %s\n", strerror(errno));
	if (!with_mem)
		return v;
	v.mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(v.mem, guest_start, GOFF(guest_end));
	r.guest_phys_addr = GUEST_BASE;
	r.size = GUEST_SIZE;
	r.userspace_addr = (uintptr_t)v.mem;
	if (ioctl(v.vm, DUVISOR_SET_MEMORY_REGION, &r) < 0)
		printf("# SET_MEMORY_REGION: %s\n", strerror(errno));
	return v;
}

struct duvisor_run *map_run(int vcpu)
{
	void *p = mmap(NULL, DUVISOR_RUN_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, vcpu, 0);

	return p == MAP_FAILED ? NULL : p;
}

int run(int vcpu, struct duvisor_run *rs)
{
	int r;

	do {
		r = ioctl(vcpu, DUVISOR_RUN, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		printf("# RUN: %s\n", strerror(errno));
	return r < 0 ? -1 : (int)rs->exit_reason;
}

int expect_trap(int vcpu, struct duvisor_run *rs, uint64_t cause,
		       const char *name)
{
	int reason = run(vcpu, rs);

	check(reason == DUVISOR_EXIT_TRAP && rs->trap.scause == cause, name,
	      "exit %d cause %#" PRIx64 " (expected trap, cause %#" PRIx64 ") pc %#" PRIx64,
	      reason, (uint64_t)rs->trap.scause, cause, (uint64_t)rs->pc);
	return reason == DUVISOR_EXIT_TRAP && rs->trap.scause == cause;
}

struct inject_arg {
	int vcpu;
	unsigned int delay_ms;
};

static void *inject_thread(void *p)
{
	struct inject_arg *a = p;
	struct duvisor_irq irq = { DUVISOR_VIRQ_VS_EXT, 1 };

	usleep(a->delay_ms * 1000);
	if (ioctl(a->vcpu, DUVISOR_SET_IRQ, &irq) < 0)
		printf("# SET_IRQ (thread): %s\n", strerror(errno));
	return NULL;
}

/* The guest program, exit by exit. */
static void test_guest(void)
{
	struct duvisor_irq irq = { DUVISOR_VIRQ_VS_EXT, 1 };
	struct inject_arg ia;
	struct duvisor_run *rs;
	pthread_t th;
	struct vm v;
	int vcpu;

	v = make_vm(1, DUVISOR_EDELEG_ALLOWED);
	vcpu = ioctl(v.vm, DUVISOR_CREATE_VCPU, 0);
	rs = map_run(vcpu);
	check(v.vm >= 0 && v.mem && vcpu >= 0 && rs, "guest.setup", "vm %d vcpu %d", v.vm, vcpu);
	if (!rs)
		return;
	check_errno(vcpu, DUVISOR_RUN, NULL, EPERM, "run.unregistered");
	check(ioctl(vcpu, DUVISOR_REGISTER_VCPU, 0) == 0, "vcpu.register", "%s", strerror(errno));
	rs->pc = GUEST_BASE;

	/* 1: an SBI call, forwarded with its registers. */
	if (expect_trap(vcpu, rs, DUVISOR_EXC_VS_ECALL, "exit.sbi-ecall")) {
		check(rs->regs[17] == SBI_EXT_BASE && rs->regs[16] == 0 &&
		      rs->trap.sepc == GUEST_BASE + GOFF(guest_ecall) && rs->pc == rs->trap.sepc,
		      "exit.sbi-ecall.regs", "a7 %#llx a6 %#llx sepc %#llx",
		      rs->regs[17], rs->regs[16], rs->trap.sepc);
		rs->regs[10] = 0;		/* SBI_SUCCESS */
		rs->regs[11] = 2ULL << 24;	/* SBI v2.0 */
		rs->pc += 4;
	}
	/* 2: the MMIO store: a store guest-page fault with the address. */
	if (expect_trap(vcpu, rs, DUVISOR_EXC_STORE_GUEST_PF, "exit.mmio-store")) {
		uint32_t insn = (uint32_t)rs->trap.insn;

		check(rs->trap.gpa == MMIO_ADDR && rs->trap.htval == MMIO_ADDR >> 2 &&
		      rs->pc == GUEST_BASE + GOFF(guest_sw),
		      "exit.mmio-store.addr", "gpa %#llx htval %#llx pc %#llx",
		      rs->trap.gpa, rs->trap.htval, rs->pc);
		/* sw rs2=t2 (x7), funct3 2, opcode 0x23 */
		check((insn & 0x7f) == 0x23 && ((insn >> 12) & 7) == 2 &&
		      ((insn >> 20) & 31) == 7 && rs->regs[7] == 0x1234abcd,
		      "exit.mmio-store.decode", "insn %#x (htinst %#llx) t2 %#llx",
		      insn, rs->trap.htinst, rs->regs[7]);
		check(insn == *(uint32_t *)(v.mem + (rs->pc - GUEST_BASE)),
		      "exit.mmio-store.insn", "insn %#x", insn);
		printf("# htinst on the store fault: %#llx\n", rs->trap.htinst);
		rs->pc += 4;
	}
	/* 3: the MMIO load; user space supplies the value. */
	if (expect_trap(vcpu, rs, DUVISOR_EXC_LOAD_GUEST_PF, "exit.mmio-load")) {
		check(rs->trap.gpa == MMIO_ADDR + 8 && rs->pc == GUEST_BASE + GOFF(guest_lw),
		      "exit.mmio-load.addr", "gpa %#llx pc %#llx", rs->trap.gpa, rs->pc);
		check(rs->trap.insn == 0x00832e03, "exit.mmio-load.insn", "insn %#llx",
		      rs->trap.insn);
		rs->regs[28] = 0x5a5a;	/* t3 */
		rs->pc += 4;
	}
	/* 3b: a compressed MMIO load: 16 bits of instruction. */
	if (expect_trap(vcpu, rs, DUVISOR_EXC_LOAD_GUEST_PF, "exit.mmio-load-compressed")) {
		check(rs->trap.gpa == MMIO_ADDR + 4 && rs->pc == GUEST_BASE + GOFF(guest_clw) &&
		      rs->trap.insn == *(uint16_t *)(v.mem + (rs->pc - GUEST_BASE)) &&
		      (rs->trap.insn & 3) != 3, "exit.mmio-load-compressed.insn",
		      "gpa %#llx pc %#llx insn %#llx", rs->trap.gpa, rs->pc, rs->trap.insn);
		rs->regs[12] = 0x100;	/* a2 */
		rs->pc += 2;
	}
	/* 4: the guest reports what it saw. */
	if (expect_trap(vcpu, rs, DUVISOR_EXC_VS_ECALL, "exit.report")) {
		check(rs->regs[17] == REPORT_EXT && rs->regs[10] == 0x5b5a &&
		      rs->regs[11] == 2ULL << 24, "guest.saw-values",
		      "a7 %#llx a0 %#llx a1 %#llx", rs->regs[17], rs->regs[10], rs->regs[11]);
		rs->pc += 4;
	}
	/* 5: wfi is a virtual instruction fault (hstatus.VTW). */
	if (expect_trap(vcpu, rs, DUVISOR_EXC_VIRTUAL_INST, "exit.wfi")) {
		check(rs->trap.stval == WFI_INSN && rs->pc == GUEST_BASE + GOFF(guest_wfi),
		      "exit.wfi.stval", "stval %#llx pc %#llx", rs->trap.stval, rs->pc);
		rs->pc += 4;
	}
	/*
	 * 6: the guest spins with interrupts on; another thread raises VSEIP
	 * while it runs (the module kicks the vCPU out and back in).
	 */
	check_errno(vcpu, DUVISOR_SET_IRQ, &(struct duvisor_irq){ 9, 1 }, EINVAL, "irq.bad-number");
	check_errno(vcpu, DUVISOR_SET_IRQ, &(struct duvisor_irq){ 10, 2 }, EINVAL, "irq.bad-level");
	ia.vcpu = vcpu;
	ia.delay_ms = 200;
	pthread_create(&th, NULL, inject_thread, &ia);
	if (expect_trap(vcpu, rs, DUVISOR_EXC_VS_ECALL, "exit.irq-handler")) {
		check(rs->regs[17] == IRQ_EXT && rs->regs[10] == (CAUSE_IRQ | 9),
		      "irq.injected", "a7 %#llx guest scause %#llx", rs->regs[17], rs->regs[10]);
		printf("# host interrupts while in the guest so far: %llu\n",
		       rs->stat_host_irqs);
		irq.level = 0;
		check(ioctl(vcpu, DUVISOR_SET_IRQ, &irq) == 0, "irq.lower", "%s", strerror(errno));
		rs->pc += 4;
	}
	pthread_join(th, NULL);
	/* 7: the final ecall. */
	if (expect_trap(vcpu, rs, DUVISOR_EXC_VS_ECALL, "exit.shutdown"))
		check(rs->regs[17] == 0x08, "exit.shutdown.a7", "a7 %#llx", rs->regs[17]);
	check(rs->stat_exits == 8, "stat.exits", "%llu", rs->stat_exits);

	/* Undelegated: the same VS ecall, with nothing delegated. */
	{
		struct vm u = make_vm(1, 0);
		int c = ioctl(u.vm, DUVISOR_CREATE_VCPU, 0);
		struct duvisor_run *ur = map_run(c);

		/* One thread, one vCPU: the first must go first. */
		check_errno(c, DUVISOR_REGISTER_VCPU, NULL, EBUSY, "register.second-vcpu-same-thread");
		check(ioctl(vcpu, DUVISOR_UNREGISTER_VCPU, 0) == 0, "vcpu.unregister", "%s", strerror(errno));
		check(ioctl(c, DUVISOR_REGISTER_VCPU, 0) == 0, "vcpu.register-other", "%s", strerror(errno));
		ur->pc = GUEST_BASE;
		check(run(c, ur) == DUVISOR_EXIT_UNDELEGATED && ur->trap.scause == 10,
		      "exit.undelegated", "exit %u cause %llu", ur->exit_reason, ur->trap.scause);
		/* Closed while registered: the module unregisters. */
		munmap(ur, DUVISOR_RUN_SIZE);
		close(c);
		close(u.vm);
		munmap(u.mem, GUEST_SIZE);
	}
	munmap(rs, DUVISOR_RUN_SIZE);
	close(vcpu);
	close(v.vm);
	munmap(v.mem, GUEST_SIZE);
}

/*
 * RUN with the thread's own f5 set just before the syscall and read just
 * after it, in one asm statement so that nothing else touches it.
 */
static long run_with_user_f5(int vcpu, uint64_t *f5)
{
	register long a0 __asm__("a0") = vcpu;
	register long a1 __asm__("a1") = DUVISOR_RUN;
	register long a2 __asm__("a2") = 0;
	register long a7 __asm__("a7") = 29;	/* __NR_ioctl */
	uint64_t in = *f5, out;

	__asm__ volatile("fmv.d.x f5, %[in]\n\tecall\n\tfmv.x.d %[out], f5"
			 : "+r" (a0), [out] "=r" (out)
			 : [in] "r" (in), "r" (a1), "r" (a2), "r" (a7)
			 : "f5", "memory");
	*f5 = out;
	return a0;
}

/* The guest's FP registers and the thread's stay apart. */
static void test_guest_fp(void)
{
	struct vm v = make_vm(1, DUVISOR_EDELEG_ALLOWED);
	int c = ioctl(v.vm, DUVISOR_CREATE_VCPU, 0);
	struct duvisor_run *rs = map_run(c);
	uint64_t f5 = 0xdeadbeefcafef00dULL;
	long r;

	ioctl(c, DUVISOR_REGISTER_VCPU, 0);
	rs->pc = GUEST_BASE + GOFF(guest_fp);
	if (!expect_trap(c, rs, DUVISOR_EXC_VS_ECALL, "fp.guest-set"))
		goto out;
	rs->pc += 4;
	r = run_with_user_f5(c, &f5);
	check(r == 0 && rs->exit_reason == DUVISOR_EXIT_TRAP &&
	      rs->regs[10] == 0x1122334455667788ULL, "fp.guest-kept-its-f5",
	      "ret %ld exit %u a0 %#llx", r, rs->exit_reason, rs->regs[10]);
	check(f5 == 0xdeadbeefcafef00dULL, "fp.thread-kept-its-f5", "f5 %#llx",
	      (unsigned long long)f5);
	{
		struct duvisor_fp_regs fr;

		check(ioctl(c, DUVISOR_GET_FP_REGS, &fr) == 0 &&
		      fr.f[5] == 0x1122334455667788ULL, "fp.get-regs", "f5 %#llx", fr.f[5]);
		fr.f[5] = 42;
		check(ioctl(c, DUVISOR_SET_FP_REGS, &fr) == 0, "fp.set-regs", "%s", strerror(errno));
		rs->pc -= 4;	/* back to fmv.x.d a0, f5; ecall */
		check(run(c, rs) == DUVISOR_EXIT_TRAP && rs->regs[10] == 42,
		      "fp.guest-sees-set-regs", "a0 %#llx", rs->regs[10]);
		fr.reserved = 1;
		check_errno(c, DUVISOR_SET_FP_REGS, &fr, EINVAL, "fp.reserved");
	}
out:
	munmap(rs, DUVISOR_RUN_SIZE);
	close(c);
	close(v.vm);
	munmap(v.mem, GUEST_SIZE);
}

static void test_memory_errors(void)
{
	struct duvisor_memory_region r;
	struct duvisor_info info;
	struct vm v = make_vm(0, 0);
	uint8_t *ro, *mem;

	ioctl(dev_fd, DUVISOR_GET_INFO, &info);
	mem = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

#define REGION(g, s, u, f) (r = (struct duvisor_memory_region){ (g), (s), (uintptr_t)(u), (f), 0 }, &r)
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(GUEST_BASE + 1, 4096, mem, 0), EINVAL, "mem.unaligned-gpa");
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(GUEST_BASE, 4095, mem, 0), EINVAL, "mem.unaligned-size");
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(GUEST_BASE, 0, mem, 0), EINVAL, "mem.zero-size");
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(GUEST_BASE, 4096, mem + 8, 0), EINVAL, "mem.unaligned-uaddr");
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(GUEST_BASE, 4096, mem, 1), EINVAL, "mem.flags");
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION((1ULL << 41) - 4096, 8192, mem, 0), EINVAL, "mem.beyond-gpa-limit");
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(~0ULL - 4095, 8192, mem, 0), EINVAL, "mem.gpa-wraps");
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(GUEST_BASE, 4096, 0xffffffc000000000ULL, 0), EINVAL, "mem.kernel-uaddr");
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(GUEST_BASE, info.max_guest_bytes + 4096, mem, 0), E2BIG, "mem.too-much");
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(GUEST_BASE, 1 << 20, ro, 0), EFAULT, "mem.read-only");
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(GUEST_BASE, 4 << 20, (void *)0x1000, 0), EFAULT, "mem.unmapped");
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, (void *)8, EFAULT, "mem.bad-pointer");
	check(ioctl(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(GUEST_BASE, 2 << 20, mem, 0)) == 0,
	      "mem.ok", "%s", strerror(errno));
	check_errno(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(GUEST_BASE + (1 << 20), 2 << 20, mem + (2 << 20), 0), EEXIST, "mem.overlap");
	check(ioctl(v.vm, DUVISOR_SET_MEMORY_REGION, REGION(0x100000000ULL, 2 << 20, mem + (2 << 20), 0)) == 0,
	      "mem.second-region", "%s", strerror(errno));
	{
		struct duvisor_vm_info vi;

		ioctl(v.vm, DUVISOR_GET_VM_INFO, &vi);
		check(vi.nr_regions == 2 && vi.guest_bytes == 4 << 20 &&
		      vi.vmid >= info.vmid_first && vi.vmid <= info.vmid_last,
		      "vm.info", "regions %u bytes %llu vmid %u", vi.nr_regions, vi.guest_bytes, vi.vmid);
	}
	close(v.vm);
	munmap(mem, 4 << 20);
	munmap(ro, 1 << 20);
}

static void test_deleg_and_vcpus(void)
{
	struct duvisor_deleg d;
	struct vm v = make_vm(0, 0);
	int fds[20], n, i, ok;
	void *p;

	d = (struct duvisor_deleg){ 1ULL << 2, 0 };
	check_errno(v.vm, DUVISOR_REQUEST_DELEG, &d, EINVAL, "deleg.illegal-insn-refused");
	d = (struct duvisor_deleg){ 1ULL << 8, 0 };
	check_errno(v.vm, DUVISOR_REQUEST_DELEG, &d, EINVAL, "deleg.user-ecall-refused");
	d = (struct duvisor_deleg){ 0, 1ULL << 5 };
	check_errno(v.vm, DUVISOR_REQUEST_DELEG, &d, EINVAL, "deleg.s-timer-refused");
	d = (struct duvisor_deleg){ 0, ~0ULL };
	check_errno(v.vm, DUVISOR_REQUEST_DELEG, &d, EINVAL, "deleg.all-irqs-refused");
	d = (struct duvisor_deleg){ DUVISOR_EDELEG_ALLOWED, DUVISOR_IDELEG_ALLOWED };
	check(ioctl(v.vm, DUVISOR_REQUEST_DELEG, &d) == 0, "deleg.allowed", "%s", strerror(errno));

	/* More than the prototype's 8 vCPUs. */
	for (n = 0, ok = 1; n < 20; n++) {
		fds[n] = ioctl(v.vm, DUVISOR_CREATE_VCPU, n == 19 ? 255 : n);
		ok &= fds[n] >= 0;
	}
	check(ok, "vcpu.twenty", "%s", strerror(errno));
	check_errno(v.vm, DUVISOR_REQUEST_DELEG, &d, EBUSY, "deleg.after-vcpus");
	check_errno(v.vm, DUVISOR_CREATE_VCPU, (void *)3, EEXIST, "vcpu.duplicate-id");
	check_errno(v.vm, DUVISOR_CREATE_VCPU, (void *)256, EINVAL, "vcpu.id-too-big");
	check_errno(v.vm, DUVISOR_CREATE_VCPU, (void *)-1L, EINVAL, "vcpu.id-negative");
	check(ioctl(fds[0], DUVISOR_REGISTER_VCPU, 0) == 0, "register.first", "%s", strerror(errno));
	check_errno(fds[0], DUVISOR_REGISTER_VCPU, NULL, EBUSY, "register.double");
	check_errno(fds[1], DUVISOR_UNREGISTER_VCPU, NULL, EPERM, "unregister.not-ours");
	check_errno(fds[1], 0xdead, NULL, ENOTTY, "vcpu.unknown-ioctl");
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fds[1], 0);
	check(p == MAP_FAILED, "mmap.too-big", "mapped");
	p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fds[1], 0);
	check(p == MAP_FAILED, "mmap.exec", "mapped");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fds[1], 4096);
	check(p == MAP_FAILED, "mmap.offset", "mapped");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fds[1], 0);
	check(p == MAP_FAILED, "mmap.private", "mapped");
	{
		struct duvisor_vcpu_csrs c = { .vstvec = 0x80001000, .vsatp = 0 };

		check(ioctl(fds[1], DUVISOR_SET_CSRS, &c) == 0, "csrs.set", "%s", strerror(errno));
		memset(&c, 0, sizeof(c));
		check(ioctl(fds[1], DUVISOR_GET_CSRS, &c) == 0 && c.vstvec == 0x80001000,
		      "csrs.get", "vstvec %#llx", c.vstvec);
		c.reserved[0] = 1;
		check_errno(fds[1], DUVISOR_SET_CSRS, &c, EINVAL, "csrs.reserved");
	}
	/* Close the VM first, then the vCPUs, one still registered. */
	close(v.vm);
	for (i = 0; i < n; i++)
		close(fds[i]);
	check(1, "teardown.vm-before-vcpus", "%s", "");
}

int main(int argc, char **argv)
{
	struct duvisor_info info;
	long bench = 0;

	if (argc == 3 && !strcmp(argv[1], "--bench"))
		bench = atol(argv[2]);
	dev_fd = open("/dev/duvisor", O_RDWR | O_CLOEXEC);
	check(dev_fd >= 0, "dev.open", "%s", strerror(errno));
	if (dev_fd < 0)
		return 1;
	check(ioctl(dev_fd, DUVISOR_GET_API_VERSION, 0) == DUVISOR_API_VERSION,
	      "dev.api-version", "%s", strerror(errno));
	check(ioctl(dev_fd, DUVISOR_GET_INFO, &info) == 0 && info.mode == DUVISOR_MODE_TRAP &&
	      info.run_size == DUVISOR_RUN_SIZE, "dev.info-trap-mode", "mode %u", info.mode);
	printf("# VMIDs %u-%u (%u bits), max %u vCPUs, %llu MiB\n", info.vmid_first,
	       info.vmid_last, info.vmid_bits, info.max_vcpus, info.max_guest_bytes >> 20);
	check_errno(dev_fd, DUVISOR_CREATE_VM, (void *)1, EINVAL, "dev.create-vm-arg");
	check_errno(dev_fd, 0x1234, NULL, ENOTTY, "dev.unknown-ioctl");

	test_guest();
	test_guest_fp();
	test_memory_errors();
	test_deleg_and_vcpus();
	test_thread_teardown();
	test_smp_and_signals();
	test_kvm_coexistence();
	test_create_destroy_loop();
	test_remote_fence();
	test_inject_exception();
	if (bench) {
		bench_duvisor(bench);
		bench_kvm(bench);
	}
	close(dev_fd);
	printf("RESULT %s (%d failed)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
