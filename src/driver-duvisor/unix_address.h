// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unix socket addresses for paths of any length: sun_path holds 107 bytes,
 * but a state directory (or a test's temporary one) may be deeper.  A
 * longer path is reached through its directory, opened, as
 * /proc/self/fd/N/NAME.
 */
#ifndef DV_UNIX_ADDRESS_H
#define DV_UNIX_ADDRESS_H

#include <glib.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

struct dv_unix_address {
	struct sockaddr_un addr;
	int dir_fd;		/* open while the address is used, or -1 */
};

bool dv_unix_address_init(struct dv_unix_address *a, const char *path,
			  GError **error);
void dv_unix_address_clear(struct dv_unix_address *a);

#endif
