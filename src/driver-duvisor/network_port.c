// SPDX-License-Identifier: GPL-2.0-or-later
/* Ports of libvirt's networks for <interface type='network'> (see
 * network_port.h). */
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_log.h"
#include "delegate.h"
#include "domain_conf.h"
#include "network_port.h"

struct port_call {
	const char *network;
	const char *xml;	/* the port to create */
	const char *portid;	/* the port to delete */
	char *bridge;		/* created: where its tap goes */
	bool ported;		/* created through the port API */
};

typedef bool (*port_fn)(virConnectPtr conn, struct port_call *c,
			struct rpc_error *err);

/* @fn on the network connection; one that is found broken (libvirtd
 * restarted) is replaced once. */
static bool run(port_fn fn, struct port_call *c, struct rpc_error *err)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		g_autoptr(virConnect) conn = NULL;
		bool ok;

		rpc_error_clear(err);
		conn = dv_delegate_connect(DV_DELEGATE_NETWORK, err);
		if (!conn)
			return false;
		dv_delegate_forget_error();
		ok = fn(conn, c, err);
		if (ok || rpc_error_is_set(err)) {
			dv_delegate_forget_error();
			return ok;
		}
		if (!dv_delegate_failed(DV_DELEGATE_NETWORK, conn, err))
			return false;
	}
	return false;
}

/* The bridge of the port's <plug type='network|bridge' bridge='...'/>;
 * the other kinds (direct: macvtap, hostdev-pci) are not a tap's. */
static char *plug_bridge(const char *xml, char **type)
{
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "networkport.xml",
				    NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	char *bridge = NULL;

	for (xmlNode *n = root ? root->children : NULL; n; n = n->next) {
		xmlChar *t, *b;

		if (n->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)n->name, "plug") != 0)
			continue;
		t = xmlGetNoNsProp(n, (const xmlChar *)"type");
		b = xmlGetNoNsProp(n, (const xmlChar *)"bridge");
		*type = g_strdup(t ? (const char *)t : "");
		if (t && b && (!strcmp((const char *)t, "network") ||
			       !strcmp((const char *)t, "bridge")))
			bridge = g_strdup((const char *)b);
		xmlFree(t);
		xmlFree(b);
	}
	if (doc)
		xmlFreeDoc(doc);
	return bridge;
}

static bool create_port(virConnectPtr conn, struct port_call *c,
			struct rpc_error *err)
{
	g_autoptr(virNetwork) net = virNetworkLookupByName(conn, c->network);
	g_autoptr(virNetworkPort) port = NULL;
	g_autofree char *type = NULL;
	char *xml, *br;

	if (!net)
		return false;
	/* libvirt's words for it, before the port says something else. */
	if (virNetworkIsActive(net) == 0) {
		rpc_error_set_domain(err, VIR_FROM_NETWORK,
				     VIR_ERR_OPERATION_INVALID,
				     "network '%s' is not active", c->network);
		return false;
	}
	port = virNetworkPortCreateXML(net, c->xml, 0);
	if (!port) {
		if (virGetLastErrorCode() != VIR_ERR_NO_SUPPORT)
			return false;
		/* A network driver without ports: its bridge alone. */
		dv_delegate_forget_error();
		br = virNetworkGetBridgeName(net);
		if (!br)
			return false;
		c->bridge = g_strdup(br);
		free(br);
		return true;
	}
	xml = virNetworkPortGetXMLDesc(port, 0);
	if (!xml) {
		dv_delegate_failed(DV_DELEGATE_NETWORK, conn, err);
		virNetworkPortDelete(port, 0);
		return false;
	}
	c->bridge = plug_bridge(xml, &type);
	free(xml);
	if (c->bridge) {
		c->ported = true;
		return true;
	}
	virNetworkPortDelete(port, 0);
	rpc_error_set_domain(err, VIR_FROM_NETWORK,
			     VIR_ERR_CONFIG_UNSUPPORTED,
			     "network '%s' gives ports of type '%s': DuVisor "
			     "connects interfaces to networks on a bridge only",
			     c->network, type && *type ? type : "none");
	return false;
}

bool dv_network_port_create(const char *network, const char *owner,
			    const uint8_t owner_uuid[16], const uint8_t mac[6],
			    char **bridge, char **portid, GError **error)
{
	g_autofree char *name = g_markup_escape_text(owner, -1);
	g_autofree char *xml = NULL;
	struct port_call c = { .network = network };
	struct rpc_error err = { 0 };
	char id[37], owner_id[37], mac_text[18];
	uint8_t uuid[16];
	bool ok;

	/* The client names the port (libvirt's network driver wants it). */
	duvisor_uuid_generate(uuid);
	duvisor_uuid_format(uuid, id);
	duvisor_uuid_format(owner_uuid, owner_id);
	duvisor_mac_format(mac, mac_text);
	xml = g_strdup_printf("<networkport>\n"
			      "  <uuid>%s</uuid>\n"
			      "  <owner>\n"
			      "    <name>%s</name>\n"
			      "    <uuid>%s</uuid>\n"
			      "  </owner>\n"
			      "  <mac address='%s'/>\n"
			      "</networkport>\n", id, name, owner_id, mac_text);
	c.xml = xml;
	ok = run(create_port, &c, &err);
	if (ok) {
		*bridge = c.bridge;
		*portid = c.ported ? g_strdup(id) : NULL;
		DV_DEBUG("network '%s': port %s for %s on bridge %s", network,
			 c.ported ? id : "(none)", mac_text, c.bridge);
	} else {
		g_free(c.bridge);
		dv_fail(error, err.code, "%s", err.message ? err.message
				: "libvirt's network driver failed");
	}
	rpc_error_clear(&err);
	return ok;
}

static bool delete_port(virConnectPtr conn, struct port_call *c,
			struct rpc_error *err)
{
	g_autoptr(virNetwork) net = virNetworkLookupByName(conn, c->network);
	g_autoptr(virNetworkPort) port = NULL;

	if (!net)
		return false;
	port = virNetworkPortLookupByUUIDString(net, c->portid);
	return port && virNetworkPortDelete(port, 0) == 0;
}

void dv_network_port_delete(const char *network, const char *portid)
{
	struct port_call c = { .network = network, .portid = portid };
	struct rpc_error err = { 0 };

	if (run(delete_port, &c, &err)) {
		DV_DEBUG("network '%s': port %s deleted", network, portid);
	} else if (err.code == VIR_ERR_NO_NETWORK ||
		   err.code == VIR_ERR_NO_NETWORK_PORT) {
		DV_DEBUG("network '%s': port %s is gone already", network,
			 portid);
	} else {
		DV_WARN("cannot delete port %s of network '%s': %s", portid,
			network, err.message ? err.message : "unknown error");
	}
	rpc_error_clear(&err);
}
