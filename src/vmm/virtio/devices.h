/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Constructors of the virtio device models. */
#ifndef DUVISOR_VIRTIO_DEVICES_H
#define DUVISOR_VIRTIO_DEVICES_H

#include "core/event_loop.h"
#include "core/guest_mem.h"
#include "virtio/virtio.h"

struct blk_backend;
struct blk_stats;
struct control;
struct tap;
struct vmm_balloon_config;
struct vsock_host;

/* What a device model may use of the machine. */
struct virtio_host {
	const struct guest_mem *mem;
	struct event_loop *loop;      /* the main thread's */
};

/* Entropy from getrandom(); work on the main loop. */
struct virtio_dev *virtio_rng_new(const struct virtio_host *host,
				  const char *name);

/* A disk on backend (borrowed: it outlives the device); its own thread.
 * Its requests are counted in stats (borrowed too, see blk_request.h). */
struct virtio_dev *virtio_blk_new(const struct virtio_host *host,
				  const char *name, struct blk_backend *backend,
				  const char *serial, struct blk_stats *stats);

/* A NIC on tap (borrowed); work on the main loop. */
struct virtio_dev *virtio_net_new(const struct virtio_host *host,
				  const char *name, struct tap *tap,
				  const uint8_t mac[6]);

/* A memory balloon with statistics; its own thread. settings (target,
 * stats period) outlive the device and follow the control requests it
 * registers with ctl (may be NULL). */
struct virtio_dev *virtio_balloon_new(const struct virtio_host *host,
				      const char *name,
				      struct vmm_balloon_config *settings,
				      struct control *ctl);
/* Guest sockets to the host's unix sockets on vsock (borrowed); work on
 * the main loop. */
struct virtio_dev *virtio_vsock_new(const struct virtio_host *host,
				    const char *name, struct vsock_host *vsock);
/* A power button (virtio-input with KEY_POWER) for machines without
 * ACPI; work on the main loop. */
struct virtio_dev *virtio_input_power_new(const struct virtio_host *host,
					  const char *name);
/* Presses and releases the button; main thread. */
void virtio_input_press_power(struct virtio_dev *vdev);

#endif
