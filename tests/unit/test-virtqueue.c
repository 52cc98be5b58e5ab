// SPDX-License-Identifier: GPL-2.0-or-later
/* The split-virtqueue walker against well-formed and hostile rings. */
#include <errno.h>
#include <glib.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "core/guest_mem.h"
#include "core/util.h"
#include "virtio/queue.h"

#define RAM_BASE   0x100000ull
#define RAM_SIZE   MIB(1)
#define QSIZE      16
#define DESC_GPA   (RAM_BASE + 0x0000)
#define AVAIL_GPA  (RAM_BASE + 0x1000)
#define USED_GPA   (RAM_BASE + 0x2000)
#define TABLE_GPA  (RAM_BASE + 0x8000)
#define BUF_GPA    (RAM_BASE + 0x10000)

#define F_INDIRECT (1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT    (1ull << VIRTIO_RING_F_EVENT_IDX)

struct fixture {
	struct guest_mem mem;
	struct virtq vq;
	struct virtq_chain chain;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

static void *gpa(struct fixture *f, uint64_t addr)
{
	return guest_mem_ptr(&f->mem, addr, 1);
}

static void setup(struct fixture *f, uint64_t features)
{
	memset(f, 0, sizeof(*f));
	g_assert_cmpint(guest_mem_add(&f->mem, RAM_BASE, RAM_SIZE), ==, 0);
	f->desc = gpa(f, DESC_GPA);
	f->avail = gpa(f, AVAIL_GPA);
	f->used = gpa(f, USED_GPA);
	f->vq.size = QSIZE;
	f->vq.desc_gpa = DESC_GPA;
	f->vq.avail_gpa = AVAIL_GPA;
	f->vq.used_gpa = USED_GPA;
	g_assert_cmpint(virtq_enable(&f->vq, &f->mem, features), ==, 0);
}

static void teardown(struct fixture *f)
{
	guest_mem_free(&f->mem);
}

static void set_desc(struct vring_desc *table, uint16_t i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	table[i] = (struct vring_desc){ .addr = addr, .len = len,
					.flags = flags, .next = next };
}

static void make_available(struct fixture *f, uint16_t head)
{
	f->avail->ring[f->avail->idx % QSIZE] = head;
	f->avail->idx++;
}

static int pop_one(struct fixture *f, uint16_t head)
{
	make_available(f, head);
	return virtq_pop(&f->vq, &f->chain);
}

static void test_simple_chain(void)
{
	struct fixture f;

	setup(&f, 0);
	g_assert_cmpint(virtq_pop(&f.vq, &f.chain), ==, 0);
	set_desc(f.desc, 3, BUF_GPA, 16, VRING_DESC_F_NEXT, 7);
	set_desc(f.desc, 7, BUF_GPA + 0x100, 100,
		 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(f.desc, 1, BUF_GPA + 0x200, 1, VRING_DESC_F_WRITE, 0);
	g_assert_cmpint(pop_one(&f, 3), ==, 1);
	g_assert_cmpuint(f.chain.head, ==, 3);
	g_assert_cmpuint(f.chain.nout, ==, 1);
	g_assert_cmpuint(f.chain.nin, ==, 2);
	g_assert_cmpuint(f.chain.out_len, ==, 16);
	g_assert_cmpuint(f.chain.in_len, ==, 101);
	g_assert_true(f.chain.iov[1].iov_base == gpa(&f, BUF_GPA + 0x100));
	g_assert_cmpint(virtq_pop(&f.vq, &f.chain), ==, 0);

	virtq_push(&f.vq, 3, 101);
	g_assert_cmpuint(f.used->idx, ==, 1);
	g_assert_cmpuint(f.used->ring[0].id, ==, 3);
	g_assert_cmpuint(f.used->ring[0].len, ==, 101);
	g_assert_true(virtq_should_interrupt(&f.vq));
	f.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	g_assert_false(virtq_should_interrupt(&f.vq));
	teardown(&f);
}

static void test_zero_length_descriptors_are_skipped(void)
{
	struct fixture f;

	setup(&f, 0);
	set_desc(f.desc, 0, BUF_GPA, 0, VRING_DESC_F_NEXT, 1);
	set_desc(f.desc, 1, BUF_GPA, 8, 0, 0);
	g_assert_cmpint(pop_one(&f, 0), ==, 1);
	g_assert_cmpuint(f.chain.nout, ==, 1);
	teardown(&f);
}

/* Each case breaks one rule; the queue must refuse and stay broken. */
static void expect_broken(struct fixture *f, uint16_t head)
{
	g_assert_cmpint(pop_one(f, head), ==, -EIO);
	g_assert_true(f->vq.broken);
	g_assert_cmpint(virtq_pop(&f->vq, &f->chain), ==, -EIO);
	/* Nothing is ever completed on a broken queue. */
	virtq_push(&f->vq, head, 1);
	g_assert_cmpuint(f->used->idx, ==, 0);
}

static void test_loop(void)
{
	struct fixture f;

	setup(&f, 0);
	set_desc(f.desc, 0, BUF_GPA, 8, VRING_DESC_F_NEXT, 1);
	set_desc(f.desc, 1, BUF_GPA, 8, VRING_DESC_F_NEXT, 0);
	expect_broken(&f, 0);
	teardown(&f);
}

static void test_self_loop_of_zero_length(void)
{
	struct fixture f;

	setup(&f, 0);
	set_desc(f.desc, 5, BUF_GPA, 0, VRING_DESC_F_NEXT, 5);
	expect_broken(&f, 5);
	teardown(&f);
}

static void test_next_out_of_range(void)
{
	struct fixture f;

	setup(&f, 0);
	set_desc(f.desc, 0, BUF_GPA, 8, VRING_DESC_F_NEXT, QSIZE);
	expect_broken(&f, 0);
	teardown(&f);
}

static void test_head_out_of_range(void)
{
	struct fixture f;

	setup(&f, 0);
	expect_broken(&f, 0xffff);
	teardown(&f);
}

static void test_buffer_outside_ram(void)
{
	static const struct {
		uint64_t addr;
		uint32_t len;
	} bad[] = {
		{ 0, 8 },                                  /* below RAM */
		{ RAM_BASE - 4, 8 },                       /* straddles start */
		{ RAM_BASE + RAM_SIZE - 4, 8 },            /* straddles end */
		{ RAM_BASE + RAM_SIZE, 1 },                /* just past */
		{ UINT64_MAX - 3, 8 },                     /* wraps around */
		{ RAM_BASE, UINT32_MAX },                  /* too long */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct fixture f;

		setup(&f, 0);
		set_desc(f.desc, 0, bad[i].addr, bad[i].len, 0, 0);
		expect_broken(&f, 0);
		teardown(&f);
	}
}

static void test_readable_after_writable(void)
{
	struct fixture f;

	setup(&f, 0);
	set_desc(f.desc, 0, BUF_GPA, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
		 1);
	set_desc(f.desc, 1, BUF_GPA, 8, 0, 0);
	expect_broken(&f, 0);
	teardown(&f);
}

static void test_avail_index_jump(void)
{
	struct fixture f;

	setup(&f, 0);
	set_desc(f.desc, 0, BUF_GPA, 8, 0, 0);
	f.avail->idx = QSIZE + 1;
	g_assert_cmpint(virtq_pop(&f.vq, &f.chain), ==, -EIO);
	teardown(&f);
}

static void test_indirect(void)
{
	struct fixture f;
	struct vring_desc *table;

	setup(&f, F_INDIRECT);
	table = gpa(&f, TABLE_GPA);
	set_desc(table, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 2);
	set_desc(table, 2, BUF_GPA + 64, 512,
		 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(table, 1, BUF_GPA + 1024, 1, VRING_DESC_F_WRITE, 0);
	set_desc(f.desc, 4, TABLE_GPA, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	g_assert_cmpint(pop_one(&f, 4), ==, 1);
	g_assert_cmpuint(f.chain.head, ==, 4);
	g_assert_cmpuint(f.chain.nout, ==, 1);
	g_assert_cmpuint(f.chain.nin, ==, 2);
	g_assert_cmpuint(f.chain.in_len, ==, 513);
	teardown(&f);
}

static void test_indirect_hostile(void)
{
	enum { NOT_NEGOTIATED, NESTED, WITH_NEXT, ODD_LEN, EMPTY, LOOP,
	       NEXT_PAST_TABLE, TOO_BIG, OUTSIDE, CASES };

	for (int c = 0; c < CASES; c++) {
		struct fixture f;
		struct vring_desc *table;
		uint64_t addr = TABLE_GPA;
		uint32_t len = 2 * 16;
		uint16_t flags = VRING_DESC_F_INDIRECT;

		setup(&f, c == NOT_NEGOTIATED ? 0 : F_INDIRECT);
		table = gpa(&f, TABLE_GPA);
		set_desc(table, 0, BUF_GPA, 16, VRING_DESC_F_NEXT, 1);
		set_desc(table, 1, BUF_GPA, 1, VRING_DESC_F_WRITE, 0);
		switch (c) {
		case NESTED:
			set_desc(table, 1, TABLE_GPA, 32, VRING_DESC_F_INDIRECT,
				 0);
			break;
		case WITH_NEXT:
			flags |= VRING_DESC_F_NEXT;
			break;
		case ODD_LEN:
			len = 24;
			break;
		case EMPTY:
			len = 0;
			break;
		case LOOP:
			set_desc(table, 1, BUF_GPA, 1,
				 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
			break;
		case NEXT_PAST_TABLE:
			set_desc(table, 1, BUF_GPA, 1,
				 VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
			break;
		case TOO_BIG:
			len = (VIRTQ_MAX_SEGS + 1) * 16;
			break;
		case OUTSIDE:
			addr = RAM_BASE + RAM_SIZE - 16;
			break;
		}
		set_desc(f.desc, 0, addr, len, flags, 1);
		expect_broken(&f, 0);
		teardown(&f);
	}
}

/* A full-length chain of indirect descriptors is fine, one more is not. */
static void test_longest_chain(void)
{
	struct fixture f;
	struct vring_desc *table;

	setup(&f, F_INDIRECT);
	table = gpa(&f, TABLE_GPA);
	for (uint16_t i = 0; i < VIRTQ_MAX_SEGS; i++)
		set_desc(table, i, BUF_GPA, 4,
			 i + 1 < VIRTQ_MAX_SEGS ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(f.desc, 0, TABLE_GPA, VIRTQ_MAX_SEGS * 16,
		 VRING_DESC_F_INDIRECT, 0);
	g_assert_cmpint(pop_one(&f, 0), ==, 1);
	g_assert_cmpuint(f.chain.nout, ==, VIRTQ_MAX_SEGS);
	/* Direct descriptors before the table count too. */
	set_desc(f.desc, 1, BUF_GPA, 4, VRING_DESC_F_NEXT, 0);
	expect_broken(&f, 1);
	teardown(&f);
}

static void test_enable_rejects_bad_rings(void)
{
	static const struct {
		uint16_t size;
		uint64_t desc, avail, used;
	} bad[] = {
		{ 0, DESC_GPA, AVAIL_GPA, USED_GPA },
		{ VIRTQ_MAX_SIZE + 1, DESC_GPA, AVAIL_GPA, USED_GPA },
		{ QSIZE, DESC_GPA + 8, AVAIL_GPA, USED_GPA },
		{ QSIZE, DESC_GPA, AVAIL_GPA + 1, USED_GPA },
		{ QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA + 2 },
		{ QSIZE, 0, AVAIL_GPA, USED_GPA },
		{ QSIZE, DESC_GPA, RAM_BASE + RAM_SIZE - 8, USED_GPA },
		{ QSIZE, DESC_GPA, AVAIL_GPA, RAM_BASE + RAM_SIZE - 16 },
		{ QSIZE, UINT64_MAX - 15, AVAIL_GPA, USED_GPA },
		{ 1024, RAM_BASE + RAM_SIZE - 0x2000, AVAIL_GPA, USED_GPA },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct guest_mem mem = { 0 };
		struct virtq vq = {
			.size = bad[i].size, .desc_gpa = bad[i].desc,
			.avail_gpa = bad[i].avail, .used_gpa = bad[i].used,
		};

		g_assert_cmpint(guest_mem_add(&mem, RAM_BASE, RAM_SIZE), ==, 0);
		g_assert_cmpint(virtq_enable(&vq, &mem, 0), ==, -EINVAL);
		g_assert_false(vq.ready);
		g_assert_cmpint(virtq_pop(&vq, NULL), ==, 0);
		guest_mem_free(&mem);
	}
}

static void test_event_idx(void)
{
	struct fixture f;
	uint16_t *used_event, *avail_event;

	setup(&f, F_EVENT);
	used_event = &f.avail->ring[QSIZE];
	avail_event = (uint16_t *)&f.used->ring[QSIZE];
	set_desc(f.desc, 0, BUF_GPA, 8, VRING_DESC_F_WRITE, 0);
	/* The driver wants an interrupt once entry 1 is used, not 0. */
	*used_event = 1;
	g_assert_cmpint(pop_one(&f, 0), ==, 1);
	virtq_push(&f.vq, 0, 8);
	g_assert_false(virtq_should_interrupt(&f.vq));
	g_assert_cmpint(pop_one(&f, 0), ==, 1);
	virtq_push(&f.vq, 0, 8);
	g_assert_true(virtq_should_interrupt(&f.vq));
	/* An empty ring asks for a kick at the next entry. */
	g_assert_cmpint(virtq_pop(&f.vq, &f.chain), ==, 0);
	g_assert_cmpuint(*avail_event, ==, 2);
	teardown(&f);
}

/* Buffers filled in stay invisible to the driver until the flush. */
static void test_fill_then_flush(void)
{
	struct fixture f;

	setup(&f, 0);
	set_desc(f.desc, 0, BUF_GPA, 8, VRING_DESC_F_WRITE, 0);
	set_desc(f.desc, 1, BUF_GPA + 8, 8, VRING_DESC_F_WRITE, 0);
	g_assert_cmpint(pop_one(&f, 0), ==, 1);
	g_assert_cmpint(pop_one(&f, 1), ==, 1);
	virtq_fill(&f.vq, 0, 8);
	virtq_fill(&f.vq, 1, 3);
	g_assert_cmpuint(f.used->idx, ==, 0);
	virtq_flush(&f.vq);
	g_assert_cmpuint(f.used->idx, ==, 2);
	g_assert_cmpuint(f.used->ring[0].id, ==, 0);
	g_assert_cmpuint(f.used->ring[1].id, ==, 1);
	g_assert_cmpuint(f.used->ring[1].len, ==, 3);
	teardown(&f);
}

static void test_iov_helpers(void)
{
	uint8_t a[4] = "abcd", b[3] = "efg", out[7];
	struct iovec iov[2] = { { a, 4 }, { b, 3 } }, dst[2];

	g_assert_cmpuint(iov_to_buf(iov, 2, 2, out, 7), ==, 5);
	g_assert_cmpmem(out, 5, "cdefg", 5);
	g_assert_cmpint(iov_slice(iov, 2, 3, 2, dst, 2), ==, 2);
	g_assert_true(dst[0].iov_base == a + 3 && dst[0].iov_len == 1);
	g_assert_true(dst[1].iov_base == b && dst[1].iov_len == 1);
	g_assert_cmpint(iov_slice(iov, 2, 3, 2, dst, 1), ==, -E2BIG);
	g_assert_cmpint(iov_slice(iov, 2, 3, 5, dst, 2), ==, -EINVAL);
	g_assert_cmpint(iov_slice(iov, 2, 7, 0, dst, 2), ==, 0);
	g_assert_cmpuint(iov_from_buf(iov, 2, 6, "XY", 2), ==, 1);
	g_assert_cmpint(b[2], ==, 'X');
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/virtqueue/simple-chain", test_simple_chain);
	g_test_add_func("/virtqueue/zero-length", test_zero_length_descriptors_are_skipped);
	g_test_add_func("/virtqueue/hostile/loop", test_loop);
	g_test_add_func("/virtqueue/hostile/self-loop", test_self_loop_of_zero_length);
	g_test_add_func("/virtqueue/hostile/next-out-of-range", test_next_out_of_range);
	g_test_add_func("/virtqueue/hostile/head-out-of-range", test_head_out_of_range);
	g_test_add_func("/virtqueue/hostile/buffer-outside-ram", test_buffer_outside_ram);
	g_test_add_func("/virtqueue/hostile/readable-after-writable", test_readable_after_writable);
	g_test_add_func("/virtqueue/hostile/avail-index-jump", test_avail_index_jump);
	g_test_add_func("/virtqueue/indirect", test_indirect);
	g_test_add_func("/virtqueue/hostile/indirect", test_indirect_hostile);
	g_test_add_func("/virtqueue/hostile/longest-chain", test_longest_chain);
	g_test_add_func("/virtqueue/hostile/bad-rings", test_enable_rejects_bad_rings);
	g_test_add_func("/virtqueue/event-idx", test_event_idx);
	g_test_add_func("/virtqueue/fill-then-flush", test_fill_then_flush);
	g_test_add_func("/virtqueue/iov", test_iov_helpers);
	return g_test_run();
}
