// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the split-virtqueue walker over guest RAM the fuzzer
 * writes. Every buffer the walker hands out is touched at both ends, so
 * AddressSanitizer sees any pointer outside guest RAM.
 *
 * Input: [0] queue size - 1 (mod 64), [1] feature bits (1: indirect,
 * 2: event idx), then the contents of guest RAM (rings packed at its start,
 * so short inputs reach them).
 */
#include <linux/virtio_ring.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "virtio/queue.h"

#define RAM_GPA   0x10000ull
#define RAM_SIZE  0x10000ull
#define DESC_GPA  (RAM_GPA + 0x0000)
#define AVAIL_GPA (RAM_GPA + 0x0400)
#define USED_GPA  (RAM_GPA + 0x0600)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct virtq_chain chain;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem mem = { .nregions = 1,
		.regions = { { .gpa = RAM_GPA, .size = RAM_SIZE, .hva = ram } } };
	struct virtq vq = { .desc_gpa = DESC_GPA, .avail_gpa = AVAIL_GPA,
			    .used_gpa = USED_GPA };
	uint64_t features = 0;
	int r;

	if (size < 2)
		return 0;
	vq.size = (uint16_t)(data[0] % 64 + 1);
	if (data[1] & 1)
		features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (data[1] & 2)
		features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data + 2, size - 2 < RAM_SIZE ? size - 2 : RAM_SIZE);
	if (virtq_enable(&vq, &mem, features))
		return 0;
	for (int i = 0; i < 2 * vq.size && (r = virtq_pop(&vq, &chain)) > 0;
	     i++) {
		uint32_t written = 0;

		for (uint32_t s = 0; s < chain.nout + chain.nin; s++) {
			volatile uint8_t *p = chain.iov[s].iov_base;
			size_t len = chain.iov[s].iov_len;

			if (s >= chain.nout) {
				p[0] = p[len - 1] = 0x5a;
				written += (uint32_t)len;
			} else {
				(void)p[0];
				(void)p[len - 1];
			}
		}
		virtq_push(&vq, chain.head, written);
		(void)virtq_should_interrupt(&vq);
	}
	return 0;
}
