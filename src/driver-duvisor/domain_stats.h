// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Statistics of domains, shared by the per-domain procedures
 * (domain_stats_procs.c: block stats and info, vCPUs, CPU time) and
 * virConnectGetAllDomainStats (domain_allstats.c):
 *  - disk request counters: the VMM's block-stats, whose disk.N is the
 *    disk's place among the VMM's --disk options;
 *  - disk sizes: from the disk's file or block device, active or not;
 *  - CPU time: the VMM process's and each vCPU thread's, from /proc (the
 *    thread ids are the VMM's status vcpu_tids, checked to be its threads).
 * The VMM is not trusted: what it says is parsed with bounds, and a thread
 * id that is not one of its threads is treated as unknown.
 */
#ifndef DV_DOMAIN_STATS_H
#define DV_DOMAIN_STATS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "domain_obj.h"
#include "monitor.h"

struct dv_disk_stats {
	uint64_t rd_reqs, rd_bytes, rd_ns;
	uint64_t wr_reqs, wr_bytes, wr_ns;
	uint64_t fl_reqs, fl_ns;
	uint64_t errors;
};

/* The VMM's block-stats reply of active @dom; NULL with @error. */
GHashTable *dv_domain_block_stats(struct dv_domain *dom, GError **error);
/* The counters of the VMM's disk @index in @reply; false when the reply
 * has no such disk or a counter is missing or not a number. */
bool dv_disk_stats_parse(GHashTable *reply, int index,
			 struct dv_disk_stats *out);

struct dv_block_info {
	uint64_t capacity;	/* bytes the guest sees */
	uint64_t allocation;	/* bytes the host stores (a file's blocks) */
	uint64_t physical;	/* the file's or device's size */
};
/* Sizes of @disk's file or block device; false with @error
 * (DV_DRIVER_ERROR, a virErrorNumber). */
bool dv_disk_block_info(const struct duvisor_disk_def *disk,
			struct dv_block_info *info, GError **error);

/* A vCPU thread of the VMM: tid 0 when unknown, then no stat. */
struct dv_vcpu_thread {
	pid_t tid;
	struct dv_proc_stat stat;
};

/* "T0,T1,...": at most @max ids (pid_t); NULL when malformed. */
GArray *dv_vcpu_tids_parse(const char *list, guint max);
/* The vCPU threads of active @dom, in vCPU order (at most its <vcpu>),
 * and its VMM's pid; NULL with @error. */
GArray *dv_domain_vcpu_threads(struct dv_domain *dom, pid_t *pid,
			       GError **error);

/* The VMM process's /proc stat of active @dom; false with @error. */
bool dv_domain_vmm_stat(struct dv_domain *dom, pid_t *pid,
			struct dv_proc_stat *st, GError **error);

#endif
