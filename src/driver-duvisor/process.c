// SPDX-License-Identifier: GPL-2.0-or-later
/* duvisor-vmm processes (see process.h). */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon_log.h"
#include "process.h"

#define DEFAULT_START_TIMEOUT_MS 60000
#define LINE_MAX_BYTES 4096	/* longer lines are cut */
#define TAIL_LINES 8
#define ERROR_LINES 4
#define EXIT_POLL_MS 500	/* adopted VMM without pidfds */

struct dv_vmm {
	pid_t pid;
	uint64_t start_time;
	struct dv_monitor *mon;	/* NULL until connected */
	const struct dv_vmm_ops *ops;
	void *opaque;

	int out_fd;		/* read end of its stdout+stderr, or -1 */
	guint out_source;
	int log_fd;		/* or -1 */
	GString *partial;	/* an incomplete line */
	GQueue tail;		/* last lines (char *) */
	GQueue errors;		/* last error lines (char *) */
	enum dv_vmm_end end;
	int exit_code;		/* announced, -1 until then */

	char *pty;
	bool ready;
	bool adopted;
	bool timed_out;
	guint ready_timer;

	guint child_watch;	/* our child */
	int exit_fd;		/* adopted: a pidfd, or -1 */
	guint exit_source;	/* adopted: pidfd watch or poll timer */
};

/* ---- log -------------------------------------------------------------- */

static int open_log(const char *path)
{
	g_autofree char *dir = NULL;
	int fd;

	if (!path)
		return -1;
	dir = g_path_get_dirname(path);
	if (g_mkdir_with_parents(dir, 0755) < 0)
		DV_WARN("cannot create %s: %s", dir, g_strerror(errno));
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		DV_WARN("cannot open the log %s: %s", path, g_strerror(errno));
	return fd;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (fd >= 0 && len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static char *log_linev(const char *fmt, va_list ap)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format(now, "%F %T");
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);

	return g_strdup_printf("%s.%03d+0000: %s\n", stamp,
			       g_date_time_get_microsecond(now) / 1000, msg);
}

void dv_log_append(const char *log_path, const char *fmt, ...)
{
	g_autofree char *line = NULL;
	va_list ap;
	int fd = open_log(log_path);

	if (fd < 0)
		return;
	va_start(ap, fmt);
	line = log_linev(fmt, ap);
	va_end(ap);
	write_all(fd, line, strlen(line));
	close(fd);
}

void dv_vmm_log(struct dv_vmm *vmm, const char *fmt, ...)
{
	g_autofree char *line = NULL;
	va_list ap;

	va_start(ap, fmt);
	line = log_linev(fmt, ap);
	va_end(ap);
	write_all(vmm->log_fd, line, strlen(line));
}

char *dv_wait_status_string(int wait_status)
{
	if (WIFEXITED(wait_status))
		return g_strdup_printf("exit status %d",
				       WEXITSTATUS(wait_status));
	if (WIFSIGNALED(wait_status))
		return g_strdup_printf("killed by signal %d (%s)",
				       WTERMSIG(wait_status),
				       g_strsignal(WTERMSIG(wait_status)));
	return g_strdup_printf("wait status 0x%x", wait_status);
}

/* ---- output ----------------------------------------------------------- */

static void push_line(GQueue *q, const char *line, unsigned int max)
{
	g_queue_push_tail(q, g_strdup(line));
	while (q->length > max)
		g_free(g_queue_pop_head(q));
}

static void handle_line(struct dv_vmm *vmm, char *line)
{
	size_t len = strlen(line);

	if (len && line[len - 1] == '\r')
		line[len - 1] = '\0';
	push_line(&vmm->tail, line, TAIL_LINES);
	if (strstr(line, "error: "))
		push_line(&vmm->errors, line, ERROR_LINES);
}

static void take_output(struct dv_vmm *vmm, const char *buf, size_t n)
{
	write_all(vmm->log_fd, buf, n);
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			handle_line(vmm, vmm->partial->str);
			g_string_truncate(vmm->partial, 0);
		} else if (vmm->partial->len < LINE_MAX_BYTES) {
			g_string_append_c(vmm->partial, buf[i]);
		}
	}
}

static void close_output(struct dv_vmm *vmm)
{
	if (vmm->out_source) {
		g_source_remove(vmm->out_source);
		vmm->out_source = 0;
	}
	if (vmm->out_fd >= 0) {
		close(vmm->out_fd);
		vmm->out_fd = -1;
	}
	if (vmm->partial->len) {
		handle_line(vmm, vmm->partial->str);
		g_string_truncate(vmm->partial, 0);
	}
}

/* Reads what is there; false at end of file or on errors. */
static bool read_output(struct dv_vmm *vmm)
{
	char buf[4096];

	for (int i = 0; i < 64; i++) {
		ssize_t n = read(vmm->out_fd, buf, sizeof(buf));

		if (n > 0) {
			take_output(vmm, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
	return true;
}

static gboolean on_output(gint fd, GIOCondition cond, gpointer data)
{
	struct dv_vmm *vmm = data;

	if (read_output(vmm))
		return G_SOURCE_CONTINUE;
	vmm->out_source = 0;
	close_output(vmm);
	return G_SOURCE_REMOVE;
}

static void watch_output(struct dv_vmm *vmm, int fd)
{
	vmm->out_fd = fd;
	g_unix_set_fd_nonblocking(fd, TRUE, NULL);
	vmm->out_source = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
					on_output, vmm);
}

char *dv_vmm_output_tail(const struct dv_vmm *vmm)
{
	const GQueue *q = vmm->errors.length ? &vmm->errors : &vmm->tail;
	GString *s = g_string_new(NULL);

	for (GList *l = q->head; l; l = l->next) {
		if (s->len)
			g_string_append(s, "\n");
		g_string_append(s, l->data);
	}
	return g_string_free(s, FALSE);
}

/* ---- readiness and exit ----------------------------------------------- */

static void stop_ready_timer(struct dv_vmm *vmm)
{
	if (vmm->ready_timer) {
		g_source_remove(vmm->ready_timer);
		vmm->ready_timer = 0;
	}
}

static void become_ready(struct dv_vmm *vmm)
{
	if (vmm->ready || vmm->timed_out)
		return;
	vmm->ready = true;
	stop_ready_timer(vmm);
	if (vmm->ops->ready)
		vmm->ops->ready(vmm, vmm->opaque);
}

static gboolean on_start_timeout(gpointer data)
{
	struct dv_vmm *vmm = data;

	vmm->ready_timer = 0;
	vmm->timed_out = true;
	DV_WARN("duvisor-vmm (pid %d) did not start in time: killing it",
		(int)vmm->pid);
	dv_vmm_log(vmm, "duvisor-vmm did not start in time: killing it");
	dv_vmm_kill(vmm);
	return G_SOURCE_REMOVE;
}

static const char *field(GHashTable *fields, const char *key)
{
	const char *v = g_hash_table_lookup(fields, key);

	return v ? v : "";
}

static void report_state(struct dv_vmm *vmm, const char *state)
{
	bool paused = !strcmp(state, "paused");

	if (vmm->ready && vmm->ops->state &&
	    (paused || !strcmp(state, "running")))
		vmm->ops->state(vmm, paused, vmm->opaque);
}

/* A state notification may be stale by the time we see it (it waited
 * while a request of ours ran): what counts is the state now. */
static void report_current_state(struct dv_vmm *vmm)
{
	g_autoptr(GHashTable) status = NULL;

	if (!vmm->ready || !vmm->ops->state)
		return;
	status = dv_monitor_query_status(vmm->mon, NULL);
	if (status)
		report_state(vmm, field(status, "state"));
}

/* The VMM's own account of what happens (docs/control-protocol.md). */
static void on_event(struct dv_monitor *mon, const char *name,
		     GHashTable *fields, void *opaque)
{
	struct dv_vmm *vmm = opaque;
	const char *state = field(fields, "state");

	/* Routine ones are not worth a log line each. */
	if (strcmp(name, "status") != 0 && strcmp(name, "state") != 0 &&
	    strcmp(name, "balloon-change") != 0)
		dv_vmm_log(vmm, "duvisor-vmm: event %s%s%s", name,
			   *field(fields, "message") ? ": " : "",
			   field(fields, "message"));
	if (!strcmp(name, "status")) {
		/* Ours, asked on connecting: a new VMM's machine runs, or an
		 * adopted one's state may have changed while no daemon ran.
		 * (A new one's state is the owner's business from here.) */
		if (vmm->ready)
			report_state(vmm, state);
		else if (g_ascii_strtoull(field(fields, "boots"), NULL, 10) &&
			 (!strcmp(state, "running") || !strcmp(state, "paused")))
			become_ready(vmm);
	} else if (!strcmp(name, "boot")) {
		become_ready(vmm);
	} else if (!strcmp(name, "state")) {
		report_current_state(vmm);
	} else if (!strcmp(name, "guest-reset")) {
		if (!strcmp(field(fields, "rebooting"), "yes")) {
			if (vmm->ready && vmm->ops->reset)
				vmm->ops->reset(vmm, vmm->opaque);
		} else {
			vmm->end = DV_END_RESET;
		}
	} else if (!strcmp(name, "guest-poweroff")) {
		vmm->end = DV_END_POWEROFF;
	} else if (!strcmp(name, "quit")) {
		vmm->end = DV_END_QUIT;
	} else if (!strcmp(name, "guest-panic")) {
		vmm->end = DV_END_PANIC;
	} else if (!strcmp(name, "guest-triple-fault")) {
		vmm->end = DV_END_TRIPLE_FAULT;
	} else if (!strcmp(name, "error")) {
		g_autofree char *line = g_strdup_printf(
			"duvisor-vmm: error: %s", field(fields, "message"));

		push_line(&vmm->errors, line, ERROR_LINES);
		if (vmm->end == DV_END_UNKNOWN)
			vmm->end = DV_END_ERROR;
	} else if (!strcmp(name, "balloon-change")) {
		guint64 actual;

		if (vmm->ops->balloon &&
		    g_ascii_string_to_unsigned(field(fields, "actual"), 10, 0,
					       G_MAXUINT64, &actual, NULL))
			vmm->ops->balloon(vmm, actual, vmm->opaque);
	} else if (!strcmp(name, "exit")) {
		vmm->exit_code = (int)g_ascii_strtoll(field(fields, "status"),
						      NULL, 10);
	}
}

static void on_control_closed(struct dv_monitor *mon, void *opaque)
{
	/* It exits: the end comes through the child or pidfd watch. */
}

static const struct dv_monitor_ops monitor_ops = {
	.event = on_event,
	.closed = on_control_closed,
};

static bool connect_control(struct dv_vmm *vmm, const char *path,
			    GError **error)
{
	vmm->mon = dv_monitor_connect(path, vmm->pid, &monitor_ops, vmm,
				      error);
	return vmm->mon != NULL;
}

static void report_exit(struct dv_vmm *vmm, bool known, int status)
{
	struct dv_vmm_exit ex = {
		.status_known = known,
		.wait_status = status,
		.start_timed_out = vmm->timed_out,
	};

	if (vmm->out_fd >= 0) {
		read_output(vmm);
		close_output(vmm);
	}
	/* Its last notifications wait in the socket. */
	if (vmm->mon)
		dv_monitor_drain(vmm->mon);
	stop_ready_timer(vmm);
	ex.end = vmm->end;
	ex.exit_code = vmm->exit_code;
	vmm->ops->exited(vmm, &ex, vmm->opaque);	/* may free vmm */
}

static void on_child_exit(GPid pid, gint status, gpointer data)
{
	struct dv_vmm *vmm = data;

	vmm->child_watch = 0;
	report_exit(vmm, true, status);
}

static gboolean on_adopted_exit(gint fd, GIOCondition cond, gpointer data)
{
	struct dv_vmm *vmm = data;

	vmm->exit_source = 0;
	report_exit(vmm, false, 0);
	return G_SOURCE_REMOVE;
}

static gboolean on_adopted_poll(gpointer data)
{
	struct dv_vmm *vmm = data;
	struct dv_proc_stat st;

	if (dv_proc_stat_read(vmm->pid, &st) && st.state != 'Z' &&
	    st.start_time == vmm->start_time)
		return G_SOURCE_CONTINUE;
	vmm->exit_source = 0;
	report_exit(vmm, false, 0);
	return G_SOURCE_REMOVE;
}

/* ---- creation --------------------------------------------------------- */

static struct dv_vmm *vmm_new(pid_t pid, const char *log_path,
			      const struct dv_vmm_ops *ops, void *opaque)
{
	struct dv_vmm *vmm = g_new0(struct dv_vmm, 1);

	vmm->pid = pid;
	vmm->exit_code = -1;
	vmm->ops = ops;
	vmm->opaque = opaque;
	vmm->out_fd = -1;
	vmm->exit_fd = -1;
	vmm->log_fd = open_log(log_path);
	vmm->partial = g_string_new(NULL);
	g_queue_init(&vmm->tail);
	g_queue_init(&vmm->errors);
	return vmm;
}

struct child_ids {
	uid_t uid;
	gid_t gid;
};

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_setup(gpointer data)
{
	const struct child_ids *ids = data;
	static const char msg[] = "virtduvisord: cannot switch to the VMM "
				  "user or group\n";

	/* Its own session: terminal signals meant for the daemon must not
	 * reach the VMs, and they outlive the daemon. */
	setsid();
	/* The VMM never runs with the daemon's rights, and nothing it
	 * executes can gain any. */
	if (((ids->gid != (gid_t)-1 || ids->uid != (uid_t)-1) &&
	     setgroups(0, NULL) < 0) ||
	    (ids->gid != (gid_t)-1 && setgid(ids->gid) < 0) ||
	    (ids->uid != (uid_t)-1 && setuid(ids->uid) < 0) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
			_exit(126);
		_exit(126);
	}
}

static void reap_quietly(GPid pid, gint status, gpointer data)
{
}

struct dv_vmm *dv_vmm_spawn(const struct dv_vmm_spawn *args,
			    const struct dv_vmm_ops *ops, void *opaque,
			    GError **error)
{
	struct child_ids ids = { .uid = args->uid, .gid = args->gid };
	unsigned int timeout = args->start_timeout_ms
			       ? args->start_timeout_ms
			       : DEFAULT_START_TIMEOUT_MS;
	struct dv_vmm *vmm;
	struct dv_proc_stat st;
	int fds[2];
	GPid pid;

	if (!g_unix_open_pipe(fds, FD_CLOEXEC, error))
		return NULL;
	if (!g_spawn_async_with_pipes_and_fds(
		    "/", args->argv, NULL,
		    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
		    child_setup, &ids, -1, fds[1], fds[1], args->fds,
		    args->target_fds, args->n_fds,
		    &pid, NULL, NULL, NULL, error)) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	close(fds[1]);
	vmm = vmm_new(pid, args->log_path, ops, opaque);
	if (dv_proc_stat_read(pid, &st))
		vmm->start_time = st.start_time;
	vmm->pty = g_strdup(args->pty);
	watch_output(vmm, fds[0]);
	vmm->child_watch = g_child_watch_add(pid, on_child_exit, vmm);
	vmm->ready_timer = g_timeout_add(timeout, on_start_timeout, vmm);
	/* Its listening socket is ours too, so this cannot race with it. */
	if (!connect_control(vmm, args->control_path, error)) {
		/* The child watch reaps it; nothing more is reported. */
		dv_vmm_kill(vmm);
		g_source_remove(vmm->child_watch);
		vmm->child_watch = 0;
		g_child_watch_add(pid, reap_quietly, NULL);
		dv_vmm_free(vmm);
		return NULL;
	}
	return vmm;
}

struct dv_vmm *dv_vmm_adopt(pid_t pid, uint64_t start_time, const char *pty,
			    const char *log_path, const char *control_path,
			    const struct dv_vmm_ops *ops, void *opaque,
			    GError **error)
{
	g_autofree char *out = g_strdup_printf("/proc/%d/fd/2", (int)pid);
	struct dv_proc_stat st;
	struct dv_vmm *vmm;
	int fd;

	if (!dv_proc_stat_read(pid, &st) || st.state == 'Z' ||
	    st.start_time != start_time) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "duvisor-vmm (pid %d) is no longer running",
			    (int)pid);
		return NULL;
	}
	vmm = vmm_new(pid, log_path, ops, opaque);
	vmm->start_time = start_time;
	vmm->pty = g_strdup(pty);
	vmm->adopted = true;
	vmm->ready = true;
	if (!connect_control(vmm, control_path, error)) {
		/* A VMM nobody can steer must not run on: it would hold its
		 * resources for ever. */
		if (dv_proc_stat_read(pid, &st) && st.start_time == start_time)
			kill(pid, SIGKILL);
		dv_vmm_free(vmm);
		return NULL;
	}
	/* Its output pipe lost its reader with the old daemon: opening the
	 * pipe again through /proc makes us the reader. */
	fd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		watch_output(vmm, fd);
	else
		DV_WARN("cannot read the output of duvisor-vmm (pid %d): %s",
			(int)pid, g_strerror(errno));
#ifdef SYS_pidfd_open
	vmm->exit_fd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	if (vmm->exit_fd >= 0)
		vmm->exit_source = g_unix_fd_add(vmm->exit_fd, G_IO_IN,
						 on_adopted_exit, vmm);
	else
		vmm->exit_source = g_timeout_add(EXIT_POLL_MS, on_adopted_poll,
						 vmm);
	return vmm;
}

void dv_vmm_free(struct dv_vmm *vmm)
{
	if (!vmm)
		return;
	stop_ready_timer(vmm);
	if (vmm->out_source)
		g_source_remove(vmm->out_source);
	if (vmm->out_fd >= 0)
		close(vmm->out_fd);
	if (vmm->child_watch)
		g_source_remove(vmm->child_watch);
	if (vmm->exit_source)
		g_source_remove(vmm->exit_source);
	if (vmm->exit_fd >= 0)
		close(vmm->exit_fd);
	if (vmm->log_fd >= 0)
		close(vmm->log_fd);
	dv_monitor_free(vmm->mon);
	g_string_free(vmm->partial, TRUE);
	g_queue_clear_full(&vmm->tail, g_free);
	g_queue_clear_full(&vmm->errors, g_free);
	g_free(vmm->pty);
	g_free(vmm);
}

void dv_vmm_kill(struct dv_vmm *vmm)
{
	g_autoptr(GError) err = NULL;

	/* Our child cannot be reaped, so its pid cannot be reused, before
	 * the child watch runs. */
	if (vmm->mon ? !dv_monitor_kill(vmm->mon, &err)
		     : kill(vmm->pid, SIGKILL) < 0 && errno != ESRCH)
		DV_WARN("%s", err ? err->message : g_strerror(errno));
}

pid_t dv_vmm_pid(const struct dv_vmm *vmm)
{
	return vmm->pid;
}

uint64_t dv_vmm_start_time(const struct dv_vmm *vmm)
{
	return vmm->start_time;
}

struct dv_monitor *dv_vmm_monitor(struct dv_vmm *vmm)
{
	return vmm->mon;
}

bool dv_vmm_is_ready(const struct dv_vmm *vmm)
{
	return vmm->ready;
}

const char *dv_vmm_pty(const struct dv_vmm *vmm)
{
	return vmm->pty;
}
