// SPDX-License-Identifier: GPL-2.0-or-later
/* Domain objects and the list of domains (see domain_obj.h). */
#include <libvirt/libvirt.h>
#include <string.h>

#include "domain_obj.h"

/* Keys are copies: a redefinition replaces dom->def (same name and UUID). */
static GHashTable *by_name;	/* name -> struct dv_domain * (owns a ref) */
static GHashTable *by_uuid;	/* uuid string -> struct dv_domain * */
static int last_id;

void dv_domains_init(void)
{
	if (by_name)
		return;
	by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	by_uuid = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	last_id = 0;
}

void dv_domains_shutdown(void)
{
	g_autoptr(GPtrArray) all = NULL;

	if (!by_name)
		return;
	all = dv_domain_list();
	for (guint i = 0; i < all->len; i++)
		dv_domain_remove(g_ptr_array_index(all, i));
	g_clear_pointer(&by_name, g_hash_table_destroy);
	g_clear_pointer(&by_uuid, g_hash_table_destroy);
}

static char *uuid_key(const uint8_t uuid[16])
{
	char buf[37];

	duvisor_uuid_format(uuid, buf);
	return g_strdup(buf);
}

struct dv_domain *dv_domain_add(struct duvisor_domain_def *def,
				bool persistent)
{
	struct dv_domain *dom = g_new0(struct dv_domain, 1);

	g_assert(!g_hash_table_contains(by_name, def->name));
	dom->refs = 1;
	dom->def = def;
	dom->persistent = persistent;
	dom->id = -1;
	dv_domain_set_state(dom, VIR_DOMAIN_SHUTOFF,
			    VIR_DOMAIN_SHUTOFF_UNKNOWN);
	g_hash_table_insert(by_name, g_strdup(def->name), dom);
	g_hash_table_insert(by_uuid, uuid_key(def->uuid), dom);
	return dom;
}

void dv_domain_remove(struct dv_domain *dom)
{
	g_autofree char *key = uuid_key(dom->def->uuid);

	if (dom->removed)
		return;
	g_hash_table_remove(by_name, dom->def->name);
	g_hash_table_remove(by_uuid, key);
	dom->removed = true;
	dv_domain_unref(dom);
}

struct dv_domain *dv_domain_ref(struct dv_domain *dom)
{
	dom->refs++;
	return dom;
}

void dv_domain_unref(struct dv_domain *dom)
{
	if (!dom || --dom->refs > 0)
		return;
	g_assert(!dom->vm);
	duvisor_domain_def_free(dom->def);
	duvisor_domain_def_free(dom->newdef);
	g_free(dom);
}

struct dv_domain *dv_domain_find_by_name(const char *name)
{
	return by_name && name ? g_hash_table_lookup(by_name, name) : NULL;
}

struct dv_domain *dv_domain_find_by_uuid(const uint8_t uuid[16])
{
	g_autofree char *key = uuid_key(uuid);

	return by_uuid ? g_hash_table_lookup(by_uuid, key) : NULL;
}

struct dv_domain *dv_domain_find_by_id(int id)
{
	GHashTableIter it;
	gpointer value;

	if (id <= 0 || !by_name)
		return NULL;
	g_hash_table_iter_init(&it, by_name);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		struct dv_domain *dom = value;

		if (dom->id == id)
			return dom;
	}
	return NULL;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
	const struct dv_domain *da = *(struct dv_domain *const *)a;
	const struct dv_domain *db = *(struct dv_domain *const *)b;

	return strcmp(da->def->name, db->def->name);
}

GPtrArray *dv_domain_list(void)
{
	GPtrArray *all = g_ptr_array_new_with_free_func(
		(GDestroyNotify)dv_domain_unref);
	GHashTableIter it;
	gpointer value;

	if (!by_name)
		return all;
	g_hash_table_iter_init(&it, by_name);
	while (g_hash_table_iter_next(&it, NULL, &value))
		g_ptr_array_add(all, dv_domain_ref(value));
	g_ptr_array_sort(all, compare_names);
	return all;
}

unsigned int dv_domain_count(bool active)
{
	GHashTableIter it;
	gpointer value;
	unsigned int n = 0;

	if (!by_name)
		return 0;
	g_hash_table_iter_init(&it, by_name);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (dv_domain_is_active(value) == active)
			n++;
	return n;
}

int dv_domain_next_id(void)
{
	do {
		last_id = last_id == G_MAXINT ? 1 : last_id + 1;
	} while (dv_domain_find_by_id(last_id));
	return last_id;
}

void dv_domain_reserve_id(int id)
{
	if (id > last_id)
		last_id = id;
}

const char *dv_domain_name(const struct dv_domain *dom)
{
	return dom->def->name;
}

const uint8_t *dv_domain_uuid(const struct dv_domain *dom)
{
	return dom->def->uuid;
}

bool dv_domain_is_active(const struct dv_domain *dom)
{
	return dom->id > 0;
}

struct duvisor_domain_def *dv_domain_persistent_def(struct dv_domain *dom)
{
	return dom->newdef ? dom->newdef : dom->def;
}

bool dv_domain_set_persistent_def(struct dv_domain *dom,
				  struct duvisor_domain_def *def)
{
	bool was_persistent = dom->persistent;

	if (dv_domain_is_active(dom)) {
		g_clear_pointer(&dom->newdef, duvisor_domain_def_free);
		if (duvisor_domain_def_equal(dom->def, def))
			duvisor_domain_def_free(def);
		else
			dom->newdef = def;
	} else {
		duvisor_domain_def_free(dom->def);
		dom->def = def;
	}
	dom->persistent = true;
	return was_persistent;
}

void dv_domain_set_state(struct dv_domain *dom, int state, int reason)
{
	dom->state = state;
	dom->reason = reason;
	dom->state_time = g_get_real_time();
}

const char *dv_domain_state_name(int state)
{
	switch (state) {
	case VIR_DOMAIN_NOSTATE:
		return "no state";
	case VIR_DOMAIN_RUNNING:
		return "running";
	case VIR_DOMAIN_BLOCKED:
		return "blocked";
	case VIR_DOMAIN_PAUSED:
		return "paused";
	case VIR_DOMAIN_SHUTDOWN:
		return "in shutdown";
	case VIR_DOMAIN_SHUTOFF:
		return "shut off";
	case VIR_DOMAIN_CRASHED:
		return "crashed";
	case VIR_DOMAIN_PMSUSPENDED:
		return "pmsuspended";
	default:
		return "unknown";
	}
}
