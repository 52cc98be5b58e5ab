// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Storage pool procedures, delegated to libvirt's storage driver (see
 * delegate.h): lists, lookups, life cycle, information, volume lists.
 */
#include "delegate_procs.h"

/* ---- host-wide lists ------------------------------------------------- */

static bool num_of_pools(virConnectPtr conn, void *args, void *ret,
			 struct rpc_error *err)
{
	dv_int_ret *r = ret;

	r->num = virConnectNumOfStoragePools(conn);
	return r->num >= 0;
}

static bool num_of_defined_pools(virConnectPtr conn, void *args, void *ret,
				 struct rpc_error *err)
{
	dv_int_ret *r = ret;

	r->num = virConnectNumOfDefinedStoragePools(conn);
	return r->num >= 0;
}

static bool list_names(virConnectPtr conn, int maxnames, bool defined,
		       dv_names_ret *r, struct rpc_error *err)
{
	g_autofree char **names = NULL;
	int n;

	if (!dv_wire_check_maxnames(maxnames, DV_POOL_NAME_LIST_MAX, err))
		return false;
	names = g_new0(char *, MAX(maxnames, 1));
	n = defined ? virConnectListDefinedStoragePools(conn, names, maxnames)
		    : virConnectListStoragePools(conn, names, maxnames);
	if (n < 0)
		return false;
	dv_wire_names_take(r, names, n);
	return true;
}

static bool list_pools(virConnectPtr conn, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_list_names_args *a = args;

	return list_names(conn, a->maxnames, false, ret, err);
}

static bool list_defined_pools(virConnectPtr conn, void *args, void *ret,
			       struct rpc_error *err)
{
	dv_list_names_args *a = args;

	return list_names(conn, a->maxnames, true, ret, err);
}

static bool list_all_pools(virConnectPtr conn, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_list_all_args *a = args;
	dv_connect_list_all_storage_pools_ret *r = ret;
	virStoragePoolPtr *pools = NULL;
	int n = virConnectListAllStoragePools(
		conn, a->need_results ? &pools : NULL, a->flags);
	bool ok = n >= 0;

	if (!ok)
		return false;
	if (a->need_results) {
		r->pools.pools_val = g_new0(dv_nonnull_storage_pool, MAX(n, 1));
		for (int i = 0; i < n; i++) {
			if (ok && !dv_wire_pool_fill(&r->pools.pools_val[i],
						     pools[i]))
				ok = false;
			dv_virStoragePoolFree(pools[i]);
		}
		/* After a failure the entries left hold NULL strings,
		 * which xdr_free skips. */
		r->pools.pools_len = (u_int)n;
		free(pools);
	}
	r->ret = (u_int)n;
	return ok;
}

/* What a host offers for a pool type (virt-manager's pool wizard). */
static bool find_pool_sources(virConnectPtr conn, void *args, void *ret,
			      struct rpc_error *err)
{
	dv_find_storage_pool_sources_args *a = args;
	dv_string_ret *r = ret;

	r->str = virConnectFindStoragePoolSources(conn, a->type,
			a->srcSpec ? *a->srcSpec : NULL, a->flags);
	return r->str != NULL;
}

/* ---- lookups and definitions ------------------------------------------- */

static bool found(virStoragePoolPtr pool, dv_storage_pool_ret *r)
{
	bool ok = pool && dv_wire_pool_fill(&r->pool, pool);

	if (pool)
		dv_virStoragePoolFree(pool);
	return ok;
}

static bool lookup_by_name(virConnectPtr conn, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_name_args *a = args;

	return found(virStoragePoolLookupByName(conn, a->name), ret);
}

static bool lookup_by_uuid(virConnectPtr conn, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_uuid_args *a = args;

	return found(virStoragePoolLookupByUUID(conn,
			(const unsigned char *)a->uuid), ret);
}

static bool lookup_by_volume(virConnectPtr conn, void *args, void *ret,
			     struct rpc_error *err)
{
	dv_storage_vol_only_args *a = args;
	g_autoptr(virStorageVol) vol = dv_wire_vol_get(conn, &a->vol);

	return vol && found(virStoragePoolLookupByVolume(vol), ret);
}

static bool create_xml(virConnectPtr conn, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_xml_flags_args *a = args;

	return found(virStoragePoolCreateXML(conn, a->xml, a->flags), ret);
}

static bool define_xml(virConnectPtr conn, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_xml_flags_args *a = args;

	return found(virStoragePoolDefineXML(conn, a->xml, a->flags), ret);
}

/* ---- life cycle --------------------------------------------------------- */

/* The procedures on one pool, with flags or without. */
enum pool_action { CREATE, BUILD, DESTROY, DELETE, UNDEFINE, REFRESH };

static bool act(virConnectPtr conn, const dv_nonnull_storage_pool *p,
		enum pool_action what, unsigned int flags)
{
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, p);

	if (!pool)
		return false;
	switch (what) {
	case CREATE:
		return virStoragePoolCreate(pool, flags) == 0;
	case BUILD:
		return virStoragePoolBuild(pool, flags) == 0;
	case DESTROY:
		return virStoragePoolDestroy(pool) == 0;
	case DELETE:
		return virStoragePoolDelete(pool, flags) == 0;
	case UNDEFINE:
		return virStoragePoolUndefine(pool) == 0;
	case REFRESH:
		return virStoragePoolRefresh(pool, flags) == 0;
	}
	return false;
}

#define FLAGS_ACTION(fn, what)                                              \
	static bool fn(virConnectPtr conn, void *args, void *ret,           \
		       struct rpc_error *err)                               \
	{                                                                   \
		dv_storage_pool_flags_args *a = args;                       \
		return act(conn, &a->pool, what, a->flags);                 \
	}
#define PLAIN_ACTION(fn, what)                                              \
	static bool fn(virConnectPtr conn, void *args, void *ret,           \
		       struct rpc_error *err)                               \
	{                                                                   \
		dv_storage_pool_only_args *a = args;                        \
		return act(conn, &a->pool, what, 0);                        \
	}
FLAGS_ACTION(pool_create, CREATE)
FLAGS_ACTION(pool_build, BUILD)
FLAGS_ACTION(pool_delete, DELETE)
FLAGS_ACTION(pool_refresh, REFRESH)
PLAIN_ACTION(pool_destroy, DESTROY)
PLAIN_ACTION(pool_undefine, UNDEFINE)

/* ---- information -------------------------------------------------------- */

static bool get_info(virConnectPtr conn, void *args, void *ret,
		     struct rpc_error *err)
{
	dv_storage_pool_only_args *a = args;
	dv_storage_pool_get_info_ret *r = ret;
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);
	virStoragePoolInfo info;

	if (!pool || virStoragePoolGetInfo(pool, &info) < 0)
		return false;
	r->state = (u_char)info.state;
	r->capacity = info.capacity;
	r->allocation = info.allocation;
	r->available = info.available;
	return true;
}

static bool get_xml_desc(virConnectPtr conn, void *args, void *ret,
			 struct rpc_error *err)
{
	dv_storage_pool_flags_args *a = args;
	dv_string_ret *r = ret;
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);

	r->str = pool ? virStoragePoolGetXMLDesc(pool, a->flags) : NULL;
	return r->str != NULL;
}

static bool get_autostart(virConnectPtr conn, void *args, void *ret,
			  struct rpc_error *err)
{
	dv_storage_pool_only_args *a = args;
	dv_int_ret *r = ret;
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);

	return pool && virStoragePoolGetAutostart(pool, &r->num) == 0;
}

static bool set_autostart(virConnectPtr conn, void *args, void *ret,
			  struct rpc_error *err)
{
	dv_storage_pool_set_autostart_args *a = args;
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);

	return pool && virStoragePoolSetAutostart(pool, a->autostart) == 0;
}

static bool is_active(virConnectPtr conn, void *args, void *ret,
		      struct rpc_error *err)
{
	dv_storage_pool_only_args *a = args;
	dv_int_ret *r = ret;
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);

	r->num = pool ? virStoragePoolIsActive(pool) : -1;
	return r->num >= 0;
}

static bool is_persistent(virConnectPtr conn, void *args, void *ret,
			  struct rpc_error *err)
{
	dv_storage_pool_only_args *a = args;
	dv_int_ret *r = ret;
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);

	r->num = pool ? virStoragePoolIsPersistent(pool) : -1;
	return r->num >= 0;
}

/* ---- its volumes -------------------------------------------------------- */

static bool num_of_volumes(virConnectPtr conn, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_storage_pool_only_args *a = args;
	dv_int_ret *r = ret;
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);

	r->num = pool ? virStoragePoolNumOfVolumes(pool) : -1;
	return r->num >= 0;
}

static bool list_volumes(virConnectPtr conn, void *args, void *ret,
			 struct rpc_error *err)
{
	dv_storage_pool_list_volumes_args *a = args;
	g_autoptr(virStoragePool) pool = NULL;
	g_autofree char **names = NULL;
	int n;

	if (!dv_wire_check_maxnames(a->maxnames, DV_NAME_LIST_MAX, err))
		return false;
	pool = dv_wire_pool_get(conn, &a->pool);
	if (!pool)
		return false;
	names = g_new0(char *, MAX(a->maxnames, 1));
	n = virStoragePoolListVolumes(pool, names, a->maxnames);
	if (n < 0)
		return false;
	dv_wire_names_take(ret, names, n);
	return true;
}

static bool list_all_volumes(virConnectPtr conn, void *args, void *ret,
			     struct rpc_error *err)
{
	dv_storage_pool_list_all_volumes_args *a = args;
	dv_storage_pool_list_all_volumes_ret *r = ret;
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);
	virStorageVolPtr *vols = NULL;
	bool ok;
	int n;

	if (!pool)
		return false;
	n = virStoragePoolListAllVolumes(pool, a->need_results ? &vols : NULL,
					 a->flags);
	ok = n >= 0;
	if (!ok)
		return false;
	if (a->need_results) {
		r->vols.vols_val = g_new0(dv_nonnull_storage_vol, MAX(n, 1));
		for (int i = 0; i < n; i++) {
			if (ok && !dv_wire_vol_fill(&r->vols.vols_val[i],
						    vols[i], a->pool.name))
				ok = false;
			dv_virStorageVolFree(vols[i]);
		}
		r->vols.vols_len = (u_int)n;
		free(vols);
	}
	r->ret = (u_int)n;
	return ok;
}

static const struct dv_delegate_proc pool_procs[] = {
	DV_DELEGATE_PROC(DV_PROC_CONNECT_NUM_OF_STORAGE_POOLS, num_of_pools,
			 rpc_void, dv_int_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_CONNECT_LIST_STORAGE_POOLS, list_pools,
			 dv_list_names_args, dv_names_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_CONNECT_NUM_OF_DEFINED_STORAGE_POOLS,
			 num_of_defined_pools, rpc_void, dv_int_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_CONNECT_LIST_DEFINED_STORAGE_POOLS,
			 list_defined_pools, dv_list_names_args, dv_names_ret,
			 0),
	DV_DELEGATE_PROC(DV_PROC_CONNECT_LIST_ALL_STORAGE_POOLS,
			 list_all_pools, dv_list_all_args,
			 dv_connect_list_all_storage_pools_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_FIND_STORAGE_POOL_SOURCES, find_pool_sources,
			 dv_find_storage_pool_sources_args, dv_string_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_LOOKUP_BY_NAME, lookup_by_name,
			 dv_name_args, dv_storage_pool_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_LOOKUP_BY_UUID, lookup_by_uuid,
			 dv_uuid_args, dv_storage_pool_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_LOOKUP_BY_VOLUME,
			 lookup_by_volume, dv_storage_vol_only_args,
			 dv_storage_pool_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_CREATE_XML, create_xml,
			 dv_xml_flags_args, dv_storage_pool_ret,
			 RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_DEFINE_XML, define_xml,
			 dv_xml_flags_args, dv_storage_pool_ret,
			 RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_CREATE, pool_create,
			 dv_storage_pool_flags_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_BUILD, pool_build,
			 dv_storage_pool_flags_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_DESTROY, pool_destroy,
			 dv_storage_pool_only_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_DELETE, pool_delete,
			 dv_storage_pool_flags_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_UNDEFINE, pool_undefine,
			 dv_storage_pool_only_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_REFRESH, pool_refresh,
			 dv_storage_pool_flags_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_GET_INFO, get_info,
			 dv_storage_pool_only_args,
			 dv_storage_pool_get_info_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_GET_XML_DESC, get_xml_desc,
			 dv_storage_pool_flags_args, dv_string_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_GET_AUTOSTART, get_autostart,
			 dv_storage_pool_only_args, dv_int_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_SET_AUTOSTART, set_autostart,
			 dv_storage_pool_set_autostart_args, rpc_void,
			 RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_IS_ACTIVE, is_active,
			 dv_storage_pool_only_args, dv_int_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_IS_PERSISTENT, is_persistent,
			 dv_storage_pool_only_args, dv_int_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_NUM_OF_VOLUMES, num_of_volumes,
			 dv_storage_pool_only_args, dv_int_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_LIST_VOLUMES, list_volumes,
			 dv_storage_pool_list_volumes_args, dv_names_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_POOL_LIST_ALL_VOLUMES,
			 list_all_volumes,
			 dv_storage_pool_list_all_volumes_args,
			 dv_storage_pool_list_all_volumes_ret, 0),
};

void dv_storage_pool_procs_register(void)
{
	dv_delegate_register(DV_DELEGATE_STORAGE, pool_procs,
			     G_N_ELEMENTS(pool_procs));
}
