// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain XML parser: <interface>.
 *
 * Every interface becomes a virtio-net NIC of duvisor-vmm on a tap device
 * the daemon opens when the domain starts (domain_net.c): a new tap on a
 * bridge (type='bridge', and type='network' through libvirt's network
 * driver), a new tap alone or an existing one (type='ethernet').  What a
 * guest could not get (other models, user-mode networking, Open vSwitch
 * ports, more NICs than the VMM has) is refused here, when the domain is
 * defined, rather than started without the network it was defined with.
 */
#include <string.h>

#include "domain_conf_priv.h"

static bool parse_mac(struct duvisor_net_def *i, xmlNode *c, GError **error)
{
	static const char *const attrs[] = { "address", NULL };
	g_autofree char *v = NULL;

	if (!dv_check_node(c, "<interface><mac>", attrs, NULL, false, error) ||
	    !dv_need_prop(c, "address", "<interface><mac>", &v, error))
		return false;
	if (!duvisor_mac_parse(v, i->mac))
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "malformed MAC address '%.40s'", v);
	if (i->mac[0] & 1)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "MAC address '%s' is multicast", v);
	return true;
}

static bool parse_model(struct duvisor_net_def *i, xmlNode *c,
			GError **error)
{
	static const char *const attrs[] = { "type", NULL };
	g_autofree char *v = NULL;

	if (!dv_check_node(c, "<interface><model>", attrs, NULL, false,
			   error) ||
	    !dv_need_prop(c, "type", "<interface><model>", &v, error))
		return false;
	/* virt-install writes e1000 for any URI but qemu's; the guest would
	 * find no such card, so say what works instead. */
	if (strcmp(v, "virtio") != 0)
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "interface model '%.40s' is not supported: "
			       "DuVisor guests have virtio-net NICs (<model "
			       "type='virtio'/>; virt-install: --network "
			       "...,model=virtio)", v);
	g_free(i->model);
	i->model = g_steal_pointer(&v);
	return true;
}

static bool parse_target(struct duvisor_net_def *i, xmlNode *c,
			 GError **error)
{
	static const char *const attrs[] = { "dev", "managed", NULL };
	const char *where = "<interface><target>";
	g_autofree char *v = NULL;

	if (!dv_check_node(c, where, attrs, NULL, false, error) ||
	    !dv_need_prop(c, "dev", where, &v, error) ||
	    !dv_prop_tristate(c, "managed", where, true, &i->target_managed,
			      error))
		return false;
	/* IFNAMSIZ, and what "ip link" accepts without quoting. */
	if (strlen(v) > 15 || strspn(v, "abcdefghijklmnopqrstuvwxyz"
				     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789_.-") != strlen(v))
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "invalid interface name '%.40s'", v);
	if (i->target_managed == DUVISOR_OFF &&
	    i->type != DUVISOR_NET_ETHERNET)
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "<target managed='no'> (an existing tap) is "
			       "only supported with <interface "
			       "type='ethernet'>");
	g_free(i->target);
	i->target = NULL;
	/* A generated name is live state, not configuration; a tap someone
	 * else made keeps the name it has. */
	if (g_str_has_prefix(v, DUVISOR_TAP_PREFIX) &&
	    i->target_managed != DUVISOR_OFF)
		i->target_managed = DUVISOR_UNSET;
	else
		i->target = g_steal_pointer(&v);
	return true;
}

static bool parse_driver(struct duvisor_net_def *i, xmlNode *c,
			 GError **error)
{
	static const char *const attrs[] = { "name", "queues", "rx_queue_size",
					     "tx_queue_size", NULL };
	static const char *const names[] = { "vhost", "qemu", NULL };
	const char *where = "<interface><driver>";
	int e;

	if (!dv_check_node(c, where, attrs, NULL, false, error) ||
	    !dv_prop_enum(c, "name", where, names, false, &e, error) ||
	    !dv_prop_uint(c, "queues", where, 1, 256, &i->queues, error) ||
	    !dv_prop_uint(c, "rx_queue_size", where, 1, 32768,
			  &i->rx_queue_size, error) ||
	    !dv_prop_uint(c, "tx_queue_size", where, 1, 32768,
			  &i->tx_queue_size, error))
		return false;
	g_free(i->driver_name);
	i->driver_name = e < 0 ? NULL : g_strdup(names[e]);
	return true;
}

/* <source network=... portid=... bridge=...>: the last two are what a
 * running domain's XML says about its port, dropped like the tap's name;
 * <source bridge=...> for type='bridge'. */
static bool parse_source(struct duvisor_net_def *i, xmlNode *c,
			 GError **error)
{
	static const char *const net_a[] = { "network", "portid", "bridge",
					     NULL };
	static const char *const br_a[] = { "bridge", NULL };
	const char *where = "<interface><source>";
	bool net = i->type == DUVISOR_NET_NETWORK;
	g_autofree char *portid = NULL, *bridge = NULL;
	uint8_t uuid[16];

	if (i->type == DUVISOR_NET_ETHERNET)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "<interface type='ethernet'> takes no "
			       "<source>");
	g_free(i->source);
	if (!dv_check_node(c, where, net ? net_a : br_a, NULL, false, error) ||
	    !dv_string_prop(c, net ? "network" : "bridge", where, true, false,
			    &i->source, error))
		return false;
	if (!net)
		return true;
	if (!dv_string_prop(c, "portid", where, false, false, &portid,
			    error) ||
	    !dv_string_prop(c, "bridge", where, false, false, &bridge, error))
		return false;
	if (portid && !duvisor_uuid_parse(portid, uuid))
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "malformed portid '%.40s' on %s", portid,
			       where);
	return true;
}

static bool parse_child(struct duvisor_net_def *i, xmlNode *c,
			GError **error)
{
	static const char *const size_a[] = { "size", NULL };
	static const char *const state_a[] = { "state", NULL };
	static const char *const link[] = { "", "up", "down", NULL };
	static const char *const order[] = { "order", NULL };
	int e;

	if (dv_is(c, "address") || dv_is(c, "alias"))
		return true;
	if (dv_is(c, "source"))
		return parse_source(i, c, error);
	if (dv_is(c, "mac"))
		return parse_mac(i, c, error);
	if (dv_is(c, "model"))
		return parse_model(i, c, error);
	if (dv_is(c, "target"))
		return parse_target(i, c, error);
	if (dv_is(c, "driver"))
		return parse_driver(i, c, error);
	if (dv_is(c, "mtu"))
		return dv_check_node(c, "<interface><mtu>", size_a, NULL,
				     false, error) &&
		       dv_prop_uint(c, "size", "<interface><mtu>", 68, 65535,
				    &i->mtu, error);
	if (dv_is(c, "link")) {
		if (!dv_check_node(c, "<interface><link>", state_a, NULL,
				   false, error) ||
		    !dv_prop_enum(c, "state", "<interface><link>", link, true,
				  &e, error))
			return false;
		i->link_up = (enum duvisor_tristate)e;
		return true;
	}
	/* <boot> */
	return dv_check_node(c, "<interface><boot>", order, NULL, false,
			     error) &&
	       dv_prop_uint(c, "order", "<interface><boot>", 1, 255,
			    &i->boot_order, error);
}

static bool mac_used(const struct duvisor_domain_def *def,
		     const struct duvisor_net_def *i)
{
	for (guint k = 0; k < def->nets->len; k++) {
		const struct duvisor_net_def *o = duvisor_def_net(def, k);

		if (o != i && memcmp(o->mac, i->mac, 6) == 0)
			return true;
	}
	return false;
}

/* libvirt's choice: 52:54:00 (QEMU's prefix, which guests and tools
 * know as a VM's) and three random bytes, none of this domain's. */
static void generate_mac(const struct duvisor_domain_def *def,
			 struct duvisor_net_def *i)
{
	do {
		guint32 r = g_random_int();

		i->mac[0] = 0x52, i->mac[1] = 0x54, i->mac[2] = 0x00;
		i->mac[3] = (uint8_t)(r >> 16);
		i->mac[4] = (uint8_t)(r >> 8);
		i->mac[5] = (uint8_t)r;
	} while (mac_used(def, i));
}

/* Names and addresses tell the NICs apart (domifstat takes either). */
static bool check_unique(const struct duvisor_domain_def *def,
			 const struct duvisor_net_def *i, GError **error)
{
	char mac[18];

	if (mac_used(def, i)) {
		duvisor_mac_format(i->mac, mac);
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "MAC address '%s' is used by two interfaces",
			       mac);
	}
	for (guint k = 0; i->target && k < def->nets->len; k++) {
		const struct duvisor_net_def *o = duvisor_def_net(def, k);

		if (o != i && o->target && strcmp(o->target, i->target) == 0)
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "interface name '%s' is used twice",
				       i->target);
	}
	return true;
}

bool dv_parse_interface(struct duvisor_domain_def *def, xmlNode *n,
			GError **error)
{
	static const char *const attrs[] = { "type", NULL };
	static const char *const children[] = { "mac", "source", "model",
		"target", "driver", "mtu", "link", "boot", "address", "alias",
		NULL };
	g_autofree char *type = dv_prop(n, "type");
	struct duvisor_net_def *i;
	bool have_mac = false;
	int v;

	/* Known to libvirt, but nothing DuVisor could give: named. */
	if (type && strcmp(type, "user") == 0)
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "user-mode networking (<interface type='user'>) "
			       "is not supported: use type 'network', "
			       "'bridge' or 'ethernet'");
	DV_FOR_EACH_ELEMENT(c, n)
		if (dv_is(c, "virtualport"))
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "Open vSwitch ports (<interface>"
				       "<virtualport>) are not supported: "
				       "use a Linux bridge");
	if (def->nets->len >= DUVISOR_MAX_NICS)
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "too many network interfaces: duvisor-vmm "
			       "gives a guest at most %d", DUVISOR_MAX_NICS);
	i = g_new0(struct duvisor_net_def, 1);
	g_ptr_array_add(def->nets, i);
	if (!dv_check_node(n, "<interface>", attrs, children, false, error) ||
	    !dv_check_once(n, "<interface>", NULL, error) ||
	    !dv_prop_enum(n, "type", "<interface>", dv_net_type_names, true,
			  &v, error))
		return false;
	i->type = (enum duvisor_net_type)v;
	DV_FOR_EACH_ELEMENT(c, n) {
		have_mac |= dv_is(c, "mac");
		if (!parse_child(i, c, error))
			return false;
	}
	if (!i->source && i->type != DUVISOR_NET_ETHERNET)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "<interface type='%s'> needs a <source>",
			       dv_net_type_names[i->type]);
	if (!have_mac)
		generate_mac(def, i);
	return check_unique(def, i, error);
}
