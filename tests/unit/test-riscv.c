// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The RISC-V machine model without KVM: the FDT writer, the device tree,
 * Image loading and the PLIC. Built and run on every architecture.
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "accel/accel.h"
#include "core/fdt.h"
#include "core/guest_mem.h"
#include "core/util.h"
#include "devices/plic.h"
#include "riscv/boot.h"
#include "riscv/dt.h"
#include "riscv/layout.h"
#include "riscv/sbi.h"

#include "test-image.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Walks a blob and prints "/path:prop=len" lines (nodes as "/path{");
 * checks every offset on the way, as a guest kernel would need them.
 */
static GString *walk(const uint8_t *blob, size_t size)
{
	GString *out = g_string_new(NULL);
	GString *path = g_string_new(NULL);
	uint32_t off_struct = be32(blob + 8), off_strings = be32(blob + 12);
	uint32_t size_struct = be32(blob + 36), size_strings = be32(blob + 32);
	size_t p = off_struct;

	g_assert_cmpuint(be32(blob), ==, FDT_MAGIC);
	g_assert_cmpuint(be32(blob + 4), ==, size);
	g_assert_cmpuint(be32(blob + 20), ==, 17);
	g_assert_cmpuint(off_struct % 4, ==, 0);
	g_assert_cmpuint(off_struct + size_struct, <=, off_strings);
	g_assert_cmpuint(off_strings + size_strings, ==, size);
	for (;;) {
		uint32_t token;

		g_assert_cmpuint(p + 4, <=, off_struct + size_struct);
		token = be32(blob + p);
		p += 4;
		if (token == FDT_END)
			break;
		if (token == FDT_BEGIN_NODE) {
			const char *name = (const char *)blob + p;

			g_string_append_printf(path, "/%s", name);
			g_string_append_printf(out, "%s{\n", path->str);
			p += ALIGN_UP(strlen(name) + 1, 4);
		} else if (token == FDT_END_NODE) {
			char *slash = strrchr(path->str, '/');

			g_assert_nonnull(slash);
			g_string_truncate(path, (gsize)(slash - path->str));
		} else {
			uint32_t len, nameoff;

			g_assert_cmpuint(token, ==, FDT_PROP);
			len = be32(blob + p);
			nameoff = be32(blob + p + 4);
			g_assert_cmpuint(nameoff, <, size_strings);
			g_string_append_printf(out, "%s:%s=%u\n", path->str,
					       (const char *)blob + off_strings +
					       nameoff, len);
			p += 8 + ALIGN_UP(len, 4);
		}
	}
	g_assert_cmpuint(path->len, ==, 0);
	g_string_free(path, TRUE);
	return out;
}

static void test_fdt_writer(void)
{
	static const char *const compat[] = { "a,b", "c" };
	uint8_t blob[1024];
	struct fdt f;
	GString *s;
	long n;

	fdt_init(&f);
	fdt_begin_node(&f, "");
	fdt_prop_u32(&f, "#size-cells", 2);
	fdt_begin_node(&f, "node@1");
	fdt_prop_strings(&f, "compatible", compat, 2);
	fdt_prop_u64(&f, "big", 0x1122334455667788ull);
	fdt_prop_empty(&f, "flag");
	g_assert_cmpuint(fdt_phandle(&f), ==, 1);
	g_assert_cmpuint(fdt_phandle(&f), ==, 2);
	fdt_end_node(&f);
	fdt_prop_u32(&f, "#size-cells", 1);   /* a name used twice */
	fdt_end_node(&f);
	g_assert_cmpint(fdt_finish(&f, blob, 16), ==, -E2BIG);
	n = fdt_finish(&f, blob, sizeof(blob));
	g_assert_cmpint(n, >, 0);
	s = walk(blob, (size_t)n);
	g_assert_cmpstr(s->str, ==,
			"/{\n"
			"/:#size-cells=4\n"
			"//node@1{\n"
			"//node@1:compatible=6\n"
			"//node@1:big=8\n"
			"//node@1:flag=0\n"
			"/:#size-cells=4\n");
	/* Each property name once in the strings block. */
	g_assert_cmpuint(be32(blob + 32), ==,
			 strlen("#size-cells compatible big flag "));
	g_string_free(s, TRUE);
	fdt_free(&f);
}

static void test_fdt_unbalanced(void)
{
	uint8_t blob[256];
	struct fdt f;

	fdt_init(&f);
	fdt_begin_node(&f, "");
	g_assert_cmpint(fdt_finish(&f, blob, sizeof(blob)), ==, -EINVAL);
	fdt_end_node(&f);
	fdt_end_node(&f);
	g_assert_cmpint(fdt_finish(&f, blob, sizeof(blob)), ==, -EINVAL);
	fdt_free(&f);

	fdt_init(&f);
	fdt_prop_u32(&f, "outside", 1);       /* no node open */
	g_assert_cmpint(fdt_finish(&f, blob, sizeof(blob)), ==, -EINVAL);
	fdt_free(&f);
}

static void test_isa_string(void)
{
	char buf[RISCV_ISA_STRING_MAX];
	uint64_t isa = 0;

	for (const char *c = "acdfhim"; *c; c++)
		isa |= 1ull << (*c - 'a');
	riscv_isa_string(isa, 0, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "rv64imafdc");   /* canonical order, no h */
	riscv_isa_string(isa, 0, buf, 6);
	g_assert_cmpstr(buf, ==, "rv64i");
	riscv_isa_string(isa, 1u << RISCV_ISA_EXT_SSTC |
			 1u << RISCV_ISA_EXT_ZIHINTPAUSE, buf, sizeof(buf));
	g_assert_cmpstr(buf, ==, "rv64imafdc_sstc_zihintpause");
	/* No room for a whole name: left out, not cut. */
	riscv_isa_string(isa, 1u << RISCV_ISA_EXT_ZIHINTPAUSE, buf, 16);
	g_assert_cmpstr(buf, ==, "rv64imafdc");
}

static void fill_dt_config(struct riscv_dt_config *cfg, uint32_t ncpus)
{
	*cfg = (struct riscv_dt_config){
		.ncpus = ncpus,
		.isa = "rv64imafdc",
		.timebase_hz = 10000000,
		.ram_base = RISCV_RAM_BASE,
		.ram_size = MIB(256),
		.plic_base = RISCV_PLIC_BASE,
		.plic_size = RISCV_PLIC_SIZE,
		.plic_sources = RISCV_PLIC_SOURCES,
		.uart = { RISCV_UART_BASE, RISCV_UART_SIZE, RISCV_UART_IRQ },
		.uart_clock = RISCV_UART_CLOCK,
		.nvirtio = 2,
		.virtio = {
			{ RISCV_VIRTIO_BASE, 0x200, 2 },
			{ RISCV_VIRTIO_BASE + 0x1000, 0x200, 3 },
		},
		.bootargs = "console=ttyS0",
		.initrd_start = 0x8f000000,
		.initrd_end = 0x8f100000,
	};
}

static void test_dt_structure(void)
{
	struct riscv_dt_config cfg;
	uint8_t blob[RISCV_FDT_MAX];
	GString *s;
	long n;

	fill_dt_config(&cfg, 2);
	n = riscv_build_dt(&cfg, blob, sizeof(blob));
	g_assert_cmpint(n, >, 0);
	s = walk(blob, (size_t)n);
	g_assert_nonnull(strstr(s->str, "/cpus/cpu@1/interrupt-controller:phandle=4\n"));
	/* Two cells per hart: <&intc 9>. */
	g_assert_nonnull(strstr(s->str, "/soc/interrupt-controller@c000000:"
				"interrupts-extended=16\n"));
	g_assert_nonnull(strstr(s->str, "/soc/serial@10000000:interrupts=4\n"));
	g_assert_nonnull(strstr(s->str, "/soc/virtio_mmio@10002000{\n"));
	g_assert_nonnull(strstr(s->str, "/chosen:linux,initrd-end=8\n"));
	g_string_free(s, TRUE);

	/* No initrd: no initrd properties. */
	cfg.initrd_start = cfg.initrd_end = 0;
	n = riscv_build_dt(&cfg, blob, sizeof(blob));
	s = walk(blob, (size_t)n);
	g_assert_null(strstr(s->str, "linux,initrd"));
	g_string_free(s, TRUE);

	cfg.ncpus = 0;
	g_assert_cmpint(riscv_build_dt(&cfg, blob, sizeof(blob)), ==, -EINVAL);
	cfg.ncpus = 65;
	g_assert_cmpint(riscv_build_dt(&cfg, blob, sizeof(blob)), ==, -EINVAL);
	fill_dt_config(&cfg, 1);
	g_assert_cmpint(riscv_build_dt(&cfg, blob, 100), ==, -E2BIG);
}

/* dtc reads the blob back as the source we mean (dtc is a test dependency,
 * tools/install-deps). */
static void test_dt_dtc(void)
{
	struct riscv_dt_config cfg;
	uint8_t blob[RISCV_FDT_MAX];
	g_autofree char *dir = g_dir_make_tmp("dt-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(dir, "riscv.dtb", NULL);
	g_autofree char *out = NULL, *err = NULL;
	char *argv[] = { "dtc", "-I", "dtb", "-O", "dts", file, NULL };
	int status;
	long n;

	fill_dt_config(&cfg, 2);
	n = riscv_build_dt(&cfg, blob, sizeof(blob));
	g_assert_cmpint(n, >, 0);
	g_assert_true(g_file_set_contents(file, (const char *)blob, n, NULL));
	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
				   NULL, &out, &err, &status, NULL));
	g_assert_cmpint(status, ==, 0);
	/* dtc checks the bindings it knows (interrupt providers...). */
	g_assert_null(strstr(err, "Warning"));
	/* dtc 1.6 prints a string list as one string with \0 inside. */
	g_assert_true(strstr(out, "compatible = \"sifive,plic-1.0.0\\0riscv,plic0\";") ||
		      strstr(out, "compatible = \"sifive,plic-1.0.0\", \"riscv,plic0\";"));
	g_assert_nonnull(strstr(out, "interrupts-extended = <0x01 0x09 0x02 0x09>;"));
	g_assert_nonnull(strstr(out, "interrupt-parent = <0x03>;"));
	g_assert_nonnull(strstr(out, "reg = <0x00 0x80000000 0x00 0x10000000>;"));
	g_assert_nonnull(strstr(out, "bootargs = \"console=ttyS0\";"));
	g_assert_nonnull(strstr(out, "stdout-path = \"/soc/serial@10000000\";"));
	g_assert_nonnull(strstr(out, "timebase-frequency = <0x989680>;"));
	g_assert_nonnull(strstr(out, "compatible = \"virtio,mmio\";"));
	g_assert_nonnull(strstr(out, "linux,initrd-start = <0x00 0x8f000000>;"));
	g_unlink(file);
	g_rmdir(dir);
}

static void make_image(uint8_t *img, size_t size, uint64_t text_offset,
		       uint64_t image_size)
{
	memset(img, 0, size);
	for (int i = 0; i < 8; i++) {
		img[8 + i] = (uint8_t)(text_offset >> (8 * i));
		img[16 + i] = (uint8_t)(image_size >> (8 * i));
	}
	memcpy(img + 48, "RISCV\0\0\0", 8);
	memcpy(img + 56, "RSC\x05", 4);
}

static void test_image_parse(void)
{
	uint8_t img[4096];
	struct riscv_image out;
	char err[128];

	make_image(img, sizeof(img), MIB(2), MIB(8));
	g_assert_cmpint(riscv_parse_image(img, sizeof(img), &out, err,
					  sizeof(err)), ==, 0);
	g_assert_cmpuint(out.text_offset, ==, MIB(2));
	g_assert_cmpuint(out.image_size, ==, MIB(8));
	/* Old headers: both zero, the 2 MiB default. */
	make_image(img, sizeof(img), 0, 0);
	g_assert_cmpint(riscv_parse_image(img, sizeof(img), &out, err,
					  sizeof(err)), ==, 0);
	g_assert_cmpuint(out.text_offset, ==, MIB(2));
	g_assert_cmpuint(out.image_size, ==, sizeof(img));
	/* Hostile or wrong images. */
	g_assert_cmpint(riscv_parse_image(img, 63, &out, err, sizeof(err)),
			==, -EINVAL);
	make_image(img, sizeof(img), 0x1000, MIB(8));
	g_assert_cmpint(riscv_parse_image(img, sizeof(img), &out, err,
					  sizeof(err)), ==, -EINVAL);
	make_image(img, sizeof(img), MIB(2), GIB(8));
	g_assert_cmpint(riscv_parse_image(img, sizeof(img), &out, err,
					  sizeof(err)), ==, -EINVAL);
	make_image(img, sizeof(img), MIB(2), MIB(8));
	img[24] = 1;                          /* big endian */
	g_assert_cmpint(riscv_parse_image(img, sizeof(img), &out, err,
					  sizeof(err)), ==, -EINVAL);
	memset(img + 48, 0, 16);
	g_assert_cmpint(riscv_parse_image(img, sizeof(img), &out, err,
					  sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "not a RISC-V Linux Image"));
}

/* riscv_load on the bytes given, each in a file of its own. */
static int load_images(const struct guest_mem *mem, const void *kernel,
		       size_t kernel_size, const void *initrd,
		       size_t initrd_size, struct riscv_boot_layout *l,
		       char *err, size_t errlen)
{
	struct image_file k, i;
	int r;

	test_image_from_bytes(kernel, kernel_size, &k);
	test_image_from_bytes(initrd, initrd_size, &i);
	r = riscv_load(mem, RISCV_RAM_BASE, MIB(64), &k, &i, RISCV_FDT_MAX, l,
		       err, errlen);
	close(k.fd);
	close(i.fd);
	return r;
}

static void test_load_layout(void)
{
	struct guest_mem mem = { 0 };
	struct riscv_boot_layout l;
	uint8_t kernel[4096], initrd[5000];
	uint8_t *p;
	char err[256];

	g_assert_cmpint(guest_mem_add(&mem, RISCV_RAM_BASE, MIB(64)), ==, 0);
	make_image(kernel, sizeof(kernel), MIB(2), MIB(20));
	memset(initrd, 0xab, sizeof(initrd));
	g_assert_cmpint(load_images(&mem, kernel, sizeof(kernel), initrd,
				    sizeof(initrd), &l, err, sizeof(err)), ==, 0);
	g_assert_cmpuint(l.kernel_gpa, ==, RISCV_RAM_BASE + MIB(2));
	g_assert_cmpuint(l.kernel_end, ==, RISCV_RAM_BASE + MIB(22));
	g_assert_cmpuint(l.fdt_gpa, ==, RISCV_RAM_BASE + MIB(62));
	g_assert_cmpuint(l.fdt_gpa % MIB(2), ==, 0);
	g_assert_cmpuint(l.initrd_gpa % 4096, ==, 0);
	g_assert_cmpuint(l.initrd_gpa + l.initrd_size, <=, l.fdt_gpa);
	g_assert_cmpuint(l.initrd_gpa, >=, l.kernel_end);
	p = guest_mem_ptr(&mem, l.initrd_gpa, sizeof(initrd));
	g_assert_nonnull(p);
	g_assert_cmpmem(p, sizeof(initrd), initrd, sizeof(initrd));
	p = guest_mem_ptr(&mem, l.kernel_gpa, 64);
	g_assert_cmpmem(p, 64, kernel, 64);

	/* The kernel's bss would run into the initrd: refused. */
	make_image(kernel, sizeof(kernel), MIB(2), MIB(61));
	g_assert_cmpint(load_images(&mem, kernel, sizeof(kernel), initrd,
				    sizeof(initrd), &l, err, sizeof(err)), ==,
			-ENOSPC);
	g_assert_nonnull(strstr(err, "RAM too small"));
	guest_mem_free(&mem);
}

struct plic_probe {
	bool level[4];
	unsigned changes;
};

static void probe_set(void *opaque, uint32_t ctx, bool level)
{
	struct plic_probe *pr = opaque;

	g_assert_cmpuint(ctx, <, 4);
	g_assert_true(pr->level[ctx] != level);   /* only changes */
	pr->level[ctx] = level;
	pr->changes++;
}

static uint32_t rd(struct plic *p, uint64_t off)
{
	uint8_t d[4];

	plic_bus_ops.read(p, off, d, 4);
	return (uint32_t)bus_data_get(d, 4);
}

static void wr(struct plic *p, uint64_t off, uint32_t v)
{
	uint8_t d[4];

	bus_data_put(d, 4, v);
	plic_bus_ops.write(p, off, d, 4);
}

#define ENABLE(ctx) (PLIC_ENABLE_BASE + (ctx) * PLIC_ENABLE_STRIDE)
#define THRESHOLD(ctx) (PLIC_CONTEXT_BASE + (ctx) * PLIC_CONTEXT_STRIDE)
#define CLAIM(ctx) (THRESHOLD(ctx) + PLIC_CONTEXT_CLAIM)

static void test_plic_level(void)
{
	struct plic_probe pr = { 0 };
	const struct plic_output out = { probe_set, &pr };
	struct plic *p = plic_new(32, 2, &out);

	g_assert_nonnull(p);
	plic_set_level(p, 5, true);
	g_assert_false(pr.level[0]);           /* priority 0: never */
	g_assert_cmpuint(rd(p, PLIC_PENDING_BASE), ==, 1u << 5);
	wr(p, 4 * 5, 0xff);
	g_assert_cmpuint(rd(p, 4 * 5), ==, 7);  /* 3 bits */
	g_assert_false(pr.level[0]);           /* not enabled */
	wr(p, ENABLE(1), 1u << 5 | 1u);
	g_assert_cmpuint(rd(p, ENABLE(1)), ==, 1u << 5);  /* no source 0 */
	g_assert_true(pr.level[1]);
	g_assert_false(pr.level[0]);
	wr(p, THRESHOLD(1), 7);
	g_assert_false(pr.level[1]);           /* masked by the threshold */
	wr(p, THRESHOLD(1), 0);
	g_assert_true(pr.level[1]);

	g_assert_cmpuint(rd(p, CLAIM(1)), ==, 5);
	g_assert_false(pr.level[1]);
	g_assert_cmpuint(rd(p, CLAIM(1)), ==, 0);   /* nothing left */
	/* Still high at completion: pending again. */
	wr(p, CLAIM(1), 5);
	g_assert_true(pr.level[1]);
	g_assert_cmpuint(rd(p, CLAIM(1)), ==, 5);
	plic_set_level(p, 5, false);
	wr(p, CLAIM(1), 5);
	g_assert_false(pr.level[1]);
	/* Completing what is not in service changes nothing. */
	wr(p, CLAIM(1), 5);
	wr(p, CLAIM(1), 1000);
	g_assert_false(pr.level[1]);
	plic_free(p);
}

static void test_plic_edges_and_priority(void)
{
	struct plic_probe pr = { 0 };
	const struct plic_output out = { probe_set, &pr };
	struct plic *p = plic_new(32, 1, &out);

	wr(p, 4 * 2, 1);
	wr(p, 4 * 3, 3);
	wr(p, ENABLE(0), 1u << 2 | 1u << 3);
	plic_pulse(p, 2);
	plic_pulse(p, 3);
	/* The higher priority first, then the other. */
	g_assert_cmpuint(rd(p, CLAIM(0)), ==, 3);
	g_assert_cmpuint(rd(p, CLAIM(0)), ==, 2);
	g_assert_false(pr.level[0]);
	/* An edge while in service is kept for after the completion. */
	plic_pulse(p, 2);
	g_assert_false(pr.level[0]);
	wr(p, CLAIM(0), 2);
	g_assert_true(pr.level[0]);
	g_assert_cmpuint(rd(p, CLAIM(0)), ==, 2);
	wr(p, CLAIM(0), 2);
	wr(p, CLAIM(0), 3);
	g_assert_false(pr.level[0]);
	plic_free(p);
}

static void test_plic_hostile(void)
{
	struct plic_probe pr = { 0 };
	const struct plic_output out = { probe_set, &pr };
	struct plic *p = plic_new(32, 1, &out);
	uint8_t d[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	/* Out-of-range sources, contexts, words; odd sizes and offsets. */
	plic_set_level(p, 0, true);
	plic_set_level(p, 32, true);
	plic_pulse(p, 4000);
	wr(p, ENABLE(1), ~0u);
	wr(p, ENABLE(0) + 4, ~0u);                  /* word 1: sources 32+ */
	g_assert_cmpuint(rd(p, ENABLE(0) + 4), ==, 0);
	wr(p, CLAIM(300), 1);
	g_assert_cmpuint(rd(p, CLAIM(300)), ==, 0);
	g_assert_cmpuint(rd(p, PLIC_PENDING_BASE + 0x7c), ==, 0);
	plic_bus_ops.write(p, 4 * 2 + 1, d, 4);
	plic_bus_ops.write(p, 4 * 2, d, 8);
	g_assert_cmpuint(rd(p, 4 * 2), ==, 0);
	plic_bus_ops.read(p, CLAIM(0), d, 2);
	g_assert_cmpuint(d[0] | d[1], ==, 0);
	g_assert_cmpuint(pr.changes, ==, 0);
	g_assert_null(plic_new(33, 1, &out));
	g_assert_null(plic_new(32, 0, &out));
	plic_free(p);
}

struct sbi_console {
	GString *out;
};

static void sbi_out(void *opaque, const uint8_t *buf, size_t len)
{
	struct sbi_console *c = opaque;

	g_string_append_len(c->out, (const char *)buf, (gssize)len);
}

static enum riscv_sbi_action sbi(const struct riscv_sbi_env *env,
				 uint64_t ext, uint64_t fn, uint64_t a0,
				 uint64_t a1, uint64_t a2, uint64_t ret[2])
{
	const uint64_t args[6] = { a0, a1, a2, 0, 0, 0 };

	ret[0] = ret[1] = 0xdead;
	return riscv_sbi_handle(env, ext, fn, args, ret);
}

static void test_sbi_console(void)
{
	struct guest_mem mem = { 0 };
	struct sbi_console con = { g_string_new(NULL) };
	const struct riscv_sbi_env env = { &mem, sbi_out, &con };
	uint64_t ret[2];
	uint64_t end = RISCV_RAM_BASE + MIB(2);

	g_assert_cmpint(guest_mem_add(&mem, RISCV_RAM_BASE, MIB(2)), ==, 0);
	g_assert_cmpint(guest_mem_write(&mem, RISCV_RAM_BASE + 100, "hello", 5),
			==, 0);
	g_assert_cmpint(sbi(&env, SBI_EXT_LEGACY_PUTCHAR, 0, 'x', 0, 0, ret),
			==, RISCV_SBI_CONTINUE);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_SUCCESS);
	g_assert_cmpint(sbi(&env, SBI_EXT_LEGACY_GETCHAR, 0, 0, 0, 0, ret),
			==, RISCV_SBI_CONTINUE);
	g_assert_cmpint((int64_t)ret[0], ==, -1);
	/* DBCN write: a guest buffer, checked whole. */
	sbi(&env, SBI_EXT_DBCN, 0, 5, RISCV_RAM_BASE + 100, 0, ret);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_SUCCESS);
	g_assert_cmpuint(ret[1], ==, 5);
	sbi(&env, SBI_EXT_DBCN, 2, '!', 0, 0, ret);      /* write_byte */
	g_assert_cmpstr(con.out->str, ==, "xhello!");
	/* Hostile buffers: outside RAM, across its end, an rv32 high half,
	 * an address that wraps. Nothing is written. */
	sbi(&env, SBI_EXT_DBCN, 0, 16, 0x1000, 0, ret);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_ERR_INVALID_PARAM);
	sbi(&env, SBI_EXT_DBCN, 0, 16, end - 8, 0, ret);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_ERR_INVALID_PARAM);
	sbi(&env, SBI_EXT_DBCN, 0, 5, RISCV_RAM_BASE + 100, 1, ret);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_ERR_INVALID_PARAM);
	sbi(&env, SBI_EXT_DBCN, 0, 16, UINT64_MAX - 4, 0, ret);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_ERR_INVALID_PARAM);
	g_assert_cmpstr(con.out->str, ==, "xhello!");
	/* A huge length is cut to one bounded chunk. */
	sbi(&env, SBI_EXT_DBCN, 0, UINT64_MAX, RISCV_RAM_BASE, 0, ret);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_SUCCESS);
	g_assert_cmpuint(ret[1], ==, SBI_DBCN_WRITE_MAX);
	/* Zero bytes anywhere: nothing to check, nothing written. */
	sbi(&env, SBI_EXT_DBCN, 0, 0, 0, 0, ret);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_SUCCESS);
	g_assert_cmpuint(ret[1], ==, 0);
	sbi(&env, SBI_EXT_DBCN, 1, 16, RISCV_RAM_BASE, 0, ret);     /* read */
	g_assert_cmpuint(ret[1], ==, 0);
	sbi(&env, SBI_EXT_DBCN, 7, 0, 0, 0, ret);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_ERR_NOT_SUPPORTED);
	g_string_free(con.out, TRUE);
	guest_mem_free(&mem);
}

static void test_sbi_reset_and_unknown(void)
{
	struct guest_mem mem = { 0 };
	struct sbi_console con = { g_string_new(NULL) };
	const struct riscv_sbi_env env = { &mem, sbi_out, &con };
	uint64_t ret[2];

	g_assert_cmpint(sbi(&env, SBI_EXT_SRST, 0, 0, 0, 0, ret), ==,
			RISCV_SBI_POWEROFF);
	g_assert_cmpint(sbi(&env, SBI_EXT_SRST, 0, 1, 0, 0, ret), ==,
			RISCV_SBI_RESET);
	g_assert_cmpint(sbi(&env, SBI_EXT_SRST, 0, 2, 0, 0, ret), ==,
			RISCV_SBI_RESET);
	g_assert_cmpint(sbi(&env, SBI_EXT_SRST, 0, 3, 0, 0, ret), ==,
			RISCV_SBI_CONTINUE);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_ERR_INVALID_PARAM);
	g_assert_cmpint(sbi(&env, SBI_EXT_SRST, 1, 0, 0, 0, ret), ==,
			RISCV_SBI_CONTINUE);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_ERR_NOT_SUPPORTED);
	g_assert_cmpint(sbi(&env, SBI_EXT_LEGACY_SHUTDOWN, 0, 0, 0, 0, ret),
			==, RISCV_SBI_POWEROFF);
	g_assert_cmpint(sbi(&env, 0x0a000000, 0, 0, 0, 0, ret), ==,
			RISCV_SBI_CONTINUE);
	g_assert_cmpint((int64_t)ret[0], ==, SBI_ERR_NOT_SUPPORTED);
	g_assert_cmpuint(con.out->len, ==, 0);
	g_string_free(con.out, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/riscv/fdt/writer", test_fdt_writer);
	g_test_add_func("/riscv/fdt/unbalanced", test_fdt_unbalanced);
	g_test_add_func("/riscv/dt/isa-string", test_isa_string);
	g_test_add_func("/riscv/dt/structure", test_dt_structure);
	g_test_add_func("/riscv/dt/dtc", test_dt_dtc);
	g_test_add_func("/riscv/boot/image-parse", test_image_parse);
	g_test_add_func("/riscv/boot/load-layout", test_load_layout);
	g_test_add_func("/riscv/plic/level", test_plic_level);
	g_test_add_func("/riscv/plic/edges-priority", test_plic_edges_and_priority);
	g_test_add_func("/riscv/plic/hostile", test_plic_hostile);
	g_test_add_func("/riscv/sbi/console", test_sbi_console);
	g_test_add_func("/riscv/sbi/reset-unknown", test_sbi_reset_and_unknown);
	return g_test_run();
}
