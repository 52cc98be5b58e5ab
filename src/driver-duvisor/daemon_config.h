// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtduvisord's settings: defaults (system or session daemon), then the
 * configuration file, then the command line.
 *
 * The file has lines "key = value" ("#" starts a comment); values are
 * "quoted strings" or integers:
 *
 *   unix_sock_dir = "/run/libvirt"     # both sockets' directory
 *   unix_sock_rw_path = "/run/libvirt/virtduvisord-sock"
 *   unix_sock_ro_path = "/run/libvirt/virtduvisord-sock-ro"  # "" = none
 *   unix_sock_group = "libvirt"        # group of the sockets
 *   unix_sock_rw_perms = "0600"
 *   unix_sock_ro_perms = "0666"
 *   state_dir = "/run/libvirt/duvisor"   # running domains (run_dir)
 *   config_dir = "/etc/libvirt/duvisor"  # persistent domain definitions
 *   log_dir = "/var/log/libvirt/duvisor" # one log per domain
 *   vmm_path = "/usr/bin/duvisor-vmm"
 *   vmm_user = "duvisor-vmm"           # name or number (system default:
 *   vmm_group = "duvisor-vmm"          # duvisor-vmm when that user exists)
 *   vmm_sandbox = 1                    # duvisor-vmm --sandbox on (0: off)
 *   log_level = "info"                 # error, warning, info, debug or
 *                                      # libvirt's 4 (error) .. 1 (debug)
 *   log_outputs = "3:journald 1:file:/var/log/libvirt/virtduvisord.log"
 *                                      # daemon_log.h; "": journal or stderr
 *   max_clients = 1024
 *   max_client_requests = 16
 *   hypervisor_version = "0.1.0"       # what GET_VERSION reports
 *   storage_uri = "storage:///system"  # libvirt's storage driver ("": none)
 *   network_uri = "network:///system"  # libvirt's network driver ("": none)
 */
#ifndef DV_DAEMON_CONFIG_H
#define DV_DAEMON_CONFIG_H

#define DEFAULT_VMM_USER "duvisor-vmm"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define DV_SOCK_NAME "virtduvisord-sock"
#define DV_SOCK_RO_NAME "virtduvisord-sock-ro"

struct daemon_config {
	bool session;		/* duvisor:///session, else /system */
	char *config_file;	/* the file read, or NULL */
	char *rw_socket;
	char *ro_socket;	/* NULL: no read-only socket */
	char *sock_group;	/* NULL: keep the daemon's group */
	unsigned int rw_perms;
	unsigned int ro_perms;
	char *state_dir;	/* run_dir: state of running domains */
	char *config_dir;	/* NAME.xml per persistent domain, autostart/ */
	char *log_dir;		/* NAME.log per domain: the VMM's output */
	char *vmm_path;
	uid_t vmm_uid;		/* (uid_t)-1 when not set */
	gid_t vmm_gid;		/* (gid_t)-1 when not set */
	bool vmm_sandbox;	/* --sandbox on (default) */
	int log_level;		/* enum dv_log_level */
	char *log_outputs;	/* daemon_log.h's syntax; NULL: the default */
	unsigned int timeout;	/* seconds idle before exiting, 0: never */
	unsigned int max_clients;
	unsigned int max_client_requests;
	uint64_t hypervisor_version;	/* major * 1000000 + minor * 1000 + micro */
	bool show_version;
	/* libvirt's drivers that serve the storage pool and network
	 * procedures (delegate.h); NULL: those answer VIR_ERR_NO_SUPPORT. */
	char *storage_uri;
	char *network_uri;
};

/* Defaults of a system (root) or session daemon. */
void daemon_config_defaults(struct daemon_config *cfg, bool session);
/* Applies the text of a configuration file; origin names it in errors. */
bool daemon_config_parse(struct daemon_config *cfg, const char *text,
			 const char *origin, GError **error);
/* Everything: command line (argv is consumed), file, defaults. */
bool daemon_config_load(struct daemon_config *cfg, int *argc, char ***argv,
			GError **error);
void daemon_config_clear(struct daemon_config *cfg);

/*
 * A reload: takes from @next the settings a running daemon can change (log
 * level and outputs, client limits, VMM binary and user, hypervisor
 * version, the file's name) and leaves the others; returns the names of
 * those that differ and need a restart ("" when none), e.g.
 * "log_dir, unix_sock_group".
 */
char *daemon_config_apply_runtime(struct daemon_config *cfg,
				  const struct daemon_config *next);

/* "1.2.3" -> 1002003; false when malformed. */
bool daemon_config_parse_version(const char *s, uint64_t *out);

#endif
