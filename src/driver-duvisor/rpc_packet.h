// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Framing of libvirt RPC packets: a big-endian u32 length (counting itself),
 * a 24-byte header, then the payload.  Pure functions, no I/O: the
 * incremental reader, header encoding/decoding and outgoing message buffers.
 */
#ifndef DV_RPC_PACKET_H
#define DV_RPC_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duvisor_protocol.h"

#define RPC_LEN_SIZE 4u
#define RPC_HEADER_SIZE 24u
/* Largest header + payload; the length word may be RPC_LEN_SIZE more. */
#define RPC_PACKET_MAX (32u * 1024 * 1024)
#define RPC_LEN_MAX (RPC_LEN_SIZE + RPC_PACKET_MAX)
#define RPC_LEN_MIN (RPC_LEN_SIZE + RPC_HEADER_SIZE)
/* Largest data chunk in one stream packet. */
#define RPC_STREAM_CHUNK_MAX 262120u

struct rpc_header {
	uint32_t prog;
	uint32_t vers;
	int32_t proc;
	int32_t type;		/* enum dv_packet_type */
	uint32_t serial;
	int32_t status;		/* enum dv_packet_status */
};

uint32_t rpc_get_u32(const uint8_t *p);
void rpc_put_u32(uint8_t *p, uint32_t v);

/* Whether a length word is acceptable (RPC_LEN_MIN..RPC_LEN_MAX). */
bool rpc_length_valid(uint32_t len);

void rpc_header_decode(const uint8_t *buf, struct rpc_header *h);
void rpc_header_encode(uint8_t *buf, const struct rpc_header *h);

/*
 * Incremental reader.  Feed it whatever bytes arrived; it reports when a
 * whole packet (header + payload, without the length word) is ready.  The
 * packet buffer grows as data arrives, so a peer announcing a huge length
 * does not make us allocate it up front.
 */
enum rpc_reader_status {
	RPC_READER_MORE,	/* every byte consumed, packet incomplete */
	RPC_READER_PACKET,	/* a packet is ready: rpc_reader_take() it */
	RPC_READER_BAD_LENGTH,	/* the peer sent an invalid length word */
};

struct rpc_reader {
	uint8_t lenbuf[RPC_LEN_SIZE];
	uint32_t len;		/* current packet, without the length word */
	uint8_t *pkt;
	size_t cap;
	size_t got;		/* bytes of lenbuf, then of pkt */
	bool have_len;
};

void rpc_reader_init(struct rpc_reader *r);
void rpc_reader_clear(struct rpc_reader *r);
/* Consumes bytes from data; returns how many were consumed. */
size_t rpc_reader_feed(struct rpc_reader *r, const uint8_t *data, size_t n,
		       enum rpc_reader_status *status);
/* Hands over the ready packet (free with g_free) and resets the reader. */
uint8_t *rpc_reader_take(struct rpc_reader *r, size_t *len);

/* An outgoing packet, length word included. */
struct rpc_frame {
	uint8_t *buf;
	size_t len;
	size_t off;		/* bytes already written */
};

/* Header + XDR-encoded data (filter NULL: no payload).  NULL when the data
 * cannot be encoded or the packet would exceed RPC_PACKET_MAX. */
struct rpc_frame *rpc_frame_new_xdr(const struct rpc_header *h, xdrproc_t filter,
				const void *data);
/* Header + raw bytes (stream data). NULL when too large. */
struct rpc_frame *rpc_frame_new_raw(const struct rpc_header *h, const void *data,
				size_t len);
void rpc_frame_free(struct rpc_frame *m);

/* Decodes an XDR payload; on failure frees whatever was decoded. */
bool rpc_xdr_decode(const uint8_t *payload, size_t len, xdrproc_t filter,
		    void *out);

#endif
