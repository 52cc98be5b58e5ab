// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/util.h"

#define TUN_DEVICE "/dev/net/tun"

static int open_by_name(const char *name, const char *what)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd, err;

	if (strlen(name) >= sizeof(ifr.ifr_name)) {
		vmm_error("%s: interface name '%s' is too long", what, name);
		return -EINVAL;
	}
	memcpy(ifr.ifr_name, name, strlen(name));
	fd = open(TUN_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		vmm_error("%s: cannot open %s: %s", what, TUN_DEVICE,
			  strerror(err));
		return -err;
	}
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = errno;
		vmm_error("%s: cannot attach to tap '%s': %s", what, name,
			  strerror(err));
		close(fd);
		return -err;
	}
	return fd;
}

int tap_open(const char *name, int fd, const char *what, struct tap *tap)
{
	struct ifreq ifr = { 0 };
	int hdr_len = TAP_VNET_HDR_LEN, flags;
	unsigned int all = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

	memset(tap, 0, sizeof(*tap));
	tap->fd = name ? open_by_name(name, what) : fd;
	if (tap->fd < 0)
		return tap->fd;
	if (ioctl(tap->fd, TUNGETIFF, &ifr) < 0 && errno == EBADF) {
		vmm_error("%s: fd %d is not open", what, tap->fd);
		return -EBADF;
	}
	if ((ifr.ifr_flags & (IFF_TAP | IFF_TUN)) != IFF_TAP) {
		vmm_error("%s: fd %d is not a tap device", what, tap->fd);
		goto fail;
	}
	memcpy(tap->name, ifr.ifr_name, sizeof(tap->name) - 1);
	if (ifr.ifr_flags & IFF_NO_PI) {
		tap->vnet_hdr = (ifr.ifr_flags & IFF_VNET_HDR) &&
				ioctl(tap->fd, TUNSETVNETHDRSZ, &hdr_len) == 0;
	} else {
		vmm_error("%s: tap '%s' was opened without IFF_NO_PI", what,
			  tap->name);
		goto fail;
	}
	tap->offloads = tap->vnet_hdr && tap_set_offloads(tap, all) == 0 &&
			tap_set_offloads(tap, 0) == 0;
	flags = fcntl(tap->fd, F_GETFL);
	if (flags < 0 || fcntl(tap->fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(tap->fd, F_SETFD, FD_CLOEXEC) < 0) {
		vmm_error("%s: tap '%s': %s", what, tap->name, strerror(errno));
		goto fail;
	}
	if (!tap->vnet_hdr)
		vmm_warn("%s: tap '%s' has no virtio-net header: no offloads",
			 what, tap->name);
	return 0;
fail:
	close(tap->fd);
	tap->fd = -1;
	return -EINVAL;
}

void tap_close(struct tap *tap)
{
	if (tap->fd >= 0)
		close(tap->fd);
	tap->fd = -1;
}

int tap_set_offloads(struct tap *tap, unsigned int flags)
{
	return ioctl(tap->fd, TUNSETOFFLOAD, flags) < 0 ? -errno : 0;
}
