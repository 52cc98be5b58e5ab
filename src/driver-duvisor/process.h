// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One duvisor-vmm process: started with stdin on /dev/null and stdout +
 * stderr on a pipe into the daemon, which appends everything to the
 * domain's log file and reads its notifications (monitor.h); or adopted
 * after a daemon restart (its output pipe is reopened through /proc).
 *
 * The owner learns through callbacks, always from the main loop:
 *  - ready: the machine is built and runs (vCPU threads exist) and, when a
 *    pty console was asked for, its path is known;
 *  - reset: the guest rebooted inside the VMM;
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

struct dv_vmm_exit {
	bool status_known;	/* false for an adopted VMM (not our child) */
	int wait_status;	/* waitpid() status when known */
	bool start_timed_out;
	/* The last note about how it ended (exit-related lines only):
	 * DV_NOTE_POWERED_OFF, _QUIT, _RESET_EXIT, _TRIPLE_FAULT, _CRASHED,
	 * _ERROR, or DV_NOTE_NONE. */
	enum dv_monitor_note last_note;
};

struct dv_vmm_ops {
	void (*ready)(struct dv_vmm *vmm, void *opaque);
	void (*reset)(struct dv_vmm *vmm, void *opaque);
	void (*exited)(struct dv_vmm *vmm, const struct dv_vmm_exit *exit,
		       void *opaque);
};

struct dv_vmm_spawn {
	const char *const *argv;	/* argv[0]: the binary */
	const char *log_path;		/* appended to; NULL: no log */
	uid_t uid;			/* (uid_t)-1: keep */
	gid_t gid;			/* (gid_t)-1: keep */
	bool need_pty;			/* wait for the pty path */
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
 * /proc/PID/stat (else NULL: it is gone, or the pid was reused).  Ready at
 * once (no callback). */
struct dv_vmm *dv_vmm_adopt(pid_t pid, uint64_t start_time, const char *pty,
			    const char *log_path, const struct dv_vmm_ops *ops,
			    void *opaque, GError **error);
/* Forgets the process (it keeps running); no more callbacks. */
void dv_vmm_free(struct dv_vmm *vmm);

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
