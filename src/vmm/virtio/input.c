// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-input (virtio 1.x section 5.8) as a power button: a device with
 * one key, KEY_POWER, for machines without ACPI (RISC-V). The guest sees an
 * evdev device; its acpid (or systemd-logind) shuts down on the key press,
 * as with the ACPI power button on x86.
 */
#include <endian.h>
#include <errno.h>
#include <linux/input-event-codes.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_input.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "core/util.h"
#include "virtio/devices.h"

#define INPUT_QUEUE_SIZE 64
#define EVENTQ 0
#define STATUSQ 1
/* Presses not yet delivered for want of buffers; more are dropped. */
#define PENDING_MAX 32

#define INPUT_NAME "DuVisor power button"
#define INPUT_BUSTYPE_VIRTUAL 0x06   /* BUS_VIRTUAL of linux/input.h */

struct virtio_input {
	struct virtio_dev vdev;
	struct event_loop *loop;
	struct virtio_input_config config;
	struct virtq_chain chain;
	struct virtio_input_event pending[PENDING_MAX];
	uint32_t npending;
};

/* Answers the driver's select/subsel query in the config space. */
static void select_config(struct virtio_input *in)
{
	struct virtio_input_config *c = &in->config;
	uint8_t select = c->select, subsel = c->subsel;

	memset(&c->size, 0, sizeof(*c) - offsetof(struct virtio_input_config,
						  size));
	switch (select) {
	case VIRTIO_INPUT_CFG_ID_NAME:
		c->size = sizeof(INPUT_NAME) - 1;
		memcpy(c->u.string, INPUT_NAME, c->size);
		break;
	case VIRTIO_INPUT_CFG_ID_DEVIDS:
		c->u.ids.bustype = htole16(INPUT_BUSTYPE_VIRTUAL);
		c->u.ids.vendor = htole16(0);
		c->u.ids.product = htole16(1);
		c->u.ids.version = htole16(1);
		c->size = sizeof(c->u.ids);
		break;
	case VIRTIO_INPUT_CFG_EV_BITS:
		if (subsel == EV_KEY) {
			c->u.bitmap[KEY_POWER / 8] = 1u << (KEY_POWER % 8);
			c->size = KEY_POWER / 8 + 1;
		}
		break;
	default:
		break;        /* size 0: not supported */
	}
}

static void input_config_write(struct virtio_dev *vdev, uint32_t offset,
			       const uint8_t *data, uint32_t len)
{
	struct virtio_input *in = vdev->priv;

	/* Only select and subsel are the driver's to write. */
	for (uint32_t i = 0; i < len; i++) {
		if (offset + i == offsetof(struct virtio_input_config, select))
			in->config.select = data[i];
		else if (offset + i == offsetof(struct virtio_input_config,
						subsel))
			in->config.subsel = data[i];
	}
	select_config(in);
}

/* Copies events into the buffers the driver posted; lock held. */
static void deliver(struct virtio_input *in)
{
	struct virtio_dev *vdev = &in->vdev;
	struct virtq *vq = &vdev->vqs[EVENTQ];
	uint32_t done = 0;
	bool pushed = false;
	int r;

	while (done < in->npending && virtio_dev_running(vdev) &&
	       (r = virtq_pop(vq, &in->chain)) != 0) {
		const struct virtq_chain *ch = &in->chain;
		const struct iovec *iov = &ch->iov[ch->nout];

		/* One event per buffer, in its first writable segment. */
		if (r < 0 || ch->nin == 0 ||
		    iov->iov_len < sizeof(in->pending[0])) {
			virtio_dev_set_needs_reset(vdev);
			break;
		}
		memcpy(iov->iov_base, &in->pending[done], sizeof(in->pending[0]));
		virtq_push(vq, ch->head, sizeof(in->pending[0]));
		pushed = true;
		done++;
	}
	memmove(in->pending, in->pending + done,
		(in->npending - done) * sizeof(in->pending[0]));
	in->npending -= done;
	if (pushed)
		virtio_queue_notify_driver(vdev, EVENTQ);
}

/* LED and other status the driver sends: nothing to show, give it back. */
static void drain_status(struct virtio_input *in)
{
	struct virtio_dev *vdev = &in->vdev;
	struct virtq *vq = &vdev->vqs[STATUSQ];
	bool pushed = false;
	int r;

	while (virtio_dev_running(vdev) &&
	       (r = virtq_pop(vq, &in->chain)) != 0) {
		if (r < 0) {
			virtio_dev_set_needs_reset(vdev);
			break;
		}
		virtq_push(vq, in->chain.head, 0);
		pushed = true;
	}
	if (pushed)
		virtio_queue_notify_driver(vdev, STATUSQ);
}

static void event_kick(void *opaque, uint32_t events)
{
	struct virtio_input *in = opaque;

	(void)events;
	virtio_kick_drain(in->vdev.kick_fds[EVENTQ]);
	pthread_mutex_lock(&in->vdev.lock);
	deliver(in);
	pthread_mutex_unlock(&in->vdev.lock);
}

static void status_kick(void *opaque, uint32_t events)
{
	struct virtio_input *in = opaque;

	(void)events;
	virtio_kick_drain(in->vdev.kick_fds[STATUSQ]);
	pthread_mutex_lock(&in->vdev.lock);
	drain_status(in);
	pthread_mutex_unlock(&in->vdev.lock);
}

void virtio_input_press_power(struct virtio_dev *vdev)
{
	struct virtio_input *in = vdev->priv;
	static const struct {
		uint16_t type, code;
		uint32_t value;
	} press[] = {
		{ EV_KEY, KEY_POWER, 1 }, { EV_SYN, SYN_REPORT, 0 },
		{ EV_KEY, KEY_POWER, 0 }, { EV_SYN, SYN_REPORT, 0 },
	};

	pthread_mutex_lock(&vdev->lock);
	if (in->npending + ARRAY_SIZE(press) > PENDING_MAX) {
		vmm_warn("%s: the guest takes no key presses; this one is "
			 "dropped", vdev->name);
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(press); i++)
			in->pending[in->npending++] = (struct virtio_input_event){
				.type = htole16(press[i].type),
				.code = htole16(press[i].code),
				.value = htole32(press[i].value),
			};
		deliver(in);
	}
	pthread_mutex_unlock(&vdev->lock);
}

/* Presses queued for an earlier driver would surprise the next one. */
static void input_reset(struct virtio_dev *vdev)
{
	struct virtio_input *in = vdev->priv;

	in->npending = 0;
}

static void input_free(struct virtio_dev *vdev)
{
	struct virtio_input *in = vdev->priv;

	event_loop_remove(in->loop, vdev->kick_fds[EVENTQ]);
	event_loop_remove(in->loop, vdev->kick_fds[STATUSQ]);
	virtio_dev_cleanup(vdev);
	free(in);
}

static const struct virtio_dev_ops input_ops = {
	.config_write = input_config_write,
	.reset = input_reset,
	.free = input_free,
};

struct virtio_dev *virtio_input_power_new(const struct virtio_host *host,
					  const char *name)
{
	struct virtio_input *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	if (virtio_dev_init(&in->vdev, name, VIRTIO_ID_INPUT, 0, 2,
			    INPUT_QUEUE_SIZE, host->mem) < 0) {
		free(in);
		return NULL;
	}
	in->vdev.ops = &input_ops;
	in->vdev.priv = in;
	in->vdev.config = (uint8_t *)&in->config;
	in->vdev.config_len = sizeof(in->config);
	in->loop = host->loop;
	if (event_loop_add(host->loop, in->vdev.kick_fds[EVENTQ], EPOLLIN,
			   event_kick, in) < 0 ||
	    event_loop_add(host->loop, in->vdev.kick_fds[STATUSQ], EPOLLIN,
			   status_kick, in) < 0) {
		event_loop_remove(host->loop, in->vdev.kick_fds[EVENTQ]);
		virtio_dev_cleanup(&in->vdev);
		free(in);
		return NULL;
	}
	return &in->vdev;
}
