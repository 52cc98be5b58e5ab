// SPDX-License-Identifier: GPL-2.0-or-later
/* Host and domain capabilities XML. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <libvirt/virterror.h>

#include "capabilities.h"
#include "domain_conf.h"   /* DUVISOR_CONF_ERROR */

#define GUEST_MAX_VCPUS 254     /* duvisor-vmm's x86 limit */
#define HOST_MAX_CPUS   8192    /* sanity bound for sysfs CPU lists */

bool duvisor_machine_supported(const char *m)
{
	return m && (strcmp(m, DUVISOR_DEFAULT_MACHINE) == 0 ||
		     strcmp(m, "pc") == 0 || strcmp(m, "q35") == 0 ||
		     g_str_has_prefix(m, "pc-i440fx-") ||
		     g_str_has_prefix(m, "pc-q35-"));
}

/* ---- reading the host ---- */

static char *read_file(const char *root, const char *path)
{
	g_autofree char *full = g_build_filename(root, path, NULL);
	char *text = NULL;

	if (!g_file_get_contents(full, &text, NULL, NULL))
		return NULL;
	return text;
}

static bool read_int(const char *root, const char *path, long *out)
{
	g_autofree char *text = read_file(root, path);
	char *end;

	if (!text)
		return false;
	*out = strtol(text, &end, 10);
	return end != text;
}

/* "0-3,8" -> [0, 1, 2, 3, 8]; NULL when malformed. */
static GArray *parse_cpulist(const char *s)
{
	g_autoptr(GArray) cpus = g_array_new(FALSE, FALSE, sizeof(int));
	g_auto(GStrv) parts = g_strsplit(s, ",", -1);

	for (size_t i = 0; parts[i]; i++) {
		char *p = g_strstrip(parts[i]), *end;
		long lo, hi;

		if (!*p)
			continue;
		lo = hi = strtol(p, &end, 10);
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		if (*end || lo < 0 || hi < lo || hi >= HOST_MAX_CPUS)
			return NULL;
		for (long c = lo; c <= hi; c++) {
			int v = (int)c;

			g_array_append_val(cpus, v);
		}
	}
	return g_steal_pointer(&cpus);
}

struct host_cpu_info {
	char *model, *vendor;
	char **flags;
	unsigned ncpus, sockets, cores, threads;
};

static void host_cpu_info_clear(struct host_cpu_info *h)
{
	g_free(h->model);
	g_free(h->vendor);
	g_strfreev(h->flags);
}

/* Linux's flag names, but libvirt's for the few it spells differently
 * (host CPU feature names have no '.', so sse4_1 stays). */
static const char *flag_name(const char *f)
{
	static const char *const renames[][2] = {
		{ "pclmulqdq", "pclmuldq" },
		{ "tsc_deadline_timer", "tsc-deadline" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(renames); i++)
		if (strcmp(f, renames[i][0]) == 0)
			return renames[i][1];
	return f;
}

static void read_cpuinfo(const char *root, struct host_cpu_info *h)
{
	g_autofree char *text = read_file(root, "proc/cpuinfo");
	g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);
	g_autoptr(GHashTable) packages = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, NULL);
	unsigned cores = 0, siblings = 0;

	for (size_t i = 0; lines[i]; i++) {
		char *colon = strchr(lines[i], ':');
		char *key, *value;

		if (!colon)
			continue;
		*colon = '\0';
		key = g_strstrip(lines[i]);
		value = g_strstrip(colon + 1);
		if (strcmp(key, "processor") == 0)
			h->ncpus++;
		else if (strcmp(key, "physical id") == 0)
			g_hash_table_add(packages, g_strdup(value));
		else if (h->ncpus > 1)
			continue;   /* the rest from the first CPU only */
		else if (strcmp(key, "vendor_id") == 0 && !h->vendor)
			h->vendor = g_strdup(strcmp(value, "GenuineIntel") == 0 ?
					     "Intel" :
					     strcmp(value, "AuthenticAMD") == 0 ?
					     "AMD" : value);
		else if (strcmp(key, "model name") == 0 && !h->model)
			h->model = g_strdup(value);
		else if (strcmp(key, "flags") == 0 && !h->flags)
			h->flags = g_strsplit_set(value, " \t", -1);
		else if (strcmp(key, "cpu cores") == 0)
			cores = (unsigned)atoi(value);
		else if (strcmp(key, "siblings") == 0)
			siblings = (unsigned)atoi(value);
	}
	if (!h->ncpus)
		h->ncpus = 1;
	h->sockets = g_hash_table_size(packages);
	if (!h->sockets)
		h->sockets = 1;
	h->cores = cores ? cores : MAX(1u, h->ncpus / h->sockets);
	h->threads = cores && siblings >= cores ? siblings / cores : 1;
	if (!h->model)
		h->model = g_strdup("unknown");
}

static void host_uuid(const char *root, char out[37])
{
	static const char *const sources[] = {
		"sys/class/dmi/id/product_uuid", "etc/machine-id" };
	uint8_t u[16];

	for (size_t s = 0; s < G_N_ELEMENTS(sources); s++) {
		g_autofree char *text = read_file(root, sources[s]);
		size_t n = 0;
		bool zero = true;

		for (const char *p = text; p && *p && n < 32; p++) {
			int v = g_ascii_xdigit_value(*p);

			if (*p == '-' || g_ascii_isspace(*p))
				continue;
			if (v < 0)
				break;
			u[n / 2] = (uint8_t)(n % 2 ? (u[n / 2] | v) : v << 4);
			zero &= v == 0;
			n++;
		}
		if (n == 32 && !zero)
			goto found;
	}
	{
		/* Stable across restarts: derived from the host name. */
		g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
		uint8_t digest[32];
		gsize len;

		g_checksum_update(sum, (const guchar *)"duvisor-host:", -1);
		g_checksum_update(sum, (const guchar *)g_get_host_name(), -1);
		len = sizeof(digest);
		g_checksum_get_digest(sum, digest, &len);
		memcpy(u, digest, sizeof(u));
		u[6] = (uint8_t)((u[6] & 0x0f) | 0x50);
		u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	}
found:
	g_snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		   "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4],
		   u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		   u[14], u[15]);
}

/* Huge page sizes (KiB) with a count each, from a hugepages directory. */
static GArray *hugepages(const char *root, const char *dir)
{
	g_autofree char *full = g_build_filename(root, dir, NULL);
	GArray *pages = g_array_new(FALSE, FALSE, sizeof(uint64_t) * 2);
	g_autoptr(GDir) d = g_dir_open(full, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		uint64_t e[2] = { 0, 0 };
		g_autofree char *nr = NULL;
		long count = 0;

		if (sscanf(name, "hugepages-%" SCNu64 "kB", &e[0]) != 1 ||
		    !e[0])
			continue;
		nr = g_build_filename(dir, name, "nr_hugepages", NULL);
		if (read_int(root, nr, &count) && count > 0)
			e[1] = (uint64_t)count;
		g_array_append_val(pages, e);
	}
	for (guint i = 1; i < pages->len; i++)   /* sort by size */
		for (guint j = i; j > 0 &&
		     g_array_index(pages, uint64_t, 2 * (j - 1)) >
		     g_array_index(pages, uint64_t, 2 * j); j--) {
			uint64_t *a = &g_array_index(pages, uint64_t, 2 * (j - 1));
			uint64_t t0 = a[0], t1 = a[1];

			a[0] = a[2], a[1] = a[3], a[2] = t0, a[3] = t1;
		}
	return pages;
}

static uint64_t meminfo_kib(const char *text, const char *key)
{
	const char *p = text ? strstr(text, key) : NULL;

	return p ? g_ascii_strtoull(p + strlen(key), NULL, 10) : 0;
}

static void format_cpu_entry(GString *s, const char *root, int cpu)
{
	g_autofree char *base = g_strdup_printf("sys/devices/system/cpu/cpu%d/"
						"topology", cpu);
	g_autofree char *pkg = g_build_filename(base, "physical_package_id",
						NULL);
	g_autofree char *die = g_build_filename(base, "die_id", NULL);
	g_autofree char *core = g_build_filename(base, "core_id", NULL);
	g_autofree char *sib = g_build_filename(base, "thread_siblings_list",
						NULL);
	g_autofree char *siblings = read_file(root, sib);
	long socket_id = 0, die_id = 0, core_id = cpu;

	read_int(root, pkg, &socket_id);
	read_int(root, die, &die_id);
	read_int(root, core, &core_id);
	if (siblings)
		g_strstrip(siblings);
	if (!siblings || !*siblings) {
		/* No sysfs: the CPU is its own sibling. */
		g_free(siblings);
		siblings = g_strdup_printf("%d", cpu);
	}
	g_string_append_printf(s, "            <cpu id='%d' socket_id='%ld' "
			       "die_id='%ld' core_id='%ld' siblings='%s'/>\n",
			       cpu, socket_id, die_id, core_id, siblings);
}

static void format_cell(GString *s, const char *root, int id,
			uint64_t mem_kib, GArray *cpus, const char *node_dir)
{
	g_autofree char *huge_dir = node_dir ?
		g_build_filename(node_dir, "hugepages", NULL) :
		g_strdup("sys/kernel/mm/hugepages");
	g_autoptr(GArray) pages = hugepages(root, huge_dir);
	g_autofree char *dist_path = node_dir ?
		g_build_filename(node_dir, "distance", NULL) : NULL;
	g_autofree char *dist = dist_path ? read_file(root, dist_path) : NULL;
	uint64_t huge_kib = 0;

	g_string_append_printf(s, "        <cell id='%d'>\n"
			       "          <memory unit='KiB'>%" G_GUINT64_FORMAT
			       "</memory>\n", id, mem_kib);
	for (guint i = 0; i < pages->len; i++)
		huge_kib += g_array_index(pages, uint64_t, 2 * i) *
			    g_array_index(pages, uint64_t, 2 * i + 1);
	g_string_append_printf(s, "          <pages unit='KiB' size='4'>%"
			       G_GUINT64_FORMAT "</pages>\n",
			       (mem_kib > huge_kib ? mem_kib - huge_kib : 0) / 4);
	for (guint i = 0; i < pages->len; i++)
		g_string_append_printf(s, "          <pages unit='KiB' size='%"
				       G_GUINT64_FORMAT "'>%" G_GUINT64_FORMAT
				       "</pages>\n",
				       g_array_index(pages, uint64_t, 2 * i),
				       g_array_index(pages, uint64_t, 2 * i + 1));
	if (dist) {
		g_auto(GStrv) v = g_strsplit_set(g_strstrip(dist), " \t", -1);
		int sib = 0;

		g_string_append(s, "          <distances>\n");
		for (size_t i = 0; v[i]; i++)
			if (*v[i])
				g_string_append_printf(s, "            <sibling "
						       "id='%d' value='%d'/>\n",
						       sib++, atoi(v[i]));
		g_string_append(s, "          </distances>\n");
	}
	g_string_append_printf(s, "          <cpus num='%u'>\n", cpus->len);
	for (guint i = 0; i < cpus->len; i++)
		format_cpu_entry(s, root, g_array_index(cpus, int, i));
	g_string_append(s, "          </cpus>\n        </cell>\n");
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void format_cells(GString *s, const char *root,
			 const struct host_cpu_info *h)
{
	g_autofree char *nodes_dir = g_build_filename(root,
		"sys/devices/system/node", NULL);
	g_autoptr(GDir) d = g_dir_open(nodes_dir, 0, NULL);
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int));
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		int id;
		char end;

		if (sscanf(name, "node%d%c", &id, &end) == 1 && id >= 0)
			g_array_append_val(ids, id);
	}
	g_array_sort(ids, cmp_int);
	g_string_append_printf(s, "    <topology>\n      <cells num='%u'>\n",
			       MAX(ids->len, 1u));
	for (guint i = 0; i < ids->len; i++) {
		int id = g_array_index(ids, int, i);
		g_autofree char *dir = g_strdup_printf(
			"sys/devices/system/node/node%d", id);
		g_autofree char *mi = g_strdup_printf("%s/meminfo", dir);
		g_autofree char *cl = g_strdup_printf("%s/cpulist", dir);
		g_autofree char *meminfo = read_file(root, mi);
		g_autofree char *cpulist = read_file(root, cl);
		g_autoptr(GArray) cpus = parse_cpulist(cpulist ? cpulist : "");
		g_autofree char *key = g_strdup_printf("Node %d MemTotal:", id);

		if (!cpus)
			cpus = g_array_new(FALSE, FALSE, sizeof(int));
		format_cell(s, root, id, meminfo_kib(meminfo, key), cpus, dir);
	}
	if (!ids->len) {
		/* No NUMA information: one cell with everything. */
		g_autofree char *meminfo = read_file(root, "proc/meminfo");
		g_autoptr(GArray) cpus = g_array_new(FALSE, FALSE, sizeof(int));

		for (int c = 0; c < (int)h->ncpus; c++)
			g_array_append_val(cpus, c);
		format_cell(s, root, 0, meminfo_kib(meminfo, "MemTotal:"),
			    cpus, NULL);
	}
	g_string_append(s, "      </cells>\n    </topology>\n");
}

/* prefix, value escaped, suffix */
static void append_escaped(GString *s, const char *prefix, const char *value,
			   const char *suffix)
{
	g_autofree char *esc = g_markup_escape_text(value, -1);

	g_string_append(s, prefix);
	g_string_append(s, esc);
	g_string_append(s, suffix);
}

static void format_guest(GString *s, const char *vmm_path)
{
	static const char *const aliases[] = { "pc", "q35" };

	g_string_append(s, "  <guest>\n    <os_type>hvm</os_type>\n"
			"    <arch name='x86_64'>\n"
			"      <wordsize>64</wordsize>\n");
	append_escaped(s, "      <emulator>", vmm_path, "</emulator>\n");
	g_string_append_printf(s, "      <machine maxCpus='%d'>%s</machine>\n",
			       GUEST_MAX_VCPUS, DUVISOR_DEFAULT_MACHINE);
	for (size_t i = 0; i < G_N_ELEMENTS(aliases); i++)
		g_string_append_printf(s, "      <machine canonical='%s' "
				       "maxCpus='%d'>%s</machine>\n",
				       DUVISOR_DEFAULT_MACHINE,
				       GUEST_MAX_VCPUS, aliases[i]);
	/* ACPI and the local APIC are always there (toggle='no'). */
	g_string_append(s, "      <domain type='kvm'/>\n    </arch>\n"
			"    <features>\n"
			"      <acpi default='on' toggle='no'/>\n"
			"      <apic default='on' toggle='no'/>\n"
			"    </features>\n  </guest>\n");
}

char *duvisor_host_capabilities_xml_at(const char *root,
				       const char *vmm_path, GError **error)
{
	struct host_cpu_info h = { 0 };
	g_autoptr(GArray) pages = NULL;
	GString *s;
	struct utsname uts;
	const char *arch = uname(&uts) == 0 ? uts.machine : "x86_64";
	char uuid[37];

	if (!root || !vmm_path || !*vmm_path) {
		dv_fail(error, VIR_ERR_INVALID_ARG, "no root or VMM path");
		return NULL;
	}
	read_cpuinfo(root, &h);
	host_uuid(root, uuid);
	s = g_string_new("<capabilities>\n\n  <host>\n");
	g_string_append_printf(s, "    <uuid>%s</uuid>\n    <cpu>\n", uuid);
	append_escaped(s, "      <arch>", arch, "</arch>\n");
	append_escaped(s, "      <model>", h.model, "</model>\n");
	if (h.vendor)
		append_escaped(s, "      <vendor>", h.vendor, "</vendor>\n");
	g_string_append_printf(s, "      <topology sockets='%u' dies='1' "
			       "cores='%u' threads='%u'/>\n", h.sockets,
			       h.cores, h.threads);
	for (size_t i = 0; h.flags && h.flags[i]; i++)
		if (*h.flags[i])
			append_escaped(s, "      <feature name='",
				       flag_name(h.flags[i]), "'/>\n");
	g_string_append(s, "      <pages unit='KiB' size='4'/>\n");
	pages = hugepages(root, "sys/kernel/mm/hugepages");
	for (guint i = 0; i < pages->len; i++)
		g_string_append_printf(s, "      <pages unit='KiB' size='%"
				       G_GUINT64_FORMAT "'/>\n",
				       g_array_index(pages, uint64_t, 2 * i));
	/* No host suspend through us, no device assignment. */
	g_string_append(s, "    </cpu>\n    <power_management/>\n"
			"    <iommu support='no'/>\n");
	format_cells(s, root, &h);
	g_string_append(s, "    <secmodel>\n      <model>none</model>\n"
			"      <doi>0</doi>\n    </secmodel>\n  </host>\n\n");
	/* duvisor-vmm runs x86-64 guests on x86-64 hosts only. */
	if (strcmp(arch, "x86_64") == 0)
		format_guest(s, vmm_path);
	g_string_append(s, "\n</capabilities>\n");
	host_cpu_info_clear(&h);
	return g_string_free(s, FALSE);
}

char *duvisor_host_capabilities_xml(const char *vmm_path, GError **error)
{
	return duvisor_host_capabilities_xml_at("/", vmm_path, error);
}

/* ---- domain capabilities ---- */

static const char domcaps_tail1[] =
	"  <iothreads supported='no'/>\n"
	"  <os supported='yes'>\n"
	"    <enum name='firmware'/>\n"
	"    <loader supported='no'/>\n"
	"  </os>\n"
	"  <cpu>\n"
	"    <mode name='host-passthrough' supported='yes'>\n"
	"      <enum name='hostPassthroughMigratable'>\n"
	"        <value>off</value>\n"
	"      </enum>\n"
	"    </mode>\n"
	"    <mode name='maximum' supported='no'/>\n";

static const char domcaps_tail2[] =
	"    <mode name='custom' supported='no'/>\n"
	"  </cpu>\n"
	"  <memoryBacking supported='yes'>\n"
	"    <enum name='sourceType'>\n"
	"      <value>anonymous</value>\n"
	"    </enum>\n"
	"  </memoryBacking>\n"
	"  <devices>\n"
	"    <disk supported='yes'>\n"
	"      <enum name='diskDevice'>\n"
	"        <value>disk</value>\n"
	"        <value>cdrom</value>\n"
	"      </enum>\n"
	"      <enum name='bus'>\n"
	"        <value>virtio</value>\n"
	"      </enum>\n"
	"      <enum name='model'/>\n"
	"    </disk>\n"
	"    <graphics supported='no'/>\n"
	"    <video supported='no'/>\n"
	"    <hostdev supported='no'/>\n"
	"    <rng supported='yes'>\n"
	"      <enum name='model'>\n"
	"        <value>virtio</value>\n"
	"      </enum>\n"
	"      <enum name='backendModel'>\n"
	"        <value>random</value>\n"
	"        <value>builtin</value>\n"
	"      </enum>\n"
	"    </rng>\n"
	"    <filesystem supported='no'/>\n"
	"    <tpm supported='no'/>\n"
	"    <redirdev supported='no'/>\n"
	"    <channel supported='no'/>\n"
	"  </devices>\n"
	"  <features>\n"
	"    <gic supported='no'/>\n"
	"    <vmcoreinfo supported='no'/>\n"
	"    <genid supported='no'/>\n"
	"    <backingStoreInput supported='no'/>\n"
	"    <backup supported='no'/>\n"
	"    <sev supported='no'/>\n"
	"    <sgx supported='no'/>\n"
	"  </features>\n"
	"</domainCapabilities>\n";

char *duvisor_domain_capabilities_xml(const char *vmm_path,
				      const char *emulator, const char *arch,
				      const char *machine,
				      const char *virttype, GError **error)
{
	struct host_cpu_info h = { 0 };
	g_autofree char *path = NULL, *host_model = NULL, *model = NULL;
	g_autofree char *vendor = NULL;
	GString *s;

	if (!vmm_path || !*vmm_path) {
		dv_fail(error, VIR_ERR_INVALID_ARG, "no VMM path");
		return NULL;
	}
	if (emulator && *emulator && strcmp(emulator, vmm_path) != 0) {
		dv_fail(error, VIR_ERR_INVALID_ARG, "emulator '%s' is not "
		     "DuVisor's VMM '%s'", emulator, vmm_path);
		return NULL;
	}
	if (arch && *arch && strcmp(arch, "x86_64") != 0) {
		dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED, "architecture '%s' is "
		     "not supported (only x86_64)", arch);
		return NULL;
	}
	if (virttype && *virttype && strcmp(virttype, "kvm") != 0) {
		dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED, "virtualization type "
		     "'%s' is not supported (only kvm)", virttype);
		return NULL;
	}
	if (machine && *machine && !duvisor_machine_supported(machine)) {
		dv_fail(error, VIR_ERR_INVALID_ARG, "machine type '%s' is not "
		     "supported (use '%s')", machine, DUVISOR_DEFAULT_MACHINE);
		return NULL;
	}
	read_cpuinfo("/", &h);
	path = g_markup_escape_text(vmm_path, -1);
	model = g_markup_escape_text(h.model, -1);
	vendor = h.vendor ? g_markup_escape_text(h.vendor, -1) : NULL;
	/* host-model is what duvisor-vmm gives anyway: the host's CPU
	 * (CPUID as KVM supports it); no fallback to another model. */
	host_model = g_strdup_printf(
		"    <mode name='host-model' supported='yes'>\n"
		"      <model fallback='forbid'>%s</model>\n"
		"%s%s%s"
		"    </mode>\n", model, vendor ? "      <vendor>" : "",
		vendor ? vendor : "", vendor ? "</vendor>\n" : "");
	host_cpu_info_clear(&h);
	s = g_string_new("<domainCapabilities>\n");
	g_string_append_printf(s, "  <path>%s</path>\n"
			       "  <domain>kvm</domain>\n"
			       "  <machine>%s</machine>\n"
			       "  <arch>x86_64</arch>\n"
			       "  <vcpu max='%d'/>\n", path,
			       DUVISOR_DEFAULT_MACHINE, GUEST_MAX_VCPUS);
	g_string_append(s, domcaps_tail1);
	g_string_append(s, host_model);
	g_string_append(s, domcaps_tail2);
	return g_string_free(s, FALSE);
}
