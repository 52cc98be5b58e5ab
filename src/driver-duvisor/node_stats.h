// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Host statistics and identity for the node procedures (node_procs.c):
 * CPU map, CPU times, memory per NUMA cell, SMBIOS data.  Each reader
 * takes the roots of sysfs and procfs ("/sys", "/proc" on the live host)
 * so tests can feed it other trees.  Errors are G_FILE_ERROR (unreadable
 * or malformed files) or G_IO_ERROR_INVALID_ARGUMENT (no such CPU or
 * cell).
 */
#ifndef DV_NODE_STATS_H
#define DV_NODE_STATS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* *present: CPUs the host can have (highest present id + 1); @online_map
 * (may be NULL) gets one guint8 per CPU, 1 when online; *online their
 * count. */
bool node_cpu_map(const char *sysfs, unsigned int *present,
		  GArray *online_map, unsigned int *online, GError **error);

/* Time spent since boot, in ns, by all CPUs (@cpu < 0) or CPU @cpu. */
struct node_cpu_times {
	uint64_t kernel;	/* system, irq and softirq */
	uint64_t user;		/* user and nice */
	uint64_t idle;
	uint64_t iowait;
};
bool node_cpu_times(const char *procfs, int cpu, struct node_cpu_times *t,
		    GError **error);

/* Memory in KiB of the host (@cell < 0) or of NUMA cell @cell: only the
 * fields its meminfo has ("total", "free", "buffers", "cached").  Returns
 * the number of fields set in @names/@values (4 entries each). */
int node_memory_stats(const char *sysfs, const char *procfs, int cell,
		      const char *names[4], uint64_t values[4],
		      GError **error);

/* Free memory in bytes of each cell from @start on, at most @max (a host
 * without NUMA information is cell 0). */
GArray *node_cells_free_memory(const char *sysfs, const char *procfs,
			       int start, int max, GError **error);
/* Free memory in bytes of the whole host. */
bool node_free_memory(const char *procfs, uint64_t *bytes, GError **error);

/* <sysinfo type='smbios'> from the firmware's DMI tables as the kernel
 * shows them (@sysfs/class/dmi/id): the entries it has, no others. */
char *node_sysinfo_xml(const char *sysfs);

#endif
