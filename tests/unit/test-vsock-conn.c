// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The virtio-vsock connection table with real host unix sockets: the
 * guest's side is played by handing the table packets and taking the ones
 * it makes, as the device does with its virtqueues.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/virtio_vsock.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "virtio/vsock_conn.h"

#define GUEST_CID 3
#define GUEST_BUF (256u * 1024)

/* vsock_host_close() asks; tests run without the sandbox. */
bool sandbox_active(void)
{
	return false;
}

struct fixture {
	char *dir;
	struct vmm_vsock_config cfg;
	struct vsock_host *host;
	struct vsock_conns *t;
	uint8_t rx[VSOCK_MAX_PAYLOAD];
	uint32_t last_len;
	GPtrArray *listeners;
};

static void setup(struct fixture *f, gconstpointer data)
{
	(void)data;
	memset(f, 0, sizeof(*f));
	f->dir = g_dir_make_tmp("vsock-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->cfg = (struct vmm_vsock_config){ .enabled = true, .cid = GUEST_CID,
					    .uds_fd = -1, .dir_fd = -1 };
	g_snprintf(f->cfg.uds, sizeof(f->cfg.uds), "%s/v.sock", f->dir);
	g_assert_cmpint(vsock_host_open(&f->cfg, &f->host), ==, 0);
	f->t = g_new0(struct vsock_conns, 1);
	vsock_conns_init(f->t, f->host);
	f->t->guest_ready = true;
	f->listeners = g_ptr_array_new_with_free_func(g_free);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	(void)data;
	vsock_conns_reset(f->t);
	vsock_host_close(f->host);
	g_assert_false(g_file_test(f->cfg.uds, G_FILE_TEST_EXISTS));
	for (guint i = 0; i < f->listeners->len; i++)
		g_unlink(g_ptr_array_index(f->listeners, i));
	g_ptr_array_unref(f->listeners);
	g_rmdir(f->dir);
	g_free(f->dir);
	g_free(f->t);
}

/* A host service on port: listening at UDS_PATH_port. */
static int host_listen(struct fixture *f, uint32_t port)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", f->cfg.uds, port);
	g_ptr_array_add(f->listeners, g_strdup(a.sun_path));
	g_assert_cmpint(bind(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	g_assert_cmpint(listen(fd, 300), ==, 0);
	return fd;
}

/* A host client of the vsock listener. */
static int host_client(struct fixture *f)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_strlcpy(a.sun_path, f->cfg.uds, sizeof(a.sun_path));
	g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	return fd;
}

static void guest_send(struct fixture *f, uint16_t op, uint32_t guest_port,
		       uint32_t host_port, uint32_t flags, uint32_t fwd_cnt,
		       const void *data, uint32_t len)
{
	struct vsock_hdr h = {
		.src_cid = GUEST_CID, .dst_cid = VSOCK_HOST_CID,
		.src_port = guest_port, .dst_port = host_port, .len = len,
		.type = VIRTIO_VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = GUEST_BUF, .fwd_cnt = fwd_cnt,
	};
	struct iovec iov = { (void *)data, len };

	vsock_conns_from_guest(f->t, &h, &iov, len ? 1 : 0);
}

/* Dispatches what the host sockets report, as the device does. */
static void poll_host(struct fixture *f)
{
	struct epoll_event evs[64];
	int n;

	while ((n = epoll_wait(f->host->epoll_fd, evs, 64, 50)) > 0)
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == VSOCK_HOST_LISTENER)
				vsock_conns_accept(f->t);
			else
				vsock_conns_host_event(f->t, evs[i].data.u64,
						       evs[i].events);
		}
}

/* The next packet for the guest, with up to room payload bytes. */
static bool next(struct fixture *f, struct vsock_hdr *h, uint32_t room)
{
	struct iovec iov = { f->rx, room };

	if (!vsock_conns_next_packet(f->t, &iov, 1, room, h))
		return false;
	g_assert_cmpuint(h->src_cid, ==, VSOCK_HOST_CID);
	g_assert_cmpuint(h->dst_cid, ==, GUEST_CID);
	g_assert_cmpuint(h->type, ==, VIRTIO_VSOCK_TYPE_STREAM);
	g_assert_cmpuint(h->len, <=, room);
	f->last_len = h->len;
	return true;
}

static void expect(struct fixture *f, uint16_t op, uint32_t host_port,
		   uint32_t guest_port, struct vsock_hdr *out)
{
	struct vsock_hdr h;

	g_assert_true(next(f, &h, sizeof(f->rx)));
	g_assert_cmpuint(h.op, ==, op);
	g_assert_cmpuint(h.src_port, ==, host_port);
	g_assert_cmpuint(h.dst_port, ==, guest_port);
	if (out)
		*out = h;
}

static void expect_nothing(struct fixture *f)
{
	struct vsock_hdr h;

	g_assert_false(next(f, &h, sizeof(f->rx)));
}

/* The guest connects to a host service on port 1234; returns the
 * service's end. */
static int guest_connects(struct fixture *f, int lfd, uint32_t guest_port)
{
	int fd;

	guest_send(f, VIRTIO_VSOCK_OP_REQUEST, guest_port, 1234, 0, 0, NULL, 0);
	expect(f, VIRTIO_VSOCK_OP_RESPONSE, 1234, guest_port, NULL);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	return fd;
}

static void test_guest_to_host(struct fixture *f, gconstpointer data)
{
	int lfd = host_listen(f, 1234), fd;
	struct vsock_hdr h;
	char buf[16] = { 0 };

	(void)data;
	fd = guest_connects(f, lfd, 5000);
	guest_send(f, VIRTIO_VSOCK_OP_RW, 5000, 1234, 0, 0, "hello", 5);
	g_assert_cmpint(read(fd, buf, sizeof(buf)), ==, 5);
	g_assert_cmpstr(buf, ==, "hello");
	g_assert_cmpint(write(fd, "world!", 6), ==, 6);
	poll_host(f);
	expect(f, VIRTIO_VSOCK_OP_RW, 1234, 5000, &h);
	g_assert_cmpuint(h.len, ==, 6);
	g_assert_cmpmem(f->rx, 6, "world!", 6);
	/* Our header tells what we passed on. */
	g_assert_cmpuint(h.fwd_cnt, ==, 5);
	g_assert_cmpuint(h.buf_alloc, ==, VSOCK_BUF_ALLOC);
	expect_nothing(f);
	/* The host closes: the guest gets the rest, then an RST. */
	g_assert_cmpint(write(fd, "bye", 3), ==, 3);
	close(fd);
	poll_host(f);
	expect(f, VIRTIO_VSOCK_OP_RW, 1234, 5000, &h);
	g_assert_cmpmem(f->rx, h.len, "bye", 3);
	expect(f, VIRTIO_VSOCK_OP_RST, 1234, 5000, NULL);
	expect_nothing(f);
	g_assert_cmpuint(f->t->nconns, ==, 0);
	/* Packets for it now get RSTs of their own. */
	guest_send(f, VIRTIO_VSOCK_OP_RW, 5000, 1234, 0, 0, "x", 1);
	expect(f, VIRTIO_VSOCK_OP_RST, 1234, 5000, NULL);
	close(lfd);
}

static void test_refused(struct fixture *f, gconstpointer data)
{
	struct vsock_hdr h;

	(void)data;
	/* Nobody listens on the port: an RST, no connection. */
	guest_send(f, VIRTIO_VSOCK_OP_REQUEST, 5000, 4321, 0, 0, NULL, 0);
	expect(f, VIRTIO_VSOCK_OP_RST, 4321, 5000, &h);
	g_assert_cmpuint(f->t->nconns, ==, 0);
	/* An RST is never answered. */
	guest_send(f, VIRTIO_VSOCK_OP_RST, 5000, 4321, 0, 0, NULL, 0);
	expect_nothing(f);
	/* Data for no connection. */
	guest_send(f, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 5001, 4321, 0, 0, NULL, 0);
	expect(f, VIRTIO_VSOCK_OP_RST, 4321, 5001, NULL);
}

static void test_host_to_guest(struct fixture *f, gconstpointer data)
{
	struct vsock_hdr h;
	char buf[64] = { 0 };
	int fd = host_client(f);

	(void)data;
	/* The line and data right behind it, before any answer. */
	g_assert_cmpint(write(fd, "CONNECT 52\nearly", 16), ==, 16);
	poll_host(f);
	expect(f, VIRTIO_VSOCK_OP_REQUEST, VSOCK_FIRST_LOCAL_PORT, 52, &h);
	g_assert_cmpuint(h.buf_alloc, ==, VSOCK_BUF_ALLOC);
	expect_nothing(f);
	guest_send(f, VIRTIO_VSOCK_OP_RESPONSE, 52, VSOCK_FIRST_LOCAL_PORT, 0,
		   0, NULL, 0);
	g_assert_cmpint(read(fd, buf, sizeof(buf)), ==, 14);
	g_assert_cmpstr(buf, ==, "OK 1073741824\n");
	/* What followed the line was kept for the guest. */
	expect(f, VIRTIO_VSOCK_OP_RW, VSOCK_FIRST_LOCAL_PORT, 52, &h);
	g_assert_cmpmem(f->rx, h.len, "early", 5);
	/* The host shuts down writing: the guest is told, may answer. */
	shutdown(fd, SHUT_WR);
	poll_host(f);
	expect(f, VIRTIO_VSOCK_OP_SHUTDOWN, VSOCK_FIRST_LOCAL_PORT, 52, &h);
	g_assert_cmpuint(h.flags, ==, VIRTIO_VSOCK_SHUTDOWN_SEND);
	guest_send(f, VIRTIO_VSOCK_OP_RW, 52, VSOCK_FIRST_LOCAL_PORT, 0, 5,
		   "reply", 5);
	/* The guest closes: its RST, and the host reads the end. */
	guest_send(f, VIRTIO_VSOCK_OP_SHUTDOWN, 52, VSOCK_FIRST_LOCAL_PORT,
		   VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND, 5,
		   NULL, 0);
	expect(f, VIRTIO_VSOCK_OP_RST, VSOCK_FIRST_LOCAL_PORT, 52, NULL);
	memset(buf, 0, sizeof(buf));
	g_assert_cmpint(read(fd, buf, sizeof(buf)), ==, 5);
	g_assert_cmpstr(buf, ==, "reply");
	g_assert_cmpint(read(fd, buf, sizeof(buf)), ==, 0);
	g_assert_cmpuint(f->t->nconns, ==, 0);
	close(fd);
}

static void test_host_refused(struct fixture *f, gconstpointer data)
{
	char buf[8];
	int fd = host_client(f), bad = host_client(f);

	(void)data;
	g_assert_cmpint(write(fd, "CONNECT 99\n", 11), ==, 11);
	g_assert_cmpint(write(bad, "CONNECT x\n", 10), ==, 10);
	poll_host(f);
	expect(f, VIRTIO_VSOCK_OP_REQUEST, VSOCK_FIRST_LOCAL_PORT, 99, NULL);
	/* Nothing listens in the guest: the client gets EOF, no OK. */
	guest_send(f, VIRTIO_VSOCK_OP_RST, 99, VSOCK_FIRST_LOCAL_PORT, 0, 0,
		   NULL, 0);
	g_assert_cmpint(read(fd, buf, sizeof(buf)), ==, 0);
	/* A malformed line is closed without bothering the guest. */
	g_assert_cmpint(read(bad, buf, sizeof(buf)), ==, 0);
	expect_nothing(f);
	g_assert_cmpuint(f->t->nconns, ==, 0);
	close(fd);
	close(bad);
}

static void test_credit_to_guest(struct fixture *f, gconstpointer data)
{
	static char big[8192];
	int lfd = host_listen(f, 1234), fd;
	struct vsock_hdr h;
	struct vsock_hdr req = {
		.src_cid = GUEST_CID, .dst_cid = VSOCK_HOST_CID,
		.src_port = 7, .dst_port = 1234,
		.type = VIRTIO_VSOCK_TYPE_STREAM, .op = VIRTIO_VSOCK_OP_REQUEST,
		.buf_alloc = 1000,
	};

	(void)data;
	/* A guest with a buffer of 1000 bytes. */
	vsock_conns_from_guest(f->t, &req, NULL, 0);
	expect(f, VIRTIO_VSOCK_OP_RESPONSE, 1234, 7, NULL);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	memset(big, 'z', sizeof(big));
	g_assert_cmpint(write(fd, big, sizeof(big)), ==, sizeof(big));
	poll_host(f);
	/* Never more than its credit, however small the buffers. */
	g_assert_true(next(f, &h, 600));
	g_assert_cmpuint(h.len, ==, 600);
	g_assert_true(next(f, &h, 600));
	g_assert_cmpuint(h.len, ==, 400);
	expect_nothing(f);
	/* It consumed 700: as much more. */
	req.op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	req.fwd_cnt = 700;
	vsock_conns_from_guest(f->t, &req, NULL, 0);
	g_assert_true(next(f, &h, sizeof(f->rx)));
	g_assert_cmpuint(h.len, ==, 700);
	expect_nothing(f);
	/* It asks for our credit. */
	req.op = VIRTIO_VSOCK_OP_CREDIT_REQUEST;
	vsock_conns_from_guest(f->t, &req, NULL, 0);
	expect(f, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1234, 7, &h);
	g_assert_cmpuint(h.buf_alloc, ==, VSOCK_BUF_ALLOC);
	expect_nothing(f);
	/* Claiming to have consumed more than it got: reset. */
	req.op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	req.fwd_cnt = 1701;
	vsock_conns_from_guest(f->t, &req, NULL, 0);
	expect(f, VIRTIO_VSOCK_OP_RST, 1234, 7, NULL);
	g_assert_cmpuint(f->t->nconns, ==, 0);
	close(fd);
	close(lfd);
}

static void test_stalled_host(struct fixture *f, gconstpointer data)
{
	static char chunk[VSOCK_MAX_PAYLOAD], sink[VSOCK_MAX_PAYLOAD];
	int lfd = host_listen(f, 1234), fd, fd2;
	uint32_t sent = 0, got = 0, told = 0;
	struct vsock_conn *c;
	struct vsock_hdr h;

	(void)data;
	fd = guest_connects(f, lfd, 5000);
	fd2 = guest_connects(f, lfd, 5001);
	c = &f->t->conns[0];
	/* The service reads nothing: its socket fills, then our buffer,
	 * while the guest keeps to the credit it hears of. */
	for (;;) {
		while (next(f, &h, sizeof(f->rx))) {
			g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
			told = h.fwd_cnt;
		}
		if (vsock_credit(VSOCK_BUF_ALLOC, told, sent) < sizeof(chunk))
			break;
		guest_send(f, VIRTIO_VSOCK_OP_RW, 5000, 1234, 0, 0, chunk,
			   sizeof(chunk));
		sent += sizeof(chunk);
	}
	g_assert_cmpuint(sent, >, VSOCK_BUF_ALLOC);
	g_assert_cmpuint(c->rx_cnt - c->fwd_cnt, >, 0);
	/* Another connection is not held up. */
	guest_send(f, VIRTIO_VSOCK_OP_RW, 5001, 1234, 0, 0, "ok", 2);
	g_assert_cmpint(read(fd2, sink, sizeof(sink)), ==, 2);
	/* The service reads: the rest follows, the guest hears of it. */
	while (got < sent) {
		ssize_t n = read(fd, sink, sizeof(sink));

		g_assert_cmpint(n, >, 0);
		got += (uint32_t)n;
		poll_host(f);
	}
	g_assert_cmpuint(f->t->conns[0].fwd_cnt, ==, sent);
	expect(f, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1234, 5000, &h);
	g_assert_cmpuint(h.fwd_cnt, ==, sent);
	/* Beyond its credit: reset. */
	for (uint32_t i = 0; i < 2 + VSOCK_BUF_ALLOC / VSOCK_MAX_PAYLOAD; i++)
		guest_send(f, VIRTIO_VSOCK_OP_RW, 5000, 1234, 0, 0, chunk,
			   sizeof(chunk));
	expect(f, VIRTIO_VSOCK_OP_RST, 1234, 5000, NULL);
	close(fd);
	close(fd2);
	close(lfd);
}

static void test_limit(struct fixture *f, gconstpointer data)
{
	int lfd = host_listen(f, 1234), extra;
	struct vsock_hdr h;
	uint32_t responses = 0, rsts = 0;

	(void)data;
	/* A flood of REQUESTs: the table holds VSOCK_MAX_CONNS. */
	for (uint32_t i = 0; i < VSOCK_MAX_CONNS + 10; i++)
		guest_send(f, VIRTIO_VSOCK_OP_REQUEST, 10000 + i, 1234, 0, 0,
			   NULL, 0);
	while (next(f, &h, sizeof(f->rx))) {
		responses += h.op == VIRTIO_VSOCK_OP_RESPONSE;
		rsts += h.op == VIRTIO_VSOCK_OP_RST;
	}
	g_assert_cmpuint(responses, ==, VSOCK_MAX_CONNS);
	g_assert_cmpuint(rsts, ==, 10);
	/* A host client beyond the limit is closed at once. */
	extra = host_client(f);
	poll_host(f);
	g_assert_cmpint(read(extra, &h, 1), ==, 0);
	close(extra);
	/* A duplicate REQUEST resets the connection it names. */
	guest_send(f, VIRTIO_VSOCK_OP_REQUEST, 10000, 1234, 0, 0, NULL, 0);
	expect(f, VIRTIO_VSOCK_OP_RST, 1234, 10000, NULL);
	g_assert_cmpuint(f->t->nconns, ==, VSOCK_MAX_CONNS - 1);
	close(lfd);
}

static void test_protocol_errors(struct fixture *f, gconstpointer data)
{
	int lfd = host_listen(f, 1234), fd;
	char b;

	(void)data;
	fd = guest_connects(f, lfd, 5000);
	/* A RESPONSE to nothing we asked. */
	guest_send(f, VIRTIO_VSOCK_OP_RESPONSE, 5000, 1234, 0, 0, NULL, 0);
	expect(f, VIRTIO_VSOCK_OP_RST, 1234, 5000, NULL);
	g_assert_cmpint(read(fd, &b, 1), ==, 0);
	close(fd);
	/* Data after the guest said it would send none. */
	fd = guest_connects(f, lfd, 5001);
	guest_send(f, VIRTIO_VSOCK_OP_SHUTDOWN, 5001, 1234,
		   VIRTIO_VSOCK_SHUTDOWN_SEND, 0, NULL, 0);
	g_assert_cmpint(read(fd, &b, 1), ==, 0);
	guest_send(f, VIRTIO_VSOCK_OP_RW, 5001, 1234, 0, 0, "x", 1);
	expect(f, VIRTIO_VSOCK_OP_RST, 1234, 5001, NULL);
	close(fd);
	/* A packet the parser wants answered, on a live connection. */
	fd = guest_connects(f, lfd, 5002);
	vsock_conns_refuse(f->t, &(struct vsock_hdr){
		.src_cid = GUEST_CID, .dst_cid = VSOCK_HOST_CID,
		.src_port = 5002, .dst_port = 1234 });
	expect(f, VIRTIO_VSOCK_OP_RST, 1234, 5002, NULL);
	g_assert_cmpuint(f->t->nconns, ==, 0);
	close(fd);
	close(lfd);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) \
	g_test_add("/vsock-conn/" path, struct fixture, NULL, setup, fn, \
		   teardown)
	ADD("guest-to-host", test_guest_to_host);
	ADD("refused", test_refused);
	ADD("host-to-guest", test_host_to_guest);
	ADD("host-refused", test_host_refused);
	ADD("credit-to-guest", test_credit_to_guest);
	ADD("stalled-host", test_stalled_host);
	ADD("limit", test_limit);
	ADD("protocol-errors", test_protocol_errors);
	return g_test_run();
}
