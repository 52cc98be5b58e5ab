// SPDX-License-Identifier: GPL-2.0-or-later
/* Serial consoles over RPC streams (see console.h). */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <libvirt/libvirt.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"
#include "daemon_log.h"
#include "domain_lifecycle.h"
#include "rpc_stream.h"

#define READ_CHUNK 65536
/* Stop reading the pty while this much waits for the client. */
#define OUT_HIGH_WATER (1u << 20)
#define THROTTLE_POLL_MS 50
/* Input kept while the guest does not read it; more is dropped. */
#define IN_MAX (1u << 20)

struct console {
	struct dv_domain *dom;	/* a reference */
	struct rpc_stream *st;
	int fd;			/* the pty, -1 once closed */
	guint read_source;
	guint write_source;
	guint throttle_timer;
	GByteArray *in;		/* client input not yet written */
};

static GList *sessions;

static void watch_read(struct console *con);

static void close_pty(struct console *con)
{
	if (con->read_source)
		g_source_remove(con->read_source);
	if (con->write_source)
		g_source_remove(con->write_source);
	if (con->throttle_timer)
		g_source_remove(con->throttle_timer);
	con->read_source = con->write_source = con->throttle_timer = 0;
	if (con->fd >= 0)
		close(con->fd);
	con->fd = -1;
	g_byte_array_set_size(con->in, 0);
}

/* The pty is gone: end of data for the client, who then finishes. */
static void end_session(struct console *con)
{
	close_pty(con);
	rpc_stream_send_eof(con->st);
}

static gboolean on_throttle(gpointer data)
{
	struct console *con = data;

	if (rpc_stream_queued_bytes(con->st) > OUT_HIGH_WATER)
		return G_SOURCE_CONTINUE;
	con->throttle_timer = 0;
	watch_read(con);
	return G_SOURCE_REMOVE;
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct console *con = data;
	g_autofree char *buf = g_malloc(READ_CHUNK);
	ssize_t n;

	n = read(con->fd, buf, READ_CHUNK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		/* EIO: the VMM closed its side. */
		con->read_source = 0;
		end_session(con);
		return G_SOURCE_REMOVE;
	}
	if (!rpc_stream_send(con->st, buf, (size_t)n)) {
		con->read_source = 0;
		close_pty(con);
		return G_SOURCE_REMOVE;
	}
	if (rpc_stream_queued_bytes(con->st) > OUT_HIGH_WATER) {
		con->read_source = 0;
		con->throttle_timer = g_timeout_add(THROTTLE_POLL_MS,
						    on_throttle, con);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void watch_read(struct console *con)
{
	if (con->fd >= 0 && !con->read_source)
		con->read_source = g_unix_fd_add(con->fd,
						 G_IO_IN | G_IO_HUP | G_IO_ERR,
						 on_readable, con);
}

/* Writes queued input; false when the pty failed. */
static bool flush_input(struct console *con)
{
	while (con->in->len > 0) {
		ssize_t n = write(con->fd, con->in->data, con->in->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		g_byte_array_remove_range(con->in, 0, (guint)n);
	}
	return true;
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer data)
{
	struct console *con = data;

	if (!flush_input(con)) {
		con->write_source = 0;
		end_session(con);
		return G_SOURCE_REMOVE;
	}
	if (con->in->len)
		return G_SOURCE_CONTINUE;
	con->write_source = 0;
	return G_SOURCE_REMOVE;
}

static void stream_recv(struct rpc_stream *st, const uint8_t *data,
			size_t len, void *opaque)
{
	struct console *con = opaque;

	if (con->fd < 0)
		return;
	if (con->in->len + len > IN_MAX) {
		DV_WARN("console of '%s': the guest does not read its input, "
			"dropping %zu bytes", dv_domain_name(con->dom), len);
		return;
	}
	g_byte_array_append(con->in, data, (guint)len);
	if (!flush_input(con)) {
		end_session(con);
		return;
	}
	if (con->in->len && !con->write_source)
		con->write_source = g_unix_fd_add(con->fd, G_IO_OUT,
						  on_writable, con);
}

static void stream_finish(struct rpc_stream *st, bool aborted, void *opaque)
{
	close_pty(opaque);
}

static void stream_release(void *opaque)
{
	struct console *con = opaque;

	sessions = g_list_remove(sessions, con);
	close_pty(con);
	g_byte_array_unref(con->in);
	dv_domain_unref(con->dom);
	g_free(con);
}

static const struct rpc_stream_ops console_stream_ops = {
	.recv = stream_recv,
	.finish = stream_finish,
	.release = stream_release,
};

static struct console *find_session(struct dv_domain *dom)
{
	for (GList *l = sessions; l; l = l->next) {
		struct console *con = l->data;

		if (con->dom == dom && con->fd >= 0)
			return con;
	}
	return NULL;
}

bool dv_console_open(struct dv_domain *dom, const char *pty,
		     struct rpc_call *call, unsigned int flags,
		     GError **error)
{
	struct console *old = find_session(dom);
	struct console *con;
	struct termios tio;
	int fd;

	if (old && !(flags & VIR_DOMAIN_CONSOLE_FORCE)) {
		g_set_error(error, DV_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
			    "an active console session exists for domain "
			    "'%s' (use --force to take it over)",
			    dv_domain_name(dom));
		return false;
	}
	fd = open(pty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		g_set_error(error, DV_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
			    "cannot open the console of '%s' (%s): %s",
			    dv_domain_name(dom), pty, g_strerror(err));
		return false;
	}
	if (!isatty(fd)) {
		close(fd);
		g_set_error(error, DV_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
			    "the console of '%s' (%s) is not a terminal",
			    dv_domain_name(dom), pty);
		return false;
	}
	if (tcgetattr(fd, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(fd, TCSANOW, &tio);
	}
	if (old) {
		DV_INFO("console of '%s' taken over by a new session",
			dv_domain_name(dom));
		end_session(old);
	}
	con = g_new0(struct console, 1);
	con->dom = dv_domain_ref(dom);
	con->fd = fd;
	con->in = g_byte_array_new();
	sessions = g_list_prepend(sessions, con);
	con->st = rpc_stream_new(call, &console_stream_ops, con);
	watch_read(con);
	return true;
}

void dv_console_close_domain(struct dv_domain *dom)
{
	g_autoptr(GList) copy = g_list_copy(sessions);

	for (GList *l = copy; l; l = l->next) {
		struct console *con = l->data;

		if (con->dom == dom && con->fd >= 0)
			end_session(con);
	}
}

void dv_console_shutdown(void)
{
	g_autoptr(GList) copy = g_list_copy(sessions);

	for (GList *l = copy; l; l = l->next)
		close_pty(l->data);
}
