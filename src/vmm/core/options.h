/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device options of the command line: `key=value,key=value` lists. */
#ifndef DUVISOR_OPTIONS_H
#define DUVISOR_OPTIONS_H

#include <stddef.h>

#include "core/vmm.h"

/*
 * --disk path=FILE|fd=N[,readonly=on][,serial=S][,direct=on]. Returns 0,
 * or -EINVAL with the reason in err.
 */
int parse_disk_option(const char *spec, struct vmm_disk_config *disk,
		      char *err, size_t errlen);

/* --net tap=NAME|fd=N[,mac=52:54:00:12:34:56]. */
int parse_net_option(const char *spec, struct vmm_net_config *nic,
		     char *err, size_t errlen);

/* --balloon [stats-period=N][,deflate-on-oom=on][,target=SIZE]; an empty
 * spec is a balloon with all options at their defaults. SIZE as for
 * --memory (a bare number is MiB). */
int parse_balloon_option(const char *spec, struct vmm_balloon_config *b,
			 char *err, size_t errlen);
/* --vsock cid=N,uds=PATH|uds-fd=N[,uds=PATH][,dir-fd=N] (docs/vsock.md). */
int parse_vsock_option(const char *spec, struct vmm_vsock_config *vsock,
		       char *err, size_t errlen);

#endif
