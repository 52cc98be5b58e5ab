/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The seccomp allowlists' building blocks, shared by core/sandbox.c (the
 * calls of every architecture) and the per-arch lists (x86/sandbox-rules.c,
 * riscv/sandbox-rules.c: the KVM ioctls of that machine).
 */
#ifndef DUVISOR_SANDBOX_RULES_H
#define DUVISOR_SANDBOX_RULES_H

#include <seccomp.h>
#include <stddef.h>
#include <sys/mman.h>

struct rule {
	int nr;
	unsigned int nargs;          /* 0 or 1 */
	struct scmp_arg_cmp arg;
};

#define ALLOW(name) { SCMP_SYS(name), 0, { 0 } }
/* The call with (arg & mask) == value. */
#define ALLOW_MASKED(name, n, mask, value) \
	{ SCMP_SYS(name), 1, { .arg = (n), .op = SCMP_CMP_MASKED_EQ, \
			       .datum_a = (mask), .datum_b = (value) } }
/* ioctl's request is an unsigned int in the kernel: compare 32 bits. */
#define ALLOW_IOCTL(req) ALLOW_MASKED(ioctl, 1, 0xffffffffu, (req))

/* Never executable mappings: a compromised VMM cannot load code. */
#define ALLOW_NO_EXEC(name) ALLOW_MASKED(name, 2, PROT_EXEC, 0)

/* The arch's additions to the main thread's and the vCPU threads' lists
 * (KVM's calls: with --accel kvm only). */
extern const struct rule sandbox_arch_main_rules[];
extern const size_t sandbox_arch_nmain_rules;
extern const struct rule sandbox_arch_vcpu_rules[];
extern const size_t sandbox_arch_nvcpu_rules;

#if defined(__riscv)
/* The dvext accelerator's instead of KVM's (riscv/sandbox-rules.c). */
extern const struct rule sandbox_dvext_main_rules[];
extern const size_t sandbox_dvext_nmain_rules;
extern const struct rule sandbox_dvext_vcpu_rules[];
extern const size_t sandbox_dvext_nvcpu_rules;
#endif

/* The second argument of the system call a SIGSYS interrupted (an ioctl's
 * request), from its ucontext_t. Async-signal-safe. */
unsigned long sandbox_arch_syscall_arg1(const void *uc);

#endif
