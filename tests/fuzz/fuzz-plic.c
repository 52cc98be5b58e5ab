// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the PLIC model (devices/plic.c), whose registers a
 * RISC-V guest reaches with MMIO. Guest accesses of any offset, size and
 * value are mixed with device line changes; the model must not step out
 * of its arrays (AddressSanitizer), must report only changes of a
 * context's line, and must never hand out a source it does not have
 * (abort otherwise).
 *
 * Input: [0] sources (mod 4: 32, 64, 96 or 1024), [1] contexts (mod 8) + 1,
 * then steps: a byte op; op % 4 == 0: a guest read, 1: a guest write
 * (then a 24-bit offset, biased into the register areas by op's high
 * bits, a size byte (1, 2, 4 or 8) and, for writes, 4 value bytes),
 * 2: a level change, 3: an edge (then a 16-bit source).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/plic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool level[PLIC_MAX_CONTEXTS];
static uint32_t nsources;

static void on_output(void *opaque, uint32_t ctx, bool l)
{
	(void)opaque;
	if (ctx >= PLIC_MAX_CONTEXTS || level[ctx] == l)
		abort();              /* only changes, only real contexts */
	level[ctx] = l;
}

static uint32_t take(const uint8_t *data, size_t size, size_t *pos,
		     unsigned bytes)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < bytes && *pos < size; i++)
		v |= (uint32_t)data[(*pos)++] << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t sources[] = { 32, 64, 96, 1024 };
	static const uint32_t areas[] = {
		0, PLIC_PENDING_BASE, PLIC_ENABLE_BASE, PLIC_CONTEXT_BASE,
	};
	const struct plic_output out = { on_output, NULL };
	struct plic *p;
	size_t pos = 2;

	if (size < 2)
		return 0;
	memset(level, 0, sizeof(level));
	nsources = sources[data[0] % 4];
	p = plic_new(nsources, data[1] % 8 + 1, &out);
	if (!p)
		abort();
	while (pos < size) {
		uint8_t op = data[pos++];

		if (op % 4 < 2) {
			uint64_t off = areas[(op >> 2) % 4] +
				       take(data, size, &pos, 3) % 0x400000;
			uint32_t len = 1u << (take(data, size, &pos, 1) % 4);
			uint8_t buf[8] = { 0 };

			if (op % 4 == 0) {
				plic_bus_ops.read(p, off, buf, len);
				/* A claim hands out a source we have, or 0. */
				if (len == 4 && off >= PLIC_CONTEXT_BASE &&
				    off % PLIC_CONTEXT_STRIDE == PLIC_CONTEXT_CLAIM &&
				    bus_data_get(buf, 4) >= nsources)
					abort();
			} else {
				bus_data_put(buf, 4, take(data, size, &pos, 4));
				plic_bus_ops.write(p, off, buf, len);
			}
		} else {
			uint32_t src = take(data, size, &pos, 2);

			if (op % 4 == 2)
				plic_set_level(p, src, op & 0x80);
			else
				plic_pulse(p, src);
		}
	}
	plic_free(p);
	return 0;
}
