// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Encoding and decoding of control messages. The decoder is the VMM's
 * attack surface towards its manager and is fuzzed (tests/fuzz): it reads
 * only within the packet and accepts nothing it cannot describe.
 */
#include "control-proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* Printable ASCII and UTF-8 bytes; no control characters. */
static bool value_char(char c)
{
	unsigned char u = (unsigned char)c;

	return u >= 0x20 && u != 0x7f;
}

/* Length of the key=value line at p, newline included; 0 if invalid. */
static size_t line_len(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && key_char(*q))
		q++;
	if (q == p || q - p > DVCTL_MAX_KEY || q == end || *q != '=')
		return 0;
	for (q++; q < end && *q != '\n'; q++)
		if (!value_char(*q))
			return 0;
	if (q == end)
		return 0;
	return (size_t)(q - p) + 1;
}

int dvctl_decode(const void *buf, size_t len, struct dvctl_msg *msg)
{
	const uint8_t *p = buf;
	const char *pl, *end;
	uint32_t plen;

	memset(msg, 0, sizeof(*msg));
	if (len > DVCTL_MAX_MESSAGE)
		len = DVCTL_MAX_MESSAGE + 1;   /* still read the header */
	if (len < DVCTL_HEADER_SIZE)
		return DVCTL_E_TRUNCATED;
	msg->version = get16(p + 4);
	msg->type = get16(p + 6);
	msg->id = get32(p + 8);
	plen = get32(p + 12);
	if (get32(p) != DVCTL_MAGIC)
		return DVCTL_E_BAD_MAGIC;
	if (msg->version != DVCTL_VERSION)
		return DVCTL_E_BAD_VERSION;
	if (len > DVCTL_MAX_MESSAGE || plen > DVCTL_MAX_PAYLOAD)
		return DVCTL_E_TOO_LARGE;
	if (plen != len - DVCTL_HEADER_SIZE)
		return DVCTL_E_BAD_LENGTH;
	pl = (const char *)p + DVCTL_HEADER_SIZE;
	end = pl + plen;
	for (const char *q = pl; q < end;) {
		size_t n = line_len(q, end);

		if (!n)
			return DVCTL_E_BAD_PAYLOAD;
		q += n;
	}
	msg->payload = pl;
	msg->len = plen;
	return DVCTL_OK;
}

int dvctl_next_kv(const char **p, const char *end, struct dvctl_kv *kv)
{
	const char *q = *p, *eq, *nl;
	size_t n;

	if (q >= end)
		return 0;
	n = line_len(q, end);
	if (!n)
		return 0;
	eq = memchr(q, '=', n);
	nl = q + n - 1;
	memcpy(kv->key, q, (size_t)(eq - q));
	kv->key[eq - q] = '\0';
	kv->value = eq + 1;
	kv->value_len = (size_t)(nl - kv->value);
	*p = q + n;
	return 1;
}

bool dvctl_get(const struct dvctl_msg *msg, const char *key, char *out,
	       size_t size)
{
	const char *p = msg->payload, *end = p + msg->len;
	struct dvctl_kv kv;

	if (!p)
		return false;
	while (dvctl_next_kv(&p, end, &kv) > 0) {
		if (strcmp(kv.key, key))
			continue;
		if (kv.value_len >= size)
			return false;
		memcpy(out, kv.value, kv.value_len);
		out[kv.value_len] = '\0';
		return true;
	}
	return false;
}

void dvctl_begin(struct dvctl_buf *b, uint16_t type, uint32_t id)
{
	put32(b->data, DVCTL_MAGIC);
	put16(b->data + 4, DVCTL_VERSION);
	put16(b->data + 6, type);
	put32(b->data + 8, id);
	put32(b->data + 12, 0);
	b->len = DVCTL_HEADER_SIZE;
	b->overflow = false;
}

void dvctl_put(struct dvctl_buf *b, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value);
	uint8_t *p;

	if (!klen || klen > DVCTL_MAX_KEY ||
	    klen + vlen + 2 > sizeof(b->data) - b->len) {
		b->overflow = true;
		return;
	}
	for (size_t i = 0; i < klen; i++)
		if (!key_char(key[i]))
			b->overflow = true;
	for (size_t i = 0; i < vlen; i++)
		if (!value_char(value[i]))
			b->overflow = true;
	if (b->overflow)
		return;
	p = b->data + b->len;
	memcpy(p, key, klen);
	p[klen] = '=';
	memcpy(p + klen + 1, value, vlen);
	p[klen + 1 + vlen] = '\n';
	b->len += klen + vlen + 2;
}

void dvctl_putf(struct dvctl_buf *b, const char *key, const char *fmt, ...)
{
	char value[DVCTL_MAX_PAYLOAD];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(value)) {
		b->overflow = true;
		return;
	}
	dvctl_put(b, key, value);
}

void dvctl_put_u64(struct dvctl_buf *b, const char *key, uint64_t v)
{
	dvctl_putf(b, key, "%llu", (unsigned long long)v);
}

size_t dvctl_finish(struct dvctl_buf *b)
{
	if (b->overflow)
		return 0;
	put32(b->data + 12, (uint32_t)(b->len - DVCTL_HEADER_SIZE));
	return b->len;
}

const char *dvctl_error_name(int err)
{
	switch (err) {
	case DVCTL_OK:
		return "ok";
	case DVCTL_E_TRUNCATED:
		return "truncated";
	case DVCTL_E_BAD_MAGIC:
		return "bad-magic";
	case DVCTL_E_BAD_VERSION:
		return "unsupported-version";
	case DVCTL_E_BAD_LENGTH:
		return "bad-length";
	case DVCTL_E_TOO_LARGE:
		return "too-large";
	case DVCTL_E_BAD_PAYLOAD:
		return "bad-payload";
	default:
		return "unknown";
	}
}

static const struct {
	uint16_t type;
	const char *name;
} requests[] = {
	{ DVCTL_HELLO, "hello" },
	{ DVCTL_STATUS, "status" },
	{ DVCTL_PAUSE, "pause" },
	{ DVCTL_RESUME, "resume" },
	{ DVCTL_POWERDOWN, "powerdown" },
	{ DVCTL_RESET, "reset" },
	{ DVCTL_QUIT, "quit" },
	{ DVCTL_BALLOON_SET, "balloon-set" },
	{ DVCTL_BALLOON_STATS, "balloon-stats" },
	{ DVCTL_BLOCK_STATS, "block-stats" },
	{ DVCTL_TEST_FORBIDDEN_SYSCALL, "test-forbidden-syscall" },
};

const char *dvctl_request_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (requests[i].type == type)
			return requests[i].name;
	return NULL;
}

uint16_t dvctl_request_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (!strcmp(requests[i].name, name))
			return requests[i].type;
	return 0;
}
