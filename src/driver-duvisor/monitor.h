// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's end of one duvisor-vmm's control channel
 * (docs/control-protocol.md): a SOCK_SEQPACKET connection to the socket
 * the daemon bound and handed to the VMM with --control-fd, so that a
 * restarted daemon connects again to the same path.
 *
 * The VMM is untrusted: everything it says is checked by the protocol
 * codec, a reply that does not come within a few seconds is an error,
 * and a VMM that floods us loses messages, never the daemon's memory.
 *
 * Requests wait for their reply (the VMM answers from its event loop at
 * once; pause once the vCPUs stopped).  Notifications, and the answer to
 * the status request sent on connecting, reach the owner from the main
 * loop as events: NAME plus the message's key=value fields, where the
 * status answer is the event "status".
 *
 * Killing is still a signal, through a pidfd so that it never reaches a
 * recycled pid.
 */
#ifndef DV_MONITOR_H
#define DV_MONITOR_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct dv_monitor;

struct dv_monitor_ops {
	/* @fields: key → value strings of the message (event= included). */
	void (*event)(struct dv_monitor *mon, const char *name,
		      GHashTable *fields, void *opaque);
	/* The VMM closed the connection (it exits) or broke the protocol;
	 * no more events. */
	void (*closed)(struct dv_monitor *mon, void *opaque);
};

/* Connects to the VMM @pid listening at @path and asks for its status. */
struct dv_monitor *dv_monitor_connect(const char *path, pid_t pid,
				      const struct dv_monitor_ops *ops,
				      void *opaque, GError **error);
/* The owner must not free the monitor from within one of its callbacks. */
void dv_monitor_free(struct dv_monitor *mon);
pid_t dv_monitor_pid(const struct dv_monitor *mon);
/* Dispatches every message already received (e.g. the last words of a
 * VMM that just exited) before returning. */
void dv_monitor_drain(struct dv_monitor *mon);

/* Requests (errors in G_IO_ERROR). */
bool dv_monitor_system_powerdown(struct dv_monitor *mon, GError **error);
bool dv_monitor_quit(struct dv_monitor *mon, GError **error);
bool dv_monitor_reset(struct dv_monitor *mon, GError **error);
bool dv_monitor_stop(struct dv_monitor *mon, GError **error);
bool dv_monitor_cont(struct dv_monitor *mon, GError **error);
/* The status fields (g_hash_table_unref), NULL on errors. */
GHashTable *dv_monitor_query_status(struct dv_monitor *mon, GError **error);
/* The balloon: the guest's memory to aim at (bytes), how often to ask for
 * statistics (seconds, 0: never), and what it knows now (the reply's
 * fields, g_hash_table_unref; NULL on errors).  A VMM without a balloon
 * refuses them. */
bool dv_monitor_balloon_set_target(struct dv_monitor *mon, uint64_t bytes,
				   GError **error);
bool dv_monitor_balloon_set_period(struct dv_monitor *mon,
				   unsigned int seconds, GError **error);
GHashTable *dv_monitor_balloon_stats(struct dv_monitor *mon, GError **error);
/* Each disk's request counters (disk.N.rd_reqs...), N in --disk order. */
GHashTable *dv_monitor_block_stats(struct dv_monitor *mon, GError **error);
/* SIGKILL. */
bool dv_monitor_kill(struct dv_monitor *mon, GError **error);

bool dv_monitor_query_cpu_time(struct dv_monitor *mon, uint64_t *ns);

/* ---- process facts (from /proc/PID/stat) ---- */
struct dv_proc_stat {
	char state;		/* R, S, T, Z... */
	uint64_t utime, stime;	/* clock ticks */
	long threads;
	uint64_t start_time;	/* clock ticks after boot: identifies it */
	int processor;		/* the CPU it last ran on, -1 if unknown */
};
/* The text of a /proc/PID/stat or /proc/PID/task/TID/stat file. */
bool dv_proc_stat_parse(const char *text, struct dv_proc_stat *st);
bool dv_proc_stat_read(pid_t pid, struct dv_proc_stat *st);
/* Thread @tid of process @pid; false also when it is not one of its
 * threads (a thread id the VMM made up). */
bool dv_proc_task_stat_read(pid_t pid, pid_t tid, struct dv_proc_stat *st);
/* utime and stime are in clock ticks. */
uint64_t dv_proc_ticks_to_ns(uint64_t ticks);

#endif
