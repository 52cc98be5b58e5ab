// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-vsock packets: header checks, credit arithmetic, CONNECT lines. */
#include <endian.h>
#include <errno.h>
#include <glib.h>
#include <linux/virtio_vsock.h>
#include <string.h>

#include "virtio/vsock_packet.h"

#define GUEST_CID 3

static struct virtq_chain chain;
static uint8_t buf[VSOCK_HDR_LEN + 4096];

/* A chain of one readable buffer: header h, then payload bytes. */
static void tx_chain(const struct virtio_vsock_hdr *h, size_t payload)
{
	memset(&chain, 0, sizeof(chain));
	memset(buf, 0x5a, sizeof(buf));
	memcpy(buf, h, sizeof(*h));
	chain.iov[0] = (struct iovec){ buf, VSOCK_HDR_LEN + payload };
	chain.nout = 1;
	chain.out_len = VSOCK_HDR_LEN + payload;
}

static struct virtio_vsock_hdr good(uint16_t op, uint32_t len)
{
	return (struct virtio_vsock_hdr){
		.src_cid = htole64(GUEST_CID),
		.dst_cid = htole64(VSOCK_HOST_CID),
		.src_port = htole32(50000),
		.dst_port = htole32(1234),
		.len = htole32(len),
		.type = htole16(VIRTIO_VSOCK_TYPE_STREAM),
		.op = htole16(op),
		.buf_alloc = htole32(262144),
		.fwd_cnt = htole32(77),
	};
}

static enum vsock_verdict parse(const struct virtio_vsock_hdr *w,
				size_t payload, struct vsock_hdr *h)
{
	tx_chain(w, payload);
	return vsock_tx_parse(&chain, GUEST_CID, h);
}

static void test_parse_fields(void)
{
	struct virtio_vsock_hdr w = good(VIRTIO_VSOCK_OP_RW, 100);
	struct vsock_hdr h;
	struct iovec iov[4];

	g_assert_cmpint(parse(&w, 100, &h), ==, VSOCK_PKT_OK);
	g_assert_cmpuint(h.src_cid, ==, GUEST_CID);
	g_assert_cmpuint(h.dst_cid, ==, VSOCK_HOST_CID);
	g_assert_cmpuint(h.src_port, ==, 50000);
	g_assert_cmpuint(h.dst_port, ==, 1234);
	g_assert_cmpuint(h.len, ==, 100);
	g_assert_cmpuint(h.op, ==, VIRTIO_VSOCK_OP_RW);
	g_assert_cmpuint(h.buf_alloc, ==, 262144);
	g_assert_cmpuint(h.fwd_cnt, ==, 77);
	/* The payload follows the header, exactly len bytes of it. */
	g_assert_cmpint(vsock_tx_payload(&chain, &h, iov, 4), ==, 1);
	g_assert_true(iov[0].iov_base == buf + VSOCK_HDR_LEN);
	g_assert_cmpuint(iov[0].iov_len, ==, 100);
}

static void test_parse_split_chain(void)
{
	struct virtio_vsock_hdr w = good(VIRTIO_VSOCK_OP_RW, 10);
	static uint8_t a[20], b[40];
	struct vsock_hdr h;
	struct iovec iov[4];

	/* The header across two buffers, the payload in a third. */
	memset(&chain, 0, sizeof(chain));
	memcpy(a, &w, sizeof(a));
	memcpy(b, (uint8_t *)&w + sizeof(a), VSOCK_HDR_LEN - sizeof(a));
	chain.iov[0] = (struct iovec){ a, sizeof(a) };
	chain.iov[1] = (struct iovec){ b, VSOCK_HDR_LEN - sizeof(a) };
	chain.iov[2] = (struct iovec){ buf, 10 };
	chain.nout = 3;
	chain.out_len = VSOCK_HDR_LEN + 10;
	g_assert_cmpint(vsock_tx_parse(&chain, GUEST_CID, &h), ==,
			VSOCK_PKT_OK);
	g_assert_cmpuint(h.dst_port, ==, 1234);
	g_assert_cmpint(vsock_tx_payload(&chain, &h, iov, 4), ==, 1);
	g_assert_true(iov[0].iov_base == buf);
}

static void test_parse_hostile(void)
{
	struct virtio_vsock_hdr w;
	struct vsock_hdr h;

	/* Too short to hold a header: nothing to answer. */
	w = good(VIRTIO_VSOCK_OP_REQUEST, 0);
	tx_chain(&w, 0);
	chain.iov[0].iov_len = chain.out_len = VSOCK_HDR_LEN - 1;
	g_assert_cmpint(vsock_tx_parse(&chain, GUEST_CID, &h), ==,
			VSOCK_PKT_DROP);
	/* A forged source is never answered. */
	w.src_cid = htole64(GUEST_CID + 1);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_DROP);
	w.src_cid = htole64(GUEST_CID | 1ull << 32);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_DROP);
	/* Another destination than the host, also in the upper half. */
	w = good(VIRTIO_VSOCK_OP_REQUEST, 0);
	w.dst_cid = htole64(5);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_RESET);
	g_assert_cmpuint(h.dst_cid, ==, 5);
	w.dst_cid = htole64(VSOCK_HOST_CID | 1ull << 40);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_RESET);
	/* Seqpacket (not offered) and unknown types. */
	w = good(VIRTIO_VSOCK_OP_REQUEST, 0);
	w.type = htole16(VIRTIO_VSOCK_TYPE_SEQPACKET);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_RESET);
	w.type = htole16(0);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_RESET);
	/* Unknown operations. */
	w = good(VIRTIO_VSOCK_OP_INVALID, 0);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_RESET);
	w = good(VIRTIO_VSOCK_OP_CREDIT_REQUEST + 1, 0);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_RESET);
	w = good(0xffff, 0);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_RESET);
}

static void test_parse_lengths(void)
{
	struct virtio_vsock_hdr w = good(VIRTIO_VSOCK_OP_RW, 101);
	struct vsock_hdr h;

	/* len beyond the buffers, by one byte and by far. */
	g_assert_cmpint(parse(&w, 100, &h), ==, VSOCK_PKT_RESET);
	w.len = htole32(UINT32_MAX);
	g_assert_cmpint(parse(&w, 100, &h), ==, VSOCK_PKT_RESET);
	/* More buffer than len is fine: only len bytes count. */
	w.len = htole32(50);
	g_assert_cmpint(parse(&w, 100, &h), ==, VSOCK_PKT_OK);
	/* At most 64 KiB per packet. */
	memset(&chain, 0, sizeof(chain));
	w.len = htole32(VSOCK_MAX_PAYLOAD + 1);
	memcpy(buf, &w, sizeof(w));
	chain.iov[0] = (struct iovec){ buf, VSOCK_HDR_LEN };
	chain.iov[1] = (struct iovec){ g_malloc0(VSOCK_MAX_PAYLOAD + 1),
				       VSOCK_MAX_PAYLOAD + 1 };
	chain.nout = 2;
	chain.out_len = VSOCK_HDR_LEN + VSOCK_MAX_PAYLOAD + 1;
	g_assert_cmpint(vsock_tx_parse(&chain, GUEST_CID, &h), ==,
			VSOCK_PKT_RESET);
	w.len = htole32(VSOCK_MAX_PAYLOAD);
	memcpy(buf, &w, sizeof(w));
	g_assert_cmpint(vsock_tx_parse(&chain, GUEST_CID, &h), ==,
			VSOCK_PKT_OK);
	g_free(chain.iov[1].iov_base);
	/* Only RW carries a payload. */
	w = good(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 4);
	g_assert_cmpint(parse(&w, 4, &h), ==, VSOCK_PKT_RESET);
	w = good(VIRTIO_VSOCK_OP_RW, 0);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_OK);
}

static void test_parse_flags(void)
{
	struct virtio_vsock_hdr w = good(VIRTIO_VSOCK_OP_SHUTDOWN, 0);
	struct vsock_hdr h;

	for (uint32_t f = 1; f <= 3; f++) {
		w.flags = htole32(f);
		g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_OK);
		g_assert_cmpuint(h.flags, ==, f);
	}
	w.flags = 0;
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_RESET);
	w.flags = htole32(4);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_RESET);
	w = good(VIRTIO_VSOCK_OP_RW, 0);
	w.flags = htole32(VIRTIO_VSOCK_SEQ_EOM);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_RESET);
}

static void test_parse_rst(void)
{
	struct virtio_vsock_hdr w = good(VIRTIO_VSOCK_OP_RST, 0);
	struct vsock_hdr h;

	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_OK);
	/* Never answered, not even when malformed. */
	w.dst_cid = htole64(7);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_DROP);
	w.dst_cid = htole64(VSOCK_HOST_CID);
	w.type = htole16(9);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_DROP);
	w = good(VIRTIO_VSOCK_OP_RST, 5000);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_DROP);
	w = good(VIRTIO_VSOCK_OP_RST, 0);
	w.flags = htole32(1);
	g_assert_cmpint(parse(&w, 0, &h), ==, VSOCK_PKT_DROP);
}

static void test_parse_reads_copy(void)
{
	struct virtio_vsock_hdr w = good(VIRTIO_VSOCK_OP_RW, 8);
	struct vsock_hdr h;

	g_assert_cmpint(parse(&w, 8, &h), ==, VSOCK_PKT_OK);
	/* The guest rewriting its buffer later changes nothing decided. */
	((struct virtio_vsock_hdr *)buf)->len = htole32(UINT32_MAX);
	g_assert_cmpuint(h.len, ==, 8);
}

static void test_encode_roundtrip(void)
{
	struct vsock_hdr in = {
		.src_cid = VSOCK_HOST_CID, .dst_cid = GUEST_CID,
		.src_port = 1u << 30, .dst_port = 52, .len = 4096,
		.type = VIRTIO_VSOCK_TYPE_STREAM, .op = VIRTIO_VSOCK_OP_RW,
		.buf_alloc = 131072, .fwd_cnt = 0xfffffff0,
	};
	uint8_t raw[VSOCK_HDR_LEN];
	struct virtio_vsock_hdr w;

	vsock_hdr_encode(&in, raw);
	memcpy(&w, raw, sizeof(w));
	/* Little endian on the wire, at the spec's offsets. */
	g_assert_cmpuint(raw[0], ==, VSOCK_HOST_CID);
	g_assert_cmpuint(raw[8], ==, GUEST_CID);
	g_assert_cmpuint(le32toh(w.src_port), ==, 1u << 30);
	g_assert_cmpuint(raw[20], ==, 52);
	g_assert_cmpuint(le32toh(w.len), ==, 4096);
	g_assert_cmpuint(raw[30], ==, VIRTIO_VSOCK_OP_RW);
	g_assert_cmpuint(le32toh(w.buf_alloc), ==, 131072);
	g_assert_cmpuint(le32toh(w.fwd_cnt), ==, 0xfffffff0);
}

static void test_credit(void)
{
	/* Nothing in flight: the whole buffer. */
	g_assert_cmpuint(vsock_credit(65536, 0, 0), ==, 65536);
	g_assert_cmpuint(vsock_credit(65536, 1000, 5000), ==, 61536);
	g_assert_cmpuint(vsock_credit(65536, 0, 65536), ==, 0);
	/* The counters wrap on long connections. */
	g_assert_cmpuint(vsock_credit(65536, 0xfffffff0, 0x10), ==,
			 65536 - 0x20);
	/* A peer whose buffer shrank below what is in flight, or claiming
	 * to have consumed more than it got: no credit, no overflow. */
	g_assert_cmpuint(vsock_credit(100, 0, 200), ==, 0);
	g_assert_cmpuint(vsock_credit(65536, 10, 5), ==, 0);
	g_assert_cmpuint(vsock_credit(UINT32_MAX, 0, 0), ==, UINT32_MAX);
	g_assert_cmpuint(vsock_credit(0, 0, 0), ==, 0);
}

static void test_fwd_cnt_valid(void)
{
	g_assert_true(vsock_fwd_cnt_valid(0, 0, 0));
	g_assert_false(vsock_fwd_cnt_valid(0, 1, 0));
	g_assert_true(vsock_fwd_cnt_valid(100, 100, 500));
	g_assert_true(vsock_fwd_cnt_valid(100, 500, 500));
	g_assert_false(vsock_fwd_cnt_valid(100, 501, 500));
	/* Never backwards. */
	g_assert_false(vsock_fwd_cnt_valid(100, 99, 500));
	/* Across the wrap. */
	g_assert_true(vsock_fwd_cnt_valid(0xfffffff0, 0x5, 0x10));
	g_assert_false(vsock_fwd_cnt_valid(0xfffffff0, 0x11, 0x10));
	g_assert_false(vsock_fwd_cnt_valid(0xfffffff0, 0xffffffe0, 0x10));
}

static void test_rx_fits(void)
{
	g_assert_true(vsock_rx_fits(1000, 0, 0, 1000));
	g_assert_false(vsock_rx_fits(1000, 0, 0, 1001));
	g_assert_true(vsock_rx_fits(1000, 600, 200, 600));
	g_assert_false(vsock_rx_fits(1000, 600, 200, 601));
	g_assert_false(vsock_rx_fits(1000, 0, 0, UINT32_MAX));
	g_assert_true(vsock_rx_fits(1000, 0x10, 0xfffffff0, 1000 - 0x20));
	g_assert_false(vsock_rx_fits(1000, 0x10, 0xfffffff0, 1000 - 0x1f));
}

static void test_credit_update_due(void)
{
	/* Nothing freed, nothing to say. */
	g_assert_false(vsock_credit_update_due(4096, 500, 500));
	g_assert_false(vsock_credit_update_due(4096, 1523, 500));
	g_assert_true(vsock_credit_update_due(4096, 1524, 500));
	g_assert_true(vsock_credit_update_due(4096, 0x10, 0xfffffc10));
	g_assert_false(vsock_credit_update_due(0, 0, 0));
}

static void test_connect_line(void)
{
	uint32_t port = 0;

	g_assert_cmpint(vsock_parse_connect("CONNECT 52\n", 11, &port), ==, 11);
	g_assert_cmpuint(port, ==, 52);
	g_assert_cmpint(vsock_parse_connect("CONNECT 4294967295\nxyz", 22,
					    &port), ==, 19);
	g_assert_cmpuint(port, ==, UINT32_MAX);
	g_assert_cmpint(vsock_parse_connect("CONNECT 0\n", 10, &port), ==, 10);
	g_assert_cmpuint(port, ==, 0);
	/* Incomplete: more may come. */
	g_assert_cmpint(vsock_parse_connect("", 0, &port), ==, 0);
	g_assert_cmpint(vsock_parse_connect("CONN", 4, &port), ==, 0);
	g_assert_cmpint(vsock_parse_connect("CONNECT 12", 10, &port), ==, 0);
	/* Never a line. */
	g_assert_cmpint(vsock_parse_connect("connect 1\n", 10, &port), ==,
			-EINVAL);
	g_assert_cmpint(vsock_parse_connect("CONNECT \n", 9, &port), ==,
			-EINVAL);
	g_assert_cmpint(vsock_parse_connect("CONNECT 4294967296\n", 19, &port),
			==, -EINVAL);
	g_assert_cmpint(vsock_parse_connect("CONNECT -1\n", 11, &port), ==,
			-EINVAL);
	g_assert_cmpint(vsock_parse_connect("CONNECT 012\n", 12, &port), ==,
			-EINVAL);
	g_assert_cmpint(vsock_parse_connect("CONNECT 1 \n", 11, &port), ==,
			-EINVAL);
	g_assert_cmpint(vsock_parse_connect("CONNECT 1\r\n", 11, &port), ==,
			-EINVAL);
	g_assert_cmpint(vsock_parse_connect("CONNECT 00000000000000000000000",
					    VSOCK_CONNECT_LINE_MAX - 1, &port),
			==, -EINVAL);
	g_assert_cmpint(vsock_parse_connect("CONNECT 1111111111111111111111111",
					    VSOCK_CONNECT_LINE_MAX, &port),
			==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/vsock-packet/parse/fields", test_parse_fields);
	g_test_add_func("/vsock-packet/parse/split-chain",
			test_parse_split_chain);
	g_test_add_func("/vsock-packet/parse/hostile", test_parse_hostile);
	g_test_add_func("/vsock-packet/parse/lengths", test_parse_lengths);
	g_test_add_func("/vsock-packet/parse/flags", test_parse_flags);
	g_test_add_func("/vsock-packet/parse/rst", test_parse_rst);
	g_test_add_func("/vsock-packet/parse/reads-a-copy",
			test_parse_reads_copy);
	g_test_add_func("/vsock-packet/encode", test_encode_roundtrip);
	g_test_add_func("/vsock-packet/credit/peer", test_credit);
	g_test_add_func("/vsock-packet/credit/fwd-cnt", test_fwd_cnt_valid);
	g_test_add_func("/vsock-packet/credit/rx-fits", test_rx_fits);
	g_test_add_func("/vsock-packet/credit/update-due",
			test_credit_update_due);
	g_test_add_func("/vsock-packet/connect-line", test_connect_line);
	return g_test_run();
}
