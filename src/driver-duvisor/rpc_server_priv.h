// SPDX-License-Identifier: GPL-2.0-or-later
/* Internals of rpc_client shared by rpc_server.c and rpc_stream.c only. */
#ifndef DV_RPC_SERVER_PRIV_H
#define DV_RPC_SERVER_PRIV_H

#include <gio/gio.h>

#include "rpc_server.h"

#define RPC_CLIENT_INBUF 65536

struct rpc_stream;

struct rpc_client {
	int refs;
	uint64_t id;
	struct rpc_server *srv;
	GSocket *sock;
	GSource *in_src;
	GSource *out_src;
	bool closed;
	bool closing;		/* rpc_client_close_later() was called */
	bool reading;		/* replies are flushed once the input is done */
	bool sock_readonly;
	bool readonly;
	bool open;
	uid_t uid;
	pid_t pid;

	struct rpc_reader reader;
	uint8_t *inbuf;		/* bytes received but not yet fed */
	size_t in_off, in_len;

	GQueue outq;		/* struct rpc_frame */
	size_t out_bytes;
	unsigned int calls;	/* deferred calls in flight */

	GList *streams;		/* struct rpc_stream */
	GData *data;
};

/* rpc_stream.c */
void rpc_stream_incoming(struct rpc_client *c, const struct rpc_header *hdr,
			 const uint8_t *payload, size_t len);
void rpc_stream_client_closed(struct rpc_client *c);

#endif
