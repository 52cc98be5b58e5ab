/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Direct 64-bit Linux boot: load a bzImage or an ELF vmlinux and an initrd,
 * and build the zero page (boot_params with its E820 map), the boot GDT and
 * identity page tables, so vCPU 0 starts at the kernel's 64-bit entry.
 */
#ifndef DUVISOR_X86_BOOT_H
#define DUVISOR_X86_BOOT_H

#include <asm/bootparam.h>
#include <stddef.h>
#include <stdint.h>

#include "accel/accel.h"
#include "core/guest_mem.h"
#include "core/image.h"

struct image_file;

enum x86_kernel_format {
	X86_KERNEL_BZIMAGE,
	X86_KERNEL_ELF,
};

struct x86_kernel {
	enum x86_kernel_format format;
	uint64_t entry;           /* guest physical 64-bit entry point */
	uint64_t image_end;       /* first byte above the loaded image */
	uint64_t initrd_addr_max; /* highest byte an initrd may occupy */
	uint32_t cmdline_max;     /* longest command line, without the NUL */
	struct setup_header hdr;  /* the image's header, or a synthetic one */
};

/* Low RAM (below the device hole) and RAM above 4 GiB for a memory size. */
void x86_ram_split(uint64_t mem_size, uint64_t *low, uint64_t *high);

/*
 * Fills out[0..max) with the E820 map for mem_size bytes of RAM; returns
 * the number of entries.
 */
size_t x86_build_e820(uint64_t mem_size, struct boot_e820_entry *out,
		      size_t max);

/*
 * Reads a kernel image (bzImage or ELF vmlinux) into guest memory. On
 * failure returns -errno and writes a one-line reason into err.
 */
int x86_load_kernel(const struct guest_mem *mem, const struct image_file *img,
		    struct x86_kernel *out, char *err, size_t errlen);

/* Places the initrd as high in low RAM as the kernel allows. */
int x86_load_initrd(const struct guest_mem *mem, const struct x86_kernel *k,
		    uint64_t low_ram_end, const struct image_file *img,
		    uint64_t *gpa, char *err, size_t errlen);

struct x86_boot_params_input {
	const struct x86_kernel *kernel;
	uint64_t mem_size;
	uint64_t cmdline_gpa;
	uint32_t cmdline_len;
	uint64_t initrd_gpa;
	uint64_t initrd_size;
	uint64_t rsdp_gpa;
};

void x86_build_boot_params(struct boot_params *bp,
			   const struct x86_boot_params_input *in);

/* Writes the reset-vector stub (see X86_RESET_VECTOR). */
int x86_write_reset_vector(const struct guest_mem *mem);

/*
 * Writes the boot GDT, IDT and identity page tables into guest memory and
 * fills the register state vCPU 0 starts with.
 */
int x86_setup_boot_cpu(const struct guest_mem *mem, uint64_t entry,
		       struct x86_boot_state *st);

#endif
