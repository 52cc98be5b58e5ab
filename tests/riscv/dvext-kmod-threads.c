// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dvext-kmod-test, the threaded part: vCPU lifetimes across threads, two
 * vCPUs at once, a KVM guest on the same hart, create/destroy loops and
 * the exit round-trip measurement.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dvext-kmod-test.h"

/* Threads that own vCPUs and go away in both orders. */
static int reg_fd;
static int pipefd[2];

static void *register_and_block(void *p)
{
	char c;

	(void)p;
	if (ioctl(reg_fd, DUVISOR_REGISTER_VCPU, 0) < 0)
		printf("# register (thread): %s\n", strerror(errno));
	/* Blocks until the main thread writes; the task work interrupts it. */
	while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void *register_and_exit(void *p)
{
	(void)p;
	if (ioctl(reg_fd, DUVISOR_REGISTER_VCPU, 0) < 0)
		printf("# register (thread): %s\n", strerror(errno));
	return NULL;
}

static unsigned int module_refs_now(void)
{
	char line[256], name[64];
	unsigned int size, refs = ~0u;
	FILE *f = fopen("/proc/modules", "r");

	if (!f)
		return ~0u;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %u %u", name, &size, &refs) == 3 &&
		    !strcmp(name, "duvisor"))
			break;
	fclose(f);
	return refs;
}

/*
 * The module's references once they settle at want (up to 1 s): a thread
 * that exits while its vCPU is closed may still be running its task
 * works, which drop the registration's reference after close returns.
 */
static unsigned int module_refs(unsigned int want)
{
	unsigned int refs = module_refs_now();

	for (int i = 0; i < 100 && refs != want; i++) {
		usleep(10000);
		refs = module_refs_now();
	}
	return refs;
}

void test_thread_teardown(void)
{
	struct vm v = make_vm(0, 0);
	unsigned int base = module_refs_now(), refs;
	pthread_t th;

	/* Closed by another thread while the owner is alive and blocked. */
	reg_fd = ioctl(v.vm, DUVISOR_CREATE_VCPU, 0);
	pipe(pipefd);
	pthread_create(&th, NULL, register_and_block, NULL);
	usleep(100000);
	close(reg_fd);
	write(pipefd[1], "x", 1);
	pthread_join(th, NULL);
	refs = module_refs(base);
	check(refs == base, "teardown.foreign-close-live-thread",
	      "module refs %u, expected %u", refs, base);

	/* The owner exited without unregistering; closed later. */
	reg_fd = ioctl(v.vm, DUVISOR_CREATE_VCPU, 1);
	pthread_create(&th, NULL, register_and_exit, NULL);
	pthread_join(th, NULL);
	close(reg_fd);
	refs = module_refs(base);
	check(refs == base, "teardown.close-after-thread-exit",
	      "module refs %u, expected %u", refs, base);
	close(v.vm);
	refs = module_refs(base - 2);
	check(refs == base - 2, "teardown.all-closed",
	      "module refs %u, expected %u", refs, base - 2);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

void bench_duvisor(long n)
{
	struct vm v = make_vm(1, DUVISOR_EDELEG_ALLOWED);
	int vcpu = ioctl(v.vm, DUVISOR_CREATE_VCPU, 0);
	struct duvisor_run *rs = map_run(vcpu);
	double t0, t;
	long i;

	ioctl(vcpu, DUVISOR_REGISTER_VCPU, 0);
	rs->pc = GUEST_BASE + GOFF(guest_bench);
	run(vcpu, rs);		/* warm up */
	rs->pc += 4;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if (ioctl(vcpu, DUVISOR_RUN, 0) < 0 && errno != EINTR)
			break;
		if (rs->exit_reason == DUVISOR_EXIT_TRAP)
			rs->pc += 4;
	}
	t = now_ns() - t0;
	check(i == n && rs->regs[17] == BENCH_EXT, "bench.duvisor", "%ld of %ld exits", i, n);
	printf("BENCH duvisor-trap-ecall-roundtrip ns=%.0f n=%ld\n", t / n, n);
	munmap(rs, DUVISOR_RUN_SIZE);
	close(vcpu);
	close(v.vm);
	munmap(v.mem, GUEST_SIZE);
}

static void *run_other_thread(void *p)
{
	long r = ioctl(*(int *)p, DUVISOR_RUN, 0);

	return (void *)(r < 0 ? (long)errno : 0L);
}

/* Two vCPUs of one VM running at once, one per thread (and hart). */
struct smp_arg {
	int vcpu;
	long exits;
	int ok;
};

static void *smp_thread(void *p)
{
	struct smp_arg *a = p;
	struct duvisor_run *rs = map_run(a->vcpu);
	long i;

	a->ok = rs && ioctl(a->vcpu, DUVISOR_REGISTER_VCPU, 0) == 0;
	if (!a->ok)
		return NULL;
	rs->pc = GUEST_BASE + GOFF(guest_bench);
	for (i = 0; i < a->exits && a->ok; i++) {
		a->ok = run(a->vcpu, rs) == DUVISOR_EXIT_TRAP &&
			rs->trap.scause == DUVISOR_EXC_VS_ECALL &&
			rs->regs[17] == BENCH_EXT;
		rs->pc += 4;
	}
	ioctl(a->vcpu, DUVISOR_UNREGISTER_VCPU, 0);
	munmap(rs, DUVISOR_RUN_SIZE);
	return NULL;
}

void test_smp_and_signals(void)
{
	struct vm v = make_vm(1, DUVISOR_EDELEG_ALLOWED);
	struct smp_arg a[2];
	struct duvisor_run *rs;
	pthread_t th[2];
	int i, r;

	for (i = 0; i < 2; i++) {
		a[i] = (struct smp_arg){ ioctl(v.vm, DUVISOR_CREATE_VCPU, i), 500, 0 };
		pthread_create(&th[i], NULL, smp_thread, &a[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	check(a[0].ok && a[1].ok, "smp.two-vcpus-concurrently", "vcpu0 %d vcpu1 %d",
	      a[0].ok, a[1].ok);

	/* immediate_exit: RUN returns -EINTR without entering the guest. */
	rs = map_run(a[0].vcpu);
	ioctl(a[0].vcpu, DUVISOR_REGISTER_VCPU, 0);
	rs->immediate_exit = 1;
	r = ioctl(a[0].vcpu, DUVISOR_RUN, 0);
	check(r < 0 && errno == EINTR && rs->exit_reason == DUVISOR_EXIT_INTR,
	      "run.immediate-exit", "ret %d errno %d exit %u", r, errno, rs->exit_reason);
	rs->immediate_exit = 0;
	/* Another thread may not run a vCPU bound to this one. */
	{
		pthread_t t;
		long ret;

		pthread_create(&t, NULL, run_other_thread, &a[0].vcpu);
		pthread_join(t, (void **)&ret);
		check(ret == EPERM, "run.other-thread", "errno %ld", ret);
	}
	munmap(rs, DUVISOR_RUN_SIZE);
	close(a[0].vcpu);
	close(a[1].vcpu);
	close(v.vm);
	munmap(v.mem, GUEST_SIZE);
}

static long mem_available_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/*
 * 100 VMs with memory, vCPUs that ran and closes in both orders: pinned
 * pages, tables, run pages and VMIDs all come back (a page per VM lost
 * would be 400 KiB; MemAvailable moves by a few KiB here).
 */
void test_create_destroy_loop(void)
{
	long before = 0, after;
	int i, ok = 1;

	for (i = 0; i < 105 && ok; i++) {
		struct vm v = make_vm(1, DUVISOR_EDELEG_ALLOWED);
		int c = ioctl(v.vm, DUVISOR_CREATE_VCPU, i % 4);
		struct duvisor_run *rs = map_run(c);

		if (i == 5)
			before = mem_available_kib();
		ok = rs && ioctl(c, DUVISOR_REGISTER_VCPU, 0) == 0;
		if (ok) {
			rs->pc = GUEST_BASE + GOFF(guest_bench);
			ok = run(c, rs) == DUVISOR_EXIT_TRAP;
			munmap(rs, DUVISOR_RUN_SIZE);
		}
		if (i & 1) {
			close(c);
			close(v.vm);
		} else {
			close(v.vm);
			close(c);
		}
		munmap(v.mem, GUEST_SIZE);
	}
	after = mem_available_kib();
	printf("# MemAvailable over 100 VMs: %ld -> %ld kB\n", before, after);
	check(ok, "stress.create-run-destroy-100", "iteration %d", i);
	check(before - after < 256, "stress.no-leak", "MemAvailable %ld -> %ld kB",
	      before, after);
}


static void *kvm_thread(void *p)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	sched_setaffinity(0, sizeof(one), &one);
	*(int *)p = kvm_loop(3000);
	return NULL;
}

/*
 * A KVM guest and ours on the same hart at once: the preempt notifiers
 * and the per-entry CSR swaps must keep each hypervisor's hart state
 * (VS CSRs, hgatp/VMID, delegation, hvip) its own.
 */
void test_kvm_coexistence(void)
{
	struct smp_arg a;
	pthread_t th;
	cpu_set_t one;
	int kvm_ret = -1;
	struct vm v = make_vm(1, DUVISOR_EDELEG_ALLOWED);

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	a = (struct smp_arg){ ioctl(v.vm, DUVISOR_CREATE_VCPU, 0), 3000, 0 };
	pthread_create(&th, NULL, kvm_thread, &kvm_ret);
	sched_setaffinity(0, sizeof(one), &one);
	smp_thread(&a);
	pthread_join(th, NULL);
	{
		char line[128];
		FILE *f = fopen("/proc/thread-self/status", "r");

		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, "ctxt_switches"))
				printf("# duvisor vCPU thread sharing hart 0 with KVM: %s", line);
		if (f)
			fclose(f);
	}
	CPU_SET(1, &one);
	sched_setaffinity(0, sizeof(one), &one);
	check(a.ok, "coexist.duvisor-guest-with-kvm-on-one-hart", "duvisor exits wrong");
	check(kvm_ret == 0, "coexist.kvm-guest-with-duvisor-on-one-hart", "KVM exits wrong");
	close(a.vcpu);
	close(v.vm);
	munmap(v.mem, GUEST_SIZE);
}
