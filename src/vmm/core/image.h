/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Boot images (kernel, initrd) and how they get into guest RAM.
 *
 * Loaders read only the parts they need, straight to where they go: a boot
 * copies the file once and never holds all of it in the VMM's own memory.
 * What a boot leaves resident is most of a small VM's memory, so 2 MiB
 * blocks that an image only starts or ends in get small pages.
 */
#ifndef DUVISOR_IMAGE_H
#define DUVISOR_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"

struct image_file {
	int fd;
	uint64_t size;
};

/* Checks fd (a regular file, not empty, at most max_size bytes) and
 * records its size; returns 0 or -errno (-EINVAL: not a regular file,
 * -ENODATA: empty, -EFBIG: too large). */
int image_file_init(int fd, uint64_t max_size, struct image_file *out);
/* Reads exactly len bytes at off; -EIO when the file ends earlier (it
 * shrank since image_file_init), else 0 or -errno. */
int image_file_read(const struct image_file *img, uint64_t off, void *dst,
		    size_t len);
/* What an image_file_read() or image_load() error means, for messages. */
const char *image_file_strerror(int r);

/* filesz bytes of the file at offset go to gpa; up to memsz (the rest of
 * an ELF segment: its bss) the guest finds zeroes. */
struct image_piece {
	uint64_t gpa;
	uint64_t offset;
	uint64_t filesz;
	uint64_t memsz;
};

/*
 * Loads the pieces into guest RAM that reads as zeroes (nothing has written
 * to it since it was mapped), so bss is left alone; where pieces overlap,
 * the result is that of copying them one after the other.  A 2 MiB block
 * that the pieces occupy less than half of (bss included) is kept out of
 * huge pages before anything is written to it: the rest of it is the
 * guest's free memory, and each page of that the guest uses then costs the
 * host 4 KiB, not a share of a huge page it fills at once.  Returns 0,
 * -EINVAL (filesz > memsz), -EFAULT (a piece outside guest RAM), or a read
 * error (see image_file_read()); nothing is written unless all pieces are
 * valid.
 */
int image_load(const struct guest_mem *mem, const struct image_file *img,
	       const struct image_piece *pieces, size_t npieces);

#endif
