/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The transport-independent part of a virtio device: status and feature
 * negotiation, the virtqueues, the configuration space and interrupts.
 * Device models (rng.c, blk.c, net.c) fill in a `struct virtio_dev` and
 * never see the transport; a transport (mmio.c today) turns register
 * accesses into the calls below and delivers kicks and interrupts.
 *
 * Threads: register accesses come from vCPU threads, queue work runs on the
 * main event loop or a device's own thread. `lock` serialises both; only
 * the interrupt status is touched without it (the guest reads and acks it
 * on every interrupt, and that must not wait behind a device's I/O).
 */
#ifndef DUVISOR_VIRTIO_H
#define DUVISOR_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/guest_mem.h"
#include "virtio/queue.h"

#define VIRTIO_MAX_QUEUES 8

/* Interrupt status bits (the ISR). */
#define VIRTIO_ISR_QUEUE  0x1
#define VIRTIO_ISR_CONFIG 0x2

struct virtio_dev;

struct virtio_dev_ops {
	/* Device-specific configuration writes (the rest is read-only);
	 * called with the lock held. Optional. */
	void (*config_write)(struct virtio_dev *vdev, uint32_t offset,
			     const uint8_t *data, uint32_t len);
	/* The driver set DRIVER_OK with driver_features negotiated. Called
	 * with the lock held. Optional. */
	void (*driver_ok)(struct virtio_dev *vdev);
	/* The driver reset the device: drop device state tied to the queues.
	 * Called with the lock held. Optional. */
	void (*reset)(struct virtio_dev *vdev);
	/* Stops the device's work and frees it; no vCPU runs any more. */
	void (*free)(struct virtio_dev *vdev);
};

/* What the transport provides to the core. */
struct virtio_transport {
	/* Raises the device's interrupt after isr bits were set. */
	void (*interrupt)(struct virtio_dev *vdev);
};

struct virtio_dev {
	const char *name;            /* for messages: "virtio-blk0" */
	uint32_t device_id;          /* VIRTIO_ID_* */
	const struct virtio_dev_ops *ops;
	void *priv;                  /* the device model */
	const struct guest_mem *mem;
	pthread_mutex_t lock;

	uint64_t device_features;
	uint64_t driver_features;
	uint32_t status;
	uint32_t isr;                /* atomic, see above */
	uint32_t config_generation;
	bool warned;                 /* one message per device, not per reset */
	/* Bumped on reset, so work started before it is not completed into
	 * rings the driver has since taken back. */
	uint64_t generation;

	uint32_t nqueues;
	uint16_t queue_max;
	struct virtq vqs[VIRTIO_MAX_QUEUES];
	/* eventfds the transport signals on a queue notification. */
	int kick_fds[VIRTIO_MAX_QUEUES];

	uint8_t *config;             /* little endian, as the guest sees it */
	uint32_t config_len;

	const struct virtio_transport *transport;
	void *transport_priv;
};

/*
 * Sets up the common part; features are the device's own, VERSION_1 and the
 * ring features are added. Creates the kick eventfds. Returns 0 or -errno.
 */
int virtio_dev_init(struct virtio_dev *vdev, const char *name,
		    uint32_t device_id, uint64_t features, uint32_t nqueues,
		    uint16_t queue_max, const struct guest_mem *mem);
void virtio_dev_cleanup(struct virtio_dev *vdev);

/* The transport's view; call with the lock held. */
uint32_t virtio_features_read(struct virtio_dev *vdev, uint32_t sel);
void virtio_features_write(struct virtio_dev *vdev, uint32_t sel,
			   uint32_t value);
void virtio_status_write(struct virtio_dev *vdev, uint32_t status);
void virtio_config_read(struct virtio_dev *vdev, uint32_t offset,
			uint8_t *data, uint32_t len);
void virtio_config_write(struct virtio_dev *vdev, uint32_t offset,
			 const uint8_t *data, uint32_t len);
/* The driver made a queue ready; a bad ring puts the device in
 * NEEDS_RESET. */
void virtio_queue_enable(struct virtio_dev *vdev, uint32_t q);

/* Whether queue work may run now: DRIVER_OK and no pending reset. */
bool virtio_dev_running(const struct virtio_dev *vdev);

/* For device models; call with the lock held. */
/* Interrupts the driver if it wants to hear about used buffers of q. */
void virtio_queue_notify_driver(struct virtio_dev *vdev, uint32_t q);
/* The device changed its configuration space: the driver is told (once
 * it runs) and rereads it. */
void virtio_config_changed(struct virtio_dev *vdev);
/* The driver broke the rules: stop and ask it to reset us. */
void virtio_dev_set_needs_reset(struct virtio_dev *vdev);
/* Drains a kick eventfd. */
void virtio_kick_drain(int fd);

#endif
