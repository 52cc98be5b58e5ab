// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Running domains: starting their duvisor-vmm, stopping, pausing and
 * resetting them, following the VMM until it exits, and the states and
 * lifecycle events of every transition:
 *
 *   transition              event / detail                 state / reason
 *   start, create           STARTED / BOOTED               RUNNING / BOOTED
 *   start paused            + SUSPENDED / PAUSED           PAUSED / USER
 *   suspend / resume        SUSPENDED / PAUSED,            PAUSED / USER,
 *                           RESUMED / UNPAUSED             RUNNING / UNPAUSED
 *   destroy                 STOPPED / DESTROYED            SHUTOFF / DESTROYED
 *   guest power-off         SHUTDOWN / GUEST (HOST when    SHUTOFF / SHUTDOWN
 *   (VMM exit 0; 32 with    asked by shutdown), then
 *   on_reboot='destroy')    STOPPED / SHUTDOWN
 *   guest reboot, reset,    REBOOT event                   unchanged
 *   reboot
 *   crash (exit 33, 34,     STOPPED / CRASHED              SHUTOFF / CRASHED
 *   35, signals...)
 *   start failure (exit 1)  STOPPED / FAILED               SHUTOFF / FAILED
 *
 * A transient domain leaves the list when it stops.  Slow operations
 * (start, destroy, reset) finish through a callback.  Errors are GErrors
 * in DV_DRIVER_ERROR whose codes are virErrorNumbers.
 */
#ifndef DV_DOMAIN_LIFECYCLE_H
#define DV_DOMAIN_LIFECYCLE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon_config.h"
#include "domain_obj.h"
#include "monitor.h"

#define DV_DRIVER_ERROR (dv_driver_error_quark())
GQuark dv_driver_error_quark(void);

void dv_lifecycle_init(const struct daemon_config *cfg);
/* Daemon exit: forgets the VMMs, which keep running (their state stays in
 * run_dir for the next daemon). */
void dv_lifecycle_shutdown(void);

/* @error is NULL on success. */
typedef void (*dv_done_fn)(struct dv_domain *dom, const GError *error,
			   void *opaque);

/* virDomainCreateFlags: START_PAUSED, AUTODESTROY (with @client, the
 * connection whose closing destroys it), BYPASS_CACHE, FORCE_BOOT,
 * VALIDATE.  false: failed at once, @done is not called. */
bool dv_domain_start(struct dv_domain *dom, unsigned int flags,
		     uint64_t client, dv_done_fn done, void *opaque,
		     GError **error);
/* virDomainDestroyFlagsValues: GRACEFUL (SIGQUIT instead of SIGKILL). */
bool dv_domain_destroy(struct dv_domain *dom, unsigned int flags,
		       dv_done_fn done, void *opaque, GError **error);
/* The ACPI power button; returns at once. */
bool dv_domain_shutdown(struct dv_domain *dom, GError **error);
/* Power button, then a new VMM once the guest has powered off. */
bool dv_domain_reboot(struct dv_domain *dom, GError **error);
/* A new VMM at once (hard reset), same id; paused stays paused. */
bool dv_domain_reset(struct dv_domain *dom, dv_done_fn done, void *opaque,
		     GError **error);
bool dv_domain_suspend(struct dv_domain *dom, GError **error);
bool dv_domain_resume(struct dv_domain *dom, GError **error);

/* The control channel of a domain that runs (or is paused) and is not
 * starting or restarting; NULL with @error otherwise. */
struct dv_monitor *dv_domain_monitor(struct dv_domain *dom, GError **error);

/* A connection went away: its AUTODESTROY domains are destroyed. */
void dv_lifecycle_client_closed(uint64_t client);

/* The console pty of an active domain (NULL when none). */
const char *dv_domain_console_pty(struct dv_domain *dom);
/* CPU time used by the VMM, ns (0 when inactive). */
uint64_t dv_domain_cpu_time(struct dv_domain *dom);
/* The domain's log file; g_free. */
char *dv_domain_log_path(const struct dv_domain *dom);

/* The running VMM's identity (for domain_status.c); false when inactive.
 * *starting: the machine does not run yet (start or restart). */
bool dv_domain_vmm_identity(struct dv_domain *dom, int64_t *pid,
			    uint64_t *start_time, const char **pty,
			    bool *starting);

/* The host side of an active domain's interfaces (struct dv_nic *,
 * domain_net.h), NULL when inactive. */
GPtrArray *dv_domain_nics(struct dv_domain *dom);

/* Sends a lifecycle event about @dom (its current id). */
void dv_domain_event(struct dv_domain *dom, int event, int detail);

/* Re-adopts the running VMM described in run_dir for @dom (inactive so
 * far; domain_status.c read it) with its interfaces @nics (taken).  true
 * when it is running again; else the VMM is gone and so are the
 * interfaces' network ports. */
bool dv_domain_adopt(struct dv_domain *dom, int id, int64_t pid,
		     uint64_t start_time, const char *pty, int state,
		     int reason, GPtrArray *nics);

#endif
