/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Deprivileging (docs/sandbox.md): the VMM drops to an unprivileged uid/gid
 * and confines itself with seccomp before any guest code runs. The
 * allowlists live in sandbox.c, in one place: a device that needs a new
 * system call adds it there.
 */
#ifndef DUVISOR_SANDBOX_H
#define DUVISOR_SANDBOX_H

#include <stdbool.h>

struct vmm_config;

/*
 * On the main thread once every resource is open: drops the ids (with
 * --user/--group), sets no_new_privs and, with --sandbox on, installs the
 * main thread's filter. Returns 0 or -errno after a message.
 */
int sandbox_enter(const struct vmm_config *cfg);

/* On a new vCPU thread before it runs the guest: narrows its filter to the
 * vCPU allowlist. A no-op without the sandbox; returns 0 or -errno. */
int sandbox_enter_vcpu_thread(void);

bool sandbox_active(void);

/* The id drop and no_new_privs of sandbox_enter (core/privdrop.c). */
int sandbox_drop_privileges(const struct vmm_config *cfg);

/* Test hook (--test-trigger-forbidden-syscall): opens a file, which the
 * sandbox forbids; the process dies of SIGSYS with a message. */
void sandbox_try_forbidden_syscall(void);

#endif
