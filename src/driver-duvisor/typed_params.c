// SPDX-License-Identifier: GPL-2.0-or-later
/* Typed parameters for replies (see typed_params.h). */
#include <stdarg.h>
#include <string.h>

#include "typed_params.h"

static void clear_param(gpointer p)
{
	dv_typed_param *param = p;

	g_free(param->field);
	if (param->value.type == DV_TYPED_PARAM_STRING)
		g_free(param->value.dv_typed_param_value_u.s);
}

void dv_typed_params_init(struct dv_typed_params *tp, guint max)
{
	tp->params = g_array_new(FALSE, TRUE, sizeof(dv_typed_param));
	g_array_set_clear_func(tp->params, clear_param);
	tp->max = max;
	tp->full = false;
}

void dv_typed_params_clear(struct dv_typed_params *tp)
{
	if (tp->params)
		g_array_unref(tp->params);
	tp->params = NULL;
}

guint dv_typed_params_count(const struct dv_typed_params *tp)
{
	return tp->params->len;
}

/* A new parameter named from fmt, or NULL (and full) when it cannot be. */
static dv_typed_param *append(struct dv_typed_params *tp,
			      dv_typed_param_type type, const char *fmt,
			      va_list ap)
{
	char *field = g_strdup_vprintf(fmt, ap);
	dv_typed_param param = { .field = field, .value.type = type };

	if (tp->params->len >= tp->max ||
	    strlen(field) >= DV_TYPED_PARAM_FIELD_MAX) {
		tp->full = true;
		g_free(field);
		return NULL;
	}
	g_array_append_val(tp->params, param);
	return &g_array_index(tp->params, dv_typed_param, tp->params->len - 1);
}

#define APPEND(tp, type, member, v, fmt)                                  \
	do {                                                              \
		va_list ap;                                               \
		dv_typed_param *p;                                        \
                                                                          \
		va_start(ap, fmt);                                        \
		p = append(tp, type, fmt, ap);                            \
		va_end(ap);                                               \
		if (p)                                                    \
			p->value.dv_typed_param_value_u.member = (v);     \
	} while (0)

void dv_typed_params_int(struct dv_typed_params *tp, int v,
			 const char *fmt, ...)
{
	APPEND(tp, DV_TYPED_PARAM_INT, i, v, fmt);
}

void dv_typed_params_uint(struct dv_typed_params *tp, unsigned int v,
			  const char *fmt, ...)
{
	APPEND(tp, DV_TYPED_PARAM_UINT, ui, v, fmt);
}

void dv_typed_params_llong(struct dv_typed_params *tp, int64_t v,
			   const char *fmt, ...)
{
	APPEND(tp, DV_TYPED_PARAM_LLONG, l, v, fmt);
}

void dv_typed_params_ullong(struct dv_typed_params *tp, uint64_t v,
			    const char *fmt, ...)
{
	APPEND(tp, DV_TYPED_PARAM_ULLONG, ul, v, fmt);
}

void dv_typed_params_string(struct dv_typed_params *tp, const char *v,
			    const char *fmt, ...)
{
	APPEND(tp, DV_TYPED_PARAM_STRING, s, g_strdup(v), fmt);
}

void dv_typed_params_take(struct dv_typed_params *tp, guint n,
			  dv_typed_param **val, u_int *len)
{
	gsize total;
	dv_typed_param *all = g_array_steal(tp->params, &total);

	n = (guint)MIN(n, total);
	for (gsize i = n; i < total; i++)
		clear_param(&all[i]);
	*val = all;
	*len = n;
}

void dv_typed_params_reply(struct dv_typed_params *tp, int nparams,
			   dv_typed_param **val, u_int *len, int *ret_nparams)
{
	if (nparams <= 0) {
		*ret_nparams = (int)tp->params->len;
		dv_typed_params_take(tp, 0, val, len);
		return;
	}
	dv_typed_params_take(tp, (guint)nparams, val, len);
	*ret_nparams = (int)*len;
}
