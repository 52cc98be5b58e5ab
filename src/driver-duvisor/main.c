// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtduvisord: DuVisor's libvirt daemon.  Serves libvirt's RPC protocol on
 * unix sockets so that unmodified libvirt clients (virsh, python-libvirt,
 * virt-manager...) manage DuVisor VMs at duvisor:///system.
 */
#include <errno.h>
#include <glib-unix.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_procs.h"
#include "daemon_config.h"
#include "delegate.h"
#include "daemon_log.h"
#include "domain_obj.h"
#include "driver.h"
#include "events.h"
#include "rpc_dispatch.h"
#include "rpc_server.h"
#include "systemd_activation.h"

#ifndef DUVISOR_VERSION
#define DUVISOR_VERSION "0.0.0"
#endif

/* Bytes queued to a client before we stop reading its calls. */
#define MAX_QUEUED_BYTES (8u * 1024 * 1024)

struct daemon {
	char **argv;		/* the command line, for reloads */
	struct daemon_config cfg;
	struct rpc_server *srv;
	GMainLoop *loop;
	gint64 idle_since;	/* 0: busy */
	int exit_status;
};

static gboolean on_quit_signal(gpointer data)
{
	struct daemon *d = data;

	DV_INFO("shutting down");
	g_main_loop_quit(d->loop);
	return G_SOURCE_CONTINUE;
}

/* The settings of the command line over those of the file. */
static bool load_config(struct daemon *d, struct daemon_config *cfg,
			GError **error)
{
	/* Parsing takes arguments out of the array it gets: a copy of the
	 * pointers, the strings stay d->argv's. */
	int argc = (int)g_strv_length(d->argv);
	g_autofree char **argv = g_new(char *, argc + 1);

	memcpy(argv, d->argv, (argc + 1) * sizeof(char *));

	return daemon_config_load(cfg, &argc, &argv, error);
}

static struct dv_log_outputs *open_log_outputs(const struct daemon_config *cfg,
					       GError **error)
{
	g_autoptr(dv_log_outputs) outs =
		dv_log_outputs_parse(cfg->log_outputs, error);

	if (!outs || !dv_log_outputs_open(outs, error))
		return NULL;
	return g_steal_pointer(&outs);
}

static struct rpc_server_limits limits_of(const struct daemon_config *cfg)
{
	return (struct rpc_server_limits){
		.max_clients = cfg->max_clients,
		.max_client_requests = cfg->max_client_requests,
		.max_queued_bytes = MAX_QUEUED_BYTES,
	};
}

static void notify_reload_done(const char *status)
{
	g_autofree char *state = g_strdup_printf("READY=1\nSTATUS=%s",
						 status);

	dv_systemd_notify(state);
}

/*
 * SIGHUP (systemctl reload): the configuration file again, with the
 * command line's settings over it, then the persistent domain
 * definitions.  Clients and running domains are left alone.  A file
 * with errors changes nothing.
 */
static void reload(struct daemon *d)
{
	g_autofree char *state = g_strdup_printf(
		"RELOADING=1\nMONOTONIC_USEC=%" G_GINT64_FORMAT
		"\nSTATUS=Reloading", g_get_monotonic_time());
	struct daemon_config next = { 0 };
	g_autoptr(dv_log_outputs) outs = NULL;
	g_autoptr(GError) err = NULL;
	g_autofree char *fixed = NULL, *where = NULL, *msg = NULL;
	g_autofree char *outputs = NULL;
	struct rpc_server_limits limits;

	dv_systemd_notify(state);
	DV_INFO("reloading on SIGHUP");
	if (!load_config(d, &next, &err) ||
	    !(outs = open_log_outputs(&next, &err))) {
		DV_ERROR("reload refused, the configuration in effect stays: "
			 "%s", err->message);
		msg = g_strdup_printf("Reload refused: %s", err->message);
		notify_reload_done(msg);
		daemon_config_clear(&next);
		return;
	}
	fixed = daemon_config_apply_runtime(&d->cfg, &next);
	daemon_config_clear(&next);
	dv_log_set_level(d->cfg.log_level);
	outputs = dv_log_outputs_describe(outs);
	dv_log_use_outputs(g_steal_pointer(&outs));
	limits = limits_of(&d->cfg);
	rpc_server_set_limits(d->srv, &limits);
	if (*fixed)
		DV_WARN("changed settings kept until the daemon restarts: %s",
			fixed);
	duvisor_driver_reload();
	where = d->cfg.config_file ? g_strdup(d->cfg.config_file)
				   : g_strdup("the defaults (no file)");
	DV_INFO("configuration reloaded from %s (log level %s, to %s)", where,
		dv_log_level_name(d->cfg.log_level), outputs);
	msg = g_strdup_printf("Configuration reloaded from %s", where);
	notify_reload_done(msg);
}

static gboolean on_reload_signal(gpointer data)
{
	reload(data);
	return G_SOURCE_CONTINUE;
}

/* Gives the journal the UUIDs of the domains messages name. */
static bool domain_uuid(const char *name, char uuid[37])
{
	struct dv_domain *dom = dv_domain_find_by_name(name);

	if (!dom)
		return false;
	duvisor_uuid_format(dv_domain_uuid(dom), uuid);
	return true;
}

static gboolean on_idle_check(gpointer data)
{
	struct daemon *d = data;
	gint64 now = g_get_monotonic_time();

	if (rpc_server_client_count(d->srv) > 0 ||
	    duvisor_driver_has_active_domains()) {
		d->idle_since = 0;
		return G_SOURCE_CONTINUE;
	}
	if (!d->idle_since)
		d->idle_since = now;
	if (now - d->idle_since >= (gint64)d->cfg.timeout * G_USEC_PER_SEC) {
		DV_INFO("idle for %u s, exiting", d->cfg.timeout);
		g_main_loop_quit(d->loop);
	}
	return G_SOURCE_CONTINUE;
}

static bool start_listening(struct daemon *d, GError **error)
{
	const struct daemon_config *cfg = &d->cfg;
	bool have_rw, have_ro;
	gid_t gid = (gid_t)-1;

	if (cfg->sock_group) {
		struct group *gr = getgrnam(cfg->sock_group);

		if (gr)
			gid = gr->gr_gid;
		else
			gid = (gid_t)g_ascii_strtoull(cfg->sock_group, NULL, 10);
	}
	if (!dv_systemd_adopt_sockets(d->srv, cfg, &have_rw, &have_ro, error))
		return false;
	if (!have_rw &&
	    !rpc_server_listen(d->srv, cfg->rw_socket, cfg->rw_perms, gid,
			       false, error))
		return false;
	if (cfg->ro_socket && !have_ro &&
	    !rpc_server_listen(d->srv, cfg->ro_socket, cfg->ro_perms, gid,
			       true, error))
		return false;
	return true;
}

static int run(struct daemon *d)
{
	const struct rpc_server_limits limits = limits_of(&d->cfg);
	g_autoptr(GError) err = NULL;
	guint sig_ids[3];
	guint idle_id = 0;

	/* Before anything else: a signal must never find the default action
	 * once a socket exists. */
	d->loop = g_main_loop_new(NULL, FALSE);
	sig_ids[0] = g_unix_signal_add(SIGTERM, on_quit_signal, d);
	sig_ids[1] = g_unix_signal_add(SIGINT, on_quit_signal, d);
	sig_ids[2] = g_unix_signal_add(SIGHUP, on_reload_signal, d);
	if (g_mkdir_with_parents(d->cfg.state_dir, 0755) < 0) {
		DV_ERROR("cannot create %s: %s", d->cfg.state_dir,
			 g_strerror(errno));
		d->exit_status = EXIT_FAILURE;
		goto out_loop;
	}
	dv_log_set_uuid_lookup(domain_uuid);
	rpc_dispatch_init();
	conn_procs_register(&d->cfg);
	dv_delegate_init(&d->cfg);
	d->srv = rpc_server_new(&limits, rpc_dispatch_packet, NULL);
	duvisor_events_init(d->srv);
	if (!duvisor_driver_init(&d->cfg, d->srv, &err)) {
		DV_ERROR("%s", err->message);
		d->exit_status = EXIT_FAILURE;
		goto out;
	}
	if (!start_listening(d, &err)) {
		DV_ERROR("%s", err->message);
		d->exit_status = EXIT_FAILURE;
		goto out_driver;
	}

	if (d->cfg.timeout)
		idle_id = g_timeout_add_seconds(1, on_idle_check, d);
	if (!d->cfg.session && geteuid() == 0 && d->cfg.vmm_uid == (uid_t)-1)
		DV_WARN("VMMs run as root: no user %s (the package creates it) "
			"and no vmm_user in the configuration",
			DEFAULT_VMM_USER);
	DV_INFO("DuVisor %s serving duvisor://%s", DUVISOR_VERSION,
		d->cfg.session ? "/session" : "/system");
	dv_systemd_notify("READY=1");
	g_main_loop_run(d->loop);
	dv_systemd_notify("STOPPING=1");
	if (idle_id)
		g_source_remove(idle_id);

out_driver:
	duvisor_driver_shutdown();
out:
	dv_delegate_shutdown();
	rpc_server_free(d->srv);
	rpc_dispatch_shutdown();
out_loop:
	for (size_t i = 0; i < G_N_ELEMENTS(sig_ids); i++)
		g_source_remove(sig_ids[i]);
	g_main_loop_unref(d->loop);
	return d->exit_status;
}

int main(int argc, char **argv)
{
	struct daemon d = { .argv = g_strdupv(argv) };
	struct dv_log_outputs *outs = NULL;
	g_autoptr(GError) err = NULL;
	int status = EXIT_FAILURE;

	signal(SIGPIPE, SIG_IGN);
	if (!load_config(&d, &d.cfg, &err)) {
		fprintf(stderr, "virtduvisord: %s\n", err->message);
		goto out;
	}
	if (d.cfg.show_version) {
		printf("virtduvisord (DuVisor) %s\n", DUVISOR_VERSION);
		status = EXIT_SUCCESS;
		goto out;
	}
	outs = open_log_outputs(&d.cfg, &err);
	if (!outs) {
		fprintf(stderr, "virtduvisord: %s\n", err->message);
		goto out;
	}
	dv_log_set_level(d.cfg.log_level);
	dv_log_use_outputs(outs);
	if (d.cfg.config_file)
		DV_DEBUG("read %s", d.cfg.config_file);
	if (dv_log_get_level() >= DV_LOG_DEBUG) {
		g_autofree char *to = dv_log_outputs_describe(outs);

		DV_DEBUG("logging to %s", to);
	}
	status = run(&d);
	dv_log_use_outputs(NULL);
out:
	daemon_config_clear(&d.cfg);
	g_strfreev(d.argv);
	return status;
}
