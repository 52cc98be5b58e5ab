// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * <disk type='volume'>: the path of a storage pool's volume, asked of
 * libvirt's storage driver over the delegate connection (delegate.h).
 */
#ifndef DV_STORAGE_RESOLVE_H
#define DV_STORAGE_RESOLVE_H

#include <glib.h>
#include <stdbool.h>

/* Sets *path (g_free it) to the volume's path.  Errors are in
 * DV_DRIVER_ERROR (domain_lifecycle.h) with libvirt's codes:
 * VIR_ERR_NO_STORAGE_POOL, VIR_ERR_NO_STORAGE_VOL, VIR_ERR_OPERATION_INVALID
 * (the pool is not active), VIR_ERR_NO_SUPPORT (libvirt unreachable).
 * It blocks for a few round trips to the local libvirt daemon. */
bool dv_resolve_volume(const char *pool, const char *vol, char **path,
		       GError **error);

#endif
