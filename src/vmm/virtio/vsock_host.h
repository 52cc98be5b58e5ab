/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host end of virtio-vsock: AF_UNIX stream sockets (docs/vsock.md).
 * Host clients connect to a listening socket and ask for a guest port;
 * guest connections to port P go to the socket NAME_P next to it.
 *
 * Opened once per process, before the sandbox: the listener, the
 * directory the NAME_P sockets are in (an O_PATH descriptor, so that
 * connecting needs neither open() nor the rights to the path above it,
 * nor a path that fits in a sockaddr_un) and the epoll instance the
 * device watches its host sockets with, so that a guest's many
 * connections take one watch of the main loop.
 */
#ifndef DUVISOR_VIRTIO_VSOCK_HOST_H
#define DUVISOR_VIRTIO_VSOCK_HOST_H

#include <stdint.h>

#include "core/vmm.h"

/* The epoll data of the listener; connections use their slot numbers. */
#define VSOCK_HOST_LISTENER UINT64_MAX

struct vsock_host {
	uint32_t guest_cid;
	int listen_fd;               /* non-blocking */
	int dir_fd;                  /* -1: guest connections are refused */
	char name[72];               /* NAME in dir_fd */
	char *bound_path;            /* the listener we bound, or NULL */
	int epoll_fd;                /* the listener and connections */
};

/* Opens what cfg names; returns 0 or -errno after a message. */
int vsock_host_open(const struct vmm_vsock_config *cfg,
		    struct vsock_host **out);
void vsock_host_close(struct vsock_host *h);

/* A new non-blocking connection to NAME_port, or -errno. */
int vsock_host_connect(const struct vsock_host *h, uint32_t port);

#endif
