// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain XML formatter. The output parses back to an equal definition;
 * live data (id, pty path, aliases, tap names and network ports, vsock
 * cid, VNC port) is added when given and dropped again by the parser.
 */
#include <stdarg.h>
#include <string.h>

#include "domain_conf_priv.h"

struct out {
	GString *s;
	int depth;
	const struct duvisor_domain_live *live;
	unsigned flags;
};

static void indent(struct out *o)
{
	for (int i = 0; i < o->depth; i++)
		g_string_append(o->s, "  ");
}

/* ' name='value'' (escaped), nothing when value is NULL. */
static void attr(struct out *o, const char *name, const char *value)
{
	g_autofree char *esc = NULL;

	if (!value)
		return;
	esc = g_markup_escape_text(value, -1);
	g_string_append_printf(o->s, " %s='%s'", name, esc);
}

static void attr_uint(struct out *o, const char *name, uint64_t v)
{
	g_string_append_printf(o->s, " %s='%" G_GUINT64_FORMAT "'", name, v);
}

static void attr_tri(struct out *o, const char *name,
		     enum duvisor_tristate t, bool yesno)
{
	if (t != DUVISOR_UNSET)
		attr(o, name, (yesno ? dv_yesno_names : dv_onoff_names)[t]);
}

/* <name attrs...> : call open(), attributes, then begin() or end_empty(). */
static void open_tag(struct out *o, const char *name)
{
	indent(o);
	g_string_append_printf(o->s, "<%s", name);
}

static void begin(struct out *o)
{
	g_string_append(o->s, ">\n");
	o->depth++;
}

static void end_empty(struct out *o)
{
	g_string_append(o->s, "/>\n");
}

static void close_tag(struct out *o, const char *name)
{
	o->depth--;
	indent(o);
	g_string_append_printf(o->s, "</%s>\n", name);
}

static void text_elem(struct out *o, const char *name, const char *text)
{
	g_autofree char *esc = NULL;

	if (!text)
		return;
	esc = g_markup_escape_text(text, -1);
	indent(o);
	g_string_append_printf(o->s, "<%s>%s</%s>\n", name, esc, name);
}

static void raw(struct out *o, const char *xml)
{
	if (!xml)
		return;
	indent(o);
	g_string_append(o->s, xml);
	g_string_append_c(o->s, '\n');
}

static void raw_list(struct out *o, GPtrArray *list)
{
	for (guint i = 0; i < list->len; i++)
		raw(o, g_ptr_array_index(list, i));
}

static void alias(struct out *o, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void alias(struct out *o, const char *fmt, ...)
{
	g_autofree char *name = NULL;
	va_list ap;

	if (!o->live)
		return;
	va_start(ap, fmt);
	name = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	open_tag(o, "alias");
	attr(o, "name", name);
	end_empty(o);
}

static void memory(struct out *o, const char *name, uint64_t kib,
		   unsigned slots)
{
	indent(o);
	g_string_append_printf(o->s, "<%s", name);
	if (slots)
		attr_uint(o, "slots", slots);
	g_string_append_printf(o->s, " unit='KiB'>%" G_GUINT64_FORMAT "</%s>\n",
			       kib, name);
}

static void format_os(struct out *o, const struct duvisor_domain_def *def)
{
	open_tag(o, "os");
	begin(o);
	indent(o);
	g_string_append(o->s, "<type");
	attr(o, "arch", def->arch);
	attr(o, "machine", def->machine);
	g_string_append(o->s, ">hvm</type>\n");
	text_elem(o, "kernel", def->kernel);
	text_elem(o, "initrd", def->initrd);
	text_elem(o, "cmdline", def->cmdline);
	for (size_t i = 0; def->boot_devs && def->boot_devs[i]; i++) {
		open_tag(o, "boot");
		attr(o, "dev", def->boot_devs[i]);
		end_empty(o);
	}
	if (def->smbios_mode) {
		open_tag(o, "smbios");
		attr(o, "mode", def->smbios_mode);
		end_empty(o);
	}
	close_tag(o, "os");
}

static void format_cpu(struct out *o, const struct duvisor_domain_def *def)
{
	if (def->cpu_mode == DUVISOR_CPU_NONE && !def->cpu_sockets &&
	    !def->cpu_match && !def->cpu_check && !def->cpu_migratable)
		return;
	open_tag(o, "cpu");
	if (def->cpu_mode != DUVISOR_CPU_NONE)
		attr(o, "mode", dv_cpu_mode_names[def->cpu_mode]);
	attr(o, "match", def->cpu_match);
	attr(o, "check", def->cpu_check);
	attr(o, "migratable", def->cpu_migratable);
	if (!def->cpu_sockets) {
		end_empty(o);
		return;
	}
	begin(o);
	open_tag(o, "topology");
	attr_uint(o, "sockets", def->cpu_sockets);
	attr_uint(o, "dies", def->cpu_dies);
	attr_uint(o, "cores", def->cpu_cores);
	attr_uint(o, "threads", def->cpu_threads);
	end_empty(o);
	close_tag(o, "cpu");
}

/* vda -> 0, vdz -> 25, vdaa -> 26 */
static unsigned disk_index(const char *target)
{
	unsigned idx = 0;

	for (const char *p = target + 2; *p; p++)
		idx = (idx + (p == target + 2 ? 0 : 1)) * 26 +
		      (unsigned)(*p - 'a');
	return idx;
}

static void format_disk(struct out *o, const struct duvisor_disk_def *d)
{
	open_tag(o, "disk");
	attr(o, "type", dv_disk_type_names[d->type]);
	attr(o, "device", dv_disk_device_names[d->device]);
	begin(o);
	if (d->driver_qemu || d->format || d->cache || d->io || d->discard ||
	    d->detect_zeroes) {
		open_tag(o, "driver");
		attr(o, "name", d->driver_qemu ? "qemu" : NULL);
		if (d->format)
			attr(o, "type", dv_disk_format_names[d->format]);
		attr(o, "cache", d->cache);
		attr(o, "io", d->io);
		attr(o, "discard", d->discard);
		attr(o, "detect_zeroes", d->detect_zeroes);
		end_empty(o);
	}
	if (d->path || d->pool) {
		open_tag(o, "source");
		attr(o, d->type == DUVISOR_DISK_BLOCK ? "dev" : "file",
		     d->path);
		attr(o, "pool", d->pool);
		attr(o, "volume", d->volume);
		end_empty(o);
	}
	open_tag(o, "target");
	attr(o, "dev", d->target);
	attr(o, "bus", dv_disk_bus_names[d->bus]);
	end_empty(o);
	if (d->boot_order) {
		open_tag(o, "boot");
		attr_uint(o, "order", d->boot_order);
		end_empty(o);
	}
	if (d->readonly) {
		open_tag(o, "readonly");
		end_empty(o);
	}
	if (d->shareable) {
		open_tag(o, "shareable");
		end_empty(o);
	}
	text_elem(o, "serial", d->serial);
	if (d->bus == DUVISOR_BUS_VIRTIO)
		alias(o, "virtio-disk%u", disk_index(d->target));
	else
		alias(o, "%s0-0-%u", dv_disk_bus_names[d->bus],
		      disk_index(d->target));
	close_tag(o, "disk");
}

static void format_net(struct out *o, const struct duvisor_net_def *n,
		       guint index)
{
	const struct duvisor_net_live *live = NULL;
	const char *tap = n->target;
	char mac[18];

	if (o->live && index < o->live->n_nets)
		live = &o->live->nets[index];
	/* A tap named in the configuration is the one it runs with. */
	if (live && live->tap && !tap)
		tap = live->tap;
	duvisor_mac_format(n->mac, mac);
	open_tag(o, "interface");
	attr(o, "type", dv_net_type_names[n->type]);
	begin(o);
	open_tag(o, "mac");
	attr(o, "address", mac);
	end_empty(o);
	if (n->source) {
		open_tag(o, "source");
		attr(o, n->type == DUVISOR_NET_NETWORK ? "network" : "bridge",
		     n->source);
		/* Where libvirt shows a running domain's network port. */
		if (live && n->type == DUVISOR_NET_NETWORK) {
			attr(o, "portid", live->portid);
			attr(o, "bridge", live->bridge);
		}
		end_empty(o);
	}
	if (tap) {
		open_tag(o, "target");
		attr(o, "dev", tap);
		attr_tri(o, "managed", n->target_managed, true);
		end_empty(o);
	}
	if (n->model) {
		open_tag(o, "model");
		attr(o, "type", n->model);
		end_empty(o);
	}
	if (n->driver_name || n->queues || n->rx_queue_size ||
	    n->tx_queue_size) {
		open_tag(o, "driver");
		attr(o, "name", n->driver_name);
		if (n->queues)
			attr_uint(o, "queues", n->queues);
		if (n->rx_queue_size)
			attr_uint(o, "rx_queue_size", n->rx_queue_size);
		if (n->tx_queue_size)
			attr_uint(o, "tx_queue_size", n->tx_queue_size);
		end_empty(o);
	}
	if (n->mtu) {
		open_tag(o, "mtu");
		attr_uint(o, "size", n->mtu);
		end_empty(o);
	}
	if (n->link_up) {
		open_tag(o, "link");
		attr(o, "state", n->link_up == DUVISOR_ON ? "up" : "down");
		end_empty(o);
	}
	if (n->boot_order) {
		open_tag(o, "boot");
		attr_uint(o, "order", n->boot_order);
		end_empty(o);
	}
	alias(o, "net%u", index);
	close_tag(o, "interface");
}

static void format_chr(struct out *o, const struct duvisor_domain_def *def,
		       const struct duvisor_chr_def *c, bool console,
		       guint index)
{
	const char *name = console ? "console" : "serial";
	/* The VMM's one console is the first serial port (and the console
	 * paired with it). */
	bool primary = index == 0 && c->target == DUVISOR_CHR_TARGET_SERIAL;
	const char *pty = o->live && primary && c->type == DUVISOR_CHR_PTY ?
			  o->live->console_pty : NULL;

	open_tag(o, name);
	attr(o, "type", dv_chr_type_names[c->type]);
	if (console)
		attr(o, "tty", pty);
	begin(o);
	if (pty || c->path) {
		open_tag(o, "source");
		if (c->type == DUVISOR_CHR_UNIX)
			attr(o, "mode", c->unix_connect ? "connect" : "bind");
		attr(o, "path", pty ? pty : c->path);
		attr_tri(o, "append", c->append, false);
		end_empty(o);
	}
	if (c->log_file) {
		open_tag(o, "log");
		attr(o, "file", c->log_file);
		attr_tri(o, "append", c->log_append, false);
		end_empty(o);
	}
	open_tag(o, "target");
	if (console) {
		attr(o, "type", c->target == DUVISOR_CHR_TARGET_SERIAL ?
		     "serial" : "virtio");
		attr_uint(o, "port", c->port < 0 ? 0 : (unsigned)c->port);
		end_empty(o);
	} else {
		attr(o, "type", "isa-serial");
		attr_uint(o, "port", (unsigned)c->port);
		begin(o);
		open_tag(o, "model");
		attr(o, "name", "isa-serial");
		end_empty(o);
		close_tag(o, "target");
	}
	if (console && primary && def->serials->len)
		alias(o, "serial0");
	else
		alias(o, "%s%u", name, index);
	close_tag(o, name);
}

static void format_graphics(struct out *o, const struct duvisor_graphics_def *g)
{
	/* The live port is the automatic one; a fixed port stays. */
	int port = o->live && o->live->vnc_port > 0 && g->port < 0 ?
		   o->live->vnc_port : g->port;

	open_tag(o, "graphics");
	attr(o, "type", "vnc");
	if (port >= 0)
		attr_uint(o, "port", (unsigned)port);
	attr_tri(o, "autoport", g->autoport, true);
	attr(o, "listen", g->listen);
	if (o->flags & DUVISOR_FORMAT_SECURE)
		attr(o, "passwd", g->passwd);
	attr(o, "keymap", g->keymap);
	if (!g->listen && !g->listen_none) {
		end_empty(o);
		return;
	}
	begin(o);
	open_tag(o, "listen");
	attr(o, "type", g->listen_none ? "none" : "address");
	attr(o, "address", g->listen);
	end_empty(o);
	close_tag(o, "graphics");
}

static void format_memballoon(struct out *o,
			      const struct duvisor_domain_def *def)
{
	open_tag(o, "memballoon");
	attr(o, "model", def->memballoon_virtio ? "virtio" : "none");
	attr_tri(o, "autodeflate", def->balloon_autodeflate, false);
	attr_tri(o, "freePageReporting", def->balloon_free_page_reporting,
		 false);
	/* As libvirt writes it: empty unless stats or an alias. */
	if (!def->balloon_stats_period &&
	    !(def->memballoon_virtio && o->live)) {
		end_empty(o);
		return;
	}
	begin(o);
	if (def->balloon_stats_period) {
		open_tag(o, "stats");
		attr_uint(o, "period", def->balloon_stats_period);
		end_empty(o);
	}
	if (def->memballoon_virtio)
		alias(o, "balloon0");
	close_tag(o, "memballoon");
}

static void format_small_devices(struct out *o,
				 const struct duvisor_domain_def *def)
{
	if (def->has_memballoon)
		format_memballoon(o, def);
	for (guint i = 0; i < def->rngs->len; i++) {
		const struct duvisor_rng_def *r = duvisor_def_rng(def, i);

		open_tag(o, "rng");
		attr(o, "model", "virtio");
		begin(o);
		if (r->rate_bytes) {
			open_tag(o, "rate");
			attr_uint(o, "bytes", r->rate_bytes);
			if (r->rate_period)
				attr_uint(o, "period", r->rate_period);
			end_empty(o);
		}
		if (r->builtin) {
			open_tag(o, "backend");
			attr(o, "model", "builtin");
			end_empty(o);
		} else {
			g_autofree char *esc =
				g_markup_escape_text(r->device, -1);

			indent(o);
			g_string_append_printf(o->s, "<backend model='random'>"
					       "%s</backend>\n", esc);
		}
		alias(o, "rng%u", i);
		close_tag(o, "rng");
	}
	if (def->has_vsock) {
		unsigned cid = def->vsock_cid;

		if (o->live && o->live->vsock_cid && def->vsock_auto)
			cid = o->live->vsock_cid;
		open_tag(o, "vsock");
		attr(o, "model", "virtio");
		begin(o);
		open_tag(o, "cid");
		attr(o, "auto", def->vsock_auto ? "yes" : "no");
		if (cid)
			attr_uint(o, "address", cid);
		end_empty(o);
		alias(o, "vsock0");
		close_tag(o, "vsock");
	}
}

static void format_devices(struct out *o, const struct duvisor_domain_def *def)
{
	open_tag(o, "devices");
	begin(o);
	text_elem(o, "emulator", def->emulator);
	for (guint i = 0; i < def->disks->len; i++)
		format_disk(o, duvisor_def_disk(def, i));
	raw_list(o, def->controllers_xml);
	for (guint i = 0; i < def->nets->len; i++)
		format_net(o, duvisor_def_net(def, i), i);
	for (guint i = 0; i < def->serials->len; i++)
		format_chr(o, def, duvisor_def_serial(def, i), false, i);
	for (guint i = 0; i < def->consoles->len; i++)
		format_chr(o, def, duvisor_def_console(def, i), true, i);
	raw_list(o, def->channels_xml);
	raw_list(o, def->inputs_xml);
	if (def->graphics)
		format_graphics(o, def->graphics);
	raw_list(o, def->videos_xml);
	format_small_devices(o, def);
	close_tag(o, "devices");
}

static void format_memory_backing(struct out *o,
				  const struct duvisor_domain_def *def)
{
	const struct duvisor_memory_backing *mb = &def->memory_backing;

	const struct {
		bool given;
		const char *name, *attr, *value;
	} children[] = {
		{ mb->nosharepages, "nosharepages", NULL, NULL },
		{ mb->source_anonymous, "source", "type", "anonymous" },
		{ mb->access_private, "access", "mode", "private" },
		{ mb->allocation_ondemand, "allocation", "mode", "ondemand" },
		{ mb->discard, "discard", NULL, NULL },
	};

	if (!mb->present)
		return;
	open_tag(o, "memoryBacking");
	begin(o);
	for (size_t i = 0; i < G_N_ELEMENTS(children); i++) {
		if (!children[i].given)
			continue;
		open_tag(o, children[i].name);
		if (children[i].attr)
			attr(o, children[i].attr, children[i].value);
		end_empty(o);
	}
	close_tag(o, "memoryBacking");
}

char *duvisor_domain_def_format(const struct duvisor_domain_def *def,
				const struct duvisor_domain_live *live,
				unsigned flags)
{
	struct out o = { .s = NULL, .flags = flags };
	char uuid[37];

	if (!def || (flags & ~0xfu))
		return NULL;
	if (!(flags & DUVISOR_FORMAT_INACTIVE))
		o.live = live;
	o.s = g_string_new("<domain type='kvm'");
	if (o.live && o.live->id > 0)
		g_string_append_printf(o.s, " id='%d'", o.live->id);
	begin(&o);
	text_elem(&o, "name", def->name);
	duvisor_uuid_format(def->uuid, uuid);
	text_elem(&o, "uuid", uuid);
	text_elem(&o, "title", def->title);
	text_elem(&o, "description", def->description);
	raw(&o, def->metadata_xml);
	if (def->max_memory_kib)
		memory(&o, "maxMemory", def->max_memory_kib,
		       def->max_memory_slots);
	memory(&o, "memory", def->memory_kib, 0);
	memory(&o, "currentMemory", def->current_memory_kib, 0);
	format_memory_backing(&o, def);
	open_tag(&o, "vcpu");
	attr(&o, "placement", def->vcpu_placement);
	if (def->vcpus_current != def->vcpus)
		attr_uint(&o, "current", def->vcpus_current);
	attr(&o, "cpuset", def->vcpu_cpuset);
	g_string_append_printf(o.s, ">%u</vcpu>\n", def->vcpus);
	raw(&o, def->sysinfo_xml);
	format_os(&o, def);
	raw(&o, def->features_xml);
	format_cpu(&o, def);
	raw(&o, def->clock_xml);
	text_elem(&o, "on_poweroff", dv_action_names[def->on_poweroff]);
	text_elem(&o, "on_reboot", dv_action_names[def->on_reboot]);
	text_elem(&o, "on_crash", dv_action_names[def->on_crash]);
	raw(&o, def->pm_xml);
	format_devices(&o, def);
	close_tag(&o, "domain");
	return g_string_free(o.s, FALSE);
}
