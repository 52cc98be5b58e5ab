// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Procedure table and call dispatching for the REMOTE program.
 *
 * A procedure is registered with its XDR argument and return types and a
 * handler:
 *
 *   static int my_get_foo(struct rpc_call *call, void *args, void *ret,
 *                         struct rpc_error *err)
 *   {
 *           dv_my_get_foo_args *a = args;
 *           dv_my_get_foo_ret *r = ret;
 *
 *           if (a->flags) {
 *                   rpc_error_set(err, VIR_ERR_INVALID_ARG,
 *                                 "unsupported flags 0x%x", a->flags);
 *                   return RPC_HANDLER_ERROR;
 *           }
 *           r->foo = g_strdup("bar");     // freed with xdr_free after reply
 *           return RPC_HANDLER_OK;
 *   }
 *
 *   static const struct rpc_proc_def my_procs[] = {
 *           RPC_PROC(DV_PROC_MY_GET_FOO, my_get_foo,
 *                    dv_my_get_foo_args, dv_my_get_foo_ret, 0),
 *   };
 *   rpc_dispatch_register(my_procs, G_N_ELEMENTS(my_procs));
 *
 * Flags: RPC_PROC_WRITE for anything that changes state (define, start,
 * destroy, setters...): read-only connections get VIR_ERR_OPERATION_DENIED.
 *
 * Arguments and results are zeroed structures of the registered types; the
 * dispatcher frees both with xdr_free, so results must be g_malloc'ed (or
 * malloc'ed).  Use rpc_void for no arguments / no result.  The dispatcher
 * checks, before calling the handler, that the connection is open (unless
 * RPC_PROC_NO_OPEN) and that a read-only connection does not call a
 * RPC_PROC_WRITE procedure.  Unregistered procedures get VIR_ERR_NO_SUPPORT.
 *
 * A handler that cannot answer at once returns RPC_HANDLER_DEFER and later
 * calls rpc_call_reply() or rpc_call_reply_error() exactly once (replies
 * may go out in any order; the client matches them by serial).
 */
#ifndef DV_RPC_DISPATCH_H
#define DV_RPC_DISPATCH_H

#include "rpc_error.h"
#include "rpc_server.h"

struct rpc_call;
struct rpc_stream;

enum {
	RPC_HANDLER_ERROR = -1,	/* err is set */
	RPC_HANDLER_OK = 0,	/* ret is filled */
	RPC_HANDLER_DEFER = 1,	/* the reply comes later */
};

typedef int (*rpc_handler_fn)(struct rpc_call *call, void *args, void *ret,
			      struct rpc_error *err);

enum rpc_proc_flags {
	RPC_PROC_WRITE = 1u << 0,	/* denied on read-only connections */
	RPC_PROC_NO_OPEN = 1u << 1,	/* allowed before CONNECT_OPEN */
};

struct rpc_proc_def {
	int proc;
	const char *name;
	xdrproc_t args_filter;
	size_t args_size;
	xdrproc_t ret_filter;
	size_t ret_size;
	rpc_handler_fn handler;
	unsigned int flags;
};

/* No arguments / no result. */
typedef struct {
	int unused;
} rpc_void;
bool_t xdr_rpc_void(XDR *xdrs, rpc_void *v);

#define RPC_PROC(num, fn, args_t, ret_t, fl)                              \
	{                                                                 \
		.proc = (num), .name = #num,                              \
		.args_filter = (xdrproc_t)xdr_##args_t,                   \
		.args_size = sizeof(args_t),                              \
		.ret_filter = (xdrproc_t)xdr_##ret_t,                     \
		.ret_size = sizeof(ret_t), .handler = (fn), .flags = (fl) \
	}

void rpc_dispatch_init(void);
void rpc_dispatch_shutdown(void);
/* Adds procedures; a number registered again replaces the earlier entry. */
void rpc_dispatch_register(const struct rpc_proc_def *defs, size_t n);
const struct rpc_proc_def *rpc_dispatch_lookup(int proc);

/* The rpc_call_fn given to rpc_server_new(). */
void rpc_dispatch_packet(struct rpc_client *client,
			 const struct rpc_header *hdr, const uint8_t *payload,
			 size_t len, void *opaque);

/* ---- for handlers ---- */
struct rpc_client *rpc_call_client(const struct rpc_call *call);
int rpc_call_proc(const struct rpc_call *call);
uint32_t rpc_call_serial(const struct rpc_call *call);
void *rpc_call_args(const struct rpc_call *call);
void *rpc_call_ret(const struct rpc_call *call);
/* Finish a deferred call: with the result in rpc_call_ret(call) ... */
void rpc_call_reply(struct rpc_call *call);
/* ... or with an error (err is cleared).  Both free the call. */
void rpc_call_reply_error(struct rpc_call *call, struct rpc_error *err);

/* rpc_stream.c: ties a stream to the call that opens it. */
void rpc_call_set_stream(struct rpc_call *call, struct rpc_stream *st);

#endif
