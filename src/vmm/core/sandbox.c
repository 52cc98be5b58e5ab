// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VMM's privilege drop and its seccomp allowlists, all in this file:
 * add a device's system calls here (and to docs/sandbox.md).
 *
 * Two thread types have their own list. The main thread (event loop,
 * control channel, signals, machine set-up on each boot, virtio work) gets
 * MAIN_RULES. vCPU threads run guest-triggered code and get VCPU_RULES on
 * top: a thread inherits its creator's filter and may only narrow it, so a
 * vCPU thread can make a call only if both lists allow it. Threads that
 * devices start on the main thread (e.g. the virtio-blk I/O thread) run
 * under MAIN_RULES.
 *
 * A forbidden call is not executed: the kernel raises SIGSYS, whose handler
 * names the call on stderr, and the process then dies of SIGSYS, so that a
 * manager sees both a reason and a plain signal exit.
 */
#include "core/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "core/sandbox-rules.h"
#include "core/util.h"
#include "core/vmm.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
/* Provided by the sanitizer runtime. */
void __lsan_do_leak_check(void);
#else
#define SANITIZED 0
#endif

static const struct rule main_rules[] = {
	/* Event loop, control channel, console, signals. */
	ALLOW(epoll_wait),
	ALLOW(epoll_pwait),
	ALLOW(epoll_ctl),
	ALLOW(read),
	ALLOW(write),
	ALLOW(close),
	ALLOW(accept4),
	ALLOW(recvmsg),
	ALLOW(sendto),
	ALLOW(eventfd2),
	ALLOW(getpid),               /* status replies, pthread_kill */
	ALLOW(gettid),               /* vCPU threads name themselves */
	ALLOW(tgkill),               /* vCPU kicks */
	ALLOW(rt_sigaction),         /* the kick handler, set per boot */
	ALLOW(rt_sigprocmask),
	ALLOW(rt_sigreturn),
	ALLOW(restart_syscall),
	ALLOW(clock_gettime),
	ALLOW(exit_group),
	/* Memory: guest RAM per boot, malloc, thread stacks. */
	ALLOW_NO_EXEC(mmap),
	ALLOW_NO_EXEC(mprotect),
	ALLOW(munmap),
	ALLOW(mremap),
	ALLOW(madvise),              /* also virtio-balloon: MADV_DONTNEED */
	ALLOW(brk),
	/* Threads (vCPUs, device I/O), created on each boot. */
	ALLOW(clone3),
	ALLOW_MASKED(clone, 0, CLONE_THREAD, CLONE_THREAD),
	ALLOW(set_robust_list),
	ALLOW(rseq),
	ALLOW(futex),
	ALLOW(exit),
	ALLOW(sched_yield),
	/* Only adding filters: how vCPU threads narrow theirs. */
	ALLOW_MASKED(seccomp, 0, 0xffffffffu, SECCOMP_SET_MODE_FILTER),
	/* Images reread per boot; block devices (block/raw.c). */
	ALLOW(pread64),
	ALLOW(preadv),
	ALLOW(pwrite64),
	ALLOW(pwritev),
	ALLOW(fdatasync),
	ALLOW(fallocate),
	ALLOW(fstat),
	ALLOW(newfstatat),           /* glibc's fstat(); see docs/sandbox.md */
	ALLOW(poll),                 /* virtio-blk and -balloon threads */
	ALLOW(ppoll),
	/* virtio-rng. */
	ALLOW(getrandom),
	/* virtio-net: frames to and from the tap, offloads the guest takes. */
	ALLOW(readv),
	ALLOW(writev),
	ALLOW_IOCTL(TUNSETOFFLOAD),
	/* The stdio console's terminal mode, restored at exit. */
	ALLOW_IOCTL(TCGETS),
	ALLOW_IOCTL(TCSETS),
};

/*
 * KVM (--accel kvm): building a machine on each boot; the arch's own calls
 * are in x86/sandbox-rules.c, riscv/sandbox-rules.c.  The dvext
 * accelerator's are in riscv/sandbox-rules.c.
 */
static const struct rule kvm_main_rules[] = {
	ALLOW_IOCTL(KVM_CHECK_EXTENSION),
	ALLOW_IOCTL(KVM_CREATE_VM),
	ALLOW_IOCTL(KVM_SET_USER_MEMORY_REGION),
	ALLOW_IOCTL(KVM_IOEVENTFD),
	ALLOW_IOCTL(KVM_CREATE_VCPU),
	/* vCPU threads inherit this filter before narrowing it. */
	ALLOW_IOCTL(KVM_RUN),
};

static const struct rule kvm_vcpu_rules[] = {
	ALLOW_IOCTL(KVM_RUN),
};

/*
 * virtio-vsock (docs/vsock.md), only with --vsock: a guest's connection to
 * the host's port P is a new unix socket connected to NAME_P. connect()
 * reaches any socket the uid may write to, and abstract ones, which
 * seccomp cannot narrow: VMMs without vsock do not get it. shutdown()
 * passes half-closes on.
 */
static const struct rule vsock_rules[] = {
	ALLOW_MASKED(socket, 0, 0xffffffffu, AF_UNIX),
	ALLOW(connect),
	ALLOW(shutdown),
};

static const struct rule vcpu_rules[] = {
	ALLOW(write),                /* console, eventfds, diagnostics */
	ALLOW(read),
	ALLOW(futex),
	/* The guest drained the UART: console input resumes (epoll mask). */
	ALLOW(epoll_ctl),
	ALLOW(rt_sigreturn),         /* after a kick */
	ALLOW(rt_sigprocmask),
	ALLOW(restart_syscall),
	ALLOW(clock_gettime),
	ALLOW(sched_yield),
	ALLOW_NO_EXEC(mmap),         /* malloc in device code */
	ALLOW_NO_EXEC(mprotect),
	ALLOW(munmap),
	ALLOW(madvise),              /* thread exit frees its stack */
	ALLOW(brk),
	ALLOW(exit),
	/* abort() on an assertion: die as an abort, not as SIGSYS. */
	ALLOW(getpid),
	ALLOW(tgkill),
	ALLOW(exit_group),
};

/*
 * What the ASan/UBSan runtime does on its own (thread start and exit,
 * allocator); only in sanitizer builds.
 */
static const struct rule sanitizer_rules[] = {
	ALLOW(sigaltstack),
	ALLOW(sched_getaffinity),
	ALLOW(gettid),
	ALLOW(prctl),
};

static bool active;
static struct sock_fprog vcpu_prog;

bool sandbox_active(void)
{
	return active;
}

static int add_rules(scmp_filter_ctx ctx, const struct rule *rules,
		     size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, rules[i].nr,
					       rules[i].nargs, &rules[i].arg);

		if (r < 0)
			return r;
	}
	return 0;
}

/* One thread type's list: the common calls, then the accelerator's. */
struct thread_rules {
	const struct rule *common, *accel, *arch;
	size_t ncommon, naccel, narch;
};

static scmp_filter_ctx build_filter(const struct thread_rules *t)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);

	if (!ctx)
		return NULL;
	/* We set no_new_privs ourselves, once, for the whole process. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 ||
	    add_rules(ctx, t->common, t->ncommon) < 0 ||
	    add_rules(ctx, t->accel, t->naccel) < 0 ||
	    add_rules(ctx, t->arch, t->narch) < 0 ||
	    (SANITIZED && add_rules(ctx, sanitizer_rules,
				    ARRAY_SIZE(sanitizer_rules)) < 0)) {
		seccomp_release(ctx);
		return NULL;
	}
	return ctx;
}

/* Only the calls of the accelerator in use: KVM's, or dvext's. */
static void accel_rules(const struct vmm_config *cfg,
			struct thread_rules *main_t, struct thread_rules *vcpu_t)
{
	*main_t = (struct thread_rules){
		main_rules, kvm_main_rules, sandbox_arch_main_rules,
		ARRAY_SIZE(main_rules), ARRAY_SIZE(kvm_main_rules),
		sandbox_arch_nmain_rules,
	};
	*vcpu_t = (struct thread_rules){
		vcpu_rules, kvm_vcpu_rules, sandbox_arch_vcpu_rules,
		ARRAY_SIZE(vcpu_rules), ARRAY_SIZE(kvm_vcpu_rules),
		sandbox_arch_nvcpu_rules,
	};
#if defined(__riscv)
	if (cfg->accel == VMM_ACCEL_DVEXT) {
		*main_t = (struct thread_rules){
			main_rules, sandbox_dvext_main_rules, NULL,
			ARRAY_SIZE(main_rules), sandbox_dvext_nmain_rules, 0,
		};
		*vcpu_t = (struct thread_rules){
			vcpu_rules, sandbox_dvext_vcpu_rules, NULL,
			ARRAY_SIZE(vcpu_rules), sandbox_dvext_nvcpu_rules, 0,
		};
	}
#else
	(void)cfg;
#endif
}

/* libseccomp 2.5 exports BPF only to an fd: go through a memfd, so that
 * vCPU threads load a ready program with one system call. */
static int export_program(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("duvisor-vcpu-filter", MFD_CLOEXEC);
	off_t size;
	void *buf;
	int r = -EIO;

	if (fd < 0)
		return -errno;
	if (seccomp_export_bpf(ctx, fd) < 0)
		goto out;
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter))
		goto out;
	buf = malloc((size_t)size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	if (pread(fd, buf, (size_t)size, 0) != size) {
		free(buf);
		goto out;
	}
	prog->filter = buf;
	prog->len = (unsigned short)((size_t)size / sizeof(struct sock_filter));
	r = 0;
out:
	close(fd);
	return r;
}

static size_t format_uint(char *p, unsigned long v, unsigned int base)
{
	char tmp[24];
	size_t n = 0, len;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	for (len = 0; len < n; len++)
		p[len] = tmp[n - 1 - len];
	return n;
}

/* Async-signal-safe: names the call, then dies of SIGSYS for real. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char head[] =
		"duvisor-vmm: error: sandbox: forbidden system call ";
	static const char request[] = ", request 0x";
	static const char tail[] = " (seccomp); the VMM is killed\n";
	char msg[sizeof(head) + sizeof(request) + sizeof(tail) + 48];
	size_t n = sizeof(head) - 1;

	(void)sig;
	memcpy(msg, head, n);
	n += format_uint(msg + n, (unsigned long)si->si_syscall, 10);
	/* Which ioctl is what a device author needs to know. */
	if (si->si_syscall == SYS_ioctl) {
		memcpy(msg + n, request, sizeof(request) - 1);
		n += sizeof(request) - 1;
		n += format_uint(msg + n, sandbox_arch_syscall_arg1(uc), 16);
	}
	memcpy(msg + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	(void)!write(STDERR_FILENO, msg, n);
	/* SA_RESETHAND made SIGSYS fatal again: any forbidden call ends us. */
	syscall(SYS_kexec_load, 0, 0, 0, 0);
	_exit(128 + SIGSYS);
}

int sandbox_enter(const struct vmm_config *cfg)
{
	struct sigaction sa = {
		.sa_sigaction = on_sigsys,
		.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER,
	};
	scmp_filter_ctx main_ctx = NULL, vcpu_ctx = NULL;
	struct thread_rules main_t, vcpu_t;
	int r;

	r = sandbox_drop_privileges(cfg);
	if (r < 0 || !cfg->sandbox)
		return r;
#if SANITIZED
	/* LeakSanitizer's exit-time scan ptraces the process and reads
	 * /proc, which the filter forbids: scan now, with all reachable. */
	__lsan_do_leak_check();
#endif
	r = -ENOMEM;
	accel_rules(cfg, &main_t, &vcpu_t);
	main_ctx = build_filter(&main_t);
	vcpu_ctx = build_filter(&vcpu_t);
	if (!main_ctx || !vcpu_ctx)
		goto fail;
	if (cfg->vsock.enabled) {
		r = add_rules(main_ctx, vsock_rules, ARRAY_SIZE(vsock_rules));
		if (r < 0)
			goto fail;
	}
	r = export_program(vcpu_ctx, &vcpu_prog);
	if (r < 0)
		goto fail;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		r = -errno;
		goto fail;
	}
	r = seccomp_load(main_ctx);
	if (r < 0)
		goto fail;
	active = true;
	seccomp_release(main_ctx);
	seccomp_release(vcpu_ctx);
	vmm_debug("sandbox: seccomp filters installed (main %zu rules, "
		  "vCPU %zu rules)",
		  main_t.ncommon + main_t.naccel + main_t.narch,
		  vcpu_t.ncommon + vcpu_t.naccel + vcpu_t.narch);
	return 0;
fail:
	vmm_error("cannot install the seccomp filter: %s", strerror(-r));
	seccomp_release(main_ctx);
	seccomp_release(vcpu_ctx);
	return r;
}

int sandbox_enter_vcpu_thread(void)
{
	if (!active)
		return 0;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &vcpu_prog) < 0)
		return -errno;
	return 0;
}

void sandbox_try_forbidden_syscall(void)
{
	int fd;

	vmm_info("test: opening /etc/hostname, which the sandbox forbids");
	fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	vmm_info("test: the open was allowed (is --sandbox on?)");
}
