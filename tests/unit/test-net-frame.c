// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-net frame rules: transmitted headers, received frames spread. */
#include <errno.h>
#include <glib.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "virtio/net_frame.h"

#define F(bit) (1ull << (bit))
#define NOT(bit) (ALL_TX & ~F(bit))
#define ALL_TX (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | \
		F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN))

static uint8_t frame[2000];
static struct virtq_chain chain;
static struct iovec iov[8];
static uint8_t hdr_copy[NET_HDR_LEN];

/* A chain of one readable buffer: the header h, then a 1500-byte frame. */
static void tx_chain(const struct virtio_net_hdr_v1 *h)
{
	memset(&chain, 0, sizeof(chain));
	memset(frame, 0x11, sizeof(frame));
	memcpy(frame, h, sizeof(*h));
	chain.iov[0] = (struct iovec){ frame, NET_HDR_LEN + 1500 };
	chain.nout = 1;
	chain.out_len = NET_HDR_LEN + 1500;
}

static int prepare(uint64_t features, bool keep)
{
	return net_tx_prepare(&chain, features, keep, hdr_copy, iov, 8);
}

static void test_tx_plain_frame(void)
{
	struct virtio_net_hdr_v1 h = { 0 };

	tx_chain(&h);
	/* With the tap's header: our copy of it, then the frame. */
	g_assert_cmpint(prepare(0, true), ==, 2);
	g_assert_true(iov[0].iov_base == hdr_copy);
	g_assert_cmpuint(iov[0].iov_len, ==, NET_HDR_LEN);
	g_assert_true(iov[1].iov_base == frame + NET_HDR_LEN);
	g_assert_cmpuint(iov[1].iov_len, ==, 1500);
	/* Without it: the frame alone. */
	g_assert_cmpint(prepare(0, false), ==, 1);
	g_assert_true(iov[0].iov_base == frame + NET_HDR_LEN);
}

static void test_tx_offloads_need_features(void)
{
	struct virtio_net_hdr_v1 h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1448,
		.csum_start = 34, .csum_offset = 16,
	};

	tx_chain(&h);
	g_assert_cmpint(prepare(ALL_TX, true), ==, 2);
	g_assert_cmpint(prepare(NOT(VIRTIO_NET_F_HOST_TSO4), true), ==,
			-EINVAL);
	g_assert_cmpint(prepare(NOT(VIRTIO_NET_F_CSUM), true), ==, -EINVAL);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN;
	tx_chain(&h);
	g_assert_cmpint(prepare(ALL_TX, true), ==, 2);
	g_assert_cmpint(prepare(NOT(VIRTIO_NET_F_HOST_ECN), true), ==, -EINVAL);
	/* UDP segmentation is never offered. */
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	tx_chain(&h);
	g_assert_cmpint(prepare(ALL_TX, true), ==, -EINVAL);
	/* Segmentation without a partial checksum, or of size 0. */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.flags = 0;
	tx_chain(&h);
	g_assert_cmpint(prepare(ALL_TX, true), ==, -EINVAL);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_size = 0;
	tx_chain(&h);
	g_assert_cmpint(prepare(ALL_TX, true), ==, -EINVAL);
}

static void test_tx_hostile_headers(void)
{
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = 1490, .csum_offset = 8 };

	tx_chain(&h);
	g_assert_cmpint(prepare(ALL_TX, true), ==, 2);
	/* The checksum would land past the frame's end. */
	h.csum_offset = 9;
	tx_chain(&h);
	g_assert_cmpint(prepare(ALL_TX, true), ==, -EINVAL);
	h = (struct virtio_net_hdr_v1){ .hdr_len = 1501 };
	tx_chain(&h);
	g_assert_cmpint(prepare(ALL_TX, true), ==, -EINVAL);
	h = (struct virtio_net_hdr_v1){ .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	tx_chain(&h);
	g_assert_cmpint(prepare(ALL_TX, true), ==, -EINVAL);
	/* Shorter than a header and an Ethernet header, or longer than 64 KiB
	 * of IP. */
	h = (struct virtio_net_hdr_v1){ 0 };
	tx_chain(&h);
	chain.iov[0].iov_len = chain.out_len = NET_HDR_LEN + 13;
	g_assert_cmpint(prepare(0, true), ==, -EINVAL);
	chain.out_len = NET_HDR_LEN + NET_MAX_GSO_FRAME + 1;
	g_assert_cmpint(prepare(0, true), ==, -EINVAL);
}

/* The check runs on our copy: what the guest changes later is not sent. */
static void test_tx_header_is_copied(void)
{
	struct virtio_net_hdr_v1 h = { 0 };

	tx_chain(&h);
	g_assert_cmpint(prepare(0, true), ==, 2);
	frame[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	g_assert_cmpuint(((uint8_t *)iov[0].iov_base)[0], ==, 0);
}

static void add_rx(struct net_rx_stash *s, uint8_t *buf, uint16_t head,
		   uint32_t len)
{
	memset(&chain, 0, sizeof(chain));
	chain.head = head;
	chain.iov[0] = (struct iovec){ buf, len };
	chain.nin = 1;
	chain.in_len = len;
	g_assert_true(net_rx_stash_add(s, &chain));
}

static void test_rx_spread(void)
{
	static struct net_rx_stash s;
	static uint8_t bufs[3][100];
	uint32_t lens[3];
	uint16_t num_buffers;

	add_rx(&s, bufs[0], 7, 100);
	add_rx(&s, bufs[1], 3, 100);
	add_rx(&s, bufs[2], 5, 100);
	g_assert_cmpuint(s.room, ==, 300);
	/* 250 bytes take three buffers; num_buffers says so. */
	g_assert_cmpuint(net_rx_frame_done(&s, 250, lens), ==, 3);
	g_assert_cmpuint(lens[0], ==, 100);
	g_assert_cmpuint(lens[2], ==, 50);
	memcpy(&num_buffers, bufs[0] + NET_HDR_LEN - 2, 2);
	g_assert_cmpuint(num_buffers, ==, 3);
	/* A small frame takes the first buffer only; the rest stay. */
	g_assert_cmpuint(net_rx_frame_done(&s, 60, lens), ==, 1);
	net_rx_stash_drop(&s, 1);
	g_assert_cmpuint(s.nbufs, ==, 2);
	g_assert_cmpuint(s.bufs[0].head, ==, 3);
	g_assert_true(s.iov[0].iov_base == bufs[1]);
	g_assert_cmpuint(s.room, ==, 200);
	/* A frame longer than the stash is cut to it. */
	g_assert_cmpuint(net_rx_frame_done(&s, 1000, lens), ==, 2);
	g_assert_cmpuint(lens[1], ==, 100);
	net_rx_stash_drop(&s, 2);
	g_assert_cmpuint(s.nbufs, ==, 0);
	g_assert_cmpuint(s.niov, ==, 0);
	g_assert_cmpuint(s.room, ==, 0);
}

static void test_rx_refuses_bad_chains(void)
{
	static struct net_rx_stash s;
	static uint8_t buf[64];

	memset(&chain, 0, sizeof(chain));
	chain.iov[0] = (struct iovec){ buf, 64 };
	chain.nout = 1;
	chain.out_len = 64;
	g_assert_false(net_rx_stash_add(&s, &chain));
	chain.nout = 0;
	chain.out_len = 0;
	chain.nin = 1;
	chain.in_len = chain.iov[0].iov_len = NET_HDR_LEN - 1;
	g_assert_false(net_rx_stash_add(&s, &chain));
	chain.nin = VIRTQ_MAX_SEGS + 1;
	chain.in_len = NET_HDR_LEN;
	g_assert_false(net_rx_stash_add(&s, &chain));
	g_assert_cmpuint(s.nbufs, ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/net-frame/tx/plain", test_tx_plain_frame);
	g_test_add_func("/net-frame/tx/offloads-need-features",
			test_tx_offloads_need_features);
	g_test_add_func("/net-frame/tx/hostile-headers",
			test_tx_hostile_headers);
	g_test_add_func("/net-frame/tx/header-is-copied",
			test_tx_header_is_copied);
	g_test_add_func("/net-frame/rx/spread", test_rx_spread);
	g_test_add_func("/net-frame/rx/bad-chains",
			test_rx_refuses_bad_chains);
	return g_test_run();
}
