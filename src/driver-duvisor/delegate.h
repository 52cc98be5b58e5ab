// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Storage pools, volumes and networks are not DuVisor's: like libvirt's own
 * hypervisor daemons, virtduvisord hands those procedures to libvirt's
 * storage and network drivers through the libvirt client library, at the
 * URIs of daemon_config.h (storage_uri, network_uri; by default
 * storage:///system and network:///system, which Debian 12's monolithic
 * libvirtd serves on /run/libvirt/libvirt-sock).
 *
 * A delegated procedure is a function that runs in a worker thread with a
 * reference to the delegate connection:
 *
 *   static bool pool_refresh(virConnectPtr conn, void *args, void *ret,
 *                            struct rpc_error *err)
 *   {
 *           dv_storage_pool_flags_args *a = args;
 *           g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);
 *
 *           return pool && virStoragePoolRefresh(pool, a->flags) == 0;
 *   }
 *
 *   static const struct dv_delegate_proc procs[] = {
 *           DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_REFRESH, pool_refresh,
 *                            dv_storage_pool_flags_args, rpc_void,
 *                            RPC_PROC_WRITE),
 *   };
 *   dv_delegate_register(DV_DELEGATE_STORAGE, procs, G_N_ELEMENTS(procs));
 *
 * It returns false on failure, with err set or else libvirt's last error
 * (this thread's), which reaches the client with its own code, domain and
 * message.  It fills ret only on success.  Worker threads keep slow
 * operations (pool builds, volume wipes) off the main loop; the reply goes
 * out from the main loop.
 *
 * The connection is opened when first needed and opened again after the
 * delegate daemon restarted (a call that finds the connection broken is
 * retried once on a new one).  When the daemon cannot be reached, calls
 * fail with VIR_ERR_NO_SUPPORT: clients take that as "not available".
 */
#ifndef DV_DELEGATE_H
#define DV_DELEGATE_H

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "daemon_config.h"
#include "rpc_dispatch.h"

enum dv_delegate_target {
	DV_DELEGATE_STORAGE,
	DV_DELEGATE_NETWORK,
	DV_DELEGATE_TARGETS
};

typedef bool (*dv_delegate_fn)(virConnectPtr conn, void *args, void *ret,
			       struct rpc_error *err);

struct dv_delegate_proc {
	struct rpc_proc_def rpc;	/* its handler is dv_delegate_dispatch */
	dv_delegate_fn work;
};

#define DV_DELEGATE_PROC(num, work_fn, args_t, ret_t, fl)                  \
	{                                                                  \
		.rpc = RPC_PROC(num, dv_delegate_dispatch, args_t, ret_t, fl), \
		.work = (work_fn)                                          \
	}

/* The rpc_handler_fn of every delegated procedure. */
int dv_delegate_dispatch(struct rpc_call *call, void *args, void *ret,
			 struct rpc_error *err);

/* Daemon start-up: the URIs and every delegated procedure. */
void dv_delegate_init(const struct daemon_config *cfg);
/* Daemon exit, before the server is freed: finishes the calls in flight
 * and closes the connections. */
void dv_delegate_shutdown(void);
void dv_delegate_register(enum dv_delegate_target target,
			  const struct dv_delegate_proc *procs, size_t n);

/* For use outside RPC calls (storage_resolve.c, network_port.c); any
 * thread.  A reference to the connection, to be released with
 * virConnectClose(), or NULL with err set (VIR_ERR_NO_SUPPORT). */
virConnectPtr dv_delegate_connect(enum dv_delegate_target target,
				  struct rpc_error *err);
/* After a libvirt call on conn failed: sets err from libvirt's last error
 * and returns true when the connection broke (it is then dropped, and the
 * next dv_delegate_connect() opens a new one). */
bool dv_delegate_failed(enum dv_delegate_target target, virConnectPtr conn,
			struct rpc_error *err);

/* Every libvirt call, even a free function, clears the thread's last
 * error; the cleanups below keep it first (dv_delegate_keep_error), so that
 * dv_delegate_failed() still reports why the failed call failed.
 * dv_delegate_forget_error() clears the kept and the last error. */
void dv_delegate_keep_error(void);
void dv_delegate_forget_error(void);

/* g_autoptr() for libvirt objects; use them (or dv_vir*Free) rather than
 * libvirt's free functions.  A connection is only released once its
 * errors were read, so its cleanup keeps nothing. */
static inline void dv_virConnectClose(virConnectPtr c)
{
	virConnectClose(c);
}
static inline void dv_virStoragePoolFree(virStoragePoolPtr p)
{
	dv_delegate_keep_error();
	virStoragePoolFree(p);
}
static inline void dv_virStorageVolFree(virStorageVolPtr v)
{
	dv_delegate_keep_error();
	virStorageVolFree(v);
}
static inline void dv_virNetworkFree(virNetworkPtr n)
{
	dv_delegate_keep_error();
	virNetworkFree(n);
}
static inline void dv_virNetworkPortFree(virNetworkPortPtr p)
{
	dv_delegate_keep_error();
	virNetworkPortFree(p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, dv_virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStoragePool, dv_virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virStorageVol, dv_virStorageVolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virNetwork, dv_virNetworkFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virNetworkPort, dv_virNetworkPortFree)

#endif
