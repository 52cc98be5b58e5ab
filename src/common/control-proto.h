/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The duvisor-vmm control protocol, shared by the VMM, duvisor-ctl and the
 * daemon: docs/control-protocol.md is the specification. Dependency-free
 * C17; include it with src/common on the include path and link
 * control-proto.c.
 *
 * One SOCK_SEQPACKET packet is one message: a 16-byte little-endian header
 * followed by a payload of `key=value\n` lines.
 */
#ifndef DUVISOR_CONTROL_PROTO_H
#define DUVISOR_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DVCTL_MAGIC        0x54435644u   /* "DVCT" on the wire */
#define DVCTL_VERSION      1
#define DVCTL_HEADER_SIZE  16
#define DVCTL_MAX_MESSAGE  4096          /* header included */
#define DVCTL_MAX_PAYLOAD  (DVCTL_MAX_MESSAGE - DVCTL_HEADER_SIZE)
#define DVCTL_MAX_KEY      32

enum dvctl_type {
	/* Requests: the client picks the id, the reply echoes it. */
	DVCTL_HELLO = 1,
	DVCTL_STATUS = 2,
	DVCTL_PAUSE = 3,
	DVCTL_RESUME = 4,
	DVCTL_POWERDOWN = 5,          /* press the ACPI power button */
	DVCTL_RESET = 6,
	DVCTL_QUIT = 7,
	DVCTL_BALLOON_SET = 8,        /* target=BYTES, stats_period=S */
	DVCTL_BALLOON_STATS = 9,
	DVCTL_BLOCK_STATS = 10,       /* each disk's request counters */
	/* Honoured only with --test-trigger-forbidden-syscall. */
	DVCTL_TEST_FORBIDDEN_SYSCALL = 0x7f00,

	/* From the VMM. */
	DVCTL_REPLY_OK = 0x8000,
	DVCTL_REPLY_ERROR = 0x8001,
	DVCTL_EVENT = 0x8100,         /* id 0; event=NAME plus details */
};

/* Why a message was refused; also the error= word of an error reply. */
enum dvctl_error {
	DVCTL_OK = 0,
	DVCTL_E_TRUNCATED = -1,       /* shorter than a header */
	DVCTL_E_BAD_MAGIC = -2,
	DVCTL_E_BAD_VERSION = -3,
	DVCTL_E_BAD_LENGTH = -4,      /* len disagrees with the packet */
	DVCTL_E_TOO_LARGE = -5,
	DVCTL_E_BAD_PAYLOAD = -6,     /* not key=value lines */
};

struct dvctl_msg {
	uint16_t version;
	uint16_t type;
	uint32_t id;
	const char *payload;          /* points into the packet; no NUL */
	size_t len;
};

struct dvctl_kv {
	char key[DVCTL_MAX_KEY + 1];
	const char *value;            /* points into the payload; no NUL */
	size_t value_len;
};

/* Checks a whole packet, payload syntax included. Returns DVCTL_OK or a
 * dvctl_error; msg->id and msg->type are filled whenever the header was
 * long enough, so an error reply can name the request. */
int dvctl_decode(const void *buf, size_t len, struct dvctl_msg *msg);

/* The next line of a payload decode accepted: 1, or 0 at the end. */
int dvctl_next_kv(const char **p, const char *end, struct dvctl_kv *kv);

/* Copies the value of the first `key` into out (NUL-terminated); false if
 * it is absent or does not fit. */
bool dvctl_get(const struct dvctl_msg *msg, const char *key, char *out,
	       size_t size);

/* Message builder: a header, then key=value lines appended. */
struct dvctl_buf {
	uint8_t data[DVCTL_MAX_MESSAGE];
	size_t len;
	bool overflow;                /* something did not fit or was invalid */
};

void dvctl_begin(struct dvctl_buf *b, uint16_t type, uint32_t id);
/* Appends key=value; a value with a newline or control byte is refused. */
void dvctl_put(struct dvctl_buf *b, const char *key, const char *value);
void dvctl_putf(struct dvctl_buf *b, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void dvctl_put_u64(struct dvctl_buf *b, const char *key, uint64_t v);
/* Writes the payload length into the header; returns the packet size, or
 * 0 after an overflow. */
size_t dvctl_finish(struct dvctl_buf *b);

const char *dvctl_error_name(int err);
/* "status", "pause"...; NULL for a type that is not a request. */
const char *dvctl_request_name(uint16_t type);
/* The request type for a name, 0 if unknown. */
uint16_t dvctl_request_by_name(const char *name);

#endif
