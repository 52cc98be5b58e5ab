// SPDX-License-Identifier: GPL-2.0-or-later
/* Unix socket addresses for long paths (see unix_address.h). */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "unix_address.h"

bool dv_unix_address_init(struct dv_unix_address *a, const char *path,
			  GError **error)
{
	g_autofree char *dir = NULL, *base = NULL;
	int n;

	memset(a, 0, sizeof(*a));
	a->addr.sun_family = AF_UNIX;
	a->dir_fd = -1;
	if (strlen(path) < sizeof(a->addr.sun_path)) {
		strcpy(a->addr.sun_path, path);
		return true;
	}
	dir = g_path_get_dirname(path);
	base = g_path_get_basename(path);
	a->dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (a->dir_fd < 0) {
		int err = errno;

		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
			    "cannot open the directory of socket %s: %s", path,
			    g_strerror(err));
		return false;
	}
	n = snprintf(a->addr.sun_path, sizeof(a->addr.sun_path),
		     "/proc/self/fd/%d/%s", a->dir_fd, base);
	if (n < 0 || (size_t)n >= sizeof(a->addr.sun_path)) {
		dv_unix_address_clear(a);
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
			    "socket name too long: %s", path);
		return false;
	}
	return true;
}

void dv_unix_address_clear(struct dv_unix_address *a)
{
	if (a->dir_fd >= 0)
		close(a->dir_fd);
	a->dir_fd = -1;
}
