// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsing and running virtio-blk requests. */
#include "virtio/blk_request.h"

#include <errno.h>
#include <linux/virtio_blk.h>
#include <string.h>

#include "core/util.h"

/* The guest is little endian like us (x86-64): fields are used as read. */
struct blk_header {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_range {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};

/* What the parsers return for a request that must run to know its status. */
#define REQ_READY 0xff

/* [sector, + len bytes) must lie on the disk, in whole sectors. */
static bool range_ok(const struct blk_backend *b, uint64_t sector,
		     uint64_t len, uint64_t *offset)
{
	if (len % BLK_SECTOR_SIZE || sector > b->size / BLK_SECTOR_SIZE)
		return false;
	*offset = sector * BLK_SECTOR_SIZE;
	return len <= b->size - *offset;
}

static uint8_t parse_rw(const struct virtq_chain *chain,
		     const struct blk_backend *b, uint64_t sector,
		     struct blk_request *req)
{
	bool write = req->type == VIRTIO_BLK_T_OUT;
	int n;

	if (write && b->readonly)
		return VIRTIO_BLK_S_IOERR;
	/* Reads fill the writable part before the status byte; writes take
	 * the readable part after the header. */
	if (write) {
		req->len = chain->out_len - sizeof(struct blk_header);
		n = iov_slice(chain->iov, chain->nout,
			      sizeof(struct blk_header), req->len, req->data,
			      VIRTQ_MAX_SEGS);
	} else {
		req->len = chain->in_len - 1;
		n = iov_slice(chain->iov + chain->nout, chain->nin, 0,
			      req->len, req->data, VIRTQ_MAX_SEGS);
	}
	if (n < 0 || req->len >= UINT32_MAX ||
	    !range_ok(b, sector, req->len, &req->offset))
		return VIRTIO_BLK_S_IOERR;
	req->ndata = (uint32_t)n;
	return REQ_READY;
}

static uint8_t parse_range(const struct virtq_chain *chain,
			const struct blk_backend *b, struct blk_request *req)
{
	bool zeroes = req->type == VIRTIO_BLK_T_WRITE_ZEROES;
	struct blk_range range;

	if (!(zeroes ? b->can_write_zeroes : b->can_discard))
		return VIRTIO_BLK_S_UNSUPP;
	/* We offer one range per request (max_*_seg = 1). */
	if (chain->out_len != sizeof(struct blk_header) + sizeof(range))
		return VIRTIO_BLK_S_UNSUPP;
	iov_to_buf(chain->iov, chain->nout, sizeof(struct blk_header), &range,
		   sizeof(range));
	if (range.flags & ~(uint32_t)VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ||
	    (!zeroes && range.flags))
		return VIRTIO_BLK_S_UNSUPP;
	req->len = (uint64_t)range.num_sectors * BLK_SECTOR_SIZE;
	if (!range_ok(b, range.sector, req->len, &req->offset))
		return VIRTIO_BLK_S_IOERR;
	req->unmap = range.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	return REQ_READY;
}

static uint8_t get_id(const struct virtq_chain *chain, const char serial[20],
		   struct blk_request *req)
{
	uint64_t room = MIN(chain->in_len - 1, VIRTIO_BLK_ID_BYTES);

	req->written = (uint32_t)iov_from_buf(chain->iov + chain->nout,
					      chain->nin, 0, serial, room);
	return VIRTIO_BLK_S_OK;
}

static uint8_t parse(const struct virtq_chain *chain,
		     const struct blk_backend *backend, const char serial[20],
		     struct blk_request *req)
{
	struct blk_header hdr;

	if (chain->out_len < sizeof(hdr)) {
		req->type = UINT32_MAX;
		return VIRTIO_BLK_S_IOERR;
	}
	iov_to_buf(chain->iov, chain->nout, 0, &hdr, sizeof(hdr));
	req->type = hdr.type;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return parse_rw(chain, backend, hdr.sector, req);
	case VIRTIO_BLK_T_FLUSH:
		return REQ_READY;
	case VIRTIO_BLK_T_GET_ID:
		return get_id(chain, serial, req);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_range(chain, backend, req);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

void blk_request_parse(const struct virtq_chain *chain,
		       const struct blk_backend *backend,
		       const char serial[20], struct blk_request *req)
{
	const struct iovec *last;
	uint8_t status;

	req->ready = false;
	req->written = 0;
	req->ndata = 0;
	req->len = 0;
	req->unmap = false;
	req->status_byte = NULL;
	/* The status is the last byte the device may write. */
	if (!chain->nin)
		return;
	last = &chain->iov[chain->nout + chain->nin - 1];
	req->status_byte = (uint8_t *)last->iov_base + last->iov_len - 1;
	status = parse(chain, backend, serial, req);
	req->ready = status == REQ_READY;
	req->status = req->ready ? VIRTIO_BLK_S_IOERR : status;
}

static uint8_t status_of(int err)
{
	if (!err)
		return VIRTIO_BLK_S_OK;
	return err == -EOPNOTSUPP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

uint32_t blk_request_run(struct blk_backend *b, struct blk_request *req)
{
	int err = 0;

	if (req->ready) {
		switch (req->type) {
		case VIRTIO_BLK_T_IN:
			err = b->ops->readv(b, req->data, (int)req->ndata,
					    req->offset);
			if (!err)
				req->written = (uint32_t)req->len;
			break;
		case VIRTIO_BLK_T_OUT:
			err = b->ops->writev(b, req->data, (int)req->ndata,
					     req->offset);
			break;
		case VIRTIO_BLK_T_FLUSH:
			err = b->ops->flush(b);
			break;
		case VIRTIO_BLK_T_DISCARD:
			err = b->ops->discard(b, req->offset, req->len);
			break;
		case VIRTIO_BLK_T_WRITE_ZEROES:
			err = b->ops->write_zeroes(b, req->offset, req->len,
						   req->unmap);
			break;
		}
		req->status = status_of(err);
	}
	if (!req->status_byte)
		return 0;
	*req->status_byte = req->status;
	return req->written + 1;
}

static void add(uint64_t *counter, uint64_t v)
{
	/* One writer: a relaxed load and store is enough, and no bus lock. */
	__atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + v,
			 __ATOMIC_RELAXED);
}

void blk_stats_account(struct blk_stats *st, const struct blk_request *req,
		       uint64_t ns)
{
	/* A chain without room for a status is dropped: a failure too. */
	if (!req->status_byte || req->status == VIRTIO_BLK_S_IOERR) {
		add(&st->errors, 1);
		return;
	}
	if (req->status != VIRTIO_BLK_S_OK)
		return;
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
		add(&st->rd_reqs, 1);
		add(&st->rd_bytes, req->len);
		add(&st->rd_ns, ns);
		break;
	case VIRTIO_BLK_T_OUT:
		add(&st->wr_reqs, 1);
		add(&st->wr_bytes, req->len);
		add(&st->wr_ns, ns);
		break;
	case VIRTIO_BLK_T_FLUSH:
		add(&st->fl_reqs, 1);
		add(&st->fl_ns, ns);
		break;
	}
}

_Static_assert(sizeof(struct blk_stats) % sizeof(uint64_t) == 0,
	       "struct blk_stats holds only counters");

void blk_stats_read(const struct blk_stats *st, struct blk_stats *out)
{
	const uint64_t *from = (const uint64_t *)st;
	uint64_t *to = (uint64_t *)out;

	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}
