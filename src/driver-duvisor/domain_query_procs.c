// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain procedures that only read: lookups, lists, counts, information
 * and XML (see domain_procs.h).
 */
#include <libvirt/libvirt.h>

#include "domain_lifecycle.h"
#include "domain_net.h"
#include "domain_procs.h"

/* ---- lookups ------------------------------------------------------------ */

static int found(struct dv_domain *dom, dv_domain_ret *r)
{
	dv_procs_fill_domain(&r->dom, dom);
	return RPC_HANDLER_OK;
}

static int domain_lookup_by_id(struct rpc_call *call, void *args, void *ret,
			       struct rpc_error *err)
{
	dv_domain_lookup_by_id_args *a = args;
	struct dv_domain *dom = dv_domain_find_by_id(a->id);

	if (!dom) {
		rpc_error_set(err, VIR_ERR_NO_DOMAIN,
			      "no domain with matching id %d", a->id);
		return RPC_HANDLER_ERROR;
	}
	return found(dom, ret);
}

static int domain_lookup_by_name(struct rpc_call *call, void *args,
				 void *ret, struct rpc_error *err)
{
	dv_domain_lookup_by_name_args *a = args;
	struct dv_domain *dom = dv_domain_find_by_name(a->name);

	if (!dom) {
		rpc_error_set(err, VIR_ERR_NO_DOMAIN,
			      "no domain with matching name '%s'", a->name);
		return RPC_HANDLER_ERROR;
	}
	return found(dom, ret);
}

static int domain_lookup_by_uuid(struct rpc_call *call, void *args,
				 void *ret, struct rpc_error *err)
{
	dv_domain_lookup_by_uuid_args *a = args;
	struct dv_domain *dom =
		dv_domain_find_by_uuid((const uint8_t *)a->uuid);
	char uuid[37];

	if (!dom) {
		duvisor_uuid_format((const uint8_t *)a->uuid, uuid);
		rpc_error_set(err, VIR_ERR_NO_DOMAIN,
			      "no domain with matching uuid '%s'", uuid);
		return RPC_HANDLER_ERROR;
	}
	return found(dom, ret);
}

/* ---- lists ---------------------------------------------------------- */

bool dv_domain_list_match(struct dv_domain *dom, unsigned int f)
{
	const unsigned int activity = VIR_CONNECT_LIST_DOMAINS_ACTIVE |
				      VIR_CONNECT_LIST_DOMAINS_INACTIVE;
	const unsigned int persistence = VIR_CONNECT_LIST_DOMAINS_PERSISTENT |
					 VIR_CONNECT_LIST_DOMAINS_TRANSIENT;
	const unsigned int states = VIR_CONNECT_LIST_DOMAINS_RUNNING |
				    VIR_CONNECT_LIST_DOMAINS_PAUSED |
				    VIR_CONNECT_LIST_DOMAINS_SHUTOFF |
				    VIR_CONNECT_LIST_DOMAINS_OTHER;
	const unsigned int autostart = VIR_CONNECT_LIST_DOMAINS_AUTOSTART |
				       VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART;
	bool active = dv_domain_is_active(dom);
	unsigned int state_flag;

	if ((f & activity) &&
	    !(f & (active ? VIR_CONNECT_LIST_DOMAINS_ACTIVE
			  : VIR_CONNECT_LIST_DOMAINS_INACTIVE)))
		return false;
	if ((f & persistence) &&
	    !(f & (dom->persistent ? VIR_CONNECT_LIST_DOMAINS_PERSISTENT
				   : VIR_CONNECT_LIST_DOMAINS_TRANSIENT)))
		return false;
	switch (dom->state) {
	case VIR_DOMAIN_RUNNING:
		state_flag = VIR_CONNECT_LIST_DOMAINS_RUNNING;
		break;
	case VIR_DOMAIN_PAUSED:
		state_flag = VIR_CONNECT_LIST_DOMAINS_PAUSED;
		break;
	case VIR_DOMAIN_SHUTOFF:
		state_flag = VIR_CONNECT_LIST_DOMAINS_SHUTOFF;
		break;
	default:
		state_flag = VIR_CONNECT_LIST_DOMAINS_OTHER;
		break;
	}
	if ((f & states) && !(f & state_flag))
		return false;
	if ((f & autostart) &&
	    !(f & (dom->autostart ? VIR_CONNECT_LIST_DOMAINS_AUTOSTART
				  : VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART)))
		return false;
	/* No managed saves, snapshots or checkpoints exist. */
	if ((f & (VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE |
		  VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE)) &&
	    !(f & VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE))
		return false;
	if ((f & (VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT |
		  VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT)) &&
	    !(f & VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT))
		return false;
	if ((f & (VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT |
		  VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT)) &&
	    !(f & VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT))
		return false;
	return true;
}

static int list_all_domains(struct rpc_call *call, void *args, void *ret,
			    struct rpc_error *err)
{
	const unsigned int known =
		(VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT << 1) - 1;
	dv_connect_list_all_domains_args *a = args;
	dv_connect_list_all_domains_ret *r = ret;
	g_autoptr(GPtrArray) all = dv_domain_list();
	guint n = 0;

	if (a->flags & ~known) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", a->flags & ~known);
		return RPC_HANDLER_ERROR;
	}
	if (a->need_results)
		r->domains.domains_val = g_new0(dv_nonnull_domain,
						MAX(all->len, 1));
	for (guint i = 0; i < all->len && n < DV_DOMAIN_LIST_MAX; i++) {
		struct dv_domain *dom = g_ptr_array_index(all, i);

		if (!dv_domain_list_match(dom, a->flags))
			continue;
		if (a->need_results)
			dv_procs_fill_domain(&r->domains.domains_val[n], dom);
		n++;
	}
	r->domains.domains_len = a->need_results ? n : 0;
	r->ret = n;
	return RPC_HANDLER_OK;
}

static bool check_max(int max, struct rpc_error *err)
{
	if (max < 0 || max > DV_DOMAIN_LIST_MAX) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "the list size must be 0 to %d, not %d",
			      DV_DOMAIN_LIST_MAX, max);
		return false;
	}
	return true;
}

static int list_domains(struct rpc_call *call, void *args, void *ret,
			struct rpc_error *err)
{
	dv_connect_list_domains_args *a = args;
	dv_connect_list_domains_ret *r = ret;
	g_autoptr(GPtrArray) all = dv_domain_list();
	guint n = 0;

	if (!check_max(a->maxids, err))
		return RPC_HANDLER_ERROR;
	r->ids.ids_val = g_new0(int, MAX(all->len, 1));
	for (guint i = 0; i < all->len && n < (guint)a->maxids; i++) {
		struct dv_domain *dom = g_ptr_array_index(all, i);

		if (dv_domain_is_active(dom))
			r->ids.ids_val[n++] = dom->id;
	}
	r->ids.ids_len = n;
	return RPC_HANDLER_OK;
}

static int list_defined_domains(struct rpc_call *call, void *args,
				void *ret, struct rpc_error *err)
{
	dv_connect_list_defined_domains_args *a = args;
	dv_connect_list_defined_domains_ret *r = ret;
	g_autoptr(GPtrArray) all = dv_domain_list();
	guint n = 0;

	if (!check_max(a->maxnames, err))
		return RPC_HANDLER_ERROR;
	r->names.names_val = g_new0(char *, MAX(all->len, 1));
	for (guint i = 0; i < all->len && n < (guint)a->maxnames; i++) {
		struct dv_domain *dom = g_ptr_array_index(all, i);

		if (!dv_domain_is_active(dom))
			r->names.names_val[n++] = g_strdup(dv_domain_name(dom));
	}
	r->names.names_len = n;
	return RPC_HANDLER_OK;
}

static int num_of_domains(struct rpc_call *call, void *args, void *ret,
			  struct rpc_error *err)
{
	((dv_int_ret *)ret)->num = (int)dv_domain_count(true);
	return RPC_HANDLER_OK;
}

static int num_of_defined_domains(struct rpc_call *call, void *args,
				  void *ret, struct rpc_error *err)
{
	((dv_int_ret *)ret)->num = (int)dv_domain_count(false);
	return RPC_HANDLER_OK;
}

/* ---- information -------------------------------------------------- */

static bool no_flags(unsigned int flags, struct rpc_error *err)
{
	if (flags)
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", flags);
	return !flags;
}

static int domain_get_info(struct rpc_call *call, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_domain_get_info_ret *r = ret;
	GET_DOMAIN(dv_domain_only_args, err);

	r->state = (u_char)dom->state;
	r->maxMem = dom->def->memory_kib;
	r->memory = dom->def->current_memory_kib;
	r->nrVirtCpu = (u_short)dom->def->vcpus_current;
	r->cpuTime = dv_domain_cpu_time(dom);
	return RPC_HANDLER_OK;
}

static int domain_get_state(struct rpc_call *call, void *args, void *ret,
			    struct rpc_error *err)
{
	dv_domain_get_state_ret *r = ret;
	GET_DOMAIN(dv_domain_flags_args, err);

	if (!no_flags(((dv_domain_flags_args *)args)->flags, err))
		return RPC_HANDLER_ERROR;
	r->state = dom->state;
	r->reason = dom->reason;
	return RPC_HANDLER_OK;
}

static int domain_get_control_info(struct rpc_call *call, void *args,
				   void *ret, struct rpc_error *err)
{
	dv_domain_get_control_info_ret *r = ret;
	GET_DOMAIN(dv_domain_flags_args, err);

	if (!no_flags(((dv_domain_flags_args *)args)->flags, err))
		return RPC_HANDLER_ERROR;
	if (!dv_domain_is_active(dom)) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "domain '%s' is not running",
			      dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	r->state = VIR_DOMAIN_CONTROL_OK;
	return RPC_HANDLER_OK;
}

static int domain_get_xml_desc(struct rpc_call *call, void *args, void *ret,
			       struct rpc_error *err)
{
	const unsigned int known = VIR_DOMAIN_XML_SECURE |
				   VIR_DOMAIN_XML_INACTIVE |
				   VIR_DOMAIN_XML_UPDATE_CPU |
				   VIR_DOMAIN_XML_MIGRATABLE;
	dv_domain_get_xml_desc_ret *r = ret;
	unsigned int flags = ((dv_domain_flags_args *)args)->flags;
	struct duvisor_domain_live live = { 0 };
	g_autofree struct duvisor_net_live *nets = NULL;
	GET_DOMAIN(dv_domain_flags_args, err);

	if (flags & ~known) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", flags & ~known);
		return RPC_HANDLER_ERROR;
	}
	if ((flags & VIR_DOMAIN_XML_SECURE) &&
	    rpc_client_readonly(rpc_call_client(call))) {
		rpc_error_set(err, VIR_ERR_OPERATION_DENIED,
			      "the secure XML is not available on a "
			      "read-only connection");
		return RPC_HANDLER_ERROR;
	}
	if ((flags & VIR_DOMAIN_XML_INACTIVE) || !dv_domain_is_active(dom)) {
		r->xml = duvisor_domain_def_format(
			dv_domain_persistent_def(dom), NULL,
			flags | VIR_DOMAIN_XML_INACTIVE);
	} else {
		live.id = dom->id;
		live.console_pty = dv_domain_console_pty(dom);
		live.nets = nets = dv_nics_live(dv_domain_nics(dom),
						&live.n_nets);
		r->xml = duvisor_domain_def_format(dom->def, &live, flags);
	}
	if (!r->xml) {
		rpc_error_set(err, VIR_ERR_OPERATION_FAILED,
			      "cannot format the XML of domain '%s'",
			      dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	return RPC_HANDLER_OK;
}

static int domain_get_autostart(struct rpc_call *call, void *args,
				void *ret, struct rpc_error *err)
{
	GET_DOMAIN(dv_domain_only_args, err);

	((dv_int_ret *)ret)->num = dom->autostart;
	return RPC_HANDLER_OK;
}

static int domain_is_active(struct rpc_call *call, void *args, void *ret,
			    struct rpc_error *err)
{
	GET_DOMAIN(dv_domain_only_args, err);

	((dv_int_ret *)ret)->num = dv_domain_is_active(dom);
	return RPC_HANDLER_OK;
}

static int domain_is_persistent(struct rpc_call *call, void *args,
				void *ret, struct rpc_error *err)
{
	GET_DOMAIN(dv_domain_only_args, err);

	((dv_int_ret *)ret)->num = dom->persistent;
	return RPC_HANDLER_OK;
}

static int domain_is_updated(struct rpc_call *call, void *args, void *ret,
			     struct rpc_error *err)
{
	GET_DOMAIN(dv_domain_only_args, err);

	((dv_int_ret *)ret)->num = dom->newdef != NULL;
	return RPC_HANDLER_OK;
}

/* There are no managed saves and no snapshots. */
static int domain_has_managed_save(struct rpc_call *call, void *args,
				   void *ret, struct rpc_error *err)
{
	GET_DOMAIN(dv_domain_flags_args, err);

	(void)dom;
	if (!no_flags(((dv_domain_flags_args *)args)->flags, err))
		return RPC_HANDLER_ERROR;
	((dv_int_ret *)ret)->num = 0;
	return RPC_HANDLER_OK;
}

static int domain_snapshot_num(struct rpc_call *call, void *args, void *ret,
			       struct rpc_error *err)
{
	GET_DOMAIN(dv_domain_flags_args, err);

	(void)dom;
	((dv_int_ret *)ret)->num = 0;
	return RPC_HANDLER_OK;
}

static int domain_get_os_type(struct rpc_call *call, void *args, void *ret,
			      struct rpc_error *err)
{
	GET_DOMAIN(dv_domain_only_args, err);

	(void)dom;
	((dv_domain_get_os_type_ret *)ret)->type = g_strdup("hvm");
	return RPC_HANDLER_OK;
}

static int domain_get_max_memory(struct rpc_call *call, void *args,
				 void *ret, struct rpc_error *err)
{
	GET_DOMAIN(dv_domain_only_args, err);

	((dv_domain_get_max_memory_ret *)ret)->memory = dom->def->memory_kib;
	return RPC_HANDLER_OK;
}

static int domain_get_max_vcpus(struct rpc_call *call, void *args, void *ret,
				struct rpc_error *err)
{
	GET_DOMAIN(dv_domain_only_args, err);

	((dv_int_ret *)ret)->num = (int)dom->def->vcpus;
	return RPC_HANDLER_OK;
}

static int domain_get_vcpus_flags(struct rpc_call *call, void *args,
				  void *ret, struct rpc_error *err)
{
	const unsigned int known = VIR_DOMAIN_AFFECT_LIVE |
				   VIR_DOMAIN_AFFECT_CONFIG |
				   VIR_DOMAIN_VCPU_MAXIMUM |
				   VIR_DOMAIN_VCPU_GUEST;
	unsigned int flags = ((dv_domain_flags_args *)args)->flags;
	const struct duvisor_domain_def *def;
	bool live;
	GET_DOMAIN(dv_domain_flags_args, err);

	if ((flags & ~known) ||
	    ((flags & VIR_DOMAIN_AFFECT_LIVE) &&
	     (flags & VIR_DOMAIN_AFFECT_CONFIG))) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "invalid flags (0x%x)", flags);
		return RPC_HANDLER_ERROR;
	}
	if (flags & VIR_DOMAIN_VCPU_GUEST) {
		rpc_error_set(err, VIR_ERR_OPERATION_UNSUPPORTED,
			      "vCPU counts of the guest need a guest agent, "
			      "which DuVisor domains do not have");
		return RPC_HANDLER_ERROR;
	}
	live = (flags & VIR_DOMAIN_AFFECT_LIVE) ||
	       (!(flags & VIR_DOMAIN_AFFECT_CONFIG) &&
		dv_domain_is_active(dom));
	if (live && !dv_domain_is_active(dom)) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "domain '%s' is not running",
			      dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	if (!live && !dom->persistent) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "transient domain '%s' has no persistent "
			      "configuration", dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	def = live ? dom->def : dv_domain_persistent_def(dom);
	((dv_int_ret *)ret)->num = (int)((flags & VIR_DOMAIN_VCPU_MAXIMUM)
					 ? def->vcpus : def->vcpus_current);
	return RPC_HANDLER_OK;
}

/* A NIC's counters: those of its tap, from the guest's side (rx is what
 * the guest received), as libvirt gives them. */
static int domain_interface_stats(struct rpc_call *call, void *args,
				  void *ret, struct rpc_error *err)
{
	dv_domain_interface_stats_args *a = args;
	dv_domain_interface_stats_ret *r = ret;
	g_autoptr(GError) gerr = NULL;
	struct dv_tap_stats st;
	const struct dv_nic *nic = NULL;
	GPtrArray *nics;
	int i;
	GET_DOMAIN(dv_domain_interface_stats_args, err);

	nics = dv_domain_nics(dom);
	if (!nics) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "domain '%s' is not running",
			      dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	i = dv_nics_find(nics, dom->def, a->device);
	if (i >= 0 && (guint)i < nics->len)
		nic = g_ptr_array_index(nics, i);
	if (!nic || !nic->tap) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "invalid path, '%s' is not a known interface",
			      a->device);
		return RPC_HANDLER_ERROR;
	}
	if (!dv_tap_stats(nic->tap, &st, &gerr)) {
		dv_procs_set_error(err, gerr);
		return RPC_HANDLER_ERROR;
	}
	r->rx_bytes = st.rx_bytes;
	r->rx_packets = st.rx_packets;
	r->rx_errs = st.rx_errs;
	r->rx_drop = st.rx_drop;
	r->tx_bytes = st.tx_bytes;
	r->tx_packets = st.tx_packets;
	r->tx_errs = st.tx_errs;
	r->tx_drop = st.tx_drop;
	return RPC_HANDLER_OK;
}

static const struct rpc_proc_def procs[] = {
	RPC_PROC(DV_PROC_DOMAIN_LOOKUP_BY_ID, domain_lookup_by_id,
		 dv_domain_lookup_by_id_args, dv_domain_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_LOOKUP_BY_NAME, domain_lookup_by_name,
		 dv_domain_lookup_by_name_args, dv_domain_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_LOOKUP_BY_UUID, domain_lookup_by_uuid,
		 dv_domain_lookup_by_uuid_args, dv_domain_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_LIST_ALL_DOMAINS, list_all_domains,
		 dv_connect_list_all_domains_args,
		 dv_connect_list_all_domains_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_LIST_DOMAINS, list_domains,
		 dv_connect_list_domains_args, dv_connect_list_domains_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_LIST_DEFINED_DOMAINS, list_defined_domains,
		 dv_connect_list_defined_domains_args,
		 dv_connect_list_defined_domains_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_NUM_OF_DOMAINS, num_of_domains,
		 rpc_void, dv_int_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_NUM_OF_DEFINED_DOMAINS, num_of_defined_domains,
		 rpc_void, dv_int_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_INFO, domain_get_info,
		 dv_domain_only_args, dv_domain_get_info_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_STATE, domain_get_state,
		 dv_domain_flags_args, dv_domain_get_state_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_CONTROL_INFO, domain_get_control_info,
		 dv_domain_flags_args, dv_domain_get_control_info_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_XML_DESC, domain_get_xml_desc,
		 dv_domain_flags_args, dv_domain_get_xml_desc_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_AUTOSTART, domain_get_autostart,
		 dv_domain_only_args, dv_int_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_IS_ACTIVE, domain_is_active,
		 dv_domain_only_args, dv_int_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_IS_PERSISTENT, domain_is_persistent,
		 dv_domain_only_args, dv_int_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_IS_UPDATED, domain_is_updated,
		 dv_domain_only_args, dv_int_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE, domain_has_managed_save,
		 dv_domain_flags_args, dv_int_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_SNAPSHOT_NUM, domain_snapshot_num,
		 dv_domain_flags_args, dv_int_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_OS_TYPE, domain_get_os_type,
		 dv_domain_only_args, dv_domain_get_os_type_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_MAX_MEMORY, domain_get_max_memory,
		 dv_domain_only_args, dv_domain_get_max_memory_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_MAX_VCPUS, domain_get_max_vcpus,
		 dv_domain_only_args, dv_int_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_GET_VCPUS_FLAGS, domain_get_vcpus_flags,
		 dv_domain_flags_args, dv_int_ret, 0),
	RPC_PROC(DV_PROC_DOMAIN_INTERFACE_STATS, domain_interface_stats,
		 dv_domain_interface_stats_args,
		 dv_domain_interface_stats_ret, 0),
};

void dv_domain_query_procs_register(void)
{
	rpc_dispatch_register(procs, G_N_ELEMENTS(procs));
}
