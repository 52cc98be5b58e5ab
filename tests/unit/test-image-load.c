// SPDX-License-Identifier: GPL-2.0-or-later
/* image_load(): boot images into fresh guest RAM. */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/guest_mem.h"
#include "core/image.h"
#include "core/util.h"

#include "test-image.h"

#define RAM_SIZE MIB(32)
#define PAGE GUEST_PAGE_SIZE

struct fixture {
	struct guest_mem mem;
	struct image_file img;
	uint8_t *file;
	size_t size;
};

/* A file of size bytes, zero but where pages_with_data says (page
 * numbers, ending with -1): those pages hold their number in every byte. */
static void setup(struct fixture *f, size_t size, const int *pages_with_data)
{
	memset(f, 0, sizeof(*f));
	g_assert_cmpint(guest_mem_add(&f->mem, 0, RAM_SIZE), ==, 0);
	f->size = size;
	f->file = g_malloc0(size);
	for (const int *pg = pages_with_data; *pg >= 0; pg++)
		memset(f->file + (size_t)*pg * PAGE, 0x40 + *pg % 64, PAGE);
	test_image_from_bytes(f->file, size, &f->img);
}

static void teardown(struct fixture *f)
{
	close(f->img.fd);
	g_free(f->file);
	guest_mem_free(&f->mem);
}

static bool resident(struct fixture *f, uint64_t gpa)
{
	unsigned char vec;

	g_assert_cmpint(mincore(guest_mem_ptr(&f->mem, gpa, PAGE), PAGE,
				&vec), ==, 0);
	return vec & 1;
}

static int load_whole(struct fixture *f, uint64_t gpa)
{
	return image_load(&f->mem, &f->img, &(struct image_piece){
		.gpa = gpa, .filesz = f->size, .memsz = f->size }, 1);
}

/*
 * A block that an image only starts in costs the host only the pages the
 * image occupies, whatever its huge page setting: the rest is the guest's.
 */
static void test_partly_used_block_gets_small_pages(void)
{
	struct fixture f;

	setup(&f, 100 * PAGE, (const int[]){ 0, 50, 99, -1 });
	g_assert_cmpint(load_whole(&f, MIB(16)), ==, 0);
	g_assert_true(resident(&f, MIB(16)));
	g_assert_true(resident(&f, MIB(16) + 99 * PAGE));
	g_assert_false(resident(&f, MIB(16) + 100 * PAGE));
	g_assert_false(resident(&f, MIB(16) + 300 * PAGE));
	g_assert_false(resident(&f, MIB(16) + 511 * PAGE));
	/* (Reading maps the zero page, which mincore() counts.) */
	g_assert_cmpmem(guest_mem_ptr(&f.mem, MIB(16), f.size), f.size,
			f.file, f.size);
	teardown(&f);
}

/* Unaligned, over block boundaries, with zero pages inside: the guest
 * sees the file byte for byte. */
static void test_unaligned_content(void)
{
	struct fixture f;
	uint64_t gpa = MIB(3) + 123;

	setup(&f, MIB(5) + 777, (const int[]){ 0, 1, 3, 511, 512, 700, 1279, -1 });
	for (size_t i = 0; i < f.size; i += 4099)
		f.file[i] = (uint8_t)(i >> 12 | 1);
	f.file[f.size - 1] = 0xab;
	close(f.img.fd);
	test_image_from_bytes(f.file, f.size, &f.img);
	g_assert_cmpint(load_whole(&f, gpa), ==, 0);
	g_assert_cmpmem(guest_mem_ptr(&f.mem, gpa, f.size), f.size, f.file,
			f.size);
	/* Nothing written around it. */
	g_assert_cmphex(*(uint8_t *)guest_mem_ptr(&f.mem, gpa - 1, 1), ==, 0);
	g_assert_cmphex(*(uint8_t *)guest_mem_ptr(&f.mem, gpa + f.size, 1), ==,
			0);
	teardown(&f);
}

/* ELF-style pieces: bss after data, a later piece over an earlier one's
 * data and bss (the later wins, zeroes included), as a plain copy would. */
static void test_pieces_overlap_like_copies(void)
{
	struct fixture f;
	const struct image_piece pieces[] = {
		{ .gpa = MIB(4), .offset = 0, .filesz = 3 * PAGE,
		  .memsz = 6 * PAGE },
		{ .gpa = MIB(4) + 2 * PAGE, .offset = 8 * PAGE,
		  .filesz = PAGE + 10, .memsz = 2 * PAGE },
		{ .gpa = MIB(4) + 5 * PAGE, .offset = 0, .filesz = 0,
		  .memsz = 0 },
	};
	uint8_t *p;

	setup(&f, 10 * PAGE, (const int[]){ 0, 1, 2, 8, 9, -1 });
	g_assert_cmpint(image_load(&f.mem, &f.img, pieces, 3), ==, 0);
	p = guest_mem_ptr(&f.mem, MIB(4), 8 * PAGE);
	g_assert_cmpmem(p, 2 * PAGE, f.file, 2 * PAGE);
	g_assert_cmpmem(p + 2 * PAGE, PAGE + 10, f.file + 8 * PAGE, PAGE + 10);
	for (size_t i = 3 * PAGE + 10; i < 8 * PAGE; i++)
		g_assert_cmphex(p[i], ==, 0);
	teardown(&f);
}

static void test_bad_pieces(void)
{
	struct fixture f;
	uint8_t *p;

	setup(&f, 2 * PAGE, (const int[]){ 0, 1, -1 });
	/* Beyond the file (it shrank since it was measured). */
	g_assert_cmpint(image_load(&f.mem, &f.img, &(struct image_piece){
		.gpa = MIB(1), .offset = PAGE, .filesz = 2 * PAGE,
		.memsz = 2 * PAGE }, 1), ==, -EIO);
	g_assert_cmpint(image_load(&f.mem, &f.img, &(struct image_piece){
		.gpa = MIB(1), .offset = UINT64_MAX, .filesz = 1,
		.memsz = 1 }, 1), ==, -EIO);
	/* Outside guest RAM, or across its end. */
	g_assert_cmpint(image_load(&f.mem, &f.img, &(struct image_piece){
		.gpa = RAM_SIZE - PAGE, .filesz = 2 * PAGE,
		.memsz = 2 * PAGE }, 1), ==, -EFAULT);
	g_assert_cmpint(image_load(&f.mem, &f.img, &(struct image_piece){
		.gpa = UINT64_MAX - 10, .filesz = 1, .memsz = 100 }, 1), ==,
		-EFAULT);
	g_assert_cmpint(image_load(&f.mem, &f.img, &(struct image_piece){
		.gpa = MIB(1), .filesz = 2, .memsz = 1 }, 1), ==, -EINVAL);
	/* A bad piece after a good one: nothing is written. */
	g_assert_cmpint(image_load(&f.mem, &f.img, (const struct image_piece[]){
		{ .gpa = MIB(2), .filesz = PAGE, .memsz = PAGE },
		{ .gpa = RAM_SIZE, .filesz = PAGE, .memsz = PAGE } }, 2), ==,
		-EFAULT);
	p = guest_mem_ptr(&f.mem, MIB(2), PAGE);
	g_assert_cmphex(p[0], ==, 0);
	teardown(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/image-load/partly-used-block-gets-small-pages",
			test_partly_used_block_gets_small_pages);
	g_test_add_func("/image-load/unaligned-content", test_unaligned_content);
	g_test_add_func("/image-load/pieces-overlap-like-copies",
			test_pieces_overlap_like_copies);
	g_test_add_func("/image-load/bad-pieces", test_bad_pieces);
	return g_test_run();
}
