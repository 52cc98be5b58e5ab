// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Everything a duvisor-vmm gets when it starts, prepared by the
 * privileged daemon: its argv and the files it inherits (/dev/kvm, the
 * kernel and initrd, disks, taps, the console pty or socket, logs, the
 * control socket, the vsock sockets and the start gate).  The VMM itself
 * opens no path, so it can run
 * as an unprivileged user inside its seccomp sandbox.
 */
#ifndef DV_LAUNCH_H
#define DV_LAUNCH_H

#include <glib.h>
#include <stdbool.h>

#include "daemon_config.h"
#include "domain_conf.h"

typedef struct dv_launch {
	GPtrArray *argv;	/* NULL-terminated */
	GArray *fds;		/* our descriptors to pass (int)... */
	GArray *targets;	/* ...and their numbers in the VMM (int) */
	/* The host side of its interfaces (struct dv_nic *, domain_net.h):
	 * the domain takes it once the VMM runs. */
	GPtrArray *nics;
	char *pty;		/* the console pty's path, or NULL */
	char *control_path;	/* the control socket the VMM listens on */
	/* Our end of --wait-fd: the VMM builds its machine once this is
	 * closed (after it was moved into its cgroup); -1 when taken. */
	int gate_fd;
} dv_launch;

/* Opens everything for starting domain @name (uuid @uuid) with @def.
 * Warnings about devices the VMM cannot give the guest go to @warnings.
 * Errors are in DUVISOR_CONF_ERROR (a virErrorNumber). */
bool dv_launch_prepare(struct dv_launch *l, const char *name,
		       const uint8_t uuid[16],
		       const struct duvisor_domain_def *def,
		       const struct daemon_config *cfg, GPtrArray *warnings,
		       GError **error);
/* Appends to the domain's log what the VMM starts with: its command
 * line, console and interfaces. */
void dv_launch_log(const dv_launch *l, const char *log_path);
/* Closes what is still open (the VMM has its copies by then) and
 * releases the network ports still in @l->nics. */
void dv_launch_clear(struct dv_launch *l);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(dv_launch, dv_launch_clear)

/* The control socket path of a domain; g_free. */
char *dv_launch_control_path(const struct daemon_config *cfg,
			     const uint8_t uuid[16]);
/* The directory of a domain's vsock sockets (docs/vsock.md); g_free. */
char *dv_launch_vsock_dir(const struct daemon_config *cfg,
			  const uint8_t uuid[16]);
/* Removes the sockets a VMM of @def listened on: a sandboxed VMM cannot
 * remove paths. */
void dv_launch_cleanup(const struct daemon_config *cfg, const uint8_t uuid[16],
		       const struct duvisor_domain_def *def);

#endif
