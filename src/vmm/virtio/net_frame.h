/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest-facing rules of virtio-net frames, kept apart from any I/O so
 * that they can be fuzzed: what the header of a frame the guest transmits
 * may ask for, and how a received frame is spread over the buffers the
 * guest posted. Every byte of a chain comes from the guest.
 */
#ifndef DUVISOR_VIRTIO_NET_FRAME_H
#define DUVISOR_VIRTIO_NET_FRAME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/queue.h"

/* The virtio 1.x header: virtio_net_hdr, then num_buffers. */
#define NET_HDR_LEN 12
/* The largest frame: an IP packet of 64 KiB behind Ethernet and VLAN. */
#define NET_MAX_GSO_FRAME (65535 + 14 + 4)

/*
 * Checks a transmitted chain against the negotiated features (VIRTIO_NET_F_*
 * bits) and fills iov with what goes to the tap: with keep_hdr the header,
 * from a copy made in hdr (which the guest cannot change after the check),
 * then the frame; without, the frame alone. Returns the number of entries,
 * or a negative errno for a chain to drop: too short or too long, a header
 * asking for an offload that was not negotiated or pointing outside the
 * frame, or more segments than max.
 */
int net_tx_prepare(const struct virtq_chain *c, uint64_t features,
		   bool keep_hdr, uint8_t hdr[NET_HDR_LEN], struct iovec *iov,
		   uint32_t max);

struct net_rx_buf {
	uint16_t head;
	uint32_t len;
	uint32_t niov;
};

/*
 * Receive buffers taken from the ring and not used yet, in ring order: a
 * frame is read straight into iov[0..niov). They stay here across frames,
 * so each frame takes only the buffers it needs from the ring.
 */
struct net_rx_stash {
	uint32_t nbufs, niov;
	uint64_t room;
	struct net_rx_buf bufs[VIRTQ_MAX_SIZE];
	struct iovec iov[VIRTQ_MAX_SEGS];
};

/* Adds a chain the guest posted; false if it cannot take frames (it has
 * device-readable parts, no room for a header, or too many segments). */
bool net_rx_stash_add(struct net_rx_stash *s, const struct virtq_chain *c);

/*
 * A frame of len bytes (header included) was written from the start of
 * the stash: sets num_buffers in its header, fills lens[] with the bytes
 * each buffer got and returns how many buffers the frame used (at least
 * one; a frame longer than the stash is cut). Needs a non-empty stash.
 */
uint32_t net_rx_frame_done(struct net_rx_stash *s, uint64_t len,
			   uint32_t *lens);

/* Forgets the first n buffers (the ones a frame used). */
void net_rx_stash_drop(struct net_rx_stash *s, uint32_t n);

#endif
