// SPDX-License-Identifier: GPL-2.0-or-later
/* Device status, feature negotiation and interrupts (virtio 1.x, 2.1-2.6). */
#include "virtio/virtio.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/util.h"

#define BIT(n) (1ull << (n))

int virtio_dev_init(struct virtio_dev *vdev, const char *name,
		    uint32_t device_id, uint64_t features, uint32_t nqueues,
		    uint16_t queue_max, const struct guest_mem *mem)
{
	if (nqueues > VIRTIO_MAX_QUEUES || queue_max > VIRTQ_MAX_SIZE)
		return -EINVAL;
	vdev->name = name;
	vdev->device_id = device_id;
	vdev->mem = mem;
	vdev->device_features = features | BIT(VIRTIO_F_VERSION_1) |
				BIT(VIRTIO_RING_F_EVENT_IDX) |
				BIT(VIRTIO_RING_F_INDIRECT_DESC);
	vdev->nqueues = nqueues;
	vdev->queue_max = queue_max;
	for (uint32_t q = 0; q < VIRTIO_MAX_QUEUES; q++)
		vdev->kick_fds[q] = -1;
	for (uint32_t q = 0; q < nqueues; q++) {
		vdev->kick_fds[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->kick_fds[q] < 0) {
			int r = -errno;

			virtio_dev_cleanup(vdev);
			return r;
		}
	}
	pthread_mutex_init(&vdev->lock, NULL);
	return 0;
}

void virtio_dev_cleanup(struct virtio_dev *vdev)
{
	for (uint32_t q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (vdev->kick_fds[q] >= 0)
			close(vdev->kick_fds[q]);
		vdev->kick_fds[q] = -1;
	}
}

uint32_t virtio_features_read(struct virtio_dev *vdev, uint32_t sel)
{
	return sel < 2 ? (uint32_t)(vdev->device_features >> (32 * sel)) : 0;
}

void virtio_features_write(struct virtio_dev *vdev, uint32_t sel,
			   uint32_t value)
{
	uint64_t mask;

	/* Only between DRIVER and FEATURES_OK may the driver choose. */
	if (sel >= 2 || !(vdev->status & VIRTIO_CONFIG_S_DRIVER) ||
	    (vdev->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return;
	mask = 0xffffffffull << (32 * sel);
	vdev->driver_features = (vdev->driver_features & ~mask) |
				((uint64_t)value << (32 * sel));
}

static void reset(struct virtio_dev *vdev)
{
	if (vdev->ops && vdev->ops->reset)
		vdev->ops->reset(vdev);
	for (uint32_t q = 0; q < vdev->nqueues; q++)
		virtq_reset(&vdev->vqs[q]);
	vdev->driver_features = 0;
	vdev->status = 0;
	vdev->generation++;
	__atomic_store_n(&vdev->isr, 0, __ATOMIC_SEQ_CST);
}

static bool features_acceptable(const struct virtio_dev *vdev)
{
	return !(vdev->driver_features & ~vdev->device_features) &&
	       (vdev->driver_features & BIT(VIRTIO_F_VERSION_1));
}

void virtio_status_write(struct virtio_dev *vdev, uint32_t status)
{
	uint32_t added = status & ~vdev->status;

	if (!status) {
		reset(vdev);
		return;
	}
	/* A refused feature set shows as FEATURES_OK not sticking. */
	if ((added & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !features_acceptable(vdev))
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	if ((added & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(status & VIRTIO_CONFIG_S_FEATURES_OK))
		status &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	/* Only the device sets NEEDS_RESET, and only a reset clears it. */
	status = (status & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
		 (vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
	vdev->status = status;
	if (!(added & status & VIRTIO_CONFIG_S_DRIVER_OK))
		return;
	if (vdev->ops && vdev->ops->driver_ok)
		vdev->ops->driver_ok(vdev);
	/* Buffers made available before DRIVER_OK were not kicked. */
	for (uint32_t q = 0; q < vdev->nqueues; q++)
		(void)eventfd_write(vdev->kick_fds[q], 1);
}

void virtio_config_read(struct virtio_dev *vdev, uint32_t offset,
			uint8_t *data, uint32_t len)
{
	memset(data, 0, len);
	if (offset < vdev->config_len && len <= vdev->config_len - offset)
		memcpy(data, vdev->config + offset, len);
}

void virtio_config_write(struct virtio_dev *vdev, uint32_t offset,
			 const uint8_t *data, uint32_t len)
{
	if (offset >= vdev->config_len || len > vdev->config_len - offset)
		return;
	if (vdev->ops && vdev->ops->config_write)
		vdev->ops->config_write(vdev, offset, data, len);
}

void virtio_queue_enable(struct virtio_dev *vdev, uint32_t q)
{
	if (q >= vdev->nqueues || vdev->vqs[q].ready ||
	    !(vdev->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return;
	if (vdev->vqs[q].size > vdev->queue_max ||
	    virtq_enable(&vdev->vqs[q], vdev->mem, vdev->driver_features) < 0) {
		if (!vdev->warned)
			vmm_warn("%s: queue %u: invalid ring set-up",
				 vdev->name, q);
		virtio_dev_set_needs_reset(vdev);
	}
}

bool virtio_dev_running(const struct virtio_dev *vdev)
{
	return (vdev->status & (VIRTIO_CONFIG_S_DRIVER_OK |
				VIRTIO_CONFIG_S_NEEDS_RESET)) ==
	       VIRTIO_CONFIG_S_DRIVER_OK;
}

static void raise_interrupt(struct virtio_dev *vdev, uint32_t bits)
{
	__atomic_fetch_or(&vdev->isr, bits, __ATOMIC_SEQ_CST);
	vdev->transport->interrupt(vdev);
}

void virtio_queue_notify_driver(struct virtio_dev *vdev, uint32_t q)
{
	if (virtq_should_interrupt(&vdev->vqs[q]))
		raise_interrupt(vdev, VIRTIO_ISR_QUEUE);
}

void virtio_config_changed(struct virtio_dev *vdev)
{
	vdev->config_generation++;
	/* A driver that is not running yet reads it when it starts. */
	if (vdev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		raise_interrupt(vdev, VIRTIO_ISR_CONFIG);
}

void virtio_dev_set_needs_reset(struct virtio_dev *vdev)
{
	if (vdev->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	/* A hostile guest could repeat this forever: say it once. */
	if (!vdev->warned)
		vmm_warn("%s: the driver broke the protocol: device needs a "
			 "reset", vdev->name);
	vdev->warned = true;
	vdev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vdev->config_generation++;
	raise_interrupt(vdev, VIRTIO_ISR_CONFIG);
}

void virtio_kick_drain(int fd)
{
	eventfd_t v;

	(void)eventfd_read(fd, &v);
}
