// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain XML parser: <devices>.
 *
 * <address> and <alias> are accepted on every device and dropped: both are
 * assigned by the hypervisor (DuVisor's devices will sit on virtio-mmio, so
 * a PCI address could not be honoured anyway), and libvirt ignores input
 * aliases too. The live XML shows DuVisor's own aliases.
 */
#include <string.h>

#include "domain_conf_priv.h"

#define DEVICE_COMMON "address", "alias"

static bool disk_target_ok(const char *t)
{
	size_t n = strlen(t);

	if (n < 3 || n > 5 || !(g_str_has_prefix(t, "vd") ||
				g_str_has_prefix(t, "sd") ||
				g_str_has_prefix(t, "hd")))
		return false;
	for (size_t i = 2; i < n; i++)
		if (t[i] < 'a' || t[i] > 'z')
			return false;
	return true;
}

static bool parse_disk_driver(struct duvisor_disk_def *d, xmlNode *n,
			      GError **error)
{
	static const char *const attrs[] = { "name", "type", "cache", "io",
		"discard", "detect_zeroes", NULL };
	static const char *const names[] = { "qemu", NULL };
	static const char *const caches[] = { "default", "none", "writethrough",
		"writeback", "directsync", "unsafe", NULL };
	static const char *const ios[] = { "default", "native", "threads",
					   "io_uring", NULL };
	static const char *const discards[] = { "unmap", "ignore", NULL };
	static const char *const zeroes[] = { "off", "on", "unmap", NULL };
	const char *where = "<disk><driver>";
	int v;

	if (!dv_check_node(n, where, attrs, NULL, false, error) ||
	    !dv_prop_enum(n, "name", where, names, false, &v, error))
		return false;
	d->driver_qemu = v >= 0;
	if (!dv_prop_enum(n, "type", where, dv_disk_format_names, false, &v,
			  error))
		return false;
	d->format = v < 0 ? DUVISOR_FORMAT_NONE : (enum duvisor_disk_format)v;
	if (!dv_prop_enum(n, "cache", where, caches, false, &v, error))
		return false;
	d->cache = v < 0 ? NULL : g_strdup(caches[v]);
	if (!dv_prop_enum(n, "io", where, ios, false, &v, error))
		return false;
	d->io = v < 0 ? NULL : g_strdup(ios[v]);
	if (!dv_prop_enum(n, "discard", where, discards, false, &v, error))
		return false;
	d->discard = v < 0 ? NULL : g_strdup(discards[v]);
	if (!dv_prop_enum(n, "detect_zeroes", where, zeroes, false, &v, error))
		return false;
	d->detect_zeroes = v < 0 ? NULL : g_strdup(zeroes[v]);
	return true;
}

static bool parse_disk_source(struct duvisor_disk_def *d, xmlNode *n,
			      GError **error)
{
	static const char *const file[] = { "file", NULL };
	static const char *const dev[] = { "dev", NULL };
	static const char *const vol[] = { "pool", "volume", NULL };
	const char *where = "<disk><source>";

	switch (d->type) {
	case DUVISOR_DISK_FILE:
		return dv_check_node(n, where, file, NULL, false, error) &&
		       dv_string_prop(n, "file", where, false, true, &d->path,
				   error);
	case DUVISOR_DISK_BLOCK:
		return dv_check_node(n, where, dev, NULL, false, error) &&
		       dv_string_prop(n, "dev", where, false, true, &d->path,
				   error);
	case DUVISOR_DISK_VOLUME:
		break;
	}
	return dv_check_node(n, where, vol, NULL, false, error) &&
	       dv_string_prop(n, "pool", where, true, false, &d->pool, error) &&
	       dv_string_prop(n, "volume", where, true, false, &d->volume, error);
}

static bool parse_disk(struct duvisor_domain_def *def, xmlNode *n,
		       GError **error)
{
	static const char *const attrs[] = { "type", "device", NULL };
	static const char *const children[] = { "driver", "source", "target",
		"readonly", "shareable", "serial", "boot", DEVICE_COMMON, NULL };
	static const char *const target_attrs[] = { "dev", "bus", NULL };
	static const char *const order[] = { "order", NULL };
	struct duvisor_disk_def *d = g_new0(struct duvisor_disk_def, 1);
	int v, bus = -1;

	g_ptr_array_add(def->disks, d);
	if (!dv_check_node(n, "<disk>", attrs, children, false, error) ||
	    !dv_check_once(n, "<disk>", NULL, error) ||
	    !dv_prop_enum(n, "type", "<disk>", dv_disk_type_names, false, &v,
			  error))
		return false;
	d->type = v < 0 ? DUVISOR_DISK_FILE : (enum duvisor_disk_type)v;
	if (!dv_prop_enum(n, "device", "<disk>", dv_disk_device_names, false,
			  &v, error))
		return false;
	d->device = v < 0 ? DUVISOR_DISK_DISK : (enum duvisor_disk_device)v;
	d->readonly = d->device == DUVISOR_DISK_CDROM;
	DV_FOR_EACH_ELEMENT(c, n) {
		bool ok = true;

		if (dv_is(c, "driver")) {
			ok = parse_disk_driver(d, c, error);
		} else if (dv_is(c, "source")) {
			ok = parse_disk_source(d, c, error);
		} else if (dv_is(c, "target")) {
			ok = dv_check_node(c, "<disk><target>", target_attrs,
					   NULL, false, error) &&
			     dv_need_prop(c, "dev", "<disk><target>",
					  &d->target, error) &&
			     dv_prop_enum(c, "bus", "<disk><target>",
					  dv_disk_bus_names, false, &bus,
					  error);
		} else if (dv_is(c, "readonly") || dv_is(c, "shareable")) {
			ok = dv_check_node(c, "<disk>", NULL, NULL, false,
					   error);
			if (dv_is(c, "readonly"))
				d->readonly = true;
			else
				d->shareable = true;
		} else if (dv_is(c, "serial")) {
			ok = dv_check_node(c, "<disk><serial>", NULL, NULL,
					   true, error);
			g_free(d->serial);
			d->serial = dv_text(c);
			ok = ok && dv_check_string(d->serial, "<disk><serial>",
						   false, error);
		} else if (dv_is(c, "boot")) {
			ok = dv_check_node(c, "<disk><boot>", order, NULL,
					   false, error) &&
			     dv_prop_uint(c, "order", "<disk><boot>", 1, 255,
					  &d->boot_order, error);
		}
		if (!ok)
			return false;
	}
	if (!d->target)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "missing <target> in <disk>");
	if (!disk_target_ok(d->target))
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "invalid disk target '%.40s' (vda, sdb, hdc...)",
			       d->target);
	/* No bus: libvirt's choice from the name's prefix. */
	if (bus >= 0)
		d->bus = (enum duvisor_disk_bus)bus;
	else
		d->bus = d->target[0] == 'v' ? DUVISOR_BUS_VIRTIO :
			 d->target[0] == 's' ? DUVISOR_BUS_SCSI :
					       DUVISOR_BUS_IDE;
	if (d->device == DUVISOR_DISK_DISK && !d->path && !d->volume)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "disk '%s' has no <source>", d->target);
	return true;
}

static bool parse_chr(struct duvisor_domain_def *def, xmlNode *n,
		      bool console, GError **error)
{
	static const char *const attrs[] = { "type", "tty", NULL };
	static const char *const children[] = { "source", "target", "log",
						DEVICE_COMMON, NULL };
	static const char *const src_a[][3] = {
		[DUVISOR_CHR_PTY] = { "path", NULL },
		[DUVISOR_CHR_FILE] = { "path", "append", NULL },
		[DUVISOR_CHR_UNIX] = { "path", "mode", NULL },
	};
	static const char *const modes[] = { "bind", "connect", NULL };
	static const char *const tgt_a[] = { "type", "port", NULL };
	static const char *const tgt_c[] = { "model", NULL };
	static const char *const serial_t[] = { "isa-serial", NULL };
	static const char *const console_t[] = { "serial", "virtio", NULL };
	static const char *const model_a[] = { "name", NULL };
	static const char *const log_a[] = { "file", "append", NULL };
	const char *where = console ? "<console>" : "<serial>";
	struct duvisor_chr_def *chr = g_new0(struct duvisor_chr_def, 1);
	int v;

	g_ptr_array_add(console ? def->consoles : def->serials, chr);
	chr->port = -1;
	/* 'tty' is the live pty path in dumped XML; ignored. */
	if (!dv_check_node(n, where, attrs, children, false, error) ||
	    !dv_check_once(n, where, NULL, error) ||
	    !dv_prop_enum(n, "type", where, dv_chr_type_names, false, &v,
			  error))
		return false;
	chr->type = v < 0 ? DUVISOR_CHR_PTY : (enum duvisor_chr_type)v;
	DV_FOR_EACH_ELEMENT(c, n) {
		if (dv_is(c, "source")) {
			if (chr->type == DUVISOR_CHR_NULL)
				return dv_fail(error, VIR_ERR_XML_ERROR,
					       "%s of type 'null' takes no "
					       "<source>", where);
			if (!dv_check_node(c, where, src_a[chr->type], NULL,
					   false, error) ||
			    !dv_prop_enum(c, "mode", where, modes, false, &v,
					  error) ||
			    !dv_prop_tristate(c, "append", where, false,
					      &chr->append, error))
				return false;
			chr->unix_connect = v == 1;
			g_free(chr->path);
			/* A pty's path is live state: ignored. */
			if (chr->type != DUVISOR_CHR_PTY &&
			    !dv_string_prop(c, "path", where, true, true,
					 &chr->path, error))
				return false;
		} else if (dv_is(c, "target")) {
			unsigned port = 0;

			if (!dv_check_node(c, where, tgt_a,
					   console ? NULL : tgt_c, false,
					   error) ||
			    !dv_check_once(c, where, NULL, error) ||
			    !dv_prop_enum(c, "type", where,
					  console ? console_t : serial_t,
					  false, &v, error) ||
			    !dv_prop_uint(c, "port", where, 0, 3, &port, error))
				return false;
			chr->target = v == 1 ? DUVISOR_CHR_TARGET_VIRTIO :
					       DUVISOR_CHR_TARGET_SERIAL;
			if (xmlHasProp(c, (const xmlChar *)"port"))
				chr->port = (int)port;
			DV_FOR_EACH_ELEMENT(m, c)
				if (!dv_check_node(m, where, model_a, NULL,
						   false, error) ||
				    !dv_prop_enum(m, "name", where, serial_t,
						  true, &v, error))
					return false;
		} else if (dv_is(c, "log")) {
			g_free(chr->log_file);
			if (!dv_check_node(c, where, log_a, NULL, false,
					   error) ||
			    !dv_string_prop(c, "file", where, true, true,
					 &chr->log_file, error) ||
			    !dv_prop_tristate(c, "append", where, false,
					      &chr->log_append, error))
				return false;
		}
	}
	if ((chr->type == DUVISOR_CHR_FILE || chr->type == DUVISOR_CHR_UNIX) &&
	    !chr->path)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "%s of type '%s' needs <source path=...>", where,
			       dv_chr_type_names[chr->type]);
	return true;
}

/* Devices libvirt knows that DuVisor rejects, with the reason. */
static const char *const rejected[][2] = {
	{ "sound", "no sound devices" },
	{ "hostdev", "no device assignment" },
	{ "filesystem", "no shared file systems yet" },
	{ "watchdog", "no watchdog device" },
	{ "tpm", "no TPM" },
	{ "redirdev", "no USB redirection" },
	{ "smartcard", "no smartcard device" },
	{ "hub", "no USB" },
	{ "panic", "no panic device (a guest crash is seen by the VMM)" },
	{ "shmem", "no shared memory device" },
	{ "memory", "no memory hot-plug" },
	{ "iommu", "no virtual IOMMU" },
	{ "audio", "no audio" },
	{ "parallel", "no parallel ports" },
	{ "lease", "no lock manager" },
	{ "nvram", "no NVRAM device" },
	{ "crypto", "no crypto device" },
};

bool dv_parse_devices(struct duvisor_domain_def *def, xmlNode *devices,
		      GError **error)
{
	if (devices->properties)
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "unsupported attribute on <devices>");
	for (xmlNode *c = devices->children; c; c = c->next) {
		bool ok;

		if (c->type == XML_TEXT_NODE) {
			g_autofree char *t = g_strstrip(
				g_strdup((const char *)c->content));

			if (*t)
				return dv_fail(error, VIR_ERR_XML_ERROR,
					       "unexpected text in <devices>");
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue;
		for (size_t i = 0; i < G_N_ELEMENTS(rejected); i++)
			if (dv_is(c, rejected[i][0]))
				return dv_fail(error,
					       VIR_ERR_CONFIG_UNSUPPORTED,
					       "unsupported device "
					       "<devices><%s>: DuVisor has %s",
					       rejected[i][0], rejected[i][1]);
		if (dv_is(c, "emulator")) {
			if (def->emulator)
				return dv_fail(error, VIR_ERR_XML_ERROR,
					       "<emulator> appears twice");
			def->emulator = dv_text(c);
			ok = dv_check_node(c, "<emulator>", NULL, NULL, true,
					   error) &&
			     dv_check_string(def->emulator, "<emulator>", true,
					     error);
		} else if (dv_is(c, "disk")) {
			ok = parse_disk(def, c, error);
		} else if (dv_is(c, "interface")) {
			ok = dv_parse_interface(def, c, error);
		} else if (dv_is(c, "serial") || dv_is(c, "console")) {
			ok = parse_chr(def, c, dv_is(c, "console"), error);
		} else if (dv_is(c, "rng")) {
			ok = dv_parse_rng(def, c, error);
		} else if (dv_is(c, "memballoon")) {
			ok = dv_parse_memballoon(def, c, error);
		} else if (dv_is(c, "vsock")) {
			ok = dv_parse_vsock(def, c, error);
		} else if (dv_is(c, "graphics")) {
			ok = dv_parse_graphics(def, c, error);
		} else if (dv_is(c, "controller") || dv_is(c, "input") ||
			   dv_is(c, "video") || dv_is(c, "channel")) {
			ok = dv_parse_raw_device(def, c, error);
		} else {
			g_autofree char *n = c->ns && c->ns->prefix ?
				g_strdup_printf("%s:%s", c->ns->prefix,
						c->name) :
				g_strdup((const char *)c->name);

			ok = dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				     "unsupported device <devices><%s>", n);
		}
		if (!ok)
			return false;
	}
	return dv_devices_check(def, error);
}
