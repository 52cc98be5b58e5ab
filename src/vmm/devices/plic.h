/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A RISC-V Platform-Level Interrupt Controller (the RISC-V PLIC
 * specification, v1.0.0): priorities, pending bits, per-context enables,
 * thresholds and claim/complete, with the interrupt gateway that keeps a
 * source from being pending again until its handler completes.
 *
 * Used where the accelerator has no in-kernel interrupt controller (KVM
 * RISC-V before AIA): each context's output is a hart's supervisor
 * external interrupt, raised and lowered through a callback.
 */
#ifndef DUVISOR_PLIC_H
#define DUVISOR_PLIC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"

#define PLIC_MAX_SOURCES  1024u
#define PLIC_MAX_CONTEXTS 512u

/* Register map offsets. */
#define PLIC_PRIORITY_BASE  0x000000u
#define PLIC_PENDING_BASE   0x001000u
#define PLIC_ENABLE_BASE    0x002000u
#define PLIC_ENABLE_STRIDE  0x80u
#define PLIC_CONTEXT_BASE   0x200000u
#define PLIC_CONTEXT_STRIDE 0x1000u
#define PLIC_CONTEXT_CLAIM  4u
#define PLIC_PRIORITY_MASK  7u     /* 3 priority bits */

struct plic_output {
	/* Context ctx's interrupt line changed; called with the PLIC's lock
	 * held, so it must not call back into the PLIC. */
	void (*set)(void *opaque, uint32_t ctx, bool level);
	void *opaque;
};

struct plic;

/* nsources counts source 0, which never interrupts. NULL if invalid. */
struct plic *plic_new(uint32_t nsources, uint32_t ncontexts,
		      const struct plic_output *out);
void plic_free(struct plic *p);

/* A level-triggered input (the UART): pending while high. */
void plic_set_level(struct plic *p, uint32_t src, bool level);
/* An edge (a virtio notification): one request, kept if in service. */
void plic_pulse(struct plic *p, uint32_t src);

extern const struct bus_ops plic_bus_ops;

#endif
