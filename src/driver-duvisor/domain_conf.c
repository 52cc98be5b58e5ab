// SPDX-License-Identifier: GPL-2.0-or-later
/* Domain definitions: word tables, identifiers, life cycle of the struct. */
#include <stdarg.h>
#include <string.h>

#include "domain_conf_priv.h"

G_DEFINE_QUARK(duvisor-conf-error-quark, duvisor_conf_error)

const char *const dv_action_names[] = {
	[DUVISOR_ACTION_DESTROY] = "destroy",
	[DUVISOR_ACTION_RESTART] = "restart",
	[DUVISOR_ACTION_PRESERVE] = "preserve",
	[DUVISOR_ACTION_RENAME_RESTART] = "rename-restart",
	[DUVISOR_ACTION_COREDUMP_DESTROY] = "coredump-destroy",
	[DUVISOR_ACTION_COREDUMP_RESTART] = "coredump-restart",
	NULL,
};

const char *const dv_cpu_mode_names[] = {
	[DUVISOR_CPU_NONE] = "",
	[DUVISOR_CPU_HOST_PASSTHROUGH] = "host-passthrough",
	[DUVISOR_CPU_HOST_MODEL] = "host-model",
	NULL,
};

const char *const dv_disk_type_names[] = {
	[DUVISOR_DISK_FILE] = "file",
	[DUVISOR_DISK_BLOCK] = "block",
	[DUVISOR_DISK_VOLUME] = "volume",
	NULL,
};

const char *const dv_disk_device_names[] = {
	[DUVISOR_DISK_DISK] = "disk",
	[DUVISOR_DISK_CDROM] = "cdrom",
	NULL,
};

const char *const dv_disk_format_names[] = {
	[DUVISOR_FORMAT_NONE] = "",
	[DUVISOR_FORMAT_RAW] = "raw",
	[DUVISOR_FORMAT_QCOW2] = "qcow2",
	NULL,
};

const char *const dv_disk_bus_names[] = {
	[DUVISOR_BUS_VIRTIO] = "virtio",
	[DUVISOR_BUS_SATA] = "sata",
	[DUVISOR_BUS_SCSI] = "scsi",
	[DUVISOR_BUS_IDE] = "ide",
	NULL,
};

const char *const dv_net_type_names[] = {
	[DUVISOR_NET_NETWORK] = "network",
	[DUVISOR_NET_BRIDGE] = "bridge",
	[DUVISOR_NET_ETHERNET] = "ethernet",
	NULL,
};

const char *const dv_chr_type_names[] = {
	[DUVISOR_CHR_PTY] = "pty",
	[DUVISOR_CHR_FILE] = "file",
	[DUVISOR_CHR_UNIX] = "unix",
	[DUVISOR_CHR_NULL] = "null",
	NULL,
};

const char *const dv_onoff_names[] = {
	[DUVISOR_UNSET] = "",
	[DUVISOR_ON] = "on",
	[DUVISOR_OFF] = "off",
	NULL,
};

const char *const dv_yesno_names[] = {
	[DUVISOR_UNSET] = "",
	[DUVISOR_ON] = "yes",
	[DUVISOR_OFF] = "no",
	NULL,
};

int dv_enum_lookup(const char *const *table, const char *word)
{
	if (!word || !*word)
		return -1;
	for (int i = 0; table[i]; i++)
		if (strcmp(table[i], word) == 0)
			return i;
	return -1;
}

bool dv_fail(GError **error, int code, const char *fmt, ...)
{
	va_list ap;

	if (error && !*error) {
		va_start(ap, fmt);
		*error = g_error_new_valist(DUVISOR_CONF_ERROR, code, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* ---- identifiers ---- */

void duvisor_uuid_format(const uint8_t uuid[16], char buf[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[o++] = '-';
		buf[o++] = hex[uuid[i] >> 4];
		buf[o++] = hex[uuid[i] & 0xf];
	}
	buf[o] = '\0';
}

bool duvisor_uuid_parse(const char *str, uint8_t uuid[16])
{
	size_t len = str ? strlen(str) : 0;
	bool dashes = len == 36;
	size_t n = 0;

	if (len != 36 && len != 32)
		return false;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (dashes && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (str[i] != '-')
				return false;
			continue;
		}
		hi = g_ascii_xdigit_value(str[i]);
		lo = i + 1 < len ? g_ascii_xdigit_value(str[i + 1]) : -1;
		if (hi < 0 || lo < 0 || n >= 16)
			return false;
		uuid[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return n == 16;
}

static void random_bytes(uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i += 4) {
		guint32 r = g_random_int();

		for (size_t j = 0; j < 4 && i + j < len; j++)
			buf[i + j] = (uint8_t)(r >> (8 * j));
	}
}

void duvisor_uuid_generate(uint8_t uuid[16])
{
	random_bytes(uuid, 16);
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);   /* version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
}

void duvisor_mac_format(const uint8_t mac[6], char buf[18])
{
	g_snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		   mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

bool duvisor_mac_parse(const char *str, uint8_t mac[6])
{
	if (!str || strlen(str) != 17)
		return false;
	for (size_t i = 0; i < 6; i++) {
		int hi = g_ascii_xdigit_value(str[3 * i]);
		int lo = g_ascii_xdigit_value(str[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && str[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* ---- life cycle ---- */

void dv_disk_free(void *p)
{
	struct duvisor_disk_def *d = p;

	g_free(d->cache);
	g_free(d->io);
	g_free(d->discard);
	g_free(d->detect_zeroes);
	g_free(d->path);
	g_free(d->pool);
	g_free(d->volume);
	g_free(d->target);
	g_free(d->serial);
	g_free(d);
}

void dv_net_free(void *p)
{
	struct duvisor_net_def *n = p;

	g_free(n->source);
	g_free(n->model);
	g_free(n->target);
	g_free(n->driver_name);
	g_free(n);
}

void dv_chr_free(void *p)
{
	struct duvisor_chr_def *c = p;

	g_free(c->path);
	g_free(c->log_file);
	g_free(c);
}

void dv_rng_free(void *p)
{
	struct duvisor_rng_def *r = p;

	g_free(r->device);
	g_free(r);
}

void dv_graphics_free(struct duvisor_graphics_def *g)
{
	if (!g)
		return;
	g_free(g->listen);
	g_free(g->passwd);
	g_free(g->keymap);
	g_free(g);
}

struct duvisor_domain_def *dv_def_new(void)
{
	struct duvisor_domain_def *def = g_new0(struct duvisor_domain_def, 1);

	def->on_poweroff = DUVISOR_ACTION_DESTROY;
	def->on_reboot = DUVISOR_ACTION_RESTART;
	def->on_crash = DUVISOR_ACTION_DESTROY;
	def->disks = g_ptr_array_new_with_free_func(dv_disk_free);
	def->nets = g_ptr_array_new_with_free_func(dv_net_free);
	def->serials = g_ptr_array_new_with_free_func(dv_chr_free);
	def->consoles = g_ptr_array_new_with_free_func(dv_chr_free);
	def->rngs = g_ptr_array_new_with_free_func(dv_rng_free);
	def->controllers_xml = g_ptr_array_new_with_free_func(g_free);
	def->inputs_xml = g_ptr_array_new_with_free_func(g_free);
	def->videos_xml = g_ptr_array_new_with_free_func(g_free);
	def->channels_xml = g_ptr_array_new_with_free_func(g_free);
	return def;
}

void duvisor_domain_def_free(struct duvisor_domain_def *def)
{
	if (!def)
		return;
	g_free(def->name);
	g_free(def->title);
	g_free(def->description);
	g_free(def->metadata_xml);
	g_free(def->vcpu_placement);
	g_free(def->vcpu_cpuset);
	g_free(def->arch);
	g_free(def->machine);
	g_free(def->kernel);
	g_free(def->initrd);
	g_free(def->cmdline);
	g_strfreev(def->boot_devs);
	g_free(def->smbios_mode);
	g_free(def->features_xml);
	g_free(def->clock_xml);
	g_free(def->pm_xml);
	g_free(def->sysinfo_xml);
	g_free(def->cpu_match);
	g_free(def->cpu_check);
	g_free(def->cpu_migratable);
	g_free(def->emulator);
	g_ptr_array_unref(def->disks);
	g_ptr_array_unref(def->nets);
	g_ptr_array_unref(def->serials);
	g_ptr_array_unref(def->consoles);
	g_ptr_array_unref(def->rngs);
	dv_graphics_free(def->graphics);
	g_ptr_array_unref(def->controllers_xml);
	g_ptr_array_unref(def->inputs_xml);
	g_ptr_array_unref(def->videos_xml);
	g_ptr_array_unref(def->channels_xml);
	g_free(def);
}

struct duvisor_domain_def *duvisor_domain_def_copy(
	const struct duvisor_domain_def *def, GError **error)
{
	g_autofree char *xml = NULL;

	if (!def) {
		dv_fail(error, VIR_ERR_INVALID_ARG, "no domain definition");
		return NULL;
	}
	xml = duvisor_domain_def_format(def, NULL, DUVISOR_FORMAT_SECURE |
					DUVISOR_FORMAT_INACTIVE);
	return duvisor_domain_def_parse(xml, 0, error);
}

bool duvisor_domain_def_equal_identity(const struct duvisor_domain_def *a,
				       const struct duvisor_domain_def *b)
{
	return a && b && strcmp(a->name, b->name) == 0 &&
	       memcmp(a->uuid, b->uuid, sizeof(a->uuid)) == 0;
}

bool duvisor_domain_def_equal(const struct duvisor_domain_def *a,
			      const struct duvisor_domain_def *b)
{
	unsigned f = DUVISOR_FORMAT_SECURE | DUVISOR_FORMAT_INACTIVE;
	g_autofree char *xa = NULL, *xb = NULL;

	if (!a || !b)
		return a == b;
	xa = duvisor_domain_def_format(a, NULL, f);
	xb = duvisor_domain_def_format(b, NULL, f);
	return g_strcmp0(xa, xb) == 0;
}

struct duvisor_disk_def *duvisor_domain_def_find_disk(
	const struct duvisor_domain_def *def, const char *name)
{
	for (guint i = 0; i < def->disks->len; i++) {
		struct duvisor_disk_def *d = duvisor_def_disk(def, i);

		if (!g_strcmp0(d->target, name) || !g_strcmp0(d->path, name))
			return d;
	}
	return NULL;
}
