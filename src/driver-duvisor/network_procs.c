// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Network procedures, delegated to libvirt's network driver (see
 * delegate.h): lists, lookups, life cycle, information, DHCP leases.
 */
#include "delegate_procs.h"

/* ---- host-wide lists ------------------------------------------------- */

static bool num_of_networks(virConnectPtr conn, void *args, void *ret,
			    struct rpc_error *err)
{
	dv_int_ret *r = ret;

	r->num = virConnectNumOfNetworks(conn);
	return r->num >= 0;
}

static bool num_of_defined_networks(virConnectPtr conn, void *args,
				    void *ret, struct rpc_error *err)
{
	dv_int_ret *r = ret;

	r->num = virConnectNumOfDefinedNetworks(conn);
	return r->num >= 0;
}

static bool list_names(virConnectPtr conn, int maxnames, bool defined,
		       dv_names_ret *r, struct rpc_error *err)
{
	g_autofree char **names = NULL;
	int n;

	if (!dv_wire_check_maxnames(maxnames, DV_NAME_LIST_MAX, err))
		return false;
	names = g_new0(char *, MAX(maxnames, 1));
	n = defined ? virConnectListDefinedNetworks(conn, names, maxnames)
		    : virConnectListNetworks(conn, names, maxnames);
	if (n < 0)
		return false;
	dv_wire_names_take(r, names, n);
	return true;
}

static bool list_networks(virConnectPtr conn, void *args, void *ret,
			  struct rpc_error *err)
{
	dv_list_names_args *a = args;

	return list_names(conn, a->maxnames, false, ret, err);
}

static bool list_defined_networks(virConnectPtr conn, void *args, void *ret,
				  struct rpc_error *err)
{
	dv_list_names_args *a = args;

	return list_names(conn, a->maxnames, true, ret, err);
}

static bool list_all_networks(virConnectPtr conn, void *args, void *ret,
			      struct rpc_error *err)
{
	dv_list_all_args *a = args;
	dv_connect_list_all_networks_ret *r = ret;
	virNetworkPtr *nets = NULL;
	int n = virConnectListAllNetworks(conn, a->need_results ? &nets : NULL,
					  a->flags);
	bool ok = n >= 0;

	if (!ok)
		return false;
	if (a->need_results) {
		r->nets.nets_val = g_new0(dv_nonnull_network, MAX(n, 1));
		for (int i = 0; i < n; i++) {
			if (ok && !dv_wire_network_fill(&r->nets.nets_val[i],
							nets[i]))
				ok = false;
			dv_virNetworkFree(nets[i]);
		}
		r->nets.nets_len = (u_int)n;
		free(nets);
	}
	r->ret = (u_int)n;
	return ok;
}

/* ---- lookups and definitions ------------------------------------------- */

static bool found(virNetworkPtr net, dv_network_ret *r)
{
	bool ok = net && dv_wire_network_fill(&r->net, net);

	if (net)
		dv_virNetworkFree(net);
	return ok;
}

static bool lookup_by_name(virConnectPtr conn, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_name_args *a = args;

	return found(virNetworkLookupByName(conn, a->name), ret);
}

static bool lookup_by_uuid(virConnectPtr conn, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_uuid_args *a = args;

	return found(virNetworkLookupByUUID(conn,
			(const unsigned char *)a->uuid), ret);
}

static bool create_xml(virConnectPtr conn, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_xml_args *a = args;

	return found(virNetworkCreateXML(conn, a->xml), ret);
}

static bool define_xml(virConnectPtr conn, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_xml_args *a = args;

	return found(virNetworkDefineXML(conn, a->xml), ret);
}

/* ---- life cycle --------------------------------------------------------- */

static bool net_create(virConnectPtr conn, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_network_only_args *a = args;
	g_autoptr(virNetwork) net = dv_wire_network_get(conn, &a->net);

	return net && virNetworkCreate(net) == 0;
}

static bool net_destroy(virConnectPtr conn, void *args, void *ret,
			struct rpc_error *err)
{
	dv_network_only_args *a = args;
	g_autoptr(virNetwork) net = dv_wire_network_get(conn, &a->net);

	return net && virNetworkDestroy(net) == 0;
}

static bool net_undefine(virConnectPtr conn, void *args, void *ret,
			 struct rpc_error *err)
{
	dv_network_only_args *a = args;
	g_autoptr(virNetwork) net = dv_wire_network_get(conn, &a->net);

	return net && virNetworkUndefine(net) == 0;
}

/* Changes one part of the definition (a DHCP host, a port group...). */
static bool net_update(virConnectPtr conn, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_network_update_args *a = args;
	g_autoptr(virNetwork) net = dv_wire_network_get(conn, &a->net);

	/* We do not claim VIR_DRV_FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER,
	 * so clients send the section in "command" and the command in
	 * "section", as early libvirt daemons expected. */
	return net && virNetworkUpdate(net, a->section, a->command,
				       a->parentIndex, a->xml, a->flags) == 0;
}

/* ---- information -------------------------------------------------------- */

static bool get_xml_desc(virConnectPtr conn, void *args, void *ret,
			 struct rpc_error *err)
{
	dv_network_flags_args *a = args;
	dv_string_ret *r = ret;
	g_autoptr(virNetwork) net = dv_wire_network_get(conn, &a->net);

	r->str = net ? virNetworkGetXMLDesc(net, a->flags) : NULL;
	return r->str != NULL;
}

static bool get_bridge_name(virConnectPtr conn, void *args, void *ret,
			    struct rpc_error *err)
{
	dv_network_only_args *a = args;
	dv_string_ret *r = ret;
	g_autoptr(virNetwork) net = dv_wire_network_get(conn, &a->net);

	r->str = net ? virNetworkGetBridgeName(net) : NULL;
	return r->str != NULL;
}

static bool get_autostart(virConnectPtr conn, void *args, void *ret,
			  struct rpc_error *err)
{
	dv_network_only_args *a = args;
	dv_int_ret *r = ret;
	g_autoptr(virNetwork) net = dv_wire_network_get(conn, &a->net);

	return net && virNetworkGetAutostart(net, &r->num) == 0;
}

static bool set_autostart(virConnectPtr conn, void *args, void *ret,
			  struct rpc_error *err)
{
	dv_network_set_autostart_args *a = args;
	g_autoptr(virNetwork) net = dv_wire_network_get(conn, &a->net);

	return net && virNetworkSetAutostart(net, a->autostart) == 0;
}

static bool is_active(virConnectPtr conn, void *args, void *ret,
		      struct rpc_error *err)
{
	dv_network_only_args *a = args;
	dv_int_ret *r = ret;
	g_autoptr(virNetwork) net = dv_wire_network_get(conn, &a->net);

	r->num = net ? virNetworkIsActive(net) : -1;
	return r->num >= 0;
}

static bool is_persistent(virConnectPtr conn, void *args, void *ret,
			  struct rpc_error *err)
{
	dv_network_only_args *a = args;
	dv_int_ret *r = ret;
	g_autoptr(virNetwork) net = dv_wire_network_get(conn, &a->net);

	r->num = net ? virNetworkIsPersistent(net) : -1;
	return r->num >= 0;
}

/* ---- DHCP leases -------------------------------------------------------- */

/* An optional wire string: NULL stays NULL. */
static dv_string opt_string(const char *s)
{
	dv_string out;

	if (!s)
		return NULL;
	out = g_new(char *, 1);
	*out = g_strdup(s);
	return out;
}

static void fill_lease(dv_network_dhcp_lease *out,
		       const virNetworkDHCPLease *l)
{
	out->iface = g_strdup(l->iface ? l->iface : "");
	out->expirytime = l->expirytime;
	out->type = l->type;
	out->mac = opt_string(l->mac);
	out->iaid = opt_string(l->iaid);
	out->ipaddr = g_strdup(l->ipaddr ? l->ipaddr : "");
	out->prefix = l->prefix;
	out->hostname = opt_string(l->hostname);
	out->clientid = opt_string(l->clientid);
}

static bool get_dhcp_leases(virConnectPtr conn, void *args, void *ret,
			    struct rpc_error *err)
{
	dv_network_get_dhcp_leases_args *a = args;
	dv_network_get_dhcp_leases_ret *r = ret;
	g_autoptr(virNetwork) net = dv_wire_network_get(conn, &a->net);
	virNetworkDHCPLeasePtr *leases = NULL;
	int n;

	if (!net)
		return false;
	n = virNetworkGetDHCPLeases(net, a->mac ? *a->mac : NULL,
				    a->need_results ? &leases : NULL,
				    a->flags);
	if (n < 0)
		return false;
	if (n > DV_DHCP_LEASES_MAX) {
		rpc_error_set_domain(err, VIR_FROM_NETWORK,
				     VIR_ERR_INTERNAL_ERROR,
				     "%d leases are more than the %d a reply "
				     "can carry", n, DV_DHCP_LEASES_MAX);
		for (int i = 0; leases && i < n; i++)
			virNetworkDHCPLeaseFree(leases[i]);
		free(leases);
		return false;
	}
	if (a->need_results) {
		r->leases.leases_val = g_new0(dv_network_dhcp_lease, MAX(n, 1));
		for (int i = 0; i < n; i++) {
			fill_lease(&r->leases.leases_val[i], leases[i]);
			virNetworkDHCPLeaseFree(leases[i]);
		}
		r->leases.leases_len = (u_int)n;
		free(leases);
	}
	r->ret = (u_int)n;
	return true;
}

static const struct dv_delegate_proc network_procs[] = {
	DV_DELEGATE_PROC(DV_PROC_CONNECT_NUM_OF_NETWORKS, num_of_networks,
			 rpc_void, dv_int_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_CONNECT_LIST_NETWORKS, list_networks,
			 dv_list_names_args, dv_names_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_CONNECT_NUM_OF_DEFINED_NETWORKS,
			 num_of_defined_networks, rpc_void, dv_int_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_CONNECT_LIST_DEFINED_NETWORKS,
			 list_defined_networks, dv_list_names_args,
			 dv_names_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_CONNECT_LIST_ALL_NETWORKS, list_all_networks,
			 dv_list_all_args, dv_connect_list_all_networks_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_LOOKUP_BY_NAME, lookup_by_name,
			 dv_name_args, dv_network_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_LOOKUP_BY_UUID, lookup_by_uuid,
			 dv_uuid_args, dv_network_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_CREATE_XML, create_xml, dv_xml_args,
			 dv_network_ret, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_DEFINE_XML, define_xml, dv_xml_args,
			 dv_network_ret, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_CREATE, net_create,
			 dv_network_only_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_DESTROY, net_destroy,
			 dv_network_only_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_UNDEFINE, net_undefine,
			 dv_network_only_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_UPDATE, net_update,
			 dv_network_update_args, rpc_void, RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_GET_XML_DESC, get_xml_desc,
			 dv_network_flags_args, dv_string_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_GET_BRIDGE_NAME, get_bridge_name,
			 dv_network_only_args, dv_string_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_GET_AUTOSTART, get_autostart,
			 dv_network_only_args, dv_int_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_SET_AUTOSTART, set_autostart,
			 dv_network_set_autostart_args, rpc_void,
			 RPC_PROC_WRITE),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_IS_ACTIVE, is_active,
			 dv_network_only_args, dv_int_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_IS_PERSISTENT, is_persistent,
			 dv_network_only_args, dv_int_ret, 0),
	DV_DELEGATE_PROC(DV_PROC_NETWORK_GET_DHCP_LEASES, get_dhcp_leases,
			 dv_network_get_dhcp_leases_args,
			 dv_network_get_dhcp_leases_ret, 0),
};

void dv_network_procs_register(void)
{
	dv_delegate_register(DV_DELEGATE_NETWORK, network_procs,
			     G_N_ELEMENTS(network_procs));
}
