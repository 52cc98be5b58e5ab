// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-vsock (virtio 1.x section 5.10) in user space, worked on the main
 * loop: guest stream sockets connected to the host become host unix
 * sockets (docs/vsock.md). This file moves packets between the virtqueues
 * and the connection table (vsock_conn.c); vsock_packet.c checks them.
 *
 * Queues: the guest transmits on tx; it posts buffers on rx for what we
 * send it; the event queue is only for TRANSPORT_RESET, which we never
 * send (see docs/vsock.md), so its buffers stay with us unused.
 */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_vsock.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "core/util.h"
#include "virtio/devices.h"
#include "virtio/vsock_conn.h"
#include "virtio/vsock_host.h"
#include "virtio/vsock_packet.h"

#define VSOCK_QUEUE_SIZE 256
#define RXQ 0
#define TXQ 1
/* Packets handled per wake-up before other events get a turn. */
#define VSOCK_BATCH 64
/* Host socket events taken per wake-up. */
#define VSOCK_EVENTS 64

struct virtio_vsock {
	struct virtio_dev vdev;
	struct event_loop *loop;
	struct vsock_host *host;
	struct virtio_vsock_config config;
	/* The device's generation the connections belong to: a reset by
	 * the driver (on a vCPU thread) ends them here, on the main loop. */
	uint64_t generation;
	/* A receive buffer taken from the ring, waiting for a packet. */
	bool rx_held;
	struct virtq_chain rx_chain;
	struct virtq_chain tx_chain;
	struct iovec iov[VIRTQ_MAX_SEGS];
	struct vsock_conns conns;
};

/* Call with the lock held first thing in every handler. */
static void sync_state(struct virtio_vsock *vs)
{
	struct virtio_dev *vdev = &vs->vdev;

	if (vs->generation != vdev->generation) {
		vsock_conns_reset(&vs->conns);
		vs->rx_held = false;
		vs->generation = vdev->generation;
	}
	vs->conns.guest_ready = virtio_dev_running(vdev) &&
				vdev->vqs[RXQ].ready && vdev->vqs[TXQ].ready;
}

/* Gives the guest what it is owed, as long as it posted buffers. */
static void pump_rx(struct virtio_vsock *vs)
{
	struct virtio_dev *vdev = &vs->vdev;
	struct virtq *vq = &vdev->vqs[RXQ];
	struct virtq_chain *c = &vs->rx_chain;
	uint8_t hdr[VSOCK_HDR_LEN];
	struct vsock_hdr h;
	int n = 0, r, nseg;
	uint32_t room;

	while (n < VSOCK_BATCH && vs->conns.guest_ready &&
	       vsock_conns_have_packet(&vs->conns)) {
		if (!vs->rx_held) {
			r = virtq_pop(vq, c);
			if (r < 0)
				virtio_dev_set_needs_reset(vdev);
			if (r <= 0)
				break;
			/* Ours to write, with room for a header and data
			 * (Linux posts 4 KiB): else given back unused. */
			if (c->nout || c->in_len <= VSOCK_HDR_LEN ||
			    c->in_len > UINT32_MAX) {
				virtq_fill(vq, c->head, 0);
				n++;
				continue;
			}
			vs->rx_held = true;
		}
		room = (uint32_t)MIN(c->in_len - VSOCK_HDR_LEN,
				     (uint64_t)VSOCK_MAX_PAYLOAD);
		nseg = iov_slice(c->iov, c->nin, VSOCK_HDR_LEN, room, vs->iov,
				 VIRTQ_MAX_SEGS);
		if (nseg < 0 ||
		    !vsock_conns_next_packet(&vs->conns, vs->iov,
					     (uint32_t)nseg, room, &h))
			break;
		vsock_hdr_encode(&h, hdr);
		iov_from_buf(c->iov, c->nin, 0, hdr, sizeof(hdr));
		virtq_fill(vq, c->head, VSOCK_HDR_LEN + h.len);
		vs->rx_held = false;
		n++;
	}
	if (!n)
		return;
	virtq_flush(vq);
	virtio_queue_notify_driver(vdev, RXQ);
	/* More to give: come back after the other events. */
	if (n == VSOCK_BATCH)
		(void)eventfd_write(vdev->kick_fds[RXQ], 1);
}

static void handle_tx(struct virtio_vsock *vs)
{
	const struct virtq_chain *c = &vs->tx_chain;
	struct vsock_hdr h;
	int n = 0;

	switch (vsock_tx_parse(c, vs->conns.guest_cid, &h)) {
	case VSOCK_PKT_OK:
		if (h.len)
			n = vsock_tx_payload(c, &h, vs->iov, VIRTQ_MAX_SEGS);
		if (n < 0)
			vsock_conns_refuse(&vs->conns, &h);
		else
			vsock_conns_from_guest(&vs->conns, &h, vs->iov,
					       (uint32_t)n);
		break;
	case VSOCK_PKT_RESET:
		vsock_conns_refuse(&vs->conns, &h);
		break;
	case VSOCK_PKT_DROP:
		break;
	}
}

static void on_tx_kick(void *opaque, uint32_t events)
{
	struct virtio_vsock *vs = opaque;
	struct virtio_dev *vdev = &vs->vdev;
	struct virtq *vq = &vdev->vqs[TXQ];
	int i, r = 0;

	(void)events;
	virtio_kick_drain(vdev->kick_fds[TXQ]);
	pthread_mutex_lock(&vdev->lock);
	sync_state(vs);
	for (i = 0; i < VSOCK_BATCH && vs->conns.guest_ready &&
		    (r = virtq_pop(vq, &vs->tx_chain)) > 0; i++) {
		handle_tx(vs);
		/* Transmitted buffers come back unwritten. */
		virtq_fill(vq, vs->tx_chain.head, 0);
	}
	if (r < 0)
		virtio_dev_set_needs_reset(vdev);
	if (i) {
		virtq_flush(vq);
		virtio_queue_notify_driver(vdev, TXQ);
	}
	if (i == VSOCK_BATCH)
		(void)eventfd_write(vdev->kick_fds[TXQ], 1);
	pump_rx(vs);
	pthread_mutex_unlock(&vdev->lock);
}

/* Buffers were posted, or the device started or was reset. */
static void on_rx_kick(void *opaque, uint32_t events)
{
	struct virtio_vsock *vs = opaque;

	(void)events;
	virtio_kick_drain(vs->vdev.kick_fds[RXQ]);
	pthread_mutex_lock(&vs->vdev.lock);
	sync_state(vs);
	pump_rx(vs);
	pthread_mutex_unlock(&vs->vdev.lock);
}

/* The host sockets' epoll instance is ready. */
static void on_host(void *opaque, uint32_t events)
{
	struct virtio_vsock *vs = opaque;
	struct epoll_event evs[VSOCK_EVENTS];
	int n;

	(void)events;
	pthread_mutex_lock(&vs->vdev.lock);
	sync_state(vs);
	n = epoll_wait(vs->host->epoll_fd, evs, VSOCK_EVENTS, 0);
	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 == VSOCK_HOST_LISTENER)
			vsock_conns_accept(&vs->conns);
		else
			vsock_conns_host_event(&vs->conns, evs[i].data.u64,
					       evs[i].events);
	}
	pump_rx(vs);
	pthread_mutex_unlock(&vs->vdev.lock);
}

/* From a vCPU thread, which may not close sockets: the main loop ends
 * the connections (see sync_state). */
static void vsock_reset(struct virtio_dev *vdev)
{
	(void)eventfd_write(vdev->kick_fds[TXQ], 1);
}

static void vsock_free(struct virtio_dev *vdev)
{
	struct virtio_vsock *vs = vdev->priv;

	event_loop_remove(vs->loop, vs->host->epoll_fd);
	event_loop_remove(vs->loop, vdev->kick_fds[RXQ]);
	event_loop_remove(vs->loop, vdev->kick_fds[TXQ]);
	/* Host clients see their connections end with the machine. */
	vsock_conns_reset(&vs->conns);
	virtio_dev_cleanup(vdev);
	free(vs);
}

static const struct virtio_dev_ops vsock_ops = {
	.reset = vsock_reset,
	.free = vsock_free,
};

struct virtio_dev *virtio_vsock_new(const struct virtio_host *host,
				    const char *name, struct vsock_host *vsock)
{
	struct virtio_vsock *vs = calloc(1, sizeof(*vs));

	if (!vs)
		return NULL;
	if (virtio_dev_init(&vs->vdev, name, VIRTIO_ID_VSOCK, 0, 3,
			    VSOCK_QUEUE_SIZE, host->mem) < 0) {
		free(vs);
		return NULL;
	}
	vs->vdev.ops = &vsock_ops;
	vs->vdev.priv = vs;
	vs->loop = host->loop;
	vs->host = vsock;
	vs->config.guest_cid = htole64(vsock->guest_cid);
	vs->vdev.config = (uint8_t *)&vs->config;
	vs->vdev.config_len = sizeof(vs->config);
	vsock_conns_init(&vs->conns, vsock);
	if (event_loop_add(host->loop, vs->vdev.kick_fds[RXQ], EPOLLIN,
			   on_rx_kick, vs) < 0 ||
	    event_loop_add(host->loop, vs->vdev.kick_fds[TXQ], EPOLLIN,
			   on_tx_kick, vs) < 0 ||
	    event_loop_add(host->loop, vsock->epoll_fd, EPOLLIN, on_host,
			   vs) < 0) {
		vsock_free(&vs->vdev);
		return NULL;
	}
	return &vs->vdev;
}
