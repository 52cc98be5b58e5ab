// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-mmio version 2 registers. */
#include "virtio/mmio.h"

#include <errno.h>
#include <linux/virtio_mmio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/util.h"

#define MMIO_MAGIC   0x74726976  /* "virt" */
#define MMIO_VERSION 2
#define MMIO_VENDOR  0x49565544  /* "DUVI" */

struct virtio_mmio {
	struct virtio_dev *vdev;
	int irq_fd;
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
};

static void mmio_interrupt(struct virtio_dev *vdev)
{
	struct virtio_mmio *m = vdev->transport_priv;

	(void)eventfd_write(m->irq_fd, 1);
}

static const struct virtio_transport mmio_transport = {
	.interrupt = mmio_interrupt,
};

static struct virtq *selected_queue(struct virtio_mmio *m)
{
	return m->queue_sel < m->vdev->nqueues ?
	       &m->vdev->vqs[m->queue_sel] : NULL;
}

static uint32_t read_reg(struct virtio_mmio *m, uint64_t offset)
{
	struct virtio_dev *vdev = m->vdev;
	struct virtq *vq = selected_queue(m);

	switch (offset) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return MMIO_VERSION;
	case VIRTIO_MMIO_DEVICE_ID:
		return vdev->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_features_read(vdev, m->device_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? vdev->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq && vq->ready;
	case VIRTIO_MMIO_STATUS:
		return vdev->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return 0xffffffff;  /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return vdev->config_generation;
	default:
		return 0;
	}
}

static void set_half(uint64_t *v, bool high, uint32_t value)
{
	*v = high ? (*v & 0xffffffffull) | ((uint64_t)value << 32) :
		    (*v & ~0xffffffffull) | value;
}

/* Ring set-up; ignored once the queue is live. */
static void write_queue_reg(struct virtio_mmio *m, uint64_t offset,
			    uint32_t value)
{
	struct virtq *vq = selected_queue(m);

	if (!vq || vq->ready)
		return;
	switch (offset) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vq->size = value <= VIRTQ_MAX_SIZE ? (uint16_t)value : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (value == 1)
			virtio_queue_enable(m->vdev, m->queue_sel);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&vq->desc_gpa, offset == VIRTIO_MMIO_QUEUE_DESC_HIGH,
			 value);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		set_half(&vq->avail_gpa, offset == VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
			 value);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		set_half(&vq->used_gpa, offset == VIRTIO_MMIO_QUEUE_USED_HIGH,
			 value);
		break;
	}
}

static void write_reg(struct virtio_mmio *m, uint64_t offset, uint32_t value)
{
	struct virtio_dev *vdev = m->vdev;

	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->device_features_sel = value;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_features_write(vdev, m->driver_features_sel, value);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->driver_features_sel = value;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		m->queue_sel = value;
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Only reached when no ioeventfd matched. */
		if (value < vdev->nqueues)
			(void)eventfd_write(vdev->kick_fds[value], 1);
		break;
	case VIRTIO_MMIO_STATUS:
		virtio_status_write(vdev, value);
		break;
	default:
		write_queue_reg(m, offset, value);
		break;
	}
}

static void mmio_read(void *opaque, uint64_t offset, uint8_t *data,
		      uint32_t len)
{
	struct virtio_mmio *m = opaque;
	struct virtio_dev *vdev = m->vdev;

	if (offset >= VIRTIO_MMIO_CONFIG) {
		pthread_mutex_lock(&vdev->lock);
		virtio_config_read(vdev, (uint32_t)(offset - VIRTIO_MMIO_CONFIG),
				   data, len);
		pthread_mutex_unlock(&vdev->lock);
		return;
	}
	/* Registers are 32 bits wide and must be accessed as such. */
	if (len != 4 || offset % 4) {
		memset(data, 0, len);
		return;
	}
	if (offset == VIRTIO_MMIO_INTERRUPT_STATUS) {
		bus_data_put(data, 4, __atomic_load_n(&vdev->isr,
						      __ATOMIC_SEQ_CST));
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	bus_data_put(data, 4, read_reg(m, offset));
	pthread_mutex_unlock(&vdev->lock);
}

static void mmio_write(void *opaque, uint64_t offset, const uint8_t *data,
		       uint32_t len)
{
	struct virtio_mmio *m = opaque;
	struct virtio_dev *vdev = m->vdev;
	uint32_t value;

	if (offset >= VIRTIO_MMIO_CONFIG) {
		pthread_mutex_lock(&vdev->lock);
		virtio_config_write(vdev,
				    (uint32_t)(offset - VIRTIO_MMIO_CONFIG),
				    data, len);
		pthread_mutex_unlock(&vdev->lock);
		return;
	}
	if (len != 4 || offset % 4)
		return;
	value = (uint32_t)bus_data_get(data, 4);
	if (offset == VIRTIO_MMIO_INTERRUPT_ACK) {
		__atomic_fetch_and(&vdev->isr, ~value, __ATOMIC_SEQ_CST);
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	write_reg(m, offset, value);
	pthread_mutex_unlock(&vdev->lock);
}

static const struct bus_ops mmio_bus_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

struct virtio_mmio *virtio_mmio_attach(struct virtio_dev *vdev,
				       const struct accel_ops *ops,
				       struct accel_vm *avm,
				       const struct irq_fd_binder *irq,
				       struct bus *bus, uint64_t base,
				       uint32_t gsi)
{
	struct virtio_mmio *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return NULL;
	m->vdev = vdev;
	m->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->irq_fd < 0)
		goto fail;
	r = irq->bind(irq->ctx, gsi, m->irq_fd);
	for (uint32_t q = 0; !r && q < vdev->nqueues; q++)
		r = ops->vm_add_ioeventfd_match(avm,
						base + VIRTIO_MMIO_QUEUE_NOTIFY,
						4, q, vdev->kick_fds[q]);
	if (!r)
		r = bus_register(bus, base, VIRTIO_MMIO_WINDOW, &mmio_bus_ops,
				 m, vdev->name);
	if (r) {
		vmm_error("%s: cannot attach at %#llx: %s", vdev->name,
			  (unsigned long long)base, strerror(-r));
		goto fail;
	}
	vdev->transport = &mmio_transport;
	vdev->transport_priv = m;
	return m;
fail:
	virtio_mmio_free(m);
	return NULL;
}

void virtio_mmio_free(struct virtio_mmio *m)
{
	if (!m)
		return;
	if (m->irq_fd >= 0)
		close(m->irq_fd);
	free(m);
}
