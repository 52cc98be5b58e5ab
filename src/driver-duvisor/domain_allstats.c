// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virConnectGetAllDomainStats and virDomainListGetStats (virsh domstats,
 * monitoring exporters, nova): one record of typed parameters per domain,
 * with libvirt's field names, for the groups
 *
 *   state      state.state, state.reason
 *   cpu-total  cpu.time, cpu.user, cpu.system (the VMM process, ns)
 *   balloon    balloon.current, balloon.maximum (KiB); running: the
 *              guest's figures as virDomainMemoryStats has them, rss
 *   vcpu       vcpu.current, vcpu.maximum; running: vcpu.N.state,
 *              vcpu.N.time
 *   interface  running: net.count, net.N.name (the tap), net.N.rx.bytes...
 *   block      block.count, block.N.name, block.N.path, the sizes
 *              (allocation, capacity, physical); running and attached:
 *              block.N.rd.reqs, rd.bytes, rd.times, wr.*, fl.reqs, fl.times
 *
 * Inactive domains get what needs no VMM.  A group that fails for one
 * domain (its VMM is just starting, a file is gone) leaves its fields out
 * rather than failing the whole call, as libvirt does.
 */
#include <libvirt/libvirt.h>
#include <stddef.h>

#include "daemon_log.h"
#include "domain_lifecycle.h"
#include "domain_memory.h"
#include "domain_net.h"
#include "domain_procs.h"
#include "domain_stats.h"
#include "netdev_tap.h"
#include "typed_params.h"

#define SUPPORTED_GROUPS (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | \
			  VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU |   \
			  VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK)

/* The domain filters, equal to VIR_CONNECT_LIST_DOMAINS_*'s first eight. */
#define FILTER_FLAGS (VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE |              \
		      VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE |            \
		      VIR_CONNECT_GET_ALL_DOMAINS_STATS_PERSISTENT |          \
		      VIR_CONNECT_GET_ALL_DOMAINS_STATS_TRANSIENT |           \
		      VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING |             \
		      VIR_CONNECT_GET_ALL_DOMAINS_STATS_PAUSED |              \
		      VIR_CONNECT_GET_ALL_DOMAINS_STATS_SHUTOFF |             \
		      VIR_CONNECT_GET_ALL_DOMAINS_STATS_OTHER)
/* Nothing to wait for, no backing chains: accepted and without effect. */
#define KNOWN_FLAGS (FILTER_FLAGS | VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT | \
		     VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING |               \
		     VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS)

G_STATIC_ASSERT((unsigned int)VIR_CONNECT_GET_ALL_DOMAINS_STATS_OTHER ==
		(unsigned int)VIR_CONNECT_LIST_DOMAINS_OTHER);

static void group_failed(struct dv_domain *dom, const char *group,
			 const GError *gerr)
{
	DV_DEBUG("domain '%s': no %s statistics: %s", dv_domain_name(dom),
		 group, gerr ? gerr->message : "unknown error");
}

static void state_stats(struct dv_domain *dom, struct dv_typed_params *tp)
{
	dv_typed_params_int(tp, dom->state, "state.state");
	dv_typed_params_int(tp, dom->reason, "state.reason");
}

static void cpu_stats(struct dv_domain *dom, struct dv_typed_params *tp)
{
	g_autoptr(GError) gerr = NULL;
	struct dv_proc_stat st;
	pid_t pid;

	if (!dv_domain_is_active(dom))
		return;
	if (!dv_domain_vmm_stat(dom, &pid, &st, &gerr)) {
		group_failed(dom, "cpu", gerr);
		return;
	}
	dv_typed_params_ullong(tp, dv_proc_ticks_to_ns(st.utime + st.stime),
			       "cpu.time");
	dv_typed_params_ullong(tp, dv_proc_ticks_to_ns(st.utime), "cpu.user");
	dv_typed_params_ullong(tp, dv_proc_ticks_to_ns(st.stime),
			       "cpu.system");
}

static void balloon_stats(struct dv_domain *dom, struct dv_typed_params *tp)
{
	struct dv_memory_stat stats[DV_MEMORY_STATS_COUNT];
	uint64_t start_time;
	const char *pty;
	int64_t pid;
	bool starting;
	unsigned int n;

	if (!dv_domain_vmm_identity(dom, &pid, &start_time, &pty, &starting)) {
		dv_typed_params_ullong(tp, dom->def->current_memory_kib,
				       "balloon.current");
		dv_typed_params_ullong(tp, dom->def->memory_kib,
				       "balloon.maximum");
		return;
	}
	n = dv_domain_memory_stats_collect(dom, pid, stats);
	/* stats[0] is the balloon's size: balloon.current comes first. */
	dv_typed_params_ullong(tp, stats[0].val, "balloon.%s", stats[0].field);
	dv_typed_params_ullong(tp, dom->def->memory_kib, "balloon.maximum");
	for (unsigned int i = 1; i < n; i++)
		dv_typed_params_ullong(tp, stats[i].val, "balloon.%s",
				       stats[i].field);
}

static void vcpu_stats(struct dv_domain *dom, struct dv_typed_params *tp)
{
	g_autoptr(GArray) threads = NULL;
	g_autoptr(GError) gerr = NULL;
	pid_t pid;

	dv_typed_params_uint(tp, dom->def->vcpus_current, "vcpu.current");
	dv_typed_params_uint(tp, dom->def->vcpus, "vcpu.maximum");
	if (!dv_domain_is_active(dom))
		return;
	threads = dv_domain_vcpu_threads(dom, &pid, &gerr);
	if (!threads) {
		group_failed(dom, "vcpu", gerr);
		return;
	}
	for (guint i = 0; i < threads->len; i++) {
		const struct dv_vcpu_thread *t =
			&g_array_index(threads, struct dv_vcpu_thread, i);

		dv_typed_params_int(tp, VIR_VCPU_RUNNING, "vcpu.%u.state", i);
		dv_typed_params_ullong(tp, dv_proc_ticks_to_ns(t->stat.utime +
							       t->stat.stime),
				       "vcpu.%u.time", i);
	}
}

static const struct {
	const char *name;
	size_t offset;
} net_fields[] = {
	{ "rx.bytes", offsetof(struct dv_tap_stats, rx_bytes) },
	{ "rx.pkts", offsetof(struct dv_tap_stats, rx_packets) },
	{ "rx.errs", offsetof(struct dv_tap_stats, rx_errs) },
	{ "rx.drop", offsetof(struct dv_tap_stats, rx_drop) },
	{ "tx.bytes", offsetof(struct dv_tap_stats, tx_bytes) },
	{ "tx.pkts", offsetof(struct dv_tap_stats, tx_packets) },
	{ "tx.errs", offsetof(struct dv_tap_stats, tx_errs) },
	{ "tx.drop", offsetof(struct dv_tap_stats, tx_drop) },
};

static void net_stats(struct dv_domain *dom, struct dv_typed_params *tp)
{
	GPtrArray *nics = dv_domain_nics(dom);
	guint count = 0;

	if (!nics)
		return;
	for (guint i = 0; i < nics->len; i++) {
		const struct dv_nic *nic = g_ptr_array_index(nics, i);

		count += nic && nic->tap;
	}
	dv_typed_params_uint(tp, count, "net.count");
	count = 0;
	for (guint i = 0; i < nics->len; i++) {
		const struct dv_nic *nic = g_ptr_array_index(nics, i);
		g_autoptr(GError) gerr = NULL;
		struct dv_tap_stats st;
		guint n;

		if (!nic || !nic->tap)
			continue;
		n = count++;
		dv_typed_params_string(tp, nic->tap, "net.%u.name", n);
		if (!dv_tap_stats(nic->tap, &st, &gerr)) {
			group_failed(dom, "interface", gerr);
			continue;
		}
		for (guint f = 0; f < G_N_ELEMENTS(net_fields); f++)
			dv_typed_params_ullong(tp, (uint64_t)G_STRUCT_MEMBER(
						       int64_t, &st,
						       net_fields[f].offset),
					       "net.%u.%s", n,
					       net_fields[f].name);
	}
}

static void disk_counters(struct dv_typed_params *tp, guint n,
			  const struct dv_disk_stats *st)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{ "rd.reqs", offsetof(struct dv_disk_stats, rd_reqs) },
		{ "rd.bytes", offsetof(struct dv_disk_stats, rd_bytes) },
		{ "rd.times", offsetof(struct dv_disk_stats, rd_ns) },
		{ "wr.reqs", offsetof(struct dv_disk_stats, wr_reqs) },
		{ "wr.bytes", offsetof(struct dv_disk_stats, wr_bytes) },
		{ "wr.times", offsetof(struct dv_disk_stats, wr_ns) },
		{ "fl.reqs", offsetof(struct dv_disk_stats, fl_reqs) },
		{ "fl.times", offsetof(struct dv_disk_stats, fl_ns) },
	};

	for (guint f = 0; f < G_N_ELEMENTS(fields); f++)
		dv_typed_params_ullong(tp, G_STRUCT_MEMBER(uint64_t, st,
							   fields[f].offset),
				       "block.%u.%s", n, fields[f].name);
}

static void block_stats(struct dv_domain *dom, struct dv_typed_params *tp)
{
	const struct duvisor_domain_def *def = dom->def;
	g_autoptr(GHashTable) reply = NULL;
	g_autoptr(GError) gerr = NULL;

	dv_typed_params_uint(tp, def->disks->len, "block.count");
	if (dv_domain_is_active(dom) &&
	    !(reply = dv_domain_block_stats(dom, &gerr)))
		group_failed(dom, "block", gerr);
	for (guint i = 0; i < def->disks->len; i++) {
		const struct duvisor_disk_def *disk = duvisor_def_disk(def, i);
		g_autoptr(GError) info_err = NULL;
		struct dv_block_info info;
		struct dv_disk_stats st;

		dv_typed_params_string(tp, disk->target, "block.%u.name", i);
		if (disk->path)
			dv_typed_params_string(tp, disk->path,
					       "block.%u.path", i);
		if (reply &&
		    dv_disk_stats_parse(reply,
					duvisor_disk_vmm_index(def, disk), &st))
			disk_counters(tp, i, &st);
		if (!dv_disk_block_info(disk, &info, &info_err))
			continue;
		dv_typed_params_ullong(tp, info.allocation,
				       "block.%u.allocation", i);
		dv_typed_params_ullong(tp, info.capacity, "block.%u.capacity",
				       i);
		dv_typed_params_ullong(tp, info.physical, "block.%u.physical",
				       i);
	}
}

static const struct {
	unsigned int group;
	void (*collect)(struct dv_domain *dom, struct dv_typed_params *tp);
} groups[] = {
	{ VIR_DOMAIN_STATS_STATE, state_stats },
	{ VIR_DOMAIN_STATS_CPU_TOTAL, cpu_stats },
	{ VIR_DOMAIN_STATS_BALLOON, balloon_stats },
	{ VIR_DOMAIN_STATS_VCPU, vcpu_stats },
	{ VIR_DOMAIN_STATS_INTERFACE, net_stats },
	{ VIR_DOMAIN_STATS_BLOCK, block_stats },
};

/* The record of @dom; false when it has more than a record may hold. */
static bool fill_record(dv_domain_stats_record *rec, struct dv_domain *dom,
			unsigned int stats)
{
	struct dv_typed_params tp;
	bool fits;

	dv_typed_params_init(&tp, DV_GET_ALL_DOMAIN_STATS_MAX);
	for (guint i = 0; i < G_N_ELEMENTS(groups); i++)
		if (stats & groups[i].group)
			groups[i].collect(dom, &tp);
	fits = !tp.full;
	dv_procs_fill_domain(&rec->dom, dom);
	dv_typed_params_take(&tp, G_MAXUINT, &rec->params.params_val,
			     &rec->params.params_len);
	dv_typed_params_clear(&tp);
	return fits;
}

/* The domains a call names (by UUID; unknown ones are skipped, as
 * libvirt does), else all; each with a reference. */
static GPtrArray *selected_domains(const dv_connect_get_all_domain_stats_args *a)
{
	GPtrArray *doms;

	if (!a->doms.doms_len)
		return dv_domain_list();
	doms = g_ptr_array_new_with_free_func((GDestroyNotify)dv_domain_unref);
	for (u_int i = 0; i < a->doms.doms_len; i++) {
		struct dv_domain *dom = dv_domain_find_by_uuid(
			(const uint8_t *)a->doms.doms_val[i].uuid);

		if (dom)
			g_ptr_array_add(doms, dv_domain_ref(dom));
	}
	return doms;
}

static int get_all_domain_stats(struct rpc_call *call, void *args,
				void *ret, struct rpc_error *err)
{
	dv_connect_get_all_domain_stats_args *a = args;
	dv_connect_get_all_domain_stats_ret *r = ret;
	unsigned int stats = a->stats ? a->stats : SUPPORTED_GROUPS;
	g_autoptr(GPtrArray) doms = NULL;
	u_int n = 0;

	if (a->flags & ~(unsigned int)KNOWN_FLAGS) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG, "unsupported flags (0x%x)",
			      a->flags & ~(unsigned int)KNOWN_FLAGS);
		return RPC_HANDLER_ERROR;
	}
	if ((a->flags & VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS) &&
	    (stats & ~SUPPORTED_GROUPS)) {
		rpc_error_set(err, VIR_ERR_ARGUMENT_UNSUPPORTED,
			      "Stats types bits 0x%x are not supported by this "
			      "daemon", stats & ~SUPPORTED_GROUPS);
		return RPC_HANDLER_ERROR;
	}
	doms = selected_domains(a);
	r->retStats.retStats_val = g_new0(dv_domain_stats_record,
					  MAX(doms->len, 1));
	for (guint i = 0; i < doms->len && n < DV_DOMAIN_LIST_MAX; i++) {
		struct dv_domain *dom = g_ptr_array_index(doms, i);

		if (!dv_domain_list_match(dom, a->flags & FILTER_FLAGS))
			continue;
		/* A record too large for clients to take is an error of
		 * ours, not a reason to send what they would refuse. */
		if (!fill_record(&r->retStats.retStats_val[n++], dom, stats)) {
			r->retStats.retStats_len = n;
			rpc_error_set(err, VIR_ERR_INTERNAL_ERROR,
				      "the statistics of domain '%s' have more "
				      "than %d fields", dv_domain_name(dom),
				      DV_GET_ALL_DOMAIN_STATS_MAX);
			return RPC_HANDLER_ERROR;
		}
	}
	r->retStats.retStats_len = n;
	return RPC_HANDLER_OK;
}

static const struct rpc_proc_def procs[] = {
	RPC_PROC(DV_PROC_CONNECT_GET_ALL_DOMAIN_STATS, get_all_domain_stats,
		 dv_connect_get_all_domain_stats_args,
		 dv_connect_get_all_domain_stats_ret, 0),
};

void dv_domain_allstats_procs_register(void)
{
	rpc_dispatch_register(procs, G_N_ELEMENTS(procs));
}
