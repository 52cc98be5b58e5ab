// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-net frames (virtio 1.x section 5.1.6): headers and buffers. */
#include "virtio/net_frame.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "core/util.h"

#define ETH_HLEN 14
#define BIT(n) (1ull << (n))

static bool gso_allowed(uint8_t type, uint64_t features)
{
	if ((type & VIRTIO_NET_HDR_GSO_ECN) &&
	    !(features & BIT(VIRTIO_NET_F_HOST_ECN)))
		return false;
	switch (type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return features & BIT(VIRTIO_NET_F_HOST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return features & BIT(VIRTIO_NET_F_HOST_TSO6);
	default:
		return false;
	}
}

/* Whether the tap may be handed this header for a frame of len bytes. */
static bool tx_hdr_valid(const struct virtio_net_hdr_v1 *h, uint64_t len,
			 uint64_t features)
{
	bool csum = h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;

	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	if (csum && (!(features & BIT(VIRTIO_NET_F_CSUM)) ||
		     (uint64_t)le16toh(h->csum_start) +
		     le16toh(h->csum_offset) + 2 > len))
		return false;
	if (le16toh(h->hdr_len) > len)
		return false;
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return true;
	/* Segments get their checksums from the partial one. */
	return csum && le16toh(h->gso_size) &&
	       gso_allowed(h->gso_type, features);
}

int net_tx_prepare(const struct virtq_chain *c, uint64_t features,
		   bool keep_hdr, uint8_t hdr[NET_HDR_LEN], struct iovec *iov,
		   uint32_t max)
{
	struct virtio_net_hdr_v1 h;
	uint64_t len;
	int n;

	if (c->out_len < NET_HDR_LEN + ETH_HLEN ||
	    c->out_len - NET_HDR_LEN > NET_MAX_GSO_FRAME || max < 2)
		return -EINVAL;
	len = c->out_len - NET_HDR_LEN;
	/* Checked and sent from our copy: the guest may rewrite its own. */
	iov_to_buf(c->iov, c->nout, 0, hdr, NET_HDR_LEN);
	memcpy(&h, hdr, sizeof(h));
	if (!tx_hdr_valid(&h, len, features))
		return -EINVAL;
	if (!keep_hdr)
		return iov_slice(c->iov, c->nout, NET_HDR_LEN, len, iov, max);
	iov[0] = (struct iovec){ .iov_base = hdr, .iov_len = NET_HDR_LEN };
	n = iov_slice(c->iov, c->nout, NET_HDR_LEN, len, iov + 1, max - 1);
	return n < 0 ? n : n + 1;
}

bool net_rx_stash_add(struct net_rx_stash *s, const struct virtq_chain *c)
{
	if (c->nout || c->in_len < NET_HDR_LEN || c->in_len > UINT32_MAX ||
	    c->nin > VIRTQ_MAX_SEGS - s->niov || s->nbufs == VIRTQ_MAX_SIZE)
		return false;
	memcpy(&s->iov[s->niov], c->iov, c->nin * sizeof(c->iov[0]));
	s->niov += c->nin;
	s->bufs[s->nbufs++] = (struct net_rx_buf){
		.head = c->head,
		.len = (uint32_t)c->in_len,
		.niov = c->nin,
	};
	s->room += c->in_len;
	return true;
}

uint32_t net_rx_frame_done(struct net_rx_stash *s, uint64_t len,
			   uint32_t *lens)
{
	uint64_t left = MIN(len, s->room);
	uint16_t num_buffers;
	uint32_t n = 0;

	do {
		lens[n] = (uint32_t)MIN(left, s->bufs[n].len);
		left -= lens[n];
		n++;
	} while (left && n < s->nbufs);
	/* The last field of the header in the first buffer. */
	num_buffers = htole16((uint16_t)n);
	iov_from_buf(s->iov, s->niov, NET_HDR_LEN - 2, &num_buffers, 2);
	return n;
}

void net_rx_stash_drop(struct net_rx_stash *s, uint32_t n)
{
	uint32_t niov = 0;

	n = MIN(n, s->nbufs);
	for (uint32_t i = 0; i < n; i++) {
		niov += s->bufs[i].niov;
		s->room -= s->bufs[i].len;
	}
	s->nbufs -= n;
	s->niov -= niov;
	memmove(s->bufs, s->bufs + n, s->nbufs * sizeof(s->bufs[0]));
	memmove(s->iov, s->iov + niov, s->niov * sizeof(s->iov[0]));
}
