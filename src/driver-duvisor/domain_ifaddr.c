// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virDomainInterfaceAddresses (`virsh domifaddr`) without a guest agent:
 * what the host knows of a running domain's NICs.
 *  - lease (the default): the DHCP leases libvirt's network hands out,
 *    asked of libvirt's network driver over the delegate connection, for
 *    the NICs of type='network';
 *  - arp: the host's neighbour table (/proc/net/arp), for every type:
 *    the addresses the guest's MACs were seen with, on any host device
 *    (a tap on a bridge is seen on the bridge).
 * A NIC with no address is left out, as libvirt does.
 */
#include <libvirt/libvirt.h>
#include <string.h>

#include "delegate.h"
#include "domain_lifecycle.h"
#include "domain_net.h"
#include "domain_procs.h"

#define ARP_FLAG_COMPLETE 0x2

static void clear_addr(gpointer p)
{
	g_free(((dv_domain_ip_addr *)p)->addr);
}

/* Collects the addresses of one NIC; freed by the XDR free of the reply. */
static void add_addr(GArray *addrs, int type, const char *addr,
		     unsigned int prefix)
{
	dv_domain_ip_addr a = {
		.type = type,
		.addr = g_strdup(addr),
		.prefix = prefix,
	};

	g_array_append_val(addrs, a);
}

/* The complete entries of /proc/net/arp with hardware address @mac:
 * "IP HW-type Flags HW-address Mask Device" after a header line. */
static void arp_addrs(const char *mac, GArray *addrs)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents("/proc/net/arp", &text, NULL, NULL))
		return;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 1; lines[i]; i++) {
		char ip[64], hw[32], flags[16], mask[8], ifname[32];
		unsigned int type;

		if (sscanf(lines[i], "%63s %x %15s %31s %7s %31s", ip, &type,
			   flags, hw, mask, ifname) != 6)
			continue;
		if (g_ascii_strcasecmp(hw, mac) ||
		    !(g_ascii_strtoull(flags, NULL, 16) & ARP_FLAG_COMPLETE))
			continue;
		add_addr(addrs, VIR_IP_ADDR_TYPE_IPV4, ip, 0);
	}
}

/* The leases of @network for @mac; false with @err when the network
 * driver could not be asked. */
static bool lease_addrs(const char *network, const char *mac, GArray *addrs,
			struct rpc_error *err)
{
	g_autoptr(virConnect) conn = dv_delegate_connect(DV_DELEGATE_NETWORK,
							 err);
	g_autoptr(virNetwork) net = NULL;
	virNetworkDHCPLeasePtr *leases = NULL;
	int n;

	if (!conn)
		return false;
	net = virNetworkLookupByName(conn, network);
	n = net ? virNetworkGetDHCPLeases(net, mac, &leases, 0) : -1;
	if (n < 0) {
		dv_delegate_failed(DV_DELEGATE_NETWORK, conn, err);
		return false;
	}
	for (int i = 0; i < n; i++) {
		add_addr(addrs, leases[i]->type, leases[i]->ipaddr,
			 leases[i]->prefix);
		virNetworkDHCPLeaseFree(leases[i]);
	}
	free(leases);
	dv_delegate_forget_error();
	return true;
}

static int domain_interface_addresses(struct rpc_call *call, void *args,
				      void *ret, struct rpc_error *err)
{
	dv_domain_interface_addresses_args *a = args;
	dv_domain_interface_addresses_ret *r = ret;
	g_autoptr(GArray) ifaces = g_array_new(FALSE, TRUE,
					       sizeof(dv_domain_interface));
	struct dv_domain *dom = dv_procs_get_domain(&a->dom, err);
	GPtrArray *nics;

	if (!dom)
		return RPC_HANDLER_ERROR;
	if (a->flags) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", a->flags);
		return RPC_HANDLER_ERROR;
	}
	if (a->source != VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE &&
	    a->source != VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP) {
		rpc_error_set(err, VIR_ERR_ARGUMENT_UNSUPPORTED,
			      "no guest agent: addresses come from DHCP "
			      "leases or the ARP table only");
		return RPC_HANDLER_ERROR;
	}
	nics = dv_domain_nics(dom);
	if (!nics) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "domain '%s' is not running",
			      dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	for (guint i = 0; i < nics->len && i < dom->def->nets->len; i++) {
		const struct dv_nic *nic = g_ptr_array_index(nics, i);
		const struct duvisor_net_def *n = duvisor_def_net(dom->def, i);
		g_autoptr(GArray) addrs = NULL;
		dv_domain_interface iface = { 0 };
		char mac[18];

		if (!nic->tap)
			continue;
		addrs = g_array_new(FALSE, TRUE, sizeof(dv_domain_ip_addr));
		g_array_set_clear_func(addrs, clear_addr);
		duvisor_mac_format(n->mac, mac);
		if (a->source == VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP)
			arp_addrs(mac, addrs);
		else if (nic->network &&
			 !lease_addrs(nic->network, mac, addrs, err))
			break;
		if (!addrs->len)
			continue;
		iface.name = g_strdup(nic->tap);
		iface.hwaddr = g_new0(char *, 1);
		*iface.hwaddr = g_strdup(mac);
		iface.addrs.addrs_len = addrs->len;
		/* The strings now belong to the reply. */
		g_array_set_clear_func(addrs, NULL);
		iface.addrs.addrs_val = (dv_domain_ip_addr *)
			g_array_free(g_steal_pointer(&addrs), FALSE);
		g_array_append_val(ifaces, iface);
	}
	/* Also on an error: the reply is freed with what it holds. */
	r->ifaces.ifaces_len = ifaces->len;
	r->ifaces.ifaces_val = (dv_domain_interface *)
		g_array_free(g_steal_pointer(&ifaces), FALSE);
	return rpc_error_is_set(err) ? RPC_HANDLER_ERROR : RPC_HANDLER_OK;
}

static const struct rpc_proc_def procs[] = {
	RPC_PROC(DV_PROC_DOMAIN_INTERFACE_ADDRESSES, domain_interface_addresses,
		 dv_domain_interface_addresses_args,
		 dv_domain_interface_addresses_ret, 0),
};

void dv_domain_ifaddr_procs_register(void)
{
	rpc_dispatch_register(procs, G_N_ELEMENTS(procs));
}
