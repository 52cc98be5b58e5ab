// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: virtio-vsock packet rules. A transmitted chain is
 * parsed as the device does; an accepted packet's fields and payload are
 * checked against the chain (abort on a mismatch) and every payload byte
 * is touched (AddressSanitizer); its header, encoded again, must parse to
 * the same values. The credit helpers and the CONNECT line parser get the
 * rest of the input.
 *
 * Input: [0] buffers (mod 8) + 1, then per buffer a 16-bit length (mod
 * 2049) and its bytes (the first buffers make the header); the rest is a
 * CONNECT line candidate, whose first 16 bytes are also four credit
 * counters.
 */
#include <linux/virtio_vsock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/vsock_packet.h"

#define MAX_BUFS 8
#define BUF_SIZE 2049
#define GUEST_CID 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t bufs[MAX_BUFS][BUF_SIZE];
static struct virtq_chain chain;
static struct iovec iov[VIRTQ_MAX_SEGS];

static size_t take16(const uint8_t *data, size_t size, size_t *pos)
{
	size_t v;

	if (*pos + 2 > size)
		return 0;
	v = data[*pos] | (size_t)data[*pos + 1] << 8;
	*pos += 2;
	return v;
}

static uint32_t u32_at(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void check_payload(const struct vsock_hdr *h)
{
	uint64_t total = 0;
	int n = vsock_tx_payload(&chain, h, iov, VIRTQ_MAX_SEGS);

	if (n < 0)
		abort();
	for (int i = 0; i < n; i++) {
		volatile uint8_t *p = iov[i].iov_base;

		if (!iov[i].iov_len)
			abort();
		(void)p[0];
		(void)p[iov[i].iov_len - 1];
		total += iov[i].iov_len;
	}
	if (total != h->len)
		abort();
}

static bool same(const struct vsock_hdr *a, const struct vsock_hdr *b)
{
	return a->src_cid == b->src_cid && a->dst_cid == b->dst_cid &&
	       a->src_port == b->src_port && a->dst_port == b->dst_port &&
	       a->len == b->len && a->type == b->type && a->op == b->op &&
	       a->flags == b->flags && a->buf_alloc == b->buf_alloc &&
	       a->fwd_cnt == b->fwd_cnt;
}

/* What the device sends must read back as it was meant. */
static void check_roundtrip(const struct vsock_hdr *h)
{
	static uint8_t raw[VSOCK_HDR_LEN];
	struct virtq_chain c = { .nout = 1, .out_len = VSOCK_HDR_LEN };
	struct vsock_hdr back, in = *h;

	in.len = 0;
	vsock_hdr_encode(&in, raw);
	c.iov[0] = (struct iovec){ raw, sizeof(raw) };
	(void)vsock_tx_parse(&c, in.src_cid, &back);
	if (!same(&in, &back))
		abort();
}

static void fuzz_chain(const uint8_t *data, size_t size, size_t *pos)
{
	uint32_t nbufs = data[0] % MAX_BUFS + 1;
	struct vsock_hdr h;

	memset(&chain, 0, sizeof(chain));
	for (uint32_t i = 0; i < nbufs; i++) {
		size_t len = take16(data, size, pos) % BUF_SIZE, copy;

		/* As the walker gives them: none empty. */
		if (!len)
			break;
		copy = size - *pos < len ? size - *pos : len;
		memset(bufs[i], 0, len);
		memcpy(bufs[i], data + *pos, copy);
		*pos += copy;
		chain.iov[i] = (struct iovec){ bufs[i], len };
		chain.nout++;
		chain.out_len += len;
	}
	switch (vsock_tx_parse(&chain, GUEST_CID, &h)) {
	case VSOCK_PKT_OK:
		if (h.src_cid != GUEST_CID || h.dst_cid != VSOCK_HOST_CID ||
		    h.len > chain.out_len - VSOCK_HDR_LEN ||
		    h.len > VSOCK_MAX_PAYLOAD)
			abort();
		if ((h.type != VIRTIO_VSOCK_TYPE_STREAM ||
		     h.op < VIRTIO_VSOCK_OP_REQUEST ||
		     h.op > VIRTIO_VSOCK_OP_CREDIT_REQUEST ||
		     (h.len && h.op != VIRTIO_VSOCK_OP_RW) ||
		     (h.op == VIRTIO_VSOCK_OP_SHUTDOWN ?
		      !h.flags || h.flags > 3 : h.flags != 0)))
			abort();
		check_payload(&h);
		check_roundtrip(&h);
		break;
	case VSOCK_PKT_RESET:
		/* Answered: from a real header of the guest's. */
		if (chain.out_len < VSOCK_HDR_LEN || h.src_cid != GUEST_CID ||
		    h.op == VIRTIO_VSOCK_OP_RST)
			abort();
		break;
	case VSOCK_PKT_DROP:
		break;
	}
}

static void fuzz_credit(const uint8_t *p)
{
	uint32_t a = u32_at(p), b = u32_at(p + 4), c = u32_at(p + 8);
	uint32_t d = u32_at(p + 12);
	uint32_t credit = vsock_credit(a, b, c);

	/* Never more than the buffer, nor beyond what it holds. */
	if (credit > a || (credit && (uint32_t)(c - b) + credit != a))
		abort();
	/* A valid fwd_cnt never gives more credit than the buffer. */
	if (vsock_fwd_cnt_valid(b, d, c) &&
	    (uint32_t)(d - b) > (uint32_t)(c - b))
		abort();
	if (vsock_rx_fits(a, b, c, d) &&
	    (uint64_t)(uint32_t)(b - c) + d > a)
		abort();
	if (vsock_credit_update_due(a, b, c) && !(uint32_t)(b - c))
		abort();
}

static void fuzz_line(const uint8_t *p, size_t len)
{
	uint32_t port;
	int r = vsock_parse_connect((const char *)p, len, &port);
	char expect[24];

	if (r < 0)
		return;
	if (r == 0) {
		if (len >= VSOCK_CONNECT_LINE_MAX || memchr(p, '\n', len))
			abort();
		return;
	}
	/* Exactly the canonical line. */
	snprintf(expect, sizeof(expect), "CONNECT %u\n", port);
	if ((size_t)r > len || (size_t)r != strlen(expect) ||
	    memcmp(p, expect, (size_t)r))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 1;

	if (size < 1)
		return 0;
	fuzz_chain(data, size, &pos);
	if (size - pos >= 16)
		fuzz_credit(data + pos);
	fuzz_line(data + pos, size - pos);
	return 0;
}
