// SPDX-License-Identifier: GPL-2.0-or-later
/* Framing of libvirt RPC packets (see rpc_packet.h). */
#include <glib.h>
#include <string.h>

#include "rpc_packet.h"

#define READER_INITIAL_CAP (64u * 1024)

uint32_t rpc_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void rpc_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

bool rpc_length_valid(uint32_t len)
{
	return len >= RPC_LEN_MIN && len <= RPC_LEN_MAX;
}

void rpc_header_decode(const uint8_t *buf, struct rpc_header *h)
{
	h->prog = rpc_get_u32(buf);
	h->vers = rpc_get_u32(buf + 4);
	h->proc = (int32_t)rpc_get_u32(buf + 8);
	h->type = (int32_t)rpc_get_u32(buf + 12);
	h->serial = rpc_get_u32(buf + 16);
	h->status = (int32_t)rpc_get_u32(buf + 20);
}

void rpc_header_encode(uint8_t *buf, const struct rpc_header *h)
{
	rpc_put_u32(buf, h->prog);
	rpc_put_u32(buf + 4, h->vers);
	rpc_put_u32(buf + 8, (uint32_t)h->proc);
	rpc_put_u32(buf + 12, (uint32_t)h->type);
	rpc_put_u32(buf + 16, h->serial);
	rpc_put_u32(buf + 20, (uint32_t)h->status);
}

void rpc_reader_init(struct rpc_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void rpc_reader_clear(struct rpc_reader *r)
{
	g_free(r->pkt);
	rpc_reader_init(r);
}

size_t rpc_reader_feed(struct rpc_reader *r, const uint8_t *data, size_t n,
		       enum rpc_reader_status *status)
{
	size_t used = 0;

	*status = RPC_READER_MORE;
	if (!r->have_len) {
		size_t want = RPC_LEN_SIZE - r->got;
		size_t take = MIN(want, n);

		memcpy(r->lenbuf + r->got, data, take);
		r->got += take;
		used += take;
		if (r->got < RPC_LEN_SIZE)
			return used;
		uint32_t len = rpc_get_u32(r->lenbuf);
		if (!rpc_length_valid(len)) {
			*status = RPC_READER_BAD_LENGTH;
			return used;
		}
		r->len = len - RPC_LEN_SIZE;
		r->have_len = true;
		r->got = 0;
	}

	size_t want = r->len - r->got;
	size_t take = MIN(want, n - used);

	if (r->got + take > r->cap) {
		size_t cap = MAX(r->cap, (size_t)MIN(READER_INITIAL_CAP, r->len));

		while (cap < r->got + take)
			cap *= 2;
		cap = MIN(cap, (size_t)r->len);
		r->pkt = g_realloc(r->pkt, cap);
		r->cap = cap;
	}
	memcpy(r->pkt + r->got, data + used, take);
	r->got += take;
	used += take;
	if (r->got == r->len)
		*status = RPC_READER_PACKET;
	return used;
}

uint8_t *rpc_reader_take(struct rpc_reader *r, size_t *len)
{
	uint8_t *pkt = r->pkt;

	g_assert(r->have_len && r->got == r->len);
	*len = r->len;
	rpc_reader_init(r);
	return pkt;
}

static struct rpc_frame *msg_alloc(const struct rpc_header *h, size_t payload)
{
	struct rpc_frame *m;

	if (payload > RPC_PACKET_MAX - RPC_HEADER_SIZE)
		return NULL;
	m = g_new0(struct rpc_frame, 1);
	m->len = RPC_LEN_SIZE + RPC_HEADER_SIZE + payload;
	m->buf = g_malloc(m->len);
	rpc_put_u32(m->buf, (uint32_t)m->len);
	rpc_header_encode(m->buf + RPC_LEN_SIZE, h);
	return m;
}

struct rpc_frame *rpc_frame_new_xdr(const struct rpc_header *h, xdrproc_t filter,
				const void *data)
{
	unsigned long size = 0;
	struct rpc_frame *m;
	XDR xdr;

	if (filter)
		size = xdr_sizeof(filter, (void *)data);
	m = msg_alloc(h, size);
	if (!m || !filter)
		return m;
	xdrmem_create(&xdr, (char *)m->buf + RPC_LEN_MIN, (u_int)size, XDR_ENCODE);
	bool ok = filter(&xdr, (void *)data, 0);

	xdr_destroy(&xdr);
	if (!ok) {
		rpc_frame_free(m);
		return NULL;
	}
	return m;
}

struct rpc_frame *rpc_frame_new_raw(const struct rpc_header *h, const void *data,
				size_t len)
{
	struct rpc_frame *m = msg_alloc(h, len);

	if (m && len)
		memcpy(m->buf + RPC_LEN_MIN, data, len);
	return m;
}

void rpc_frame_free(struct rpc_frame *m)
{
	if (!m)
		return;
	g_free(m->buf);
	g_free(m);
}

bool rpc_xdr_decode(const uint8_t *payload, size_t len, xdrproc_t filter,
		    void *out)
{
	XDR xdr;
	bool ok;

	if (len > RPC_PACKET_MAX)
		return false;
	xdrmem_create(&xdr, (char *)payload, (u_int)len, XDR_DECODE);
	ok = filter(&xdr, out, 0);
	xdr_destroy(&xdr);
	if (!ok)
		xdr_free(filter, out);
	return ok;
}
