// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-blk (virtio 1.x section 5.2): one request queue served by the
 * disk's own I/O thread, so slow storage never holds up the main loop or
 * the vCPUs. The lock is dropped while the backend works; a reset during
 * that time makes the request's completion vanish (see `generation`).
 */
#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "block/backend.h"
#include "core/util.h"
#include "virtio/blk_request.h"
#include "virtio/devices.h"

#define BLK_QUEUE_SIZE 256

struct virtio_blk {
	struct virtio_dev vdev;
	struct blk_backend *backend;
	char serial[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	int stop_fd;
	pthread_t thread;
	bool thread_started;
	struct virtq_chain chain;
	struct blk_request req;
	struct blk_stats *stats;      /* the VMM's: they outlive the device */
};

/* Serves requests until the queue is empty or broken. */
static void serve_queue(struct virtio_blk *blk)
{
	struct virtio_dev *vdev = &blk->vdev;
	struct virtq *vq = &vdev->vqs[0];
	uint64_t generation, picked_up = 0;
	uint32_t written;
	int r;

	for (;;) {
		pthread_mutex_lock(&vdev->lock);
		r = virtio_dev_running(vdev) ? virtq_pop(vq, &blk->chain) : 0;
		if (r < 0)
			virtio_dev_set_needs_reset(vdev);
		generation = vdev->generation;
		if (r > 0) {
			picked_up = now_ns_monotonic();
			blk_request_parse(&blk->chain, blk->backend,
					  blk->serial, &blk->req);
		}
		pthread_mutex_unlock(&vdev->lock);
		if (r <= 0)
			return;

		written = blk_request_run(blk->backend, &blk->req);
		blk_stats_account(blk->stats, &blk->req,
				  now_ns_monotonic() - picked_up);

		pthread_mutex_lock(&vdev->lock);
		if (generation == vdev->generation) {
			virtq_push(vq, blk->chain.head, written);
			virtio_queue_notify_driver(vdev, 0);
		}
		pthread_mutex_unlock(&vdev->lock);
	}
}

static void *io_thread(void *opaque)
{
	struct virtio_blk *blk = opaque;
	struct pollfd fds[2] = {
		{ .fd = blk->vdev.kick_fds[0], .events = POLLIN },
		{ .fd = blk->stop_fd, .events = POLLIN },
	};

	for (;;) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (fds[0].revents) {
			virtio_kick_drain(fds[0].fd);
			serve_queue(blk);
		}
	}
	return NULL;
}

static void blk_free(struct virtio_dev *vdev)
{
	struct virtio_blk *blk = vdev->priv;

	if (blk->thread_started) {
		(void)eventfd_write(blk->stop_fd, 1);
		pthread_join(blk->thread, NULL);
	}
	if (blk->stop_fd >= 0)
		close(blk->stop_fd);
	virtio_dev_cleanup(vdev);
	free(blk);
}

static const struct virtio_dev_ops blk_ops = {
	.free = blk_free,
};

static uint64_t blk_features(const struct blk_backend *b)
{
	uint64_t f = (1ull << VIRTIO_BLK_F_SEG_MAX) |
		     (1ull << VIRTIO_BLK_F_BLK_SIZE) |
		     (1ull << VIRTIO_BLK_F_FLUSH);

	if (b->readonly)
		f |= 1ull << VIRTIO_BLK_F_RO;
	if (b->can_discard)
		f |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (b->can_write_zeroes)
		f |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	return f;
}

static void fill_config(struct virtio_blk *blk)
{
	struct virtio_blk_config *c = &blk->config;

	c->capacity = blk->backend->size / BLK_SECTOR_SIZE;
	c->seg_max = BLK_SEG_MAX;
	c->blk_size = BLK_SECTOR_SIZE;
	c->num_queues = 1;
	c->max_discard_sectors = BLK_MAX_DISCARD_SECTORS;
	c->max_discard_seg = 1;
	c->discard_sector_alignment = 1;
	c->max_write_zeroes_sectors = BLK_MAX_DISCARD_SECTORS;
	c->max_write_zeroes_seg = 1;
	c->write_zeroes_may_unmap = 1;
	blk->vdev.config = (uint8_t *)c;
	blk->vdev.config_len = sizeof(*c);
}

struct virtio_dev *virtio_blk_new(const struct virtio_host *host,
				  const char *name, struct blk_backend *backend,
				  const char *serial, struct blk_stats *stats)
{
	struct virtio_blk *blk = calloc(1, sizeof(*blk));
	int r;

	if (!blk)
		return NULL;
	blk->stop_fd = -1;
	r = virtio_dev_init(&blk->vdev, name, VIRTIO_ID_BLOCK,
			    blk_features(backend), 1, BLK_QUEUE_SIZE,
			    host->mem);
	if (r < 0) {
		free(blk);
		return NULL;
	}
	blk->vdev.ops = &blk_ops;
	blk->vdev.priv = blk;
	blk->backend = backend;
	blk->stats = stats;
	/* Exactly 20 bytes, NUL-padded but not necessarily terminated. */
	if (serial)
		memcpy(blk->serial, serial, strnlen(serial, sizeof(blk->serial)));
	fill_config(blk);
	blk->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (blk->stop_fd < 0 ||
	    vmm_thread_create(&blk->thread, io_thread, blk)) {
		blk_free(&blk->vdev);
		return NULL;
	}
	blk->thread_started = true;
	return &blk->vdev;
}
