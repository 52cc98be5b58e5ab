// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's control interface to one duvisor-vmm process.
 *
 * duvisor-vmm has no control channel yet, so today requests are signals
 * and notifications are the lines it prints on stderr; everything the
 * daemon asks of or learns from a running VMM goes through this file, so
 * that a real channel can replace it without touching the callers:
 *
 *   request                       today
 *   dv_monitor_system_powerdown   SIGTERM: ACPI power button
 *   dv_monitor_quit               SIGQUIT: stop at once, exit 0
 *   dv_monitor_kill               SIGKILL
 *   dv_monitor_stop / _cont       SIGSTOP / SIGCONT (pause, resume)
 *   dv_monitor_query_running      /proc: its vCPU threads exist, so the
 *                                 machine was built and runs
 *   dv_monitor_query_cpu_time     /proc: user + system time
 *
 * Signals go through a pidfd when the kernel has them, so they can never
 * reach a recycled pid.
 */
#ifndef DV_MONITOR_H
#define DV_MONITOR_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct dv_monitor;

/* What a line of the VMM's stderr tells. */
enum dv_monitor_note {
	DV_NOTE_NONE,
	DV_NOTE_CONSOLE_PTY,	/* serial console on a pty: *arg = path */
	DV_NOTE_GUEST_RESET,	/* the guest reset and boots again */
	DV_NOTE_POWERED_OFF,	/* the guest powered off (exit 0) */
	DV_NOTE_QUIT,		/* stopped on request (exit 0) */
	DV_NOTE_RESET_EXIT,	/* reset with --no-reboot (exit 32) */
	DV_NOTE_TRIPLE_FAULT,	/* exit 33 */
	DV_NOTE_CRASHED,	/* the guest reported a crash (exit 34) */
	DV_NOTE_ERROR,		/* an error message */
};

/* @line without its newline; *arg (g_free) only for DV_NOTE_CONSOLE_PTY. */
enum dv_monitor_note dv_monitor_parse_line(const char *line, char **arg);

/* Watches the process @pid (which must be alive). */
struct dv_monitor *dv_monitor_new(pid_t pid);
void dv_monitor_free(struct dv_monitor *mon);
pid_t dv_monitor_pid(const struct dv_monitor *mon);

/* Requests; errors in G_IO_ERROR. */
bool dv_monitor_system_powerdown(struct dv_monitor *mon, GError **error);
bool dv_monitor_quit(struct dv_monitor *mon, GError **error);
bool dv_monitor_kill(struct dv_monitor *mon, GError **error);
bool dv_monitor_stop(struct dv_monitor *mon, GError **error);
bool dv_monitor_cont(struct dv_monitor *mon, GError **error);

bool dv_monitor_query_running(struct dv_monitor *mon);
bool dv_monitor_query_cpu_time(struct dv_monitor *mon, uint64_t *ns);

/* ---- process facts (from /proc/PID/stat) ---- */
struct dv_proc_stat {
	char state;		/* R, S, T, Z... */
	uint64_t utime, stime;	/* clock ticks */
	long threads;
	uint64_t start_time;	/* clock ticks after boot: identifies it */
};
bool dv_proc_stat_read(pid_t pid, struct dv_proc_stat *st);

#endif
