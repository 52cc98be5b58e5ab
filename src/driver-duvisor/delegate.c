// SPDX-License-Identifier: GPL-2.0-or-later
/* Procedures delegated to libvirt's own drivers (see delegate.h). */
#include <libvirt/virterror.h>
#include <string.h>

#include "daemon_log.h"
#include "delegate.h"
#include "delegate_procs.h"

/* Enough for a few slow operations (wipes, builds) without starving the
 * quick ones; libvirt multiplexes the calls on one connection. */
#define MAX_WORKERS 4

struct target {
	const char *what;	/* for messages: "storage pools and volumes" */
	int error_domain;	/* virErrorDomain of our own errors */
	char *uri;		/* NULL: not configured */
	virConnectPtr conn;	/* NULL until needed, or after it broke */
};

struct entry {
	const struct dv_delegate_proc *def;
	enum dv_delegate_target target;
};

struct job {
	struct rpc_call *call;
	const struct entry *entry;
	struct rpc_error err;
	bool ok;
};

static struct target targets[DV_DELEGATE_TARGETS] = {
	[DV_DELEGATE_STORAGE] = { "storage pools and volumes",
				  VIR_FROM_STORAGE, NULL, NULL },
	[DV_DELEGATE_NETWORK] = { "networks", VIR_FROM_NETWORK, NULL, NULL },
};
static GMutex lock;		/* targets[].conn, finish_idle */
static GHashTable *entries;	/* proc number -> struct entry */
static GThreadPool *workers;
static GAsyncQueue *finished;	/* jobs whose reply is due */
static guint finish_idle;

/* The first error of this thread's current call (see delegate.h). */
static _Thread_local virError kept_error;

void dv_delegate_keep_error(void)
{
	if (kept_error.code == VIR_ERR_OK)
		virCopyLastError(&kept_error);
}

void dv_delegate_forget_error(void)
{
	virResetError(&kept_error);
	virResetLastError();
}

/* libvirt's default error handler prints every error on stderr; ours are
 * forwarded to clients instead. */
static void ignore_libvirt_error(void *opaque, virErrorPtr err)
{
}

virConnectPtr dv_delegate_connect(enum dv_delegate_target target,
				  struct rpc_error *err)
{
	struct target *t = &targets[target];
	virConnectPtr c = NULL;

	g_mutex_lock(&lock);
	if (t->conn && virConnectIsAlive(t->conn) == 1) {
		c = t->conn;
		virConnectRef(c);
		goto out;
	}
	if (t->conn) {
		virConnectClose(t->conn);
		t->conn = NULL;
	}
	if (!t->uri) {
		rpc_error_set_domain(err, t->error_domain, VIR_ERR_NO_SUPPORT,
				     "%s are not available: no libvirt URI "
				     "is configured for them", t->what);
		goto out;
	}
	c = virConnectOpen(t->uri);
	if (!c) {
		virErrorPtr e = virGetLastError();

		rpc_error_set_domain(err, t->error_domain, VIR_ERR_NO_SUPPORT,
				     "%s are not available: cannot connect to "
				     "libvirt at %s: %s", t->what, t->uri,
				     e && e->message ? e->message
						     : "unknown error");
		DV_DEBUG("cannot connect to %s: %s", t->uri,
			 e && e->message ? e->message : "unknown error");
		goto out;
	}
	DV_INFO("connected to %s for %s", t->uri, t->what);
	t->conn = c;
	virConnectRef(c);
out:
	g_mutex_unlock(&lock);
	return c;
}

/* Errors of the transport itself: the client would take them for a broken
 * connection to us (nova does), which it is not. */
static bool transport_error(const virError *e)
{
	return (e->domain == VIR_FROM_RPC || e->domain == VIR_FROM_REMOTE) &&
	       (e->code == VIR_ERR_SYSTEM_ERROR ||
		e->code == VIR_ERR_INTERNAL_ERROR || e->code == VIR_ERR_RPC ||
		e->code == VIR_ERR_NO_CONNECT);
}

bool dv_delegate_failed(enum dv_delegate_target target, virConnectPtr conn,
			struct rpc_error *err)
{
	struct target *t = &targets[target];
	virError last = { 0 };
	const virError *e = NULL;
	bool broke;

	/* Copied first: every libvirt call resets the thread's error. */
	if (virCopyLastError(&last) > 0)
		e = &last;
	else if (kept_error.code != VIR_ERR_OK)
		e = &kept_error;
	broke = virConnectIsAlive(conn) != 1;
	if (broke) {
		g_mutex_lock(&lock);
		if (t->conn == conn) {
			virConnectClose(t->conn);
			t->conn = NULL;
		}
		g_mutex_unlock(&lock);
		DV_INFO("lost the connection to %s", t->uri);
	}
	if (!e || e->code == VIR_ERR_OK)
		rpc_error_set_domain(err, t->error_domain,
				     VIR_ERR_OPERATION_FAILED,
				     "libvirt failed without saying why (%s)",
				     t->uri);
	else if (broke || transport_error(e))
		rpc_error_set_domain(err, t->error_domain,
				     VIR_ERR_OPERATION_FAILED,
				     "lost the connection to libvirt at %s: %s",
				     t->uri, e->message ? e->message : "");
	else
		rpc_error_set_domain(err, e->domain, e->code, "%s",
				     e->message ? e->message : "");
	virResetError(&last);
	dv_delegate_forget_error();
	return broke;
}

/* ---- calls ------------------------------------------------------------ */

static gboolean deliver_finished(gpointer data)
{
	struct job *job;

	g_mutex_lock(&lock);
	finish_idle = 0;
	g_mutex_unlock(&lock);
	while ((job = g_async_queue_try_pop(finished))) {
		if (job->ok)
			rpc_call_reply(job->call);
		else
			rpc_call_reply_error(job->call, &job->err);
		rpc_error_clear(&job->err);
		g_free(job);
	}
	return G_SOURCE_REMOVE;
}

/* Runs the procedure; a connection found broken is replaced once (the
 * delegate daemon restarted since the last call).  A call cut off half-way
 * may have been carried out: its second attempt then fails with libvirt's
 * own error (such as "already exists"), which is what the client sees. */
static bool run_procedure(struct job *job)
{
	const struct dv_delegate_proc *def = job->entry->def;
	enum dv_delegate_target target = job->entry->target;
	void *args = rpc_call_args(job->call);
	void *ret = rpc_call_ret(job->call);

	for (int attempt = 0; attempt < 2; attempt++) {
		g_autoptr(virConnect) conn = NULL;

		rpc_error_clear(&job->err);
		conn = dv_delegate_connect(target, &job->err);
		if (!conn)
			return false;
		dv_delegate_forget_error();
		if (def->work(conn, args, ret, &job->err)) {
			dv_delegate_forget_error();
			return true;
		}
		if (rpc_error_is_set(&job->err)) {
			dv_delegate_forget_error();
			return false;
		}
		if (!dv_delegate_failed(target, conn, &job->err))
			return false;
		/* Whatever a failed attempt left in ret goes before the next. */
		xdr_free(def->rpc.ret_filter, ret);
		memset(ret, 0, def->rpc.ret_size);
	}
	return false;
}

static void run_job(gpointer data, gpointer user_data)
{
	struct job *job = data;

	job->ok = run_procedure(job);
	g_async_queue_push(finished, job);
	g_mutex_lock(&lock);
	if (!finish_idle)
		finish_idle = g_idle_add(deliver_finished, NULL);
	g_mutex_unlock(&lock);
}

int dv_delegate_dispatch(struct rpc_call *call, void *args, void *ret,
			 struct rpc_error *err)
{
	const struct entry *e = g_hash_table_lookup(
		entries, GINT_TO_POINTER(rpc_call_proc(call)));
	struct job *job;
	GError *gerr = NULL;

	g_assert(e);
	job = g_new0(struct job, 1);
	job->call = call;
	job->entry = e;
	if (!g_thread_pool_push(workers, job, &gerr)) {
		rpc_error_set(err, VIR_ERR_OPERATION_FAILED,
			      "cannot start the call: %s", gerr->message);
		g_error_free(gerr);
		g_free(job);
		return RPC_HANDLER_ERROR;
	}
	return RPC_HANDLER_DEFER;
}

/* ---- set-up ----------------------------------------------------------- */

void dv_delegate_register(enum dv_delegate_target target,
			  const struct dv_delegate_proc *procs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct entry *e = g_new0(struct entry, 1);

		g_assert(procs[i].rpc.handler == dv_delegate_dispatch);
		e->def = &procs[i];
		e->target = target;
		g_hash_table_replace(entries, GINT_TO_POINTER(procs[i].rpc.proc),
				     e);
		rpc_dispatch_register(&procs[i].rpc, 1);
	}
}

static char *uri_or_null(const char *uri)
{
	return uri && *uri ? g_strdup(uri) : NULL;
}

void dv_delegate_init(const struct daemon_config *cfg)
{
	virSetErrorFunc(NULL, ignore_libvirt_error);
	targets[DV_DELEGATE_STORAGE].uri = uri_or_null(cfg->storage_uri);
	targets[DV_DELEGATE_NETWORK].uri = uri_or_null(cfg->network_uri);
	entries = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					g_free);
	finished = g_async_queue_new();
	workers = g_thread_pool_new(run_job, NULL, MAX_WORKERS, FALSE, NULL);
	dv_storage_pool_procs_register();
	dv_storage_vol_procs_register();
	dv_network_procs_register();
}

void dv_delegate_shutdown(void)
{
	if (!workers)
		return;
	/* Lets the calls in flight finish (they fail fast once libvirt is
	 * gone) and answers them while the server still exists. */
	g_thread_pool_free(workers, FALSE, TRUE);
	workers = NULL;
	g_mutex_lock(&lock);
	if (finish_idle)
		g_source_remove(finish_idle);
	g_mutex_unlock(&lock);
	deliver_finished(NULL);
	g_clear_pointer(&finished, g_async_queue_unref);
	g_clear_pointer(&entries, g_hash_table_destroy);
	for (int i = 0; i < DV_DELEGATE_TARGETS; i++) {
		if (targets[i].conn)
			virConnectClose(targets[i].conn);
		targets[i].conn = NULL;
		g_clear_pointer(&targets[i].uri, g_free);
	}
}
