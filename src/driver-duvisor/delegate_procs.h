// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The delegated procedures (see delegate.h), registered by
 * dv_delegate_init(), and the conversions between libvirt's objects and
 * their wire forms that they share (delegate_wire.c).
 */
#ifndef DV_DELEGATE_PROCS_H
#define DV_DELEGATE_PROCS_H

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "delegate.h"
#include "duvisor_protocol.h"

void dv_storage_pool_procs_register(void);	/* storage_pool_procs.c */
void dv_storage_vol_procs_register(void);	/* storage_vol_procs.c */
void dv_network_procs_register(void);		/* network_procs.c */

/* ---- delegate_wire.c ----------------------------------------------------
 * Lookups of the objects a client names; NULL with libvirt's error set
 * (no pool 49, no volume 50, no network 43).  Fills of wire objects; they
 * allocate strings that xdr_free releases. */
virStoragePoolPtr dv_wire_pool_get(virConnectPtr conn,
				   const dv_nonnull_storage_pool *p);
virStorageVolPtr dv_wire_vol_get(virConnectPtr conn,
				 const dv_nonnull_storage_vol *v);
virNetworkPtr dv_wire_network_get(virConnectPtr conn,
				  const dv_nonnull_network *n);
bool dv_wire_pool_fill(dv_nonnull_storage_pool *out, virStoragePoolPtr pool);
/* pool_name: the volume's pool, or NULL to ask libvirt. */
bool dv_wire_vol_fill(dv_nonnull_storage_vol *out, virStorageVolPtr vol,
		      const char *pool_name);
bool dv_wire_network_fill(dv_nonnull_network *out, virNetworkPtr net);

/* For the legacy list procedures: maxnames must be 0 to limit. */
bool dv_wire_check_maxnames(int maxnames, int limit, struct rpc_error *err);
/* Takes over names[0..n-1] (libvirt's allocations) into out. */
void dv_wire_names_take(dv_names_ret *out, char **names, int n);

#endif
