// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pvpanic: reading the port tells the guest which events we understand;
 * writing reports one. Stateless, so no lock.
 */
#include <string.h>

#include "devices/pvpanic.h"

#define PVPANIC_SUPPORTED (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED)

static void pvpanic_read(void *opaque, uint64_t offset, uint8_t *data,
			 uint32_t len)
{
	(void)opaque;
	memset(data, 0, len);
	if (offset == 0)
		data[0] = PVPANIC_SUPPORTED;
}

static void pvpanic_write(void *opaque, uint64_t offset, const uint8_t *data,
			  uint32_t len)
{
	const struct pvpanic_handler *h = opaque;
	unsigned int events = data[0] & PVPANIC_SUPPORTED;

	(void)len;
	if (offset == 0 && events)
		h->event(h->ctx, events);
}

const struct bus_ops pvpanic_bus_ops = {
	.read = pvpanic_read,
	.write = pvpanic_write,
};
