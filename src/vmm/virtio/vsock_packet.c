// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-vsock packets (virtio 1.x section 5.10.6): headers and credit. */
#include "virtio/vsock_packet.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_vsock.h>
#include <string.h>

#include "core/util.h"

_Static_assert(sizeof(struct virtio_vsock_hdr) == VSOCK_HDR_LEN,
	       "the header as the guest lays it out");

static bool known_op(uint16_t op)
{
	return op >= VIRTIO_VSOCK_OP_REQUEST &&
	       op <= VIRTIO_VSOCK_OP_CREDIT_REQUEST;
}

static bool flags_valid(uint16_t op, uint32_t flags)
{
	/* Only SHUTDOWN has flags on a stream; one without any says
	 * nothing, which no driver sends. */
	if (op == VIRTIO_VSOCK_OP_SHUTDOWN)
		return flags && !(flags & ~(uint32_t)(VIRTIO_VSOCK_SHUTDOWN_RCV |
						      VIRTIO_VSOCK_SHUTDOWN_SEND));
	return !flags;
}

static void decode(const struct virtio_vsock_hdr *w, struct vsock_hdr *h)
{
	*h = (struct vsock_hdr){
		.src_cid = le64toh(w->src_cid),
		.dst_cid = le64toh(w->dst_cid),
		.src_port = le32toh(w->src_port),
		.dst_port = le32toh(w->dst_port),
		.len = le32toh(w->len),
		.type = le16toh(w->type),
		.op = le16toh(w->op),
		.flags = le32toh(w->flags),
		.buf_alloc = le32toh(w->buf_alloc),
		.fwd_cnt = le32toh(w->fwd_cnt),
	};
}

enum vsock_verdict vsock_tx_parse(const struct virtq_chain *c,
				  uint64_t guest_cid, struct vsock_hdr *h)
{
	struct virtio_vsock_hdr wire;
	bool valid;

	if (c->out_len < VSOCK_HDR_LEN)
		return VSOCK_PKT_DROP;
	/* Checked and used from our copy, read once. */
	iov_to_buf(c->iov, c->nout, 0, &wire, sizeof(wire));
	decode(&wire, h);
	/* A forged source: an answer would go to someone else. */
	if (h->src_cid != guest_cid)
		return VSOCK_PKT_DROP;
	/* Only the host is reachable through us. */
	valid = h->dst_cid == VSOCK_HOST_CID &&
		h->type == VIRTIO_VSOCK_TYPE_STREAM && known_op(h->op) &&
		flags_valid(h->op, h->flags) &&
		(!h->len || (h->op == VIRTIO_VSOCK_OP_RW &&
			     h->len <= VSOCK_MAX_PAYLOAD &&
			     h->len <= c->out_len - VSOCK_HDR_LEN));
	/* Answering an RST with one could ping-pong for ever. */
	if (h->op == VIRTIO_VSOCK_OP_RST)
		return valid ? VSOCK_PKT_OK : VSOCK_PKT_DROP;
	/* An RST makes the guest's socket fail at once, e.g. a connect()
	 * to another CID than the host's. */
	return valid ? VSOCK_PKT_OK : VSOCK_PKT_RESET;
}

int vsock_tx_payload(const struct virtq_chain *c, const struct vsock_hdr *h,
		     struct iovec *iov, uint32_t max)
{
	return iov_slice(c->iov, c->nout, VSOCK_HDR_LEN, h->len, iov, max);
}

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t out[VSOCK_HDR_LEN])
{
	struct virtio_vsock_hdr w = {
		.src_cid = htole64(h->src_cid),
		.dst_cid = htole64(h->dst_cid),
		.src_port = htole32(h->src_port),
		.dst_port = htole32(h->dst_port),
		.len = htole32(h->len),
		.type = htole16(h->type),
		.op = htole16(h->op),
		.flags = htole32(h->flags),
		.buf_alloc = htole32(h->buf_alloc),
		.fwd_cnt = htole32(h->fwd_cnt),
	};

	memcpy(out, &w, sizeof(w));
}

uint32_t vsock_credit(uint32_t buf_alloc, uint32_t fwd_cnt, uint32_t tx_cnt)
{
	/* Wrapping subtraction: the counters run over 2^32 on long
	 * connections. */
	uint32_t in_flight = tx_cnt - fwd_cnt;

	return in_flight > buf_alloc ? 0 : buf_alloc - in_flight;
}

bool vsock_fwd_cnt_valid(uint32_t old_fwd, uint32_t new_fwd, uint32_t tx_cnt)
{
	return (uint32_t)(new_fwd - old_fwd) <= (uint32_t)(tx_cnt - old_fwd);
}

bool vsock_rx_fits(uint32_t buf_alloc, uint32_t rx_cnt, uint32_t fwd_cnt,
		   uint32_t len)
{
	uint32_t held = rx_cnt - fwd_cnt;

	return held <= buf_alloc && len <= buf_alloc - held;
}

bool vsock_credit_update_due(uint32_t buf_alloc, uint32_t fwd_cnt,
			     uint32_t told)
{
	uint32_t freed = fwd_cnt - told;

	return freed && freed >= buf_alloc / 4;
}

int vsock_parse_connect(const char *buf, size_t len, uint32_t *port)
{
	static const char word[] = "CONNECT ";
	const size_t wlen = sizeof(word) - 1;
	uint64_t v = 0;
	size_t i, digits = 0;

	if (memcmp(buf, word, MIN(len, wlen)))
		return -EINVAL;
	for (i = wlen; i < len && i < VSOCK_CONNECT_LINE_MAX; i++) {
		char ch = buf[i];

		if (ch == '\n') {
			if (!digits)
				return -EINVAL;
			*port = (uint32_t)v;
			return (int)i + 1;
		}
		if (ch < '0' || ch > '9' || (digits == 1 && v == 0))
			return -EINVAL;
		v = v * 10 + (uint64_t)(ch - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
		digits++;
	}
	return i < VSOCK_CONNECT_LINE_MAX ? 0 : -EINVAL;
}
