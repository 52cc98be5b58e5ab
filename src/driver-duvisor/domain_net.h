// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The host side of a running domain's interfaces, one struct dv_nic per
 * <interface> of the definition it runs with: the tap its VMM got
 * (netdev_tap.h), the bridge the tap is on, and for type='network' the
 * port of libvirt's network (network_port.h).
 *
 * The tap itself needs no undoing (it goes with the VMM's descriptor); a
 * network port does, once the VMM is gone: dv_nics_release().  The list is
 * kept in the domain's status file (domain_status.c), so that a restarted
 * daemon still knows the taps (domiflist, domifstat) and can delete the
 * ports.
 */
#ifndef DV_DOMAIN_NET_H
#define DV_DOMAIN_NET_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain_conf.h"
#include "netdev_tap.h"

struct dv_nic {
	char *tap;		/* the host's interface */
	char *bridge;		/* the bridge it is on, or NULL */
	char *network;		/* type='network': the network... */
	char *portid;		/* ...and its port, or NULL */
};

/* A list of struct dv_nic * (freed with it, nothing released). */
GPtrArray *dv_nics_new(void);

/* Opens the tap of interface @index of @def (domain @name, @uuid) and
 * records it in @nics at @index: its descriptor, or -1 with @error
 * (DUVISOR_CONF_ERROR; libvirt's codes for type='network').  Nothing is
 * left behind on failure. */
int dv_nics_open(GPtrArray *nics, const struct duvisor_domain_def *def,
		 guint index, const char *name, const uint8_t uuid[16],
		 GError **error);

/* The VMM is gone: deletes the network ports and empties @nics (NULL:
 * nothing to do). */
void dv_nics_release(GPtrArray *nics);

/* In and out of a status file, as groups "interface N" (none: an empty
 * list). */
void dv_nics_save(GPtrArray *nics, GKeyFile *kf);
GPtrArray *dv_nics_load(GKeyFile *kf);

/* The live XML's view of @nics (pointing into it; g_free the array). */
struct duvisor_net_live *dv_nics_live(GPtrArray *nics, size_t *n);

/* The interface whose tap is named @path, or whose MAC address it is
 * (as virDomainInterfaceStats takes either): its index, or -1. */
int dv_nics_find(GPtrArray *nics, const struct duvisor_domain_def *def,
		 const char *path);

#endif
