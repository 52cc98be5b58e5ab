// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: virtio-blk request parsing and execution on an
 * in-memory disk that aborts on any access the parser should have refused.
 *
 * Input: [0] flags (1: read-only, 2: no discard/zeroes), [1] number of
 * buffers (mod 8) + 1, [2] writable-buffer mask, then per buffer a 16-bit
 * length (mod 4097) followed by the bytes of readable buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/blk_request.h"

#define DISK_SIZE (64 * 1024)
#define MAX_BUFS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t disk_bytes[DISK_SIZE];
static uint8_t bufs[MAX_BUFS][4097];
static struct virtq_chain chain;
static struct blk_request req;

static int mem_rw(const struct iovec *iov, int n, uint64_t offset, bool write)
{
	for (int i = 0; i < n; i++) {
		if (offset > DISK_SIZE || iov[i].iov_len > DISK_SIZE - offset)
			abort();
		if (write)
			memcpy(disk_bytes + offset, iov[i].iov_base,
			       iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, disk_bytes + offset,
			       iov[i].iov_len);
		offset += iov[i].iov_len;
	}
	return 0;
}

static int mem_readv(struct blk_backend *b, const struct iovec *iov, int n,
		     uint64_t offset)
{
	return mem_rw(iov, n, offset, false);
}

static int mem_writev(struct blk_backend *b, const struct iovec *iov, int n,
		      uint64_t offset)
{
	if (b->readonly)
		abort();
	return mem_rw(iov, n, offset, true);
}

static int mem_flush(struct blk_backend *b)
{
	return 0;
}

static int mem_range(struct blk_backend *b, uint64_t offset, uint64_t len)
{
	if (b->readonly || offset > DISK_SIZE || len > DISK_SIZE - offset)
		abort();
	memset(disk_bytes + offset, 0, len);
	return 0;
}

static int mem_zeroes(struct blk_backend *b, uint64_t offset, uint64_t len,
		      bool may_unmap)
{
	return mem_range(b, offset, len);
}

static const struct blk_backend_ops mem_ops = {
	.readv = mem_readv,
	.writev = mem_writev,
	.flush = mem_flush,
	.discard = mem_range,
	.write_zeroes = mem_zeroes,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct blk_backend b = { .ops = &mem_ops, .size = DISK_SIZE };
	size_t pos = 3;
	uint32_t nbufs;

	if (size < 3)
		return 0;
	b.readonly = data[0] & 1;
	b.can_discard = b.can_write_zeroes = !b.readonly && !(data[0] & 2);
	nbufs = data[1] % MAX_BUFS + 1;
	memset(&chain, 0, sizeof(chain));
	for (uint32_t i = 0; i < nbufs; i++) {
		bool writable = data[2] & (1u << i);
		size_t len;

		if (pos + 2 > size)
			break;
		len = (size_t)(data[pos] | data[pos + 1] << 8) % 4097;
		pos += 2;
		/* Readable buffers first, as the queue walker guarantees. */
		if (!writable && chain.nin)
			break;
		memset(bufs[i], 0, len);
		if (!writable) {
			size_t n = size - pos < len ? size - pos : len;

			memcpy(bufs[i], data + pos, n);
			pos += n;
			chain.nout++;
			chain.out_len += len;
		} else {
			chain.nin++;
			chain.in_len += len;
		}
		chain.iov[i] = (struct iovec){ bufs[i], len };
		if (!len) {
			/* The walker never hands out empty buffers. */
			chain.iov[i].iov_len = 1;
			if (writable)
				chain.in_len++;
			else
				chain.out_len++;
		}
	}
	blk_request_parse(&chain, &b, "fuzz-serial-01234567", &req);
	if (blk_request_run(&b, &req) > chain.in_len)
		abort();
	return 0;
}
