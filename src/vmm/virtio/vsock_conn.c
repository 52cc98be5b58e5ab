// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-vsock connections between guest stream sockets and host unix
 * sockets (see vsock_conn.h).
 *
 * Closing: a side that will neither send nor receive any more is done.
 * The guest says so with SHUTDOWN (RCV and SEND), after which it waits for
 * our RST: we pass what it sent on, close the host socket and send it. A
 * host peer that closed its socket gets its data delivered, then an RST;
 * one that only shut down writing gets SHUTDOWN(SEND), so that the guest
 * reads EOF and may still answer. Either RST ends a connection at once.
 */
#include "virtio/vsock_conn.h"

#include <errno.h>
#include <linux/virtio_vsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/util.h"

/* Packets a connection owes the guest (`pending`). */
#define SEND_RST      (1u << 0)
#define SEND_REQUEST  (1u << 1)
#define SEND_RESPONSE (1u << 2)
#define SEND_SHUTDOWN (1u << 3)
#define SEND_CREDIT   (1u << 4)

#define SHUT_BOTH (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)

static void warn_once(struct vsock_conns *t, const char *what)
{
	if (t->warned)
		return;
	t->warned = true;
	vmm_warn("virtio-vsock: %s: connection reset (further such events "
		 "not shown)", what);
}

static uint32_t slot_of(const struct vsock_conns *t,
			const struct vsock_conn *c)
{
	return (uint32_t)(c - t->conns);
}

void vsock_conns_init(struct vsock_conns *t, const struct vsock_host *host)
{
	memset(t, 0, sizeof(*t));
	t->host = host;
	t->guest_cid = host->guest_cid;
	t->next_local_port = VSOCK_FIRST_LOCAL_PORT;
	for (uint32_t i = 0; i < VSOCK_MAX_CONNS; i++)
		t->conns[i].fd = -1;
}

/* The connection (host port, guest port), once the guest knows of it. */
static struct vsock_conn *find(struct vsock_conns *t, uint32_t local_port,
			       uint32_t peer_port)
{
	for (uint32_t i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &t->conns[i];

		if (c->state != VSOCK_FREE && c->state != VSOCK_HOST_LINE &&
		    c->local_port == local_port && c->peer_port == peer_port)
			return c;
	}
	return NULL;
}

/* The receive queue: connections with something for the guest, each at
 * most once, served in turn. */
static void fifo_push(struct vsock_conns *t, struct vsock_conn *c)
{
	t->fifo[(t->fifo_head + t->fifo_len) % VSOCK_MAX_CONNS] = slot_of(t, c);
	t->fifo_len++;
	c->queued = true;
}

static struct vsock_conn *fifo_pop(struct vsock_conns *t)
{
	struct vsock_conn *c = &t->conns[t->fifo[t->fifo_head]];

	t->fifo_head = (t->fifo_head + 1) % VSOCK_MAX_CONNS;
	t->fifo_len--;
	c->queued = false;
	return c;
}

static void fifo_remove(struct vsock_conns *t, struct vsock_conn *c)
{
	uint32_t n = t->fifo_len;

	for (uint32_t i = 0; i < n; i++) {
		struct vsock_conn *other = fifo_pop(t);

		if (other != c)
			fifo_push(t, other);
	}
}

static uint32_t peer_credit(const struct vsock_conn *c)
{
	return vsock_credit(c->peer_buf_alloc, c->peer_fwd_cnt, c->tx_cnt);
}

static bool data_for_guest(const struct vsock_conn *c)
{
	return c->state == VSOCK_ESTABLISHED && c->readable && !c->host_eof &&
	       !c->guest_shut_rcv && peer_credit(c) > 0;
}

/* Queues c if it owes the guest a packet. */
static void want_rx(struct vsock_conns *t, struct vsock_conn *c)
{
	if (!c->queued && (c->pending || data_for_guest(c)))
		fifo_push(t, c);
}

static void close_host(struct vsock_conn *c, int epoll_fd)
{
	if (c->fd >= 0) {
		epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
}

static void conn_free(struct vsock_conns *t, struct vsock_conn *c)
{
	close_host(c, t->host->epoll_fd);
	if (c->queued)
		fifo_remove(t, c);
	c->state = VSOCK_FREE;
	t->nconns--;
}

static struct vsock_conn *conn_alloc(struct vsock_conns *t, int fd,
				     enum vsock_conn_state state)
{
	struct epoll_event ev = {
		/* Edge-triggered: a socket whose data waits for the guest's
		 * credit or buffers must not wake us up meanwhile. */
		.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
	};

	for (uint32_t i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &t->conns[i];

		if (c->state != VSOCK_FREE)
			continue;
		*c = (struct vsock_conn){
			.state = state, .fd = fd, .seq = ++t->next_seq,
			.readable = true,
		};
		ev.data.u64 = (uint64_t)c->seq << 32 | i;
		if (epoll_ctl(t->host->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			c->state = VSOCK_FREE;
			c->fd = -1;
			return NULL;
		}
		t->nconns++;
		return c;
	}
	return NULL;
}

/* The connection is over: the guest gets an RST if it knows of it. */
static void conn_reset(struct vsock_conns *t, struct vsock_conn *c)
{
	if (c->state == VSOCK_HOST_LINE ||
	    (c->state == VSOCK_REQUESTED && (c->pending & SEND_REQUEST))) {
		conn_free(t, c);
		return;
	}
	close_host(c, t->host->epoll_fd);
	c->state = VSOCK_DEAD;
	c->pending = SEND_RST;
	want_rx(t, c);
}

/* An RST for a packet that matched no connection; none when too many are
 * owed already (the guest is not taking its receive buffers). */
static void owe_rst(struct vsock_conns *t, const struct vsock_hdr *h)
{
	if (t->rst_len == VSOCK_MAX_RST)
		return;
	/* From where the guest sent it, whatever CID it named: its socket
	 * connecting there then fails at once. */
	t->rst[(t->rst_head + t->rst_len) % VSOCK_MAX_RST] = (struct vsock_rst){
		.cid = h->dst_cid,
		.local_port = h->dst_port,
		.peer_port = h->src_port,
	};
	t->rst_len++;
}

void vsock_conns_reset(struct vsock_conns *t)
{
	for (uint32_t i = 0; i < VSOCK_MAX_CONNS; i++)
		if (t->conns[i].state != VSOCK_FREE)
			conn_free(t, &t->conns[i]);
	t->fifo_head = t->fifo_len = 0;
	t->rst_head = t->rst_len = 0;
}

static void credit_check(struct vsock_conns *t, struct vsock_conn *c)
{
	if (vsock_credit_update_due(VSOCK_BUF_ALLOC, c->fwd_cnt,
				    c->fwd_cnt_told))
		c->pending |= SEND_CREDIT;
}

/*
 * Writes what the guest sent and we hold to the host socket until it is
 * all out or the socket is full (then EPOLLOUT brings us back: a full
 * socket always wakes its writer once it drains). Passes the guest's
 * shutdown on once everything is out. Returns false after a reset.
 */
static bool flush(struct vsock_conns *t, struct vsock_conn *c)
{
	uint32_t held;

	while ((held = c->rx_cnt - c->fwd_cnt)) {
		uint32_t first = MIN(held, VSOCK_BUF_ALLOC - c->buf_head);
		struct iovec seg[2] = {
			{ c->buf + c->buf_head, first },
			{ c->buf, held - first },
		};
		ssize_t n = writev(c->fd, seg, held > first ? 2 : 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			conn_reset(t, c);
			return false;
		}
		c->buf_head = (c->buf_head + (uint32_t)n) % VSOCK_BUF_ALLOC;
		c->fwd_cnt += (uint32_t)n;
	}
	credit_check(t, c);
	if (held)
		return true;
	if (c->guest_shut_send && c->guest_shut_rcv) {
		conn_reset(t, c);
		return false;
	}
	if (c->guest_shut_send && !c->host_shut_wr) {
		(void)shutdown(c->fd, SHUT_WR);
		c->host_shut_wr = true;
	}
	return true;
}

static void guest_data(struct vsock_conns *t, struct vsock_conn *c,
		       uint32_t len, const struct iovec *iov, uint32_t niov)
{
	uint32_t done = 0, tail;

	if (c->state != VSOCK_ESTABLISHED || c->guest_shut_send) {
		warn_once(t, "data outside an open connection");
		conn_reset(t, c);
		return;
	}
	/* Against what the guest was told, not what it might know: a
	 * guest keeping to its credit never fails this. */
	if (!vsock_rx_fits(VSOCK_BUF_ALLOC, c->rx_cnt, c->fwd_cnt_told, len)) {
		warn_once(t, "the guest sent beyond its credit");
		conn_reset(t, c);
		return;
	}
	/* Straight from guest memory while nothing waits before it. */
	if (c->rx_cnt == c->fwd_cnt) {
		ssize_t n = writev(c->fd, iov, (int)niov);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			conn_reset(t, c);
			return;
		}
		done = n > 0 ? (uint32_t)n : 0;
		c->fwd_cnt += done;
	}
	c->rx_cnt += done;
	if (done == len)
		goto out;
	if (!c->buf && !(c->buf = malloc(VSOCK_BUF_ALLOC))) {
		warn_once(t, "out of memory");
		conn_reset(t, c);
		return;
	}
	/* The rest goes behind what is held: it fits, checked above. */
	tail = (c->buf_head + (c->rx_cnt - c->fwd_cnt)) % VSOCK_BUF_ALLOC;
	while (done < len) {
		uint32_t chunk = MIN(len - done, VSOCK_BUF_ALLOC - tail);

		iov_to_buf(iov, niov, done, c->buf + tail, chunk);
		done += chunk;
		c->rx_cnt += chunk;
		tail = (tail + chunk) % VSOCK_BUF_ALLOC;
	}
out:
	flush(t, c);
}

static void guest_shutdown(struct vsock_conns *t, struct vsock_conn *c,
			   uint32_t flags)
{
	if (c->state != VSOCK_ESTABLISHED) {
		conn_reset(t, c);
		return;
	}
	/* The host writer gets EPIPE: nobody will read what it sends. */
	if ((flags & VIRTIO_VSOCK_SHUTDOWN_RCV) && !c->guest_shut_rcv)
		(void)shutdown(c->fd, SHUT_RD);
	c->guest_shut_rcv |= flags & VIRTIO_VSOCK_SHUTDOWN_RCV;
	c->guest_shut_send |= flags & VIRTIO_VSOCK_SHUTDOWN_SEND;
	flush(t, c);
}

/* The guest accepted a host client's connection. */
static void guest_accepted(struct vsock_conns *t, struct vsock_conn *c)
{
	char line[24];
	int n;

	if (c->state != VSOCK_REQUESTED || (c->pending & SEND_REQUEST)) {
		warn_once(t, "an unexpected RESPONSE");
		conn_reset(t, c);
		return;
	}
	n = snprintf(line, sizeof(line), "OK %u\n", c->local_port);
	/* A new socket's buffer is empty: a short write means it is gone. */
	if (write(c->fd, line, (size_t)n) != n) {
		conn_reset(t, c);
		return;
	}
	c->state = VSOCK_ESTABLISHED;
}

/* The guest connects to the host's port h->dst_port. */
static void guest_connect(struct vsock_conns *t, const struct vsock_hdr *h)
{
	struct vsock_conn *c;
	int fd;

	if (t->nconns == VSOCK_MAX_CONNS) {
		vmm_debug("virtio-vsock: connection to port %u refused: %u "
			  "connections open", h->dst_port, t->nconns);
		owe_rst(t, h);
		return;
	}
	if (!vsock_fwd_cnt_valid(0, h->fwd_cnt, 0)) {
		owe_rst(t, h);
		return;
	}
	fd = vsock_host_connect(t->host, h->dst_port);
	if (fd < 0) {
		vmm_debug("virtio-vsock: connection to port %u refused: %s",
			  h->dst_port, strerror(-fd));
		owe_rst(t, h);
		return;
	}
	c = conn_alloc(t, fd, VSOCK_ESTABLISHED);
	if (!c) {
		close(fd);
		owe_rst(t, h);
		return;
	}
	c->local_port = h->dst_port;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->pending = SEND_RESPONSE;
	want_rx(t, c);
}

void vsock_conns_from_guest(struct vsock_conns *t, const struct vsock_hdr *h,
			    const struct iovec *iov, uint32_t niov)
{
	struct vsock_conn *c = find(t, h->dst_port, h->src_port);

	switch (h->op) {
	case VIRTIO_VSOCK_OP_RST:
		if (c)
			conn_free(t, c);
		return;
	case VIRTIO_VSOCK_OP_REQUEST:
		/* A second REQUEST on a connection's addresses: the guest
		 * lost track of it; so do we. */
		if (c)
			conn_reset(t, c);
		else
			guest_connect(t, h);
		return;
	default:
		break;
	}
	if (!c) {
		owe_rst(t, h);
		return;
	}
	/* Its RST is on the way. */
	if (c->state == VSOCK_DEAD)
		return;
	/* Every packet carries the sender's credit. */
	if (!vsock_fwd_cnt_valid(c->peer_fwd_cnt, h->fwd_cnt, c->tx_cnt)) {
		warn_once(t, "the guest reported more data consumed than sent");
		conn_reset(t, c);
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		guest_accepted(t, c);
		break;
	case VIRTIO_VSOCK_OP_RW:
		guest_data(t, c, h->len, iov, niov);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		guest_shutdown(t, c, h->flags);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->pending |= SEND_CREDIT;
		break;
	default:                     /* CREDIT_UPDATE: taken above */
		break;
	}
	if (c->state != VSOCK_FREE)
		want_rx(t, c);
}

void vsock_conns_refuse(struct vsock_conns *t, const struct vsock_hdr *h)
{
	struct vsock_conn *c = find(t, h->dst_port, h->src_port);

	if (!c) {
		owe_rst(t, h);
		return;
	}
	warn_once(t, "a malformed packet");
	if (c->state != VSOCK_DEAD)
		conn_reset(t, c);
}

/* A host port for a connection to the guest's port peer_port. */
static uint32_t local_port_for(struct vsock_conns *t, uint32_t peer_port)
{
	for (;;) {
		uint32_t p = t->next_local_port++;

		if (t->next_local_port < VSOCK_FIRST_LOCAL_PORT)
			t->next_local_port = VSOCK_FIRST_LOCAL_PORT;
		if (!find(t, p, peer_port))
			return p;
	}
}

/* A host client's CONNECT line, read a byte at a time so that what
 * follows it stays in the socket for the guest. */
static void read_line(struct vsock_conns *t, struct vsock_conn *c)
{
	uint32_t port;
	int r;

	while (c->line_len < VSOCK_CONNECT_LINE_MAX &&
	       (!c->line_len || c->line[c->line_len - 1] != '\n')) {
		ssize_t n = read(c->fd, &c->line[c->line_len], 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_free(t, c);
			return;
		}
		c->line_len++;
	}
	r = vsock_parse_connect(c->line, c->line_len, &port);
	if (r < 0 || !t->guest_ready) {
		conn_free(t, c);
		return;
	}
	c->peer_port = port;
	c->local_port = local_port_for(t, port);
	c->state = VSOCK_REQUESTED;
	c->pending = SEND_REQUEST;
	want_rx(t, c);
}

void vsock_conns_accept(struct vsock_conns *t)
{
	for (;;) {
		struct vsock_conn *c = NULL;
		int fd = accept4(t->host->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0)
			return;
		/* Without a driver, or beyond the limit, a client is closed
		 * at once: it sees EOF instead of OK. */
		if (t->guest_ready && t->nconns < VSOCK_MAX_CONNS)
			c = conn_alloc(t, fd, VSOCK_HOST_LINE);
		if (c)
			read_line(t, c);
		else
			close(fd);
	}
}

void vsock_conns_host_event(struct vsock_conns *t, uint64_t data,
			    uint32_t events)
{
	uint32_t slot = (uint32_t)data;
	struct vsock_conn *c;

	if (slot >= VSOCK_MAX_CONNS)
		return;
	c = &t->conns[slot];
	/* Events of a connection closed earlier in the same batch. */
	if (c->state == VSOCK_FREE || c->seq != (uint32_t)(data >> 32) ||
	    c->fd < 0)
		return;
	if (events & EPOLLHUP)
		c->host_hup = true;
	/* Reading tells end of file and errors apart from data. */
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	switch (c->state) {
	case VSOCK_HOST_LINE:
		read_line(t, c);
		return;
	case VSOCK_REQUESTED:
		/* The client gave up before the guest answered. */
		if (c->host_hup)
			conn_reset(t, c);
		return;
	case VSOCK_ESTABLISHED:
		/* Gone after it said it would send no more: nothing is left
		 * to carry either way. */
		if (c->host_eof && c->host_hup) {
			conn_reset(t, c);
			return;
		}
		if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) &&
		    !flush(t, c))
			return;
		want_rx(t, c);
		return;
	default:
		return;
	}
}

bool vsock_conns_have_packet(const struct vsock_conns *t)
{
	return t->rst_len || t->fifo_len;
}

/* Reads host data for the guest: at most max bytes into iov. Returns
 * whether it got some; at the end of the data, a SHUTDOWN or (the peer
 * is gone) an RST is owed instead. */
static bool read_data(struct vsock_conns *t, struct vsock_conn *c,
		      const struct iovec *iov, uint32_t niov, uint32_t max,
		      struct vsock_hdr *h)
{
	int nseg = iov_slice(iov, niov, 0, max, t->iov, VIRTQ_MAX_SEGS);
	ssize_t n;

	if (nseg <= 0)
		return false;
	n = readv(c->fd, t->iov, nseg);
	if (n > 0) {
		h->op = VIRTIO_VSOCK_OP_RW;
		h->len = (uint32_t)n;
		c->tx_cnt += (uint32_t)n;
		return true;
	}
	if (n < 0 && errno == EINTR)
		return false;
	c->readable = false;
	if (n < 0 && errno == EAGAIN)
		return false;
	if (n < 0 || c->host_hup) {
		conn_reset(t, c);
		return false;
	}
	c->host_eof = true;
	c->pending |= SEND_SHUTDOWN;
	c->shutdown_flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	return false;
}

/* The next packet c owes the guest, if any: control packets in the order
 * the handshake needs them, data before the SHUTDOWN that ends it. */
static bool conn_packet(struct vsock_conns *t, struct vsock_conn *c,
			const struct iovec *iov, uint32_t niov, uint32_t room,
			struct vsock_hdr *h)
{
	static const unsigned int order[] = {
		SEND_RST, SEND_REQUEST, SEND_RESPONSE, SEND_SHUTDOWN,
		SEND_CREDIT,
	};
	static const uint16_t ops[] = {
		VIRTIO_VSOCK_OP_RST, VIRTIO_VSOCK_OP_REQUEST,
		VIRTIO_VSOCK_OP_RESPONSE, VIRTIO_VSOCK_OP_SHUTDOWN,
		VIRTIO_VSOCK_OP_CREDIT_UPDATE,
	};

	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID, .dst_cid = t->guest_cid,
		.src_port = c->local_port, .dst_port = c->peer_port,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.buf_alloc = VSOCK_BUF_ALLOC, .fwd_cnt = c->fwd_cnt,
	};
	if (!(c->pending & (SEND_RST | SEND_REQUEST | SEND_RESPONSE)) &&
	    data_for_guest(c) &&
	    read_data(t, c, iov, niov, MIN(room, peer_credit(c)), h))
		goto sent;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		if (!(c->pending & order[i]))
			continue;
		h->op = ops[i];
		c->pending &= ~order[i];
		if (order[i] == SEND_SHUTDOWN)
			h->flags = c->shutdown_flags;
		if (order[i] == SEND_RST) {
			conn_free(t, c);
			return true;
		}
		goto sent;
	}
	return false;
sent:
	/* Every packet tells the guest our fwd_cnt. */
	c->fwd_cnt_told = c->fwd_cnt;
	c->pending &= ~SEND_CREDIT;
	return true;
}

bool vsock_conns_next_packet(struct vsock_conns *t, const struct iovec *iov,
			     uint32_t niov, uint32_t room, struct vsock_hdr *h)
{
	if (t->rst_len) {
		const struct vsock_rst *r = &t->rst[t->rst_head];

		*h = (struct vsock_hdr){
			.src_cid = r->cid, .dst_cid = t->guest_cid,
			.src_port = r->local_port, .dst_port = r->peer_port,
			.type = VIRTIO_VSOCK_TYPE_STREAM,
			.op = VIRTIO_VSOCK_OP_RST,
		};
		t->rst_head = (t->rst_head + 1) % VSOCK_MAX_RST;
		t->rst_len--;
		return true;
	}
	/* Each connection queued now gets one try. */
	for (uint32_t n = t->fifo_len; n; n--) {
		struct vsock_conn *c = fifo_pop(t);
		bool made = conn_packet(t, c, iov, niov, room, h);

		if (c->state != VSOCK_FREE)
			want_rx(t, c);
		if (made)
			return true;
	}
	return false;
}
