// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-rng (virtio 1.x section 5.4): fills the buffers the driver posts. */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/random.h>

#include "core/util.h"
#include "virtio/devices.h"

#define RNG_QUEUE_SIZE 64
/* Bounds the time one request holds the main loop. */
#define RNG_MAX_PER_REQUEST KIB(64)

struct virtio_rng {
	struct virtio_dev vdev;
	struct event_loop *loop;
	struct virtq_chain chain;
};

static uint32_t fill_random(const struct virtq_chain *chain)
{
	uint32_t written = 0;

	for (uint32_t i = chain->nout; i < chain->nout + chain->nin; i++) {
		size_t len = MIN(chain->iov[i].iov_len,
				 RNG_MAX_PER_REQUEST - written);
		ssize_t n = getrandom(chain->iov[i].iov_base, len, 0);

		if (n <= 0)
			break;
		written += (uint32_t)n;
		if ((size_t)n < len || written == RNG_MAX_PER_REQUEST)
			break;
	}
	return written;
}

static void rng_kick(void *opaque, uint32_t events)
{
	struct virtio_rng *rng = opaque;
	struct virtio_dev *vdev = &rng->vdev;
	struct virtq *vq = &vdev->vqs[0];
	bool pushed = false;
	int r;

	(void)events;
	virtio_kick_drain(vdev->kick_fds[0]);
	pthread_mutex_lock(&vdev->lock);
	while (virtio_dev_running(vdev) &&
	       (r = virtq_pop(vq, &rng->chain)) != 0) {
		if (r < 0) {
			virtio_dev_set_needs_reset(vdev);
			break;
		}
		virtq_push(vq, rng->chain.head, fill_random(&rng->chain));
		pushed = true;
	}
	if (pushed)
		virtio_queue_notify_driver(vdev, 0);
	pthread_mutex_unlock(&vdev->lock);
}

static void rng_free(struct virtio_dev *vdev)
{
	struct virtio_rng *rng = vdev->priv;

	event_loop_remove(rng->loop, vdev->kick_fds[0]);
	virtio_dev_cleanup(vdev);
	free(rng);
}

static const struct virtio_dev_ops rng_ops = {
	.free = rng_free,
};

struct virtio_dev *virtio_rng_new(const struct virtio_host *host,
				  const char *name)
{
	struct virtio_rng *rng = calloc(1, sizeof(*rng));

	if (!rng)
		return NULL;
	if (virtio_dev_init(&rng->vdev, name, VIRTIO_ID_RNG, 0, 1,
			    RNG_QUEUE_SIZE, host->mem) < 0) {
		free(rng);
		return NULL;
	}
	rng->vdev.ops = &rng_ops;
	rng->vdev.priv = rng;
	rng->loop = host->loop;
	if (event_loop_add(host->loop, rng->vdev.kick_fds[0], EPOLLIN,
			   rng_kick, rng) < 0) {
		virtio_dev_cleanup(&rng->vdev);
		free(rng);
		return NULL;
	}
	return &rng->vdev;
}
