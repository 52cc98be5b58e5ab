// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-balloon: PFN lists checked against guest RAM, statistics buffers,
 * and the --balloon option. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "core/options.h"
#include "virtio/balloon_request.h"

#define PAGE BALLOON_PAGE_SIZE

/*
 * Guest RAM as the tests see it: 16 pages at GPA 0, a hole, 8 pages at
 * 1 MiB. The host buffers are adjacent (one array), so that a run may
 * cross from one region's mapping into the next.
 */
static uint8_t ram[24 * PAGE] __attribute__((aligned(4096)));

static void make_mem(struct guest_mem *mem)
{
	memset(mem, 0, sizeof(*mem));
	mem->nregions = 2;
	mem->regions[0] = (struct guest_mem_region){
		.gpa = 0, .size = 16 * PAGE, .hva = ram };
	mem->regions[1] = (struct guest_mem_region){
		.gpa = 0x100000, .size = 8 * PAGE, .hva = ram + 16 * PAGE };
}

struct ranges {
	size_t n;
	uint8_t *hva[64];
	uint64_t len[64];
};

static void record(void *opaque, void *hva, uint64_t len)
{
	struct ranges *r = opaque;

	g_assert_cmpuint(r->n, <, G_N_ELEMENTS(r->hva));
	r->hva[r->n] = hva;
	r->len[r->n++] = len;
}

/* A chain whose readable part is the bytes of data, cut into buffers of
 * the given sizes (the rest in one last buffer). */
static void chain_of(struct virtq_chain *c, uint8_t *data, size_t len,
		     const size_t *cuts, size_t ncuts)
{
	size_t off = 0;

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i <= ncuts && off < len; i++) {
		size_t n = i < ncuts ? MIN(cuts[i], len - off) : len - off;

		c->iov[c->nout++] = (struct iovec){ data + off, n };
		c->out_len += n;
		off += n;
	}
}

static void walk(const uint32_t *pfns, size_t n, const size_t *cuts,
		 size_t ncuts, size_t extra_bytes, struct ranges *r,
		 struct balloon_pfn_count *count)
{
	static uint8_t bytes[4096];
	struct virtq_chain *c = g_new0(struct virtq_chain, 1);
	struct guest_mem mem;

	g_assert_cmpuint(n * 4 + extra_bytes, <=, sizeof(bytes));
	memcpy(bytes, pfns, n * 4);
	memset(bytes + n * 4, 0, extra_bytes);
	make_mem(&mem);
	chain_of(c, bytes, n * 4 + extra_bytes, cuts, ncuts);
	memset(r, 0, sizeof(*r));
	balloon_pfns(c, &mem, record, r, count);
	g_free(c);
}

static void test_pfns_in_ram_are_taken_in_runs(void)
{
	/* 1, 2, 3 are one run; 5 stands alone; 2 again is a new run. */
	const uint32_t pfns[] = { 1, 2, 3, 5, 2 };
	struct balloon_pfn_count count;
	struct ranges r;

	walk(pfns, G_N_ELEMENTS(pfns), NULL, 0, 0, &r, &count);
	g_assert_cmpuint(count.pages, ==, 5);
	g_assert_cmpuint(count.ignored, ==, 0);
	g_assert_cmpuint(r.n, ==, 3);
	g_assert_true(r.hva[0] == ram + PAGE && r.len[0] == 3 * PAGE);
	g_assert_true(r.hva[1] == ram + 5 * PAGE && r.len[1] == PAGE);
	g_assert_true(r.hva[2] == ram + 2 * PAGE && r.len[2] == PAGE);
}

static void test_pfns_outside_ram_are_ignored(void)
{
	/* Past region 0, in the hole, past region 1, the top of the PFN
	 * space: none of them is ever handed out. */
	const uint32_t pfns[] = { 16, 0x80, 0x100 + 8, 0xfffff, UINT32_MAX,
				  0x100 + 7, 15 };
	struct balloon_pfn_count count;
	struct ranges r;

	walk(pfns, G_N_ELEMENTS(pfns), NULL, 0, 0, &r, &count);
	g_assert_cmpuint(count.ignored, ==, 5);
	g_assert_cmpuint(count.pages, ==, 2);
	g_assert_cmpuint(r.n, ==, 2);
	g_assert_true(r.hva[0] == ram + 23 * PAGE && r.len[0] == PAGE);
	g_assert_true(r.hva[1] == ram + 15 * PAGE && r.len[1] == PAGE);
}

static void test_run_crosses_adjacent_mappings(void)
{
	/* The last page of region 0 and the first of region 1 are adjacent
	 * in our address space: one run, of checked pages only. */
	const uint32_t pfns[] = { 15, 0x100, 0x101 };
	struct balloon_pfn_count count;
	struct ranges r;

	walk(pfns, G_N_ELEMENTS(pfns), NULL, 0, 0, &r, &count);
	g_assert_cmpuint(count.pages, ==, 3);
	g_assert_cmpuint(r.n, ==, 1);
	g_assert_true(r.hva[0] == ram + 15 * PAGE && r.len[0] == 3 * PAGE);
}

static void test_pfns_straddle_buffers_partial_ignored(void)
{
	/* Buffers of 1, 6 and 2 bytes, then the rest, cut PFNs apart; three
	 * trailing bytes are not a PFN. */
	const uint32_t pfns[] = { 4, 5, 6, 9 };
	const size_t cuts[] = { 1, 6, 2 };
	struct balloon_pfn_count count;
	struct ranges r;

	walk(pfns, G_N_ELEMENTS(pfns), cuts, G_N_ELEMENTS(cuts), 3, &r,
	     &count);
	g_assert_cmpuint(count.pages, ==, 4);
	g_assert_cmpuint(count.ignored, ==, 0);
	g_assert_cmpuint(r.n, ==, 2);
	g_assert_true(r.hva[0] == ram + 4 * PAGE && r.len[0] == 3 * PAGE);
	g_assert_true(r.hva[1] == ram + 9 * PAGE && r.len[1] == PAGE);
}

static void test_pfns_count_only_and_writable_part(void)
{
	const uint32_t pfns[] = { 1, 2, 0x200 };
	struct virtq_chain *c = g_new0(struct virtq_chain, 1);
	struct balloon_pfn_count count;
	struct guest_mem mem;
	uint8_t bytes[12], junk[8];

	make_mem(&mem);
	memcpy(bytes, pfns, sizeof(bytes));
	memset(junk, 0, sizeof(junk));
	chain_of(c, bytes, sizeof(bytes), NULL, 0);
	/* A device-writable buffer holds no PFNs (PFN 0 would count). */
	c->iov[c->nout] = (struct iovec){ junk, sizeof(junk) };
	c->nin = 1;
	c->in_len = sizeof(junk);
	balloon_pfns(c, &mem, NULL, NULL, &count);
	g_assert_cmpuint(count.pages, ==, 2);
	g_assert_cmpuint(count.ignored, ==, 1);
	/* An empty request is fine too. */
	memset(c, 0, sizeof(*c));
	balloon_pfns(c, &mem, NULL, NULL, &count);
	g_assert_cmpuint(count.pages + count.ignored, ==, 0);
	g_free(c);
}

/* Packs stats entries (tag, value) as the driver does. */
static size_t pack(uint8_t *out, const uint16_t *tags, const uint64_t *vals,
		   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memcpy(out + i * 10, &tags[i], 2);
		memcpy(out + i * 10 + 2, &vals[i], 8);
	}
	return n * 10;
}

static uint32_t parse(uint8_t *bytes, size_t len, const size_t *cuts,
		      size_t ncuts, struct balloon_stats *st)
{
	struct virtq_chain *c = g_new0(struct virtq_chain, 1);
	uint32_t n;

	chain_of(c, bytes, len, cuts, ncuts);
	n = balloon_stats_parse(c, st);
	g_free(c);
	return n;
}

static void test_stats_known_tags(void)
{
	const uint16_t tags[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	const uint64_t vals[] = { 4096, 8192, 3, 1000, 100 << 20, 256 << 20,
				  120 << 20, 20 << 20, 0, 0 };
	/* Entries cut across buffers at odd places. */
	const size_t cuts[] = { 3, 10, 1, 7 };
	struct balloon_stats st;
	uint8_t buf[200];
	size_t len = pack(buf, tags, vals, G_N_ELEMENTS(tags));

	g_assert_cmpuint(parse(buf, len, cuts, G_N_ELEMENTS(cuts), &st), ==, 10);
	g_assert_cmphex(st.present, ==, 0x3ff);
	for (size_t i = 0; i < G_N_ELEMENTS(tags); i++)
		g_assert_cmpuint(st.val[tags[i]], ==, vals[i]);
	g_assert_cmpstr(balloon_stat_name(5), ==, "total_memory");
	g_assert_cmpstr(balloon_stat_name(6), ==, "available_memory");
	g_assert_cmpstr(balloon_stat_name(15), ==, "direct_reclaims");
	g_assert_null(balloon_stat_name(16));
}

static void test_stats_malformed(void)
{
	/* Unknown tags are skipped, a repeated tag keeps its last value,
	 * trailing bytes (not a whole entry) are ignored. */
	const uint16_t tags[] = { 16, 4, 0xffff, 4, 9 };
	const uint64_t vals[] = { 1, 2, 3, 4, UINT64_MAX };
	struct balloon_stats st;
	uint8_t buf[64];
	size_t len = pack(buf, tags, vals, G_N_ELEMENTS(tags));

	memset(buf + len, 0x55, 9);
	g_assert_cmpuint(parse(buf, len + 9, NULL, 0, &st), ==, 5);
	g_assert_cmphex(st.present, ==, (1u << 4) | (1u << 9));
	g_assert_cmpuint(st.val[4], ==, 4);
	g_assert_cmpuint(st.val[9], ==, UINT64_MAX);

	/* Too short for one entry, or empty: nothing, and the old figures
	 * are gone. */
	g_assert_cmpuint(parse(buf, 9, NULL, 0, &st), ==, 0);
	g_assert_cmphex(st.present, ==, 0);
	g_assert_cmpuint(parse(buf, 0, NULL, 0, &st), ==, 0);
}

static void test_stats_entries_are_bounded(void)
{
	/* 100 entries of tag 1: only the first 64 are read. */
	uint16_t tags[100];
	uint64_t vals[100];
	struct balloon_stats st;
	uint8_t buf[1000];

	for (size_t i = 0; i < 100; i++) {
		tags[i] = 1;
		vals[i] = i;
	}
	g_assert_cmpuint(parse(buf, pack(buf, tags, vals, 100), NULL, 0, &st),
			 ==, BALLOON_STATS_MAX_ENTRIES);
	g_assert_cmpuint(st.val[1], ==, BALLOON_STATS_MAX_ENTRIES - 1);
}

static void test_balloon_option(void)
{
	struct vmm_balloon_config b;
	char err[128];

	g_assert_cmpint(parse_balloon_option("", &b, err, sizeof(err)), ==, 0);
	g_assert_true(b.enabled && !b.deflate_on_oom);
	g_assert_cmpuint(b.stats_period, ==, 0);
	g_assert_cmpuint(b.target, ==, 0);
	g_assert_cmpint(parse_balloon_option(
		"stats-period=5,deflate-on-oom=on,target=768M", &b, err,
		sizeof(err)), ==, 0);
	g_assert_true(b.enabled && b.deflate_on_oom);
	g_assert_cmpuint(b.stats_period, ==, 5);
	g_assert_cmpuint(b.target, ==, 768ull << 20);
	/* A bare target is MiB, as for --memory; K suffixes work too. */
	g_assert_cmpint(parse_balloon_option("target=100", &b, err,
					     sizeof(err)), ==, 0);
	g_assert_cmpuint(b.target, ==, 100ull << 20);
	g_assert_cmpint(parse_balloon_option("target=196608K", &b, err,
					     sizeof(err)), ==, 0);
	g_assert_cmpuint(b.target, ==, 192ull << 20);

	g_assert_cmpint(parse_balloon_option("stats-period=-1", &b, err,
					     sizeof(err)), ==, -EINVAL);
	g_assert_cmpstr(err, ==, "invalid value for 'stats-period'");
	g_assert_cmpint(parse_balloon_option("target=0", &b, err, sizeof(err)),
			==, -EINVAL);
	g_assert_cmpint(parse_balloon_option("deflate-on-oom=yes", &b, err,
					     sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(parse_balloon_option("size=1G", &b, err, sizeof(err)),
			==, -EINVAL);
	g_assert_cmpstr(err, ==, "unknown balloon option 'size'");
	g_assert_cmpint(parse_balloon_option("stats-period", &b, err,
					     sizeof(err)), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/balloon/pfns/runs", test_pfns_in_ram_are_taken_in_runs);
	g_test_add_func("/balloon/pfns/outside-ram",
			test_pfns_outside_ram_are_ignored);
	g_test_add_func("/balloon/pfns/adjacent-mappings",
			test_run_crosses_adjacent_mappings);
	g_test_add_func("/balloon/pfns/straddle",
			test_pfns_straddle_buffers_partial_ignored);
	g_test_add_func("/balloon/pfns/count-only",
			test_pfns_count_only_and_writable_part);
	g_test_add_func("/balloon/stats/known", test_stats_known_tags);
	g_test_add_func("/balloon/stats/malformed", test_stats_malformed);
	g_test_add_func("/balloon/stats/bounded", test_stats_entries_are_bounded);
	g_test_add_func("/balloon/option", test_balloon_option);
	return g_test_run();
}
