// SPDX-License-Identifier: GPL-2.0-or-later
/* libvirt objects <-> their wire forms (see delegate_procs.h). */
#include <string.h>

#include "delegate_procs.h"

/* Pools and networks are found by UUID, as libvirt's own drivers identify
 * them; a volume by its pool's name and its own, as libvirt's storage
 * driver does. */
virStoragePoolPtr dv_wire_pool_get(virConnectPtr conn,
				   const dv_nonnull_storage_pool *p)
{
	return virStoragePoolLookupByUUID(conn, (const unsigned char *)p->uuid);
}

virStorageVolPtr dv_wire_vol_get(virConnectPtr conn,
				 const dv_nonnull_storage_vol *v)
{
	g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn,
								    v->pool);

	return pool ? virStorageVolLookupByName(pool, v->name) : NULL;
}

virNetworkPtr dv_wire_network_get(virConnectPtr conn,
				  const dv_nonnull_network *n)
{
	return virNetworkLookupByUUID(conn, (const unsigned char *)n->uuid);
}

bool dv_wire_pool_fill(dv_nonnull_storage_pool *out, virStoragePoolPtr pool)
{
	unsigned char uuid[VIR_UUID_BUFLEN];
	const char *name = virStoragePoolGetName(pool);

	G_STATIC_ASSERT(sizeof(out->uuid) == VIR_UUID_BUFLEN);
	if (!name || virStoragePoolGetUUID(pool, uuid) < 0)
		return false;
	out->name = g_strdup(name);
	memcpy(out->uuid, uuid, sizeof(out->uuid));
	return true;
}

bool dv_wire_vol_fill(dv_nonnull_storage_vol *out, virStorageVolPtr vol,
		      const char *pool_name)
{
	const char *name = virStorageVolGetName(vol);
	const char *key = virStorageVolGetKey(vol);
	g_autoptr(virStoragePool) pool = NULL;

	if (!name || !key)
		return false;
	if (!pool_name) {
		pool = virStoragePoolLookupByVolume(vol);
		if (!pool)
			return false;
		pool_name = virStoragePoolGetName(pool);
		if (!pool_name)
			return false;
	}
	out->pool = g_strdup(pool_name);
	out->name = g_strdup(name);
	out->key = g_strdup(key);
	return true;
}

bool dv_wire_network_fill(dv_nonnull_network *out, virNetworkPtr net)
{
	unsigned char uuid[VIR_UUID_BUFLEN];
	const char *name = virNetworkGetName(net);

	if (!name || virNetworkGetUUID(net, uuid) < 0)
		return false;
	out->name = g_strdup(name);
	memcpy(out->uuid, uuid, sizeof(out->uuid));
	return true;
}

bool dv_wire_check_maxnames(int maxnames, int limit, struct rpc_error *err)
{
	if (maxnames < 0 || maxnames > limit) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "the list size must be 0 to %d, not %d", limit,
			      maxnames);
		return false;
	}
	return true;
}

void dv_wire_names_take(dv_names_ret *out, char **names, int n)
{
	out->names.names_len = (u_int)n;
	out->names.names_val = g_new0(dv_nonnull_string, MAX(n, 1));
	for (int i = 0; i < n; i++)
		out->names.names_val[i] = names[i];
}
