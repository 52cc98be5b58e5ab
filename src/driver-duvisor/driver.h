// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The domain side of virtduvisord (driver.c): registers the domain
 * procedures with rpc_dispatch_register() and owns the domains.
 */
#ifndef DV_DRIVER_H
#define DV_DRIVER_H

#include <glib.h>
#include <stdbool.h>

#include "daemon_config.h"
#include "rpc_server.h"

/* Called once the server exists, before it listens. */
bool duvisor_driver_init(const struct daemon_config *cfg,
			 struct rpc_server *srv, GError **error);
/* A reload (SIGHUP): reads the persistent definitions again.  New ones
 * are added, changed ones replace the old (of a running domain: for its
 * next start), autostart follows the links; domains whose file went away
 * stay.  Running domains are left alone. */
void duvisor_driver_reload(void);
/* Called when the daemon exits, before the server is freed. */
void duvisor_driver_shutdown(void);
/* Keeps a daemon started with --timeout alive. */
bool duvisor_driver_has_active_domains(void);

#endif
