// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * <interface type='network'>: the NIC's port on one of libvirt's
 * networks, asked of libvirt's network driver over the delegate connection
 * (delegate.h), as libvirt's own hypervisor drivers do.  The port tells
 * which bridge the tap goes on; the network driver counts it among the
 * network's connections until it is deleted, when the domain stops.
 *
 * They block for a few round trips to the local libvirt daemon.
 */
#ifndef DV_NETWORK_PORT_H
#define DV_NETWORK_PORT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* A port of @network for the NIC with MAC @mac of domain @owner
 * (@owner_uuid): *bridge (g_free) is the bridge to attach its tap to,
 * *portid (g_free) the port's UUID, NULL when the network driver has no
 * port API (libvirt before 5.5: the bridge is then the network's).
 * Errors in DUVISOR_CONF_ERROR keep libvirt's code and message:
 * VIR_ERR_NO_NETWORK, VIR_ERR_OPERATION_INVALID (not active),
 * VIR_ERR_NO_SUPPORT (libvirt unreachable); VIR_ERR_CONFIG_UNSUPPORTED
 * for networks whose ports are no bridge (macvtap, host devices). */
bool dv_network_port_create(const char *network, const char *owner,
			    const uint8_t owner_uuid[16], const uint8_t mac[6],
			    char **bridge, char **portid, GError **error);

/* Deletes the port (a warning in the daemon's log when it fails; a
 * network that is gone took its ports along). */
void dv_network_port_delete(const char *network, const char *portid);

#endif
