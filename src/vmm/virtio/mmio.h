/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The virtio-mmio transport, version 2 ("modern", virtio 1.x section 4.2):
 * a register window per device. Queue notifications are absorbed by the
 * accelerator (an ioeventfd per queue, matching the queue index written to
 * QueueNotify), interrupts go out through an irqfd on the device's own GSI.
 */
#ifndef DUVISOR_VIRTIO_MMIO_H
#define DUVISOR_VIRTIO_MMIO_H

#include <stdint.h>

#include "accel/accel.h"
#include "core/bus.h"
#include "devices/irq.h"
#include "virtio/virtio.h"

#define VIRTIO_MMIO_WINDOW 0x200

struct virtio_mmio;

/* Puts vdev behind a register window at base, interrupting on gsi
 * through an eventfd that irq binds. */
struct virtio_mmio *virtio_mmio_attach(struct virtio_dev *vdev,
				       const struct accel_ops *ops,
				       struct accel_vm *avm,
				       const struct irq_fd_binder *irq,
				       struct bus *bus, uint64_t base,
				       uint32_t gsi);
void virtio_mmio_free(struct virtio_mmio *m);

#endif
