// SPDX-License-Identifier: GPL-2.0-or-later
/* Tap devices and bridges for guest NICs (see netdev_tap.h). */
#include <errno.h>
#include <fcntl.h>
#include <libvirt/virterror.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "domain_conf.h"
#include "netdev_tap.h"

#define TUN_DEVICE "/dev/net/tun"
/* The first byte of the host end's MAC address: see configure(). */
#define HOST_MAC_FIRST_BYTE 0xfe

/* dv_fail() with the errno @err's text appended. */
static bool sys_fail(GError **error, int err, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static bool sys_fail(GError **error, int err, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return dv_fail(error, VIR_ERR_OPERATION_FAILED, "%s: %s", msg,
		       g_strerror(err));
}

static void set_name(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	g_strlcpy(ifr->ifr_name, name, sizeof(ifr->ifr_name));
}

static bool sysfs_exists(const char *ifname, const char *entry)
{
	g_autofree char *path = g_strdup_printf("/sys/class/net/%s/%s",
						ifname, entry);

	return access(path, F_OK) == 0;
}

static bool check_bridge(const char *bridge, GError **error)
{
	if (strlen(bridge) >= IFNAMSIZ || !if_nametoindex(bridge))
		return dv_fail(error, VIR_ERR_OPERATION_FAILED,
			       "bridge '%s' does not exist", bridge);
	if (!sysfs_exists(bridge, "bridge"))
		return dv_fail(error, VIR_ERR_OPERATION_FAILED,
			       "'%s' is not a bridge", bridge);
	return true;
}

/* A name given in the XML must not take over another kind of device;
 * the kernel would refuse, less clearly. */
static bool check_name(const struct dv_tap_spec *s, GError **error)
{
	if (strlen(s->name) >= IFNAMSIZ)
		return dv_fail(error, VIR_ERR_OPERATION_FAILED,
			       "interface name '%s' is too long", s->name);
	if (!if_nametoindex(s->name))
		return !s->existing ||
		       dv_fail(error, VIR_ERR_OPERATION_FAILED,
			       "tap device '%s' does not exist (it has "
			       "<target managed='no'>: someone else creates "
			       "it)", s->name);
	if (!sysfs_exists(s->name, "tun_flags"))
		return dv_fail(error, VIR_ERR_OPERATION_FAILED,
			       "'%s' exists and is not a tap device", s->name);
	return true;
}

static bool set_flag_up(int sock, const char *ifname, GError **error)
{
	struct ifreq ifr;

	set_name(&ifr, ifname);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return sys_fail(error, errno, "cannot read the flags of '%s'",
				ifname);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return sys_fail(error, errno, "cannot bring '%s' up", ifname);
	return true;
}

/*
 * The host end gets the guest's MAC address with the first byte 0xfe:
 * distinct from the guest's, yet recognisable, and high, because a Linux
 * bridge takes the lowest MAC address of its ports as its own, which
 * must not change as guests come and go.  Its MTU follows the bridge's
 * (a port with a smaller one would lower the bridge's, a larger one would
 * drop frames), unless the XML gives one; it is set before the tap joins
 * the bridge for the same reason.
 */
static bool configure(int sock, const char *ifname,
		      const struct dv_tap_spec *s, GError **error)
{
	unsigned int mtu = s->mtu;
	struct ifreq ifr;

	set_name(&ifr, ifname);
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, s->mac, 6);
	ifr.ifr_hwaddr.sa_data[0] = (char)HOST_MAC_FIRST_BYTE;
	if (ioctl(sock, SIOCSIFHWADDR, &ifr) < 0)
		return sys_fail(error, errno,
				"cannot set the MAC address of '%s'", ifname);
	if (!mtu && s->bridge) {
		set_name(&ifr, s->bridge);
		if (ioctl(sock, SIOCGIFMTU, &ifr) < 0)
			return sys_fail(error, errno,
					"cannot read the MTU of bridge '%s'",
					s->bridge);
		mtu = (unsigned int)ifr.ifr_mtu;
	}
	if (mtu) {
		set_name(&ifr, ifname);
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(sock, SIOCSIFMTU, &ifr) < 0)
			return sys_fail(error, errno,
					"cannot set the MTU of '%s' to %u",
					ifname, mtu);
	}
	if (s->bridge) {
		set_name(&ifr, s->bridge);
		ifr.ifr_ifindex = (int)if_nametoindex(ifname);
		if (ioctl(sock, SIOCBRADDIF, &ifr) < 0)
			return sys_fail(error, errno,
					"cannot attach '%s' to bridge '%s'",
					ifname, s->bridge);
	}
	return set_flag_up(sock, ifname, error);
}

int dv_tap_open(const struct dv_tap_spec *s, char **ifname, GError **error)
{
	struct ifreq ifr;
	int fd, sock, err;
	bool ok;

	if ((s->name && !check_name(s, error)) ||
	    (!s->existing && s->bridge && !check_bridge(s->bridge, error)))
		return -1;
	fd = open(TUN_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		sys_fail(error, errno, "cannot open %s", TUN_DEVICE);
		return -1;
	}
	/* "%d": the kernel picks the first free number, atomically. */
	set_name(&ifr, s->name ? s->name : DUVISOR_TAP_PREFIX "%d");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = errno;
		close(fd);
		if (s->name)
			sys_fail(error, err, "cannot open tap device '%s'",
				 s->name);
		else
			sys_fail(error, err, "cannot create a tap device");
		return -1;
	}
	/* An existing tap that vanished since check_name() was just made
	 * anew: not persistent, it goes again with this descriptor. */
	if (s->existing && (ioctl(fd, TUNGETIFF, &ifr) < 0 ||
			    !(ifr.ifr_flags & IFF_PERSIST))) {
		close(fd);
		dv_fail(error, VIR_ERR_OPERATION_FAILED,
			"tap device '%s' does not exist", s->name);
		return -1;
	}
	*ifname = g_strndup(ifr.ifr_name, sizeof(ifr.ifr_name));
	if (s->existing)
		return fd;
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		ok = sys_fail(error, errno, "cannot configure '%s'", *ifname);
	else
		ok = configure(sock, *ifname, s, error);
	if (sock >= 0)
		close(sock);
	if (!ok) {
		close(fd);
		g_clear_pointer(ifname, g_free);
		return -1;
	}
	return fd;
}

static bool read_counter(const char *ifname, const char *name, int64_t *out,
			 GError **error)
{
	g_autofree char *path = g_strdup_printf(
		"/sys/class/net/%s/statistics/%s", ifname, name);
	g_autofree char *text = NULL;
	guint64 v;

	/* Our own names (the kernel's or the status file's), all the same
	 * never a path. */
	if (strchr(ifname, '/') || !strcmp(ifname, "..") ||
	    !g_file_get_contents(path, &text, NULL, NULL) ||
	    !g_ascii_string_to_unsigned(g_strstrip(text), 10, 0, INT64_MAX,
					&v, NULL))
		return dv_fail(error, VIR_ERR_OPERATION_FAILED,
			       "cannot read the statistics of interface "
			       "'%s' (%s)", ifname, path);
	*out = (int64_t)v;
	return true;
}

bool dv_tap_stats(const char *ifname, struct dv_tap_stats *st,
		  GError **error)
{
	return read_counter(ifname, "tx_bytes", &st->rx_bytes, error) &&
	       read_counter(ifname, "tx_packets", &st->rx_packets, error) &&
	       read_counter(ifname, "tx_errors", &st->rx_errs, error) &&
	       read_counter(ifname, "tx_dropped", &st->rx_drop, error) &&
	       read_counter(ifname, "rx_bytes", &st->tx_bytes, error) &&
	       read_counter(ifname, "rx_packets", &st->tx_packets, error) &&
	       read_counter(ifname, "rx_errors", &st->tx_errs, error) &&
	       read_counter(ifname, "rx_dropped", &st->tx_drop, error);
}
