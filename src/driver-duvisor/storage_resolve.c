// SPDX-License-Identifier: GPL-2.0-or-later
/* Volume paths for <disk type='volume'> (see storage_resolve.h). */
#include "delegate.h"
#include "domain_lifecycle.h"
#include "storage_resolve.h"

static bool lookup_path(virConnectPtr conn, const char *pool_name,
			const char *vol_name, char **path,
			struct rpc_error *err)
{
	g_autoptr(virStoragePool) pool = virStoragePoolLookupByName(conn,
								    pool_name);
	g_autoptr(virStorageVol) vol = NULL;
	char *p;

	if (!pool)
		return false;
	/* An inactive pool has no volumes: say so rather than "no volume". */
	if (virStoragePoolIsActive(pool) == 0) {
		rpc_error_set_domain(err, VIR_FROM_STORAGE,
				     VIR_ERR_OPERATION_INVALID,
				     "storage pool '%s' is not active",
				     pool_name);
		return false;
	}
	vol = virStorageVolLookupByName(pool, vol_name);
	if (!vol)
		return false;
	p = virStorageVolGetPath(vol);
	if (!p)
		return false;
	*path = g_strdup(p);
	free(p);
	return true;
}

bool dv_resolve_volume(const char *pool, const char *vol, char **path,
		       GError **error)
{
	struct rpc_error err = { 0 };
	bool ok = false;

	/* A connection found broken (libvirtd restarted) is replaced once. */
	for (int attempt = 0; attempt < 2; attempt++) {
		g_autoptr(virConnect) conn = NULL;

		rpc_error_clear(&err);
		conn = dv_delegate_connect(DV_DELEGATE_STORAGE, &err);
		if (!conn)
			break;
		dv_delegate_forget_error();
		ok = lookup_path(conn, pool, vol, path, &err);
		if (ok || rpc_error_is_set(&err)) {
			dv_delegate_forget_error();
			break;
		}
		if (!dv_delegate_failed(DV_DELEGATE_STORAGE, conn, &err))
			break;
	}
	if (!ok)
		g_set_error(error, DV_DRIVER_ERROR, err.code,
			    "cannot use volume '%s' of storage pool '%s': %s",
			    vol, pool, err.message ? err.message : "unknown error");
	rpc_error_clear(&err);
	return ok;
}
