// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Persistent domain definitions in the configuration directory
 * (config_dir, default /etc/libvirt/duvisor):
 *
 *   NAME.xml              the inactive definition (secure format, 0600)
 *   autostart/NAME.xml    a symbolic link to it: start with the daemon
 *
 * Every file is replaced atomically (a temporary file in the same
 * directory, fsync, rename, fsync of the directory), so a crash leaves the
 * old or the new version, never a mix; stale temporary files are removed
 * when the definitions are loaded.  Directories are created on first use.
 */
#ifndef DV_DOMAIN_STORE_H
#define DV_DOMAIN_STORE_H

#include <glib.h>
#include <stdbool.h>

#include "domain_conf.h"

void dv_store_init(const char *config_dir);
void dv_store_shutdown(void);

/* Writes NAME.xml. */
bool dv_store_save(const struct duvisor_domain_def *def, GError **error);
/* Removes NAME.xml and its autostart link (absent files are fine). */
bool dv_store_delete(const char *name, GError **error);
bool dv_store_set_autostart(const char *name, bool autostart,
			    GError **error);
bool dv_store_get_autostart(const char *name);

/* Calls @fn for each valid definition (it takes @def); files that cannot
 * be read or parsed are logged and skipped.  Returns how many were
 * loaded. */
typedef void (*dv_store_load_fn)(struct duvisor_domain_def *def,
				 bool autostart, void *opaque);
unsigned int dv_store_load(dv_store_load_fn fn, void *opaque);

/*
 * Writes @len bytes of @data to @path atomically (see above), creating the
 * parent directory (0755) when needed.  @mode: the file's permissions.
 * Errors are in G_FILE_ERROR.
 */
bool dv_write_file_atomic(const char *path, const void *data, size_t len,
			  int mode, GError **error);
/* Removes stale temporary files of dv_write_file_atomic() in @dir. */
void dv_remove_stale_temp_files(const char *dir);

#endif
