// SPDX-License-Identifier: GPL-2.0-or-later
/* The host's data for NODE_GET_INFO and GET_HOSTNAME. */
#ifndef DV_NODE_INFO_H
#define DV_NODE_INFO_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct node_info {
	char model[32];		/* uname machine, e.g. "x86_64" */
	uint64_t memory_kib;
	int cpus;		/* online CPUs */
	int mhz;		/* 0 when unknown */
	int nodes;
	int sockets;		/* per node */
	int cores;		/* per socket */
	int threads;		/* per core */
};

/* Reads the live host. */
bool node_info_get(struct node_info *ni, GError **error);
/* Same, with /sys and /proc at other places (for tests). */
bool node_info_read(const char *sysfs, const char *procfs,
		    struct node_info *ni, GError **error);

/* Parses a kernel CPU list ("0-3,8,10-11"); NULL when malformed or when a
 * CPU number reaches max. */
GArray *node_parse_cpulist(const char *s, unsigned int max);

/* The contents of file @name in @dir; NULL when unreadable.  g_free. */
char *node_read_text(const char *dir, const char *name);

/* The host name, fully qualified when the resolver knows it. */
char *node_hostname(void);

#endif
