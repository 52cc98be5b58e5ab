/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio devices of a machine, as the configuration asks: created for
 * each boot behind virtio-mmio windows, one GSI each. Their backends (disk
 * images, taps) are opened once per process.
 */
#ifndef DUVISOR_VIRTIO_SETUP_H
#define DUVISOR_VIRTIO_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include "core/vmm.h"

#define VM_MAX_VIRTIO 16

struct virtio_mmio_slot {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
};

struct virtio_mmio;
struct virtio_dev;

struct vm_virtio {
	size_t n;
	struct virtio_mmio_slot slots[VM_MAX_VIRTIO];
	struct virtio_dev *devs[VM_MAX_VIRTIO];
	struct virtio_mmio *mmio[VM_MAX_VIRTIO];
};

/* Opens what --disk/--net name; returns 0 or -errno (after a message). */
int vmm_open_backends(struct vmm *vmm);
void vmm_close_backends(struct vmm *vmm);

/*
 * Creates the devices with windows from `base` on (a page each) and
 * interrupts on the GSIs gsis[0..ngsis). Returns 0 or -errno.
 */
int vm_virtio_setup(struct vm *vm, uint64_t base, const uint32_t *gsis,
		    size_t ngsis);
void vm_virtio_cleanup(struct vm *vm);

/* After vm_virtio_setup, with the same windows and GSIs: a power button
 * (virtio-input) for machines without ACPI. Returns 0 or -errno. */
int vm_virtio_add_power_button(struct vm *vm, uint64_t base,
			       const uint32_t *gsis, size_t ngsis,
			       struct virtio_dev **out);

#endif
