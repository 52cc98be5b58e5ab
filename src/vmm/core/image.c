// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/image.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
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

static bool all_zero(const uint8_t *p, size_t len)
{
	return !p[0] && !memcmp(p, p + 1, len - 1);
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

/*
 * One 2 MiB block of guest RAM: the pieces' bytes that fall in it are
 * assembled in @buf exactly as the guest will see them, so that the choice
 * of page size and of the pages to write sees the whole block at once.
 */
struct block {
	uint64_t gpa;
	uint64_t lo, hi;          /* what the pieces cover in it */
	bool bss[BLOCK_PAGES];    /* a page the guest starts using zeroed */
	uint8_t *buf;
};

static int assemble(struct block *b, const struct image_file *img,
		    const struct image_piece *pieces, size_t npieces)
{
	uint64_t end = b->gpa + BLOCK_SIZE;
	bool covered = false;

	for (size_t i = 0; i < npieces; i++) {
		const struct image_piece *p = &pieces[i];
		uint64_t lo = MAX(p->gpa, b->gpa);
		uint64_t hi = MIN(p->gpa + p->memsz, end);
		uint64_t data_hi = MIN(p->gpa + p->filesz, hi);

		if (lo >= hi)
			continue;
		if (!covered)
			memset(b->buf, 0, BLOCK_SIZE);
		b->lo = covered ? MIN(b->lo, lo) : lo;
		b->hi = covered ? MAX(b->hi, hi) : hi;
		covered = true;
		if (lo < data_hi) {
			int r = image_file_read(img, p->offset + (lo - p->gpa),
						b->buf + (lo - b->gpa),
						data_hi - lo);
			if (r < 0)
				return r;
		}
		/* A later piece's bss over an earlier one's data zeroes it. */
		for (uint64_t a = MAX(lo, data_hi); a < hi;) {
			uint64_t next = MIN(ALIGN_DOWN(a, GUEST_PAGE_SIZE) +
					    GUEST_PAGE_SIZE, hi);

			memset(b->buf + (a - b->gpa), 0, next - a);
			b->bss[(a - b->gpa) / GUEST_PAGE_SIZE] = true;
			a = next;
		}
	}
	return covered;
}

static int store(const struct guest_mem *mem, struct block *b)
{
	bool data[BLOCK_PAGES];
	size_t used = 0;

	for (size_t i = 0; i < BLOCK_PAGES; i++) {
		data[i] = !all_zero(b->buf + i * GUEST_PAGE_SIZE,
				    GUEST_PAGE_SIZE);
		used += data[i] || b->bss[i];
	}
	if (used * 2 < BLOCK_PAGES)
		guest_mem_small_pages(mem, b->gpa, BLOCK_SIZE);
	for (size_t i = 0; i < BLOCK_PAGES; i++) {
		uint64_t lo = MAX(b->gpa + i * GUEST_PAGE_SIZE, b->lo);
		uint64_t hi = MIN(b->gpa + (i + 1) * GUEST_PAGE_SIZE, b->hi);
		uint8_t *dst;

		if (!data[i] || lo >= hi)
			continue;
		/* Between two pieces in guest RAM lies guest RAM, unless a
		 * region ends in the block. */
		dst = guest_mem_ptr(mem, lo, hi - lo);
		if (!dst)
			return -EFAULT;
		memcpy(dst, b->buf + (lo - b->gpa), hi - lo);
	}
	return 0;
}

int image_load(const struct guest_mem *mem, const struct image_file *img,
	       const struct image_piece *pieces, size_t npieces)
{
	uint64_t first = UINT64_MAX, last = 0;
	struct block b = { 0 };
	int r = 0;

	for (size_t i = 0; i < npieces; i++) {
		const struct image_piece *p = &pieces[i];

		if (!p->memsz)
			continue;
		r = check_piece(mem, img, p);
		if (r < 0)
			return r;
		first = MIN(first, ALIGN_DOWN(p->gpa, BLOCK_SIZE));
		last = MAX(last, p->gpa + p->memsz);
	}
	if (first == UINT64_MAX)
		return 0;
	/* Not malloc(): glibc may serve it from the heap and keep that. */
	b.buf = mmap(NULL, BLOCK_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b.buf == MAP_FAILED)
		return -ENOMEM;
	for (b.gpa = first; b.gpa < last; b.gpa += BLOCK_SIZE) {
		memset(b.bss, 0, sizeof(b.bss));
		r = assemble(&b, img, pieces, npieces);
		if (r < 0)
			break;
		r = r ? store(mem, &b) : 0;
		if (r < 0)
			break;
	}
	munmap(b.buf, BLOCK_SIZE);
	return r;
}
