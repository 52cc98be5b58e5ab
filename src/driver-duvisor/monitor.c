// SPDX-License-Identifier: GPL-2.0-or-later
/* The control channel to one duvisor-vmm (see monitor.h). */
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "control-proto.h"
#include "daemon_log.h"
#include "monitor.h"
#include "unix_address.h"

/* The VMM answers from its event loop; pause waits for the vCPUs to leave
 * the guest, which takes a moment on a loaded host. */
#define REPLY_TIMEOUT_MS 10000
/* Messages kept while a request waits for its reply; a VMM sending more
 * than that in the meantime loses the oldest. */
#define MAX_PENDING 256

struct dv_monitor {
	pid_t pid;
	int pidfd;		/* -1 when the kernel has no pidfds */
	int fd;			/* the connection, -1 once closed */
	guint watch;
	guint idle;		/* dispatches pending messages */
	uint32_t last_id;
	uint32_t status_id;	/* the status asked for on connecting */
	GQueue pending;		/* GBytes received while waiting */
	bool closed_reported;
	bool complained;	/* about an invalid message, once */
	const struct dv_monitor_ops *ops;
	void *opaque;
};

static GHashTable *fields_of(const struct dvctl_msg *msg)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      g_free);
	const char *p = msg->payload, *end = msg->payload + msg->len;
	struct dvctl_kv kv;

	while (dvctl_next_kv(&p, end, &kv) == 1)
		if (!g_hash_table_contains(h, kv.key))
			g_hash_table_insert(h, g_strdup(kv.key),
					    g_strndup(kv.value, kv.value_len));
	return h;
}

static void report_closed(struct dv_monitor *mon)
{
	if (mon->watch) {
		g_source_remove(mon->watch);
		mon->watch = 0;
	}
	if (mon->fd >= 0) {
		close(mon->fd);
		mon->fd = -1;
	}
	if (!mon->closed_reported) {
		mon->closed_reported = true;
		if (mon->ops->closed)
			mon->ops->closed(mon, mon->opaque);
	}
}

static void complain(struct dv_monitor *mon, const char *what)
{
	if (mon->complained)
		return;
	mon->complained = true;
	DV_WARN("duvisor-vmm (pid %d) sent an invalid control message (%s); "
		"ignoring it and any further ones", (int)mon->pid, what);
}

/* One message from the VMM, outside any request. */
static void dispatch(struct dv_monitor *mon, const uint8_t *buf, size_t len)
{
	g_autoptr(GHashTable) fields = NULL;
	struct dvctl_msg msg;
	int r = dvctl_decode(buf, len, &msg);
	const char *name;

	if (r != DVCTL_OK) {
		complain(mon, dvctl_error_name(r));
		return;
	}
	if (msg.type == DVCTL_REPLY_OK && msg.id == mon->status_id &&
	    mon->status_id) {
		mon->status_id = 0;
		name = "status";
	} else if (msg.type == DVCTL_EVENT) {
		name = NULL;
	} else {
		/* A late reply to a request that timed out. */
		return;
	}
	fields = fields_of(&msg);
	if (!name)
		name = g_hash_table_lookup(fields, "event");
	if (!name) {
		complain(mon, "a notification without event=");
		return;
	}
	if (mon->ops->event)
		mon->ops->event(mon, name, fields, mon->opaque);
}

/* Receives one message: its size, 0 at the end, -1 with nothing there
 * (errno EAGAIN) or on errors; a too large one is cut (and then refused
 * by the codec). */
static ssize_t receive(struct dv_monitor *mon, uint8_t *buf, size_t size)
{
	ssize_t n;

	do
		n = recv(mon->fd, buf, size, MSG_DONTWAIT | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	return n > (ssize_t)size ? (ssize_t)size + 1 : n;
}

static void dispatch_pending(struct dv_monitor *mon)
{
	GBytes *b;

	while ((b = g_queue_pop_head(&mon->pending))) {
		gsize len;
		const uint8_t *p = g_bytes_get_data(b, &len);

		dispatch(mon, p, len);
		g_bytes_unref(b);
	}
}

/* Reads and dispatches what is there; false once the connection ended. */
static bool read_all(struct dv_monitor *mon)
{
	uint8_t buf[DVCTL_MAX_MESSAGE + 1];

	dispatch_pending(mon);
	while (mon->fd >= 0) {
		ssize_t n = receive(mon, buf, DVCTL_MAX_MESSAGE);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			report_closed(mon);
			return false;
		}
		dispatch(mon, buf, (size_t)n);
	}
	return false;
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct dv_monitor *mon = data;

	if (read_all(mon))
		return G_SOURCE_CONTINUE;
	mon->watch = 0;
	return G_SOURCE_REMOVE;
}

static gboolean on_idle(gpointer data)
{
	struct dv_monitor *mon = data;

	mon->idle = 0;
	dispatch_pending(mon);
	if (mon->fd < 0)
		report_closed(mon);
	return G_SOURCE_REMOVE;
}

static void schedule_dispatch(struct dv_monitor *mon)
{
	if (!mon->idle)
		mon->idle = g_idle_add(on_idle, mon);
}

static void keep_pending(struct dv_monitor *mon, const uint8_t *buf,
			 size_t len)
{
	if (mon->pending.length >= MAX_PENDING) {
		complain(mon, "too many messages");
		g_bytes_unref(g_queue_pop_head(&mon->pending));
	}
	g_queue_push_tail(&mon->pending, g_bytes_new(buf, len));
}

static bool send_request(struct dv_monitor *mon, uint16_t type,
			 const char *key, const char *value, uint32_t *id,
			 GError **error)
{
	struct dvctl_buf b;
	size_t len;
	ssize_t n;

	if (mon->fd < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED,
			    "duvisor-vmm (pid %d) closed its control channel",
			    (int)mon->pid);
		return false;
	}
	if (++mon->last_id == 0)
		mon->last_id = 1;
	*id = mon->last_id;
	dvctl_begin(&b, type, *id);
	if (key)
		dvctl_put(&b, key, value);
	len = dvctl_finish(&b);
	if (!len) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "invalid %s request", dvctl_request_name(type));
		return false;
	}
	do
		n = send(mon->fd, b.data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		int err = n < 0 ? errno : EMSGSIZE;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
			    "cannot send '%s' to duvisor-vmm (pid %d): %s",
			    dvctl_request_name(type), (int)mon->pid,
			    g_strerror(err));
		return false;
	}
	return true;
}

/* Waits for the reply to @id; other messages are kept for later. */
static GHashTable *wait_reply(struct dv_monitor *mon, uint16_t type,
			      uint32_t id, GError **error)
{
	gint64 deadline = g_get_monotonic_time() +
			  (gint64)REPLY_TIMEOUT_MS * 1000;
	uint8_t buf[DVCTL_MAX_MESSAGE + 1];
	const char *what = dvctl_request_name(type);

	for (;;) {
		struct pollfd p = { .fd = mon->fd, .events = POLLIN };
		gint64 left = deadline - g_get_monotonic_time();
		struct dvctl_msg msg;
		ssize_t n;
		int r;

		if (left <= 0) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
				    "duvisor-vmm (pid %d) did not answer '%s' "
				    "within %d s", (int)mon->pid, what,
				    REPLY_TIMEOUT_MS / 1000);
			return NULL;
		}
		r = poll(&p, 1, (int)MAX(1, left / 1000));
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		n = receive(mon, buf, DVCTL_MAX_MESSAGE);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		if (dvctl_decode(buf, (size_t)n, &msg) == DVCTL_OK &&
		    msg.id == id && (msg.type == DVCTL_REPLY_OK ||
				     msg.type == DVCTL_REPLY_ERROR)) {
			g_autoptr(GHashTable) f = fields_of(&msg);
			const char *e, *m;

			if (msg.type == DVCTL_REPLY_OK)
				return g_steal_pointer(&f);
			e = g_hash_table_lookup(f, "error");
			m = g_hash_table_lookup(f, "message");
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "duvisor-vmm refused '%s': %s%s%s", what,
				    e ? e : "error", m ? ": " : "", m ? m : "");
			return NULL;
		}
		keep_pending(mon, buf, (size_t)n);
		schedule_dispatch(mon);
	}
	/* The connection ended: the VMM is going away. */
	close(mon->fd);
	mon->fd = -1;
	if (mon->watch) {
		g_source_remove(mon->watch);
		mon->watch = 0;
	}
	schedule_dispatch(mon);
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED,
		    "duvisor-vmm (pid %d) closed its control channel before "
		    "answering '%s'", (int)mon->pid, what);
	return NULL;
}

static GHashTable *request(struct dv_monitor *mon, uint16_t type,
			   GError **error)
{
	uint32_t id;

	if (!send_request(mon, type, NULL, NULL, &id, error))
		return NULL;
	return wait_reply(mon, type, id, error);
}

static bool simple_request(struct dv_monitor *mon, uint16_t type,
			   GError **error)
{
	g_autoptr(GHashTable) reply = request(mon, type, error);

	return reply != NULL;
}

struct dv_monitor *dv_monitor_connect(const char *path, pid_t pid,
				      const struct dv_monitor_ops *ops,
				      void *opaque, GError **error)
{
	struct dv_unix_address a;
	struct dv_monitor *mon;
	int fd;

	if (!dv_unix_address_init(&a, path, error))
		return NULL;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 ||
	    connect(fd, (struct sockaddr *)&a.addr, sizeof(a.addr)) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		dv_unix_address_clear(&a);
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
			    "cannot connect to the control socket %s: %s",
			    path, g_strerror(err));
		return NULL;
	}
	dv_unix_address_clear(&a);
	mon = g_new0(struct dv_monitor, 1);
	mon->pid = pid;
	mon->fd = fd;
	mon->ops = ops;
	mon->opaque = opaque;
	g_queue_init(&mon->pending);
#ifdef SYS_pidfd_open
	mon->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
	mon->pidfd = -1;
#endif
	/* Whatever happened before we connected is summed up by the status;
	 * the VMM answers once its machine runs. */
	if (!send_request(mon, DVCTL_STATUS, NULL, NULL, &mon->status_id,
			  error)) {
		dv_monitor_free(mon);
		return NULL;
	}
	mon->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
				   on_readable, mon);
	return mon;
}

void dv_monitor_free(struct dv_monitor *mon)
{
	if (!mon)
		return;
	if (mon->watch)
		g_source_remove(mon->watch);
	if (mon->idle)
		g_source_remove(mon->idle);
	if (mon->fd >= 0)
		close(mon->fd);
	if (mon->pidfd >= 0)
		close(mon->pidfd);
	g_queue_clear_full(&mon->pending, (GDestroyNotify)g_bytes_unref);
	g_free(mon);
}

pid_t dv_monitor_pid(const struct dv_monitor *mon)
{
	return mon->pid;
}

void dv_monitor_drain(struct dv_monitor *mon)
{
	if (mon->fd >= 0)
		read_all(mon);
	else
		dispatch_pending(mon);
}

bool dv_monitor_system_powerdown(struct dv_monitor *mon, GError **error)
{
	return simple_request(mon, DVCTL_POWERDOWN, error);
}

bool dv_monitor_quit(struct dv_monitor *mon, GError **error)
{
	return simple_request(mon, DVCTL_QUIT, error);
}

bool dv_monitor_reset(struct dv_monitor *mon, GError **error)
{
	return simple_request(mon, DVCTL_RESET, error);
}

bool dv_monitor_stop(struct dv_monitor *mon, GError **error)
{
	return simple_request(mon, DVCTL_PAUSE, error);
}

bool dv_monitor_cont(struct dv_monitor *mon, GError **error)
{
	return simple_request(mon, DVCTL_RESUME, error);
}

GHashTable *dv_monitor_query_status(struct dv_monitor *mon, GError **error)
{
	return request(mon, DVCTL_STATUS, error);
}

static bool set_request(struct dv_monitor *mon, uint16_t type,
			const char *key, uint64_t value, GError **error)
{
	g_autoptr(GHashTable) reply = NULL;
	char text[24];
	uint32_t id;

	g_snprintf(text, sizeof(text), "%" G_GUINT64_FORMAT, value);
	if (!send_request(mon, type, key, text, &id, error))
		return false;
	reply = wait_reply(mon, type, id, error);
	return reply != NULL;
}

bool dv_monitor_balloon_set_target(struct dv_monitor *mon, uint64_t bytes,
				   GError **error)
{
	return set_request(mon, DVCTL_BALLOON_SET, "target", bytes, error);
}

bool dv_monitor_balloon_set_period(struct dv_monitor *mon,
				   unsigned int seconds, GError **error)
{
	return set_request(mon, DVCTL_BALLOON_SET, "stats_period", seconds,
			   error);
}

GHashTable *dv_monitor_balloon_stats(struct dv_monitor *mon, GError **error)
{
	return request(mon, DVCTL_BALLOON_STATS, error);
}

bool dv_monitor_kill(struct dv_monitor *mon, GError **error)
{
	int r;

#ifdef SYS_pidfd_send_signal
	if (mon->pidfd >= 0)
		r = (int)syscall(SYS_pidfd_send_signal, mon->pidfd, SIGKILL,
				 NULL, 0);
	else
#endif
		r = kill(mon->pid, SIGKILL);
	if (r < 0 && errno != ESRCH) {
		int err = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
			    "cannot kill duvisor-vmm (pid %d): %s",
			    (int)mon->pid, g_strerror(err));
		return false;
	}
	return true;
}

bool dv_proc_stat_parse(const char *text, struct dv_proc_stat *st)
{
	g_auto(GStrv) f = NULL;
	const char *p;

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
	st->processor = g_strv_length(f) > 36 ? (int)strtol(f[36], NULL, 10) : -1;
	return true;
}

static bool stat_file_read(const char *path, struct dv_proc_stat *st)
{
	g_autofree char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) &&
	       dv_proc_stat_parse(text, st);
}

bool dv_proc_stat_read(pid_t pid, struct dv_proc_stat *st)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);

	return stat_file_read(path, st);
}

bool dv_proc_task_stat_read(pid_t pid, pid_t tid, struct dv_proc_stat *st)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/stat",
						(int)pid, (int)tid);

	return pid > 0 && tid > 0 && stat_file_read(path, st);
}

uint64_t dv_proc_ticks_to_ns(uint64_t ticks)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? ticks * (G_GUINT64_CONSTANT(1000000000) / (uint64_t)hz)
		      : 0;
}

bool dv_monitor_query_cpu_time(struct dv_monitor *mon, uint64_t *ns)
{
	struct dv_proc_stat st;

	if (!dv_proc_stat_read(mon->pid, &st))
		return false;
	*ns = dv_proc_ticks_to_ns(st.utime + st.stime);
	return true;
}

GHashTable *dv_monitor_block_stats(struct dv_monitor *mon, GError **error)
{
	return request(mon, DVCTL_BLOCK_STATS, error);
}
