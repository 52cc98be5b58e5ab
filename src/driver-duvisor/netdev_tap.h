// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Host network devices for guest NICs: tap devices that the privileged
 * daemon creates (or, when told, opens as they are), configures and
 * attaches to a Linux bridge with the kernel's ioctls (no ip(8), no
 * brctl), and their counters.
 *
 * The daemon hands the tap's descriptor to the VMM (--net fd=N).  A tap
 * it creates is not persistent: the kernel removes it, and takes it off
 * its bridge, when the last descriptor closes, i.e. when the VMM exits,
 * or when a start fails before that and the daemon closes its copy.
 *
 * Errors are in DUVISOR_CONF_ERROR with VIR_ERR_OPERATION_FAILED.
 */
#ifndef DV_NETDEV_TAP_H
#define DV_NETDEV_TAP_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct dv_tap_spec {
	const char *name;	/* NULL: the first free "vnetN" */
	bool existing;		/* use the existing tap @name as it is */
	const uint8_t *mac;	/* the guest's MAC address */
	unsigned int mtu;	/* 0: the bridge's, or the kernel's default */
	const char *bridge;	/* the bridge to attach it to, or NULL */
};

/* A tap with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR: its descriptor
 * (close-on-exec) and its name in *ifname (g_free), or -1.  Unless
 * @spec->existing, it gets the guest's MAC with its first byte 0xfe, the
 * MTU, the bridge, and is brought up. */
int dv_tap_open(const struct dv_tap_spec *spec, char **ifname,
		GError **error);

/* A tap's counters as the guest sees them: what the host sends on the
 * tap the guest receives, so rx and tx are the host's tx and rx. */
struct dv_tap_stats {
	int64_t rx_bytes, rx_packets, rx_errs, rx_drop;
	int64_t tx_bytes, tx_packets, tx_errs, tx_drop;
};
bool dv_tap_stats(const char *ifname, struct dv_tap_stats *st,
		  GError **error);

#endif
