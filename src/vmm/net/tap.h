/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tap device: the host end of a virtual NIC. Frames cross it with the
 * virtio-net header in front (IFF_VNET_HDR, sized to virtio 1.x's 12
 * bytes), so guest buffers go to and from the kernel without copies and
 * checksum/segmentation offloads pass through.
 */
#ifndef DUVISOR_NET_TAP_H
#define DUVISOR_NET_TAP_H

#include <stdbool.h>
#include <stdint.h>

/* The virtio 1.x net header: virtio_net_hdr + num_buffers. */
#define TAP_VNET_HDR_LEN 12

struct tap {
	int fd;                      /* non-blocking */
	char name[16];
	/* Frames carry TAP_VNET_HDR_LEN header bytes; false for a handed-in
	 * tap opened without IFF_VNET_HDR: no offloads then. */
	bool vnet_hdr;
	bool offloads;               /* TUNSETOFFLOAD works */
};

/* Opens the tap `name`, or adopts fd (>= 0). Returns 0 or -errno. */
int tap_open(const char *name, int fd, const char *what, struct tap *tap);
void tap_close(struct tap *tap);

/* Tells the kernel which offloads the guest takes (TUN_F_* flags). */
int tap_set_offloads(struct tap *tap, unsigned int flags);

#endif
