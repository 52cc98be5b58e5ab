/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the virtio-balloon driver sends (virtio 1.x section 5.5.6): page
 * frame numbers on the inflate and deflate queues, and its memory
 * statistics on the stats queue. Kept apart from the device so that the
 * parsers can be unit tested and fuzzed.
 *
 * Every PFN comes from the guest: it is checked against guest RAM before
 * the device may touch the page, and one outside RAM (in an MMIO hole,
 * beyond the end) is ignored. A stats buffer may be of any size: whole
 * 10-byte entries are read, unknown tags and trailing bytes are ignored.
 */
#ifndef DUVISOR_VIRTIO_BALLOON_REQUEST_H
#define DUVISOR_VIRTIO_BALLOON_REQUEST_H

#include <stdint.h>

#include "core/guest_mem.h"
#include "virtio/queue.h"

/* Balloon pages are 4 KiB whatever the guest's page size. */
#define BALLOON_PAGE_SHIFT 12
#define BALLOON_PAGE_SIZE (1u << BALLOON_PAGE_SHIFT)

/* Statistics tags we name (VIRTIO_BALLOON_S_*, Linux 6.12 has 16). */
#define BALLOON_STAT_TAGS 16
/* A stats entry: le16 tag, le64 value, packed. */
#define BALLOON_STAT_ENTRY_SIZE 10
/* Entries read from one buffer: a driver sends one per tag it knows, so
 * this leaves room for tags of future kernels and bounds the work. */
#define BALLOON_STATS_MAX_ENTRIES 64

struct balloon_stats {
	uint32_t present;             /* bit t: val[t] was reported */
	uint64_t val[BALLOON_STAT_TAGS];
};

/* A run of checked guest pages, contiguous in our address space. */
typedef void (*balloon_range_fn)(void *opaque, void *hva, uint64_t len);

struct balloon_pfn_count {
	uint64_t pages;               /* pages in guest RAM (passed to fn) */
	uint64_t ignored;             /* PFNs outside guest RAM */
};

/*
 * Walks the le32 PFNs in the device-readable part of chain (a partial one
 * at the end is ignored) and calls fn, when not NULL, for each run of
 * pages in guest RAM; count gets the totals.
 */
void balloon_pfns(const struct virtq_chain *chain, const struct guest_mem *mem,
		  balloon_range_fn fn, void *opaque,
		  struct balloon_pfn_count *count);

/* Parses a stats buffer; returns the number of entries read. */
uint32_t balloon_stats_parse(const struct virtq_chain *chain,
			     struct balloon_stats *stats);

/* The control protocol's name of a tag ("swap_in"...); NULL if unknown. */
const char *balloon_stat_name(unsigned int tag);

#endif
