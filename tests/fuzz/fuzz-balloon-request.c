// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the virtio-balloon driver's PFN lists and statistics
 * buffers, against guest RAM of two regions with a hole between them. The
 * page runs handed out are written to (as madvise would drop them), so
 * ASan catches any that leave guest RAM, and the target aborts on a run
 * that is not made of whole RAM pages or on counts that do not add up.
 *
 * Input: [0] number of buffers (mod 8) + 1, then per buffer a 16-bit
 * length (mod 4097) followed by its bytes; the same chain is read once as
 * a PFN list and once as a stats buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/balloon_request.h"

#define MAX_BUFS 8
#define LOW_PAGES 16
#define HIGH_PAGES 8
#define HIGH_GPA 0x100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t low[LOW_PAGES * BALLOON_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t high[HIGH_PAGES * BALLOON_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t bufs[MAX_BUFS][4097];
static struct virtq_chain chain;

/* Whether p is the start of a page of one of the RAM buffers. */
static int ram_page(const uint8_t *p)
{
	uintptr_t a = (uintptr_t)p;

	if (a >= (uintptr_t)low && a < (uintptr_t)low + sizeof(low))
		return (a - (uintptr_t)low) % BALLOON_PAGE_SIZE == 0;
	if (a >= (uintptr_t)high && a < (uintptr_t)high + sizeof(high))
		return (a - (uintptr_t)high) % BALLOON_PAGE_SIZE == 0;
	return 0;
}

/* A run may cross from one buffer into the next when they happen to be
 * adjacent: each of its pages must be a RAM page. */
static void discard(void *opaque, void *hva, uint64_t len)
{
	uint8_t *p = hva;
	uint64_t *pages = opaque;

	if (!len || len % BALLOON_PAGE_SIZE)
		abort();
	for (uint64_t off = 0; off < len; off += BALLOON_PAGE_SIZE)
		if (!ram_page(p + off))
			abort();
	memset(p, 0, len);
	*pages += len / BALLOON_PAGE_SIZE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem mem = {
		.nregions = 2,
		.regions = {
			{ .gpa = 0, .size = sizeof(low), .hva = low },
			{ .gpa = HIGH_GPA, .size = sizeof(high), .hva = high },
		},
	};
	struct balloon_pfn_count count;
	struct balloon_stats stats;
	uint64_t pages = 0;
	size_t pos = 1;
	uint32_t nbufs;

	if (size < 1)
		return 0;
	nbufs = data[0] % MAX_BUFS + 1;
	memset(&chain, 0, sizeof(chain));
	for (uint32_t i = 0; i < nbufs && pos + 2 <= size; i++) {
		size_t len = (size_t)(data[pos] | data[pos + 1] << 8) % 4097;
		size_t n;

		pos += 2;
		/* The walker never hands out empty buffers. */
		len = len ? len : 1;
		n = size - pos < len ? size - pos : len;
		memset(bufs[i], 0, len);
		memcpy(bufs[i], data + pos, n);
		pos += n;
		chain.iov[chain.nout++] = (struct iovec){ bufs[i], len };
		chain.out_len += len;
	}
	balloon_pfns(&chain, &mem, discard, &pages, &count);
	if (pages != count.pages ||
	    count.pages + count.ignored != chain.out_len / 4)
		abort();
	if (balloon_stats_parse(&chain, &stats) > BALLOON_STATS_MAX_ENTRIES ||
	    stats.present >> BALLOON_STAT_TAGS)
		abort();
	return 0;
}
