// SPDX-License-Identifier: GPL-2.0-or-later
/* Running under systemd: sockets it made for us, and readiness notes. */
#ifndef DUVISOR_SYSTEMD_ACTIVATION_H
#define DUVISOR_SYSTEMD_ACTIVATION_H

#include <stdbool.h>

#include <glib.h>

#include "daemon_config.h"
#include "rpc_server.h"

/* Serves the listening sockets of socket activation (LISTEN_FDS), matched
 * to the read-write and read-only socket by path, else by the name of
 * their .socket unit; others are closed with a warning.  Sets *@have_rw
 * and *@have_ro for those adopted.  False with @error on a bad socket. */
bool dv_systemd_adopt_sockets(struct rpc_server *srv,
			      const struct daemon_config *cfg, bool *have_rw,
			      bool *have_ro, GError **error);

/* sd_notify() when systemd watches us (Type=notify); else nothing. */
void dv_systemd_notify(const char *state);

#endif
