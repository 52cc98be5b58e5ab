// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Serial consoles (DOMAIN_OPEN_CONSOLE): the pty of a running VMM relayed
 * both ways over an RPC stream, in raw mode, with flow control (the pty is
 * not read while the client's output queue is full).
 *
 * One session per domain: another open fails unless it has
 * VIR_DOMAIN_CONSOLE_FORCE, which ends the earlier session.
 */
#ifndef DV_CONSOLE_H
#define DV_CONSOLE_H

#include <glib.h>
#include <stdbool.h>

#include "domain_obj.h"
#include "rpc_dispatch.h"

/* Opens a session on @pty for @dom from the handler of @call; errors in
 * DV_DRIVER_ERROR (domain_lifecycle.h). */
bool dv_console_open(struct dv_domain *dom, const char *pty,
		     struct rpc_call *call, unsigned int flags,
		     GError **error);
/* The domain's VMM went away (or restarted): its sessions end (end of
 * data for the clients). */
void dv_console_close_domain(struct dv_domain *dom);
/* Daemon exit: ends every session. */
void dv_console_shutdown(void);

#endif
