/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CPUID as each vCPU sees it: what the accelerator supports, with the
 * topology of this VM (one socket, ncpus cores, one thread each), the
 * vCPU's APIC id, the hypervisor bit, and features we do not virtualise
 * hidden.
 */
#ifndef DUVISOR_X86_CPUID_H
#define DUVISOR_X86_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#define CPUID_MAX_ENTRIES 256
#define CPUID_FLAG_SIGNIFICANT_INDEX 1u  /* same value as KVM's flag */

struct cpuid_entry {
	uint32_t function;
	uint32_t index;
	uint32_t flags;
	uint32_t eax, ebx, ecx, edx;
};

struct cpuid_topology {
	uint32_t ncpus;
	uint32_t cpu_index;   /* also the APIC id */
	bool tsc_deadline;    /* the accelerator emulates the TSC deadline timer */
};

/* Rewrites entries[0..n) in place for one vCPU. */
void cpuid_normalize(struct cpuid_entry *entries, uint32_t n,
		     const struct cpuid_topology *topo);

struct cpuid_entry *cpuid_find(struct cpuid_entry *entries, uint32_t n,
			       uint32_t function, uint32_t index);

#endif
