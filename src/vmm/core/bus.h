/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dispatch of guest port I/O and MMIO accesses to device models. Devices are
 * registered while the machine is built, before any vCPU runs, so lookups
 * from vCPU threads need no lock; each device serialises its own state.
 */
#ifndef DUVISOR_BUS_H
#define DUVISOR_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus_ops {
	/* data holds len (1, 2, 4 or 8) bytes, little endian. */
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data,
		      uint32_t len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

#define BUS_MAX_RANGES 64

struct bus {
	const char *name;
	size_t nranges;
	struct bus_range ranges[BUS_MAX_RANGES];
};

/* Returns 0, -EEXIST on overlap or -ENOSPC. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name);

/*
 * Return the index of the range that claimed the access (for per-device
 * exit statistics), or -1. Unclaimed reads return all ones, as on an empty
 * ISA/PCI bus; unclaimed writes are dropped.
 */
int bus_read(const struct bus *bus, uint64_t addr, uint8_t *data, uint32_t len);
int bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data,
	      uint32_t len);

/* Little-endian helpers for device models. */
static inline uint64_t bus_data_get(const uint8_t *data, uint32_t len)
{
	uint64_t v = 0;

	for (uint32_t i = 0; i < len && i < 8; i++)
		v |= (uint64_t)data[i] << (8 * i);
	return v;
}

static inline void bus_data_put(uint8_t *data, uint32_t len, uint64_t v)
{
	for (uint32_t i = 0; i < len && i < 8; i++)
		data[i] = (uint8_t)(v >> (8 * i));
}

#endif
