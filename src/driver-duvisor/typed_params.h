// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Typed parameters (virTypedParameter) for replies: a list that statistics
 * are appended to one by one, then handed to an XDR result.  The list has
 * a bound (the protocol's array limit); what does not fit is left out and
 * marks the list full, so that a handler can tell instead of sending
 * something a client refuses.
 */
#ifndef DV_TYPED_PARAMS_H
#define DV_TYPED_PARAMS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "duvisor_protocol.h"

struct dv_typed_params {
	GArray *params;		/* dv_typed_param */
	guint max;
	bool full;		/* one was left out (too many, or a field name
				 * longer than libvirt's 79 characters) */
};

void dv_typed_params_init(struct dv_typed_params *tp, guint max);
void dv_typed_params_clear(struct dv_typed_params *tp);
guint dv_typed_params_count(const struct dv_typed_params *tp);

/* Appends a value under a field name made from @fmt. */
void dv_typed_params_int(struct dv_typed_params *tp, int v,
			 const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void dv_typed_params_uint(struct dv_typed_params *tp, unsigned int v,
			  const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void dv_typed_params_llong(struct dv_typed_params *tp, int64_t v,
			   const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void dv_typed_params_ullong(struct dv_typed_params *tp, uint64_t v,
			    const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void dv_typed_params_string(struct dv_typed_params *tp, const char *v,
			    const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Moves the first @n parameters (at most all) into an XDR array, which
 * xdr_free releases; the rest are freed.  Leaves @tp empty. */
void dv_typed_params_take(struct dv_typed_params *tp, guint n,
			  dv_typed_param **val, u_int *len);

/*
 * The reply of libvirt's "nparams" calls (BlockStatsFlags, GetCPUStats):
 * @nparams 0 asks only how many there are (*ret_nparams, no parameters);
 * otherwise the first @nparams go out and *ret_nparams says how many.
 */
void dv_typed_params_reply(struct dv_typed_params *tp, int nparams,
			   dv_typed_param **val, u_int *len, int *ret_nparams);

#endif
