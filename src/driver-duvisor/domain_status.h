// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restart safety: what the daemon must know to take over running VMMs
 * after it restarts, kept in run_dir (state_dir) as one key file per
 * running domain, NAME.status: the VMM's pid and start time (which
 * together identify the process), the domain id, console pty, state and
 * reason, persistence, the definition it runs with, and the host side of
 * its interfaces (taps, bridges, network ports: domain_net.h).
 *
 * Written atomically when a VMM is started (marked "starting") and when
 * its machine runs, pauses, resumes or restarts; removed when the domain
 * stops.  When the daemon starts, dv_status_restore() re-adopts the VMMs
 * that still run, kills those that were still starting (nobody can tell
 * whether they came up) and drops the files of those that ended
 * meanwhile.
 */
#ifndef DV_DOMAIN_STATUS_H
#define DV_DOMAIN_STATUS_H

#include <stdbool.h>

#include "domain_obj.h"

void dv_status_init(const char *run_dir);
void dv_status_shutdown(void);

void dv_status_save(struct dv_domain *dom);
void dv_status_remove(struct dv_domain *dom);

/* After the persistent definitions are loaded; returns how many running
 * domains were taken over. */
unsigned int dv_status_restore(void);

#endif
