// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * AML encoder; grammar references are to ACPI 6.3 section 20.2.
 */
#include "x86/aml.h"

#include <errno.h>
#include <string.h>

#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_METHOD_OP		0x14
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_ROOT_CHAR		'\\'
#define AML_PARENT_CHAR		'^'
#define AML_EXT_OP_PREFIX	0x5b
#define AML_EXT_REGION_OP	0x80
#define AML_EXT_FIELD_OP	0x81
#define AML_EXT_DEVICE_OP	0x82
#define AML_IF_OP		0xa0

#define RES_IO			0x47	/* small item 0x08, 7 bytes */
#define RES_IRQ_FLAGS		0x23	/* small item 0x04, 3 bytes */
#define RES_END_TAG		0x79	/* small item 0x0f, 1 byte */
#define RES_MEMORY32_FIXED	0x86
#define RES_EXT_IRQ		0x89

/* Largest integer encoding: QWord prefix + 8 bytes. */
#define AML_INT_MAX_BYTES	9

static void aml_fail(struct aml_buf *b, int err)
{
	if (!b->err)
		b->err = err;
}

static bool aml_room(struct aml_buf *b, size_t n)
{
	if (b->err)
		return false;
	if (n > b->cap - b->len) {
		aml_fail(b, -ENOSPC);
		return false;
	}
	return true;
}

void aml_init(struct aml_buf *b, uint8_t *data, size_t cap)
{
	b->data = data;
	b->len = 0;
	b->cap = data ? cap : 0;
	b->err = 0;
}

int aml_error(const struct aml_buf *b)
{
	return b->err;
}

void aml_byte(struct aml_buf *b, uint8_t v)
{
	if (aml_room(b, 1))
		b->data[b->len++] = v;
}

void aml_bytes(struct aml_buf *b, const void *p, size_t n)
{
	if (!aml_room(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void aml_le(struct aml_buf *b, uint64_t v, unsigned int n)
{
	unsigned int i;

	if (!aml_room(b, n))
		return;
	for (i = 0; i < n; i++)
		b->data[b->len++] = (uint8_t)(v >> (8 * i));
}

/*
 * Objects are encoded body first and their header is slid in front once the
 * body size is known; this keeps the callers free of size pre-computation.
 */
static void aml_insert(struct aml_buf *b, size_t pos, const uint8_t *p,
		       size_t n)
{
	if (b->err)
		return;
	if (pos > b->len) {
		aml_fail(b, -EINVAL);
		return;
	}
	if (!aml_room(b, n))
		return;
	memmove(b->data + pos + n, b->data + pos, b->len - pos);
	memcpy(b->data + pos, p, n);
	b->len += n;
}

size_t aml_pkglength_encode(uint8_t out[4], uint32_t value)
{
	size_t follow, i;

	if (value > AML_PKGLENGTH_MAX)
		return 0;
	if (value <= 0x3f) {
		out[0] = (uint8_t)value;
		return 1;
	}
	/* Multi-byte form: low nibble in the lead byte, then whole bytes. */
	if (value <= 0xfff)
		follow = 1;
	else if (value <= 0xfffff)
		follow = 2;
	else
		follow = 3;
	out[0] = (uint8_t)((follow << 6) | (value & 0xf));
	for (i = 1; i <= follow; i++)
		out[i] = (uint8_t)(value >> (4 + 8 * (i - 1)));
	return follow + 1;
}

size_t aml_pkglength_for_body(uint8_t out[4], size_t body_len)
{
	static const uint32_t limit[] = { 0x3f, 0xfff, 0xfffff, 0xfffffff };
	size_t n;

	if (body_len > AML_PKGLENGTH_MAX)
		return 0;
	/* The length counts its own bytes, so the smallest form that fits wins. */
	for (n = 1; n <= 4; n++) {
		if (body_len + n <= limit[n - 1])
			return aml_pkglength_encode(out, (uint32_t)(body_len + n));
	}
	return 0;
}

void aml_end(struct aml_buf *b, size_t mark)
{
	uint8_t pkg[4];
	size_t n;

	if (b->err)
		return;
	if (mark > b->len) {
		aml_fail(b, -EINVAL);
		return;
	}
	n = aml_pkglength_for_body(pkg, b->len - mark);
	if (!n) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_insert(b, mark, pkg, n);
}

static bool aml_seg_char_ok(char c, bool lead)
{
	if ((c >= 'A' && c <= 'Z') || c == '_')
		return true;
	return !lead && c >= '0' && c <= '9';
}

/* One NameSeg from s[0..n), padded with '_' to four characters. */
static void aml_name_seg(struct aml_buf *b, const char *s, size_t n)
{
	char seg[4] = { '_', '_', '_', '_' };
	size_t i;

	if (n < 1 || n > 4) {
		aml_fail(b, -EINVAL);
		return;
	}
	for (i = 0; i < n; i++) {
		if (!aml_seg_char_ok(s[i], i == 0)) {
			aml_fail(b, -EINVAL);
			return;
		}
		seg[i] = s[i];
	}
	aml_bytes(b, seg, sizeof(seg));
}

void aml_name_string(struct aml_buf *b, const char *path)
{
	const char *p = path, *dot;
	size_t nsegs = 0;

	if (*p == AML_ROOT_CHAR) {
		aml_byte(b, AML_ROOT_CHAR);
		p++;
	} else {
		while (*p == AML_PARENT_CHAR)
			aml_byte(b, (uint8_t)*p++);
	}
	if (!*p) {
		/* A bare prefix ("\\") names the scope itself. */
		if (p == path)
			aml_fail(b, -EINVAL);
		else
			aml_byte(b, AML_NULL_NAME);
		return;
	}
	for (dot = p; dot; dot = strchr(dot + 1, '.'))
		nsegs++;
	if (nsegs > 255) {
		aml_fail(b, -EINVAL);
		return;
	}
	if (nsegs == 2) {
		aml_byte(b, AML_DUAL_NAME_PREFIX);
	} else if (nsegs > 2) {
		aml_byte(b, AML_MULTI_NAME_PREFIX);
		aml_byte(b, (uint8_t)nsegs);
	}
	for (;;) {
		dot = strchr(p, '.');
		if (!dot) {
			aml_name_seg(b, p, strlen(p));
			return;
		}
		aml_name_seg(b, p, (size_t)(dot - p));
		p = dot + 1;
	}
}

static size_t aml_int_encode(uint8_t out[AML_INT_MAX_BYTES], uint64_t v)
{
	unsigned int n, i;

	if (v == 0) {
		out[0] = AML_ZERO_OP;
		return 1;
	}
	if (v == 1) {
		out[0] = AML_ONE_OP;
		return 1;
	}
	if (v <= 0xff) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= 0xffff) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= 0xffffffff) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return 1 + n;
}

void aml_integer(struct aml_buf *b, uint64_t v)
{
	uint8_t enc[AML_INT_MAX_BYTES];

	aml_bytes(b, enc, aml_int_encode(enc, v));
}

void aml_dword(struct aml_buf *b, uint32_t v)
{
	aml_byte(b, AML_DWORD_PREFIX);
	aml_le(b, v, 4);
}

void aml_string(struct aml_buf *b, const char *s)
{
	const char *p;

	/* AML strings are 7-bit ASCII without embedded NULs. */
	for (p = s; *p; p++) {
		if ((unsigned char)*p > 0x7f) {
			aml_fail(b, -EINVAL);
			return;
		}
	}
	aml_byte(b, AML_STRING_PREFIX);
	aml_bytes(b, s, (size_t)(p - s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint32_t aml_eisaid_value(const char *id)
{
	uint32_t v = 0;
	int i, d;

	if (strlen(id) != 7)
		return 0;
	for (i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		v |= (uint32_t)(id[i] - '@') << (26 - 5 * i);
	}
	for (i = 3; i < 7; i++) {
		d = hex_digit(id[i]);
		if (d < 0)
			return 0;
		v |= (uint32_t)d << (4 * (6 - i));
	}
	/* The compressed id is stored most significant byte first. */
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) |
	       (v << 24);
}

void aml_eisaid(struct aml_buf *b, const char *id)
{
	uint32_t v = aml_eisaid_value(id);

	if (!v) {
		aml_fail(b, -EINVAL);
		return;
	}
	/* Always a DWord: that is how iasl emits EisaId and recognises it. */
	aml_dword(b, v);
}

void aml_local(struct aml_buf *b, unsigned int n)
{
	if (n > 7) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, (uint8_t)(AML_LOCAL0_OP + n));
}

void aml_arg(struct aml_buf *b, unsigned int n)
{
	if (n > 6) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, (uint8_t)(AML_ARG0_OP + n));
}

void aml_name(struct aml_buf *b, const char *path)
{
	aml_byte(b, AML_NAME_OP);
	aml_name_string(b, path);
}

void aml_operation_region(struct aml_buf *b, const char *name, uint8_t space,
			  uint64_t offset, uint64_t len)
{
	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_EXT_REGION_OP);
	aml_name_string(b, name);
	aml_byte(b, space);
	aml_integer(b, offset);
	aml_integer(b, len);
}

void aml_notify(struct aml_buf *b, const char *path, uint64_t value)
{
	aml_byte(b, AML_NOTIFY_OP);
	aml_name_string(b, path);
	aml_integer(b, value);
}

size_t aml_scope_begin(struct aml_buf *b, const char *path)
{
	size_t mark;

	aml_byte(b, AML_SCOPE_OP);
	mark = b->len;
	aml_name_string(b, path);
	return mark;
}

size_t aml_device_begin(struct aml_buf *b, const char *path)
{
	size_t mark;

	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_EXT_DEVICE_OP);
	mark = b->len;
	aml_name_string(b, path);
	return mark;
}

size_t aml_method_begin(struct aml_buf *b, const char *path,
			unsigned int nargs, bool serialized)
{
	size_t mark;

	aml_byte(b, AML_METHOD_OP);
	mark = b->len;
	aml_name_string(b, path);
	if (nargs > 7) {
		aml_fail(b, -EINVAL);
		return mark;
	}
	/* SyncLevel stays 0: no method here takes part in mutex ordering. */
	aml_byte(b, (uint8_t)(nargs | (serialized ? 0x08 : 0)));
	return mark;
}

size_t aml_if_begin(struct aml_buf *b)
{
	aml_byte(b, AML_IF_OP);
	return b->len;
}

size_t aml_package_begin(struct aml_buf *b, uint8_t nelems)
{
	size_t mark;

	aml_byte(b, AML_PACKAGE_OP);
	mark = b->len;
	aml_byte(b, nelems);
	return mark;
}

size_t aml_field_begin(struct aml_buf *b, const char *region, uint8_t flags)
{
	size_t mark;

	aml_byte(b, AML_EXT_OP_PREFIX);
	aml_byte(b, AML_EXT_FIELD_OP);
	mark = b->len;
	aml_name_string(b, region);
	aml_byte(b, flags);
	return mark;
}

void aml_field_unit(struct aml_buf *b, const char *name, uint32_t bits)
{
	uint8_t pkg[4];
	size_t n;

	aml_name_seg(b, name, strlen(name));
	/* A field width reuses the PkgLength format but is a plain bit count. */
	n = aml_pkglength_encode(pkg, bits);
	if (!n || !bits) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_bytes(b, pkg, n);
}

size_t aml_buffer_begin(struct aml_buf *b)
{
	return b->len;
}

void aml_buffer_end(struct aml_buf *b, size_t mark)
{
	uint8_t hdr[1 + 4 + AML_INT_MAX_BYTES];
	uint8_t size[AML_INT_MAX_BYTES];
	size_t nbytes, nsize, npkg;

	if (b->err)
		return;
	if (mark > b->len) {
		aml_fail(b, -EINVAL);
		return;
	}
	nbytes = b->len - mark;
	nsize = aml_int_encode(size, nbytes);
	hdr[0] = AML_BUFFER_OP;
	npkg = aml_pkglength_for_body(hdr + 1, nsize + nbytes);
	if (!npkg) {
		aml_fail(b, -EINVAL);
		return;
	}
	memcpy(hdr + 1 + npkg, size, nsize);
	aml_insert(b, mark, hdr, 1 + npkg + nsize);
}

size_t aml_restemplate_begin(struct aml_buf *b)
{
	return aml_buffer_begin(b);
}

void aml_restemplate_end(struct aml_buf *b, size_t mark)
{
	uint8_t sum = 0;
	size_t i;

	aml_byte(b, RES_END_TAG);
	if (b->err)
		return;
	if (mark > b->len) {
		aml_fail(b, -EINVAL);
		return;
	}
	/* The EndTag checksum makes the whole template sum to zero. */
	for (i = mark; i < b->len; i++)
		sum = (uint8_t)(sum + b->data[i]);
	aml_byte(b, (uint8_t)-sum);
	aml_buffer_end(b, mark);
}

void aml_res_io(struct aml_buf *b, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len)
{
	aml_byte(b, RES_IO);
	/* Decode16: the ISA-era 10-bit decode would alias 0x3f8 elsewhere. */
	aml_byte(b, 0x01);
	aml_le(b, min, 2);
	aml_le(b, max, 2);
	aml_byte(b, align);
	aml_byte(b, len);
}

void aml_res_irq(struct aml_buf *b, uint8_t irq)
{
	if (irq > 15) {
		aml_fail(b, -EINVAL);
		return;
	}
	aml_byte(b, RES_IRQ_FLAGS);
	aml_le(b, 1u << irq, 2);
	/* _HE = 1 (edge), _LL = 0 (active high), _SHR = 0 (exclusive). */
	aml_byte(b, 0x01);
}

void aml_res_ext_irq(struct aml_buf *b, uint8_t flags, uint32_t gsi)
{
	aml_byte(b, RES_EXT_IRQ);
	/* Flags, table length and one interrupt; no ResourceSource. */
	aml_le(b, 2 + 4, 2);
	aml_byte(b, flags);
	aml_byte(b, 1);
	aml_le(b, gsi, 4);
}

void aml_res_memory32_fixed(struct aml_buf *b, bool writable, uint32_t base,
			    uint32_t len)
{
	aml_byte(b, RES_MEMORY32_FIXED);
	aml_le(b, 9, 2);
	aml_byte(b, writable ? 0x01 : 0x00);
	aml_le(b, base, 4);
	aml_le(b, len, 4);
}
