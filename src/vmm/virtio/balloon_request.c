// SPDX-License-Identifier: GPL-2.0-or-later
/* Parsing the virtio-balloon driver's PFN lists and statistics. */
#include "virtio/balloon_request.h"

#include <string.h>

#include "core/util.h"

#define PFN_SIZE 4

/* Indexed by VIRTIO_BALLOON_S_*; the control protocol's stat.NAME keys. */
static const char *const stat_names[BALLOON_STAT_TAGS] = {
	"swap_in", "swap_out", "major_faults", "minor_faults",
	"free_memory", "total_memory", "available_memory", "disk_caches",
	"hugetlb_allocations", "hugetlb_failures", "oom_kills",
	"alloc_stalls", "async_scans", "direct_scans", "async_reclaims",
	"direct_reclaims",
};

const char *balloon_stat_name(unsigned int tag)
{
	return tag < BALLOON_STAT_TAGS ? stat_names[tag] : NULL;
}

struct walk {
	const struct guest_mem *mem;
	balloon_range_fn fn;
	void *opaque;
	struct balloon_pfn_count *count;
	uint8_t *run;                 /* the pending run, NULL when none */
	uint64_t run_len;
};

static void flush_run(struct walk *w)
{
	if (w->run && w->fn)
		w->fn(w->opaque, w->run, w->run_len);
	w->run = NULL;
	w->run_len = 0;
}

/*
 * Only a page that lies wholly in guest RAM is taken. Runs join pages
 * adjacent in our address space, so each run covers checked pages only
 * (even when it crosses from one RAM region's mapping into the next).
 */
static void take_pfn(struct walk *w, uint32_t pfn)
{
	uint8_t *hva = guest_mem_ptr(w->mem, (uint64_t)pfn << BALLOON_PAGE_SHIFT,
				     BALLOON_PAGE_SIZE);

	if (!hva) {
		w->count->ignored++;
		return;
	}
	w->count->pages++;
	if (w->run && w->run + w->run_len == hva) {
		w->run_len += BALLOON_PAGE_SIZE;
		return;
	}
	flush_run(w);
	w->run = hva;
	w->run_len = BALLOON_PAGE_SIZE;
}

void balloon_pfns(const struct virtq_chain *chain, const struct guest_mem *mem,
		  balloon_range_fn fn, void *opaque,
		  struct balloon_pfn_count *count)
{
	struct walk w = { .mem = mem, .fn = fn, .opaque = opaque,
			  .count = count };
	/* The list is copied before use: the guest may change it meanwhile. */
	uint8_t buf[1024];
	size_t have = 0;

	*count = (struct balloon_pfn_count){ 0 };
	for (uint32_t i = 0; i < chain->nout; i++) {
		const uint8_t *p = chain->iov[i].iov_base;
		size_t left = chain->iov[i].iov_len;

		while (left) {
			size_t n = MIN(left, sizeof(buf) - have), whole;

			memcpy(buf + have, p, n);
			p += n;
			left -= n;
			have += n;
			/* A PFN may straddle two buffers: keep its start. */
			whole = have - have % PFN_SIZE;
			for (size_t off = 0; off < whole; off += PFN_SIZE) {
				uint32_t pfn;

				memcpy(&pfn, buf + off, PFN_SIZE);
				take_pfn(&w, pfn);
			}
			memmove(buf, buf + whole, have - whole);
			have -= whole;
		}
	}
	flush_run(&w);
}

uint32_t balloon_stats_parse(const struct virtq_chain *chain,
			     struct balloon_stats *stats)
{
	uint64_t n = MIN(chain->out_len / BALLOON_STAT_ENTRY_SIZE,
			 (uint64_t)BALLOON_STATS_MAX_ENTRIES);

	memset(stats, 0, sizeof(*stats));
	for (uint32_t i = 0; i < n; i++) {
		uint8_t e[BALLOON_STAT_ENTRY_SIZE];
		uint16_t tag;
		uint64_t val;

		iov_to_buf(chain->iov, chain->nout,
			   (uint64_t)i * BALLOON_STAT_ENTRY_SIZE, e, sizeof(e));
		/* Little endian like us (x86-64); the value is unaligned. */
		memcpy(&tag, e, sizeof(tag));
		memcpy(&val, e + sizeof(tag), sizeof(val));
		if (tag >= BALLOON_STAT_TAGS)
			continue;
		stats->val[tag] = val;
		stats->present |= 1u << tag;
	}
	return (uint32_t)n;
}
