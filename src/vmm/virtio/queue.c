// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device side of split virtqueues (virtio 1.x, section 2.7).
 *
 * The rings live in guest RAM, which the guest may change under our feet:
 * each field is read exactly once (volatile) into a local before it is
 * checked, so a check cannot be bypassed by a second read.
 */
#include "virtio/queue.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "core/util.h"

#define DESC_SIZE sizeof(struct vring_desc)

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

static bool aligned(uint64_t v, uint64_t a)
{
	return (v & (a - 1)) == 0;
}

int virtq_enable(struct virtq *vq, const struct guest_mem *mem,
		 uint64_t features)
{
	uint64_t n = vq->size;

	if (!n || n > VIRTQ_MAX_SIZE || !aligned(vq->desc_gpa, 16) ||
	    !aligned(vq->avail_gpa, 2) || !aligned(vq->used_gpa, 4))
		return -EINVAL;
	/* Both rings end with the other side's event index (EVENT_IDX). */
	vq->desc = guest_mem_ptr(mem, vq->desc_gpa, n * DESC_SIZE);
	vq->avail = guest_mem_ptr(mem, vq->avail_gpa,
				  sizeof(struct vring_avail) + 2 * (n + 1));
	vq->used = guest_mem_ptr(mem, vq->used_gpa,
				 sizeof(struct vring_used) +
				 sizeof(struct vring_used_elem) * n + 2);
	if (!vq->desc || !vq->avail || !vq->used) {
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		return -EINVAL;
	}
	vq->mem = mem;
	vq->event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->broken = false;
	vq->ready = true;
	return 0;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

static void read_desc(const volatile struct vring_desc *table, uint32_t i,
		      struct desc *d)
{
	d->addr = table[i].addr;
	d->len = table[i].len;
	d->flags = table[i].flags;
	d->next = table[i].next;
}

static int add_buffer(const struct virtq *vq, struct virtq_chain *chain,
		      const struct desc *d)
{
	uint32_t nseg = chain->nout + chain->nin;
	void *p;

	if (!d->len)
		return 0;
	if (nseg >= VIRTQ_MAX_SEGS)
		return -EIO;
	p = guest_mem_ptr(vq->mem, d->addr, d->len);
	if (!p)
		return -EIO;
	chain->iov[nseg] = (struct iovec){ .iov_base = p, .iov_len = d->len };
	if (d->flags & VRING_DESC_F_WRITE) {
		chain->nin++;
		chain->in_len += d->len;
	} else {
		/* Readable buffers must all come before writable ones. */
		if (chain->nin)
			return -EIO;
		chain->nout++;
		chain->out_len += d->len;
	}
	return 0;
}

/*
 * Counting the descriptors visited in each table bounds the walk: a chain
 * longer than its table must contain a loop.
 */
static int walk_chain(const struct virtq *vq, uint16_t head,
		      struct virtq_chain *chain)
{
	const volatile struct vring_desc *table = vq->desc;
	uint32_t table_size = vq->size, i = head, seen = 0;
	bool in_indirect = false;
	struct desc d;
	int r;

	chain->head = head;
	chain->nout = chain->nin = 0;
	chain->out_len = chain->in_len = 0;
	for (;;) {
		if (++seen > table_size)
			return -EIO;
		read_desc(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect || in_indirect ||
			    (d.flags & VRING_DESC_F_NEXT) || !d.len ||
			    d.len % DESC_SIZE || !aligned(d.addr, 16) ||
			    d.len / DESC_SIZE > VIRTQ_MAX_SEGS)
				return -EIO;
			table = guest_mem_ptr(vq->mem, d.addr, d.len);
			if (!table)
				return -EIO;
			table_size = d.len / DESC_SIZE;
			in_indirect = true;
			i = 0;
			seen = 0;
			continue;
		}
		r = add_buffer(vq, chain, &d);
		if (r < 0)
			return r;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= table_size)
			return -EIO;
	}
}

/* Tells the driver not to kick before it makes entry last_avail available;
 * returns whether it already did. */
static bool rearm_kick(struct virtq *vq)
{
	volatile uint16_t *avail_event =
		(volatile uint16_t *)&vq->used->ring[vq->size];

	*avail_event = vq->last_avail;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq->avail->idx != vq->last_avail;
}

int virtq_pop(struct virtq *vq, struct virtq_chain *chain)
{
	uint16_t avail_idx, head;

	if (!vq->ready)
		return 0;
	if (vq->broken)
		return -EIO;
	avail_idx = vq->avail->idx;
	if (avail_idx == vq->last_avail) {
		if (!vq->event_idx || !rearm_kick(vq))
			return 0;
		avail_idx = vq->avail->idx;
	}
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		goto broken;
	/* The entries were written before the index that published them. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = vq->avail->ring[vq->last_avail % vq->size];
	if (head >= vq->size || walk_chain(vq, head, chain) < 0)
		goto broken;
	vq->last_avail++;
	return 1;
broken:
	vq->broken = true;
	return -EIO;
}

void virtq_unpop(struct virtq *vq, uint16_t n)
{
	vq->last_avail -= n;
}

void virtq_fill(struct virtq *vq, uint16_t head, uint32_t written)
{
	volatile struct vring_used_elem *e;

	if (!vq->ready || vq->broken)
		return;
	e = &vq->used->ring[vq->used_idx % vq->size];
	e->id = head;
	e->len = written;
	vq->used_idx++;
}

void virtq_flush(struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return;
	/* The elements must be visible before the index that publishes
	 * them. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->used->idx = vq->used_idx;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
	virtq_fill(vq, head, written);
	virtq_flush(vq);
}

bool virtq_should_interrupt(struct virtq *vq)
{
	uint16_t used_event, old = vq->signalled_used;

	if (!vq->ready)
		return false;
	/* Our used->idx store must be ordered before reading the driver's
	 * wishes, or both sides could miss each other. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(vq->avail->flags & VRING_AVAIL_F_NO_INTERRUPT);
	used_event = vq->avail->ring[vq->size];
	vq->signalled_used = vq->used_idx;
	return (uint16_t)(vq->used_idx - used_event - 1) <
	       (uint16_t)(vq->used_idx - old);
}

/* Copies between the chain's buffers, from byte @off on, and @buf. */
static size_t iov_copy(const struct iovec *iov, uint32_t n, uint64_t off,
		       uint8_t *buf, size_t len, bool to_iov)
{
	size_t done = 0;

	for (uint32_t i = 0; i < n && done < len; i++) {
		uint8_t *base = (uint8_t *)iov[i].iov_base;
		size_t chunk;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		chunk = MIN(iov[i].iov_len - off, len - done);
		if (to_iov)
			memcpy(base + off, buf + done, chunk);
		else
			memcpy(buf + done, base + off, chunk);
		done += chunk;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, uint32_t n, uint64_t off,
		  void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, uint32_t n, uint64_t off,
		    const void *buf, size_t len)
{
	/* Only read from: iov_copy writes to @buf only when !to_iov. */
	return iov_copy(iov, n, off, (uint8_t *)(uintptr_t)buf, len, true);
}

int iov_slice(const struct iovec *iov, uint32_t n, uint64_t off, uint64_t len,
	      struct iovec *dst, uint32_t max)
{
	uint32_t used = 0;

	for (uint32_t i = 0; i < n && len; i++) {
		uint64_t chunk;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		if (used == max)
			return -E2BIG;
		chunk = MIN(iov[i].iov_len - off, len);
		dst[used++] = (struct iovec){
			.iov_base = (uint8_t *)iov[i].iov_base + off,
			.iov_len = chunk,
		};
		len -= chunk;
		off = 0;
	}
	return len ? -EINVAL : (int)used;
}
