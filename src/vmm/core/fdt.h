/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A flattened device tree writer (the devicetree specification v0.4,
 * chapter 5, version 17 blobs): how machines without ACPI (RISC-V) tell
 * the guest kernel about memory, CPUs and devices. Only what a VMM needs:
 * nodes and properties written in order, no editing, no reading.
 *
 * Errors (out of memory, an unbalanced node) are sticky: the calls just
 * record them and fdt_finish() reports the first.
 */
#ifndef DUVISOR_FDT_H
#define DUVISOR_FDT_H

#include <stddef.h>
#include <stdint.h>

struct fdt_buf {
	uint8_t *data;
	size_t len, cap;
};

struct fdt {
	struct fdt_buf structs;
	struct fdt_buf strings;
	int depth;
	int error;               /* 0 or -errno, the first one */
	uint32_t next_phandle;
};

#define FDT_MAGIC 0xd00dfeedu
#define FDT_HEADER_SIZE 40
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE   2u
#define FDT_PROP       3u
#define FDT_END        9u

void fdt_init(struct fdt *f);
void fdt_free(struct fdt *f);

/* Unit names ("cpu@0") are the caller's; the root node's name is "". */
void fdt_begin_node(struct fdt *f, const char *name);
void fdt_end_node(struct fdt *f);

void fdt_prop(struct fdt *f, const char *name, const void *data, size_t len);
void fdt_prop_empty(struct fdt *f, const char *name);
void fdt_prop_u32(struct fdt *f, const char *name, uint32_t v);
/* A 64-bit value as two cells, high first. */
void fdt_prop_u64(struct fdt *f, const char *name, uint64_t v);
void fdt_prop_cells(struct fdt *f, const char *name, const uint32_t *cells,
		    size_t n);
void fdt_prop_string(struct fdt *f, const char *name, const char *s);
/* A string list: "a\0b\0", given as n strings. */
void fdt_prop_strings(struct fdt *f, const char *name,
		      const char *const *list, size_t n);

/* A fresh phandle (1, 2, ...) to put in a node and refer to. */
uint32_t fdt_phandle(struct fdt *f);

/*
 * Lays out the blob into out[0..cap): returns its size, or -E2BIG if it
 * does not fit, or the recorded error. The fdt stays usable for fdt_free.
 */
long fdt_finish(struct fdt *f, uint8_t *out, size_t cap);

#endif
