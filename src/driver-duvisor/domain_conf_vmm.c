// SPDX-License-Identifier: GPL-2.0-or-later
/* From a domain definition to a duvisor-vmm command line. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "domain_conf_priv.h"

/* duvisor-vmm's own limits (src/vmm/main.c). */
#define VMM_MIN_MEMORY_MIB 32u
#define VMM_MAX_MEMORY_MIB (1024u * 1024u)
#define VMM_MAX_DISKS 8u
/* Passed fds start after stdin, stdout and stderr. */
#define FIRST_PASSED_FD 3

struct args {
	GPtrArray *argv;
	GPtrArray *files;
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

/* A file for the VMM, numbered after the others. */
static struct duvisor_vmm_file *new_file(struct args *a, const char *what,
					 enum duvisor_vmm_file_kind kind)
{
	struct duvisor_vmm_file *f = g_new0(struct duvisor_vmm_file, 1);

	f->kind = kind;
	f->what = what;
	f->target_fd = FIRST_PASSED_FD + (int)a->files->len;
	g_ptr_array_add(a->files, f);
	return f;
}

/* A file for the VMM; returns its "fd:N"-style number. */
static int pass_file(struct args *a, const char *what,
		     enum duvisor_vmm_file_kind kind, const char *path,
		     int open_flags)
{
	struct duvisor_vmm_file *f = new_file(a, what, kind);

	f->path = g_strdup(path);
	f->open_flags = open_flags;
	return f->target_fd;
}

/* @opt with the number of a file passed for @path. */
static void add_file(struct args *a, const char *opt, const char *prefix,
		     const char *what, enum duvisor_vmm_file_kind kind,
		     const char *path, int open_flags)
{
	g_autofree char *v = g_strdup_printf(
		"%s%d", prefix, pass_file(a, what, kind, path, open_flags));

	add(a, opt, v);
}

#define LOG_FLAGS (O_WRONLY | O_APPEND | O_CREAT)

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
		add_file(a, "--console", "fd:", "console pty",
			 DUVISOR_VMM_FILE_PTY, NULL, 0);
		break;
	case DUVISOR_CHR_FILE:
		add_file(a, "--console", "fd:", "console file",
			 DUVISOR_VMM_FILE_OPEN, c->path,
			 LOG_FLAGS);
		break;
	case DUVISOR_CHR_UNIX:
		if (c->unix_connect)
			return dv_fail(a->error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "a serial console connecting to a unix "
				       "socket is not supported (use "
				       "mode='bind')");
		add_file(a, "--console", "fd:", "console socket",
			 DUVISOR_VMM_FILE_UNIX_LISTEN,
			 c->path, 0);
		break;
	case DUVISOR_CHR_NULL:
		add(a, "--console", "null");
		break;
	}
	if (c->log_file)
		add_file(a, "--console-log", "fd:", "console log",
			 DUVISOR_VMM_FILE_OPEN,
			 c->log_file, LOG_FLAGS);
	return true;
}

void duvisor_vmm_file_free(struct duvisor_vmm_file *f)
{
	if (!f)
		return;
	g_free(f->path);
	g_free(f);
}

static duvisor_volume_resolver volume_resolver;

void duvisor_set_volume_resolver(duvisor_volume_resolver fn)
{
	volume_resolver = fn;
}

/* Why duvisor-vmm cannot attach @d as a virtio disk; NULL when it can. */
static const char *disk_limit(const struct duvisor_disk_def *d)
{
	if (d->device != DUVISOR_DISK_DISK)
		return "CD-ROM drives";
	if (d->bus != DUVISOR_BUS_VIRTIO)
		return "disks on a bus other than virtio";
	if (d->type == DUVISOR_DISK_VOLUME && !volume_resolver)
		return "disks from storage pool volumes";
	if (d->format == DUVISOR_FORMAT_QCOW2)
		return "qcow2 images (only raw)";
	if (!d->path && d->type != DUVISOR_DISK_VOLUME)
		return "disks without a source";
	return NULL;
}

char *duvisor_disk_source_path(const struct duvisor_disk_def *d,
				GError **error)
{
	char *path = NULL;

	if (d->type != DUVISOR_DISK_VOLUME || !volume_resolver)
		return g_strdup(d->path);
	return volume_resolver(d->pool, d->volume, &path, error) ? path : NULL;
}

static bool disk_path(struct args *a, const struct duvisor_disk_def *d,
		      char **path)
{
	g_autoptr(GError) e = NULL;

	*path = duvisor_disk_source_path(d, &e);
	if (*path)
		return true;
	return dv_fail(a->error, e->code, "disk '%s': %s", d->target,
		       e->message);
}

/* libvirt's order of target names: vdz before vdaa. */
static gint target_order(gconstpointer pa, gconstpointer pb)
{
	const char *a = (*(struct duvisor_disk_def *const *)pa)->target;
	const char *b = (*(struct duvisor_disk_def *const *)pb)->target;
	size_t la = strlen(a), lb = strlen(b);

	return la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
}

/* The disks duvisor-vmm can attach, in its --disk order (all of them,
 * even beyond VMM_MAX_DISKS). */
static GPtrArray *attachable_disks(const struct duvisor_domain_def *def)
{
	GPtrArray *disks = g_ptr_array_new();

	for (guint i = 0; i < def->disks->len; i++)
		if (!disk_limit(duvisor_def_disk(def, i)))
			g_ptr_array_add(disks, duvisor_def_disk(def, i));
	g_ptr_array_sort(disks, target_order);
	return disks;
}

int duvisor_disk_vmm_index(const struct duvisor_domain_def *def,
			   const struct duvisor_disk_def *disk)
{
	g_autoptr(GPtrArray) disks = attachable_disks(def);
	guint i;

	if (!g_ptr_array_find(disks, disk, &i) || i >= VMM_MAX_DISKS)
		return -1;
	return (int)i;
}

static bool disk_args(struct args *a, const struct duvisor_domain_def *def)
{
	g_autoptr(GPtrArray) disks = attachable_disks(def);

	for (guint i = 0; i < def->disks->len; i++) {
		struct duvisor_disk_def *d = duvisor_def_disk(def, i);
		const char *why = disk_limit(d);

		if (why && !lacking(a, "disk '%s': %s", d->target, why))
			return false;
	}
	for (guint i = 0; i < disks->len; i++) {
		const struct duvisor_disk_def *d = g_ptr_array_index(disks, i);
		bool direct = d->cache && (!strcmp(d->cache, "none") ||
					   !strcmp(d->cache, "directsync"));
		g_autoptr(GString) spec = g_string_new(NULL);
		g_autofree char *path = NULL;

		if (i >= VMM_MAX_DISKS) {
			if (!lacking(a, "disk '%s': more than %u disks",
				     d->target, VMM_MAX_DISKS))
				return false;
			continue;
		}
		if (!disk_path(a, d, &path))
			return false;
		g_string_printf(spec, "fd=%d",
				pass_file(a, "disk", DUVISOR_VMM_FILE_OPEN,
					  path, (d->readonly ? O_RDONLY : O_RDWR) |
					  (direct ? O_DIRECT : 0)));
		if (d->readonly)
			g_string_append(spec, ",readonly=on");
		if (d->serial)
			g_string_append_printf(spec, ",serial=%s", d->serial);
		if (direct)
			g_string_append(spec, ",direct=on");
		add(a, "--disk", spec->str);
	}
	return true;
}

/* The balloon; the guest's memory at boot is <currentMemory>. */
static bool balloon_args(struct args *a, const struct duvisor_domain_def *def)
{
	g_autoptr(GString) spec = g_string_new(NULL);

	if (!def->has_memballoon || !def->memballoon_virtio)
		return def->current_memory_kib == def->memory_kib ||
		       lacking(a, "a balloon target below <memory> (without "
			       "a balloon)");
	if (def->balloon_stats_period)
		g_string_append_printf(spec, ",stats-period=%u",
				       def->balloon_stats_period);
	if (def->balloon_autodeflate == DUVISOR_ON)
		g_string_append(spec, ",deflate-on-oom=on");
	/* On unless turned off: what an idle guest freed is the host's. */
	if (def->balloon_free_page_reporting != DUVISOR_OFF)
		g_string_append(spec, ",free-page-reporting=on");
	if (def->current_memory_kib < def->memory_kib)
		g_string_append_printf(spec, ",target=%" G_GUINT64_FORMAT "K",
				       def->current_memory_kib);
	/* One word: --balloon's options are optional. */
	if (spec->len)
		g_string_overwrite(spec, 0, "=");
	g_string_prepend(spec, "--balloon");
	add(a, spec->str, NULL);
	return true;
}

/* Each interface is a tap the manager opens (domain_net.c in the daemon);
 * the VMM numbers its NICs eth0, eth1... in this, the document's, order,
 * as libvirt's PCI slots would.  The parser allows no more than the VMM
 * takes (DUVISOR_MAX_NICS). */
static bool net_args(struct args *a, const struct duvisor_domain_def *def)
{
	for (guint i = 0; i < def->nets->len; i++) {
		const struct duvisor_net_def *n = duvisor_def_net(def, i);
		g_autofree char *spec = NULL;
		char mac[18];
		struct duvisor_vmm_file *f;

		duvisor_mac_format(n->mac, mac);
		if ((n->queues > 1 &&
		     !lacking(a, "interface %s: %u queues (multiqueue)", mac,
			      n->queues)) ||
		    (n->link_up == DUVISOR_OFF &&
		     !lacking(a, "interface %s: link state 'down'", mac)))
			return false;
		f = new_file(a, "tap", DUVISOR_VMM_FILE_TAP);
		f->net = i;
		spec = g_strdup_printf("fd=%d,mac=%s", f->target_fd, mac);
		add(a, "--net", spec);
	}
	return true;
}

static bool device_args(struct args *a, const struct duvisor_domain_def *def)
{
	if (!disk_args(a, def) || !net_args(a, def))
		return false;
	for (guint i = 1; i < def->serials->len; i++)
		if (!lacking(a, "serial port %d",
			     duvisor_def_serial(def, i)->port))
			return false;
	for (guint i = 0; i < def->consoles->len; i++)
		if (duvisor_def_console(def, i)->target ==
		    DUVISOR_CHR_TARGET_VIRTIO &&
		    !lacking(a, "virtio console %u", i))
			return false;
	/* One entropy source is all a guest needs; getrandom() feeds it
	 * whatever the <backend> names. */
	if (def->rngs->len)
		add(a, "--rng", NULL);
	if (!balloon_args(a, def))
		return false;
	if ((def->rngs->len > 1 && !lacking(a, "a second RNG")) ||
	    /* A fixed cid is the launcher's (launch.c: its sockets live in
	     * the daemon's state directory). */
	    (def->has_vsock && def->vsock_auto &&
	     !lacking(a, "an automatic vsock cid (give <cid auto='no' "
		      "address='N'/>)")) ||
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
				       GPtrArray *files, GPtrArray *warnings,
				       GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	struct args a = { .argv = argv, .files = files, .warnings = warnings,
			  .strict = flags & DUVISOR_VMM_ARGS_STRICT,
			  .error = error };
	uint64_t mib;
	char num[32];

	if (!def || !vmm_path || !files ||
	    (flags & ~(unsigned)DUVISOR_VMM_ARGS_STRICT)) {
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
	add_file(&a, "--kvm-fd", "", "KVM device", DUVISOR_VMM_FILE_OPEN,
		 "/dev/kvm", O_RDWR);
	add_file(&a, "--kernel-fd", "", "kernel", DUVISOR_VMM_FILE_OPEN,
		 def->kernel, O_RDONLY);
	if (def->initrd)
		add_file(&a, "--initrd-fd", "", "initrd",
			 DUVISOR_VMM_FILE_OPEN, def->initrd, O_RDONLY);
	if (def->cmdline && *def->cmdline)
		add(&a, "--cmdline", def->cmdline);
	g_snprintf(num, sizeof(num), "%" G_GUINT64_FORMAT "M", mib);
	add(&a, "--memory", num);
	if (def->memory_backing.nosharepages)
		add(&a, "--memory-merge", "off");
	/* No vCPU hot-plug: the guest gets the vCPUs that start online. */
	g_snprintf(num, sizeof(num), "%u", def->vcpus_current);
	add(&a, "--cpus", num);
	if (def->vcpus_current != def->vcpus &&
	    !lacking(&a, "vCPU hot-plug (%u of %u vCPUs start)",
		     def->vcpus_current, def->vcpus))
		return NULL;
	if (!console_args(&a, def) || !device_args(&a, def))
		return NULL;
	if (def->on_reboot == DUVISOR_ACTION_DESTROY)
		add(&a, "--no-reboot", NULL);
	g_ptr_array_add(argv, NULL);
	return g_steal_pointer(&argv);
}
