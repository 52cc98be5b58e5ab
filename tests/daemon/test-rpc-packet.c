// SPDX-License-Identifier: GPL-2.0-or-later
/* Framing of libvirt RPC packets: header, incremental reader, messages. */
#include <glib.h>
#include <string.h>

#include "rpc_packet.h"

static const struct rpc_header sample = {
	.prog = DV_PROGRAM,
	.vers = DV_PROTOCOL_VERSION,
	.proc = DV_PROC_CONNECT_GET_HOSTNAME,
	.type = DV_REPLY,
	.serial = 0x01020304,
	.status = DV_ERROR,
};

static void test_u32(void)
{
	uint8_t b[4];

	rpc_put_u32(b, 0x20008086);
	g_assert_cmpmem(b, 4, "\x20\x00\x80\x86", 4);
	g_assert_cmphex(rpc_get_u32(b), ==, 0x20008086);
	rpc_put_u32(b, 0xffffffff);
	g_assert_cmphex(rpc_get_u32(b), ==, 0xffffffff);
}

static void test_header(void)
{
	uint8_t b[RPC_HEADER_SIZE];
	struct rpc_header h;
	static const uint8_t wire[RPC_HEADER_SIZE] = {
		0x20, 0x00, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 59,
		0, 0, 0, 1, 1, 2, 3, 4, 0, 0, 0, 1,
	};

	rpc_header_encode(b, &sample);
	g_assert_cmpmem(b, sizeof(b), wire, sizeof(wire));
	rpc_header_decode(b, &h);
	g_assert_cmpmem(&h, sizeof(h), &sample, sizeof(sample));

	/* Negative procedure numbers survive the round trip. */
	h.proc = -5;
	rpc_header_encode(b, &h);
	rpc_header_decode(b, &h);
	g_assert_cmpint(h.proc, ==, -5);
}

static void test_length_limits(void)
{
	g_assert_false(rpc_length_valid(0));
	g_assert_false(rpc_length_valid(27));
	g_assert_true(rpc_length_valid(28));
	g_assert_true(rpc_length_valid(4 + 32 * 1024 * 1024));
	g_assert_false(rpc_length_valid(4 + 32 * 1024 * 1024 + 1));
	g_assert_false(rpc_length_valid(0xffffffff));
}

/* A packet of total length len with a recognisable payload. */
static GByteArray *make_packet(uint32_t len, uint8_t fill)
{
	GByteArray *a = g_byte_array_sized_new(len);
	uint8_t b[RPC_LEN_MIN];

	rpc_put_u32(b, len);
	rpc_header_encode(b + 4, &sample);
	g_byte_array_append(a, b, sizeof(b));
	for (uint32_t i = RPC_LEN_MIN; i < len; i++)
		g_byte_array_append(a, &fill, 1);
	return a;
}

static void check_packet(uint8_t *pkt, size_t len, uint32_t want_len,
			 uint8_t fill)
{
	struct rpc_header h;

	g_assert_cmpuint(len, ==, want_len - 4);
	rpc_header_decode(pkt, &h);
	g_assert_cmpmem(&h, sizeof(h), &sample, sizeof(sample));
	for (size_t i = RPC_HEADER_SIZE; i < len; i++)
		g_assert_cmpuint(pkt[i], ==, fill);
	g_free(pkt);
}

static void test_reader_bytewise(void)
{
	g_autoptr(GByteArray) a = make_packet(40, 0xab);
	struct rpc_reader r;
	enum rpc_reader_status st;
	uint8_t *pkt;
	size_t len;

	rpc_reader_init(&r);
	for (guint i = 0; i < a->len; i++) {
		g_assert_cmpuint(rpc_reader_feed(&r, a->data + i, 1, &st), ==, 1);
		g_assert_cmpint(st, ==, i + 1 == a->len ? RPC_READER_PACKET
							 : RPC_READER_MORE);
	}
	pkt = rpc_reader_take(&r, &len);
	check_packet(pkt, len, 40, 0xab);
	rpc_reader_clear(&r);
}

static void test_reader_several(void)
{
	g_autoptr(GByteArray) a = make_packet(28, 0);
	g_autoptr(GByteArray) b = make_packet(100000, 0x5a);
	struct rpc_reader r;
	enum rpc_reader_status st;
	size_t off = 0, len;
	uint8_t *pkt;

	g_byte_array_append(a, b->data, b->len);
	g_byte_array_append(a, b->data, 10);	/* start of a third */
	rpc_reader_init(&r);
	off += rpc_reader_feed(&r, a->data, a->len, &st);
	g_assert_cmpint(st, ==, RPC_READER_PACKET);
	g_assert_cmpuint(off, ==, 28);
	pkt = rpc_reader_take(&r, &len);
	check_packet(pkt, len, 28, 0);
	off += rpc_reader_feed(&r, a->data + off, a->len - off, &st);
	g_assert_cmpint(st, ==, RPC_READER_PACKET);
	pkt = rpc_reader_take(&r, &len);
	check_packet(pkt, len, 100000, 0x5a);
	off += rpc_reader_feed(&r, a->data + off, a->len - off, &st);
	g_assert_cmpint(st, ==, RPC_READER_MORE);
	g_assert_cmpuint(off, ==, a->len);
	rpc_reader_clear(&r);
}

static void test_reader_bad_length(void)
{
	static const uint32_t bad[] = { 0, 4, 27, 4 + 32 * 1024 * 1024 + 1,
					0x7fffffff, 0xffffffff };

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct rpc_reader r;
		enum rpc_reader_status st;
		uint8_t b[8] = { 0 };

		rpc_put_u32(b, bad[i]);
		rpc_reader_init(&r);
		rpc_reader_feed(&r, b, sizeof(b), &st);
		g_assert_cmpint(st, ==, RPC_READER_BAD_LENGTH);
		rpc_reader_clear(&r);
	}
}

static void test_reader_grows(void)
{
	/* A huge announced length does not allocate it up front. */
	struct rpc_reader r;
	enum rpc_reader_status st;
	uint8_t b[RPC_LEN_MIN];

	rpc_put_u32(b, RPC_LEN_MAX);
	rpc_header_encode(b + 4, &sample);
	rpc_reader_init(&r);
	g_assert_cmpuint(rpc_reader_feed(&r, b, sizeof(b), &st), ==, sizeof(b));
	g_assert_cmpint(st, ==, RPC_READER_MORE);
	g_assert_cmpuint(r.cap, <=, 64 * 1024);
	rpc_reader_clear(&r);
}

static void test_msg_xdr(void)
{
	dv_connect_get_hostname_ret in = { .hostname = (char *)"host.example" };
	dv_connect_get_hostname_ret out = { 0 };
	struct rpc_frame *m = rpc_frame_new_xdr(&sample,
		(xdrproc_t)xdr_dv_connect_get_hostname_ret, &in);

	g_assert_nonnull(m);
	/* length + header + u32 string length + 12 bytes (no padding) */
	g_assert_cmpuint(m->len, ==, 28 + 4 + 12);
	g_assert_cmpuint(rpc_get_u32(m->buf), ==, m->len);
	g_assert_cmpuint(rpc_get_u32(m->buf + 28), ==, 12);
	g_assert_true(rpc_xdr_decode(m->buf + 28, m->len - 28,
		(xdrproc_t)xdr_dv_connect_get_hostname_ret, &out));
	g_assert_cmpstr(out.hostname, ==, "host.example");
	xdr_free((xdrproc_t)xdr_dv_connect_get_hostname_ret, &out);
	rpc_frame_free(m);

	/* No payload. */
	m = rpc_frame_new_xdr(&sample, NULL, NULL);
	g_assert_cmpuint(m->len, ==, 28);
	rpc_frame_free(m);
}

static void test_msg_nodeinfo_layout(void)
{
	/* Each char of the model takes 4 bytes on the wire. */
	dv_node_get_info_ret ni = { .model = "x86_64", .memory = 1,
				    .cpus = 2 };
	struct rpc_frame *m = rpc_frame_new_xdr(&sample,
		(xdrproc_t)xdr_dv_node_get_info_ret, &ni);

	g_assert_cmpuint(m->len, ==, 28 + 32 * 4 + 8 + 6 * 4);
	g_assert_cmpuint(rpc_get_u32(m->buf + 28), ==, 'x');
	g_assert_cmpuint(rpc_get_u32(m->buf + 28 + 4), ==, '8');
	rpc_frame_free(m);
}

static void test_decode_truncated(void)
{
	dv_connect_open_args out = { 0 };
	uint8_t b[8];

	/* optional string present, then a length running past the end */
	rpc_put_u32(b, 1);
	rpc_put_u32(b + 4, 1000);
	g_assert_false(rpc_xdr_decode(b, sizeof(b),
		(xdrproc_t)xdr_dv_connect_open_args, &out));
	g_assert_null(out.name);
}

static void test_msg_raw_limit(void)
{
	g_assert_null(rpc_frame_new_raw(&sample, "", RPC_PACKET_MAX));
	struct rpc_frame *m = rpc_frame_new_raw(&sample, "abc", 3);

	g_assert_cmpuint(m->len, ==, 31);
	g_assert_cmpmem(m->buf + 28, 3, "abc", 3);
	rpc_frame_free(m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rpc/u32", test_u32);
	g_test_add_func("/rpc/header", test_header);
	g_test_add_func("/rpc/length-limits", test_length_limits);
	g_test_add_func("/rpc/reader/bytewise", test_reader_bytewise);
	g_test_add_func("/rpc/reader/several", test_reader_several);
	g_test_add_func("/rpc/reader/bad-length", test_reader_bad_length);
	g_test_add_func("/rpc/reader/grows", test_reader_grows);
	g_test_add_func("/rpc/msg/xdr", test_msg_xdr);
	g_test_add_func("/rpc/msg/nodeinfo-layout", test_msg_nodeinfo_layout);
	g_test_add_func("/rpc/msg/raw-limit", test_msg_raw_limit);
	g_test_add_func("/rpc/decode/truncated", test_decode_truncated);
	return g_test_run();
}
