// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The RPC server in-process: a raw client socket in the test talks to the
 * server while the test pumps the GLib main context.  Covers what real
 * clients cannot reach yet: read-only denial of a mutating procedure,
 * deferred replies out of order, streams and event delivery.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conn_procs.h"
#include "daemon_log.h"
#include "events.h"
#include "rpc_dispatch.h"
#include "rpc_stream.h"

#define PROC_TEST_WRITE 9001
#define PROC_TEST_DEFER 9002
#define PROC_TEST_STREAM 9003

static struct {
	char *dir;
	char *rw_path;
	char *ro_path;
	struct daemon_config cfg;
	struct rpc_server *srv;
	GPtrArray *deferred;		/* struct rpc_call */
	struct rpc_stream *stream;
	int stream_finished;		/* 1 finished, 2 aborted */
	int stream_released;
} t;

/* ---- a raw client ----------------------------------------------------- */

static int client_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	return fd;
}

static void client_send_raw(int fd, const void *buf, size_t len)
{
	g_assert_cmpint(write(fd, buf, len), ==, (ssize_t)len);
}

static void client_send(int fd, uint32_t prog, int proc, int type,
			uint32_t serial, int status, xdrproc_t filter,
			const void *data)
{
	struct rpc_header h = {
		.prog = prog, .vers = 1, .proc = proc, .type = type,
		.serial = serial, .status = status,
	};
	struct rpc_frame *m = rpc_frame_new_xdr(&h, filter, data);

	client_send_raw(fd, m->buf, m->len);
	rpc_frame_free(m);
}

static void client_call(int fd, int proc, uint32_t serial, xdrproc_t filter,
			const void *data)
{
	client_send(fd, DV_PROGRAM, proc, DV_CALL, serial, DV_OK, filter, data);
}

static void pump(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/* Reads exactly n bytes, running the server meanwhile; false on EOF. */
static bool client_read(int fd, uint8_t *buf, size_t n)
{
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	size_t got = 0;

	while (got < n) {
		ssize_t r = recv(fd, buf + got, n - got, MSG_DONTWAIT);

		if (r == 0)
			return false;
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		g_assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		if (g_get_monotonic_time() > deadline)
			g_error("timed out waiting for the server");
		g_main_context_iteration(NULL, FALSE);
		g_usleep(100);
	}
	return true;
}

/* The next packet's payload (header in h). */
static GBytes *client_recv(int fd, struct rpc_header *h)
{
	uint8_t lenbuf[4], hdr[RPC_HEADER_SIZE];
	uint32_t len;
	uint8_t *payload;

	g_assert_true(client_read(fd, lenbuf, 4));
	len = rpc_get_u32(lenbuf);
	g_assert_cmpuint(len, >=, RPC_LEN_MIN);
	g_assert_true(client_read(fd, hdr, sizeof(hdr)));
	rpc_header_decode(hdr, h);
	payload = g_malloc(len - RPC_LEN_MIN + 1);
	g_assert_true(client_read(fd, payload, len - RPC_LEN_MIN));
	return g_bytes_new_take(payload, len - RPC_LEN_MIN);
}

/* Whether the server closed the connection (after pumping a while). */
static bool client_sees_eof(int fd)
{
	uint8_t b;

	return !client_read(fd, &b, 1);
}

static void expect_reply(int fd, int proc, uint32_t serial, xdrproc_t filter,
			 void *out)
{
	struct rpc_header h;
	g_autoptr(GBytes) p = client_recv(fd, &h);
	gsize len;
	const uint8_t *d = g_bytes_get_data(p, &len);

	g_assert_cmphex(h.prog, ==, DV_PROGRAM);
	g_assert_cmpint(h.proc, ==, proc);
	g_assert_cmpint(h.type, ==, DV_REPLY);
	g_assert_cmpuint(h.serial, ==, serial);
	if (h.status != DV_OK) {
		dv_error e = { 0 };

		rpc_xdr_decode(d, len, (xdrproc_t)xdr_dv_error, &e);
		g_error("proc %d: error %d: %s", proc, e.code,
			e.message ? *e.message : "");
	}
	if (filter)
		g_assert_true(rpc_xdr_decode(d, len, filter, out));
	else
		g_assert_cmpuint(len, ==, 0);
}

static int expect_error(int fd, int proc, uint32_t serial, int *domain)
{
	struct rpc_header h;
	g_autoptr(GBytes) p = client_recv(fd, &h);
	gsize len;
	const uint8_t *d = g_bytes_get_data(p, &len);
	dv_error e = { 0 };
	int code;

	g_assert_cmpint(h.proc, ==, proc);
	g_assert_cmpint(h.type, ==, DV_REPLY);
	g_assert_cmpuint(h.serial, ==, serial);
	g_assert_cmpint(h.status, ==, DV_ERROR);
	g_assert_true(rpc_xdr_decode(d, len, (xdrproc_t)xdr_dv_error, &e));
	g_assert_nonnull(e.message);
	g_assert_cmpint(e.level, ==, VIR_ERR_ERROR);
	code = e.code;
	if (domain)
		*domain = e.domain;
	xdr_free((xdrproc_t)xdr_dv_error, &e);
	return code;
}

static void client_open(int fd, unsigned int flags)
{
	char *name = (char *)"duvisor:///system";
	dv_connect_open_args a = { .name = &name, .flags = flags };

	client_call(fd, DV_PROC_CONNECT_OPEN, 1,
		    (xdrproc_t)xdr_dv_connect_open_args, &a);
	expect_reply(fd, DV_PROC_CONNECT_OPEN, 1, NULL, NULL);
}

/* ---- test procedures -------------------------------------------------- */

static int test_write(struct rpc_call *call, void *args, void *ret,
		      struct rpc_error *err)
{
	return RPC_HANDLER_OK;
}

static int test_defer(struct rpc_call *call, void *args, void *ret,
		      struct rpc_error *err)
{
	g_ptr_array_add(t.deferred, call);
	return RPC_HANDLER_DEFER;
}

static void stream_recv(struct rpc_stream *st, const uint8_t *data,
			size_t len, void *opaque)
{
	g_assert_true(rpc_stream_send(st, data, len));	/* echo */
}

static void stream_finish(struct rpc_stream *st, bool aborted, void *opaque)
{
	t.stream_finished = aborted ? 2 : 1;
}

static void stream_release(void *opaque)
{
	g_assert_cmpstr(opaque, ==, "opaque");
	t.stream_released++;
	t.stream = NULL;
}

static const struct rpc_stream_ops test_stream_ops = {
	.recv = stream_recv,
	.finish = stream_finish,
	.release = stream_release,
};

static int test_stream(struct rpc_call *call, void *args, void *ret,
		       struct rpc_error *err)
{
	t.stream = rpc_stream_new(call, &test_stream_ops, (void *)"opaque");
	/* Sent before the reply is queued: must follow it on the wire. */
	g_assert_true(rpc_stream_send(t.stream, "hello", 5));
	return RPC_HANDLER_OK;
}

static const struct rpc_proc_def test_procs[] = {
	RPC_PROC(PROC_TEST_WRITE, test_write, rpc_void, rpc_void,
		 RPC_PROC_WRITE),
	RPC_PROC(PROC_TEST_DEFER, test_defer, dv_connect_supports_feature_args,
		 dv_connect_supports_feature_ret, 0),
	RPC_PROC(PROC_TEST_STREAM, test_stream, rpc_void, rpc_void, 0),
};

static void setup(void)
{
	const struct rpc_server_limits limits = {
		.max_clients = 8,
		.max_client_requests = 4,
		.max_queued_bytes = 1024 * 1024,
	};
	g_autoptr(GError) err = NULL;

	memset(&t, 0, sizeof(t));
	t.dir = g_dir_make_tmp("dv-rpc-XXXXXX", NULL);
	t.rw_path = g_build_filename(t.dir, "sub", "sock", NULL);
	t.ro_path = g_build_filename(t.dir, "sub", "sock-ro", NULL);
	t.deferred = g_ptr_array_new();
	daemon_config_defaults(&t.cfg, false);
	rpc_dispatch_init();
	conn_procs_register(&t.cfg);
	rpc_dispatch_register(test_procs, G_N_ELEMENTS(test_procs));
	t.srv = rpc_server_new(&limits, rpc_dispatch_packet, NULL);
	duvisor_events_init(t.srv);
	g_assert_true(rpc_server_listen(t.srv, t.rw_path, 0600, (gid_t)-1,
					false, &err));
	g_assert_true(rpc_server_listen(t.srv, t.ro_path, 0666, (gid_t)-1,
					true, &err));
}

static void teardown(void)
{
	rpc_server_free(t.srv);
	g_assert_false(g_file_test(t.rw_path, G_FILE_TEST_EXISTS));
	rpc_dispatch_shutdown();
	daemon_config_clear(&t.cfg);
	g_ptr_array_free(t.deferred, TRUE);
	g_autofree char *sub = g_path_get_dirname(t.rw_path);
	g_rmdir(sub);
	g_rmdir(t.dir);
	g_free(t.rw_path);
	g_free(t.ro_path);
	g_free(t.dir);
}

/* ---- tests ------------------------------------------------------------ */

static void test_readonly(void)
{
	int rw = client_connect(t.rw_path);
	int ro = client_connect(t.ro_path);
	int rw_ro = client_connect(t.rw_path);

	client_open(rw, 0);
	client_open(ro, 0);
	client_open(rw_ro, VIR_CONNECT_RO);
	client_call(rw, PROC_TEST_WRITE, 2, NULL, NULL);
	expect_reply(rw, PROC_TEST_WRITE, 2, NULL, NULL);
	client_call(ro, PROC_TEST_WRITE, 2, NULL, NULL);
	g_assert_cmpint(expect_error(ro, PROC_TEST_WRITE, 2, NULL), ==,
			VIR_ERR_OPERATION_DENIED);
	client_call(rw_ro, PROC_TEST_WRITE, 2, NULL, NULL);
	g_assert_cmpint(expect_error(rw_ro, PROC_TEST_WRITE, 2, NULL), ==,
			VIR_ERR_OPERATION_DENIED);
	/* Reading procedures work on read-only connections. */
	client_call(ro, DV_PROC_CONNECT_GET_TYPE, 3, NULL, NULL);
	dv_connect_get_type_ret type = { 0 };
	expect_reply(ro, DV_PROC_CONNECT_GET_TYPE, 3,
		     (xdrproc_t)xdr_dv_connect_get_type_ret, &type);
	g_assert_cmpstr(type.type, ==, "DuVisor");
	xdr_free((xdrproc_t)xdr_dv_connect_get_type_ret, &type);
	close(rw);
	close(ro);
	close(rw_ro);
	pump();
	g_assert_cmpuint(rpc_server_client_count(t.srv), ==, 0);
}

static void test_refusals(void)
{
	int fd = client_connect(t.rw_path);
	int domain;

	/* Before CONNECT_OPEN. */
	client_call(fd, DV_PROC_CONNECT_GET_TYPE, 1, NULL, NULL);
	g_assert_cmpint(expect_error(fd, DV_PROC_CONNECT_GET_TYPE, 1, NULL),
			==, VIR_ERR_OPERATION_INVALID);
	client_open(fd, 0);
	{
		char *name = (char *)"duvisor:///system";
		dv_connect_open_args a = { .name = &name };

		client_call(fd, DV_PROC_CONNECT_OPEN, 2,
			    (xdrproc_t)xdr_dv_connect_open_args, &a);
		g_assert_cmpint(expect_error(fd, DV_PROC_CONNECT_OPEN, 2, NULL),
				==, VIR_ERR_OPERATION_INVALID);
	}
	client_call(fd, 424242, 3, NULL, NULL);
	g_assert_cmpint(expect_error(fd, 424242, 3, &domain), ==,
			VIR_ERR_NO_SUPPORT);
	g_assert_cmpint(domain, ==, VIR_FROM_DOMAIN);
	client_send(fd, 0x20008087, 1, DV_CALL, 4, DV_OK, NULL, NULL);
	g_assert_cmpint(expect_error(fd, 1, 4, NULL), ==, VIR_ERR_NO_SUPPORT);
	client_send(fd, DV_PROGRAM, DV_PROC_CONNECT_GET_TYPE, DV_CALL_WITH_FDS,
		    5, DV_OK, NULL, NULL);
	g_assert_cmpint(expect_error(fd, DV_PROC_CONNECT_GET_TYPE, 5, NULL),
			==, VIR_ERR_NO_SUPPORT);
	/* Arguments that do not decode. */
	client_call(fd, DV_PROC_CONNECT_SUPPORTS_FEATURE, 6, NULL, NULL);
	g_assert_cmpint(expect_error(fd, DV_PROC_CONNECT_SUPPORTS_FEATURE, 6,
				     NULL), ==, VIR_ERR_RPC);
	/* A reply from the client is ignored; the connection still works. */
	client_send(fd, DV_PROGRAM, 1, DV_REPLY, 7, DV_OK, NULL, NULL);
	client_call(fd, DV_PROC_CONNECT_GET_TYPE, 8, NULL, NULL);
	dv_connect_get_type_ret type = { 0 };
	expect_reply(fd, DV_PROC_CONNECT_GET_TYPE, 8,
		     (xdrproc_t)xdr_dv_connect_get_type_ret, &type);
	xdr_free((xdrproc_t)xdr_dv_connect_get_type_ret, &type);
	close(fd);
	pump();
}

static void complete(unsigned int i)
{
	struct rpc_call *call = g_ptr_array_index(t.deferred, i);
	dv_connect_supports_feature_args *a = rpc_call_args(call);
	dv_connect_supports_feature_ret *r = rpc_call_ret(call);

	r->supported = a->feature * 10;
	rpc_call_reply(call);
}

static void test_deferred(void)
{
	int fd = client_connect(t.rw_path);
	dv_connect_supports_feature_ret r;

	client_open(fd, 0);
	for (int i = 1; i <= 3; i++) {
		dv_connect_supports_feature_args a = { .feature = i };

		client_call(fd, PROC_TEST_DEFER, 10 + (uint32_t)i,
			    (xdrproc_t)xdr_dv_connect_supports_feature_args, &a);
	}
	/* Another call is answered while those wait. */
	dv_connect_supports_feature_args f = {
		.feature = DV_FEATURE_PROGRAM_KEEPALIVE,
	};
	client_call(fd, DV_PROC_CONNECT_SUPPORTS_FEATURE, 20,
		    (xdrproc_t)xdr_dv_connect_supports_feature_args, &f);
	expect_reply(fd, DV_PROC_CONNECT_SUPPORTS_FEATURE, 20,
		     (xdrproc_t)xdr_dv_connect_supports_feature_ret, &r);
	g_assert_cmpint(r.supported, ==, 1);
	g_assert_cmpuint(t.deferred->len, ==, 3);

	/* Answered in reverse order. */
	for (int i = 2; i >= 0; i--) {
		complete((unsigned int)i);
		expect_reply(fd, PROC_TEST_DEFER, 11 + (uint32_t)i,
			     (xdrproc_t)xdr_dv_connect_supports_feature_ret, &r);
		g_assert_cmpint(r.supported, ==, (i + 1) * 10);
	}
	g_ptr_array_set_size(t.deferred, 0);

	/* A client that goes away with deferred calls: the replies are
	 * dropped and the server does not mind. */
	dv_connect_supports_feature_args a = { .feature = 7 };
	client_call(fd, PROC_TEST_DEFER, 30,
		    (xdrproc_t)xdr_dv_connect_supports_feature_args, &a);
	while (t.deferred->len == 0)
		g_main_context_iteration(NULL, TRUE);
	close(fd);
	pump();
	g_assert_cmpuint(rpc_server_client_count(t.srv), ==, 0);
	complete(0);
	g_ptr_array_set_size(t.deferred, 0);
}

static void expect_stream(int fd, int status, const char *data)
{
	struct rpc_header h;
	g_autoptr(GBytes) p = client_recv(fd, &h);

	g_assert_cmpint(h.type, ==, DV_STREAM);
	g_assert_cmpint(h.proc, ==, PROC_TEST_STREAM);
	g_assert_cmpint(h.status, ==, status);
	if (data)
		g_assert_cmpmem(g_bytes_get_data(p, NULL), g_bytes_get_size(p),
				data, strlen(data));
	else if (status == DV_OK)
		g_assert_cmpuint(g_bytes_get_size(p), ==, 0);
}

static void stream_data(int fd, uint32_t serial, int status, const char *s)
{
	struct rpc_header h = {
		.prog = DV_PROGRAM, .vers = 1, .proc = PROC_TEST_STREAM,
		.type = DV_STREAM, .serial = serial, .status = status,
	};
	struct rpc_frame *m = rpc_frame_new_raw(&h, s, s ? strlen(s) : 0);

	client_send_raw(fd, m->buf, m->len);
	rpc_frame_free(m);
}

static void test_stream_roundtrip(void)
{
	int fd = client_connect(t.rw_path);
	struct rpc_error err = { 0 };

	client_open(fd, 0);
	client_call(fd, PROC_TEST_STREAM, 40, NULL, NULL);
	expect_reply(fd, PROC_TEST_STREAM, 40, NULL, NULL);
	expect_stream(fd, DV_CONTINUE, "hello");
	stream_data(fd, 40, DV_CONTINUE, "abc");
	expect_stream(fd, DV_CONTINUE, "abc");
	/* The client finishes: answered with an empty OK. */
	stream_data(fd, 40, DV_OK, NULL);
	expect_stream(fd, DV_OK, NULL);
	g_assert_cmpint(t.stream_finished, ==, 1);
	g_assert_cmpint(t.stream_released, ==, 1);

	/* Server-side end of data, then the client aborts. */
	t.stream_finished = t.stream_released = 0;
	client_call(fd, PROC_TEST_STREAM, 41, NULL, NULL);
	expect_reply(fd, PROC_TEST_STREAM, 41, NULL, NULL);
	expect_stream(fd, DV_CONTINUE, "hello");
	g_assert_true(rpc_stream_send_eof(t.stream));
	g_assert_false(rpc_stream_send(t.stream, "x", 1));
	/* End of data: an empty CONTINUE packet. */
	expect_stream(fd, DV_CONTINUE, "");
	stream_data(fd, 41, DV_ERROR, NULL);
	expect_stream(fd, DV_OK, NULL);
	g_assert_cmpint(t.stream_finished, ==, 2);
	g_assert_cmpint(t.stream_released, ==, 1);

	/* A stream error, then the client disconnects. */
	t.stream_finished = t.stream_released = 0;
	client_call(fd, PROC_TEST_STREAM, 42, NULL, NULL);
	expect_reply(fd, PROC_TEST_STREAM, 42, NULL, NULL);
	expect_stream(fd, DV_CONTINUE, "hello");
	rpc_error_set(&err, VIR_ERR_OPERATION_FAILED, "console gone");
	g_assert_true(rpc_stream_send_error(t.stream, &err));
	rpc_error_clear(&err);
	expect_stream(fd, DV_ERROR, NULL);
	close(fd);
	pump();
	g_assert_cmpint(t.stream_finished, ==, 0);
	g_assert_cmpint(t.stream_released, ==, 1);
}

static void test_stream_large(void)
{
	int fd = client_connect(t.rw_path);
	size_t size = 3 * RPC_STREAM_CHUNK_MAX + 17, got = 0;
	g_autofree char *big = g_malloc(size);

	memset(big, 'z', size);
	client_open(fd, 0);
	client_call(fd, PROC_TEST_STREAM, 50, NULL, NULL);
	expect_reply(fd, PROC_TEST_STREAM, 50, NULL, NULL);
	expect_stream(fd, DV_CONTINUE, "hello");
	g_assert_true(rpc_stream_send(t.stream, big, size));
	while (got < size) {
		struct rpc_header h;
		g_autoptr(GBytes) p = client_recv(fd, &h);

		g_assert_cmpint(h.type, ==, DV_STREAM);
		g_assert_cmpint(h.status, ==, DV_CONTINUE);
		g_assert_cmpuint(g_bytes_get_size(p), <=, RPC_STREAM_CHUNK_MAX);
		got += g_bytes_get_size(p);
	}
	g_assert_cmpuint(got, ==, size);
	close(fd);
	pump();
	g_assert_null(t.stream);
}

/* A client that does not read a stream's output is dropped once its queue
 * passes the hard limit; the sender just sees false, never a freed stream. */
static void test_stream_overflow(void)
{
	int fd = client_connect(t.rw_path);
	g_autofree char *chunk = g_malloc0(1024 * 1024);
	bool refused = false;

	client_open(fd, 0);
	client_call(fd, PROC_TEST_STREAM, 60, NULL, NULL);
	expect_reply(fd, PROC_TEST_STREAM, 60, NULL, NULL);
	for (int i = 0; i < 200 && !refused; i++) {
		g_assert_nonnull(t.stream);
		refused = !rpc_stream_send(t.stream, chunk, 1024 * 1024);
	}
	g_assert_true(refused);
	g_assert_cmpint(t.stream_released, ==, 0);
	pump();
	g_assert_cmpint(t.stream_released, ==, 1);
	g_assert_cmpuint(rpc_server_client_count(t.srv), ==, 0);
	close(fd);
}

static int register_event(int fd, uint32_t serial, int event_id,
			  const unsigned char *uuid)
{
	dv_nonnull_domain dom = { .name = (char *)"vm1", .id = -1 };
	dv_connect_domain_event_callback_register_any_args a = {
		.eventID = event_id,
		.dom = uuid ? &dom : NULL,
	};
	dv_connect_domain_event_callback_register_any_ret r = { 0 };

	if (uuid)
		memcpy(dom.uuid, uuid, DV_UUID_LEN);
	client_call(fd, DV_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
		    serial,
		    (xdrproc_t)xdr_dv_connect_domain_event_callback_register_any_args,
		    &a);
	expect_reply(fd, DV_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
		     serial,
		     (xdrproc_t)xdr_dv_connect_domain_event_callback_register_any_ret,
		     &r);
	return r.callbackID;
}

static void expect_lifecycle(int fd, int callback_id, const char *name,
			     int event, int detail)
{
	struct rpc_header h;
	g_autoptr(GBytes) p = client_recv(fd, &h);
	dv_domain_event_callback_lifecycle_msg msg = { 0 };

	g_assert_cmpint(h.type, ==, DV_MESSAGE);
	g_assert_cmpint(h.proc, ==, DV_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE);
	g_assert_cmpuint(h.serial, ==, 0);
	g_assert_true(rpc_xdr_decode(g_bytes_get_data(p, NULL),
		g_bytes_get_size(p),
		(xdrproc_t)xdr_dv_domain_event_callback_lifecycle_msg, &msg));
	g_assert_cmpint(msg.callbackID, ==, callback_id);
	g_assert_cmpstr(msg.dom.name, ==, name);
	g_assert_cmpint(msg.event, ==, event);
	g_assert_cmpint(msg.detail, ==, detail);
	xdr_free((xdrproc_t)xdr_dv_domain_event_callback_lifecycle_msg, &msg);
}

static void test_events(void)
{
	static const unsigned char uuid1[16] = { 1, 2, 3 };
	static const unsigned char uuid2[16] = { 9, 9, 9 };
	int a = client_connect(t.rw_path);
	int b = client_connect(t.ro_path);
	int cb_a, cb_a2, cb_b;

	client_open(a, 0);
	client_open(b, VIR_CONNECT_RO);
	cb_a = register_event(a, 2, VIR_DOMAIN_EVENT_ID_LIFECYCLE, NULL);
	cb_a2 = register_event(a, 3, VIR_DOMAIN_EVENT_ID_REBOOT, NULL);
	cb_b = register_event(b, 2, VIR_DOMAIN_EVENT_ID_LIFECYCLE, uuid1);
	g_assert_cmpint(cb_a, !=, cb_b);
	g_assert_cmpint(cb_a, !=, cb_a2);
	g_assert_cmpuint(duvisor_events_count(VIR_DOMAIN_EVENT_ID_LIFECYCLE),
			 ==, 2);

	duvisor_events_lifecycle("vm1", uuid1, 3, VIR_DOMAIN_EVENT_STARTED,
				 VIR_DOMAIN_EVENT_STARTED_BOOTED);
	expect_lifecycle(a, cb_a, "vm1", VIR_DOMAIN_EVENT_STARTED,
			 VIR_DOMAIN_EVENT_STARTED_BOOTED);
	expect_lifecycle(b, cb_b, "vm1", VIR_DOMAIN_EVENT_STARTED,
			 VIR_DOMAIN_EVENT_STARTED_BOOTED);
	/* Another domain: only a hears of it. */
	duvisor_events_lifecycle("vm2", uuid2, -1, VIR_DOMAIN_EVENT_DEFINED,
				 VIR_DOMAIN_EVENT_DEFINED_ADDED);
	expect_lifecycle(a, cb_a, "vm2", VIR_DOMAIN_EVENT_DEFINED,
			 VIR_DOMAIN_EVENT_DEFINED_ADDED);

	/* Deregistered: nothing more; b's next packet is its own reply. */
	dv_connect_domain_event_callback_deregister_any_args d = {
		.callbackID = cb_b,
	};
	client_call(b, DV_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, 4,
		    (xdrproc_t)xdr_dv_connect_domain_event_callback_deregister_any_args,
		    &d);
	expect_reply(b, DV_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, 4,
		     NULL, NULL);
	duvisor_events_lifecycle("vm1", uuid1, -1, VIR_DOMAIN_EVENT_STOPPED,
				 VIR_DOMAIN_EVENT_STOPPED_DESTROYED);
	expect_lifecycle(a, cb_a, "vm1", VIR_DOMAIN_EVENT_STOPPED,
			 VIR_DOMAIN_EVENT_STOPPED_DESTROYED);
	client_call(b, DV_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, 5,
		    (xdrproc_t)xdr_dv_connect_domain_event_callback_deregister_any_args,
		    &d);
	g_assert_cmpint(expect_error(b, DV_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
				     5, NULL), ==, VIR_ERR_INVALID_ARG);
	/* Unknown event ID. */
	dv_connect_domain_event_callback_register_any_args bad = {
		.eventID = 100000,
	};
	client_call(b, DV_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, 6,
		    (xdrproc_t)xdr_dv_connect_domain_event_callback_register_any_args,
		    &bad);
	g_assert_cmpint(expect_error(b, DV_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
				     6, NULL), ==, VIR_ERR_INVALID_ARG);
	close(a);
	close(b);
	pump();
	g_assert_cmpuint(duvisor_events_count(VIR_DOMAIN_EVENT_ID_LIFECYCLE),
			 ==, 0);
}

static void test_keepalive_and_garbage(void)
{
	int good = client_connect(t.rw_path);
	int bad = client_connect(t.rw_path);
	struct rpc_header h;
	static const uint8_t huge[8] = { 0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4 };

	client_send(good, DV_KEEPALIVE_PROGRAM, DV_KEEPALIVE_PING, DV_MESSAGE,
		    0, DV_OK, NULL, NULL);
	g_autoptr(GBytes) p = client_recv(good, &h);
	g_assert_cmphex(h.prog, ==, DV_KEEPALIVE_PROGRAM);
	g_assert_cmpint(h.proc, ==, DV_KEEPALIVE_PONG);
	g_assert_cmpint(h.type, ==, DV_MESSAGE);
	g_assert_cmpuint(g_bytes_get_size(p), ==, 0);

	client_send_raw(bad, huge, sizeof(huge));
	g_assert_true(client_sees_eof(bad));
	close(bad);

	/* The other client is unaffected. */
	client_open(good, 0);
	close(good);
	pump();
	g_assert_cmpuint(rpc_server_client_count(t.srv), ==, 0);
}

struct tcase {
	const char *name;
	void (*fn)(void);
};

static void run(gconstpointer data)
{
	const struct tcase *tc = data;

	setup();
	tc->fn();
	teardown();
}

static const struct tcase tcases[] = {
	{ "/server/readonly", test_readonly },
	{ "/server/refusals", test_refusals },
	{ "/server/deferred", test_deferred },
	{ "/server/stream", test_stream_roundtrip },
	{ "/server/stream-large", test_stream_large },
	{ "/server/stream-overflow", test_stream_overflow },
	{ "/server/events", test_events },
	{ "/server/keepalive-garbage", test_keepalive_and_garbage },
};

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	dv_log_set_level(DV_LOG_ERROR);
	for (size_t i = 0; i < G_N_ELEMENTS(tcases); i++)
		g_test_add_data_func(tcases[i].name, &tcases[i], run);
	return g_test_run();
}
