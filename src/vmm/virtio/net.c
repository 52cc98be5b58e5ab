// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-net (virtio 1.x section 5.1) on a tap, worked on the main loop.
 *
 * Frames move between guest buffers and the tap with readv()/writev()
 * straight on guest memory: the tap speaks the same 12-byte header as the
 * guest, so nothing is copied. To receive, enough buffers for the largest
 * frame the guest accepts are gathered first (several chains with
 * mergeable rx buffers); those the frame did not need are given back.
 * With no buffers posted the tap is not polled until the guest kicks rx.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/util.h"
#include "net/tap.h"
#include "virtio/devices.h"

#define NET_QUEUE_SIZE 256
#define RXQ 0
#define TXQ 1
/* Frames handled per wake-up before the other direction gets a turn. */
#define NET_BATCH 64
/* Largest frames: with segmentation offloads, and without (VLAN tag). */
#define NET_MAX_GSO_FRAME (65535 + 14)
#define NET_MAX_FRAME 1518
#define BIT(n) (1ull << (n))

struct rx_buf {
	uint16_t head;
	uint32_t len;
};

struct virtio_net {
	struct virtio_dev vdev;
	struct tap *tap;
	struct event_loop *loop;
	struct virtio_net_config config;
	bool polling_tap;
	bool warned;
	struct virtq_chain chain;
	/* The buffers of the frame being received, gathered. */
	uint32_t niov;
	struct iovec rx_iov[VIRTQ_MAX_SEGS];
	uint64_t room;
	uint32_t nbufs;
	struct rx_buf rx_bufs[NET_QUEUE_SIZE];
	/* Set from vCPU threads, applied on the main loop (the sandbox keeps
	 * tap ioctls and epoll changes off vCPU threads). */
	bool offloads_changed;
};

static bool negotiated(const struct virtio_net *net, unsigned int feature)
{
	return net->vdev.driver_features & BIT(feature);
}

static void poll_tap(struct virtio_net *net, bool on)
{
	if (net->polling_tap == on)
		return;
	net->polling_tap = on;
	event_loop_modify(net->loop, net->tap->fd, on ? EPOLLIN : 0);
}

static void warn_once(struct virtio_net *net, const char *what, int err)
{
	if (net->warned)
		return;
	net->warned = true;
	vmm_warn("%s: %s: %s (further errors not shown)", net->vdev.name, what,
		 strerror(err));
}

static uint32_t rx_frame_room(const struct virtio_net *net)
{
	bool gso = negotiated(net, VIRTIO_NET_F_GUEST_TSO4) ||
		   negotiated(net, VIRTIO_NET_F_GUEST_TSO6);

	return TAP_VNET_HDR_LEN + (gso ? NET_MAX_GSO_FRAME : NET_MAX_FRAME);
}

/*
 * Pops buffers until a largest frame fits. Returns the room gathered, 0
 * when the guest has not posted enough (everything is given back then).
 */
static uint64_t gather_rx_buffers(struct virtio_net *net)
{
	struct virtq *vq = &net->vdev.vqs[RXQ];
	bool mergeable = negotiated(net, VIRTIO_NET_F_MRG_RXBUF);
	uint64_t room = 0, need = rx_frame_room(net);
	struct virtq_chain *c = &net->chain;
	int r;

	net->niov = 0;
	net->nbufs = 0;
	while (room < need && net->nbufs < vq->size) {
		r = virtq_pop(vq, c);
		if (r < 0)
			virtio_dev_set_needs_reset(&net->vdev);
		if (r <= 0)
			break;
		/* Device-readable parts break the rules: skip the chain. */
		if (c->nout || c->in_len < TAP_VNET_HDR_LEN ||
		    c->nin > VIRTQ_MAX_SEGS - net->niov) {
			virtq_push(vq, c->head, 0);
			continue;
		}
		memcpy(&net->rx_iov[net->niov], c->iov,
		       c->nin * sizeof(c->iov[0]));
		net->niov += c->nin;
		net->rx_bufs[net->nbufs++] = (struct rx_buf){
			.head = c->head,
			.len = (uint32_t)MIN(c->in_len, UINT32_MAX),
		};
		room += c->in_len;
		if (!mergeable)
			break;
	}
	/* A guest that posted its whole ring gets what fits. */
	if (room >= need || (room && (!mergeable || net->nbufs == vq->size)))
		return room;
	virtq_unpop(vq, (uint16_t)net->nbufs);
	net->nbufs = 0;
	return 0;
}

static ssize_t read_frame(struct virtio_net *net)
{
	static const uint8_t no_offloads[TAP_VNET_HDR_LEN];
	struct iovec body[VIRTQ_MAX_SEGS];
	ssize_t n;
	int nbody;

	if (net->tap->vnet_hdr)
		return readv(net->tap->fd, net->rx_iov, (int)net->niov);
	/* Without the tap's header, say "no offloads" ourselves. */
	nbody = iov_slice(net->rx_iov, net->niov, TAP_VNET_HDR_LEN,
			  net->room - TAP_VNET_HDR_LEN, body, VIRTQ_MAX_SEGS);
	n = nbody < 0 ? -1 : readv(net->tap->fd, body, nbody);
	if (n < 0)
		return n;
	iov_from_buf(net->rx_iov, net->niov, 0, no_offloads,
		     sizeof(no_offloads));
	return n + TAP_VNET_HDR_LEN;
}

/* Spreads a received frame over the gathered buffers in order. */
static void complete_rx(struct virtio_net *net, uint32_t len)
{
	struct virtq *vq = &net->vdev.vqs[RXQ];
	uint16_t used = 0;
	uint32_t left = len;

	while (used < net->nbufs && (left || !used))
		left -= MIN(left, net->rx_bufs[used++].len);
	/* num_buffers, the last field of the header. */
	iov_from_buf(net->rx_iov, net->niov, TAP_VNET_HDR_LEN - 2, &used, 2);
	left = len;
	for (uint16_t i = 0; i < used; i++) {
		uint32_t chunk = MIN(left, net->rx_bufs[i].len);

		virtq_push(vq, net->rx_bufs[i].head, chunk);
		left -= chunk;
	}
	virtq_unpop(vq, (uint16_t)(net->nbufs - used));
}

/* Returns whether a frame was delivered. */
static bool receive_one(struct virtio_net *net)
{
	ssize_t n;

	net->room = gather_rx_buffers(net);
	if (!net->room) {
		poll_tap(net, false);
		return false;
	}
	n = read_frame(net);
	if (n <= 0) {
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			warn_once(net, "tap read", errno);
		virtq_unpop(&net->vdev.vqs[RXQ], (uint16_t)net->nbufs);
		return false;
	}
	complete_rx(net, (uint32_t)n);
	return true;
}

static void on_tap(void *opaque, uint32_t events)
{
	struct virtio_net *net = opaque;
	struct virtio_dev *vdev = &net->vdev;
	bool delivered = false;

	(void)events;
	pthread_mutex_lock(&vdev->lock);
	if (!virtio_dev_running(vdev) || !vdev->vqs[RXQ].ready) {
		poll_tap(net, false);
	} else {
		for (int i = 0; i < NET_BATCH && receive_one(net); i++)
			delivered = true;
		if (delivered)
			virtio_queue_notify_driver(vdev, RXQ);
	}
	pthread_mutex_unlock(&vdev->lock);
}

static unsigned int tap_offloads(const struct virtio_net *net)
{
	unsigned int flags = 0;

	if (!virtio_dev_running(&net->vdev))
		return 0;
	if (negotiated(net, VIRTIO_NET_F_GUEST_CSUM))
		flags |= TUN_F_CSUM;
	if (negotiated(net, VIRTIO_NET_F_GUEST_TSO4))
		flags |= TUN_F_TSO4;
	if (negotiated(net, VIRTIO_NET_F_GUEST_TSO6))
		flags |= TUN_F_TSO6;
	if (negotiated(net, VIRTIO_NET_F_GUEST_ECN))
		flags |= TUN_F_TSO_ECN;
	return flags;
}

/* Buffers were posted, or the device started or was reset. */
static void on_rx_kick(void *opaque, uint32_t events)
{
	struct virtio_net *net = opaque;

	(void)events;
	virtio_kick_drain(net->vdev.kick_fds[RXQ]);
	pthread_mutex_lock(&net->vdev.lock);
	if (net->offloads_changed && net->tap->offloads &&
	    tap_set_offloads(net->tap, tap_offloads(net)) < 0)
		warn_once(net, "cannot set the tap's offloads", errno);
	net->offloads_changed = false;
	poll_tap(net, virtio_dev_running(&net->vdev) &&
		 net->vdev.vqs[RXQ].ready);
	pthread_mutex_unlock(&net->vdev.lock);
}

static void send_one(struct virtio_net *net, const struct virtq_chain *c)
{
	struct iovec body[VIRTQ_MAX_SEGS];
	const struct iovec *iov = c->iov;
	int n = (int)c->nout;

	if (c->out_len < TAP_VNET_HDR_LEN)
		return;
	if (!net->tap->vnet_hdr) {
		n = iov_slice(c->iov, c->nout, TAP_VNET_HDR_LEN,
			      c->out_len - TAP_VNET_HDR_LEN, body,
			      VIRTQ_MAX_SEGS);
		iov = body;
	}
	/* A full tap queue or a frame the kernel refuses (bad offload
	 * header) drops the frame, as on a real wire. */
	if (n > 0 && writev(net->tap->fd, iov, n) < 0 && errno != EAGAIN)
		warn_once(net, "tap write", errno);
}

static void on_tx_kick(void *opaque, uint32_t events)
{
	struct virtio_net *net = opaque;
	struct virtio_dev *vdev = &net->vdev;
	struct virtq *vq = &vdev->vqs[TXQ];
	int i, r = 0;

	(void)events;
	virtio_kick_drain(vdev->kick_fds[TXQ]);
	pthread_mutex_lock(&vdev->lock);
	for (i = 0; i < NET_BATCH && virtio_dev_running(vdev) &&
		    (r = virtq_pop(vq, &net->chain)) > 0; i++) {
		send_one(net, &net->chain);
		virtq_push(vq, net->chain.head, 0);
	}
	if (r < 0)
		virtio_dev_set_needs_reset(vdev);
	if (i)
		virtio_queue_notify_driver(vdev, TXQ);
	/* More to send: come back after the other events. */
	if (i == NET_BATCH)
		(void)eventfd_write(vdev->kick_fds[TXQ], 1);
	pthread_mutex_unlock(&vdev->lock);
}

/* Both from a vCPU thread: the rx kick handler does the work. */
static void net_driver_ok(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;

	net->offloads_changed = true;
}

static void net_reset(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;

	net->offloads_changed = true;
	(void)eventfd_write(vdev->kick_fds[RXQ], 1);
}

static void net_free(struct virtio_dev *vdev)
{
	struct virtio_net *net = vdev->priv;

	event_loop_remove(net->loop, net->tap->fd);
	event_loop_remove(net->loop, vdev->kick_fds[RXQ]);
	event_loop_remove(net->loop, vdev->kick_fds[TXQ]);
	if (net->tap->offloads)
		(void)tap_set_offloads(net->tap, 0);
	virtio_dev_cleanup(vdev);
	free(net);
}

static const struct virtio_dev_ops net_ops = {
	.driver_ok = net_driver_ok,
	.reset = net_reset,
	.free = net_free,
};

static uint64_t net_features(const struct tap *tap)
{
	uint64_t f = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
		     BIT(VIRTIO_NET_F_MRG_RXBUF);

	/* The tap takes our offloaded frames as they are... */
	if (tap->vnet_hdr)
		f |= BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4) |
		     BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_HOST_ECN);
	/* ...and hands over such frames once told the guest takes them. */
	if (tap->offloads)
		f |= BIT(VIRTIO_NET_F_GUEST_CSUM) |
		     BIT(VIRTIO_NET_F_GUEST_TSO4) |
		     BIT(VIRTIO_NET_F_GUEST_TSO6) | BIT(VIRTIO_NET_F_GUEST_ECN);
	return f;
}

struct virtio_dev *virtio_net_new(const struct virtio_host *host,
				  const char *name, struct tap *tap,
				  const uint8_t mac[6])
{
	struct virtio_net *net = calloc(1, sizeof(*net));

	if (!net)
		return NULL;
	if (virtio_dev_init(&net->vdev, name, VIRTIO_ID_NET,
			    net_features(tap), 2, NET_QUEUE_SIZE,
			    host->mem) < 0) {
		free(net);
		return NULL;
	}
	net->vdev.ops = &net_ops;
	net->vdev.priv = net;
	net->tap = tap;
	net->loop = host->loop;
	memcpy(net->config.mac, mac, sizeof(net->config.mac));
	net->config.status = VIRTIO_NET_S_LINK_UP;
	net->vdev.config = (uint8_t *)&net->config;
	/* Up to status: we offer neither MQ nor MTU. */
	net->vdev.config_len = offsetof(struct virtio_net_config,
					max_virtqueue_pairs);
	if (event_loop_add(host->loop, tap->fd, 0, on_tap, net) < 0 ||
	    event_loop_add(host->loop, net->vdev.kick_fds[RXQ], EPOLLIN,
			   on_rx_kick, net) < 0 ||
	    event_loop_add(host->loop, net->vdev.kick_fds[TXQ], EPOLLIN,
			   on_tx_kick, net) < 0) {
		net_free(&net->vdev);
		return NULL;
	}
	return &net->vdev;
}
