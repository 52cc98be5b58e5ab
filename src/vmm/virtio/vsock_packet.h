/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest-facing rules of virtio-vsock packets (virtio 1.x section 5.10),
 * kept apart from any I/O so that they can be fuzzed: which headers the
 * guest may send, the credit arithmetic of both directions, and the line a
 * host client sends to open a connection to the guest. Every byte of a
 * chain comes from the guest.
 */
#ifndef DUVISOR_VIRTIO_VSOCK_PACKET_H
#define DUVISOR_VIRTIO_VSOCK_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/queue.h"

/* The host's address; the guest has its own (--vsock cid=N). */
#define VSOCK_HOST_CID 2
/* struct virtio_vsock_hdr, packed, little endian. */
#define VSOCK_HDR_LEN 44
/* The largest payload of one packet either way (Linux sends at most
 * 64 KiB too): bounds the time one packet holds the main loop. */
#define VSOCK_MAX_PAYLOAD (64u * 1024)
/* "CONNECT 4294967295\n" is 19 bytes; anything longer is not one. */
#define VSOCK_CONNECT_LINE_MAX 32

/* A header in host byte order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt;
};

/* What to do with a packet the guest sent. */
enum vsock_verdict {
	VSOCK_PKT_OK,
	/* Ignore it: it cannot be answered (no room for a header, a source
	 * that is not the guest's) or must not be (an RST). */
	VSOCK_PKT_DROP,
	/* Answer with an RST to its sender (a malformed or unsupported
	 * packet): the guest's socket fails instead of waiting. */
	VSOCK_PKT_RESET,
};

/*
 * Decodes the header of a transmitted chain into *h (from a copy: the
 * guest may rewrite its buffers) and checks every field: the source must
 * be guest_cid, the destination the host, a stream packet of a known
 * operation whose payload (only RW has one) lies within the chain's
 * device-readable part and is at most VSOCK_MAX_PAYLOAD, and flags only
 * where SHUTDOWN has them. A malformed RST is dropped, other malformed
 * packets are answered. *h is filled whenever the chain holds a header.
 */
enum vsock_verdict vsock_tx_parse(const struct virtq_chain *c,
				  uint64_t guest_cid, struct vsock_hdr *h);

/* The payload of a packet vsock_tx_parse() accepted, as up to max iovecs
 * into guest memory; returns their number or a negative errno. */
int vsock_tx_payload(const struct virtq_chain *c, const struct vsock_hdr *h,
		     struct iovec *iov, uint32_t max);

/* Encodes h for the guest. */
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t out[VSOCK_HDR_LEN]);

/*
 * Credit (virtio 1.x 5.10.6.3): a receiver advertises buf_alloc, the size
 * of its buffer, and fwd_cnt, how many bytes it has consumed; a sender
 * that has sent tx_cnt bytes may send buf_alloc - (tx_cnt - fwd_cnt) more.
 * The counters are 32 bits and wrap.
 */

/* How much we may send a peer that advertised buf_alloc and fwd_cnt:
 * 0 when its numbers claim more in flight than its buffer holds. */
uint32_t vsock_credit(uint32_t buf_alloc, uint32_t fwd_cnt, uint32_t tx_cnt);

/* Whether a peer that reported old_fwd and received tx_cnt bytes may now
 * report new_fwd: it never goes back nor beyond what it was sent. */
bool vsock_fwd_cnt_valid(uint32_t old_fwd, uint32_t new_fwd, uint32_t tx_cnt);

/* Whether len more bytes from a peer stay within the buf_alloc we
 * advertised, with rx_cnt received and fwd_cnt of them passed on. */
bool vsock_rx_fits(uint32_t buf_alloc, uint32_t rx_cnt, uint32_t fwd_cnt,
		   uint32_t len);

/* Whether to tell the peer about the space freed since it last heard our
 * fwd_cnt (told): once a quarter of the buffer is free again, so that a
 * sender with no credit left always gets some back (and not one update
 * per packet). */
bool vsock_credit_update_due(uint32_t buf_alloc, uint32_t fwd_cnt,
			     uint32_t told);

/*
 * A host client's request, "CONNECT <port>\n" (decimal, no sign, no
 * leading zeros, at most 32 bits), at the start of buf[0..len). Returns
 * the line's length with *port set, 0 when more bytes may complete it, or
 * -EINVAL when they cannot.
 */
int vsock_parse_connect(const char *buf, size_t len, uint32_t *port);

#endif
