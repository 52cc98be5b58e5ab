// SPDX-License-Identifier: GPL-2.0-or-later
/* Procedure table and call dispatching (see rpc_dispatch.h). */
#include <string.h>

#include "daemon_log.h"
#include "rpc_dispatch.h"
#include "rpc_stream.h"

struct rpc_call {
	struct rpc_client *client;
	struct rpc_header hdr;
	const struct rpc_proc_def *def;
	void *args;
	void *ret;
	struct rpc_stream *stream;
	bool deferred;
};

static GHashTable *procs;	/* proc number -> struct rpc_proc_def */

bool_t xdr_rpc_void(XDR *xdrs, rpc_void *v)
{
	return TRUE;
}

void rpc_dispatch_init(void)
{
	if (!procs)
		procs = g_hash_table_new_full(g_direct_hash, g_direct_equal,
					      NULL, g_free);
}

void rpc_dispatch_shutdown(void)
{
	g_clear_pointer(&procs, g_hash_table_destroy);
}

void rpc_dispatch_register(const struct rpc_proc_def *defs, size_t n)
{
	rpc_dispatch_init();
	for (size_t i = 0; i < n; i++) {
		g_assert(defs[i].handler && defs[i].args_filter &&
			 defs[i].ret_filter);
		g_hash_table_replace(procs, GINT_TO_POINTER(defs[i].proc),
				     g_memdup2(&defs[i], sizeof(defs[i])));
	}
}

const struct rpc_proc_def *rpc_dispatch_lookup(int proc)
{
	return procs ? g_hash_table_lookup(procs, GINT_TO_POINTER(proc)) : NULL;
}

/* ---- replies ---------------------------------------------------------- */

static struct rpc_header reply_header(const struct rpc_header *call,
				      int status)
{
	struct rpc_header h = *call;

	h.type = DV_REPLY;
	h.status = status;
	return h;
}

static void send_error(struct rpc_client *c, const struct rpc_header *call,
		       const struct rpc_error *err)
{
	struct rpc_header h = reply_header(call, DV_ERROR);
	dv_error wire;

	DV_DEBUG("client %" G_GUINT64_FORMAT ": proc %d serial %u: error %d: %s",
		 rpc_client_id(c), call->proc, call->serial, err->code,
		 err->message ? err->message : "");
	rpc_error_to_wire(err, &wire);
	if (!rpc_client_send(c, rpc_frame_new_xdr(&h, (xdrproc_t)xdr_dv_error,
						&wire)) &&
	    !rpc_client_closed(c)) {
		DV_WARN("client %" G_GUINT64_FORMAT
			": cannot encode an error reply", rpc_client_id(c));
		rpc_client_close_later(c);
	}
}

static void call_free(struct rpc_call *call)
{
	if (call->args) {
		xdr_free(call->def->args_filter, call->args);
		g_free(call->args);
	}
	if (call->ret) {
		xdr_free(call->def->ret_filter, call->ret);
		g_free(call->ret);
	}
	if (call->deferred)
		rpc_client_call_finished(call->client);
	rpc_client_unref(call->client);
	g_free(call);
}

void rpc_call_reply(struct rpc_call *call)
{
	struct rpc_header h = reply_header(&call->hdr, DV_OK);
	struct rpc_frame *m = rpc_frame_new_xdr(&h, call->def->ret_filter,
					    call->ret);

	if (!m) {
		struct rpc_error err = { 0 };

		rpc_error_set_domain(&err, VIR_FROM_RPC, VIR_ERR_RPC,
				     "%s: the reply is too large to send",
				     call->def->name);
		rpc_call_reply_error(call, &err);
		return;
	}
	rpc_client_send(call->client, m);
	if (call->stream)
		rpc_stream_reply_sent(call->stream, true);
	call_free(call);
}

void rpc_call_reply_error(struct rpc_call *call, struct rpc_error *err)
{
	send_error(call->client, &call->hdr, err);
	rpc_error_clear(err);
	if (call->stream)
		rpc_stream_reply_sent(call->stream, false);
	call_free(call);
}

struct rpc_client *rpc_call_client(const struct rpc_call *call)
{
	return call->client;
}

int rpc_call_proc(const struct rpc_call *call)
{
	return call->hdr.proc;
}

uint32_t rpc_call_serial(const struct rpc_call *call)
{
	return call->hdr.serial;
}

void *rpc_call_args(const struct rpc_call *call)
{
	return call->args;
}

void *rpc_call_ret(const struct rpc_call *call)
{
	return call->ret;
}

void rpc_call_set_stream(struct rpc_call *call, struct rpc_stream *st)
{
	g_assert(!call->stream || !st);
	call->stream = st;
}

/* ---- dispatch --------------------------------------------------------- */

/* Checks made before decoding the arguments; false with err set. */
static bool call_allowed(struct rpc_client *c, const struct rpc_header *h,
			 const struct rpc_proc_def **defp,
			 struct rpc_error *err)
{
	const struct rpc_proc_def *def;

	if (h->prog != DV_PROGRAM) {
		rpc_error_set(err, VIR_ERR_NO_SUPPORT,
			      "program 0x%x is not supported", h->prog);
		return false;
	}
	if (h->vers != DV_PROTOCOL_VERSION) {
		rpc_error_set_domain(err, VIR_FROM_RPC, VIR_ERR_RPC,
				     "protocol version %u is not supported",
				     h->vers);
		return false;
	}
	if (h->type == DV_CALL_WITH_FDS) {
		rpc_error_set(err, VIR_ERR_NO_SUPPORT,
			      "passing file descriptors is not supported");
		return false;
	}
	if (h->status != DV_OK) {
		rpc_error_set_domain(err, VIR_FROM_RPC, VIR_ERR_RPC,
				     "unexpected status %d in a call",
				     h->status);
		return false;
	}
	def = rpc_dispatch_lookup(h->proc);
	if (!def) {
		rpc_error_set(err, VIR_ERR_NO_SUPPORT,
			      "this function is not supported by the "
			      "DuVisor driver (procedure %d)", h->proc);
		return false;
	}
	if (!(def->flags & RPC_PROC_NO_OPEN) && !rpc_client_is_open(c)) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "the connection is not open");
		return false;
	}
	if ((def->flags & RPC_PROC_WRITE) && rpc_client_readonly(c)) {
		rpc_error_set(err, VIR_ERR_OPERATION_DENIED,
			      "operation forbidden on a read-only connection");
		return false;
	}
	*defp = def;
	return true;
}

void rpc_dispatch_packet(struct rpc_client *client,
			 const struct rpc_header *hdr, const uint8_t *payload,
			 size_t len, void *opaque)
{
	const struct rpc_proc_def *def = NULL;
	struct rpc_error err = { 0 };
	struct rpc_call *call;
	int rc;

	if (!call_allowed(client, hdr, &def, &err)) {
		if (dv_log_get_level() >= DV_LOG_DEBUG && len > 0) {
			g_autofree char *hex = g_malloc(MIN(len, 64u) * 2 + 1);

			for (size_t i = 0; i < MIN(len, 64u); i++)
				g_snprintf(hex + 2 * i, 3, "%02x", payload[i]);
			DV_DEBUG("client %" G_GUINT64_FORMAT
				 ": refused call %d, arguments %s%s",
				 rpc_client_id(client), hdr->proc, hex,
				 len > 64 ? "..." : "");
		}
		send_error(client, hdr, &err);
		rpc_error_clear(&err);
		return;
	}
	DV_DEBUG("client %" G_GUINT64_FORMAT ": call %s serial %u",
		 rpc_client_id(client), def->name, hdr->serial);

	call = g_new0(struct rpc_call, 1);
	call->client = rpc_client_ref(client);
	call->hdr = *hdr;
	call->def = def;
	call->args = g_malloc0(def->args_size);
	call->ret = g_malloc0(def->ret_size);
	if (!rpc_xdr_decode(payload, len, def->args_filter, call->args)) {
		rpc_error_set_domain(&err, VIR_FROM_RPC, VIR_ERR_RPC,
				     "%s: cannot decode the arguments",
				     def->name);
		rpc_call_reply_error(call, &err);
		return;
	}

	/* Counted as in flight before the handler runs: a deferring handler
	 * may hand the call to code that replies at any time. */
	call->deferred = true;
	rpc_client_call_started(client);
	rc = def->handler(call, call->args, call->ret, &err);
	switch (rc) {
	case RPC_HANDLER_OK:
		rpc_call_reply(call);
		break;
	case RPC_HANDLER_DEFER:
		break;
	default:
		if (!rpc_error_is_set(&err))
			rpc_error_set(&err, VIR_ERR_OPERATION_FAILED,
				      "%s failed", def->name);
		rpc_call_reply_error(call, &err);
		break;
	}
	rpc_error_clear(&err);
}
