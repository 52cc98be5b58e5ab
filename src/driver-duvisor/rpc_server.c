// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The RPC server (see rpc_server.h).
 *
 * Each client has an input GSource while we are willing to read from it and
 * an output GSource while its write queue is not empty.  Sends never write
 * directly: they queue and let the main loop flush, so a handler never sees
 * its client closed under it.  A client whose write queue grows too large
 * (it does not read its replies) is no longer read from; past a hard limit
 * it is dropped.  Any framing error closes that client only.
 */
#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_log.h"
#include "rpc_server_priv.h"

#define READ_BUDGET (1024u * 1024)

struct rpc_listener {
	struct rpc_server *srv;
	GSocket *sock;
	GSource *src;
	guint retry_id;		/* accept failed: try again later */
	char *path;
	bool readonly;
	bool adopted;		/* handed in: its owner removes the path */
};

struct close_hook {
	rpc_client_fn fn;
	void *opaque;
};

struct rpc_server {
	struct rpc_server_limits limits;
	rpc_call_fn on_call;
	void *opaque;
	GPtrArray *listeners;
	GList *clients;
	unsigned int nclients;
	GArray *close_hooks;
	uint64_t next_id;
};

static void client_update_input(struct rpc_client *c);
static void client_read(struct rpc_client *c);

/* ---- clients ---------------------------------------------------------- */

struct rpc_client *rpc_client_ref(struct rpc_client *c)
{
	c->refs++;
	return c;
}

void rpc_client_unref(struct rpc_client *c)
{
	if (!c || --c->refs > 0)
		return;
	g_assert(c->closed);
	g_datalist_clear(&c->data);
	g_clear_object(&c->sock);
	g_free(c);
}

uint64_t rpc_client_id(const struct rpc_client *c)
{
	return c->id;
}

struct rpc_server *rpc_client_server(const struct rpc_client *c)
{
	return c->srv;
}

bool rpc_client_readonly(const struct rpc_client *c)
{
	return c->readonly || c->sock_readonly;
}

void rpc_client_set_readonly(struct rpc_client *c)
{
	c->readonly = true;
}

bool rpc_client_is_open(const struct rpc_client *c)
{
	return c->open;
}

void rpc_client_set_open(struct rpc_client *c, bool open)
{
	c->open = open;
}

uid_t rpc_client_peer_uid(const struct rpc_client *c)
{
	return c->uid;
}

pid_t rpc_client_peer_pid(const struct rpc_client *c)
{
	return c->pid;
}

bool rpc_client_closed(const struct rpc_client *c)
{
	return c->closed;
}

void rpc_client_set_data(struct rpc_client *c, const char *key, void *data,
			 GDestroyNotify destroy)
{
	g_datalist_set_data_full(&c->data, key, data, destroy);
}

void *rpc_client_get_data(struct rpc_client *c, const char *key)
{
	return g_datalist_get_data(&c->data, key);
}

size_t rpc_client_queued_bytes(const struct rpc_client *c)
{
	return c->out_bytes;
}

static void drop_source(GSource **src)
{
	if (*src) {
		g_source_destroy(*src);
		g_source_unref(*src);
		*src = NULL;
	}
}

void rpc_client_close(struct rpc_client *c)
{
	struct rpc_server *srv = c->srv;
	struct rpc_frame *m;

	if (c->closed)
		return;
	c->closed = true;
	rpc_client_ref(c);
	DV_DEBUG("client %" G_GUINT64_FORMAT ": closed", c->id);
	drop_source(&c->in_src);
	drop_source(&c->out_src);
	g_socket_close(c->sock, NULL);
	while ((m = g_queue_pop_head(&c->outq)))
		rpc_frame_free(m);
	c->out_bytes = 0;
	rpc_reader_clear(&c->reader);
	g_clear_pointer(&c->inbuf, g_free);
	c->in_off = c->in_len = 0;

	rpc_stream_client_closed(c);
	for (guint i = 0; i < srv->close_hooks->len; i++) {
		struct close_hook *h = &g_array_index(srv->close_hooks,
						      struct close_hook, i);
		h->fn(c, h->opaque);
	}
	srv->clients = g_list_remove(srv->clients, c);
	srv->nclients--;
	rpc_client_unref(c);	/* the server's reference */
	rpc_client_unref(c);
}

static gboolean on_close_later(gpointer data)
{
	rpc_client_close(data);
	return G_SOURCE_REMOVE;
}

void rpc_client_close_later(struct rpc_client *c)
{
	if (c->closed || c->closing)
		return;
	c->closing = true;
	drop_source(&c->in_src);
	g_idle_add_full(G_PRIORITY_HIGH, on_close_later, rpc_client_ref(c),
			(GDestroyNotify)rpc_client_unref);
}

/* Writes what the socket takes; the caller holds a reference. */
static void client_flush(struct rpc_client *c)
{
	struct rpc_frame *m;

	while (!c->closed && (m = g_queue_peek_head(&c->outq))) {
		g_autoptr(GError) err = NULL;
		gssize n = g_socket_send(c->sock, (const char *)m->buf + m->off,
					 m->len - m->off, NULL, &err);

		if (n < 0) {
			if (!g_error_matches(err, G_IO_ERROR,
					     G_IO_ERROR_WOULD_BLOCK)) {
				DV_DEBUG("client %" G_GUINT64_FORMAT
					 ": write: %s", c->id, err->message);
				rpc_client_close(c);
			}
			break;
		}
		m->off += (size_t)n;
		c->out_bytes -= (size_t)n;
		if (m->off == m->len)
			rpc_frame_free(g_queue_pop_head(&c->outq));
	}
}

/* Calls @cb while the client's socket meets @cond, until destroyed. */
static GSource *watch_client(struct rpc_client *c, GIOCondition cond,
			     GSocketSourceFunc cb)
{
	GSource *src = g_socket_create_source(c->sock, cond, NULL);

	g_source_set_callback(src, G_SOURCE_FUNC(cb), c, NULL);
	/* No main loop runs nested here: without this, GLib would remove
	 * and re-add the socket to its poll set around every callback, two
	 * wake-ups of its own per call. */
	g_source_set_can_recurse(src, TRUE);
	g_source_attach(src, NULL);
	return src;
}

static gboolean on_writable(GSocket *sock, GIOCondition cond, gpointer data);

/* Waits for the socket to drain only while something is left to write. */
static void client_update_output(struct rpc_client *c)
{
	if (c->closed || g_queue_is_empty(&c->outq))
		drop_source(&c->out_src);
	else if (!c->out_src)
		c->out_src = watch_client(c, G_IO_OUT, on_writable);
}

static gboolean on_writable(GSocket *sock, GIOCondition cond, gpointer data)
{
	struct rpc_client *c = data;

	rpc_client_ref(c);
	client_flush(c);
	client_update_output(c);
	client_update_input(c);
	rpc_client_unref(c);
	return G_SOURCE_CONTINUE;
}

bool rpc_client_send(struct rpc_client *c, struct rpc_frame *msg)
{
	size_t hard_limit;

	if (!msg)
		return false;
	if (c->closed || c->closing) {
		rpc_frame_free(msg);
		return false;
	}
	hard_limit = 4 * c->srv->limits.max_queued_bytes + RPC_LEN_MAX;
	if (c->out_bytes + msg->len > hard_limit) {
		DV_WARN("client %" G_GUINT64_FORMAT
			": does not read its replies, closing", c->id);
		rpc_frame_free(msg);
		/* Not now: the caller may be iterating over this client's
		 * streams or clients. */
		rpc_client_close_later(c);
		return false;
	}
	g_queue_push_tail(&c->outq, msg);
	c->out_bytes += msg->len - msg->off;
	/* Replies to the calls being read go out together right after. */
	if (!c->reading)
		client_update_output(c);
	client_update_input(c);
	return true;
}

bool rpc_client_send_message(struct rpc_client *c, int proc,
			     xdrproc_t filter, const void *data)
{
	struct rpc_header h = {
		.prog = DV_PROGRAM,
		.vers = DV_PROTOCOL_VERSION,
		.proc = proc,
		.type = DV_MESSAGE,
		.serial = 0,
		.status = DV_OK,
	};
	struct rpc_frame *m = rpc_frame_new_xdr(&h, filter, data);

	if (!m) {
		DV_WARN("cannot encode message %d", proc);
		return false;
	}
	return rpc_client_send(c, m);
}

void rpc_client_call_started(struct rpc_client *c)
{
	c->calls++;
	client_update_input(c);
}

void rpc_client_call_finished(struct rpc_client *c)
{
	g_assert(c->calls > 0);
	c->calls--;
	client_update_input(c);
}

static void handle_keepalive(struct rpc_client *c, const struct rpc_header *h)
{
	struct rpc_header pong = {
		.prog = DV_KEEPALIVE_PROGRAM,
		.vers = DV_KEEPALIVE_VERSION,
		.proc = DV_KEEPALIVE_PONG,
		.type = DV_MESSAGE,
		.serial = 0,
		.status = DV_OK,
	};

	if (h->vers == DV_KEEPALIVE_VERSION && h->type == DV_MESSAGE &&
	    h->proc == DV_KEEPALIVE_PING)
		rpc_client_send(c, rpc_frame_new_xdr(&pong, NULL, NULL));
	else if (h->proc != DV_KEEPALIVE_PONG)
		DV_DEBUG("client %" G_GUINT64_FORMAT
			 ": ignoring keepalive proc %d type %d",
			 c->id, h->proc, h->type);
}

static void handle_packet(struct rpc_client *c, const uint8_t *pkt, size_t len)
{
	const uint8_t *payload = pkt + RPC_HEADER_SIZE;
	size_t plen = len - RPC_HEADER_SIZE;
	struct rpc_header h;

	rpc_header_decode(pkt, &h);
	if (h.prog == DV_KEEPALIVE_PROGRAM) {
		handle_keepalive(c, &h);
		return;
	}
	switch (h.type) {
	case DV_CALL:
	case DV_CALL_WITH_FDS:
		c->srv->on_call(c, &h, payload, plen, c->srv->opaque);
		break;
	case DV_STREAM:
	case DV_STREAM_HOLE:
		rpc_stream_incoming(c, &h, payload, plen);
		break;
	default:
		DV_DEBUG("client %" G_GUINT64_FORMAT
			 ": ignoring packet type %d proc %d", c->id, h.type,
			 h.proc);
		break;
	}
}

static bool client_can_read(const struct rpc_client *c)
{
	const struct rpc_server_limits *l = &c->srv->limits;

	return !c->closed && !c->closing &&
	       c->out_bytes <= l->max_queued_bytes &&
	       c->calls < l->max_client_requests;
}

/* Feeds staged input to the reader; false when reading must stop. */
static bool process_input(struct rpc_client *c)
{
	while (c->in_off < c->in_len) {
		enum rpc_reader_status st;

		if (!client_can_read(c))
			return false;
		c->in_off += rpc_reader_feed(&c->reader, c->inbuf + c->in_off,
					     c->in_len - c->in_off, &st);
		if (st == RPC_READER_BAD_LENGTH) {
			DV_WARN("client %" G_GUINT64_FORMAT
				": invalid packet length %u, closing", c->id,
				rpc_get_u32(c->reader.lenbuf));
			rpc_client_close(c);
			return false;
		}
		if (st == RPC_READER_PACKET) {
			size_t len;
			g_autofree uint8_t *pkt = rpc_reader_take(&c->reader,
								  &len);

			handle_packet(c, pkt, len);
		}
	}
	return !c->closed;
}

static void client_read(struct rpc_client *c)
{
	size_t budget = READ_BUDGET;
	bool drained = false;

	while (process_input(c) && !drained && client_can_read(c) &&
	       budget > 0) {
		g_autoptr(GError) err = NULL;
		gssize n = g_socket_receive(c->sock, (char *)c->inbuf,
					    RPC_CLIENT_INBUF, NULL, &err);

		if (n < 0 && g_error_matches(err, G_IO_ERROR,
					     G_IO_ERROR_WOULD_BLOCK))
			break;
		if (n <= 0) {
			if (n < 0)
				DV_DEBUG("client %" G_GUINT64_FORMAT
					 ": read: %s", c->id, err->message);
			rpc_client_close(c);
			break;
		}
		c->in_off = 0;
		c->in_len = (size_t)n;
		budget -= MIN(budget, (size_t)n);
		/* A short read emptied the socket: poll tells us of more,
		 * with no receive that would only fail with EAGAIN. */
		drained = (size_t)n < RPC_CLIENT_INBUF;
	}
	client_update_input(c);
}

/* Reads and dispatches the calls that arrived, then writes the replies
 * at once: a call costs no extra main-loop turn or output source unless
 * the socket is full. */
static void client_read_and_reply(struct rpc_client *c)
{
	rpc_client_ref(c);
	c->reading = true;
	client_read(c);
	c->reading = false;
	client_flush(c);
	client_update_output(c);
	client_update_input(c);
	rpc_client_unref(c);
}

static gboolean on_readable(GSocket *sock, GIOCondition cond, gpointer data)
{
	client_read_and_reply(data);
	return G_SOURCE_CONTINUE;
}

static gboolean on_resume(gpointer data)
{
	struct rpc_client *c = data;

	if (!c->closed)
		client_read_and_reply(c);
	return G_SOURCE_REMOVE;
}

/* Starts or stops reading from the client as its state allows. */
static void client_update_input(struct rpc_client *c)
{
	if (c->closed)
		return;
	if (!client_can_read(c)) {
		drop_source(&c->in_src);
		return;
	}
	if (c->in_src)
		return;
	c->in_src = watch_client(c, G_IO_IN, on_readable);
	/* Input staged while paused would not wake the socket source. */
	if (c->in_off < c->in_len)
		g_idle_add_full(G_PRIORITY_DEFAULT, on_resume,
				rpc_client_ref(c),
				(GDestroyNotify)rpc_client_unref);
}

static void client_new(struct rpc_server *srv, GSocket *sock, bool readonly)
{
	struct rpc_client *c = g_new0(struct rpc_client, 1);
	g_autoptr(GCredentials) cred = g_socket_get_credentials(sock, NULL);

	c->refs = 1;		/* the server's reference */
	c->id = ++srv->next_id;
	c->srv = srv;
	c->sock = sock;
	c->sock_readonly = readonly;
	c->uid = (uid_t)-1;
	c->pid = -1;
	if (cred) {
		c->uid = g_credentials_get_unix_user(cred, NULL);
		c->pid = g_credentials_get_unix_pid(cred, NULL);
	}
	rpc_reader_init(&c->reader);
	c->inbuf = g_malloc(RPC_CLIENT_INBUF);
	g_queue_init(&c->outq);
	g_datalist_init(&c->data);
	g_socket_set_blocking(sock, FALSE);
	srv->clients = g_list_prepend(srv->clients, c);
	srv->nclients++;
	DV_DEBUG("client %" G_GUINT64_FORMAT ": connected%s (uid %d pid %d)",
		 c->id, readonly ? " read-only" : "", (int)c->uid, (int)c->pid);
	client_update_input(c);
}

/* ---- listeners -------------------------------------------------------- */

static gboolean on_accept(GSocket *sock, GIOCondition cond, gpointer data);

static void listener_watch(struct rpc_listener *l)
{
	l->src = g_socket_create_source(l->sock, G_IO_IN, NULL);
	g_source_set_callback(l->src, G_SOURCE_FUNC(on_accept), l, NULL);
	g_source_attach(l->src, NULL);
}

static gboolean on_accept_retry(gpointer data)
{
	struct rpc_listener *l = data;

	l->retry_id = 0;
	listener_watch(l);
	return G_SOURCE_REMOVE;
}

static gboolean on_accept(GSocket *sock, GIOCondition cond, gpointer data)
{
	struct rpc_listener *l = data;

	for (;;) {
		g_autoptr(GError) err = NULL;
		GSocket *cs = g_socket_accept(l->sock, NULL, &err);

		if (!cs) {
			if (g_error_matches(err, G_IO_ERROR,
					    G_IO_ERROR_WOULD_BLOCK))
				break;
			/* E.g. out of file descriptors: the pending
			 * connection stays, so wait instead of spinning. */
			DV_WARN("accept on %s: %s", l->path, err->message);
			drop_source(&l->src);
			l->retry_id = g_timeout_add_seconds(1, on_accept_retry, l);
			break;
		}
		if (l->srv->nclients >= l->srv->limits.max_clients) {
			DV_WARN("too many clients (%u), refusing one",
				l->srv->nclients);
			g_socket_close(cs, NULL);
			g_object_unref(cs);
			continue;
		}
		client_new(l->srv, cs, l->readonly);
	}
	return G_SOURCE_CONTINUE;
}

/* Whether something accepts connections at path. */
static bool socket_alive(const char *path)
{
	g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_UNIX,
					    G_SOCKET_TYPE_STREAM,
					    G_SOCKET_PROTOCOL_DEFAULT, NULL);
	g_autoptr(GSocketAddress) a = g_unix_socket_address_new(path);

	return s && g_socket_connect(s, a, NULL, NULL);
}

static bool prepare_path(const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	struct stat st;

	if (g_mkdir_with_parents(dir, 0755) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "cannot create %s: %s", dir, g_strerror(errno));
		return false;
	}
	if (lstat(path, &st) < 0)
		return true;
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
			    "%s exists and is not a socket", path);
		return false;
	}
	if (socket_alive(path)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
			    "%s is in use by another daemon", path);
		return false;
	}
	unlink(path);
	return true;
}

static void listener_free(gpointer data)
{
	struct rpc_listener *l = data;

	drop_source(&l->src);
	if (l->retry_id)
		g_source_remove(l->retry_id);
	g_socket_close(l->sock, NULL);
	g_object_unref(l->sock);
	if (!l->adopted)
		unlink(l->path);
	g_free(l->path);
	g_free(l);
}

static void add_listener(struct rpc_server *srv, GSocket *sock,
			 const char *path, bool readonly, bool adopted)
{
	struct rpc_listener *l = g_new0(struct rpc_listener, 1);

	g_socket_set_blocking(sock, FALSE);
	l->srv = srv;
	l->sock = sock;
	l->path = g_strdup(path);
	l->readonly = readonly;
	l->adopted = adopted;
	listener_watch(l);
	g_ptr_array_add(srv->listeners, l);
	DV_INFO("%s %s%s", adopted ? "serving the socket handed in for" :
		"listening on", path, readonly ? " (read-only)" : "");
}

bool rpc_server_listen(struct rpc_server *srv, const char *path,
		       unsigned int mode, gid_t gid, bool readonly,
		       GError **error)
{
	g_autoptr(GSocket) sock = NULL;
	g_autoptr(GSocketAddress) addr = NULL;
	mode_t old_umask;
	bool ok;

	if (!prepare_path(path, error))
		return false;
	sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
			    G_SOCKET_PROTOCOL_DEFAULT, error);
	if (!sock)
		return false;
	addr = g_unix_socket_address_new(path);
	old_umask = umask(0077);
	ok = g_socket_bind(sock, addr, FALSE, error);
	umask(old_umask);
	if (!ok)
		return false;
	if (chmod(path, mode) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0)) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "cannot set the permissions of %s: %s", path,
			    g_strerror(errno));
		unlink(path);
		return false;
	}
	g_socket_set_listen_backlog(sock, 128);
	if (!g_socket_listen(sock, error)) {
		unlink(path);
		return false;
	}
	add_listener(srv, g_steal_pointer(&sock), path, readonly, false);
	return true;
}

bool rpc_server_adopt(struct rpc_server *srv, int fd, const char *path,
		      bool readonly, GError **error)
{
	int type = 0, domain = 0, listening = 0;
	socklen_t len = sizeof(int);
	GSocket *sock;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
	    type != SOCK_STREAM || domain != AF_UNIX || !listening) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "fd %d (%s) is not a listening unix stream socket",
			    fd, path);
		return false;
	}
	sock = g_socket_new_from_fd(fd, error);
	if (!sock)
		return false;
	add_listener(srv, sock, path, readonly, true);
	return true;
}

/* ---- server ----------------------------------------------------------- */

struct rpc_server *rpc_server_new(const struct rpc_server_limits *limits,
				  rpc_call_fn on_call, void *opaque)
{
	struct rpc_server *srv = g_new0(struct rpc_server, 1);

	srv->limits = *limits;
	srv->on_call = on_call;
	srv->opaque = opaque;
	srv->listeners = g_ptr_array_new_with_free_func(listener_free);
	srv->close_hooks = g_array_new(FALSE, FALSE, sizeof(struct close_hook));
	return srv;
}

void rpc_server_free(struct rpc_server *srv)
{
	if (!srv)
		return;
	while (srv->clients)
		rpc_client_close(srv->clients->data);
	g_ptr_array_free(srv->listeners, TRUE);
	g_array_free(srv->close_hooks, TRUE);
	g_free(srv);
}

void rpc_server_set_limits(struct rpc_server *srv,
			   const struct rpc_server_limits *limits)
{
	srv->limits = *limits;
	for (GList *l = srv->clients; l; l = l->next)
		client_update_input(l->data);
}

unsigned int rpc_server_client_count(struct rpc_server *srv)
{
	return srv->nclients;
}

void rpc_server_add_close_hook(struct rpc_server *srv, rpc_client_fn fn,
			       void *opaque)
{
	struct close_hook h = { .fn = fn, .opaque = opaque };

	g_array_append_val(srv->close_hooks, h);
}

void rpc_server_foreach_client(struct rpc_server *srv, rpc_client_fn fn,
			       void *opaque)
{
	GList *copy = g_list_copy(srv->clients);

	for (GList *l = copy; l; l = l->next)
		rpc_client_ref(l->data);
	for (GList *l = copy; l; l = l->next) {
		if (!rpc_client_closed(l->data))
			fn(l->data, opaque);
		rpc_client_unref(l->data);
	}
	g_list_free(copy);
}
