// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: virtio-net frame rules. A transmitted chain's header
 * is checked against the negotiated features and sliced for the tap; then
 * receive chains are stashed and frames spread over them. Every buffer
 * handed out is touched at both ends (AddressSanitizer), and the byte
 * accounting is checked after each step (abort on a mismatch).
 *
 * Input: [0] features (1: CSUM, 2: HOST_TSO4, 4: HOST_TSO6, 8: HOST_ECN,
 * 16: keep the header), [1] tx buffers (mod 8) + 1, [2] their writable
 * mask, then per tx buffer a 16-bit length (mod 2049) and its bytes. The
 * rest are receive steps: a byte b, then for b < 0x80 a chain of b % 4 + 1
 * segments with 16-bit lengths (mod 2049; bit 0x40 of b makes its first
 * segment device-readable), else a frame of a 16-bit length times
 * (b & 0x3) + 1.
 */
#include <linux/virtio_net.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/net_frame.h"

#define MAX_TX_BUFS 8
#define POOL_BUFS 64
#define BUF_SIZE 2049

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t tx_bufs[MAX_TX_BUFS][BUF_SIZE];
static uint8_t pool[POOL_BUFS][BUF_SIZE];
static uint8_t frame[4 * 65536];
static struct virtq_chain chain;
static struct iovec iov[VIRTQ_MAX_SEGS];
static struct net_rx_stash stash;
static uint32_t lens[VIRTQ_MAX_SIZE];

static size_t take16(const uint8_t *data, size_t size, size_t *pos)
{
	size_t v;

	if (*pos + 2 > size)
		return 0;
	v = data[*pos] | (size_t)data[*pos + 1] << 8;
	*pos += 2;
	return v;
}

static void touch(const struct iovec *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		volatile uint8_t *p = v[i].iov_base;

		if (!v[i].iov_len)
			abort();
		(void)p[0];
		(void)p[v[i].iov_len - 1];
	}
}

static uint64_t iov_total(const struct iovec *v, uint32_t n)
{
	uint64_t len = 0;

	for (uint32_t i = 0; i < n; i++)
		len += v[i].iov_len;
	return len;
}

static size_t fuzz_tx(const uint8_t *data, size_t size)
{
	uint64_t features = 0;
	uint8_t hdr[NET_HDR_LEN];
	uint32_t nbufs = data[1] % MAX_TX_BUFS + 1;
	bool keep = data[0] & 16;
	size_t pos = 3;
	int n;

	if (data[0] & 1)
		features |= 1ull << VIRTIO_NET_F_CSUM;
	if (data[0] & 2)
		features |= 1ull << VIRTIO_NET_F_HOST_TSO4;
	if (data[0] & 4)
		features |= 1ull << VIRTIO_NET_F_HOST_TSO6;
	if (data[0] & 8)
		features |= 1ull << VIRTIO_NET_F_HOST_ECN;
	memset(&chain, 0, sizeof(chain));
	for (uint32_t i = 0; i < nbufs; i++) {
		bool writable = data[2] & (1u << i);
		size_t len = take16(data, size, &pos) % BUF_SIZE, copy;

		/* Readable buffers first, none empty: as the walker gives. */
		if ((!writable && chain.nin) || !len)
			break;
		copy = size - pos < len ? size - pos : len;
		memset(tx_bufs[i], 0, len);
		memcpy(tx_bufs[i], data + pos, copy);
		pos += copy;
		chain.iov[i] = (struct iovec){ tx_bufs[i], len };
		if (writable) {
			chain.nin++;
			chain.in_len += len;
		} else {
			chain.nout++;
			chain.out_len += len;
		}
	}
	n = net_tx_prepare(&chain, features, keep, hdr, iov, VIRTQ_MAX_SEGS);
	if (n > 0) {
		touch(iov, (uint32_t)n);
		if (iov_total(iov, (uint32_t)n) !=
		    chain.out_len - (keep ? 0 : NET_HDR_LEN))
			abort();
		if (keep && (iov[0].iov_base != hdr ||
			     iov[0].iov_len != NET_HDR_LEN))
			abort();
	}
	return pos;
}

static void check_stash(void)
{
	uint64_t room = 0;
	uint32_t niov = 0;

	for (uint32_t i = 0; i < stash.nbufs; i++) {
		room += stash.bufs[i].len;
		niov += stash.bufs[i].niov;
	}
	if (room != stash.room || niov != stash.niov ||
	    iov_total(stash.iov, stash.niov) != room)
		abort();
	touch(stash.iov, stash.niov);
}

static void add_chain(const uint8_t *data, size_t size, size_t *pos,
		      uint8_t b, uint32_t *next)
{
	uint32_t nseg = b % 4 + 1, before = stash.nbufs;

	memset(&chain, 0, sizeof(chain));
	chain.head = (uint16_t)*next;
	for (uint32_t i = 0; i < nseg; i++) {
		size_t len = take16(data, size, pos) % BUF_SIZE;

		if (!len)
			len = 1;
		chain.iov[i] = (struct iovec){ pool[*next % POOL_BUFS], len };
		*next += 1;
		if (i == 0 && (b & 0x40)) {
			chain.nout++;
			chain.out_len += len;
		} else {
			chain.nin++;
			chain.in_len += len;
		}
	}
	if (net_rx_stash_add(&stash, &chain) != (stash.nbufs == before + 1))
		abort();
	if (chain.nout && stash.nbufs != before)
		abort();
}

static void receive(uint64_t len)
{
	uint64_t want, got = 0;
	uint16_t num_buffers;
	uint32_t n;

	if (!stash.nbufs)
		return;
	want = len < stash.room ? len : stash.room;
	/* What readv() from the tap does. */
	iov_from_buf(stash.iov, stash.niov, 0, frame, want);
	n = net_rx_frame_done(&stash, len, lens);
	if (!n || n > stash.nbufs)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		bool last = i + 1 == n;

		if (lens[i] > stash.bufs[i].len ||
		    (!last && lens[i] != stash.bufs[i].len))
			abort();
		got += lens[i];
	}
	iov_to_buf(stash.iov, stash.niov, NET_HDR_LEN - 2, &num_buffers, 2);
	if (got != want || num_buffers != n)
		abort();
	net_rx_stash_drop(&stash, n);
	check_stash();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t next = 0;
	size_t pos;

	if (size < 3)
		return 0;
	pos = fuzz_tx(data, size);
	net_rx_stash_drop(&stash, stash.nbufs);
	memset(frame, 0xa5, sizeof(frame));
	while (pos < size) {
		uint8_t b = data[pos++];

		if (b < 0x80)
			add_chain(data, size, &pos, b, &next);
		else
			receive(take16(data, size, &pos) * ((b & 3) + 1));
		check_stash();
	}
	return 0;
}
