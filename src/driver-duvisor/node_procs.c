// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Host procedures beyond NODE_GET_INFO: CPU map, CPU and memory
 * statistics, free memory per cell, SMBIOS data (node_stats.h reads them).
 * Management tools call these at start-up (nova needs the CPU map) and
 * for their host views (virsh nodecpumap, nodecpustats, nodememstats,
 * freecell, sysinfo).
 */
#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include <string.h>

#include "node_procs.h"
#include "node_stats.h"
#include "rpc_dispatch.h"

#define SYSFS "/sys"
#define PROCFS "/proc"

/* Unreadable host files are our failure; a CPU or cell that does not
 * exist is the caller's. */
static int host_error(struct rpc_error *err, const GError *e)
{
	rpc_error_set(err, g_error_matches(e, G_IO_ERROR,
					   G_IO_ERROR_INVALID_ARGUMENT) ?
		      VIR_ERR_INVALID_ARG : VIR_ERR_OPERATION_FAILED,
		      "%s", e->message);
	return RPC_HANDLER_ERROR;
}

static bool no_flags(unsigned int flags, struct rpc_error *err)
{
	if (!flags)
		return true;
	rpc_error_set(err, VIR_ERR_INVALID_ARG, "unsupported flags (0x%x)",
		      flags);
	return false;
}

static int node_get_cpu_map(struct rpc_call *call, void *args, void *ret,
			    struct rpc_error *err)
{
	dv_node_get_cpu_map_args *a = args;
	dv_node_get_cpu_map_ret *r = ret;
	g_autoptr(GArray) map = g_array_new(FALSE, TRUE, sizeof(guint8));
	g_autoptr(GError) e = NULL;
	unsigned int present, online;

	if (!no_flags(a->flags, err))
		return RPC_HANDLER_ERROR;
	if (!node_cpu_map(SYSFS, &present, map, &online, &e))
		return host_error(err, e);
	if (present > DV_CPUMAP_MAX * 8u) {
		rpc_error_set(err, VIR_ERR_INTERNAL_ERROR,
			      "the host's %u CPUs do not fit in a CPU map",
			      present);
		return RPC_HANDLER_ERROR;
	}
	if (a->need_map) {
		r->cpumap.cpumap_len = (present + 7) / 8;
		r->cpumap.cpumap_val = g_malloc0(MAX(r->cpumap.cpumap_len, 1));
		for (unsigned int i = 0; i < present; i++)
			if (g_array_index(map, guint8, i))
				r->cpumap.cpumap_val[i / 8] |=
					(char)(1u << (i % 8));
	}
	if (a->need_online)
		r->online = online;
	r->ret = (int)present;
	return RPC_HANDLER_OK;
}

/* A statistics reply: with nparams 0, only how many there are. */
static int stats_reply(dv_node_get_stats_ret *r, int nparams,
		       const char *const *names, const uint64_t *values,
		       int n, struct rpc_error *err)
{
	if (nparams < 0 || nparams > DV_NODE_STATS_MAX) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "invalid number of parameters %d", nparams);
		return RPC_HANDLER_ERROR;
	}
	r->nparams = n;
	if (!nparams)
		return RPC_HANDLER_OK;
	n = MIN(n, nparams);
	r->params.params_len = (u_int)n;
	r->params.params_val = g_new0(dv_node_stat_param, MAX(n, 1));
	for (int i = 0; i < n; i++) {
		r->params.params_val[i].field = g_strdup(names[i]);
		r->params.params_val[i].value = values[i];
	}
	return RPC_HANDLER_OK;
}

static int node_get_cpu_stats(struct rpc_call *call, void *args, void *ret,
			      struct rpc_error *err)
{
	static const char *const names[] = { VIR_NODE_CPU_STATS_KERNEL,
		VIR_NODE_CPU_STATS_USER, VIR_NODE_CPU_STATS_IDLE,
		VIR_NODE_CPU_STATS_IOWAIT };
	dv_node_get_cpu_stats_args *a = args;
	g_autoptr(GError) e = NULL;
	struct node_cpu_times t;
	uint64_t v[4];

	if (!no_flags(a->flags, err))
		return RPC_HANDLER_ERROR;
	if (a->cpuNum < VIR_NODE_CPU_STATS_ALL_CPUS) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG, "invalid CPU %d",
			      a->cpuNum);
		return RPC_HANDLER_ERROR;
	}
	if (!node_cpu_times(PROCFS, a->cpuNum, &t, &e))
		return host_error(err, e);
	v[0] = t.kernel, v[1] = t.user, v[2] = t.idle, v[3] = t.iowait;
	return stats_reply(ret, a->nparams, names, v, 4, err);
}

static int node_get_memory_stats(struct rpc_call *call, void *args,
				 void *ret, struct rpc_error *err)
{
	dv_node_get_memory_stats_args *a = args;
	g_autoptr(GError) e = NULL;
	const char *names[4];
	uint64_t values[4];
	int n;

	if (!no_flags(a->flags, err))
		return RPC_HANDLER_ERROR;
	if (a->cellNum < VIR_NODE_MEMORY_STATS_ALL_CELLS) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG, "invalid cell %d",
			      a->cellNum);
		return RPC_HANDLER_ERROR;
	}
	n = node_memory_stats(SYSFS, PROCFS, a->cellNum, names, values, &e);
	if (n < 0)
		return host_error(err, e);
	return stats_reply(ret, a->nparams, names, values, n, err);
}

static int node_get_cells_free_memory(struct rpc_call *call, void *args,
				      void *ret, struct rpc_error *err)
{
	dv_node_get_cells_free_memory_args *a = args;
	dv_node_get_cells_free_memory_ret *r = ret;
	g_autoptr(GError) e = NULL;
	g_autoptr(GArray) cells = NULL;

	if (a->maxcells < 0 || a->maxcells > DV_NODE_MAX_CELLS) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "invalid number of cells %d", a->maxcells);
		return RPC_HANDLER_ERROR;
	}
	cells = node_cells_free_memory(SYSFS, PROCFS, a->startCell,
				       a->maxcells, &e);
	if (!cells)
		return host_error(err, e);
	r->cells.cells_len = cells->len;
	r->cells.cells_val = g_new0(uint64_t, MAX(cells->len, 1));
	memcpy(r->cells.cells_val, cells->data, cells->len * sizeof(uint64_t));
	return RPC_HANDLER_OK;
}

static int node_get_free_memory(struct rpc_call *call, void *args, void *ret,
				struct rpc_error *err)
{
	dv_node_get_free_memory_ret *r = ret;
	g_autoptr(GError) e = NULL;
	uint64_t bytes;

	if (!node_free_memory(PROCFS, &bytes, &e))
		return host_error(err, e);
	r->freeMem = bytes;
	return RPC_HANDLER_OK;
}

static int get_sysinfo(struct rpc_call *call, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_connect_get_sysinfo_args *a = args;
	dv_connect_get_sysinfo_ret *r = ret;

	if (!no_flags(a->flags, err))
		return RPC_HANDLER_ERROR;
	r->sysinfo = node_sysinfo_xml(SYSFS);
	return RPC_HANDLER_OK;
}

static const struct rpc_proc_def node_procs[] = {
	RPC_PROC(DV_PROC_NODE_GET_CPU_MAP, node_get_cpu_map,
		 dv_node_get_cpu_map_args, dv_node_get_cpu_map_ret, 0),
	RPC_PROC(DV_PROC_NODE_GET_CPU_STATS, node_get_cpu_stats,
		 dv_node_get_cpu_stats_args, dv_node_get_stats_ret, 0),
	RPC_PROC(DV_PROC_NODE_GET_MEMORY_STATS, node_get_memory_stats,
		 dv_node_get_memory_stats_args, dv_node_get_stats_ret, 0),
	RPC_PROC(DV_PROC_NODE_GET_CELLS_FREE_MEMORY, node_get_cells_free_memory,
		 dv_node_get_cells_free_memory_args,
		 dv_node_get_cells_free_memory_ret, 0),
	RPC_PROC(DV_PROC_NODE_GET_FREE_MEMORY, node_get_free_memory, rpc_void,
		 dv_node_get_free_memory_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_GET_SYSINFO, get_sysinfo,
		 dv_connect_get_sysinfo_args, dv_connect_get_sysinfo_ret, 0),
};

void node_procs_register(void)
{
	rpc_dispatch_register(node_procs, G_N_ELEMENTS(node_procs));
}
