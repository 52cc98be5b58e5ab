// SPDX-License-Identifier: GPL-2.0-or-later
#include "x86/boot.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "x86/layout.h"

#define SETUP_HEADER_OFFSET  0x1f1
#define SETUP_HDRS_MAGIC     0x53726448u  /* "HdrS" */
#define BOOT_FLAG_MAGIC      0xaa55
#define BZIMAGE_MIN_VERSION  0x020c       /* 2.12: XLF_KERNEL_64 */
#define LOADER_TYPE_UNKNOWN  0xff
#define ENTRY_64_OFFSET      0x200
#define DEFAULT_CMDLINE_MAX  2047
#define DEFAULT_INITRD_MAX   0x7fffffffULL
/* Where a relocatable kernel decompresses itself when loaded lower. */
#define KERNEL_MIN_PHYS      MIB(16)

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

void x86_ram_split(uint64_t mem_size, uint64_t *low, uint64_t *high)
{
	*low = MIN(mem_size, X86_DEVICE_HOLE_START);
	*high = mem_size - *low;
}

size_t x86_build_e820(uint64_t mem_size, struct boot_e820_entry *out,
		      size_t max)
{
	uint64_t low, high;
	size_t n = 0;

	x86_ram_split(mem_size, &low, &high);
	if (max < 4)
		return 0;
	out[n++] = (struct boot_e820_entry){ 0, X86_LOW_RAM_END, 1 };
	/* EBDA, video and BIOS area; the ACPI tables sit in here. */
	out[n++] = (struct boot_e820_entry){
		X86_LOW_RAM_END, X86_HIGH_MEM_START - X86_LOW_RAM_END, 2 };
	if (low > X86_HIGH_MEM_START)
		out[n++] = (struct boot_e820_entry){
			X86_HIGH_MEM_START, low - X86_HIGH_MEM_START, 1 };
	if (high)
		out[n++] = (struct boot_e820_entry){ X86_4GIB, high, 1 };
	return n;
}

/* Enough for the setup header (it ends before 0x280) and an ELF header. */
#define HEADER_READ_SIZE 1024
/* A vmlinux has four or five; a bound keeps a hostile file cheap. */
#define MAX_LOAD_SEGMENTS 16

static int read_failed(char *err, size_t errlen, int r, const char *what)
{
	return fail(err, errlen, r, "cannot read the %s: %s", what,
		    image_file_strerror(r));
}

static int load_bzimage(const struct guest_mem *mem,
			const struct image_file *img, const uint8_t *head,
			size_t head_len, struct x86_kernel *k, char *err,
			size_t errlen)
{
	size_t setup_sects, setup_size, hdr_len;
	uint64_t image_size;
	int r;

	memset(k, 0, sizeof(*k));
	hdr_len = 0x202 + (size_t)head[0x201] - SETUP_HEADER_OFFSET;
	hdr_len = MIN(hdr_len, sizeof(k->hdr));
	if (SETUP_HEADER_OFFSET + hdr_len > head_len)
		return fail(err, errlen, -EINVAL, "truncated bzImage header");
	memcpy(&k->hdr, head + SETUP_HEADER_OFFSET, hdr_len);
	if (k->hdr.version < BZIMAGE_MIN_VERSION ||
	    !(k->hdr.xloadflags & XLF_KERNEL_64))
		return fail(err, errlen, -ENOTSUP,
			    "bzImage boot protocol %u.%u has no 64-bit entry "
			    "(need 2.12 or later)", k->hdr.version >> 8,
			    k->hdr.version & 0xff);
	setup_sects = k->hdr.setup_sects ? k->hdr.setup_sects : 4;
	setup_size = (setup_sects + 1) * 512;
	if (setup_size >= img->size)
		return fail(err, errlen, -EINVAL, "bzImage has no kernel after "
			    "its %zu setup bytes", setup_size);
	image_size = img->size - setup_size;
	if (!guest_mem_ptr(mem, X86_KERNEL_LOAD_ADDR, image_size))
		return fail(err, errlen, -ENOMEM, "kernel (%llu bytes) does not "
			    "fit in guest RAM",
			    (unsigned long long)image_size);
	/* The decompressor needs init_size bytes where it lands. */
	if (!guest_mem_ptr(mem, KERNEL_MIN_PHYS, k->hdr.init_size))
		return fail(err, errlen, -ENOMEM, "guest RAM too small: the "
			    "kernel needs %u MiB above 16 MiB to decompress",
			    (unsigned)(k->hdr.init_size >> 20) + 1);
	r = image_load(mem, img, &(struct image_piece){
		.gpa = X86_KERNEL_LOAD_ADDR, .offset = setup_size,
		.filesz = image_size, .memsz = image_size }, 1);
	if (r < 0)
		return read_failed(err, errlen, r, "kernel");
	k->format = X86_KERNEL_BZIMAGE;
	k->entry = X86_KERNEL_LOAD_ADDR + ENTRY_64_OFFSET;
	k->image_end = MAX(X86_KERNEL_LOAD_ADDR + image_size,
			   KERNEL_MIN_PHYS + k->hdr.init_size);
	k->cmdline_max = k->hdr.cmdline_size ? k->hdr.cmdline_size :
			 DEFAULT_CMDLINE_MAX;
	k->initrd_addr_max = k->hdr.initrd_addr_max ? k->hdr.initrd_addr_max :
			     DEFAULT_INITRD_MAX;
	return 0;
}

/* Checks one PT_LOAD segment and adds it to what load_elf() loads. */
static int add_segment(const struct guest_mem *mem,
		       const struct image_file *img, const Elf64_Phdr *ph,
		       unsigned index, struct image_piece *piece, char *err,
		       size_t errlen)
{
	if (ph->p_filesz > ph->p_memsz || ph->p_offset > img->size ||
	    ph->p_filesz > img->size - ph->p_offset)
		return fail(err, errlen, -ENOEXEC,
			    "ELF segment %u lies outside the file", index);
	if (!guest_mem_ptr(mem, ph->p_paddr, ph->p_memsz) ||
	    ph->p_paddr < X86_HIGH_MEM_START)
		return fail(err, errlen, -ENOMEM, "ELF segment %u "
			    "(%#llx+%#llx) is not in guest RAM", index,
			    (unsigned long long)ph->p_paddr,
			    (unsigned long long)ph->p_memsz);
	*piece = (struct image_piece){
		.gpa = ph->p_paddr, .offset = ph->p_offset,
		.filesz = ph->p_filesz, .memsz = ph->p_memsz,
	};
	return 0;
}

static int load_elf(const struct guest_mem *mem, const struct image_file *img,
		    const uint8_t *head, size_t head_len, struct x86_kernel *k,
		    char *err, size_t errlen)
{
	struct image_piece pieces[MAX_LOAD_SEGMENTS];
	size_t npieces = 0;
	Elf64_Ehdr eh;
	uint64_t entry;
	bool entry_mapped = false;
	int r;

	memset(k, 0, sizeof(*k));
	if (head_len < sizeof(eh))
		return fail(err, errlen, -ENOEXEC, "not a 64-bit x86 ELF kernel");
	memcpy(&eh, head, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
		return fail(err, errlen, -ENOEXEC, "not a 64-bit x86 ELF kernel");
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_phnum ||
	    eh.e_phoff > img->size ||
	    (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > img->size - eh.e_phoff)
		return fail(err, errlen, -ENOEXEC, "bad ELF program headers");
	entry = eh.e_entry;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		r = image_file_read(img, eh.e_phoff + i * sizeof(ph), &ph,
				    sizeof(ph));
		if (r < 0)
			return read_failed(err, errlen, r, "kernel");
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (npieces == MAX_LOAD_SEGMENTS)
			return fail(err, errlen, -ENOEXEC, "more than %d ELF "
				    "segments to load", MAX_LOAD_SEGMENTS);
		r = add_segment(mem, img, &ph, i, &pieces[npieces++], err,
				errlen);
		if (r < 0)
			return r;
		k->image_end = MAX(k->image_end, ph.p_paddr + ph.p_memsz);
		/* vmlinux names its entry physically; accept a virtual one. */
		if (entry >= ph.p_paddr && entry - ph.p_paddr < ph.p_memsz)
			entry_mapped = true;
		else if (entry >= ph.p_vaddr && entry - ph.p_vaddr < ph.p_memsz) {
			entry = entry - ph.p_vaddr + ph.p_paddr;
			entry_mapped = true;
		}
	}
	if (!entry_mapped)
		return fail(err, errlen, -ENOEXEC,
			    "ELF entry point %#llx is in no loaded segment",
			    (unsigned long long)eh.e_entry);
	r = image_load(mem, img, pieces, npieces);
	if (r < 0)
		return read_failed(err, errlen, r, "kernel");
	k->format = X86_KERNEL_ELF;
	k->entry = entry;
	k->cmdline_max = DEFAULT_CMDLINE_MAX;
	k->initrd_addr_max = DEFAULT_INITRD_MAX;
	k->hdr.boot_flag = BOOT_FLAG_MAGIC;
	k->hdr.header = SETUP_HDRS_MAGIC;
	k->hdr.kernel_alignment = (uint32_t)MIB(16);
	return 0;
}

int x86_load_kernel(const struct guest_mem *mem, const struct image_file *img,
		    struct x86_kernel *out, char *err, size_t errlen)
{
	uint8_t head[HEADER_READ_SIZE];
	size_t head_len = (size_t)MIN(img->size, sizeof(head));
	uint32_t magic;
	int r;

	r = image_file_read(img, 0, head, head_len);
	if (r < 0)
		return read_failed(err, errlen, r, "kernel");
	if (head_len >= SELFMAG && !memcmp(head, ELFMAG, SELFMAG))
		return load_elf(mem, img, head, head_len, out, err, errlen);
	if (head_len >= 0x206) {
		memcpy(&magic, head + 0x202, sizeof(magic));
		if (magic == SETUP_HDRS_MAGIC)
			return load_bzimage(mem, img, head, head_len, out, err,
					    errlen);
	}
	return fail(err, errlen, -ENOEXEC,
		    "not a Linux kernel (neither a bzImage nor an ELF vmlinux)");
}

int x86_load_initrd(const struct guest_mem *mem, const struct x86_kernel *k,
		    uint64_t low_ram_end, const struct image_file *img,
		    uint64_t *gpa, char *err, size_t errlen)
{
	uint64_t top = MIN(low_ram_end, k->initrd_addr_max + 1);
	uint64_t size = img->size;
	uint64_t addr;
	int r;

	if (size > top || ALIGN_DOWN(top - size, 4096) < k->image_end)
		return fail(err, errlen, -ENOMEM, "the initrd (%llu MiB) does "
			    "not fit in guest RAM above the kernel",
			    (unsigned long long)(size >> 20));
	addr = ALIGN_DOWN(top - size, 4096);
	if (!guest_mem_ptr(mem, addr, size))
		return fail(err, errlen, -EFAULT, "initrd outside guest RAM");
	r = image_load(mem, img, &(struct image_piece){
		.gpa = addr, .filesz = size, .memsz = size }, 1);
	if (r < 0)
		return read_failed(err, errlen, r, "initrd");
	*gpa = addr;
	return 0;
}

void x86_build_boot_params(struct boot_params *bp,
			   const struct x86_boot_params_input *in)
{
	struct boot_e820_entry e820[E820_MAX_ENTRIES_ZEROPAGE];
	size_t n;

	memset(bp, 0, sizeof(*bp));
	bp->hdr = in->kernel->hdr;
	bp->hdr.type_of_loader = LOADER_TYPE_UNKNOWN;
	bp->hdr.boot_flag = BOOT_FLAG_MAGIC;
	bp->hdr.header = SETUP_HDRS_MAGIC;
	bp->hdr.cmd_line_ptr = (uint32_t)in->cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(in->cmdline_gpa >> 32);
	bp->hdr.cmdline_size = in->cmdline_len;
	bp->hdr.ramdisk_image = (uint32_t)in->initrd_gpa;
	bp->ext_ramdisk_image = (uint32_t)(in->initrd_gpa >> 32);
	bp->hdr.ramdisk_size = (uint32_t)in->initrd_size;
	bp->ext_ramdisk_size = (uint32_t)(in->initrd_size >> 32);
	bp->acpi_rsdp_addr = in->rsdp_gpa;
	n = x86_build_e820(in->mem_size, e820, ARRAY_SIZE(e820));
	memcpy(bp->e820_table, e820, n * sizeof(e820[0]));
	bp->e820_entries = (uint8_t)n;
}

int x86_write_reset_vector(const struct guest_mem *mem)
{
	const uint8_t stub[] = {
		0xb0, X86_PM_RESET_VALUE,                  /* mov al, value */
		0xba, X86_PM_RESET & 0xff, X86_PM_RESET >> 8, /* mov dx, port */
		0xee,                                      /* out dx, al */
		0xf4,                                      /* hlt */
		0xeb, 0xfd,                                /* jmp hlt */
	};

	return guest_mem_write(mem, X86_RESET_VECTOR, stub, sizeof(stub));
}

/* A segment descriptor from its access/flags word, base and limit. */
static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) |
	       ((uint64_t)(flags & 0xf0ffu) << 40) |
	       ((uint64_t)(limit & 0x000f0000u) << 32) |
	       ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (uint64_t)(limit & 0x0000ffffu);
}

int x86_setup_boot_cpu(const struct guest_mem *mem, uint64_t entry,
		       struct x86_boot_state *st)
{
	/* The 64-bit boot protocol wants __BOOT_CS = 0x10, __BOOT_DS = 0x18. */
	const uint64_t gdt[] = {
		0,
		0,
		gdt_entry(0xa09b, 0, 0xfffff),  /* 0x10: 64-bit code */
		gdt_entry(0xc093, 0, 0xfffff),  /* 0x18: data */
		gdt_entry(0x808b, 0, 0xfffff),  /* 0x20: TSS */
	};
	const uint64_t idt = 0;
	uint64_t *pml4, *pdpt, *pd;

	if (guest_mem_write(mem, X86_GDT_ADDR, gdt, sizeof(gdt)) < 0 ||
	    guest_mem_write(mem, X86_IDT_ADDR, &idt, sizeof(idt)) < 0)
		return -EFAULT;
	pml4 = guest_mem_ptr(mem, X86_PML4_ADDR, 4096);
	pdpt = guest_mem_ptr(mem, X86_PDPT_ADDR, 4096);
	pd = guest_mem_ptr(mem, X86_PD_ADDR, 4096);
	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	/* Identity map the first GiB with 2 MiB pages: enough for the
	 * kernel to reach its own page tables. */
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = X86_PDPT_ADDR | 0x3;
	pdpt[0] = X86_PD_ADDR | 0x3;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | 0x83;

	*st = (struct x86_boot_state){
		.rip = entry,
		.rsp = X86_BOOT_STACK_ADDR,
		.rsi = X86_ZERO_PAGE_ADDR,
		.cr3 = X86_PML4_ADDR,
		.gdt_base = X86_GDT_ADDR,
		.gdt_limit = sizeof(gdt) - 1,
		.idt_base = X86_IDT_ADDR,
		.idt_limit = sizeof(idt) - 1,
		.code_sel = 0x10,
		.data_sel = 0x18,
		.tss_sel = 0x20,
	};
	return 0;
}
