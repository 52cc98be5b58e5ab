// SPDX-License-Identifier: GPL-2.0-or-later
/* Domain memory and the memory balloon (see domain_memory.h). */
#include <libvirt/libvirt.h>
#include <string.h>

#include "daemon_log.h"
#include "domain_lifecycle.h"
#include "domain_memory.h"
#include "domain_procs.h"
#include "domain_status.h"
#include "domain_store.h"
#include "events.h"

static bool has_balloon(const struct duvisor_domain_def *def)
{
	return def->has_memballoon && def->memballoon_virtio;
}

/* libvirt's virDomainObjGetDefs(): AFFECT_CURRENT is the live domain
 * while it runs, else its configuration. */
static bool affected(struct dv_domain *dom, unsigned int flags, bool *live,
		     bool *config, struct rpc_error *err)
{
	*live = flags & VIR_DOMAIN_AFFECT_LIVE;
	*config = flags & VIR_DOMAIN_AFFECT_CONFIG;
	if (!*live && !*config)
		*(dv_domain_is_active(dom) ? live : config) = true;
	if (*live && !dv_domain_is_active(dom)) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "domain is not running");
		return false;
	}
	if (*config && !dom->persistent) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "transient domains do not have any persistent "
			      "config");
		return false;
	}
	return true;
}

static int fail_gerror(struct rpc_error *err, const GError *gerr)
{
	dv_procs_set_error(err, gerr);
	return RPC_HANDLER_ERROR;
}

/* A copy of the persistent definition to change, then commit(). */
static struct duvisor_domain_def *config_copy(struct dv_domain *dom,
					      struct rpc_error *err)
{
	g_autoptr(GError) gerr = NULL;
	struct duvisor_domain_def *def =
		duvisor_domain_def_copy(dv_domain_persistent_def(dom), &gerr);

	if (!def)
		dv_procs_set_error(err, gerr);
	return def;
}

/* Saves @def (taken) and makes it the persistent definition. */
static int commit(struct dv_domain *dom, struct duvisor_domain_def *def,
		  struct rpc_error *err)
{
	g_autoptr(duvisor_domain_def) owned = def;
	g_autoptr(GError) gerr = NULL;

	if (!dv_store_save(owned, &gerr))
		return fail_gerror(err, gerr);
	dv_domain_set_persistent_def(dom, g_steal_pointer(&owned));
	return RPC_HANDLER_OK;
}

/*
 * The running definition is about to change: until now a persistent
 * domain's configuration may have been that same definition, so it gets
 * a copy of its own (the one the next start uses).
 */
static void fork_live_def(struct dv_domain *dom)
{
	if (dom->persistent && !dom->newdef)
		dom->newdef = duvisor_domain_def_copy(dom->def, NULL);
}

/* ---- the balloon target and <memory> ---------------------------------- */

static int set_maximum(struct dv_domain *dom, uint64_t kib, bool live,
		       struct rpc_error *err)
{
	struct duvisor_domain_def *def;

	if (live) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "cannot resize the maximum memory on an active "
			      "domain");
		return RPC_HANDLER_ERROR;
	}
	def = config_copy(dom, err);
	if (!def)
		return RPC_HANDLER_ERROR;
	if (def->max_memory_kib && kib > def->max_memory_kib) {
		duvisor_domain_def_free(def);
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "cannot set initial memory size greater than the "
			      "maximum memory size");
		return RPC_HANDLER_ERROR;
	}
	def->memory_kib = kib;
	def->current_memory_kib = MIN(def->current_memory_kib, kib);
	return commit(dom, def, err);
}

static int set_memory(const dv_nonnull_domain *d, uint64_t kib,
		      unsigned int flags, struct rpc_error *err)
{
	const unsigned int known = VIR_DOMAIN_AFFECT_LIVE |
				   VIR_DOMAIN_AFFECT_CONFIG |
				   VIR_DOMAIN_MEM_MAXIMUM;
	g_autoptr(GError) gerr = NULL;
	struct duvisor_domain_def *def;
	struct dv_monitor *mon;
	uint64_t max = UINT64_MAX;
	struct dv_domain *dom;
	bool live, config;

	if (flags & ~known) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", flags & ~known);
		return RPC_HANDLER_ERROR;
	}
	if (!kib) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "memory must not be zero");
		return RPC_HANDLER_ERROR;
	}
	dom = dv_procs_get_domain(d, err);
	if (!dom || !affected(dom, flags, &live, &config, err))
		return RPC_HANDLER_ERROR;
	if (flags & VIR_DOMAIN_MEM_MAXIMUM)
		return set_maximum(dom, kib, live, err);
	if (live)
		max = dom->def->memory_kib;
	if (config)
		max = MIN(max, dv_domain_persistent_def(dom)->memory_kib);
	if (kib > max) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "cannot set memory higher than max memory");
		return RPC_HANDLER_ERROR;
	}
	if (live) {
		if (!has_balloon(dom->def)) {
			rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
				      "Unable to change memory of active "
				      "domain without the balloon device and "
				      "guest OS balloon driver");
			return RPC_HANDLER_ERROR;
		}
		/* <currentMemory> follows when the guest has got there. */
		mon = dv_domain_monitor(dom, &gerr);
		if (!mon || !dv_monitor_balloon_set_target(mon, kib * 1024,
							   &gerr))
			return fail_gerror(err, gerr);
		DV_INFO("domain '%s': balloon target %" G_GUINT64_FORMAT
			" KiB", dv_domain_name(dom), kib);
	}
	if (!config)
		return RPC_HANDLER_OK;
	def = config_copy(dom, err);
	if (!def)
		return RPC_HANDLER_ERROR;
	def->current_memory_kib = kib;
	return commit(dom, def, err);
}

static int domain_set_memory(struct rpc_call *call, void *args, void *ret,
			     struct rpc_error *err)
{
	dv_domain_set_memory_args *a = args;

	return set_memory(&a->dom, a->memory, VIR_DOMAIN_AFFECT_LIVE, err);
}

static int domain_set_max_memory(struct rpc_call *call, void *args,
				 void *ret, struct rpc_error *err)
{
	dv_domain_set_memory_args *a = args;

	return set_memory(&a->dom, a->memory, VIR_DOMAIN_MEM_MAXIMUM, err);
}

static int domain_set_memory_flags(struct rpc_call *call, void *args,
				   void *ret, struct rpc_error *err)
{
	dv_domain_set_memory_flags_args *a = args;

	return set_memory(&a->dom, a->memory, a->flags, err);
}

/* ---- statistics ------------------------------------------------------- */

static int domain_set_memory_stats_period(struct rpc_call *call, void *args,
					  void *ret, struct rpc_error *err)
{
	const unsigned int known = VIR_DOMAIN_AFFECT_LIVE |
				   VIR_DOMAIN_AFFECT_CONFIG;
	dv_domain_set_memory_stats_period_args *a = args;
	g_autoptr(GError) gerr = NULL;
	struct duvisor_domain_def *def;
	struct dv_monitor *mon;
	struct dv_domain *dom;
	bool live, config;

	if (a->flags & ~known) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", a->flags & ~known);
		return RPC_HANDLER_ERROR;
	}
	if (a->period < 0) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "invalid statistics period");
		return RPC_HANDLER_ERROR;
	}
	dom = dv_procs_get_domain(&a->dom, err);
	if (!dom || !affected(dom, a->flags, &live, &config, err))
		return RPC_HANDLER_ERROR;
	if ((live && !has_balloon(dom->def)) ||
	    (config && !has_balloon(dv_domain_persistent_def(dom)))) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "No memory balloon device configured, can not "
			      "set the collection period");
		return RPC_HANDLER_ERROR;
	}
	if (live) {
		mon = dv_domain_monitor(dom, &gerr);
		if (!mon || !dv_monitor_balloon_set_period(mon,
							   (unsigned)a->period,
							   &gerr))
			return fail_gerror(err, gerr);
		fork_live_def(dom);
		dom->def->balloon_stats_period = (unsigned)a->period;
		dv_status_save(dom);
	}
	if (!config)
		return RPC_HANDLER_OK;
	def = config_copy(dom, err);
	if (!def)
		return RPC_HANDLER_ERROR;
	def->balloon_stats_period = (unsigned)a->period;
	return commit(dom, def, err);
}

/* KiB of resident memory of process @pid; false when unknown. */
static bool process_rss_kib(int64_t pid, uint64_t *kib)
{
	g_autofree char *path = g_strdup_printf("/proc/%" G_GINT64_FORMAT
						"/status", pid);
	g_autofree char *text = NULL;
	const char *p;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return false;
	p = strstr(text, "\nVmRSS:");
	if (!p)
		return false;
	*kib = g_ascii_strtoull(p + strlen("\nVmRSS:"), NULL, 10);
	return true;
}

/* The VMM's balloon-stats keys in libvirt's order, with their names in
 * virConnectGetAllDomainStats (balloon.NAME); amounts of memory come in
 * bytes and go out in KiB. */
static const struct {
	const char *key;
	int tag;
	const char *field;
	unsigned int divisor;
} guest_stats[] = {
	{ "stat.swap_in", VIR_DOMAIN_MEMORY_STAT_SWAP_IN, "swap_in", 1024 },
	{ "stat.swap_out", VIR_DOMAIN_MEMORY_STAT_SWAP_OUT, "swap_out", 1024 },
	{ "stat.major_faults", VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT,
	  "major_fault", 1 },
	{ "stat.minor_faults", VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT,
	  "minor_fault", 1 },
	{ "stat.free_memory", VIR_DOMAIN_MEMORY_STAT_UNUSED, "unused", 1024 },
	{ "stat.total_memory", VIR_DOMAIN_MEMORY_STAT_AVAILABLE, "available",
	  1024 },
	{ "stat.available_memory", VIR_DOMAIN_MEMORY_STAT_USABLE, "usable",
	  1024 },
	{ "last_update", VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE, "last-update", 1 },
	{ "stat.disk_caches", VIR_DOMAIN_MEMORY_STAT_DISK_CACHES, "disk_caches",
	  1024 },
	{ "stat.hugetlb_allocations", VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC,
	  "hugetlb_pgalloc", 1 },
	{ "stat.hugetlb_failures", VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL,
	  "hugetlb_pgfail", 1 },
};

G_STATIC_ASSERT(G_N_ELEMENTS(guest_stats) + 2 == DV_MEMORY_STATS_COUNT);

/* A number the VMM sent (it is not trusted); false when it is none. */
static bool vmm_number(GHashTable *reply, const char *key, uint64_t *v)
{
	const char *s = reply ? g_hash_table_lookup(reply, key) : NULL;
	guint64 n;

	if (!s || !g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &n, NULL))
		return false;
	*v = n;
	return true;
}

/* The balloon's statistics, when the domain has one and its VMM answers
 * (not while it starts); NULL otherwise. */
static GHashTable *balloon_stats(struct dv_domain *dom)
{
	g_autoptr(GError) gerr = NULL;
	struct dv_monitor *mon;
	GHashTable *reply;

	if (!has_balloon(dom->def))
		return NULL;
	mon = dv_domain_monitor(dom, NULL);
	reply = mon ? dv_monitor_balloon_stats(mon, &gerr) : NULL;
	if (gerr)
		DV_DEBUG("domain '%s': no balloon statistics: %s",
			 dv_domain_name(dom), gerr->message);
	return reply;
}

unsigned int dv_domain_memory_stats_collect(struct dv_domain *dom,
					    int64_t pid,
					    struct dv_memory_stat *stats)
{
	g_autoptr(GHashTable) reply = balloon_stats(dom);
	unsigned int n = 0;
	uint64_t v;

	/* Without a balloon the guest has all of its <memory>. */
	stats[n].tag = VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON;
	stats[n].field = "current";
	stats[n++].val = has_balloon(dom->def) ? dom->def->current_memory_kib
					       : dom->def->memory_kib;
	if (vmm_number(reply, "actual", &v))
		stats[0].val = MIN(v / 1024, dom->def->memory_kib);
	for (guint i = 0; i < G_N_ELEMENTS(guest_stats); i++) {
		if (!vmm_number(reply, guest_stats[i].key, &v))
			continue;
		stats[n].tag = guest_stats[i].tag;
		stats[n].field = guest_stats[i].field;
		stats[n++].val = v / guest_stats[i].divisor;
	}
	if (process_rss_kib(pid, &v)) {
		stats[n].tag = VIR_DOMAIN_MEMORY_STAT_RSS;
		stats[n].field = "rss";
		stats[n++].val = v;
	}
	return n;
}

static int domain_memory_stats(struct rpc_call *call, void *args, void *ret,
			       struct rpc_error *err)
{
	dv_domain_memory_stats_args *a = args;
	dv_domain_memory_stats_ret *r = ret;
	struct dv_memory_stat stats[DV_MEMORY_STATS_COUNT];
	struct dv_domain *dom = dv_procs_get_domain(&a->dom, err);
	uint64_t start;
	const char *pty;
	int64_t pid;
	bool starting;
	u_int n;

	if (!dom)
		return RPC_HANDLER_ERROR;
	if (a->flags) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", a->flags);
		return RPC_HANDLER_ERROR;
	}
	if (a->maxStats > DV_DOMAIN_MEMORY_STATS_MAX) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "too many memory statistics asked for (%u)",
			      a->maxStats);
		return RPC_HANDLER_ERROR;
	}
	if (!dv_domain_vmm_identity(dom, &pid, &start, &pty, &starting)) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "domain '%s' is not running",
			      dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	n = MIN(dv_domain_memory_stats_collect(dom, pid, stats), a->maxStats);
	r->stats.stats_len = n;
	r->stats.stats_val = g_new0(dv_domain_memory_stat, MAX(n, 1));
	for (u_int i = 0; i < n; i++) {
		r->stats.stats_val[i].tag = stats[i].tag;
		r->stats.stats_val[i].val = stats[i].val;
	}
	return RPC_HANDLER_OK;
}

/* ---- the guest's side ------------------------------------------------- */

void dv_domain_balloon_changed(struct dv_domain *dom, uint64_t actual)
{
	/* The VMM's word: no guest has more than its <memory>. */
	uint64_t kib = MIN(actual / 1024, dom->def->memory_kib);

	if (!dv_domain_is_active(dom) || kib == dom->def->current_memory_kib)
		return;
	DV_DEBUG("domain '%s': the guest has %" G_GUINT64_FORMAT " KiB",
		 dv_domain_name(dom), kib);
	fork_live_def(dom);
	dom->def->current_memory_kib = kib;
	dv_status_save(dom);
	duvisor_events_balloon_change(dv_domain_name(dom), dv_domain_uuid(dom),
				      dom->id, kib);
}

static const struct rpc_proc_def procs[] = {
	RPC_PROC(DV_PROC_DOMAIN_SET_MEMORY, domain_set_memory,
		 dv_domain_set_memory_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_SET_MAX_MEMORY, domain_set_max_memory,
		 dv_domain_set_memory_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_SET_MEMORY_FLAGS, domain_set_memory_flags,
		 dv_domain_set_memory_flags_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_SET_MEMORY_STATS_PERIOD,
		 domain_set_memory_stats_period,
		 dv_domain_set_memory_stats_period_args, rpc_void,
		 RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_MEMORY_STATS, domain_memory_stats,
		 dv_domain_memory_stats_args, dv_domain_memory_stats_ret, 0),
};

void dv_domain_memory_procs_register(void)
{
	rpc_dispatch_register(procs, G_N_ELEMENTS(procs));
}
