// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The RPC server: listening unix sockets, one rpc_client per connection,
 * asynchronous reading of framed packets, a write queue per client and
 * keepalive.  Calls are handed to a callback (rpc_dispatch_packet), stream
 * packets to rpc_stream.c.  Everything runs in the GLib main context of the
 * thread that created the server.
 */
#ifndef DV_RPC_SERVER_H
#define DV_RPC_SERVER_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "rpc_packet.h"

struct rpc_server;
struct rpc_client;

/* A CALL (or CALL_WITH_FDS) packet; payload points into the packet. */
typedef void (*rpc_call_fn)(struct rpc_client *client,
			    const struct rpc_header *hdr,
			    const uint8_t *payload, size_t len, void *opaque);
typedef void (*rpc_client_fn)(struct rpc_client *client, void *opaque);

struct rpc_server_limits {
	unsigned int max_clients;	  /* connections beyond are refused */
	unsigned int max_client_requests; /* deferred calls per client */
	size_t max_queued_bytes;	  /* stop reading a client whose
					     write queue holds more */
};

struct rpc_server *rpc_server_new(const struct rpc_server_limits *limits,
				  rpc_call_fn on_call, void *opaque);
/* Closes every client, removes the socket files. */
void rpc_server_free(struct rpc_server *srv);

/*
 * Listens on a unix socket at path (parent directories are created).  A
 * stale socket file is replaced; a live one (another daemon answers) is an
 * error.  mode: the socket file's permissions; gid: its group, or -1.
 * Clients of a read-only listener can never use mutating procedures.
 */
bool rpc_server_listen(struct rpc_server *srv, const char *path,
		       unsigned int mode, gid_t gid, bool readonly,
		       GError **error);
/* Serves a listening socket made by someone else (systemd's socket
 * activation); takes @fd on success.  @path is for messages only: the
 * socket file belongs to whoever made it. */
bool rpc_server_adopt(struct rpc_server *srv, int fd, const char *path,
		      bool readonly, GError **error);

/* New limits (a reload): connected clients stay, even beyond a lower
 * max_clients. */
void rpc_server_set_limits(struct rpc_server *srv,
			   const struct rpc_server_limits *limits);
unsigned int rpc_server_client_count(struct rpc_server *srv);
/* Called once for each client that goes away (after its streams). */
void rpc_server_add_close_hook(struct rpc_server *srv, rpc_client_fn fn,
			       void *opaque);
void rpc_server_foreach_client(struct rpc_server *srv, rpc_client_fn fn,
			       void *opaque);

/* ---- clients ---- */
struct rpc_client *rpc_client_ref(struct rpc_client *c);
void rpc_client_unref(struct rpc_client *c);
uint64_t rpc_client_id(const struct rpc_client *c);
struct rpc_server *rpc_client_server(const struct rpc_client *c);
/* Read-only socket, or CONNECT_OPEN asked for read-only. */
bool rpc_client_readonly(const struct rpc_client *c);
void rpc_client_set_readonly(struct rpc_client *c);
/* CONNECT_OPEN succeeded (and CONNECT_CLOSE was not called since). */
bool rpc_client_is_open(const struct rpc_client *c);
void rpc_client_set_open(struct rpc_client *c, bool open);
/* The peer's credentials (SO_PEERCRED); -1 when unknown. */
uid_t rpc_client_peer_uid(const struct rpc_client *c);
pid_t rpc_client_peer_pid(const struct rpc_client *c);
/* True once the connection is closed; sends are then dropped. */
bool rpc_client_closed(const struct rpc_client *c);
/* Drops the connection now (queued output is discarded): its streams are
 * released and close hooks run before this returns. */
void rpc_client_close(struct rpc_client *c);
/* Same from the main loop, soon: safe in any callback.  Sends fail from
 * now on. */
void rpc_client_close_later(struct rpc_client *c);

/* Per-client data for other modules, released when the client is freed. */
void rpc_client_set_data(struct rpc_client *c, const char *key, void *data,
			 GDestroyNotify destroy);
void *rpc_client_get_data(struct rpc_client *c, const char *key);

/* Queues a packet (takes ownership).  false if the client is closed. */
bool rpc_client_send(struct rpc_client *c, struct rpc_frame *msg);
/* Queues a MESSAGE packet (an event) of the REMOTE program. */
bool rpc_client_send_message(struct rpc_client *c, int proc,
			     xdrproc_t filter, const void *data);
/* Bytes waiting in the client's write queue. */
size_t rpc_client_queued_bytes(const struct rpc_client *c);

/* Deferred calls: while a client has max_client_requests of them, the
 * server stops reading from it (rpc_dispatch.c counts them). */
void rpc_client_call_started(struct rpc_client *c);
void rpc_client_call_finished(struct rpc_client *c);

#endif
