// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain XML parser: the smaller devices, the devices kept verbatim, and
 * the checks across devices.
 */
#include <string.h>

#include "domain_conf_priv.h"

bool dv_parse_rng(struct duvisor_domain_def *def, xmlNode *n, GError **error)
{
	static const char *const attrs[] = { "model", NULL };
	static const char *const models[] = { "virtio", NULL };
	static const char *const children[] = { "backend", "rate", "address",
						"alias", NULL };
	static const char *const backend_a[] = { "model", NULL };
	static const char *const backends[] = { "random", "builtin", NULL };
	static const char *const rate_a[] = { "bytes", "period", NULL };
	static const char *const sources[] = { "/dev/urandom", "/dev/random",
					       "/dev/hwrng", NULL };
	struct duvisor_rng_def *r = g_new0(struct duvisor_rng_def, 1);
	bool have_backend = false;
	int v;

	g_ptr_array_add(def->rngs, r);
	if (!dv_check_node(n, "<rng>", attrs, children, false, error) ||
	    !dv_check_once(n, "<rng>", NULL, error) ||
	    !dv_prop_enum(n, "model", "<rng>", models, true, &v, error))
		return false;
	DV_FOR_EACH_ELEMENT(c, n) {
		if (dv_is(c, "rate")) {
			if (!dv_check_node(c, "<rng><rate>", rate_a, NULL,
					   false, error) ||
			    !dv_prop_uint(c, "bytes", "<rng><rate>", 1,
					  UINT32_MAX, &r->rate_bytes, error) ||
			    !dv_prop_uint(c, "period", "<rng><rate>", 1,
					  UINT32_MAX, &r->rate_period, error))
				return false;
			if (!r->rate_bytes)
				return dv_fail(error, VIR_ERR_XML_ERROR,
					       "missing attribute 'bytes' on "
					       "<rng><rate>");
		} else if (dv_is(c, "backend")) {
			if (have_backend)
				return dv_fail(error, VIR_ERR_XML_ERROR,
					       "<rng><backend> appears twice");
			have_backend = true;
			if (!dv_check_node(c, "<rng><backend>", backend_a, NULL,
					   true, error) ||
			    !dv_prop_enum(c, "model", "<rng><backend>",
					  backends, true, &v, error))
				return false;
			r->builtin = v == 1;
			g_free(r->device);
			r->device = dv_text(c);
			if (r->builtin && *r->device)
				return dv_fail(error, VIR_ERR_XML_ERROR,
					       "<backend model='builtin'> takes "
					       "no device");
			if (r->builtin || !*r->device) {
				g_free(r->device);
				r->device = r->builtin ? NULL :
					    g_strdup("/dev/urandom");
			} else if (dv_enum_lookup(sources, r->device) < 0) {
				return dv_fail(error,
					       VIR_ERR_CONFIG_UNSUPPORTED,
					       "rng backend '%.60s' is not "
					       "supported (/dev/urandom, "
					       "/dev/random or /dev/hwrng)",
					       r->device);
			}
		}
	}
	if (!have_backend)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "missing <backend> in <rng>");
	return true;
}

bool dv_parse_memballoon(struct duvisor_domain_def *def, xmlNode *n,
			 GError **error)
{
	static const char *const attrs[] = { "model", "autodeflate",
					     "freePageReporting", NULL };
	static const char *const models[] = { "virtio", "none", NULL };
	static const char *const children[] = { "stats", "address", "alias",
						NULL };
	static const char *const stats_a[] = { "period", NULL };
	int v;

	if (def->has_memballoon)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "more than one <memballoon>");
	def->has_memballoon = true;
	if (!dv_check_node(n, "<memballoon>", attrs, children, false, error) ||
	    !dv_check_once(n, "<memballoon>", NULL, error) ||
	    !dv_prop_enum(n, "model", "<memballoon>", models, true, &v, error) ||
	    !dv_prop_tristate(n, "autodeflate", "<memballoon>", false,
			      &def->balloon_autodeflate, error) ||
	    !dv_prop_tristate(n, "freePageReporting", "<memballoon>", false,
			      &def->balloon_free_page_reporting, error))
		return false;
	def->memballoon_virtio = v == 0;
	DV_FOR_EACH_ELEMENT(c, n) {
		if (!dv_is(c, "stats"))
			continue;
		if (!def->memballoon_virtio)
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "<memballoon model='none'> takes no "
				       "<stats>");
		if (!dv_check_node(c, "<memballoon><stats>", stats_a, NULL,
				   false, error) ||
		    !dv_prop_uint(c, "period", "<memballoon><stats>", 0,
				  INT32_MAX, &def->balloon_stats_period, error))
			return false;
	}
	if (!def->memballoon_virtio &&
	    (def->balloon_autodeflate || def->balloon_free_page_reporting))
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "<memballoon model='none'> takes no options");
	return true;
}

bool dv_parse_vsock(struct duvisor_domain_def *def, xmlNode *n,
		    GError **error)
{
	static const char *const attrs[] = { "model", NULL };
	static const char *const models[] = { "virtio", NULL };
	static const char *const children[] = { "cid", "address", "alias",
						NULL };
	static const char *const cid_a[] = { "auto", "address", NULL };
	enum duvisor_tristate t = DUVISOR_UNSET;
	int v;

	if (def->has_vsock)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "more than one <vsock>");
	def->has_vsock = true;
	if (!dv_check_node(n, "<vsock>", attrs, children, false, error) ||
	    !dv_check_once(n, "<vsock>", NULL, error) ||
	    !dv_prop_enum(n, "model", "<vsock>", models, false, &v, error))
		return false;
	DV_FOR_EACH_ELEMENT(c, n) {
		if (!dv_is(c, "cid"))
			continue;
		if (!dv_check_node(c, "<vsock><cid>", cid_a, NULL, false,
				   error) ||
		    !dv_prop_tristate(c, "auto", "<vsock><cid>", true, &t,
				      error) ||
		    !dv_prop_uint(c, "address", "<vsock><cid>", 3,
				  UINT32_MAX - 1, &def->vsock_cid, error))
			return false;
	}
	/* No cid at all means an automatic one, as in libvirt; the address
	 * of an automatic cid is live state. */
	def->vsock_auto = t == DUVISOR_ON || (t == DUVISOR_UNSET &&
					      !def->vsock_cid);
	if (t == DUVISOR_ON)
		def->vsock_cid = 0;
	if (t == DUVISOR_OFF && !def->vsock_cid)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "<vsock><cid auto='no'> needs an address");
	return true;
}

bool dv_parse_graphics(struct duvisor_domain_def *def, xmlNode *n,
		       GError **error)
{
	static const char *const attrs[] = { "type", "port", "autoport",
		"listen", "passwd", "keymap", NULL };
	static const char *const children[] = { "listen", NULL };
	static const char *const listen_a[] = { "type", "address", NULL };
	static const char *const listen_t[] = { "address", "none", NULL };
	const char *where = "<graphics type='vnc'>";
	struct duvisor_graphics_def *g;
	g_autofree char *type = dv_prop(n, "type");
	g_autofree char *port = NULL;
	int v;

	if (!type || strcmp(type, "vnc") != 0)
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "graphics type '%.40s' is not supported "
			       "(only 'vnc')", type ? type : "");
	if (def->graphics)
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "more than one <graphics> is not supported");
	def->graphics = g = g_new0(struct duvisor_graphics_def, 1);
	g->port = -1;
	if (!dv_check_node(n, where, attrs, children, false, error) ||
	    !dv_check_once(n, where, NULL, error) ||
	    !dv_prop_tristate(n, "autoport", where, true, &g->autoport, error))
		return false;
	port = dv_prop(n, "port");
	if (port && strcmp(port, "-1") != 0) {
		unsigned p = 0;

		if (!dv_prop_uint(n, "port", where, 5900, 65535, &p, error))
			return false;
		/* With autoport the port is live state (as in libvirt). */
		if (g->autoport != DUVISOR_ON)
			g->port = (int)p;
	}
	g->listen = dv_prop(n, "listen");
	g->passwd = dv_prop(n, "passwd");
	g->keymap = dv_prop(n, "keymap");
	if ((g->listen && !dv_check_string(g->listen, "VNC listen address",
					   false, error)) ||
	    (g->keymap && !dv_check_string(g->keymap, "VNC keymap", false,
					   error)))
		return false;
	DV_FOR_EACH_ELEMENT(c, n) {
		g_autofree char *addr = NULL;

		if (!dv_check_node(c, "<graphics><listen>", listen_a, NULL,
				   false, error) ||
		    !dv_prop_enum(c, "type", "<graphics><listen>", listen_t,
				  true, &v, error))
			return false;
		addr = dv_prop(c, "address");
		if (v == 1) {
			g->listen_none = true;
			continue;
		}
		if (!addr || (g->listen && strcmp(addr, g->listen) != 0))
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "<graphics><listen> address must be "
				       "given and match the listen attribute");
		if (!g->listen) {
			g->listen = g_steal_pointer(&addr);
			if (!dv_check_string(g->listen, "VNC listen address",
					     false, error))
				return false;
		}
	}
	if (g->listen_none && g->listen)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "<listen type='none'> with a listen address");
	return true;
}

/* Devices DuVisor preserves but does not use. Each entry: the element, the
 * allowed values of its 'type' (or <model type>), its child elements. The
 * children may carry any attributes and have no children themselves. */
struct raw_kind {
	const char *element;
	const char *const *types;
	const char *const *children;
	const char *const *attrs;
};

static const char *const ctl_types[] = { "usb", "pci", "scsi",
	"virtio-serial", "sata", "ide", NULL };
static const char *const ctl_children[] = { "model", "target", "driver",
	"address", "alias", NULL };
static const char *const ctl_attrs[] = { "type", "index", "model", "ports",
	"vectors", NULL };
static const char *const input_types[] = { "mouse", "keyboard", "tablet",
	NULL };
static const char *const input_children[] = { "address", "alias", NULL };
static const char *const input_attrs[] = { "type", "bus", NULL };
static const char *const input_buses[] = { "ps2", "usb", "virtio", NULL };
static const char *const video_types[] = { "none", "vga", "cirrus",
	"virtio", "qxl", "bochs", "ramfb", NULL };
static const char *const video_children[] = { "model", "address", "alias",
	NULL };
static const char *const chan_types[] = { "unix", "pty", NULL };
static const char *const chan_children[] = { "source", "target", "address",
	"alias", NULL };
static const char *const type_attr[] = { "type", NULL };

static const struct raw_kind raw_kinds[] = {
	/* virt-install and nova write USB/PCI/SCSI controllers; DuVisor's
	 * virtio-mmio devices hang off no controller. */
	{ "controller", ctl_types, ctl_children, ctl_attrs },
	/* PS/2 mouse and keyboard are implicit on x86; a tablet goes with
	 * a display. Without a display none of them does anything. */
	{ "input", input_types, input_children, input_attrs },
	/* Display adapters go with <graphics>: no display yet. */
	{ "video", video_types, video_children, NULL },
	/* Guest agent channels: no virtio-serial yet, no agent APIs. */
	{ "channel", chan_types, chan_children, type_attr },
};

/* A child of a kept device: attributes only. */
static bool raw_child_ok(xmlNode *c, const char *where, GError **error)
{
	for (xmlAttr *a = c->properties; a; a = a->next)
		if (a->ns)
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "unsupported attribute '%s' on %s<%s>",
				       a->name, where, c->name);
	for (xmlNode *g = c->children; g; g = g->next) {
		if (g->type == XML_ELEMENT_NODE)
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "unsupported element <%s> in %s<%s>",
				       g->name, where, c->name);
		if (g->type == XML_TEXT_NODE || g->type == XML_CDATA_SECTION_NODE)
			for (const xmlChar *p = g->content; p && *p; p++)
				if (!g_ascii_isspace(*p))
					return dv_fail(error, VIR_ERR_XML_ERROR,
						       "unexpected text in "
						       "%s<%s>", where,
						       c->name);
	}
	return true;
}

bool dv_parse_raw_device(struct duvisor_domain_def *def, xmlNode *n,
			 GError **error)
{
	GPtrArray *lists[] = { def->controllers_xml, def->inputs_xml,
			       def->videos_xml, def->channels_xml };
	const struct raw_kind *k = NULL;
	g_autofree char *where = NULL, *type = NULL;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(raw_kinds); i++)
		if (dv_is(n, raw_kinds[i].element))
			k = &raw_kinds[i];
	g_assert(k);
	i = (size_t)(k - raw_kinds);
	where = g_strdup_printf("<%s>", k->element);
	if (!dv_check_node(n, where, k->attrs, k->children, false, error))
		return false;
	if (k->attrs) {
		type = dv_prop(n, "type");
	} else {
		/* <video>: the type is on its one <model>. */
		if (!dv_check_once(n, where, NULL, error))
			return false;
		DV_FOR_EACH_ELEMENT(c, n)
			if (dv_is(c, "model"))
				type = dv_prop(c, "type");
	}
	if (k->attrs == input_attrs) {
		g_autofree char *bus = dv_prop(n, "bus");

		if (bus && dv_enum_lookup(input_buses, bus) < 0)
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "<input> bus '%.40s' is not supported",
				       bus);
	}
	if (!type)
		return dv_fail(error, VIR_ERR_XML_ERROR, "%s needs a type",
			       where);
	if (dv_enum_lookup(k->types, type) < 0)
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "%s type '%.40s' is not supported", where, type);
	for (xmlNode *c = n->children, *next; c; c = next) {
		next = c->next;
		if (c->type == XML_ELEMENT_NODE &&
		    !raw_child_ok(c, where, error))
			return false;
		if (c->type == XML_ELEMENT_NODE && dv_is(c, "alias")) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
	g_ptr_array_add(lists[i], dv_raw_xml(n));
	return true;
}

/* ---- checks across devices ---- */

static bool check_boot(struct duvisor_domain_def *def, GError **error)
{
	bool used[256] = { false };
	unsigned any = 0;

	for (guint i = 0; i < def->disks->len + def->nets->len; i++) {
		unsigned o = i < def->disks->len ?
			duvisor_def_disk(def, i)->boot_order :
			duvisor_def_net(def, i - def->disks->len)->boot_order;

		if (!o)
			continue;
		if (used[o])
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "boot order %u used twice", o);
		used[o] = true;
		any++;
	}
	if (any && def->boot_devs)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "per-device <boot order> cannot be combined "
			       "with <os><boot>");
	for (guint i = 0; i < def->disks->len; i++)
		for (guint j = 0; j < i; j++)
			if (strcmp(duvisor_def_disk(def, i)->target,
				   duvisor_def_disk(def, j)->target) == 0)
				return dv_fail(error, VIR_ERR_XML_ERROR,
					       "disk target '%s' used twice",
					       duvisor_def_disk(def, i)->target);
	return true;
}

static struct duvisor_chr_def *chr_copy(const struct duvisor_chr_def *c)
{
	struct duvisor_chr_def *n = g_memdup2(c, sizeof(*c));

	n->path = g_strdup(c->path);
	n->log_file = g_strdup(c->log_file);
	return n;
}

static bool check_chrs(struct duvisor_domain_def *def, GError **error)
{
	bool used[4] = { false };
	struct duvisor_chr_def *con;

	for (guint i = 0; i < def->serials->len; i++) {
		int p = duvisor_def_serial(def, i)->port;

		if (p >= 0 && used[p])
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "serial port %d used twice", p);
		if (p >= 0)
			used[p] = true;
	}
	for (guint i = 0; i < def->serials->len; i++) {
		struct duvisor_chr_def *s = duvisor_def_serial(def, i);
		int p = 0;

		while (s->port < 0 && p < 4 && used[p])
			p++;
		if (s->port < 0 && p == 4)
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "more than 4 serial ports");
		if (s->port < 0)
			used[s->port = p] = true;
	}
	for (guint i = 1; i < def->consoles->len; i++)
		if (duvisor_def_console(def, i)->target ==
		    DUVISOR_CHR_TARGET_SERIAL)
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "only the first <console> can be a "
				       "serial console");
	if (!def->consoles->len)
		return true;
	con = duvisor_def_console(def, 0);
	if (con->target != DUVISOR_CHR_TARGET_SERIAL)
		return true;
	/* libvirt's pairing: the serial console is the first serial port. */
	if (!def->serials->len) {
		con->port = 0;
		g_ptr_array_add(def->serials, chr_copy(con));
		return true;
	}
	g_ptr_array_index(def->consoles, 0) =
		chr_copy(duvisor_def_serial(def, 0));
	dv_chr_free(con);
	return true;
}

bool dv_devices_check(struct duvisor_domain_def *def, GError **error)
{
	GPtrArray *lists[] = { def->disks, def->nets, def->serials,
			       def->consoles, def->rngs, def->controllers_xml,
			       def->inputs_xml, def->videos_xml,
			       def->channels_xml };

	for (size_t i = 0; i < G_N_ELEMENTS(lists); i++)
		if (lists[i]->len > DUVISOR_MAX_DEVICES)
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "too many devices of one kind (at most "
				       "%d)", DUVISOR_MAX_DEVICES);
	return check_boot(def, error) && check_chrs(def, error);
}
