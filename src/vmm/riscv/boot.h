/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The RISC-V Linux boot protocol (Documentation/riscv/boot.rst and
 * boot-image-header.rst): a flat Image with a 64-byte header is loaded at
 * RAM base + text_offset, 2 MiB aligned; the boot hart enters it in
 * S-mode with a0 = hart id and a1 = the device tree's physical address.
 * The initrd and the device tree go at the top of RAM.
 */
#ifndef DUVISOR_RISCV_BOOT_H
#define DUVISOR_RISCV_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"
#include "core/image.h"

struct image_file;

#define RISCV_IMAGE_HEADER_SIZE 64
/* rv64 kernels map themselves with 2 MiB pages: they must start aligned. */
#define RISCV_KERNEL_ALIGN      (2ull << 20)

struct riscv_image {
	uint64_t text_offset;     /* from the start of RAM */
	uint64_t image_size;      /* memory the kernel occupies, bss included */
};

/* Checks the Image header; returns 0 or -EINVAL with a reason in err. */
int riscv_parse_image(const uint8_t *data, size_t size,
		      struct riscv_image *out, char *err, size_t errlen);

struct riscv_boot_layout {
	uint64_t kernel_gpa, kernel_end;
	uint64_t initrd_gpa;      /* 0 without an initrd */
	uint64_t initrd_size;
	uint64_t fdt_gpa;         /* fdt_max bytes reserved there */
};

/*
 * Reads the kernel and the initrd (NULL: none) into guest RAM [ram_base,
 * ram_base + ram_size) and leaves fdt_max bytes for the device tree.
 * Returns 0, or -EINVAL / -ENOSPC / -EIO with a reason in err.
 */
int riscv_load(const struct guest_mem *mem, uint64_t ram_base,
	       uint64_t ram_size, const struct image_file *kernel,
	       const struct image_file *initrd, uint64_t fdt_max,
	       struct riscv_boot_layout *out, char *err, size_t errlen);

#endif
