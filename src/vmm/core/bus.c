// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/bus.h"

#include <errno.h>
#include <string.h>

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name)
{
	size_t i;

	if (!len || base + len < base)
		return -EINVAL;
	if (bus->nranges >= BUS_MAX_RANGES)
		return -ENOSPC;
	for (i = 0; i < bus->nranges; i++) {
		const struct bus_range *r = &bus->ranges[i];

		if (base < r->base + r->len && r->base < base + len)
			return -EEXIST;
	}
	/* Keep ranges sorted by base for a binary search on the hot path. */
	for (i = bus->nranges; i > 0 && bus->ranges[i - 1].base > base; i--)
		bus->ranges[i] = bus->ranges[i - 1];
	bus->ranges[i] = (struct bus_range){
		.base = base, .len = len, .ops = ops, .opaque = opaque,
		.name = name,
	};
	bus->nranges++;
	return 0;
}

static int bus_find(const struct bus *bus, uint64_t addr, uint32_t len)
{
	size_t lo = 0, hi = bus->nranges;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (addr < r->base) {
			hi = mid;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			/* An access straddling the end of a device is not its. */
			if (len > r->len - (addr - r->base))
				return -1;
			return (int)mid;
		}
	}
	return -1;
}

int bus_read(const struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len)
{
	int i = bus_find(bus, addr, len);

	if (i < 0 || !bus->ranges[i].ops->read) {
		memset(data, 0xff, len);
		return i;
	}
	bus->ranges[i].ops->read(bus->ranges[i].opaque,
				 addr - bus->ranges[i].base, data, len);
	return i;
}

int bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data,
	      uint32_t len)
{
	int i = bus_find(bus, addr, len);

	if (i >= 0 && bus->ranges[i].ops->write)
		bus->ranges[i].ops->write(bus->ranges[i].opaque,
					  addr - bus->ranges[i].base, data, len);
	return i;
}
