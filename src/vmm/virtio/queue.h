/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Split virtqueues, seen from the device side. Everything in the rings comes
 * from the guest and is untrusted: ring addresses are checked once when the
 * queue is enabled, and every descriptor is checked against guest RAM as it
 * is walked. A malformed ring or chain marks the queue broken; the device
 * then stops using it and asks the driver for a reset.
 */
#ifndef DUVISOR_VIRTIO_QUEUE_H
#define DUVISOR_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/guest_mem.h"

/* The largest queue a device offers (QueueNumMax). */
#define VIRTQ_MAX_SIZE 1024
/* The most buffers one chain may have, indirect ones included. */
#define VIRTQ_MAX_SEGS 1024

struct vring_desc;
struct vring_avail;
struct vring_used;

struct virtq {
	/* Written by the driver through the transport while not ready. */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool ready;

	/* Valid once virtq_enable() succeeded. */
	const struct guest_mem *mem;
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	bool event_idx;           /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;            /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint16_t last_avail;      /* next available entry to take */
	uint16_t used_idx;        /* our copy of used->idx */
	uint16_t signalled_used;  /* used_idx when the driver was last told */
	bool broken;
};

/*
 * One descriptor chain: the device-readable buffers come first,
 * iov[0..nout), then the device-writable ones, iov[nout..nout + nin).
 * Every iov_base points into guest RAM and was checked against it.
 */
struct virtq_chain {
	uint16_t head;
	uint32_t nout, nin;
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_SEGS];
};

/*
 * Checks the ring addresses the driver wrote and maps them. features are
 * the negotiated ones. Returns 0 or -EINVAL (the queue stays disabled).
 */
int virtq_enable(struct virtq *vq, const struct guest_mem *mem,
		 uint64_t features);
/* Forgets everything, as after a device reset. */
void virtq_reset(struct virtq *vq);

/*
 * Takes the next available chain. Returns 1 with *chain filled, 0 when the
 * driver has made nothing new available, or -EIO when the ring or the
 * chain is malformed: the queue is then broken for good (until reset).
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *chain);

/* Gives back the last n chains popped, unused: the next pops return them
 * again (read afresh from the ring). */
void virtq_unpop(struct virtq *vq, uint16_t n);

/* Returns a chain to the driver, `written` bytes of it written by us. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t written);
/*
 * The same in two steps: chains filled in are returned together by the
 * next flush. The driver may be reading the used ring at any time, so
 * what belongs together (a frame spread over several buffers) must not
 * become visible piecemeal.
 */
void virtq_fill(struct virtq *vq, uint16_t head, uint32_t written);
void virtq_flush(struct virtq *vq);

/* Whether the driver wants an interrupt for what was pushed since the
 * last time this returned true. */
bool virtq_should_interrupt(struct virtq *vq);

/* Copies between a flat buffer and iov, from byte offset off on; they
 * return how many bytes were copied (less when iov is shorter). */
size_t iov_to_buf(const struct iovec *iov, uint32_t n, uint64_t off,
		  void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, uint32_t n, uint64_t off,
		    const void *buf, size_t len);
/*
 * Fills dst with the bytes [off, off + len) of iov; returns how many
 * entries it used, or -E2BIG when dst has fewer than max entries' room,
 * or -EINVAL when iov is shorter than off + len.
 */
int iov_slice(const struct iovec *iov, uint32_t n, uint64_t off, uint64_t len,
	      struct iovec *dst, uint32_t max);

#endif
