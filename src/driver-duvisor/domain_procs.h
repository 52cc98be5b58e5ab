// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The domain procedures of the RPC protocol: domain_procs.c (define,
 * undefine, start, stop and other state changes, consoles) and
 * domain_query_procs.c (lookups, lists, information, XML), plus the
 * helpers they share.
 */
#ifndef DV_DOMAIN_PROCS_H
#define DV_DOMAIN_PROCS_H

#include "domain_obj.h"
#include "rpc_dispatch.h"

void dv_domain_procs_register(void);
void dv_domain_query_procs_register(void);
/* virDomainInterfaceAddresses (domain_ifaddr.c). */
void dv_domain_ifaddr_procs_register(void);
/* Block, vCPU and CPU statistics (domain_stats_procs.c) and
 * virConnectGetAllDomainStats (domain_allstats.c). */
void dv_domain_stats_procs_register(void);
void dv_domain_allstats_procs_register(void);

/* The domain a call names (by UUID, as libvirt does); NULL with err set
 * (VIR_ERR_NO_DOMAIN). */
struct dv_domain *dv_procs_get_domain(const dv_nonnull_domain *d,
				      struct rpc_error *err);

/* In a handler whose arguments (args) of @args_type start with the domain:
 * declares `dom`, or returns the error. */
#define GET_DOMAIN(args_type, err)                                        \
	struct dv_domain *dom =                                           \
		dv_procs_get_domain(&((args_type *)args)->dom, err);      \
	if (!dom)                                                         \
		return RPC_HANDLER_ERROR

/* virConnectListAllDomains' filters (VIR_CONNECT_LIST_DOMAINS_*, also
 * those of virConnectGetAllDomainStats): each group of flags filters only
 * when one of its flags is given. */
bool dv_domain_list_match(struct dv_domain *dom, unsigned int flags);
/* Fills a result's domain (name g_strdup'ed: freed by xdr_free). */
void dv_procs_fill_domain(dv_nonnull_domain *out,
			  const struct dv_domain *dom);
/* From DV_DRIVER_ERROR / DUVISOR_CONF_ERROR (virErrorNumber codes), else
 * VIR_ERR_OPERATION_FAILED. */
void dv_procs_set_error(struct rpc_error *err, const GError *gerr);

#endif
