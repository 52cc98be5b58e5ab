// SPDX-License-Identifier: GPL-2.0-or-later
/* RISC-V Image loading: header checks and where everything goes in RAM. */
#include "riscv/boot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"

#define HDR_TEXT_OFFSET 8
#define HDR_IMAGE_SIZE  16
#define HDR_FLAGS       24
#define HDR_VERSION     32
#define HDR_MAGIC       48    /* "RISCV\0\0\0", deprecated but still set */
#define HDR_MAGIC2      56    /* "RSC\x05" since header version 0.2 */
#define FLAG_BIG_ENDIAN 1u

/* Kernels older than header 0.2 left text_offset zero: 2 MiB is theirs. */
#define DEFAULT_TEXT_OFFSET RISCV_KERNEL_ALIGN
#define PAGE_SIZE_4K 4096u

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int riscv_parse_image(const uint8_t *data, size_t size,
		      struct riscv_image *out, char *err, size_t errlen)
{
	uint64_t flags;

	if (size < RISCV_IMAGE_HEADER_SIZE) {
		snprintf(err, errlen, "too small for a RISC-V Image (%zu bytes)",
			 size);
		return -EINVAL;
	}
	if (memcmp(data + HDR_MAGIC2, "RSC\x05", 4) &&
	    memcmp(data + HDR_MAGIC, "RISCV\0\0\0", 8)) {
		snprintf(err, errlen, "not a RISC-V Linux Image (no header "
			 "magic; an ELF vmlinux or a compressed Image.gz is "
			 "not supported)");
		return -EINVAL;
	}
	flags = get_le64(data + HDR_FLAGS);
	if (flags & FLAG_BIG_ENDIAN) {
		snprintf(err, errlen, "big-endian kernel");
		return -EINVAL;
	}
	out->text_offset = get_le64(data + HDR_TEXT_OFFSET);
	out->image_size = get_le64(data + HDR_IMAGE_SIZE);
	if (out->text_offset == 0 && out->image_size == 0)
		out->text_offset = DEFAULT_TEXT_OFFSET;
	if (out->text_offset % RISCV_KERNEL_ALIGN || out->text_offset > GIB(1)) {
		snprintf(err, errlen, "text_offset %#llx is not a 2 MiB "
			 "multiple below 1 GiB",
			 (unsigned long long)out->text_offset);
		return -EINVAL;
	}
	/* The file never describes less than itself. */
	if (out->image_size < size)
		out->image_size = size;
	if (out->image_size > GIB(2)) {
		snprintf(err, errlen, "image_size %#llx is implausible",
			 (unsigned long long)out->image_size);
		return -EINVAL;
	}
	return 0;
}

static int read_into(const struct guest_mem *mem, uint64_t gpa,
		     const struct image_file *img, const char *what, char *err,
		     size_t errlen)
{
	int r;

	if (!guest_mem_ptr(mem, gpa, img->size)) {
		snprintf(err, errlen, "guest RAM does not cover the %s", what);
		return -EINVAL;
	}
	r = image_load(mem, img, &(struct image_piece){
		.gpa = gpa, .filesz = img->size, .memsz = img->size }, 1);
	if (r < 0)
		snprintf(err, errlen, "cannot read the %s: %s", what,
			 image_file_strerror(r));
	return r;
}

int riscv_load(const struct guest_mem *mem, uint64_t ram_base,
	       uint64_t ram_size, const struct image_file *kernel,
	       const struct image_file *initrd, uint64_t fdt_max,
	       struct riscv_boot_layout *out, char *err, size_t errlen)
{
	uint8_t head[RISCV_IMAGE_HEADER_SIZE] = { 0 };
	struct riscv_image img;
	uint64_t ram_end = ram_base + ram_size;
	uint64_t initrd_size = initrd ? initrd->size : 0;
	uint64_t below;
	int r;

	memset(out, 0, sizeof(*out));
	if (kernel->size >= sizeof(head)) {
		r = image_file_read(kernel, 0, head, sizeof(head));
		if (r < 0) {
			snprintf(err, errlen, "cannot read the kernel: %s",
				 image_file_strerror(r));
			return r;
		}
	}
	r = riscv_parse_image(head, (size_t)kernel->size, &img, err, errlen);
	if (r < 0)
		return r;
	out->kernel_gpa = ram_base + img.text_offset;
	out->kernel_end = out->kernel_gpa + img.image_size;
	/* The device tree on a 2 MiB boundary at the top, as firmware does:
	 * the kernel maps it early with one large page. */
	if (fdt_max + RISCV_KERNEL_ALIGN > ram_size) {
		snprintf(err, errlen, "RAM too small");
		return -ENOSPC;
	}
	out->fdt_gpa = ALIGN_DOWN(ram_end - fdt_max, RISCV_KERNEL_ALIGN);
	below = out->fdt_gpa;
	if (initrd_size) {
		if (initrd_size > below - ram_base) {
			snprintf(err, errlen, "the initrd (%llu bytes) does not "
				 "fit in RAM", (unsigned long long)initrd_size);
			return -ENOSPC;
		}
		out->initrd_gpa = ALIGN_DOWN(below - initrd_size, PAGE_SIZE_4K);
		out->initrd_size = initrd_size;
		below = out->initrd_gpa;
	}
	if (out->kernel_end > below) {
		snprintf(err, errlen, "RAM too small: the kernel needs up to "
			 "%#llx, the initrd and device tree start at %#llx",
			 (unsigned long long)out->kernel_end,
			 (unsigned long long)below);
		return -ENOSPC;
	}
	r = read_into(mem, out->kernel_gpa, kernel, "kernel", err, errlen);
	if (!r && initrd_size)
		r = read_into(mem, out->initrd_gpa, initrd, "initrd", err,
			      errlen);
	return r;
}
