// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The RISC-V device tree. Node and property names follow the devicetree
 * bindings Linux reads: riscv/cpus.yaml, sifive,plic-1.0.0.yaml,
 * serial/8250.yaml, virtio/mmio.yaml, chosen.yaml.
 */
#include "riscv/dt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "accel/accel.h"
#include "core/fdt.h"
#include "core/util.h"

/* The S-mode external interrupt in a hart's local interrupt controller. */
#define RISCV_IRQ_S_EXT 9u

void riscv_isa_string(uint64_t isa, uint32_t exts, char *buf, size_t size)
{
	static const char order[] = "imafdqlcbkjtpvn";
	static const char *const names[RISCV_ISA_EXT__COUNT] = {
		[RISCV_ISA_EXT_SSTC] = "sstc",
		[RISCV_ISA_EXT_SVINVAL] = "svinval",
		[RISCV_ISA_EXT_SVPBMT] = "svpbmt",
		[RISCV_ISA_EXT_ZIHINTPAUSE] = "zihintpause",
	};
	size_t n = 0;

	if (size < 5) {
		if (size)
			buf[0] = '\0';
		return;
	}
	memcpy(buf, "rv64", 4);
	n = 4;
	for (const char *c = order; *c && n + 1 < size; c++)
		if (isa & (1ull << (*c - 'a')))
			buf[n++] = *c;
	/* Whole names only: a truncated one would name another extension. */
	for (uint32_t i = 0; i < RISCV_ISA_EXT__COUNT; i++) {
		size_t len = strlen(names[i]);

		if ((exts & (1u << i)) && n + 1 + len + 1 <= size) {
			buf[n++] = '_';
			memcpy(buf + n, names[i], len);
			n += len;
		}
	}
	buf[n] = '\0';
}

/* reg = <base size> with two address and two size cells. */
static void prop_reg(struct fdt *f, uint64_t base, uint64_t size)
{
	uint32_t cells[4] = {
		(uint32_t)(base >> 32), (uint32_t)base,
		(uint32_t)(size >> 32), (uint32_t)size,
	};

	fdt_prop_cells(f, "reg", cells, 4);
}

static void add_cpus(struct fdt *f, const struct riscv_dt_config *cfg,
		     uint32_t *intc)
{
	fdt_begin_node(f, "cpus");
	fdt_prop_u32(f, "#address-cells", 1);
	fdt_prop_u32(f, "#size-cells", 0);
	fdt_prop_u32(f, "timebase-frequency", (uint32_t)cfg->timebase_hz);
	for (uint32_t i = 0; i < cfg->ncpus; i++) {
		char name[32];

		snprintf(name, sizeof(name), "cpu@%u", i);
		fdt_begin_node(f, name);
		fdt_prop_string(f, "device_type", "cpu");
		fdt_prop_u32(f, "reg", i);
		fdt_prop_string(f, "status", "okay");
		fdt_prop_string(f, "compatible", "riscv");
		fdt_prop_string(f, "riscv,isa", cfg->isa);
		fdt_prop_string(f, "mmu-type", "riscv,sv48");

		fdt_begin_node(f, "interrupt-controller");
		fdt_prop_u32(f, "#address-cells", 0);
		fdt_prop_u32(f, "#interrupt-cells", 1);
		fdt_prop_empty(f, "interrupt-controller");
		fdt_prop_string(f, "compatible", "riscv,cpu-intc");
		intc[i] = fdt_phandle(f);
		fdt_prop_u32(f, "phandle", intc[i]);
		fdt_end_node(f);

		fdt_end_node(f);
	}
	fdt_end_node(f);
}

/* One context per hart, wired to its S-mode external interrupt. */
static uint32_t add_plic(struct fdt *f, const struct riscv_dt_config *cfg,
			 const uint32_t *intc)
{
	static const char *const compatible[] = {
		"sifive,plic-1.0.0", "riscv,plic0",
	};
	uint32_t ext[2 * 64];
	uint32_t phandle;
	char name[48];

	snprintf(name, sizeof(name), "interrupt-controller@%llx",
		 (unsigned long long)cfg->plic_base);
	fdt_begin_node(f, name);
	fdt_prop_strings(f, "compatible", compatible, ARRAY_SIZE(compatible));
	prop_reg(f, cfg->plic_base, cfg->plic_size);
	fdt_prop_u32(f, "#address-cells", 0);
	fdt_prop_u32(f, "#interrupt-cells", 1);
	fdt_prop_empty(f, "interrupt-controller");
	for (uint32_t i = 0; i < cfg->ncpus; i++) {
		ext[2 * i] = intc[i];
		ext[2 * i + 1] = RISCV_IRQ_S_EXT;
	}
	fdt_prop_cells(f, "interrupts-extended", ext, 2 * cfg->ncpus);
	fdt_prop_u32(f, "riscv,ndev", cfg->plic_sources - 1);
	phandle = fdt_phandle(f);
	fdt_prop_u32(f, "phandle", phandle);
	fdt_end_node(f);
	return phandle;
}

/* Opens the node of a device on the PLIC; the caller may add properties
 * and closes it. */
static void add_device(struct fdt *f, const char *kind, const char *compat,
		       const struct riscv_dt_device *dev, uint32_t plic)
{
	char name[48];

	snprintf(name, sizeof(name), "%s@%llx", kind,
		 (unsigned long long)dev->base);
	fdt_begin_node(f, name);
	fdt_prop_string(f, "compatible", compat);
	prop_reg(f, dev->base, dev->size);
	fdt_prop_u32(f, "interrupt-parent", plic);
	fdt_prop_u32(f, "interrupts", dev->irq);
}

static void add_chosen(struct fdt *f, const struct riscv_dt_config *cfg,
		       const char *stdout_path)
{
	fdt_begin_node(f, "chosen");
	fdt_prop_string(f, "bootargs", cfg->bootargs ? cfg->bootargs : "");
	fdt_prop_string(f, "stdout-path", stdout_path);
	if (cfg->initrd_end > cfg->initrd_start) {
		fdt_prop_u64(f, "linux,initrd-start", cfg->initrd_start);
		fdt_prop_u64(f, "linux,initrd-end", cfg->initrd_end);
	}
	fdt_end_node(f);
}

long riscv_build_dt(const struct riscv_dt_config *cfg, uint8_t *out,
		    size_t cap)
{
	uint32_t intc[64];
	uint32_t plic;
	char uart_path[64], name[48];
	struct fdt f;
	long r;

	/* interrupts-extended of the PLIC holds two cells per hart. */
	if (cfg->ncpus == 0 || cfg->ncpus > ARRAY_SIZE(intc) ||
	    cfg->nvirtio > RISCV_DT_MAX_VIRTIO || !cfg->isa ||
	    cfg->timebase_hz == 0 || cfg->timebase_hz > UINT32_MAX)
		return -EINVAL;
	snprintf(uart_path, sizeof(uart_path), "/soc/serial@%llx",
		 (unsigned long long)cfg->uart.base);

	fdt_init(&f);
	fdt_begin_node(&f, "");
	fdt_prop_u32(&f, "#address-cells", 2);
	fdt_prop_u32(&f, "#size-cells", 2);
	fdt_prop_string(&f, "compatible", "duvisor,riscv-virt");
	fdt_prop_string(&f, "model", "DuVisor RISC-V virtual machine");

	add_chosen(&f, cfg, uart_path);
	fdt_begin_node(&f, "aliases");
	fdt_prop_string(&f, "serial0", uart_path);
	fdt_end_node(&f);

	snprintf(name, sizeof(name), "memory@%llx",
		 (unsigned long long)cfg->ram_base);
	fdt_begin_node(&f, name);
	fdt_prop_string(&f, "device_type", "memory");
	prop_reg(&f, cfg->ram_base, cfg->ram_size);
	fdt_end_node(&f);

	add_cpus(&f, cfg, intc);

	fdt_begin_node(&f, "soc");
	fdt_prop_u32(&f, "#address-cells", 2);
	fdt_prop_u32(&f, "#size-cells", 2);
	fdt_prop_string(&f, "compatible", "simple-bus");
	fdt_prop_empty(&f, "ranges");
	plic = add_plic(&f, cfg, intc);
	add_device(&f, "serial", "ns16550a", &cfg->uart, plic);
	fdt_prop_u32(&f, "clock-frequency", cfg->uart_clock);
	fdt_end_node(&f);
	for (size_t i = 0; i < cfg->nvirtio; i++) {
		add_device(&f, "virtio_mmio", "virtio,mmio", &cfg->virtio[i],
			   plic);
		fdt_end_node(&f);
	}
	fdt_end_node(&f);   /* soc */

	fdt_end_node(&f);   /* root */
	r = fdt_finish(&f, out, cap);
	fdt_free(&f);
	return r;
}
