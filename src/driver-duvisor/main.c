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

#include "conn_procs.h"
#include "daemon_config.h"
#include "delegate.h"
#include "daemon_log.h"
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
	const struct rpc_server_limits limits = {
		.max_clients = d->cfg.max_clients,
		.max_client_requests = d->cfg.max_client_requests,
		.max_queued_bytes = MAX_QUEUED_BYTES,
	};
	g_autoptr(GError) err = NULL;
	guint sig_ids[3];
	guint idle_id = 0;

	/* Before anything else: a signal must never find the default action
	 * once a socket exists. */
	d->loop = g_main_loop_new(NULL, FALSE);
	sig_ids[0] = g_unix_signal_add(SIGTERM, on_quit_signal, d);
	sig_ids[1] = g_unix_signal_add(SIGINT, on_quit_signal, d);
	sig_ids[2] = g_unix_signal_add(SIGHUP, on_quit_signal, d);
	if (g_mkdir_with_parents(d->cfg.state_dir, 0755) < 0) {
		DV_ERROR("cannot create %s: %s", d->cfg.state_dir,
			 g_strerror(errno));
		d->exit_status = EXIT_FAILURE;
		goto out_loop;
	}
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
	struct daemon d = { 0 };
	g_autoptr(GError) err = NULL;
	int status;

	signal(SIGPIPE, SIG_IGN);
	if (!daemon_config_load(&d.cfg, &argc, &argv, &err)) {
		fprintf(stderr, "virtduvisord: %s\n", err->message);
		daemon_config_clear(&d.cfg);
		return EXIT_FAILURE;
	}
	if (d.cfg.show_version) {
		printf("virtduvisord (DuVisor) %s\n", DUVISOR_VERSION);
		daemon_config_clear(&d.cfg);
		return EXIT_SUCCESS;
	}
	dv_log_set_level(d.cfg.log_level);
	if (d.cfg.config_file)
		DV_DEBUG("read %s", d.cfg.config_file);
	status = run(&d);
	daemon_config_clear(&d.cfg);
	return status;
}
