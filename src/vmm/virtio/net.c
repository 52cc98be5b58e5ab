// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-net (virtio 1.x section 5.1) on a tap, worked on the main loop.
 *
 * Frames move between guest buffers and the tap with readv()/writev()
 * straight on guest memory: the tap speaks the same 12-byte header as the
 * guest, so frames are not copied. To receive, buffers with room for the
 * largest frame the guest accepts are taken from the ring first (several
 * chains with mergeable rx buffers); those a frame does not need wait in
 * the stash for the next one. With too few buffers posted the tap is not
 * polled until the guest kicks rx.
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
#include "virtio/net_frame.h"

#define NET_QUEUE_SIZE 256
#define RXQ 0
#define TXQ 1
/* Frames handled per wake-up before the other direction gets a turn. */
#define NET_BATCH 64
#define BIT(n) (1ull << (n))

_Static_assert(TAP_VNET_HDR_LEN == NET_HDR_LEN, "one header on both sides");

struct virtio_net {
	struct virtio_dev vdev;
	struct tap *tap;
	struct event_loop *loop;
	struct virtio_net_config config;
	bool polling_tap;
	bool warned;
	/* Set from vCPU threads, applied on the main loop (the sandbox keeps
	 * tap ioctls and epoll changes off vCPU threads). */
	bool offloads_changed;
	struct virtq_chain chain;
	/* A frame to send, or the body of one to receive without the tap's
	 * header. */
	struct iovec iov[VIRTQ_MAX_SEGS];
	uint8_t tx_hdr[NET_HDR_LEN];
	uint32_t rx_lens[VIRTQ_MAX_SIZE];
	struct net_rx_stash rx;
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

/*
 * Tops the stash up until the largest frame fits (the peer may send frames
 * up to 64 KiB even to a guest without segmentation offloads: its MTU is
 * its own business). Returns whether a frame may be received now. The pop
 * that finds the ring empty asks the driver to kick when it posts more.
 */
static bool fill_rx_stash(struct virtio_net *net)
{
	const uint64_t need = NET_HDR_LEN + NET_MAX_GSO_FRAME;
	struct virtq *vq = &net->vdev.vqs[RXQ];
	struct net_rx_stash *s = &net->rx;
	bool mergeable = negotiated(net, VIRTIO_NET_F_MRG_RXBUF);
	int r;

	/* Without mergeable buffers a frame must fit in one chain. */
	while (s->nbufs < vq->size &&
	       (mergeable ? s->room < need : !s->nbufs)) {
		r = virtq_pop(vq, &net->chain);
		if (r < 0)
			virtio_dev_set_needs_reset(&net->vdev);
		if (r <= 0)
			break;
		if (!net_rx_stash_add(s, &net->chain))
			virtq_push(vq, net->chain.head, 0);
	}
	/* A guest whose whole ring holds less gets what fits. */
	return s->room >= need ||
	       (s->nbufs && (!mergeable || s->nbufs == vq->size));
}

static ssize_t read_frame(struct virtio_net *net)
{
	static const uint8_t no_offloads[NET_HDR_LEN];
	struct net_rx_stash *s = &net->rx;
	ssize_t n;
	int nbody;

	if (net->tap->vnet_hdr)
		return readv(net->tap->fd, s->iov, (int)s->niov);
	/* Without the tap's header, say "no offloads" ourselves. */
	nbody = iov_slice(s->iov, s->niov, NET_HDR_LEN, s->room - NET_HDR_LEN,
			  net->iov, VIRTQ_MAX_SEGS);
	if (nbody < 0) {
		errno = -nbody;
		return -1;
	}
	n = readv(net->tap->fd, net->iov, nbody);
	if (n < 0)
		return n;
	iov_from_buf(s->iov, s->niov, 0, no_offloads, sizeof(no_offloads));
	return n + NET_HDR_LEN;
}

/* The buffers of one frame become visible to the driver at once. */
static void deliver_frame(struct virtio_net *net, uint64_t len)
{
	struct virtq *vq = &net->vdev.vqs[RXQ];
	uint32_t n = net_rx_frame_done(&net->rx, len, net->rx_lens);

	for (uint32_t i = 0; i < n; i++)
		virtq_fill(vq, net->rx.bufs[i].head, net->rx_lens[i]);
	virtq_flush(vq);
	net_rx_stash_drop(&net->rx, n);
}

static void on_tap(void *opaque, uint32_t events)
{
	struct virtio_net *net = opaque;
	struct virtio_dev *vdev = &net->vdev;
	int delivered = 0;
	ssize_t n;

	(void)events;
	pthread_mutex_lock(&vdev->lock);
	while (delivered < NET_BATCH) {
		if (!virtio_dev_running(vdev) || !vdev->vqs[RXQ].ready ||
		    !fill_rx_stash(net)) {
			poll_tap(net, false);
			break;
		}
		n = read_frame(net);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			/* A detached tap would wake us for ever. */
			warn_once(net, "tap read", errno);
			poll_tap(net, false);
		}
		if (n <= 0)
			break;
		deliver_frame(net, (uint64_t)n);
		delivered++;
	}
	if (delivered)
		virtio_queue_notify_driver(vdev, RXQ);
	pthread_mutex_unlock(&vdev->lock);
}

static unsigned int tap_offloads(const struct virtio_net *net)
{
	unsigned int flags = TUN_F_CSUM;

	/* The tap takes segmentation only on top of checksum offload. */
	if (!virtio_dev_running(&net->vdev) ||
	    !negotiated(net, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	if (negotiated(net, VIRTIO_NET_F_GUEST_TSO4))
		flags |= TUN_F_TSO4;
	if (negotiated(net, VIRTIO_NET_F_GUEST_TSO6))
		flags |= TUN_F_TSO6;
	if ((flags & (TUN_F_TSO4 | TUN_F_TSO6)) &&
	    negotiated(net, VIRTIO_NET_F_GUEST_ECN))
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

static void send_frame(struct virtio_net *net)
{
	int n = net_tx_prepare(&net->chain, net->vdev.driver_features,
			       net->tap->vnet_hdr, net->tx_hdr, net->iov,
			       VIRTQ_MAX_SEGS);

	if (n < 0) {
		warn_once(net, "dropped a frame the guest sent", -n);
		return;
	}
	/* A full tap queue or a frame the kernel refuses drops the frame,
	 * as on a real wire. */
	if (writev(net->tap->fd, net->iov, n) < 0 && errno != EAGAIN)
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
		send_frame(net);
		virtq_fill(vq, net->chain.head, 0);
	}
	if (r < 0)
		virtio_dev_set_needs_reset(vdev);
	if (i) {
		virtq_flush(vq);
		virtio_queue_notify_driver(vdev, TXQ);
	}
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

	/* The stashed buffers belong to rings the driver takes back. */
	net_rx_stash_drop(&net->rx, net->rx.nbufs);
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
