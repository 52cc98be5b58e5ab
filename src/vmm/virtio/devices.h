/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Constructors of the virtio device models. */
#ifndef DUVISOR_VIRTIO_DEVICES_H
#define DUVISOR_VIRTIO_DEVICES_H

#include "core/event_loop.h"
#include "core/guest_mem.h"
#include "virtio/virtio.h"

struct blk_backend;
struct tap;

/* What a device model may use of the machine. */
struct virtio_host {
	const struct guest_mem *mem;
	struct event_loop *loop;      /* the main thread's */
};

/* Entropy from getrandom(); work on the main loop. */
struct virtio_dev *virtio_rng_new(const struct virtio_host *host,
				  const char *name);

/* A disk on backend (borrowed: it outlives the device); its own thread. */
struct virtio_dev *virtio_blk_new(const struct virtio_host *host,
				  const char *name, struct blk_backend *backend,
				  const char *serial);

/* A NIC on tap (borrowed); work on the main loop. */
struct virtio_dev *virtio_net_new(const struct virtio_host *host,
				  const char *name, struct tap *tap,
				  const uint8_t mac[6]);

/* A power button (virtio-input with KEY_POWER) for machines without
 * ACPI; work on the main loop. */
struct virtio_dev *virtio_input_power_new(const struct virtio_host *host,
					  const char *name);
/* Presses and releases the button; main thread. */
void virtio_input_press_power(struct virtio_dev *vdev);

#endif
