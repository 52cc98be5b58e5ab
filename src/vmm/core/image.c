// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/image.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

#define BLOCK_SIZE GUEST_HUGE_PAGE_SIZE
#define BLOCK_PAGES (BLOCK_SIZE / GUEST_PAGE_SIZE)

int image_file_init(int fd, uint64_t max_size, struct image_file *out)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_size <= 0)
		return -ENODATA;
	if ((uint64_t)st.st_size > max_size)
		return -EFBIG;
	out->fd = fd;
	out->size = (uint64_t)st.st_size;
	return 0;
}

int image_file_read(const struct image_file *img, uint64_t off, void *dst,
		    size_t len)
{
	uint8_t *p = dst;

	if (off > img->size || len > img->size - off)
		return -EIO;
	while (len) {
		ssize_t n = pread(img->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

const char *image_file_strerror(int r)
{
	return r == -EIO ? "the file is shorter than it said" : strerror(-r);
}

static int check_piece(const struct guest_mem *mem,
		       const struct image_file *img,
		       const struct image_piece *p)
{
	if (p->filesz > p->memsz)
		return -EINVAL;
	if (p->offset > img->size || p->filesz > img->size - p->offset)
		return -EIO;
	return guest_mem_ptr(mem, p->gpa, p->memsz) ? 0 : -EFAULT;
}

/* Pages of the block at @block that the pieces occupy (bss included). */
static size_t block_use(uint64_t block, const struct image_piece *pieces,
			size_t npieces)
{
	bool used[BLOCK_PAGES] = { false };
	size_t n = 0;

	for (size_t i = 0; i < npieces; i++) {
		const struct image_piece *p = &pieces[i];
		uint64_t lo = MAX(p->gpa, block);
		uint64_t hi = MIN(p->gpa + p->memsz, block + BLOCK_SIZE);

		for (uint64_t a = ALIGN_DOWN(lo, GUEST_PAGE_SIZE); a < hi;
		     a += GUEST_PAGE_SIZE) {
			size_t page = (a - block) / GUEST_PAGE_SIZE;

			n += !used[page];
			used[page] = true;
		}
	}
	return n;
}

/* Where a piece's bss lies over an earlier piece's data, a plain copy of
 * one after the other would zero that data; so must this. */
static void zero_bss_over(const struct guest_mem *mem,
			  const struct image_piece *pieces, size_t i)
{
	const struct image_piece *p = &pieces[i];

	for (size_t j = 0; j < i; j++) {
		const struct image_piece *q = &pieces[j];
		uint64_t lo = MAX(p->gpa + p->filesz, q->gpa);
		uint64_t hi = MIN(p->gpa + p->memsz, q->gpa + q->filesz);

		if (lo < hi)
			memset(guest_mem_ptr(mem, lo, hi - lo), 0, hi - lo);
	}
}

int image_load(const struct guest_mem *mem, const struct image_file *img,
	       const struct image_piece *pieces, size_t npieces)
{
	for (size_t i = 0; i < npieces; i++) {
		int r = pieces[i].memsz ? check_piece(mem, img, &pieces[i]) : 0;

		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < npieces; i++) {
		const struct image_piece *p = &pieces[i];

		if (!p->memsz)
			continue;
		/* Before the first write to a block decides its page size. */
		for (uint64_t block = ALIGN_DOWN(p->gpa, BLOCK_SIZE);
		     block < p->gpa + p->memsz; block += BLOCK_SIZE)
			if (block_use(block, pieces, npieces) * 2 < BLOCK_PAGES)
				guest_mem_small_pages(mem, block, BLOCK_SIZE);
	}
	for (size_t i = 0; i < npieces; i++) {
		const struct image_piece *p = &pieces[i];
		int r;

		if (!p->memsz)
			continue;
		r = image_file_read(img, p->offset,
				    guest_mem_ptr(mem, p->gpa, p->filesz),
				    p->filesz);
		if (r < 0)
			return r;
		zero_bss_over(mem, pieces, i);
	}
	return 0;
}
