// SPDX-License-Identifier: GPL-2.0-or-later
/* The flattened device tree writer: two growing blocks, laid out at the end. */
#include "core/fdt.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* A tree this size is far more than any machine of ours describes: a
 * runaway caller fails instead of eating memory. */
#define FDT_MAX_BLOCK MIB(1)
#define MEM_RSVMAP_SIZE 16   /* just the terminating empty entry */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void fail(struct fdt *f, int err)
{
	if (!f->error)
		f->error = err;
}

/* Appends len bytes (data, or zeros if NULL) padded to pad bytes. */
static void buf_add(struct fdt *f, struct fdt_buf *b, const void *data,
		    size_t len, size_t pad)
{
	size_t total = ALIGN_UP(len, pad);

	if (f->error || total == 0)
		return;
	if (total > FDT_MAX_BLOCK - b->len) {
		fail(f, -E2BIG);
		return;
	}
	if (b->len + total > b->cap) {
		size_t cap = MAX(b->cap * 2, (size_t)4096);
		uint8_t *p;

		while (cap < b->len + total)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p) {
			fail(f, -ENOMEM);
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	if (data)
		memcpy(b->data + b->len, data, len);
	else
		memset(b->data + b->len, 0, len);
	memset(b->data + b->len + len, 0, total - len);
	b->len += total;
}

static void add_token(struct fdt *f, uint32_t token)
{
	uint8_t be[4];

	put_be32(be, token);
	buf_add(f, &f->structs, be, 4, 4);
}

void fdt_init(struct fdt *f)
{
	memset(f, 0, sizeof(*f));
	f->next_phandle = 1;
}

void fdt_free(struct fdt *f)
{
	free(f->structs.data);
	free(f->strings.data);
	memset(f, 0, sizeof(*f));
}

void fdt_begin_node(struct fdt *f, const char *name)
{
	add_token(f, FDT_BEGIN_NODE);
	buf_add(f, &f->structs, name, strlen(name) + 1, 4);
	f->depth++;
}

void fdt_end_node(struct fdt *f)
{
	if (f->depth <= 0) {
		fail(f, -EINVAL);
		return;
	}
	add_token(f, FDT_END_NODE);
	f->depth--;
}

/* The offset of name in the strings block, added once. */
static uint32_t string_offset(struct fdt *f, const char *name)
{
	size_t len = strlen(name) + 1;
	size_t off = 0;

	while (off < f->strings.len) {
		const char *s = (const char *)f->strings.data + off;
		size_t slen = strlen(s) + 1;

		if (slen == len && !memcmp(s, name, len))
			return (uint32_t)off;
		off += slen;
	}
	off = f->strings.len;
	buf_add(f, &f->strings, name, len, 1);
	return (uint32_t)off;
}

void fdt_prop(struct fdt *f, const char *name, const void *data, size_t len)
{
	uint8_t hdr[8];

	if (f->depth <= 0) {
		fail(f, -EINVAL);
		return;
	}
	if (len > FDT_MAX_BLOCK) {
		fail(f, -E2BIG);
		return;
	}
	put_be32(hdr, (uint32_t)len);
	put_be32(hdr + 4, string_offset(f, name));
	add_token(f, FDT_PROP);
	buf_add(f, &f->structs, hdr, sizeof(hdr), 4);
	buf_add(f, &f->structs, data, len, 4);
}

void fdt_prop_empty(struct fdt *f, const char *name)
{
	fdt_prop(f, name, NULL, 0);
}

void fdt_prop_u32(struct fdt *f, const char *name, uint32_t v)
{
	fdt_prop_cells(f, name, &v, 1);
}

void fdt_prop_u64(struct fdt *f, const char *name, uint64_t v)
{
	uint32_t cells[2] = { (uint32_t)(v >> 32), (uint32_t)v };

	fdt_prop_cells(f, name, cells, 2);
}

void fdt_prop_cells(struct fdt *f, const char *name, const uint32_t *cells,
		    size_t n)
{
	uint8_t be[64 * 4];

	if (n > ARRAY_SIZE(be) / 4) {
		fail(f, -E2BIG);
		return;
	}
	for (size_t i = 0; i < n; i++)
		put_be32(be + 4 * i, cells[i]);
	fdt_prop(f, name, be, 4 * n);
}

void fdt_prop_string(struct fdt *f, const char *name, const char *s)
{
	fdt_prop(f, name, s, strlen(s) + 1);
}

void fdt_prop_strings(struct fdt *f, const char *name,
		      const char *const *list, size_t n)
{
	char buf[512];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(list[i]) + 1;

		if (l > sizeof(buf) - len) {
			fail(f, -E2BIG);
			return;
		}
		memcpy(buf + len, list[i], l);
		len += l;
	}
	fdt_prop(f, name, buf, len);
}

uint32_t fdt_phandle(struct fdt *f)
{
	return f->next_phandle++;
}

long fdt_finish(struct fdt *f, uint8_t *out, size_t cap)
{
	size_t off_rsv = FDT_HEADER_SIZE;
	size_t off_struct = off_rsv + MEM_RSVMAP_SIZE;
	size_t off_strings, total;
	uint8_t end[4];

	if (f->error)
		return f->error;
	if (f->depth != 0)
		return -EINVAL;
	put_be32(end, FDT_END);
	off_strings = off_struct + f->structs.len + sizeof(end);
	total = off_strings + f->strings.len;
	if (total > cap)
		return -E2BIG;
	memset(out, 0, off_struct);
	put_be32(out + 0, FDT_MAGIC);
	put_be32(out + 4, (uint32_t)total);
	put_be32(out + 8, (uint32_t)off_struct);
	put_be32(out + 12, (uint32_t)off_strings);
	put_be32(out + 16, (uint32_t)off_rsv);
	put_be32(out + 20, 17);                  /* version */
	put_be32(out + 24, 16);                  /* last compatible version */
	put_be32(out + 28, 0);                   /* boot CPU */
	put_be32(out + 32, (uint32_t)f->strings.len);
	put_be32(out + 36, (uint32_t)(f->structs.len + sizeof(end)));
	if (f->structs.len)
		memcpy(out + off_struct, f->structs.data, f->structs.len);
	memcpy(out + off_struct + f->structs.len, end, sizeof(end));
	if (f->strings.len)
		memcpy(out + off_strings, f->strings.data, f->strings.len);
	return (long)total;
}
