// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Storage volume procedures, delegated to libvirt's storage driver (see
 * delegate.h): lookups, creation, deletion, information, resizing.
 */
#include "delegate_procs.h"

/* ---- lookups ------------------------------------------------------------ */

static bool found(virStorageVolPtr vol, const char *pool_name,
		  dv_storage_vol_ret *r)
{
	bool ok = vol && dv_wire_vol_fill(&r->vol, vol, pool_name);

	if (vol)
		dv_virStorageVolFree(vol);
	return ok;
}

static bool lookup_by_name(virConnectPtr conn, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_storage_vol_lookup_by_name_args *a = args;
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);

	return pool && found(virStorageVolLookupByName(pool, a->name),
			     a->pool.name, ret);
}

static bool lookup_by_key(virConnectPtr conn, void *args, void *ret,
			  struct rpc_error *err)
{
	dv_storage_vol_lookup_by_key_args *a = args;

	return found(virStorageVolLookupByKey(conn, a->key), NULL, ret);
}

static bool lookup_by_path(virConnectPtr conn, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_storage_vol_lookup_by_path_args *a = args;

	return found(virStorageVolLookupByPath(conn, a->path), NULL, ret);
}

/* ---- creation and deletion ---------------------------------------------- */

static bool create_xml(virConnectPtr conn, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_storage_vol_create_xml_args *a = args;
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);

	return pool && found(virStorageVolCreateXML(pool, a->xml, a->flags),
			     a->pool.name, ret);
}

static bool create_xml_from(virConnectPtr conn, void *args, void *ret,
			    struct rpc_error *err)
{
	dv_storage_vol_create_xml_from_args *a = args;
	g_autoptr(virStoragePool) pool = dv_wire_pool_get(conn, &a->pool);
	g_autoptr(virStorageVol) clone = NULL;

	if (!pool)
		return false;
	clone = dv_wire_vol_get(conn, &a->clonevol);
	return clone &&
	       found(virStorageVolCreateXMLFrom(pool, a->xml, clone, a->flags),
		     a->pool.name, ret);
}

static bool vol_delete(virConnectPtr conn, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_storage_vol_flags_args *a = args;
	g_autoptr(virStorageVol) vol = dv_wire_vol_get(conn, &a->vol);

	return vol && virStorageVolDelete(vol, a->flags) == 0;
}

static bool vol_wipe(virConnectPtr conn, void *args, void *ret,
		     struct rpc_error *err)
{
	dv_storage_vol_flags_args *a = args;
	g_autoptr(virStorageVol) vol = dv_wire_vol_get(conn, &a->vol);

	return vol && virStorageVolWipe(vol, a->flags) == 0;
}

static bool vol_wipe_pattern(virConnectPtr conn, void *args, void *ret,
			     struct rpc_error *err)
{
	dv_storage_vol_wipe_pattern_args *a = args;
	g_autoptr(virStorageVol) vol = dv_wire_vol_get(conn, &a->vol);

	return vol && virStorageVolWipePattern(vol, a->algorithm,
					       a->flags) == 0;
}

static bool vol_resize(virConnectPtr conn, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_storage_vol_resize_args *a = args;
	g_autoptr(virStorageVol) vol = dv_wire_vol_get(conn, &a->vol);

	return vol && virStorageVolResize(vol, a->capacity, a->flags) == 0;
}

/* ---- information -------------------------------------------------------- */

static bool get_info(virConnectPtr conn, void *args, void *ret,
		     struct rpc_error *err)
{
	dv_storage_vol_only_args *a = args;
	dv_storage_vol_get_info_ret *r = ret;
	g_autoptr(virStorageVol) vol = dv_wire_vol_get(conn, &a->vol);
	virStorageVolInfo info;

	if (!vol || virStorageVolGetInfo(vol, &info) < 0)
		return false;
	r->type = (char)info.type;
	r->capacity = info.capacity;
	r->allocation = info.allocation;
	return true;
}

static bool get_xml_desc(virConnectPtr conn, void *args, void *ret,
			 struct rpc_error *err)
{
	dv_storage_vol_flags_args *a = args;
	dv_string_ret *r = ret;
	g_autoptr(virStorageVol) vol = dv_wire_vol_get(conn, &a->vol);

	r->str = vol ? virStorageVolGetXMLDesc(vol, a->flags) : NULL;
	return r->str != NULL;
}

static bool get_path(virConnectPtr conn, void *args, void *ret,
		     struct rpc_error *err)
{
	dv_storage_vol_only_args *a = args;
	dv_string_ret *r = ret;
	g_autoptr(virStorageVol) vol = dv_wire_vol_get(conn, &a->vol);

	r->str = vol ? virStorageVolGetPath(vol) : NULL;
	return r->str != NULL;
}

static const struct dv_delegate_proc vol_procs[] = {
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_LOOKUP_BY_NAME, lookup_by_name,
			 dv_storage_vol_lookup_by_name_args, dv_storage_vol_ret,
			 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_LOOKUP_BY_KEY, lookup_by_key,
			 dv_storage_vol_lookup_by_key_args, dv_storage_vol_ret,
			 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_LOOKUP_BY_PATH, lookup_by_path,
			 dv_storage_vol_lookup_by_path_args, dv_storage_vol_ret,
			 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_CREATE_XML, create_xml,
			 dv_storage_vol_create_xml_args, dv_storage_vol_ret,
			 RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_CREATE_XML_FROM, create_xml_from,
			 dv_storage_vol_create_xml_from_args,
			 dv_storage_vol_ret, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_DELETE, vol_delete,
			 dv_storage_vol_flags_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_WIPE, vol_wipe,
			 dv_storage_vol_flags_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_WIPE_PATTERN, vol_wipe_pattern,
			 dv_storage_vol_wipe_pattern_args, rpc_void,
			 RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_RESIZE, vol_resize,
			 dv_storage_vol_resize_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_GET_INFO, get_info,
			 dv_storage_vol_only_args, dv_storage_vol_get_info_ret,
			 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_GET_XML_DESC, get_xml_desc,
			 dv_storage_vol_flags_args, dv_string_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_STORAGE_VOL_GET_PATH, get_path,
			 dv_storage_vol_only_args, dv_string_ret, 0),
};

void dv_storage_vol_procs_register(void)
{
	dv_delegate_register(DV_DELEGATE_STORAGE, vol_procs,
			     G_N_ELEMENTS(vol_procs));
}
