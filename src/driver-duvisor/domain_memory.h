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

/* The VMM says the guest now has @actual bytes. */
void dv_domain_balloon_changed(struct dv_domain *dom, uint64_t actual);

#endif
