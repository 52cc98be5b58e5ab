// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One duvisor-vmm process: started with stdin on /dev/null and stdout +
 * stderr on a pipe into the daemon, which appends everything to the
 * domain's log file; steered and followed through its control channel
 * (monitor.h).  Or adopted after a daemon restart: the control socket is
 * connected again and the output pipe reopened through /proc.
 *
 * The owner learns through callbacks, always from the main loop:
 *  - ready: the machine is built and runs;
 *  - reset: the guest rebooted inside the VMM (by itself or on request);
 *  - state: the VMM says its vCPUs are paused or running (the owner may
 *    have asked, or someone else did);
 *  - balloon: the guest's memory changed as its balloon driver inflated or
 *    deflated (bytes, as the VMM says: the owner checks it);
 *  - exited: the process is gone (the owner then frees the dv_vmm; nothing
 *    is called after this).  A VMM that is not ready within the start
 *    timeout is killed and reported as exited with start_timed_out.
 */
#ifndef DV_PROCESS_H
#define DV_PROCESS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "monitor.h"

struct dv_vmm;

/* How the VMM said its machine ended (its notifications). */
enum dv_vmm_end {
	DV_END_UNKNOWN,
	DV_END_POWEROFF,	/* the guest powered off */
	DV_END_QUIT,		/* stopped on request */
	DV_END_RESET,		/* a guest reset with --no-reboot */
	DV_END_TRIPLE_FAULT,
	DV_END_PANIC,		/* the guest reported a crash */
	DV_END_ERROR,		/* the VMM failed */
};

struct dv_vmm_exit {
	bool status_known;	/* false for an adopted VMM (not our child) */
	int wait_status;	/* waitpid() status when known */
	int exit_code;		/* its announced exit status, -1: unknown */
	bool start_timed_out;
	enum dv_vmm_end end;
};

struct dv_vmm_ops {
	void (*ready)(struct dv_vmm *vmm, void *opaque);
	void (*reset)(struct dv_vmm *vmm, void *opaque);
	void (*state)(struct dv_vmm *vmm, bool paused, void *opaque);
	void (*balloon)(struct dv_vmm *vmm, uint64_t actual, void *opaque);
	void (*exited)(struct dv_vmm *vmm, const struct dv_vmm_exit *exit,
		       void *opaque);
};

struct dv_vmm_spawn {
	const char *const *argv;	/* argv[0]: the binary */
	const char *log_path;		/* appended to; NULL: no log */
	uid_t uid;			/* (uid_t)-1: keep */
	gid_t gid;			/* (gid_t)-1: keep */
	const char *pty;		/* its console pty, or NULL */
	const char *control_path;	/* the socket it listens on */
	/* Open files the VMM inherits: fds[i] becomes its target_fds[i]. */
	const int *fds;
	const int *target_fds;
	size_t n_fds;
	unsigned int start_timeout_ms;	/* 0: a default */
};

/* Starts the VMM; NULL with @error when it cannot even be started (exec
 * failures are reported this way too). */
struct dv_vmm *dv_vmm_spawn(const struct dv_vmm_spawn *args,
			    const struct dv_vmm_ops *ops, void *opaque,
			    GError **error);
/* Takes over a VMM started by an earlier daemon.  @start_time must match
 * /proc/PID/stat (else NULL: it is gone, or the pid was reused) and its
 * control socket must answer.  Ready at once (no callback); its state
 * follows through the state callback. */
struct dv_vmm *dv_vmm_adopt(pid_t pid, uint64_t start_time, const char *pty,
			    const char *log_path, const char *control_path,
			    const struct dv_vmm_ops *ops, void *opaque,
			    GError **error);
/* Forgets the process (it keeps running); no more callbacks. */
void dv_vmm_free(struct dv_vmm *vmm);

/* SIGKILL (a warning when that fails). */
void dv_vmm_kill(struct dv_vmm *vmm);
pid_t dv_vmm_pid(const struct dv_vmm *vmm);
uint64_t dv_vmm_start_time(const struct dv_vmm *vmm);
struct dv_monitor *dv_vmm_monitor(struct dv_vmm *vmm);
bool dv_vmm_is_ready(const struct dv_vmm *vmm);
/* The console pty, NULL when none (yet). */
const char *dv_vmm_pty(const struct dv_vmm *vmm);
/* The VMM's last error lines (or last lines) for messages; g_free. */
char *dv_vmm_output_tail(const struct dv_vmm *vmm);
/* Appends a timestamped line of the daemon's own to the log. */
void dv_vmm_log(struct dv_vmm *vmm, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* A timestamped line appended to @log_path (for a domain with no VMM). */
void dv_log_append(const char *log_path, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

/* "exit status 1", "killed by SIGKILL"... for a waitpid() status; g_free. */
char *dv_wait_status_string(int wait_status);

#endif
