// SPDX-License-Identifier: GPL-2.0-or-later
/* From a domain definition to a duvisor-vmm command line. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "domain_conf_priv.h"

/* duvisor-vmm's own limits (src/vmm/main.c). */
#define VMM_MIN_MEMORY_MIB 32u
#define VMM_MAX_MEMORY_MIB (1024u * 1024u)

struct args {
	GPtrArray *argv;
	GPtrArray *warnings;
	bool strict;
	GError **error;
};

static void add(struct args *a, const char *opt, const char *value)
{
	g_ptr_array_add(a->argv, g_strdup(opt));
	if (value)
		g_ptr_array_add(a->argv, g_strdup(value));
}

/* Something the VMM cannot do yet: an error when strict, else a warning.
 * Returns false when the caller must stop. */
static bool lacking(struct args *a, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool lacking(struct args *a, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (a->strict)
		return dv_fail(a->error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "duvisor-vmm does not support %s yet", msg);
	if (a->warnings)
		g_ptr_array_add(a->warnings,
				g_strdup_printf("%s: not given to the guest "
						"(duvisor-vmm does not support "
						"it yet)", msg));
	return true;
}

static bool same_file(const char *a, const char *b)
{
	g_autofree char *ra = NULL, *rb = NULL;

	if (strcmp(a, b) == 0)
		return true;
	ra = realpath(a, NULL);
	rb = realpath(b, NULL);
	return ra && rb && strcmp(ra, rb) == 0;
}

static bool console_args(struct args *a, const struct duvisor_domain_def *def)
{
	const struct duvisor_chr_def *c = NULL;
	g_autofree char *spec = NULL;

	/* After parsing, a serial console is always mirrored by serial 0. */
	if (def->serials->len)
		c = duvisor_def_serial(def, 0);
	if (!c) {
		add(a, "--console", "null");
		return true;
	}
	if (c->port != 0 &&
	    !lacking(a, "serial port %d (only COM1, port 0)", c->port))
		return false;
	switch (c->type) {
	case DUVISOR_CHR_PTY:
		spec = g_strdup("pty");
		break;
	case DUVISOR_CHR_FILE:
		spec = g_strdup_printf("file:%s", c->path);
		break;
	case DUVISOR_CHR_UNIX:
		if (c->unix_connect)
			return dv_fail(a->error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "a serial console connecting to a unix "
				       "socket is not supported (use "
				       "mode='bind')");
		spec = g_strdup_printf("unix:%s", c->path);
		break;
	case DUVISOR_CHR_NULL:
		spec = g_strdup("null");
		break;
	}
	add(a, "--console", spec);
	if (c->log_file)
		add(a, "--console-log", c->log_file);
	return true;
}

static bool device_args(struct args *a, const struct duvisor_domain_def *def)
{
	for (guint i = 0; i < def->disks->len; i++)
		if (!lacking(a, "disk '%s'", duvisor_def_disk(def, i)->target))
			return false;
	for (guint i = 0; i < def->nets->len; i++) {
		char mac[18];

		const struct duvisor_net_def *n = duvisor_def_net(def, i);

		duvisor_mac_format(n->mac, mac);
		if (!lacking(a, "network interface %s (model %s)", mac,
			     n->model ? n->model : "virtio"))
			return false;
	}
	for (guint i = 1; i < def->serials->len; i++)
		if (!lacking(a, "serial port %d",
			     duvisor_def_serial(def, i)->port))
			return false;
	for (guint i = 0; i < def->consoles->len; i++)
		if (duvisor_def_console(def, i)->target ==
		    DUVISOR_CHR_TARGET_VIRTIO &&
		    !lacking(a, "virtio console %u", i))
			return false;
	if ((def->rngs->len && !lacking(a, "the virtio RNG")) ||
	    (def->has_vsock && !lacking(a, "vsock")) ||
	    (def->has_memballoon && def->memballoon_virtio &&
	     !lacking(a, "the memory balloon")) ||
	    (def->graphics && !lacking(a, "VNC graphics")) ||
	    (def->videos_xml->len && !lacking(a, "video devices")) ||
	    (def->channels_xml->len && !lacking(a, "channels")))
		return false;
	/* PS/2 mouse and keyboard are implicit; others need a display. */
	for (guint i = 0; i < def->inputs_xml->len; i++) {
		const char *in = g_ptr_array_index(def->inputs_xml, i);

		/* Kept as libxml2 writes it: double quotes. */
		if (!strstr(in, "bus=\"ps2\"") &&
		    !lacking(a, "input devices other than PS/2"))
			return false;
	}
	return true;
}

GPtrArray *duvisor_domain_def_vmm_args(const struct duvisor_domain_def *def,
				       const char *vmm_path, unsigned flags,
				       GPtrArray *warnings, GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	struct args a = { .argv = argv, .warnings = warnings,
			  .strict = flags & DUVISOR_VMM_ARGS_STRICT,
			  .error = error };
	uint64_t mib;
	char num[32];

	if (!def || !vmm_path || (flags & ~(unsigned)DUVISOR_VMM_ARGS_STRICT)) {
		dv_fail(error, VIR_ERR_INVALID_ARG,
			"invalid arguments to duvisor_domain_def_vmm_args");
		return NULL;
	}
	if (def->emulator && !same_file(def->emulator, vmm_path)) {
		dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			"emulator '%s' is not DuVisor's VMM '%s'",
			def->emulator, vmm_path);
		return NULL;
	}
	if (!def->kernel) {
		dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			"domain '%s' has no <os><kernel>: duvisor-vmm boots a "
			"Linux kernel directly and has no firmware to boot "
			"from a disk", def->name);
		return NULL;
	}
	mib = (def->memory_kib + 1023) / 1024;
	if (mib < VMM_MIN_MEMORY_MIB || mib > VMM_MAX_MEMORY_MIB) {
		dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			"memory of %" G_GUINT64_FORMAT " KiB is outside what "
			"duvisor-vmm supports (32 MiB to 1024 GiB)",
			def->memory_kib);
		return NULL;
	}
	g_ptr_array_add(argv, g_strdup(vmm_path));
	add(&a, "--kernel", def->kernel);
	if (def->initrd)
		add(&a, "--initrd", def->initrd);
	if (def->cmdline && *def->cmdline)
		add(&a, "--cmdline", def->cmdline);
	g_snprintf(num, sizeof(num), "%" G_GUINT64_FORMAT "M", mib);
	add(&a, "--memory", num);
	/* No vCPU hot-plug: the guest gets the vCPUs that start online. */
	g_snprintf(num, sizeof(num), "%u", def->vcpus_current);
	add(&a, "--cpus", num);
	if (def->vcpus_current != def->vcpus &&
	    !lacking(&a, "vCPU hot-plug (%u of %u vCPUs start)",
		     def->vcpus_current, def->vcpus))
		return NULL;
	if (def->current_memory_kib != def->memory_kib &&
	    !lacking(&a, "a balloon target below <memory>"))
		return NULL;
	if (!console_args(&a, def) || !device_args(&a, def))
		return NULL;
	if (def->on_reboot == DUVISOR_ACTION_DESTROY)
		add(&a, "--no-reboot", NULL);
	g_ptr_array_add(argv, NULL);
	return g_steal_pointer(&argv);
}
