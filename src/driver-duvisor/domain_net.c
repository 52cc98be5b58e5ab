// SPDX-License-Identifier: GPL-2.0-or-later
/* The host side of a running domain's interfaces (see domain_net.h). */
#include <string.h>

#include "domain_net.h"
#include "network_port.h"

/* One group per interface in the status file: "interface 0"... */
#define GROUP_FORMAT "interface %u"

static void nic_free(void *p)
{
	struct dv_nic *nic = p;

	if (!nic)
		return;
	g_free(nic->tap);
	g_free(nic->bridge);
	g_free(nic->network);
	g_free(nic->portid);
	g_free(nic);
}

GPtrArray *dv_nics_new(void)
{
	return g_ptr_array_new_with_free_func(nic_free);
}

static void release_one(struct dv_nic *nic)
{
	if (nic && nic->portid)
		dv_network_port_delete(nic->network, nic->portid);
}

int dv_nics_open(GPtrArray *nics, const struct duvisor_domain_def *def,
		 guint index, const char *name, const uint8_t uuid[16],
		 GError **error)
{
	const struct duvisor_net_def *n = duvisor_def_net(def, index);
	struct dv_tap_spec spec = {
		.name = n->target,
		.existing = n->target_managed == DUVISOR_OFF,
		.mac = n->mac,
		.mtu = n->mtu,
	};
	struct dv_nic *nic = g_new0(struct dv_nic, 1);
	int fd;

	switch (n->type) {
	case DUVISOR_NET_NETWORK:
		if (!dv_network_port_create(n->source, name, uuid, n->mac,
					    &nic->bridge, &nic->portid,
					    error)) {
			nic_free(nic);
			return -1;
		}
		nic->network = g_strdup(n->source);
		break;
	case DUVISOR_NET_BRIDGE:
		nic->bridge = g_strdup(n->source);
		break;
	case DUVISOR_NET_ETHERNET:
		break;
	}
	spec.bridge = nic->bridge;
	fd = dv_tap_open(&spec, &nic->tap, error);
	if (fd < 0) {
		release_one(nic);
		nic_free(nic);
		return -1;
	}
	if (nics->len <= index)
		g_ptr_array_set_size(nics, (gint)index + 1);
	nic_free(g_ptr_array_index(nics, index));
	g_ptr_array_index(nics, index) = nic;
	return fd;
}

void dv_nics_release(GPtrArray *nics)
{
	if (!nics)
		return;
	for (guint i = 0; i < nics->len; i++)
		release_one(g_ptr_array_index(nics, i));
	g_ptr_array_set_size(nics, 0);
}

static void set_key(GKeyFile *kf, const char *group, const char *key,
		    const char *value)
{
	if (value)
		g_key_file_set_string(kf, group, key, value);
}

void dv_nics_save(GPtrArray *nics, GKeyFile *kf)
{
	for (guint i = 0; nics && i < nics->len; i++) {
		const struct dv_nic *nic = g_ptr_array_index(nics, i);
		char group[32];

		g_snprintf(group, sizeof(group), GROUP_FORMAT, i);
		/* A group even for an interface without a tap keeps the
		 * numbering. */
		g_key_file_set_boolean(kf, group, "open", nic != NULL);
		if (!nic)
			continue;
		set_key(kf, group, "tap", nic->tap);
		set_key(kf, group, "bridge", nic->bridge);
		set_key(kf, group, "network", nic->network);
		set_key(kf, group, "portid", nic->portid);
	}
}

GPtrArray *dv_nics_load(GKeyFile *kf)
{
	GPtrArray *nics = dv_nics_new();

	for (guint i = 0; i < DUVISOR_MAX_DEVICES; i++) {
		struct dv_nic *nic;
		char group[32];

		g_snprintf(group, sizeof(group), GROUP_FORMAT, i);
		if (!g_key_file_has_group(kf, group))
			break;
		if (!g_key_file_get_boolean(kf, group, "open", NULL)) {
			g_ptr_array_add(nics, NULL);
			continue;
		}
		nic = g_new0(struct dv_nic, 1);
		nic->tap = g_key_file_get_string(kf, group, "tap", NULL);
		nic->bridge = g_key_file_get_string(kf, group, "bridge", NULL);
		nic->network = g_key_file_get_string(kf, group, "network",
						     NULL);
		nic->portid = g_key_file_get_string(kf, group, "portid", NULL);
		if (!nic->network)
			g_clear_pointer(&nic->portid, g_free);
		g_ptr_array_add(nics, nic);
	}
	return nics;
}

struct duvisor_net_live *dv_nics_live(GPtrArray *nics, size_t *n)
{
	struct duvisor_net_live *live;

	*n = nics ? nics->len : 0;
	live = g_new0(struct duvisor_net_live, MAX(*n, 1));
	for (size_t i = 0; i < *n; i++) {
		const struct dv_nic *nic = g_ptr_array_index(nics, i);

		if (!nic)
			continue;
		live[i].tap = nic->tap;
		live[i].bridge = nic->bridge;
		live[i].portid = nic->portid;
	}
	return live;
}

int dv_nics_find(GPtrArray *nics, const struct duvisor_domain_def *def,
		 const char *path)
{
	uint8_t mac[6];

	for (guint i = 0; nics && i < nics->len; i++) {
		const struct dv_nic *nic = g_ptr_array_index(nics, i);

		if (nic && nic->tap && strcmp(nic->tap, path) == 0)
			return (int)i;
	}
	if (!duvisor_mac_parse(path, mac))
		return -1;
	for (guint i = 0; i < def->nets->len; i++)
		if (memcmp(duvisor_def_net(def, i)->mac, mac, 6) == 0)
			return (int)i;
	return -1;
}
