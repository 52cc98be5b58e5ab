// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-domain statistics procedures, as libvirt's QEMU driver answers them:
 *  - virDomainBlockStats / BlockStatsFlags (domblkstat): a running disk's
 *    request counters from its VMM, the disk named by target or source;
 *  - virDomainGetBlockInfo (domblkinfo): sizes from the disk's file or
 *    block device, running or not;
 *  - virDomainGetVcpus / GetVcpuPinInfo (vcpuinfo, vcpupin): each vCPU
 *    thread's CPU time, last CPU and affinity;
 *  - virDomainGetCPUStats (cpu-stats): the VMM's CPU time in total; there
 *    is no per-host-CPU accounting of a process without cgroup v1.
 */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>

#include "domain_lifecycle.h"
#include "domain_procs.h"
#include "domain_stats.h"
#include "node_stats.h"
#include "typed_params.h"

/* More CPUs than Linux supports (NR_CPUS is at most 8192). */
#define AFFINITY_MAX_CPUS 16384

static int fail(struct rpc_error *err, const GError *gerr)
{
	dv_procs_set_error(err, gerr);
	return RPC_HANDLER_ERROR;
}

static bool check_active(struct dv_domain *dom, struct rpc_error *err)
{
	if (!dv_domain_is_active(dom))
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "domain '%s' is not running", dv_domain_name(dom));
	return dv_domain_is_active(dom);
}

static bool check_flags(unsigned int flags, unsigned int known,
			struct rpc_error *err)
{
	if (flags & ~known)
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", flags & ~known);
	return !(flags & ~known);
}

/* The disk of @def a call names, by target or source path. */
static const struct duvisor_disk_def *named_disk(
	const struct duvisor_domain_def *def, const char *name,
	struct rpc_error *err)
{
	const struct duvisor_disk_def *disk =
		duvisor_domain_def_find_disk(def, name);

	if (!disk)
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "invalid path: %s", name);
	return disk;
}

/* The request counters of disk @name of running @dom. */
static bool disk_counters(struct dv_domain *dom, const char *name,
			  struct dv_disk_stats *st, struct rpc_error *err)
{
	g_autoptr(GHashTable) reply = NULL;
	g_autoptr(GError) gerr = NULL;
	const struct duvisor_disk_def *disk;
	int index;

	if (!check_active(dom, err) ||
	    !(disk = named_disk(dom->def, name, err)))
		return false;
	index = duvisor_disk_vmm_index(dom->def, disk);
	if (index < 0) {
		rpc_error_set(err, VIR_ERR_OPERATION_UNSUPPORTED,
			      "disk '%s' is not attached to the guest (see the "
			      "domain's log)", disk->target);
		return false;
	}
	reply = dv_domain_block_stats(dom, &gerr);
	if (!reply) {
		dv_procs_set_error(err, gerr);
		return false;
	}
	if (!dv_disk_stats_parse(reply, index, st)) {
		rpc_error_set(err, VIR_ERR_OPERATION_FAILED,
			      "the VMM of domain '%s' gave no statistics for "
			      "disk '%s'", dv_domain_name(dom), disk->target);
		return false;
	}
	return true;
}

static int domain_block_stats(struct rpc_call *call, void *args, void *ret,
			      struct rpc_error *err)
{
	dv_domain_block_stats_args *a = args;
	dv_domain_block_stats_ret *r = ret;
	struct dv_disk_stats st;
	GET_DOMAIN(dv_domain_block_stats_args, err);

	if (!disk_counters(dom, a->path, &st, err))
		return RPC_HANDLER_ERROR;
	r->rd_req = (int64_t)st.rd_reqs;
	r->rd_bytes = (int64_t)st.rd_bytes;
	r->wr_req = (int64_t)st.wr_reqs;
	r->wr_bytes = (int64_t)st.wr_bytes;
	r->errs = (int64_t)st.errors;
	return RPC_HANDLER_OK;
}

/* virDomainBlockStatsFlags' fields: all "long long". */
static const struct {
	const char *field;
	size_t offset;
} block_fields[] = {
	{ VIR_DOMAIN_BLOCK_STATS_READ_REQ,
	  offsetof(struct dv_disk_stats, rd_reqs) },
	{ VIR_DOMAIN_BLOCK_STATS_READ_BYTES,
	  offsetof(struct dv_disk_stats, rd_bytes) },
	{ VIR_DOMAIN_BLOCK_STATS_READ_TOTAL_TIMES,
	  offsetof(struct dv_disk_stats, rd_ns) },
	{ VIR_DOMAIN_BLOCK_STATS_WRITE_REQ,
	  offsetof(struct dv_disk_stats, wr_reqs) },
	{ VIR_DOMAIN_BLOCK_STATS_WRITE_BYTES,
	  offsetof(struct dv_disk_stats, wr_bytes) },
	{ VIR_DOMAIN_BLOCK_STATS_WRITE_TOTAL_TIMES,
	  offsetof(struct dv_disk_stats, wr_ns) },
	{ VIR_DOMAIN_BLOCK_STATS_FLUSH_REQ,
	  offsetof(struct dv_disk_stats, fl_reqs) },
	{ VIR_DOMAIN_BLOCK_STATS_FLUSH_TOTAL_TIMES,
	  offsetof(struct dv_disk_stats, fl_ns) },
	{ VIR_DOMAIN_BLOCK_STATS_ERRS, offsetof(struct dv_disk_stats, errors) },
};

static int domain_block_stats_flags(struct rpc_call *call, void *args,
				    void *ret, struct rpc_error *err)
{
	dv_domain_block_stats_flags_args *a = args;
	dv_domain_block_stats_flags_ret *r = ret;
	struct dv_typed_params tp;
	struct dv_disk_stats st;
	GET_DOMAIN(dv_domain_block_stats_flags_args, err);

	if (!check_flags(a->flags, VIR_TYPED_PARAM_STRING_OKAY, err))
		return RPC_HANDLER_ERROR;
	if (a->nparams < 0 || a->nparams > DV_BLOCK_STATS_PARAMETERS_MAX) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "nparams must be 0 to %d, not %d",
			      DV_BLOCK_STATS_PARAMETERS_MAX, a->nparams);
		return RPC_HANDLER_ERROR;
	}
	if (!disk_counters(dom, a->path, &st, err))
		return RPC_HANDLER_ERROR;
	dv_typed_params_init(&tp, DV_BLOCK_STATS_PARAMETERS_MAX);
	for (guint i = 0; i < G_N_ELEMENTS(block_fields); i++)
		dv_typed_params_llong(&tp, (int64_t)G_STRUCT_MEMBER(
					      uint64_t, &st,
					      block_fields[i].offset),
				      "%s", block_fields[i].field);
	dv_typed_params_reply(&tp, a->nparams, &r->params.params_val,
			      &r->params.params_len, &r->nparams);
	dv_typed_params_clear(&tp);
	return RPC_HANDLER_OK;
}

static int domain_get_block_info(struct rpc_call *call, void *args,
				 void *ret, struct rpc_error *err)
{
	dv_domain_get_block_info_args *a = args;
	dv_domain_get_block_info_ret *r = ret;
	g_autoptr(GError) gerr = NULL;
	const struct duvisor_disk_def *disk;
	struct dv_block_info info;
	GET_DOMAIN(dv_domain_get_block_info_args, err);

	if (!check_flags(a->flags, 0, err) ||
	    !(disk = named_disk(dom->def, a->path, err)))
		return RPC_HANDLER_ERROR;
	if (!dv_disk_block_info(disk, &info, &gerr))
		return fail(err, gerr);
	r->capacity = info.capacity;
	r->allocation = info.allocation;
	r->physical = info.physical;
	return RPC_HANDLER_OK;
}

/* ---- vCPUs ---------------------------------------------------------- */

/* maps * maplen bytes of CPU maps, within the protocol's limits. */
static bool check_maps(int maps, int maplen, struct rpc_error *err)
{
	if (maps < 0 || maps > DV_VCPUINFO_MAX || maplen < 0 ||
	    (maps && maplen > DV_CPUMAPS_MAX / maps)) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "%d CPU maps of %d bytes are too many", maps,
			      maplen);
		return false;
	}
	return true;
}

/* Thread (or process) @tid's affinity into a map of @maplen bytes; false
 * when it cannot be read. */
static bool affinity_map(pid_t tid, guint8 *map, int maplen)
{
	int ncpus = (int)MIN((int64_t)maplen * 8, AFFINITY_MAX_CPUS);
	size_t size = CPU_ALLOC_SIZE(AFFINITY_MAX_CPUS);
	cpu_set_t *set = CPU_ALLOC(AFFINITY_MAX_CPUS);
	bool ok = set && sched_getaffinity(tid, size, set) == 0;

	for (int cpu = 0; ok && cpu < ncpus; cpu++)
		if (CPU_ISSET_S(cpu, size, set))
			map[cpu / 8] |= (guint8)(1u << (cpu % 8));
	CPU_FREE(set);
	return ok;
}

/* Every online host CPU: where an unpinned vCPU may run. */
static void online_map(guint8 *map, int maplen)
{
	g_autoptr(GArray) online = g_array_new(FALSE, TRUE, sizeof(guint8));
	unsigned int present, n;

	if (!node_cpu_map("/sys", &present, online, &n, NULL))
		return;
	for (guint cpu = 0; cpu < online->len && cpu < (guint)maplen * 8; cpu++)
		if (g_array_index(online, guint8, cpu))
			map[cpu / 8] |= (guint8)(1u << (cpu % 8));
}

static int domain_get_vcpus(struct rpc_call *call, void *args, void *ret,
			    struct rpc_error *err)
{
	dv_domain_get_vcpus_args *a = args;
	dv_domain_get_vcpus_ret *r = ret;
	g_autoptr(GArray) threads = NULL;
	g_autoptr(GError) gerr = NULL;
	guint8 *maps;
	pid_t pid;
	guint n;
	GET_DOMAIN(dv_domain_get_vcpus_args, err);

	if (!check_maps(a->maxinfo, a->maplen, err))
		return RPC_HANDLER_ERROR;
	if (!dv_domain_is_active(dom)) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "cannot list vcpu pinning for an inactive "
			      "domain");
		return RPC_HANDLER_ERROR;
	}
	threads = dv_domain_vcpu_threads(dom, &pid, &gerr);
	if (!threads)
		return fail(err, gerr);
	n = MIN(threads->len, (guint)a->maxinfo);
	r->info.info_len = n;
	r->info.info_val = g_new0(dv_vcpu_info, MAX(n, 1));
	r->cpumaps.cpumaps_len = (u_int)(a->maxinfo * a->maplen);
	maps = g_malloc0(MAX(r->cpumaps.cpumaps_len, 1));
	r->cpumaps.cpumaps_val = (char *)maps;
	for (guint i = 0; i < n; i++) {
		const struct dv_vcpu_thread *t =
			&g_array_index(threads, struct dv_vcpu_thread, i);
		dv_vcpu_info *info = &r->info.info_val[i];

		info->number = i;
		info->state = VIR_VCPU_RUNNING;
		info->cpu_time = dv_proc_ticks_to_ns(t->stat.utime +
						     t->stat.stime);
		info->cpu = t->tid ? t->stat.processor : -1;
		if (a->maplen)
			affinity_map(t->tid ? t->tid : pid,
				     maps + (size_t)i * (size_t)a->maplen,
				     a->maplen);
	}
	return RPC_HANDLER_OK;
}

static int domain_get_vcpu_pin_info(struct rpc_call *call, void *args,
				    void *ret, struct rpc_error *err)
{
	const unsigned int known = VIR_DOMAIN_AFFECT_LIVE |
				   VIR_DOMAIN_AFFECT_CONFIG;
	dv_domain_get_vcpu_pin_info_args *a = args;
	dv_domain_get_vcpu_pin_info_ret *r = ret;
	g_autoptr(GArray) threads = NULL;
	g_autoptr(GError) gerr = NULL;
	guint8 *maps;
	bool live;
	pid_t pid = 0;
	guint n;
	GET_DOMAIN(dv_domain_get_vcpu_pin_info_args, err);

	if (!check_flags(a->flags, known, err) ||
	    !check_maps(a->ncpumaps, a->maplen, err))
		return RPC_HANDLER_ERROR;
	if ((a->flags & known) == known || a->maplen < 1) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "one of live or config, and a map length");
		return RPC_HANDLER_ERROR;
	}
	live = (a->flags & VIR_DOMAIN_AFFECT_LIVE) ||
	       (!(a->flags & VIR_DOMAIN_AFFECT_CONFIG) &&
		dv_domain_is_active(dom));
	if (live && !check_active(dom, err))
		return RPC_HANDLER_ERROR;
	if (live && !(threads = dv_domain_vcpu_threads(dom, &pid, &gerr)))
		return fail(err, gerr);
	/* <vcpu cpuset> is not applied: every vCPU may run anywhere. */
	n = MIN((guint)a->ncpumaps,
		live ? dom->def->vcpus : dv_domain_persistent_def(dom)->vcpus);
	r->num = (int)n;
	r->cpumaps.cpumaps_len = (u_int)(a->ncpumaps * a->maplen);
	maps = g_malloc0(MAX(r->cpumaps.cpumaps_len, 1));
	r->cpumaps.cpumaps_val = (char *)maps;
	for (guint i = 0; i < n; i++) {
		guint8 *map = maps + (size_t)i * (size_t)a->maplen;
		pid_t tid = threads && i < threads->len ?
			    g_array_index(threads, struct dv_vcpu_thread,
					  i).tid : 0;

		if (!live || !affinity_map(tid ? tid : pid, map, a->maplen))
			online_map(map, a->maplen);
	}
	return RPC_HANDLER_OK;
}

/* ---- CPU time -------------------------------------------------------- */

static int domain_get_cpu_stats(struct rpc_call *call, void *args,
				void *ret, struct rpc_error *err)
{
	dv_domain_get_cpu_stats_args *a = args;
	dv_domain_get_cpu_stats_ret *r = ret;
	g_autoptr(GError) gerr = NULL;
	struct dv_typed_params tp;
	struct dv_proc_stat st;
	pid_t pid;
	GET_DOMAIN(dv_domain_get_cpu_stats_args, err);

	if (!check_flags(a->flags, VIR_TYPED_PARAM_STRING_OKAY, err))
		return RPC_HANDLER_ERROR;
	if (a->nparams > DV_CPU_STATS_MAX ||
	    a->ncpus > DV_DOMAIN_GET_CPU_STATS_NCPUS_MAX ||
	    (a->start_cpu == -1 && a->ncpus != 1) || a->start_cpu < -1) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "invalid statistics request: %u parameters of "
			      "%u CPUs from CPU %d", a->nparams, a->ncpus,
			      a->start_cpu);
		return RPC_HANDLER_ERROR;
	}
	if (!check_active(dom, err))
		return RPC_HANDLER_ERROR;
	if (a->start_cpu != -1) {
		rpc_error_set(err, VIR_ERR_NO_SUPPORT,
			      "per-CPU statistics are not available for "
			      "DuVisor domains (only the total, --total)");
		return RPC_HANDLER_ERROR;
	}
	if (!dv_domain_vmm_stat(dom, &pid, &st, &gerr))
		return fail(err, gerr);
	dv_typed_params_init(&tp, DV_CPU_STATS_MAX);
	dv_typed_params_ullong(&tp, dv_proc_ticks_to_ns(st.utime + st.stime),
			       "%s", VIR_DOMAIN_CPU_STATS_CPUTIME);
	dv_typed_params_ullong(&tp, dv_proc_ticks_to_ns(st.utime), "%s",
			       VIR_DOMAIN_CPU_STATS_USERTIME);
	dv_typed_params_ullong(&tp, dv_proc_ticks_to_ns(st.stime), "%s",
			       VIR_DOMAIN_CPU_STATS_SYSTEMTIME);
	dv_typed_params_reply(&tp, (int)a->nparams, &r->params.params_val,
			      &r->params.params_len, &r->nparams);
	dv_typed_params_clear(&tp);
	return RPC_HANDLER_OK;
}

static const struct rpc_proc_def procs[] = {
	RPC_PROC(DV_PROC_DOMAIN_BLOCK_STATS, domain_block_stats,
		 dv_domain_block_stats_args, dv_domain_block_stats_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_BLOCK_STATS_FLAGS, domain_block_stats_flags,
		 dv_domain_block_stats_flags_args,
		 dv_domain_block_stats_flags_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_BLOCK_INFO, domain_get_block_info,
		 dv_domain_get_block_info_args, dv_domain_get_block_info_ret,
		 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_VCPUS, domain_get_vcpus,
		 dv_domain_get_vcpus_args, dv_domain_get_vcpus_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_VCPU_PIN_INFO, domain_get_vcpu_pin_info,
		 dv_domain_get_vcpu_pin_info_args,
		 dv_domain_get_vcpu_pin_info_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_CPU_STATS, domain_get_cpu_stats,
		 dv_domain_get_cpu_stats_args, dv_domain_get_cpu_stats_ret, 0),
};

void dv_domain_stats_procs_register(void)
{
	rpc_dispatch_register(procs, G_N_ELEMENTS(procs));
}
