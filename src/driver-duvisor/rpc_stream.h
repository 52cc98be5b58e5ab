// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Data streams (virsh console): a call opens a stream, then both sides send
 * STREAM packets with the call's procedure and serial: status CONTINUE with
 * raw bytes (no bytes: end of data from the server), OK with no payload
 * for the client's finish and its answer, ERROR with an error (the
 * client's abort).
 *
 * Usage in a handler:
 *
 *   st = rpc_stream_new(call, &console_stream_ops, console);
 *   return RPC_HANDLER_OK;           // the reply goes out before any data
 *
 * then rpc_stream_send(st, buf, n) as output arrives and
 * rpc_stream_send_eof(st) / rpc_stream_send_error(st, &err) when it ends
 * (end of data goes out as an empty CONTINUE packet, as libvirtd sends
 * it; OK packets only answer the client's finish or abort).
 * The stream lives until the client finishes or aborts it (ops->finish), or
 * disconnects; ops->release(opaque) is called exactly once when it goes
 * away, after which st must not be used.  rpc_stream_abandon() drops it
 * from the server side.
 */
#ifndef DV_RPC_STREAM_H
#define DV_RPC_STREAM_H

#include "rpc_dispatch.h"

struct rpc_stream;

struct rpc_stream_ops {
	/* Bytes from the client (may be NULL: input is dropped). */
	void (*recv)(struct rpc_stream *st, const uint8_t *data, size_t len,
		     void *opaque);
	/* The client finished (aborted = false) or aborted the stream; it is
	 * answered and released right after.  May be NULL. */
	void (*finish)(struct rpc_stream *st, bool aborted, void *opaque);
	/* The stream is gone. May be NULL. */
	void (*release)(void *opaque);
};

/* Must be called from the handler of the call that opens the stream. */
struct rpc_stream *rpc_stream_new(struct rpc_call *call,
				  const struct rpc_stream_ops *ops,
				  void *opaque);
struct rpc_client *rpc_stream_client(const struct rpc_stream *st);

/* Sends data (split into chunks of at most RPC_STREAM_CHUNK_MAX).  false
 * if the client is gone or the stream ended.  Output is queued without
 * limit here, but a client whose queue passes a hard limit is dropped: check
 * rpc_stream_queued_bytes() and stop reading the source while it is high. */
bool rpc_stream_send(struct rpc_stream *st, const void *data, size_t len);
/* End of data; the stream then waits for the client to finish it. */
bool rpc_stream_send_eof(struct rpc_stream *st);
bool rpc_stream_send_error(struct rpc_stream *st, const struct rpc_error *err);
/* Bytes queued to the client (for flow control). */
size_t rpc_stream_queued_bytes(const struct rpc_stream *st);
/* Forget the stream without telling the client; calls ops->release. */
void rpc_stream_abandon(struct rpc_stream *st);

/* rpc_dispatch.c: the reply of the opening call was queued (ok) or the call
 * failed (the stream is then released). */
void rpc_stream_reply_sent(struct rpc_stream *st, bool ok);

#endif
