// SPDX-License-Identifier: GPL-2.0-or-later
/* Builds the configured virtio devices into a machine. */
#include "virtio/setup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "block/backend.h"
#include "net/tap.h"
#include "virtio/blk_request.h"
#include "virtio/devices.h"
#include "virtio/mmio.h"
#include "virtio/vsock_host.h"

#define SLOT_STRIDE 0x1000

/* Device names live as long as the process: exit statistics use them. */
static char disk_names[VMM_MAX_DISKS][32];
static char nic_names[VMM_MAX_NICS][32];

static int open_taps(struct vmm *vmm)
{
	const struct vmm_config *cfg = vmm->cfg;

	for (size_t i = 0; i < cfg->nnics; i++) {
		const struct vmm_net_config *n = &cfg->nics[i];
		char what[32];
		int r;

		snprintf(what, sizeof(what), "NIC %zu", i);
		vmm->taps[i] = calloc(1, sizeof(*vmm->taps[i]));
		if (!vmm->taps[i])
			return -ENOMEM;
		r = tap_open(n->tap[0] ? n->tap : NULL, n->fd, what,
			     vmm->taps[i]);
		if (r < 0) {
			free(vmm->taps[i]);
			vmm->taps[i] = NULL;
			return r;
		}
		/* Locally administered, stable across the guest's reboots. */
		memcpy(vmm->macs[i], n->mac, 6);
		if (!n->has_mac) {
			memcpy(vmm->macs[i], (uint8_t[]){ 0x52, 0x54, 0x00 }, 3);
			if (getrandom(vmm->macs[i] + 3, 3, 0) != 3)
				return -EIO;
		}
	}
	return 0;
}

int vmm_open_backends(struct vmm *vmm)
{
	const struct vmm_config *cfg = vmm->cfg;

	vmm->disk_stats = calloc(MAX(cfg->ndisks, 1), sizeof(*vmm->disk_stats));
	if (!vmm->disk_stats)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->ndisks; i++) {
		const struct vmm_disk_config *d = &cfg->disks[i];
		struct blk_backend_config bc = {
			.path = d->path[0] ? d->path : NULL,
			.fd = d->fd,
			.readonly = d->readonly,
			.direct = d->direct,
		};
		char what[32];
		int r;

		snprintf(what, sizeof(what), "disk %zu", i);
		r = blk_raw_open(&bc, what, &vmm->disks[i]);
		if (r < 0)
			return r;
	}
	if (cfg->vsock.enabled) {
		int r = vsock_host_open(&cfg->vsock, &vmm->vsock);

		if (r < 0)
			return r;
	}
	return open_taps(vmm);
}

void vmm_close_backends(struct vmm *vmm)
{
	for (size_t i = 0; i < VMM_MAX_DISKS; i++) {
		blk_backend_close(vmm->disks[i]);
		vmm->disks[i] = NULL;
	}
	free(vmm->disk_stats);
	vmm->disk_stats = NULL;
	for (size_t i = 0; i < VMM_MAX_NICS; i++) {
		if (vmm->taps[i])
			tap_close(vmm->taps[i]);
		free(vmm->taps[i]);
		vmm->taps[i] = NULL;
	}
	vsock_host_close(vmm->vsock);
	vmm->vsock = NULL;
}

static int add(struct vm *vm, struct virtio_dev *vdev, const uint32_t *gsis,
	       size_t ngsis, uint64_t base)
{
	struct vm_virtio *v = vm->virtio;
	struct virtio_mmio_slot *slot = &v->slots[v->n];
	const struct irq_fd_binder irq = { vm_add_irqfd, vm };

	if (!vdev)
		return -ENOMEM;
	if (v->n == VM_MAX_VIRTIO || v->n == ngsis) {
		vmm_error("too many virtio devices (at most %zu)",
			  MIN(ngsis, (size_t)VM_MAX_VIRTIO));
		vdev->ops->free(vdev);
		return -ENOSPC;
	}
	*slot = (struct virtio_mmio_slot){
		.base = base + v->n * SLOT_STRIDE,
		.size = VIRTIO_MMIO_WINDOW,
		.gsi = gsis[v->n],
	};
	v->devs[v->n] = vdev;
	v->mmio[v->n] = virtio_mmio_attach(vdev, vm->vmm->ops, vm->avm, &irq,
					   &vm->mmio, slot->base, slot->gsi);
	v->n++;
	return v->mmio[v->n - 1] ? 0 : -EIO;
}

int vm_virtio_setup(struct vm *vm, uint64_t base, const uint32_t *gsis,
		    size_t ngsis)
{
	const struct vmm_config *cfg = vm->vmm->cfg;
	struct virtio_host host = { .mem = &vm->mem, .loop = vm->vmm->loop };
	int r = 0;

	vm->virtio = calloc(1, sizeof(*vm->virtio));
	if (!vm->virtio)
		return -ENOMEM;
	for (size_t i = 0; !r && i < cfg->ndisks; i++) {
		snprintf(disk_names[i], sizeof(disk_names[i]), "virtio-blk%zu",
			 i);
		r = add(vm, virtio_blk_new(&host, disk_names[i],
					   vm->vmm->disks[i],
					   cfg->disks[i].serial,
					   &vm->vmm->disk_stats[i]),
			gsis, ngsis, base);
	}
	for (size_t i = 0; !r && i < cfg->nnics; i++) {
		snprintf(nic_names[i], sizeof(nic_names[i]), "virtio-net%zu",
			 i);
		r = add(vm, virtio_net_new(&host, nic_names[i],
					   vm->vmm->taps[i], vm->vmm->macs[i]),
			gsis, ngsis, base);
	}
	if (!r && cfg->rng)
		r = add(vm, virtio_rng_new(&host, "virtio-rng"), gsis, ngsis,
			base);
	if (!r && cfg->balloon.enabled)
		r = add(vm, virtio_balloon_new(&host, "virtio-balloon",
					       &vm->vmm->balloon,
					       vm->vmm->control),
			gsis, ngsis, base);
	if (!r && vm->vmm->vsock)
		r = add(vm, virtio_vsock_new(&host, "virtio-vsock",
					     vm->vmm->vsock),
			gsis, ngsis, base);
	return r;
}

int vm_virtio_add_power_button(struct vm *vm, uint64_t base,
			       const uint32_t *gsis, size_t ngsis,
			       struct virtio_dev **out)
{
	struct virtio_host host = { .mem = &vm->mem, .loop = vm->vmm->loop };
	struct virtio_dev *vdev = virtio_input_power_new(&host, "power-button");
	int r = add(vm, vdev, gsis, ngsis, base);

	*out = r ? NULL : vdev;
	return r;
}

void vm_virtio_cleanup(struct vm *vm)
{
	struct vm_virtio *v = vm->virtio;

	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		v->devs[i]->ops->free(v->devs[i]);
		virtio_mmio_free(v->mmio[i]);
	}
	free(v);
	vm->virtio = NULL;
}
