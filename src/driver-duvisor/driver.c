// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The domain side of virtduvisord: loads the persistent definitions,
 * takes over the VMMs an earlier daemon left running, starts the autostart
 * domains and registers the domain procedures.
 *
 *   domain_obj      domain objects and the list
 *   domain_store    persistent definitions (config_dir)
 *   domain_status   running domains' state (run_dir = state_dir)
 *   domain_lifecycle  VMM processes, jobs, states, events
 *   process, monitor  one duvisor-vmm: spawning, output, control
 *   console         serial consoles over RPC streams
 *   domain_procs, domain_query_procs  the RPC handlers
 */
#include <libvirt/libvirt.h>

#include "console.h"
#include "daemon_log.h"
#include "domain_lifecycle.h"
#include "domain_memory.h"
#include "domain_obj.h"
#include "domain_procs.h"
#include "domain_status.h"
#include "domain_store.h"
#include "driver.h"
#include "rpc_server.h"
#include "storage_resolve.h"

static void on_client_closed(struct rpc_client *client, void *opaque)
{
	dv_lifecycle_client_closed(rpc_client_id(client));
}

static void add_loaded(struct duvisor_domain_def *def, bool autostart,
		       void *opaque)
{
	struct dv_domain *dom;

	if (dv_domain_find_by_uuid(def->uuid) ||
	    dv_domain_find_by_name(def->name)) {
		DV_WARN("skipping a second definition of '%s'", def->name);
		duvisor_domain_def_free(def);
		return;
	}
	dom = dv_domain_add(def, true);
	dom->autostart = autostart;
}

static void autostart_done(struct dv_domain *dom, const GError *error,
			   void *opaque)
{
	if (error)
		DV_ERROR("cannot autostart domain '%s': %s",
			 dv_domain_name(dom), error->message);
	else
		DV_INFO("domain '%s' autostarted", dv_domain_name(dom));
}

static void autostart_domains(void)
{
	g_autoptr(GPtrArray) all = dv_domain_list();

	for (guint i = 0; i < all->len; i++) {
		struct dv_domain *dom = g_ptr_array_index(all, i);
		g_autoptr(GError) err = NULL;

		if (!dom->autostart || dv_domain_is_active(dom))
			continue;
		if (!dv_domain_start(dom, 0, 0, autostart_done, NULL, &err))
			DV_ERROR("cannot autostart domain '%s': %s",
				 dv_domain_name(dom), err->message);
	}
}

bool duvisor_driver_init(const struct daemon_config *cfg,
			 struct rpc_server *srv, GError **error)
{
	unsigned int n, running;

	dv_domains_init();
	dv_store_init(cfg->config_dir);
	dv_status_init(cfg->state_dir);
	dv_lifecycle_init(cfg);
	duvisor_set_volume_resolver(dv_resolve_volume);
	dv_domain_procs_register();
	dv_domain_query_procs_register();
	dv_domain_memory_procs_register();
	dv_domain_ifaddr_procs_register();
	dv_domain_stats_procs_register();
	dv_domain_allstats_procs_register();
	rpc_server_add_close_hook(srv, on_client_closed, NULL);

	n = dv_store_load(add_loaded, NULL);
	running = dv_status_restore();
	DV_INFO("%u defined domain(s) in %s, %u running domain(s) taken over",
		n, cfg->config_dir, running);
	autostart_domains();
	return true;
}

struct reload_counts {
	unsigned int added, changed;
};

static void reload_loaded(struct duvisor_domain_def *def, bool autostart,
			  void *opaque)
{
	struct reload_counts *n = opaque;
	struct dv_domain *dom = dv_domain_find_by_uuid(def->uuid);
	bool was_persistent;

	if (dom != dv_domain_find_by_name(def->name)) {
		DV_WARN("not reloading the definition of '%s': another domain "
			"has its name or UUID", def->name);
		duvisor_domain_def_free(def);
		return;
	}
	if (!dom) {
		dom = dv_domain_add(def, true);
		dom->autostart = autostart;
		DV_INFO("domain '%s' defined (reload)", dv_domain_name(dom));
		dv_domain_event(dom, VIR_DOMAIN_EVENT_DEFINED,
				VIR_DOMAIN_EVENT_DEFINED_ADDED);
		n->added++;
		return;
	}
	dom->autostart = autostart;
	if (dom->persistent &&
	    duvisor_domain_def_equal(dv_domain_persistent_def(dom), def)) {
		duvisor_domain_def_free(def);
		return;
	}
	was_persistent = dv_domain_set_persistent_def(dom, def);
	DV_INFO("domain '%s': definition reloaded%s", dv_domain_name(dom),
		dv_domain_is_active(dom) ? " (for its next start)" : "");
	dv_domain_event(dom, VIR_DOMAIN_EVENT_DEFINED,
			was_persistent ? VIR_DOMAIN_EVENT_DEFINED_UPDATED
				       : VIR_DOMAIN_EVENT_DEFINED_ADDED);
	n->changed++;
}

void duvisor_driver_reload(void)
{
	struct reload_counts n = { 0 };
	unsigned int total = dv_store_load(reload_loaded, &n);

	DV_INFO("%u domain definition(s) read again: %u new, %u changed",
		total, n.added, n.changed);
}

void duvisor_driver_shutdown(void)
{
	dv_console_shutdown();
	dv_lifecycle_shutdown();
	dv_domains_shutdown();
	dv_status_shutdown();
	dv_store_shutdown();
}

bool duvisor_driver_has_active_domains(void)
{
	return dv_domain_count(true) > 0;
}
