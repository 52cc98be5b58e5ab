// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain memory and the memory balloon, as libvirt's QEMU driver does it:
 *  - virDomainSetMemory*, SetMaxMemory: live, the VMM's balloon gets the
 *    new target; with AFFECT_CONFIG, <currentMemory> (or, with
 *    VIR_DOMAIN_MEM_MAXIMUM, <memory>) of the persistent definition;
 *  - virDomainSetMemoryStatsPeriod: the same for <stats period>;
 *  - virDomainMemoryStats: the balloon's size and the guest's own figures
 *    with libvirt's tags (VIR_DOMAIN_MEMORY_STAT_*), plus the VMM's RSS;
 *  - the guest's memory as its balloon driver changes it: <currentMemory>
 *    of the live definition follows (dominfo's "Used memory", the live
 *    XML) and clients get VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE.
 */
#ifndef DV_DOMAIN_MEMORY_H
#define DV_DOMAIN_MEMORY_H

#include <stdint.h>

#include "domain_obj.h"

void dv_domain_memory_procs_register(void);

/* One memory statistic: libvirt's tag (VIR_DOMAIN_MEMORY_STAT_*), its
 * name in virConnectGetAllDomainStats (balloon.FIELD), its value (KiB, or
 * a count). */
struct dv_memory_stat {
	int tag;
	const char *field;
	uint64_t val;
};
#define DV_MEMORY_STATS_COUNT 13

/* The memory statistics of active @dom whose VMM is @pid: the balloon's
 * size, the guest's own figures as far as it reported them, the VMM's
 * RSS.  Fills at most DV_MEMORY_STATS_COUNT; returns how many. */
unsigned int dv_domain_memory_stats_collect(struct dv_domain *dom,
					    int64_t pid,
					    struct dv_memory_stat *stats);

/* The VMM says the guest now has @actual bytes. */
void dv_domain_balloon_changed(struct dv_domain *dom, uint64_t actual);

#endif
