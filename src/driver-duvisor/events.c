// SPDX-License-Identifier: GPL-2.0-or-later
/* Domain events (see events.h). */
/* For VIR_DOMAIN_EVENT_ID_LAST: the event IDs this libvirt knows. */
#define VIR_ENUM_SENTINELS
#include <libvirt/libvirt.h>
#include <string.h>

#include "daemon_log.h"
#include "events.h"
#include "rpc_dispatch.h"

#define EVENTS_KEY "duvisor-events"

struct event_reg {
	int callback_id;
	int event_id;
	bool has_uuid;
	unsigned char uuid[DV_UUID_LEN];
};

static struct rpc_server *server;
static int last_callback_id;

/* The client's registrations (GArray of struct event_reg), created on
 * demand; released with the client. */
static GArray *client_regs(struct rpc_client *c, bool create)
{
	GArray *regs = rpc_client_get_data(c, EVENTS_KEY);

	if (!regs && create) {
		regs = g_array_new(FALSE, FALSE, sizeof(struct event_reg));
		rpc_client_set_data(c, EVENTS_KEY, regs,
				    (GDestroyNotify)g_array_unref);
	}
	return regs;
}

static int register_any(struct rpc_call *call, void *args, void *ret,
			struct rpc_error *err)
{
	dv_connect_domain_event_callback_register_any_args *a = args;
	dv_connect_domain_event_callback_register_any_ret *r = ret;
	struct rpc_client *c = rpc_call_client(call);
	struct event_reg reg = { 0 };

	if (a->eventID < 0 || a->eventID >= VIR_DOMAIN_EVENT_ID_LAST) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported event ID %d", a->eventID);
		return RPC_HANDLER_ERROR;
	}
	if (last_callback_id == G_MAXINT)
		last_callback_id = 0;
	reg.callback_id = ++last_callback_id;
	reg.event_id = a->eventID;
	if (a->dom) {
		reg.has_uuid = true;
		memcpy(reg.uuid, a->dom->uuid, DV_UUID_LEN);
	}
	g_array_append_val(client_regs(c, true), reg);
	r->callbackID = reg.callback_id;
	DV_DEBUG("client %" G_GUINT64_FORMAT ": event %d -> callback %d",
		 rpc_client_id(c), reg.event_id, reg.callback_id);
	return RPC_HANDLER_OK;
}

static int deregister_any(struct rpc_call *call, void *args, void *ret,
			  struct rpc_error *err)
{
	dv_connect_domain_event_callback_deregister_any_args *a = args;
	GArray *regs = client_regs(rpc_call_client(call), false);

	for (guint i = 0; regs && i < regs->len; i++) {
		if (g_array_index(regs, struct event_reg, i).callback_id ==
		    a->callbackID) {
			g_array_remove_index(regs, i);
			return RPC_HANDLER_OK;
		}
	}
	rpc_error_set(err, VIR_ERR_INVALID_ARG,
		      "no domain event callback with ID %d", a->callbackID);
	return RPC_HANDLER_ERROR;
}

static const struct rpc_proc_def event_procs[] = {
	RPC_PROC(DV_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY,
		 register_any,
		 dv_connect_domain_event_callback_register_any_args,
		 dv_connect_domain_event_callback_register_any_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY,
		 deregister_any,
		 dv_connect_domain_event_callback_deregister_any_args,
		 rpc_void, 0),
};

void duvisor_events_init(struct rpc_server *srv)
{
	server = srv;
	last_callback_id = 0;
	rpc_dispatch_register(event_procs, G_N_ELEMENTS(event_procs));
}

struct broadcast {
	int event_id;
	const unsigned char *uuid;
	int proc;
	xdrproc_t filter;
	void *msg;
	int *callback_id;
	unsigned int count;
};

static void broadcast_one(struct rpc_client *c, void *opaque)
{
	struct broadcast *b = opaque;
	GArray *regs = client_regs(c, false);

	for (guint i = 0; regs && i < regs->len; i++) {
		struct event_reg *reg = &g_array_index(regs, struct event_reg, i);

		if (reg->event_id != b->event_id)
			continue;
		if (b->msg && reg->has_uuid &&
		    (!b->uuid || memcmp(reg->uuid, b->uuid, DV_UUID_LEN) != 0))
			continue;
		b->count++;
		if (b->msg) {
			*b->callback_id = reg->callback_id;
			rpc_client_send_message(c, b->proc, b->filter, b->msg);
		}
	}
}

void duvisor_events_broadcast(int event_id, const unsigned char *uuid,
			      int proc, xdrproc_t filter, void *msg,
			      int *callback_id)
{
	struct broadcast b = {
		.event_id = event_id,
		.uuid = uuid,
		.proc = proc,
		.filter = filter,
		.msg = msg,
		.callback_id = callback_id,
	};

	if (server)
		rpc_server_foreach_client(server, broadcast_one, &b);
}

unsigned int duvisor_events_count(int event_id)
{
	struct broadcast b = { .event_id = event_id };

	if (server)
		rpc_server_foreach_client(server, broadcast_one, &b);
	return b.count;
}

static void fill_domain(dv_nonnull_domain *d, const char *name,
			const unsigned char *uuid, int id)
{
	d->name = (char *)name;	/* only encoded, never freed */
	memcpy(d->uuid, uuid, DV_UUID_LEN);
	d->id = id;
}

void duvisor_events_lifecycle(const char *name, const unsigned char *uuid,
			      int id, int event, int detail)
{
	dv_domain_event_callback_lifecycle_msg msg = {
		.event = event,
		.detail = detail,
	};

	fill_domain(&msg.dom, name, uuid, id);
	duvisor_events_broadcast(VIR_DOMAIN_EVENT_ID_LIFECYCLE, uuid,
				 DV_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
				 (xdrproc_t)xdr_dv_domain_event_callback_lifecycle_msg,
				 &msg, &msg.callbackID);
}

void duvisor_events_reboot(const char *name, const unsigned char *uuid,
			   int id)
{
	dv_domain_event_callback_reboot_msg msg = { 0 };

	fill_domain(&msg.dom, name, uuid, id);
	duvisor_events_broadcast(VIR_DOMAIN_EVENT_ID_REBOOT, uuid,
				 DV_PROC_DOMAIN_EVENT_CALLBACK_REBOOT,
				 (xdrproc_t)xdr_dv_domain_event_callback_reboot_msg,
				 &msg, &msg.callbackID);
}

void duvisor_events_balloon_change(const char *name, const unsigned char *uuid,
				   int id, uint64_t actual_kib)
{
	dv_domain_event_callback_balloon_change_msg msg = {
		.actual = actual_kib,
	};

	fill_domain(&msg.dom, name, uuid, id);
	duvisor_events_broadcast(VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, uuid,
				 DV_PROC_DOMAIN_EVENT_CALLBACK_BALLOON_CHANGE,
				 (xdrproc_t)xdr_dv_domain_event_callback_balloon_change_msg,
				 &msg, &msg.callbackID);
}
