// SPDX-License-Identifier: GPL-2.0-or-later
/* Domain XML parser: the document and everything outside <devices>. */
#include <string.h>

#include "domain_conf_priv.h"

/* ---- top level ---- */

static bool parse_name(struct duvisor_domain_def *def, xmlNode *n,
		       GError **error)
{
	char *name;

	if (!dv_check_node(n, "<name>", NULL, NULL, true, error))
		return false;
	def->name = name = dv_text(n);
	if (!*name)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "empty domain name");
	if (strlen(name) > DUVISOR_NAME_MAX)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "domain name too long (%zu bytes, at most %d)",
			       strlen(name), DUVISOR_NAME_MAX);
	if (strchr(name, '/'))
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "domain name '%s' contains '/'", name);
	return dv_check_string(name, "domain name", false, error);
}

struct unit { const char *name; uint64_t scale; };

static const struct unit units[] = {
	{ "b", 1 }, { "bytes", 1 },
	{ "k", 1ull << 10 }, { "KiB", 1ull << 10 }, { "KB", 1000ull },
	{ "M", 1ull << 20 }, { "MiB", 1ull << 20 }, { "MB", 1000000ull },
	{ "G", 1ull << 30 }, { "GiB", 1ull << 30 }, { "GB", 1000000000ull },
	{ "T", 1ull << 40 }, { "TiB", 1ull << 40 }, { "TB", 1000000000000ull },
	{ "P", 1ull << 50 }, { "PiB", 1ull << 50 },
	{ "PB", 1000000000000000ull },
	{ "E", 1ull << 60 }, { "EiB", 1ull << 60 },
	{ "EB", 1000000000000000000ull },
};

static bool parse_memory(xmlNode *n, const char *where, bool slots,
			 uint64_t *kib, GError **error)
{
	static const char *const attrs[] = { "unit", NULL };
	static const char *const attrs_slots[] = { "unit", "slots", NULL };
	g_autofree char *unit = NULL, *text = NULL;
	uint64_t scale = 1024, v, bytes;

	if (!dv_check_node(n, where, slots ? attrs_slots : attrs, NULL, true,
			   error))
		return false;
	unit = dv_prop(n, "unit");
	if (unit) {
		size_t i;

		for (i = 0; i < G_N_ELEMENTS(units); i++)
			if (strcmp(unit, units[i].name) == 0)
				break;
		if (i == G_N_ELEMENTS(units))
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "unknown unit '%.40s' on %s", unit,
				       where);
		scale = units[i].scale;
	}
	text = dv_text(n);
	if (!dv_parse_u64(text, &v))
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "invalid value '%.40s' in %s", text, where);
	if (__builtin_mul_overflow(v, scale, &bytes) ||
	    bytes / 1024 + (bytes % 1024 != 0) > DUVISOR_MEMORY_MAX_KIB)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "%s %s%s%s is too large (at most %" G_GUINT64_FORMAT
			       " KiB)", where, text, unit ? " " : "",
			       unit ? unit : "", DUVISOR_MEMORY_MAX_KIB);
	*kib = bytes / 1024 + (bytes % 1024 != 0);
	if (*kib == 0)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "%s must be greater than zero", where);
	return true;
}

static bool parse_vcpu(struct duvisor_domain_def *def, xmlNode *n,
		       GError **error)
{
	static const char *const attrs[] = { "placement", "current", "cpuset",
					     NULL };
	static const char *const placements[] = { "static", "auto", NULL };
	g_autofree char *text = NULL;
	uint64_t v;
	int p;

	if (!dv_check_node(n, "<vcpu>", attrs, NULL, true, error) ||
	    !dv_prop_enum(n, "placement", "<vcpu>", placements, false, &p,
			  error))
		return false;
	text = dv_text(n);
	if (!dv_parse_u64(text, &v) || v == 0)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "invalid vCPU count '%.40s'", text);
	if (v > DUVISOR_MAX_VCPUS)
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "%.40s vCPUs requested, DuVisor supports at "
			       "most %d", text, DUVISOR_MAX_VCPUS);
	def->vcpus = def->vcpus_current = (unsigned)v;
	if (!dv_prop_uint(n, "current", "<vcpu>", 1, v, &def->vcpus_current,
			  error))
		return false;
	if (p >= 0)
		def->vcpu_placement = g_strdup(placements[p]);
	def->vcpu_cpuset = dv_prop(n, "cpuset");
	if (def->vcpu_cpuset &&
	    (!*def->vcpu_cpuset ||
	     strspn(def->vcpu_cpuset, "0123456789,-^ ") !=
	     strlen(def->vcpu_cpuset)))
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "invalid cpuset '%.40s' on <vcpu>",
			       def->vcpu_cpuset);
	return true;
}

static bool parse_os(struct duvisor_domain_def *def, xmlNode *os,
		     GError **error)
{
	static const char *const children[] = {
		"type", "kernel", "initrd", "cmdline", "boot", "smbios", NULL };
	static const char *const type_attrs[] = { "arch", "machine", NULL };
	static const char *const boot_devs[] = { "hd", "cdrom", "network",
						 "fd", NULL };
	static const char *const smbios[] = { "sysinfo", "host", "emulate",
					      NULL };
	static const char *const dev_attr[] = { "dev", NULL };
	static const char *const mode_attr[] = { "mode", NULL };
	g_autoptr(GPtrArray) boots = g_ptr_array_new();
	bool have_type = false;

	if (xmlHasProp(os, (const xmlChar *)"firmware"))
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "firmware boot (<os firmware=...>) is not "
			       "supported: DuVisor boots a Linux kernel "
			       "directly, give <os><kernel>");
	DV_FOR_EACH_ELEMENT(c, os) {
		if (dv_is(c, "loader") || dv_is(c, "nvram"))
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "<os><%s> is not supported: DuVisor has "
				       "no firmware, give <os><kernel>",
				       c->name);
	}
	static const char *const boot_only[] = { "boot", NULL };

	if (!dv_check_node(os, "<os>", NULL, children, false, error) ||
	    !dv_check_once(os, "<os>", boot_only, error))
		return false;
	DV_FOR_EACH_ELEMENT(c, os) {
		char **slot = NULL;
		g_autofree char *text = NULL;
		int v;

		if (dv_is(c, "type")) {
			if (have_type)
				return dv_fail(error, VIR_ERR_XML_ERROR,
					       "<os><type> appears twice");
			have_type = true;
			if (!dv_check_node(c, "<os><type>", type_attrs, NULL,
					   true, error))
				return false;
			text = dv_text(c);
			if (strcmp(text, "hvm") != 0)
				return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
					       "OS type '%.40s' is not supported "
					       "(only 'hvm')", text);
			def->arch = dv_prop(c, "arch");
			if (!def->arch)
				def->arch = g_strdup("x86_64");
			if (strcmp(def->arch, "x86_64") != 0)
				return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
					       "architecture '%.40s' is not "
					       "supported (only x86_64)",
					       def->arch);
			def->machine = dv_prop(c, "machine");
			if (!def->machine)
				def->machine = g_strdup(DUVISOR_DEFAULT_MACHINE);
			if (!duvisor_machine_supported(def->machine))
				return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
					       "machine type '%.60s' is not "
					       "supported (use '%s')",
					       def->machine,
					       DUVISOR_DEFAULT_MACHINE);
			continue;
		}
		if (dv_is(c, "boot")) {
			if (!dv_check_node(c, "<os><boot>", dev_attr, NULL,
					   false, error) ||
			    !dv_prop_enum(c, "dev", "<os><boot>", boot_devs,
					  true, &v, error))
				return false;
			if (boots->len >= 4)
				return dv_fail(error, VIR_ERR_XML_ERROR,
					       "too many <os><boot> elements");
			g_ptr_array_add(boots, g_strdup(boot_devs[v]));
			continue;
		}
		if (dv_is(c, "smbios")) {
			if (!dv_check_node(c, "<os><smbios>", mode_attr, NULL,
					   false, error) ||
			    !dv_prop_enum(c, "mode", "<os><smbios>", smbios,
					  true, &v, error))
				return false;
			g_free(def->smbios_mode);
			def->smbios_mode = g_strdup(smbios[v]);
			continue;
		}
		slot = dv_is(c, "kernel") ? &def->kernel :
		       dv_is(c, "initrd") ? &def->initrd : &def->cmdline;
		if (*slot)
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "<os><%s> appears twice", c->name);
		if (!dv_check_node(c, "<os>", NULL, NULL, true, error))
			return false;
		*slot = dv_text(c);
		if (slot == &def->cmdline) {
			if (**slot && !dv_check_string(*slot, "<os><cmdline>",
						       false, error))
				return false;
		} else if (!dv_check_string(*slot, slot == &def->kernel ?
					    "<os><kernel>" : "<os><initrd>",
					    true, error)) {
			return false;
		}
	}
	if (!have_type)
		return dv_fail(error, VIR_ERR_XML_ERROR, "missing <os><type>");
	if (boots->len) {
		g_ptr_array_add(boots, NULL);
		def->boot_devs = (char **)g_ptr_array_free(g_steal_pointer(&boots),
							    FALSE);
	}
	return true;
}

/* Kept verbatim; each child must be one of @children with no children of
 * its own and only @attrs. */
static bool parse_flat_raw(xmlNode *n, const char *where,
			   const char *const *attrs,
			   const char *const *children,
			   const char *const *child_attrs, char **out,
			   GError **error)
{
	if (!dv_check_node(n, where, attrs, children, false, error))
		return false;
	DV_FOR_EACH_ELEMENT(c, n) {
		g_autofree char *w = g_strdup_printf("%s<%s>", where, c->name);

		if (!dv_check_node(c, w, child_attrs, NULL, false, error))
			return false;
	}
	*out = dv_raw_xml(n);
	return true;
}

static bool parse_features(struct duvisor_domain_def *def, xmlNode *n,
			   GError **error)
{
	static const char *const children[] = { "acpi", "apic", "pae",
		"vmport", "vmcoreinfo", "pmu", NULL };
	static const char *const attrs[] = { "state", "eoi", NULL };

	if (!parse_flat_raw(n, "<features>", NULL, children, attrs,
			    &def->features_xml, error))
		return false;
	DV_FOR_EACH_ELEMENT(c, n) {
		enum duvisor_tristate t;

		if (!dv_prop_tristate(c, "state", "<features>", false, &t,
				      error) ||
		    !dv_prop_tristate(c, "eoi", "<features>", false, &t,
				      error))
			return false;
		if ((xmlHasProp(c, (const xmlChar *)"eoi") && !dv_is(c, "apic")) ||
		    (xmlHasProp(c, (const xmlChar *)"state") &&
		     (dv_is(c, "acpi") || dv_is(c, "apic") || dv_is(c, "pae"))))
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "unsupported attribute on "
				       "<features><%s>", c->name);
		def->acpi |= dv_is(c, "acpi");
		def->apic |= dv_is(c, "apic");
	}
	return true;
}

static bool parse_clock(struct duvisor_domain_def *def, xmlNode *n,
			GError **error)
{
	static const char *const attrs[] = { "offset", NULL };
	static const char *const offsets[] = { "utc", "localtime", NULL };
	static const char *const children[] = { "timer", NULL };
	static const char *const tattrs[] = { "name", "tickpolicy", "present",
					      "track", NULL };
	static const char *const names[] = { "rtc", "pit", "hpet", "kvmclock",
					     "tsc", "hypervclock", NULL };
	static const char *const ticks[] = { "delay", "catchup", "merge",
					     "discard", NULL };
	static const char *const tracks[] = { "boot", "guest", "wall", NULL };
	enum duvisor_tristate t;
	int v;

	if (!parse_flat_raw(n, "<clock>", attrs, children, tattrs,
			    &def->clock_xml, error) ||
	    !dv_prop_enum(n, "offset", "<clock>", offsets, false, &v, error))
		return false;
	DV_FOR_EACH_ELEMENT(c, n) {
		if (!dv_prop_enum(c, "name", "<clock><timer>", names, true, &v,
				  error) ||
		    !dv_prop_enum(c, "tickpolicy", "<clock><timer>", ticks,
				  false, &v, error) ||
		    !dv_prop_enum(c, "track", "<clock><timer>", tracks, false,
				  &v, error) ||
		    !dv_prop_tristate(c, "present", "<clock><timer>", true, &t,
				      error))
			return false;
	}
	return true;
}

static bool parse_pm(struct duvisor_domain_def *def, xmlNode *n,
		     GError **error)
{
	static const char *const children[] = { "suspend-to-mem",
						"suspend-to-disk", NULL };
	static const char *const attrs[] = { "enabled", NULL };
	enum duvisor_tristate t;

	if (!parse_flat_raw(n, "<pm>", NULL, children, attrs, &def->pm_xml,
			    error))
		return false;
	DV_FOR_EACH_ELEMENT(c, n)
		if (!dv_prop_tristate(c, "enabled", "<pm>", true, &t, error))
			return false;
	return true;
}

static bool parse_sysinfo(struct duvisor_domain_def *def, xmlNode *n,
			  GError **error)
{
	static const char *const attrs[] = { "type", NULL };
	static const char *const types[] = { "smbios", NULL };
	static const char *const children[] = { "bios", "system", "baseBoard",
						"chassis", "oemStrings", NULL };
	static const char *const entry[] = { "entry", NULL };
	static const char *const name[] = { "name", NULL };
	int v;

	if (!dv_check_node(n, "<sysinfo>", attrs, children, false, error) ||
	    !dv_prop_enum(n, "type", "<sysinfo>", types, true, &v, error))
		return false;
	DV_FOR_EACH_ELEMENT(c, n) {
		if (!dv_check_node(c, "<sysinfo>", NULL, entry, false, error))
			return false;
		DV_FOR_EACH_ELEMENT(e, c)
			if (!dv_check_node(e, "<sysinfo> <entry>",
					   dv_is(c, "oemStrings") ? NULL : name,
					   NULL, true, error))
				return false;
	}
	def->sysinfo_xml = dv_raw_xml(n);
	return true;
}

static bool parse_cpu(struct duvisor_domain_def *def, xmlNode *n,
		      GError **error)
{
	static const char *const attrs[] = { "mode", "match", "check",
					     "migratable", NULL };
	static const char *const matches[] = { "exact", "minimum", "strict",
					       NULL };
	static const char *const checks[] = { "none", "partial", "full", NULL };
	static const char *const children[] = { "topology", NULL };
	static const char *const tattrs[] = { "sockets", "dies", "cores",
					      "threads", NULL };
	g_autofree char *mode = dv_prop(n, "mode");
	enum duvisor_tristate mig;
	int v;

	if (mode && (strcmp(mode, "custom") == 0 ||
		     strcmp(mode, "maximum") == 0))
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "CPU mode '%s' is not supported: use "
			       "host-passthrough or host-model", mode);
	if (!dv_check_node(n, "<cpu>", attrs, children, false, error) ||
	    !dv_check_once(n, "<cpu>", NULL, error) ||
	    !dv_prop_enum(n, "mode", "<cpu>", dv_cpu_mode_names, false, &v,
			  error))
		return false;
	def->cpu_mode = v < 0 ? DUVISOR_CPU_NONE : (enum duvisor_cpu_mode)v;
	if (!dv_prop_enum(n, "match", "<cpu>", matches, false, &v, error))
		return false;
	def->cpu_match = v < 0 ? NULL : g_strdup(matches[v]);
	if (!dv_prop_enum(n, "check", "<cpu>", checks, false, &v, error))
		return false;
	def->cpu_check = v < 0 ? NULL : g_strdup(checks[v]);
	if (!dv_prop_tristate(n, "migratable", "<cpu>", false, &mig, error))
		return false;
	if (mig != DUVISOR_UNSET)
		def->cpu_migratable = g_strdup(dv_onoff_names[mig]);
	DV_FOR_EACH_ELEMENT(c, n) {
		if (def->cpu_sockets)
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "<cpu><topology> appears twice");
		def->cpu_dies = 1;
		if (!dv_check_node(c, "<cpu><topology>", tattrs, NULL, false,
				   error) ||
		    !dv_prop_uint(c, "sockets", "<cpu><topology>", 1,
				  DUVISOR_MAX_VCPUS, &def->cpu_sockets, error) ||
		    !dv_prop_uint(c, "dies", "<cpu><topology>", 1,
				  DUVISOR_MAX_VCPUS, &def->cpu_dies, error) ||
		    !dv_prop_uint(c, "cores", "<cpu><topology>", 1,
				  DUVISOR_MAX_VCPUS, &def->cpu_cores, error) ||
		    !dv_prop_uint(c, "threads", "<cpu><topology>", 1,
				  DUVISOR_MAX_VCPUS, &def->cpu_threads, error))
			return false;
		if (!def->cpu_sockets || !def->cpu_cores || !def->cpu_threads)
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "<cpu><topology> needs sockets, cores "
				       "and threads");
	}
	return true;
}

static bool parse_action(xmlNode *n, bool crash,
			 enum duvisor_lifecycle_action *out, GError **error)
{
	g_autofree char *where = g_strdup_printf("<%s>", n->name);
	g_autofree char *text = NULL;
	int v;

	if (!dv_check_node(n, where, NULL, NULL, true, error))
		return false;
	text = dv_text(n);
	v = dv_enum_lookup(dv_action_names, text);
	if (v < 0 || (!crash && v >= DUVISOR_ACTION_COREDUMP_DESTROY))
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "invalid action '%.40s' in %s", text, where);
	*out = (enum duvisor_lifecycle_action)v;
	return true;
}

enum slot {
	S_NAME, S_UUID, S_TITLE, S_DESCRIPTION, S_METADATA, S_MEMORY,
	S_CURRENT_MEMORY, S_MAX_MEMORY, S_MEMORY_BACKING, S_VCPU, S_OS,
	S_FEATURES, S_CPU,
	S_CLOCK, S_ON_POWEROFF, S_ON_REBOOT, S_ON_CRASH, S_PM, S_SYSINFO,
	S_DEVICES, S_COUNT
};

static const char *const domain_children[] = {
	[S_NAME] = "name", [S_UUID] = "uuid", [S_TITLE] = "title",
	[S_DESCRIPTION] = "description", [S_METADATA] = "metadata",
	[S_MEMORY] = "memory", [S_CURRENT_MEMORY] = "currentMemory",
	[S_MAX_MEMORY] = "maxMemory", [S_MEMORY_BACKING] = "memoryBacking",
	[S_VCPU] = "vcpu", [S_OS] = "os",
	[S_FEATURES] = "features", [S_CPU] = "cpu", [S_CLOCK] = "clock",
	[S_ON_POWEROFF] = "on_poweroff", [S_ON_REBOOT] = "on_reboot",
	[S_ON_CRASH] = "on_crash", [S_PM] = "pm", [S_SYSINFO] = "sysinfo",
	[S_DEVICES] = "devices", [S_COUNT] = NULL,
};

static bool parse_identity(struct duvisor_domain_def *def, xmlNode **s,
			   GError **error)
{
	if (!s[S_NAME])
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "missing <name> in <domain>");
	if (!parse_name(def, s[S_NAME], error))
		return false;
	if (s[S_UUID]) {
		g_autofree char *text = NULL;

		if (!dv_check_node(s[S_UUID], "<uuid>", NULL, NULL, true,
				   error))
			return false;
		text = dv_text(s[S_UUID]);
		if (!duvisor_uuid_parse(text, def->uuid))
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "malformed <uuid> '%.40s'", text);
	} else {
		duvisor_uuid_generate(def->uuid);
	}
	if (s[S_TITLE]) {
		if (!dv_check_node(s[S_TITLE], "<title>", NULL, NULL, true,
				   error))
			return false;
		def->title = dv_text(s[S_TITLE]);
		if (strchr(def->title, '\n'))
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "<title> must be a single line");
	}
	if (s[S_DESCRIPTION]) {
		xmlChar *v;

		if (!dv_check_node(s[S_DESCRIPTION], "<description>", NULL,
				   NULL, true, error))
			return false;
		v = xmlNodeGetContent(s[S_DESCRIPTION]);
		def->description = g_strdup(v ? (const char *)v : "");
		xmlFree(v);
	}
	if (s[S_METADATA]) {
		/* Anything goes in <metadata>: it is kept verbatim. */
		if (s[S_METADATA]->properties)
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "unsupported attribute on <metadata>");
		def->metadata_xml = dv_raw_xml(s[S_METADATA]);
	}
	return true;
}

/* A child of <memoryBacking> with one attribute whose only value we
 * support is @value; *@given says it was there. */
static bool memory_backing_mode(xmlNode *c, const char *where,
				const char *attr, const char *value,
				bool *given, GError **error)
{
	const char *const attrs[] = { attr, NULL };
	const char *const values[] = { value, NULL };
	int v;

	*given = true;
	return dv_check_node(c, where, attrs, NULL, false, error) &&
	       dv_prop_enum(c, attr, where, values, true, &v, error);
}

/*
 * Guest RAM is anonymous, private memory, allocated as the guest touches
 * it, that the host's KSM may merge unless <nosharepages/>.  Backings
 * that need hugetlbfs, files, shared or locked memory are refused.
 */
static bool parse_memory_backing(struct duvisor_domain_def *def, xmlNode *n,
				 GError **error)
{
	static const char *const children[] = {
		"nosharepages", "source", "access", "allocation", "discard",
		"hugepages", "locked", NULL };
	struct duvisor_memory_backing *mb = &def->memory_backing;

	if (!dv_check_node(n, "<memoryBacking>", NULL, children, false,
			   error) ||
	    !dv_check_once(n, "<memoryBacking>", NULL, error))
		return false;
	mb->present = true;
	DV_FOR_EACH_ELEMENT(c, n) {
		bool ok;

		if (dv_is(c, "hugepages") || dv_is(c, "locked"))
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "<memoryBacking><%s> is not supported: "
				       "guest memory is anonymous memory in "
				       "normal (and transparent huge) pages",
				       c->name);
		if (dv_is(c, "nosharepages") || dv_is(c, "discard")) {
			ok = dv_check_node(c, "<memoryBacking> child", NULL,
					   NULL, false, error);
			if (dv_is(c, "discard"))
				mb->discard = true;
			else
				mb->nosharepages = true;
		} else if (dv_is(c, "source")) {
			ok = memory_backing_mode(c, "<memoryBacking><source>",
						 "type", "anonymous",
						 &mb->source_anonymous, error);
		} else if (dv_is(c, "access")) {
			ok = memory_backing_mode(c, "<memoryBacking><access>",
						 "mode", "private",
						 &mb->access_private, error);
		} else {
			ok = memory_backing_mode(c,
						 "<memoryBacking><allocation>",
						 "mode", "ondemand",
						 &mb->allocation_ondemand,
						 error);
		}
		if (!ok)
			return false;
	}
	return true;
}

static bool parse_sizes(struct duvisor_domain_def *def, xmlNode **s,
			GError **error)
{
	if (!s[S_MEMORY])
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "missing <memory> in <domain>");
	if (!parse_memory(s[S_MEMORY], "<memory>", false, &def->memory_kib,
			  error))
		return false;
	def->current_memory_kib = def->memory_kib;
	if (s[S_CURRENT_MEMORY]) {
		if (!parse_memory(s[S_CURRENT_MEMORY], "<currentMemory>", false,
				  &def->current_memory_kib, error))
			return false;
		/* As libvirt does: never more than <memory>. */
		if (def->current_memory_kib > def->memory_kib)
			def->current_memory_kib = def->memory_kib;
	}
	if (s[S_MAX_MEMORY]) {
		if (!parse_memory(s[S_MAX_MEMORY], "<maxMemory>", true,
				  &def->max_memory_kib, error) ||
		    !dv_prop_uint(s[S_MAX_MEMORY], "slots", "<maxMemory>", 1,
				  255, &def->max_memory_slots, error))
			return false;
		if (!def->max_memory_slots)
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "missing attribute 'slots' on "
				       "<maxMemory>");
		if (def->max_memory_kib < def->memory_kib)
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "<maxMemory> is less than <memory>");
	}
	if (s[S_MEMORY_BACKING] &&
	    !parse_memory_backing(def, s[S_MEMORY_BACKING], error))
		return false;
	def->vcpus = def->vcpus_current = 1;
	if (s[S_VCPU] && !parse_vcpu(def, s[S_VCPU], error))
		return false;
	return true;
}

static bool parse_domain(struct duvisor_domain_def *def, xmlNode *root,
			 GError **error)
{
	static const char *const root_attrs[] = { "type", "id", NULL };
	xmlNode *s[S_COUNT] = { NULL };
	g_autofree char *type = NULL;

	if (!dv_is(root, "domain"))
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "expected a <domain> document (in no namespace),"
			       " found <%s>%s%s", root->name,
			       root->ns ? " in namespace " : "",
			       root->ns ? (const char *)root->ns->href : "");
	type = dv_prop(root, "type");
	if (!type)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "missing attribute 'type' on <domain>");
	if (strcmp(type, "kvm") != 0)
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "domain type '%.40s' is not supported by DuVisor "
			       "(use <domain type='kvm'>)", type);
	/* 'id' is live state in dumped XML; it is ignored here. */
	if (!dv_check_node(root, "<domain>", root_attrs, domain_children,
			   false, error))
		return false;
	DV_FOR_EACH_ELEMENT(c, root) {
		int i = dv_enum_lookup(domain_children, (const char *)c->name);

		if (s[i])
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "element <%s> appears twice in <domain>",
				       c->name);
		s[i] = c;
	}
	if (!parse_identity(def, s, error) || !parse_sizes(def, s, error))
		return false;
	if (!s[S_OS])
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "missing <os> in <domain>");
	if (!parse_os(def, s[S_OS], error) ||
	    (s[S_FEATURES] && !parse_features(def, s[S_FEATURES], error)) ||
	    (s[S_CPU] && !parse_cpu(def, s[S_CPU], error)) ||
	    (s[S_CLOCK] && !parse_clock(def, s[S_CLOCK], error)) ||
	    (s[S_PM] && !parse_pm(def, s[S_PM], error)) ||
	    (s[S_SYSINFO] && !parse_sysinfo(def, s[S_SYSINFO], error)))
		return false;
	if (def->cpu_sockets && def->cpu_sockets * def->cpu_dies *
	    def->cpu_cores * def->cpu_threads != def->vcpus)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "<cpu><topology> gives %u vCPUs, <vcpu> %u",
			       def->cpu_sockets * def->cpu_dies *
			       def->cpu_cores * def->cpu_threads, def->vcpus);
	if ((s[S_ON_POWEROFF] && !parse_action(s[S_ON_POWEROFF], false,
					       &def->on_poweroff, error)) ||
	    (s[S_ON_REBOOT] && !parse_action(s[S_ON_REBOOT], false,
					     &def->on_reboot, error)) ||
	    (s[S_ON_CRASH] && !parse_action(s[S_ON_CRASH], true,
					    &def->on_crash, error)))
		return false;
	if (s[S_DEVICES] && !dv_parse_devices(def, s[S_DEVICES], error))
		return false;
	/* As libvirt does for KVM guests: a virtio balloon unless the XML
	 * says <memballoon model='none'/>. */
	if (!def->has_memballoon) {
		def->has_memballoon = true;
		def->memballoon_virtio = true;
	}
	return true;
}

struct duvisor_domain_def *duvisor_domain_def_parse(const char *xml,
						    unsigned flags,
						    GError **error)
{
	struct duvisor_domain_def *def;
	xmlDoc *doc;
	bool ok;

	if (!xml || flags) {
		dv_fail(error, VIR_ERR_INVALID_ARG,
			xml ? "unsupported flags 0x%x" : "no domain XML",
			flags);
		return NULL;
	}
	doc = dv_load_document(xml, error);
	if (!doc)
		return NULL;
	def = dv_def_new();
	ok = parse_domain(def, xmlDocGetRootElement(doc), error);
	xmlFreeDoc(doc);
	if (!ok) {
		duvisor_domain_def_free(def);
		return NULL;
	}
	return def;
}
