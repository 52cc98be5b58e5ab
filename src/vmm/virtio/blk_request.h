/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk requests (virtio 1.x section 5.2.6): parsed from a descriptor
 * chain, checked against the disk, then run on a block backend. Kept apart
 * from the device so the parser can be unit tested and fuzzed.
 */
#ifndef DUVISOR_VIRTIO_BLK_REQUEST_H
#define DUVISOR_VIRTIO_BLK_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "block/backend.h"
#include "virtio/queue.h"

#define BLK_SECTOR_SIZE 512
#define BLK_SEG_MAX 254
/* One discard or write-zeroes range per request, at most this long. */
#define BLK_MAX_DISCARD_SECTORS (UINT32_MAX / BLK_SECTOR_SIZE)

struct blk_request {
	uint32_t type;               /* VIRTIO_BLK_T_* */
	uint8_t status;              /* VIRTIO_BLK_S_*, when already known */
	bool ready;                  /* valid: run it */
	uint64_t offset;             /* bytes */
	uint64_t len;                /* bytes of data or of the range */
	bool unmap;                  /* write zeroes may deallocate */
	uint32_t ndata;
	struct iovec data[VIRTQ_MAX_SEGS];
	uint8_t *status_byte;        /* NULL: no room to answer, drop it */
	uint32_t written;            /* bytes written into the chain */
};

/*
 * Parses chain for a disk described by backend (only its size and flags
 * are used). Sets status_byte when the chain has room for an answer, and
 * either ready or a final status.
 */
void blk_request_parse(const struct virtq_chain *chain,
		       const struct blk_backend *backend,
		       const char serial[20], struct blk_request *req);

/* Runs a ready request and stores its status; returns bytes written into
 * the chain (status byte included). */
uint32_t blk_request_run(struct blk_backend *backend, struct blk_request *req);

/*
 * What the guest asked of one disk since the VMM started (a guest reboot
 * does not reset it): completed reads, writes and flushes with their bytes
 * and time from pickup to completion, and requests that failed (answered
 * VIRTIO_BLK_S_IOERR, which counts in no other field). Only the disk's I/O
 * thread adds, without a lock; readers see each field whole, but fields
 * may be one request apart.
 */
struct blk_stats {
	uint64_t rd_reqs, rd_bytes, rd_ns;
	uint64_t wr_reqs, wr_bytes, wr_ns;
	uint64_t fl_reqs, fl_ns;
	uint64_t errors;
};

/* Counts req, answered after ns; discards, write-zeroes and IDs count
 * only when they fail. */
void blk_stats_account(struct blk_stats *stats, const struct blk_request *req,
		       uint64_t ns);
/* A copy of stats safe to take from any thread. */
void blk_stats_read(const struct blk_stats *stats, struct blk_stats *out);

#endif
