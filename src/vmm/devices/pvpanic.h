/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pvpanic ISA device (QEMU's "pvpanic" specification): one I/O port the
 * guest's panic notifier writes to. Linux binds its pvpanic-mmio driver to
 * the ACPI node QEMU0001, which may describe an I/O port.
 */
#ifndef DUVISOR_PVPANIC_H
#define DUVISOR_PVPANIC_H

#include "core/bus.h"

#define PVPANIC_PANICKED      (1u << 0)
#define PVPANIC_CRASH_LOADED  (1u << 1)
#define PVPANIC_PORT_LEN      1

struct pvpanic_handler {
	/* events: PVPANIC_* bits the guest wrote; from a vCPU thread. */
	void (*event)(void *ctx, unsigned int events);
	void *ctx;
};

/* opaque: a struct pvpanic_handler that outlives the registration. */
extern const struct bus_ops pvpanic_bus_ops;

#endif
