// SPDX-License-Identifier: GPL-2.0-or-later
/* Controlling a duvisor-vmm process (see monitor.h). */
#include <errno.h>
#include <gio/gio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "monitor.h"

#define LINE_PREFIX "duvisor-vmm: "

struct dv_monitor {
	pid_t pid;
	int pidfd;		/* -1 when the kernel has no pidfds */
};

enum dv_monitor_note dv_monitor_parse_line(const char *line, char **arg)
{
	static const struct {
		const char *text;
		bool prefix;
		enum dv_monitor_note note;
	} notes[] = {
		{ "guest reset: rebooting", false, DV_NOTE_GUEST_RESET },
		{ "guest powered off", false, DV_NOTE_POWERED_OFF },
		{ "stopped on request", false, DV_NOTE_QUIT },
		{ "guest reset (--no-reboot)", false, DV_NOTE_RESET_EXIT },
		{ "guest crashed", false, DV_NOTE_CRASHED },
		{ "error: ", true, DV_NOTE_ERROR },
	};
	const char *p;

	if (arg)
		*arg = NULL;
	if (!g_str_has_prefix(line, LINE_PREFIX))
		return DV_NOTE_NONE;
	p = line + strlen(LINE_PREFIX);
	if (g_str_has_prefix(p, "serial console on /")) {
		if (arg)
			*arg = g_strdup(p + strlen("serial console on "));
		return DV_NOTE_CONSOLE_PTY;
	}
	if (g_str_has_prefix(p, "vCPU ") &&
	    strstr(p, ": triple fault, machine shut down"))
		return DV_NOTE_TRIPLE_FAULT;
	for (size_t i = 0; i < G_N_ELEMENTS(notes); i++) {
		if (notes[i].prefix ? g_str_has_prefix(p, notes[i].text)
				    : strcmp(p, notes[i].text) == 0)
			return notes[i].note;
	}
	return DV_NOTE_NONE;
}

struct dv_monitor *dv_monitor_new(pid_t pid)
{
	struct dv_monitor *mon = g_new0(struct dv_monitor, 1);

	mon->pid = pid;
#ifdef SYS_pidfd_open
	mon->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
	mon->pidfd = -1;
#endif
	return mon;
}

void dv_monitor_free(struct dv_monitor *mon)
{
	if (!mon)
		return;
	if (mon->pidfd >= 0)
		close(mon->pidfd);
	g_free(mon);
}

pid_t dv_monitor_pid(const struct dv_monitor *mon)
{
	return mon->pid;
}

static bool send_signal(struct dv_monitor *mon, int sig, GError **error)
{
	int r;

#ifdef SYS_pidfd_send_signal
	if (mon->pidfd >= 0)
		r = (int)syscall(SYS_pidfd_send_signal, mon->pidfd, sig,
				 NULL, 0);
	else
#endif
		r = kill(mon->pid, sig);
	if (r < 0) {
		int err = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
			    "cannot send %s to duvisor-vmm (pid %d): %s",
			    g_strsignal(sig), (int)mon->pid, g_strerror(err));
		return false;
	}
	return true;
}

bool dv_monitor_system_powerdown(struct dv_monitor *mon, GError **error)
{
	return send_signal(mon, SIGTERM, error);
}

bool dv_monitor_quit(struct dv_monitor *mon, GError **error)
{
	return send_signal(mon, SIGQUIT, error);
}

bool dv_monitor_kill(struct dv_monitor *mon, GError **error)
{
	return send_signal(mon, SIGKILL, error);
}

bool dv_monitor_stop(struct dv_monitor *mon, GError **error)
{
	return send_signal(mon, SIGSTOP, error);
}

bool dv_monitor_cont(struct dv_monitor *mon, GError **error)
{
	return send_signal(mon, SIGCONT, error);
}

bool dv_proc_stat_read(pid_t pid, struct dv_proc_stat *st)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
	g_autofree char *text = NULL;
	g_auto(GStrv) f = NULL;
	char *p;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return false;
	/* "pid (comm) state ...": comm may hold anything, even ")". */
	p = strrchr(text, ')');
	if (!p || p[1] != ' ')
		return false;
	f = g_strsplit(p + 2, " ", -1);
	/* f[k] is field k + 3 of proc(5). */
	if (g_strv_length(f) < 20)
		return false;
	memset(st, 0, sizeof(*st));
	st->state = f[0][0];
	st->utime = g_ascii_strtoull(f[11], NULL, 10);
	st->stime = g_ascii_strtoull(f[12], NULL, 10);
	st->threads = strtol(f[17], NULL, 10);
	st->start_time = g_ascii_strtoull(f[19], NULL, 10);
	return true;
}

bool dv_monitor_query_running(struct dv_monitor *mon)
{
	struct dv_proc_stat st;

	/* duvisor-vmm is single-threaded until it starts the vCPUs of a
	 * machine it has fully built. */
	return dv_proc_stat_read(mon->pid, &st) && st.threads > 1 &&
	       st.state != 'Z';
}

bool dv_monitor_query_cpu_time(struct dv_monitor *mon, uint64_t *ns)
{
	struct dv_proc_stat st;
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0 || !dv_proc_stat_read(mon->pid, &st))
		return false;
	*ns = (st.utime + st.stime) * (G_GUINT64_CONSTANT(1000000000) /
				       (uint64_t)hz);
	return true;
}
