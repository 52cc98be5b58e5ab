// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Errors that handlers report to clients, with libvirt's error numbers
 * (<libvirt/virterror.h>).  The client shows message as is.
 *
 * Never use VIR_ERR_INTERNAL_ERROR or VIR_ERR_SYSTEM_ERROR with the domains
 * VIR_FROM_REMOTE / VIR_FROM_RPC for ordinary failures: clients such as nova
 * take those for a broken connection.
 */
#ifndef DV_RPC_ERROR_H
#define DV_RPC_ERROR_H

#include <glib.h>
#include <libvirt/virterror.h>
#include <stdbool.h>

#include "duvisor_protocol.h"

/* The error domain of rpc_error_set(). */
#define RPC_ERROR_DEFAULT_DOMAIN VIR_FROM_DOMAIN

struct rpc_error {
	int code;		/* virErrorNumber; VIR_ERR_OK: no error */
	int domain;		/* virErrorDomain */
	char *message;
};

/* Sets the error (replacing any earlier one). */
void rpc_error_set(struct rpc_error *err, int code, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);
void rpc_error_set_domain(struct rpc_error *err, int domain, int code,
			  const char *fmt, ...) G_GNUC_PRINTF(4, 5);
/* From a GError: its code is used when its domain is virerror_domain (a
 * GError domain whose codes are virErrorNumbers), else fallback_code. */
void rpc_error_set_gerror(struct rpc_error *err, const GError *gerr,
			  GQuark virerror_domain, int fallback_code);
void rpc_error_clear(struct rpc_error *err);
bool rpc_error_is_set(const struct rpc_error *err);
/* Moves src into dst (src is left cleared). */
void rpc_error_move(struct rpc_error *dst, struct rpc_error *src);

/* The wire form; it points into err, do not xdr_free it. */
void rpc_error_to_wire(const struct rpc_error *err, dv_error *out);

#endif
