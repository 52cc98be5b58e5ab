/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An interrupt line from a device model to the VM's interrupt controller. */
#ifndef DUVISOR_IRQ_H
#define DUVISOR_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct irq_line {
	void (*set)(void *ctx, uint32_t gsi, bool level);
	void *ctx;
	uint32_t gsi;
};

static inline void irq_line_set(const struct irq_line *l, bool level)
{
	l->set(l->ctx, l->gsi, level);
}

/* An edge for edge-triggered inputs. */
static inline void irq_line_pulse(const struct irq_line *l)
{
	l->set(l->ctx, l->gsi, true);
	l->set(l->ctx, l->gsi, false);
}

/* Connects an eventfd to an edge-triggered line: each write pulses it,
 * in the accelerator where it can, else through the event loop. */
struct irq_fd_binder {
	int (*bind)(void *ctx, uint32_t gsi, int efd);
	void *ctx;
};

#endif
