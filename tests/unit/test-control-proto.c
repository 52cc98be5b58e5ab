// SPDX-License-Identifier: GPL-2.0-or-later
/* The control protocol codec (src/common/control-proto.c). */
#include <glib.h>
#include <string.h>

#include "control-proto.h"

/* A raw packet: header fields as given, then the payload. */
static size_t raw(uint8_t *buf, uint32_t magic, uint16_t version,
		  uint16_t type, uint32_t id, uint32_t len, const char *payload)
{
	size_t n = payload ? strlen(payload) : 0;

	memcpy(buf, &magic, 4);
	memcpy(buf + 4, &version, 2);
	memcpy(buf + 6, &type, 2);
	memcpy(buf + 8, &id, 4);
	memcpy(buf + 12, &len, 4);
	if (n)
		memcpy(buf + DVCTL_HEADER_SIZE, payload, n);
	return DVCTL_HEADER_SIZE + n;
}

static void test_roundtrip(void)
{
	struct dvctl_buf b;
	struct dvctl_msg m;
	char v[32];
	size_t len;

	dvctl_begin(&b, DVCTL_BALLOON_SET, 42);
	dvctl_put(&b, "target", "512M");
	dvctl_put_u64(&b, "exits.io", 12345678901ull);
	len = dvctl_finish(&b);
	g_assert_cmpuint(len, ==, DVCTL_HEADER_SIZE + 12 + 21);
	g_assert_cmpint(dvctl_decode(b.data, len, &m), ==, DVCTL_OK);
	g_assert_cmpuint(m.type, ==, DVCTL_BALLOON_SET);
	g_assert_cmpuint(m.id, ==, 42);
	g_assert_true(dvctl_get(&m, "target", v, sizeof(v)));
	g_assert_cmpstr(v, ==, "512M");
	g_assert_true(dvctl_get(&m, "exits.io", v, sizeof(v)));
	g_assert_cmpstr(v, ==, "12345678901");
	g_assert_false(dvctl_get(&m, "missing", v, sizeof(v)));
	/* Too small a buffer is a miss, not a truncated value. */
	g_assert_false(dvctl_get(&m, "exits.io", v, 4));
}

static void test_wire_format(void)
{
	static const uint8_t expected[] = {
		'D', 'V', 'C', 'T', 1, 0, 2, 0, 7, 0, 0, 0, 4, 0, 0, 0,
		'a', '=', 'b', '\n',
	};
	struct dvctl_buf b;

	dvctl_begin(&b, DVCTL_STATUS, 7);
	dvctl_put(&b, "a", "b");
	g_assert_cmpuint(dvctl_finish(&b), ==, sizeof(expected));
	g_assert_cmpmem(b.data, sizeof(expected), expected, sizeof(expected));
}

static void test_header_errors(void)
{
	uint8_t buf[DVCTL_MAX_MESSAGE + 64];
	struct dvctl_msg m;
	size_t n;

	memset(buf, 0, sizeof(buf));
	g_assert_cmpint(dvctl_decode(buf, 0, &m), ==, DVCTL_E_TRUNCATED);
	g_assert_cmpint(dvctl_decode(buf, 15, &m), ==, DVCTL_E_TRUNCATED);
	n = raw(buf, 0x12345678, 1, DVCTL_STATUS, 9, 0, NULL);
	g_assert_cmpint(dvctl_decode(buf, n, &m), ==, DVCTL_E_BAD_MAGIC);
	n = raw(buf, DVCTL_MAGIC, 2, DVCTL_STATUS, 9, 0, NULL);
	g_assert_cmpint(dvctl_decode(buf, n, &m), ==, DVCTL_E_BAD_VERSION);
	/* The id is known even for a refused message, for the reply. */
	g_assert_cmpuint(m.id, ==, 9);
	n = raw(buf, DVCTL_MAGIC, 1, DVCTL_STATUS, 9, 5, "a=b\n");
	g_assert_cmpint(dvctl_decode(buf, n, &m), ==, DVCTL_E_BAD_LENGTH);
	n = raw(buf, DVCTL_MAGIC, 1, DVCTL_STATUS, 9, 3, "a=b\n");
	g_assert_cmpint(dvctl_decode(buf, n, &m), ==, DVCTL_E_BAD_LENGTH);
	n = raw(buf, DVCTL_MAGIC, 1, DVCTL_STATUS, 9, 0xffffffffu, NULL);
	g_assert_cmpint(dvctl_decode(buf, n, &m), ==, DVCTL_E_TOO_LARGE);
	raw(buf, DVCTL_MAGIC, 1, DVCTL_STATUS, 9, DVCTL_MAX_PAYLOAD + 1, NULL);
	memset(buf + DVCTL_HEADER_SIZE, 'a', DVCTL_MAX_PAYLOAD + 1);
	g_assert_cmpint(dvctl_decode(buf, DVCTL_MAX_MESSAGE + 1, &m), ==,
			DVCTL_E_TOO_LARGE);
	g_assert_cmpint(dvctl_decode(buf, sizeof(buf), &m), ==,
			DVCTL_E_TOO_LARGE);
	g_assert_cmpuint(m.type, ==, DVCTL_STATUS);
}

static void test_payload_errors(void)
{
	static const char *const bad[] = {
		"a=b",            /* no final newline */
		"=b\n",           /* empty key */
		"A=b\n",          /* upper-case key */
		"ab\n",           /* no '=' */
		"a=b\n\n",        /* empty line */
		"a=b\tc\n",       /* control character */
		"a=b\x7f\n",
		"a b=c\n",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1\n",  /* 33-byte key */
	};
	uint8_t buf[256];
	struct dvctl_msg m;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		size_t n = raw(buf, DVCTL_MAGIC, 1, DVCTL_STATUS, 1,
			       (uint32_t)strlen(bad[i]), bad[i]);

		g_assert_cmpint(dvctl_decode(buf, n, &m), ==,
				DVCTL_E_BAD_PAYLOAD);
	}
	/* Embedded NUL. */
	raw(buf, DVCTL_MAGIC, 1, DVCTL_STATUS, 1, 4, "a=bc\n");
	buf[DVCTL_HEADER_SIZE + 2] = '\0';
	g_assert_cmpint(dvctl_decode(buf, DVCTL_HEADER_SIZE + 4, &m), ==,
			DVCTL_E_BAD_PAYLOAD);
}

static void test_payload_ok(void)
{
	const char *payload = "a=\nkey.with-dash_0=x y=z\nutf8=\xc3\xa9\n";
	uint8_t buf[256];
	struct dvctl_msg m;
	struct dvctl_kv kv;
	const char *p, *end;
	size_t n = raw(buf, DVCTL_MAGIC, 1, DVCTL_PAUSE, 3,
		       (uint32_t)strlen(payload), payload);
	int count = 0;

	g_assert_cmpint(dvctl_decode(buf, n, &m), ==, DVCTL_OK);
	p = m.payload;
	end = p + m.len;
	while (dvctl_next_kv(&p, end, &kv) > 0)
		count++;
	g_assert_cmpint(count, ==, 3);
	g_assert_true(p == end);
	/* The first '=' splits: values may hold more. */
	p = m.payload + 3;
	g_assert_cmpint(dvctl_next_kv(&p, end, &kv), ==, 1);
	g_assert_cmpstr(kv.key, ==, "key.with-dash_0");
	g_assert_cmpmem(kv.value, kv.value_len, "x y=z", 5);
}

static void test_builder_refuses(void)
{
	struct dvctl_buf b;
	char big[DVCTL_MAX_PAYLOAD];

	dvctl_begin(&b, DVCTL_EVENT, 0);
	dvctl_put(&b, "message", "two\nlines");
	g_assert_cmpuint(dvctl_finish(&b), ==, 0);
	dvctl_begin(&b, DVCTL_EVENT, 0);
	dvctl_put(&b, "Bad", "x");
	g_assert_cmpuint(dvctl_finish(&b), ==, 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dvctl_begin(&b, DVCTL_EVENT, 0);
	dvctl_put(&b, "k", big);
	g_assert_true(b.overflow);
	g_assert_cmpuint(dvctl_finish(&b), ==, 0);
}

static void test_names(void)
{
	g_assert_cmpstr(dvctl_request_name(DVCTL_STATUS), ==, "status");
	g_assert_null(dvctl_request_name(DVCTL_EVENT));
	g_assert_cmpuint(dvctl_request_by_name("powerdown"), ==,
			 DVCTL_POWERDOWN);
	g_assert_cmpuint(dvctl_request_by_name("nope"), ==, 0);
	g_assert_cmpstr(dvctl_error_name(DVCTL_E_TOO_LARGE), ==, "too-large");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/control/roundtrip", test_roundtrip);
	g_test_add_func("/control/wire-format", test_wire_format);
	g_test_add_func("/control/header-errors", test_header_errors);
	g_test_add_func("/control/payload-errors", test_payload_errors);
	g_test_add_func("/control/payload-ok", test_payload_ok);
	g_test_add_func("/control/builder-refuses", test_builder_refuses);
	g_test_add_func("/control/names", test_names);
	return g_test_run();
}
