/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-vsock connections: each guest stream socket connected to the
 * host is one host unix socket here. The table follows both ends: what
 * the guest sends (vsock_conns_from_guest), what the host sockets report
 * (vsock_conns_host_event) and, when the guest posted a receive buffer,
 * the next packet it is owed (vsock_conns_next_packet). It knows nothing
 * of virtqueues.
 *
 * Flow control both ways (virtio 1.x 5.10.6.3): the guest never gets
 * more than its credit, and we advertise VSOCK_BUF_ALLOC per connection:
 * what a host peer does not take at once waits in a buffer of that size,
 * which a guest keeping to its credit cannot overflow (one that does not
 * is reset). Host sockets are non-blocking and watched edge-triggered; a
 * host peer that stops reading stalls its own connection only.
 */
#ifndef DUVISOR_VIRTIO_VSOCK_CONN_H
#define DUVISOR_VIRTIO_VSOCK_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/queue.h"
#include "virtio/vsock_host.h"
#include "virtio/vsock_packet.h"

/* Connections at a time: a guest flooding REQUESTs gets RSTs beyond. */
#define VSOCK_MAX_CONNS 256
/* Our receive buffer per connection, allocated when a host peer is slow:
 * at most VSOCK_MAX_CONNS times this for a guest whose peers all stall. */
#define VSOCK_BUF_ALLOC (128u * 1024)
/* RSTs owed for packets that matched no connection; more are dropped. */
#define VSOCK_MAX_RST 64
/* Host-initiated connections get local ports from here on. */
#define VSOCK_FIRST_LOCAL_PORT (1u << 30)

enum vsock_conn_state {
	VSOCK_FREE,
	VSOCK_HOST_LINE,     /* a host client is to send CONNECT <port> */
	VSOCK_REQUESTED,     /* we asked the guest; RESPONSE or RST next */
	VSOCK_ESTABLISHED,
	VSOCK_DEAD,          /* host socket closed; the guest gets an RST */
};

struct vsock_conn {
	enum vsock_conn_state state;
	int fd;
	uint32_t seq;                /* tells stale epoll events apart */
	uint32_t local_port;         /* the host's end */
	uint32_t peer_port;          /* the guest's end */
	unsigned int pending;        /* packets owed to the guest (SEND_*) */
	uint32_t shutdown_flags;     /* of the SHUTDOWN owed */

	/* Guest to host. */
	uint32_t rx_cnt;             /* bytes the guest sent */
	uint32_t fwd_cnt;            /* of them, written to the host */
	uint32_t fwd_cnt_told;       /* the fwd_cnt the guest last heard */
	uint8_t *buf;                /* the rest, a ring of VSOCK_BUF_ALLOC */
	uint32_t buf_head;
	bool guest_shut_send;        /* no more data from the guest */
	bool guest_shut_rcv;         /* the guest takes no more data */
	bool host_shut_wr;           /* we passed guest_shut_send on */

	/* Host to guest. */
	uint32_t tx_cnt;             /* bytes sent to the guest */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	bool readable;               /* the host socket may have data */
	bool host_hup;               /* the host peer closed its end */
	bool host_eof;               /* and we read all it sent */

	bool queued;                 /* in the receive queue (t->fifo) */
	uint8_t line_len;
	char line[VSOCK_CONNECT_LINE_MAX];
};

struct vsock_conns {
	const struct vsock_host *host;
	uint64_t guest_cid;
	bool guest_ready;            /* the driver is running */
	uint32_t next_local_port;
	uint32_t next_seq;
	uint32_t nconns;
	struct vsock_conn conns[VSOCK_MAX_CONNS];
	/* Connections with something for the guest, in turn. */
	uint32_t fifo[VSOCK_MAX_CONNS];
	uint32_t fifo_head, fifo_len;
	/* RSTs owed for packets of unknown connections, from the address
	 * the guest sent them to. */
	struct vsock_rst {
		uint64_t cid;
		uint32_t local_port, peer_port;
	} rst[VSOCK_MAX_RST];
	uint32_t rst_head, rst_len;
	/* The payload of a packet within the guest's credit. */
	struct iovec iov[VIRTQ_MAX_SEGS];
	bool warned;
};

void vsock_conns_init(struct vsock_conns *t, const struct vsock_host *host);
/* Closes every host socket and forgets every connection: the guest's
 * driver reset the device or the machine goes away. */
void vsock_conns_reset(struct vsock_conns *t);

/* A packet the guest sent, accepted by vsock_tx_parse(), with its payload
 * in iov[0..niov). */
void vsock_conns_from_guest(struct vsock_conns *t, const struct vsock_hdr *h,
			    const struct iovec *iov, uint32_t niov);

/* A packet vsock_tx_parse() found wanting an RST: its connection, if
 * any, is over. */
void vsock_conns_refuse(struct vsock_conns *t, const struct vsock_hdr *h);

/* Host clients wait on the listener. */
void vsock_conns_accept(struct vsock_conns *t);
/* The epoll events of a connection's socket (data: its epoll data). */
void vsock_conns_host_event(struct vsock_conns *t, uint64_t data,
			    uint32_t events);

/* Whether the guest is owed a packet (it may be that none can be made
 * once tried: a socket had no data after all). */
bool vsock_conns_have_packet(const struct vsock_conns *t);
/*
 * Makes the next packet for the guest: fills *h and, for data, writes
 * its payload (at most room bytes) to iov[0..niov), a receive buffer
 * after the header. Connections take turns. Returns false when none is
 * owed now.
 */
bool vsock_conns_next_packet(struct vsock_conns *t, const struct iovec *iov,
			     uint32_t niov, uint32_t room, struct vsock_hdr *h);

#endif
