// SPDX-License-Identifier: GPL-2.0-or-later
/* Errors reported to clients (see rpc_error.h). */
#include <stdarg.h>
#include <string.h>

#include "rpc_error.h"

static void error_setv(struct rpc_error *err, int domain, int code,
		       const char *fmt, va_list ap) G_GNUC_PRINTF(4, 0);

static void error_setv(struct rpc_error *err, int domain, int code,
		       const char *fmt, va_list ap)
{
	g_free(err->message);
	err->code = code;
	err->domain = domain;
	err->message = g_strdup_vprintf(fmt, ap);
}

void rpc_error_set(struct rpc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_setv(err, RPC_ERROR_DEFAULT_DOMAIN, code, fmt, ap);
	va_end(ap);
}

void rpc_error_set_domain(struct rpc_error *err, int domain, int code,
			  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_setv(err, domain, code, fmt, ap);
	va_end(ap);
}

void rpc_error_set_gerror(struct rpc_error *err, const GError *gerr,
			  GQuark virerror_domain, int fallback_code)
{
	int code = fallback_code;

	if (virerror_domain && gerr->domain == virerror_domain &&
	    gerr->code > VIR_ERR_OK)
		code = gerr->code;
	rpc_error_set(err, code, "%s", gerr->message);
}

void rpc_error_clear(struct rpc_error *err)
{
	g_free(err->message);
	memset(err, 0, sizeof(*err));
}

bool rpc_error_is_set(const struct rpc_error *err)
{
	return err->code != VIR_ERR_OK;
}

void rpc_error_move(struct rpc_error *dst, struct rpc_error *src)
{
	g_free(dst->message);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

void rpc_error_to_wire(const struct rpc_error *err, dv_error *out)
{
	static char fallback_text[] = "unknown error";
	static char *fallback = fallback_text;

	memset(out, 0, sizeof(*out));
	out->code = err->code != VIR_ERR_OK ? err->code : VIR_ERR_NO_SUPPORT;
	out->domain = err->domain;
	/* dv_string points to a char *; encoding does not modify it. */
	out->message = err->message ? (dv_string)&err->message : &fallback;
	out->level = VIR_ERR_ERROR;
	out->int1 = -1;
	out->int2 = -1;
}
