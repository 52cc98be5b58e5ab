// SPDX-License-Identifier: GPL-2.0-or-later
/* Zero page, E820 and kernel loading for the x86 direct boot. */
#include <elf.h>
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "core/guest_mem.h"
#include "core/util.h"
#include "x86/boot.h"
#include "x86/layout.h"

#include "test-image.h"

/* The loaders read from a file: these hand them the bytes in one. */
static int load_kernel(const struct guest_mem *mem, const void *data,
		       size_t size, struct x86_kernel *k, char *err,
		       size_t errlen)
{
	struct image_file img;
	int r;

	test_image_from_bytes(data, size, &img);
	r = x86_load_kernel(mem, &img, k, err, errlen);
	close(img.fd);
	return r;
}

static int load_initrd(const struct guest_mem *mem, const struct x86_kernel *k,
		       uint64_t low_ram_end, const void *data, size_t size,
		       uint64_t *gpa, char *err, size_t errlen)
{
	struct image_file img;
	int r;

	test_image_from_bytes(data, size, &img);
	r = x86_load_initrd(mem, k, low_ram_end, &img, gpa, err, errlen);
	close(img.fd);
	return r;
}

static void check_e820_sane(const struct boot_e820_entry *e, size_t n,
			    uint64_t mem_size)
{
	uint64_t ram = 0;

	for (size_t i = 0; i < n; i++) {
		if (i)
			g_assert_cmpuint(e[i].addr, >=, e[i - 1].addr + e[i - 1].size);
		if (e[i].type == 1) {
			ram += e[i].size;
			/* RAM never overlaps the device hole. */
			g_assert_true(e[i].addr + e[i].size <= X86_DEVICE_HOLE_START ||
				      e[i].addr >= X86_4GIB);
		}
	}
	/* All RAM is usable except the legacy BIOS/ACPI area. */
	g_assert_cmpuint(ram, ==, mem_size - (X86_HIGH_MEM_START - X86_LOW_RAM_END));
}

static void test_e820_small(void)
{
	struct boot_e820_entry e[8];
	size_t n = x86_build_e820(MIB(256), e, G_N_ELEMENTS(e));

	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpuint(e[0].addr, ==, 0);
	g_assert_cmpuint(e[0].size, ==, X86_LOW_RAM_END);
	g_assert_cmpuint(e[1].type, ==, 2);
	g_assert_cmpuint(e[2].addr, ==, X86_HIGH_MEM_START);
	g_assert_cmpuint(e[2].addr + e[2].size, ==, MIB(256));
	check_e820_sane(e, n, MIB(256));
}

static void test_e820_above_hole(void)
{
	struct boot_e820_entry e[8];
	size_t n = x86_build_e820(GIB(6), e, G_N_ELEMENTS(e));

	g_assert_cmpuint(n, ==, 4);
	g_assert_cmpuint(e[2].addr + e[2].size, ==, X86_DEVICE_HOLE_START);
	g_assert_cmpuint(e[3].addr, ==, X86_4GIB);
	g_assert_cmpuint(e[3].size, ==, GIB(6) - X86_DEVICE_HOLE_START);
	check_e820_sane(e, n, GIB(6));
}

static void test_e820_exactly_hole(void)
{
	struct boot_e820_entry e[8];
	size_t n = x86_build_e820(X86_DEVICE_HOLE_START, e, G_N_ELEMENTS(e));

	g_assert_cmpuint(n, ==, 3);
	check_e820_sane(e, n, X86_DEVICE_HOLE_START);
}

/* A synthetic bzImage: setup sectors, the header, then the payload. */
static uint8_t *make_bzimage(size_t *size, uint16_t version, uint16_t xload)
{
	const size_t setup_sects = 4, payload = 8192;
	uint8_t *img;

	*size = (setup_sects + 1) * 512 + payload;
	img = g_malloc0(*size);
	img[0x1f1] = setup_sects;
	img[0x201] = 0x6a;                        /* header length past 0x202 */
	memcpy(img + 0x202, "HdrS", 4);
	memcpy(img + 0x206, &version, 2);
	memcpy(img + 0x236, &xload, 2);           /* xloadflags */
	{
		uint32_t cmdline_size = 2047, init_size = MIB(4);
		uint32_t initrd_max = 0x7fffffff;

		memcpy(img + 0x238, &cmdline_size, 4);
		memcpy(img + 0x260, &init_size, 4);
		memcpy(img + 0x22c, &initrd_max, 4);
	}
	memset(img + (setup_sects + 1) * 512, 0xcc, payload);
	return img;
}

static void test_bzimage_load(void)
{
	struct guest_mem mem = { 0 };
	struct x86_kernel k;
	struct boot_params bp;
	char err[256] = "";
	size_t size;
	uint8_t *img = make_bzimage(&size, 0x020f, XLF_KERNEL_64);
	uint64_t initrd_gpa;
	uint8_t initrd[4096 * 3];

	g_assert_cmpint(guest_mem_add(&mem, 0, MIB(64)), ==, 0);
	g_assert_cmpint(load_kernel(&mem, img, size, &k, err, sizeof(err)),
			==, 0);
	g_assert_cmpint(k.format, ==, X86_KERNEL_BZIMAGE);
	g_assert_cmpuint(k.entry, ==, X86_KERNEL_LOAD_ADDR + 0x200);
	g_assert_cmpuint(k.cmdline_max, ==, 2047);
	g_assert_cmpuint(*(uint8_t *)guest_mem_ptr(&mem, X86_KERNEL_LOAD_ADDR, 1),
			 ==, 0xcc);

	memset(initrd, 0x5a, sizeof(initrd));
	g_assert_cmpint(load_initrd(&mem, &k, MIB(64), initrd,
					sizeof(initrd), &initrd_gpa, err,
					sizeof(err)), ==, 0);
	g_assert_cmpuint(initrd_gpa % 4096, ==, 0);
	g_assert_cmpuint(initrd_gpa + sizeof(initrd), <=, MIB(64));
	g_assert_cmpuint(initrd_gpa, >=, k.image_end);

	x86_build_boot_params(&bp, &(struct x86_boot_params_input){
		.kernel = &k, .mem_size = MIB(64),
		.cmdline_gpa = X86_CMDLINE_ADDR, .cmdline_len = 12,
		.initrd_gpa = initrd_gpa, .initrd_size = sizeof(initrd),
		.rsdp_gpa = X86_ACPI_ADDR,
	});
	g_assert_cmphex(bp.hdr.boot_flag, ==, 0xaa55);
	g_assert_cmphex(bp.hdr.header, ==, 0x53726448);
	g_assert_cmphex(bp.hdr.type_of_loader, ==, 0xff);
	g_assert_cmphex(bp.hdr.version, ==, 0x020f);
	g_assert_cmpuint(bp.hdr.cmd_line_ptr, ==, X86_CMDLINE_ADDR);
	g_assert_cmpuint(bp.hdr.ramdisk_image, ==, initrd_gpa);
	g_assert_cmpuint(bp.hdr.ramdisk_size, ==, sizeof(initrd));
	g_assert_cmpuint(bp.acpi_rsdp_addr, ==, X86_ACPI_ADDR);
	g_assert_cmpuint(bp.e820_entries, ==, 3);
	/* The layout the kernel reads must match the boot protocol. */
	g_assert_cmpuint(offsetof(struct boot_params, hdr), ==, 0x1f1);
	g_assert_cmpuint(offsetof(struct boot_params, e820_table), ==, 0x2d0);
	g_assert_cmpuint(sizeof(struct boot_params), ==, 4096);
	g_free(img);
	guest_mem_free(&mem);
}

static void test_bzimage_rejects(void)
{
	struct guest_mem mem = { 0 };
	struct x86_kernel k;
	char err[256] = "";
	size_t size;
	uint8_t *old = make_bzimage(&size, 0x020a, 0);
	uint8_t junk[4096] = { 0 };

	g_assert_cmpint(guest_mem_add(&mem, 0, MIB(64)), ==, 0);
	g_assert_cmpint(load_kernel(&mem, old, size, &k, err, sizeof(err)),
			<, 0);
	g_assert_nonnull(strstr(err, "64-bit"));
	g_assert_cmpint(load_kernel(&mem, junk, sizeof(junk), &k, err,
					sizeof(err)), <, 0);
	g_assert_nonnull(strstr(err, "not a Linux kernel"));
	/* Truncated: header claims more than the file has. */
	g_assert_cmpint(load_kernel(&mem, old, 0x210, &k, err, sizeof(err)),
			<, 0);
	g_free(old);
	guest_mem_free(&mem);
}

static void test_bzimage_too_little_ram(void)
{
	struct guest_mem mem = { 0 };
	struct x86_kernel k;
	char err[256] = "";
	size_t size;
	uint8_t *img = make_bzimage(&size, 0x020f, XLF_KERNEL_64);

	g_assert_cmpint(guest_mem_add(&mem, 0, MIB(18)), ==, 0);
	g_assert_cmpint(load_kernel(&mem, img, size, &k, err, sizeof(err)),
			==, -ENOMEM);
	g_assert_nonnull(strstr(err, "too small"));
	g_free(img);
	guest_mem_free(&mem);
}

static uint8_t *make_elf(size_t *size, uint64_t paddr, uint64_t vaddr,
			 uint64_t entry, uint64_t filesz, uint64_t memsz)
{
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = entry, .e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = 1,
	};
	Elf64_Phdr ph = {
		.p_type = PT_LOAD, .p_offset = 4096, .p_vaddr = vaddr,
		.p_paddr = paddr, .p_filesz = filesz, .p_memsz = memsz,
	};
	uint8_t *img;

	*size = 4096 + filesz;
	img = g_malloc0(*size);
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + sizeof(eh), &ph, sizeof(ph));
	memset(img + 4096, 0x90, filesz);
	return img;
}

static void test_elf_load(void)
{
	struct guest_mem mem = { 0 };
	struct x86_kernel k;
	char err[256] = "";
	size_t size;
	uint8_t *img = make_elf(&size, MIB(16), 0xffffffff81000000ull,
				0xffffffff81000000ull, 8192, 16384);
	uint8_t *p;

	g_assert_cmpint(guest_mem_add(&mem, 0, MIB(64)), ==, 0);
	p = guest_mem_ptr(&mem, MIB(16), 16384);
	g_assert_cmpint(load_kernel(&mem, img, size, &k, err, sizeof(err)),
			==, 0);
	g_assert_cmpint(k.format, ==, X86_KERNEL_ELF);
	/* A virtual entry is translated to its physical address. */
	g_assert_cmpuint(k.entry, ==, MIB(16));
	g_assert_cmpuint(k.image_end, ==, MIB(16) + 16384);
	g_assert_cmphex(p[0], ==, 0x90);
	g_assert_cmphex(p[8191], ==, 0x90);
	g_assert_cmphex(p[8192], ==, 0);   /* bss */
	g_assert_cmphex(p[16383], ==, 0);
	g_free(img);
	guest_mem_free(&mem);
}

static void test_elf_rejects_hostile(void)
{
	struct guest_mem mem = { 0 };
	struct x86_kernel k;
	char err[256] = "";
	size_t size;
	uint8_t *beyond = make_elf(&size, MIB(60), MIB(60), MIB(60), 4096,
				   MIB(8));
	uint8_t *lowmem = make_elf(&size, 0x7000, 0x7000, 0x7000, 4096, 4096);
	uint8_t *noentry = make_elf(&size, MIB(16), MIB(16), MIB(40), 4096,
				    4096);
	uint8_t *bad_off;
	Elf64_Phdr ph;

	g_assert_cmpint(guest_mem_add(&mem, 0, MIB(64)), ==, 0);
	g_assert_cmpint(load_kernel(&mem, beyond, size, &k, err,
					sizeof(err)), <, 0);
	/* Loading over the VMM's boot structures is refused. */
	g_assert_cmpint(load_kernel(&mem, lowmem, size, &k, err,
					sizeof(err)), <, 0);
	g_assert_cmpint(load_kernel(&mem, noentry, size, &k, err,
					sizeof(err)), <, 0);
	bad_off = make_elf(&size, MIB(16), MIB(16), MIB(16), 4096, 4096);
	memcpy(&ph, bad_off + sizeof(Elf64_Ehdr), sizeof(ph));
	ph.p_offset = ~0ull - 10;
	memcpy(bad_off + sizeof(Elf64_Ehdr), &ph, sizeof(ph));
	g_assert_cmpint(load_kernel(&mem, bad_off, size, &k, err,
					sizeof(err)), <, 0);
	g_free(beyond);
	g_free(lowmem);
	g_free(noentry);
	g_free(bad_off);
	guest_mem_free(&mem);
}

/* The file changes under the VMM between its checks and the boot: a
 * clear error, never a read past its end. */
static void test_image_shrunk(void)
{
	struct guest_mem mem = { 0 };
	struct image_file img;
	struct x86_kernel k;
	char err[256] = "";
	size_t size;
	uint8_t *elf = make_elf(&size, MIB(16), MIB(16), MIB(16), 8192, 8192);
	int pipe_fds[2];

	g_assert_cmpint(guest_mem_add(&mem, 0, MIB(64)), ==, 0);
	test_image_from_bytes(elf, size, &img);
	g_assert_cmpint(ftruncate(img.fd, (off_t)size - 4096), ==, 0);
	g_assert_cmpint(x86_load_kernel(&mem, &img, &k, err, sizeof(err)), ==,
			-EIO);
	g_assert_nonnull(strstr(err, "shorter"));

	/* image_file_init takes the size as it is now. */
	g_assert_cmpint(image_file_init(img.fd, MIB(1), &img), ==, 0);
	g_assert_cmpuint(img.size, ==, size - 4096);
	g_assert_cmpint(image_file_init(img.fd, 100, &img), ==, -EFBIG);
	g_assert_cmpint(ftruncate(img.fd, 0), ==, 0);
	g_assert_cmpint(image_file_init(img.fd, MIB(1), &img), ==, -ENODATA);
	close(img.fd);
	g_assert_cmpint(pipe(pipe_fds), ==, 0);
	g_assert_cmpint(image_file_init(pipe_fds[0], MIB(1), &img), ==, -EINVAL);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	g_free(elf);
	guest_mem_free(&mem);
}

static void test_boot_cpu_state(void)
{
	struct guest_mem mem = { 0 };
	struct x86_boot_state st;
	uint64_t *gdt, *pd;

	g_assert_cmpint(guest_mem_add(&mem, 0, MIB(32)), ==, 0);
	g_assert_cmpint(x86_setup_boot_cpu(&mem, 0x100200, &st), ==, 0);
	g_assert_cmpuint(st.rip, ==, 0x100200);
	g_assert_cmpuint(st.rsi, ==, X86_ZERO_PAGE_ADDR);
	g_assert_cmpuint(st.cr3, ==, X86_PML4_ADDR);
	g_assert_cmpuint(st.code_sel, ==, 0x10);
	g_assert_cmpuint(st.data_sel, ==, 0x18);
	gdt = guest_mem_ptr(&mem, X86_GDT_ADDR, 40);
	g_assert_cmphex(gdt[2], ==, 0x00af9b000000ffffull);
	g_assert_cmphex(gdt[3], ==, 0x00cf93000000ffffull);
	pd = guest_mem_ptr(&mem, X86_PD_ADDR, 4096);
	g_assert_cmphex(pd[1], ==, 0x200083);
	g_assert_cmphex(pd[511], ==, (511ull << 21) | 0x83);
	guest_mem_free(&mem);
}

static void test_reset_vector(void)
{
	struct guest_mem mem = { 0 };
	const uint8_t *p;

	g_assert_cmpint(guest_mem_add(&mem, 0, MIB(2)), ==, 0);
	g_assert_cmpint(x86_write_reset_vector(&mem), ==, 0);
	p = guest_mem_ptr(&mem, X86_RESET_VECTOR, 9);
	/* mov al, 1; mov dx, 0x602; out dx, al: the ACPI reset register. */
	g_assert_cmphex(p[0], ==, 0xb0);
	g_assert_cmphex(p[1], ==, X86_PM_RESET_VALUE);
	g_assert_cmphex(p[2], ==, 0xba);
	g_assert_cmphex(p[3] | (p[4] << 8), ==, X86_PM_RESET);
	g_assert_cmphex(p[5], ==, 0xee);
	/* The stub stays inside the real-mode segment F000. */
	g_assert_cmpuint(X86_RESET_VECTOR + 9, <=, 0x100000);
	/* and clear of the ACPI tables. */
	g_assert_cmpuint(X86_ACPI_ADDR + X86_ACPI_SIZE, <=, X86_RESET_VECTOR);
	guest_mem_free(&mem);
}

static void test_guest_mem_bounds(void)
{
	struct guest_mem mem = { 0 };

	g_assert_cmpint(guest_mem_add(&mem, 0, MIB(4)), ==, 0);
	g_assert_cmpint(guest_mem_add(&mem, X86_4GIB, MIB(4)), ==, 0);
	g_assert_nonnull(guest_mem_ptr(&mem, MIB(4) - 8, 8));
	g_assert_null(guest_mem_ptr(&mem, MIB(4) - 8, 9));
	g_assert_null(guest_mem_ptr(&mem, MIB(4), 1));
	g_assert_nonnull(guest_mem_ptr(&mem, X86_4GIB, MIB(4)));
	g_assert_null(guest_mem_ptr(&mem, X86_4GIB + 1, ~0ull));
	g_assert_null(guest_mem_ptr(&mem, ~0ull, 2));
	g_assert_cmpuint(guest_mem_total(&mem), ==, MIB(8));
	/* 2 MiB aligned, so the accelerator can use huge pages. */
	g_assert_cmpuint((uintptr_t)mem.regions[0].hva % MIB(2), ==, 0);
	g_assert_cmpuint((uintptr_t)mem.regions[1].hva % MIB(2), ==, 0);
	guest_mem_free(&mem);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/boot/e820/small", test_e820_small);
	g_test_add_func("/boot/e820/above-hole", test_e820_above_hole);
	g_test_add_func("/boot/e820/exactly-hole", test_e820_exactly_hole);
	g_test_add_func("/boot/bzimage/load", test_bzimage_load);
	g_test_add_func("/boot/bzimage/rejects", test_bzimage_rejects);
	g_test_add_func("/boot/bzimage/too-little-ram", test_bzimage_too_little_ram);
	g_test_add_func("/boot/elf/load", test_elf_load);
	g_test_add_func("/boot/elf/rejects-hostile", test_elf_rejects_hostile);
	g_test_add_func("/boot/image-shrunk", test_image_shrunk);
	g_test_add_func("/boot/cpu-state", test_boot_cpu_state);
	g_test_add_func("/boot/guest-mem-bounds", test_guest_mem_bounds);
	g_test_add_func("/boot/reset-vector", test_reset_vector);
	return g_test_run();
}
