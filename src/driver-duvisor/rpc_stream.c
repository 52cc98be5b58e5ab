// SPDX-License-Identifier: GPL-2.0-or-later
/* Data streams (see rpc_stream.h). */
#include <string.h>

#include "daemon_log.h"
#include "rpc_server_priv.h"
#include "rpc_stream.h"

struct rpc_stream {
	struct rpc_client *client;	/* owns the stream (c->streams) */
	struct rpc_call *call;		/* until its reply is queued */
	uint32_t prog;
	uint32_t vers;
	int proc;
	uint32_t serial;
	const struct rpc_stream_ops *ops;
	void *opaque;
	bool replied;
	bool ended;			/* we sent end of data or an error */
	GQueue pending;			/* output before the reply */
};

static struct rpc_header stream_header(const struct rpc_stream *st, int status)
{
	struct rpc_header h = {
		.prog = st->prog,
		.vers = st->vers,
		.proc = st->proc,
		.type = DV_STREAM,
		.serial = st->serial,
		.status = status,
	};
	return h;
}

struct rpc_stream *rpc_stream_new(struct rpc_call *call,
				  const struct rpc_stream_ops *ops,
				  void *opaque)
{
	struct rpc_client *c = rpc_call_client(call);
	struct rpc_stream *st = g_new0(struct rpc_stream, 1);

	st->client = c;
	st->call = call;
	st->prog = DV_PROGRAM;
	st->vers = DV_PROTOCOL_VERSION;
	st->proc = rpc_call_proc(call);
	st->serial = rpc_call_serial(call);
	st->ops = ops;
	st->opaque = opaque;
	g_queue_init(&st->pending);
	c->streams = g_list_append(c->streams, st);
	rpc_call_set_stream(call, st);
	return st;
}

struct rpc_client *rpc_stream_client(const struct rpc_stream *st)
{
	return st->client;
}

static void stream_release(struct rpc_stream *st)
{
	struct rpc_frame *m;

	st->client->streams = g_list_remove(st->client->streams, st);
	if (st->call)
		rpc_call_set_stream(st->call, NULL);
	while ((m = g_queue_pop_head(&st->pending)))
		rpc_frame_free(m);
	if (st->ops && st->ops->release)
		st->ops->release(st->opaque);
	g_free(st);
}

void rpc_stream_abandon(struct rpc_stream *st)
{
	stream_release(st);
}

static bool stream_queue(struct rpc_stream *st, struct rpc_frame *m)
{
	if (!m)
		return false;
	if (!st->replied) {
		g_queue_push_tail(&st->pending, m);
		return true;
	}
	return rpc_client_send(st->client, m);
}

bool rpc_stream_send(struct rpc_stream *st, const void *data, size_t len)
{
	struct rpc_header h = stream_header(st, DV_CONTINUE);
	const uint8_t *p = data;

	if (st->ended || st->client->closed || st->client->closing)
		return false;
	while (len > 0) {
		size_t n = MIN(len, (size_t)RPC_STREAM_CHUNK_MAX);

		if (!stream_queue(st, rpc_frame_new_raw(&h, p, n)))
			return false;
		p += n;
		len -= n;
	}
	return true;
}

bool rpc_stream_send_eof(struct rpc_stream *st)
{
	/* End of data is an empty CONTINUE packet: libvirt clients take an
	 * OK they did not ask for (the answer to their finish or abort) for
	 * a protocol error and drop the connection. */
	struct rpc_header h = stream_header(st, DV_CONTINUE);

	if (st->ended || st->client->closed)
		return false;
	st->ended = true;
	return stream_queue(st, rpc_frame_new_xdr(&h, NULL, NULL));
}

bool rpc_stream_send_error(struct rpc_stream *st, const struct rpc_error *err)
{
	struct rpc_header h = stream_header(st, DV_ERROR);
	dv_error wire;

	if (st->ended || st->client->closed)
		return false;
	st->ended = true;
	rpc_error_to_wire(err, &wire);
	return stream_queue(st, rpc_frame_new_xdr(&h, (xdrproc_t)xdr_dv_error,
						&wire));
}

size_t rpc_stream_queued_bytes(const struct rpc_stream *st)
{
	return st->client->out_bytes;
}

void rpc_stream_reply_sent(struct rpc_stream *st, bool ok)
{
	struct rpc_frame *m;

	st->call = NULL;
	if (!ok) {
		stream_release(st);
		return;
	}
	st->replied = true;
	while ((m = g_queue_pop_head(&st->pending)))
		rpc_client_send(st->client, m);
}

static struct rpc_stream *stream_find(struct rpc_client *c,
				      const struct rpc_header *h)
{
	for (GList *l = c->streams; l; l = l->next) {
		struct rpc_stream *st = l->data;

		if (st->prog == h->prog && st->vers == h->vers &&
		    st->proc == h->proc && st->serial == h->serial)
			return st;
	}
	return NULL;
}

void rpc_stream_incoming(struct rpc_client *c, const struct rpc_header *hdr,
			 const uint8_t *payload, size_t len)
{
	struct rpc_stream *st = stream_find(c, hdr);

	if (!st || !st->replied) {
		DV_DEBUG("client %" G_GUINT64_FORMAT
			 ": stream packet for no stream (proc %d serial %u)",
			 c->id, hdr->proc, hdr->serial);
		return;
	}
	if (hdr->type == DV_STREAM_HOLE) {
		DV_DEBUG("client %" G_GUINT64_FORMAT
			 ": ignoring a stream hole", c->id);
		return;
	}
	switch (hdr->status) {
	case DV_CONTINUE:
		if (st->ops && st->ops->recv && len > 0)
			st->ops->recv(st, payload, len, st->opaque);
		return;
	case DV_OK:
	case DV_ERROR: {
		struct rpc_header h = stream_header(st, DV_OK);

		DV_DEBUG("client %" G_GUINT64_FORMAT ": stream serial %u %s",
			 c->id, st->serial,
			 hdr->status == DV_OK ? "finished" : "aborted");
		if (st->ops && st->ops->finish)
			st->ops->finish(st, hdr->status != DV_OK, st->opaque);
		rpc_client_send(c, rpc_frame_new_xdr(&h, NULL, NULL));
		stream_release(st);
		return;
	}
	default:
		DV_DEBUG("client %" G_GUINT64_FORMAT
			 ": stream packet with status %d", c->id, hdr->status);
		return;
	}
}

void rpc_stream_client_closed(struct rpc_client *c)
{
	while (c->streams)
		stream_release(c->streams->data);
}
