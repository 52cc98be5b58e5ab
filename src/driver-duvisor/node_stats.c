// SPDX-License-Identifier: GPL-2.0-or-later
/* Host statistics and SMBIOS data (see node_stats.h). */
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node_info.h"
#include "node_stats.h"

#define CPU_MAX 65536u
#define CELL_MAX 1024

static bool file_error(GError **error, const char *dir, const char *name)
{
	g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
		    "cannot read %s/%s", dir, name);
	return false;
}

bool node_cpu_map(const char *sysfs, unsigned int *present,
		  GArray *online_map, unsigned int *online, GError **error)
{
	g_autofree char *dir = g_build_filename(sysfs, "devices/system/cpu",
						NULL);
	g_autofree char *p_text = node_read_text(dir, "present");
	g_autofree char *o_text = node_read_text(dir, "online");
	g_autoptr(GArray) p = p_text ? node_parse_cpulist(p_text, CPU_MAX)
				     : NULL;
	g_autoptr(GArray) o = o_text ? node_parse_cpulist(o_text, CPU_MAX)
				     : NULL;
	unsigned int n = 0;

	if (!p || !p->len)
		return file_error(error, dir, "present");
	if (!o)
		return file_error(error, dir, "online");
	for (guint i = 0; i < p->len; i++)
		n = MAX(n, g_array_index(p, unsigned int, i) + 1);
	*present = n;
	*online = 0;
	if (online_map)
		g_array_set_size(online_map, n);
	if (online_map && n)
		memset(online_map->data, 0, n);
	for (guint i = 0; i < o->len; i++) {
		unsigned int cpu = g_array_index(o, unsigned int, i);

		if (cpu >= n)	/* online but not present: not ours */
			continue;
		(*online)++;
		if (online_map)
			g_array_index(online_map, guint8, cpu) = 1;
	}
	return true;
}

bool node_cpu_times(const char *procfs, int cpu, struct node_cpu_times *t,
		    GError **error)
{
	g_autofree char *text = node_read_text(procfs, "stat");
	g_autofree char *key = cpu < 0 ? g_strdup("cpu")
				       : g_strdup_printf("cpu%d", cpu);
	g_auto(GStrv) lines = NULL;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t ns = hz > 0 ? 1000000000u / (uint64_t)hz : 10000000u;

	if (!text)
		return file_error(error, procfs, "stat");
	lines = g_strsplit(text, "\n", -1);
	for (size_t i = 0; lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit_set(lines[i], " \t", -1);
		uint64_t v[7] = { 0 };
		size_t n = 0;

		if (!f[0] || strcmp(f[0], key) != 0)
			continue;
		/* user nice system idle iowait irq softirq (steal...) */
		for (size_t j = 1; f[j] && n < G_N_ELEMENTS(v); j++)
			if (*f[j])
				v[n++] = g_ascii_strtoull(f[j], NULL, 10);
		if (n < 5) {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
				    "malformed '%s' line in %s/stat", key,
				    procfs);
			return false;
		}
		t->user = (v[0] + v[1]) * ns;
		t->kernel = (v[2] + v[5] + v[6]) * ns;
		t->idle = v[3] * ns;
		t->iowait = v[4] * ns;
		return true;
	}
	/* Offline CPUs have no line either. */
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "no online CPU %d on this host", cpu);
	return false;
}

/* meminfo field @key (host "Key:" or node "Node N Key:"), in KiB. */
static bool meminfo_field(const char *text, const char *key, uint64_t *kib)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	size_t klen = strlen(key);

	for (size_t i = 0; lines[i]; i++) {
		const char *l = lines[i];

		if (g_str_has_prefix(l, "Node ")) {
			l = strchr(l + 5, ' ');
			if (!l)
				continue;
			l++;
		}
		if (strncmp(l, key, klen) == 0 && l[klen] == ':') {
			*kib = g_ascii_strtoull(l + klen + 1, NULL, 10);
			return true;
		}
	}
	return false;
}

/* The meminfo text of @cell (< 0: the host's). */
static char *cell_meminfo(const char *sysfs, const char *procfs, int cell,
			  GError **error)
{
	g_autofree char *node_dir = g_build_filename(sysfs,
		"devices/system/node", NULL);
	g_autofree char *name = NULL;
	char *text;

	if (cell >= 0 && g_file_test(node_dir, G_FILE_TEST_IS_DIR)) {
		name = g_strdup_printf("node%d/meminfo", cell);
		text = node_read_text(node_dir, name);
		if (!text)
			g_set_error(error, G_IO_ERROR,
				    G_IO_ERROR_INVALID_ARGUMENT,
				    "no NUMA cell %d on this host", cell);
		return text;
	}
	/* Without NUMA information the host is cell 0. */
	if (cell > 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "no NUMA cell %d on this host", cell);
		return NULL;
	}
	text = node_read_text(procfs, "meminfo");
	if (!text)
		file_error(error, procfs, "meminfo");
	return text;
}

int node_memory_stats(const char *sysfs, const char *procfs, int cell,
		      const char *names[4], uint64_t values[4],
		      GError **error)
{
	static const char *const fields[][2] = {
		{ "MemTotal", "total" }, { "MemFree", "free" },
		{ "Buffers", "buffers" }, { "Cached", "cached" },
	};
	g_autofree char *text = cell_meminfo(sysfs, procfs, cell, error);
	int n = 0;

	if (!text)
		return -1;
	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		if (meminfo_field(text, fields[i][0], &values[n]))
			names[n++] = fields[i][1];
	return n;
}

GArray *node_cells_free_memory(const char *sysfs, const char *procfs,
			       int start, int max, GError **error)
{
	g_autofree char *node_dir = g_build_filename(sysfs,
		"devices/system/node", NULL);
	g_autofree char *possible = node_read_text(node_dir, "possible");
	g_autoptr(GArray) ids = possible ? node_parse_cpulist(possible,
							      CELL_MAX)
					 : NULL;
	g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	int last = 0;

	for (guint i = 0; ids && i < ids->len; i++)
		last = MAX(last, (int)g_array_index(ids, unsigned int, i));
	if (start < 0 || start > last || max < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "start cell %d out of range (0-%d)", start, last);
		return NULL;
	}
	for (int c = start; c <= last && c - start < max; c++) {
		g_autoptr(GError) e = NULL;
		g_autofree char *text = cell_meminfo(sysfs, procfs, c, &e);
		uint64_t kib = 0;

		/* A possible but absent node has no memory at all. */
		if (text && !meminfo_field(text, "MemFree", &kib)) {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
				    "no MemFree in the meminfo of cell %d", c);
			return NULL;
		}
		kib *= 1024;
		g_array_append_val(out, kib);
	}
	return g_steal_pointer(&out);
}

bool node_free_memory(const char *procfs, uint64_t *bytes, GError **error)
{
	g_autofree char *text = node_read_text(procfs, "meminfo");
	uint64_t kib;

	if (!text || !meminfo_field(text, "MemFree", &kib))
		return file_error(error, procfs, "meminfo");
	*bytes = kib * 1024;
	return true;
}

/* One <sysinfo> section: the entries whose DMI file exists and says
 * something. */
static void sysinfo_section(GString *s, const char *dmi, const char *tag,
			    const char *const (*entries)[2], size_t n)
{
	bool open = false;

	for (size_t i = 0; i < n; i++) {
		g_autofree char *v = node_read_text(dmi, entries[i][1]);
		g_autofree char *esc = NULL;

		if (!v || !*g_strstrip(v))
			continue;
		if (!open)
			g_string_append_printf(s, "  <%s>\n", tag);
		open = true;
		esc = g_markup_escape_text(v, -1);
		g_string_append_printf(s, "    <entry name='%s'>%s</entry>\n",
				       entries[i][0], esc);
	}
	if (open)
		g_string_append_printf(s, "  </%s>\n", tag);
}

char *node_sysinfo_xml(const char *sysfs)
{
	static const char *const bios[][2] = {
		{ "vendor", "bios_vendor" }, { "version", "bios_version" },
		{ "date", "bios_date" }, { "release", "bios_release" },
	};
	static const char *const system[][2] = {
		{ "manufacturer", "sys_vendor" }, { "product", "product_name" },
		{ "version", "product_version" },
		{ "serial", "product_serial" }, { "uuid", "product_uuid" },
		{ "sku", "product_sku" }, { "family", "product_family" },
	};
	static const char *const board[][2] = {
		{ "manufacturer", "board_vendor" }, { "product", "board_name" },
		{ "version", "board_version" }, { "serial", "board_serial" },
		{ "asset", "board_asset_tag" },
	};
	static const char *const chassis[][2] = {
		{ "manufacturer", "chassis_vendor" },
		{ "version", "chassis_version" },
		{ "serial", "chassis_serial" },
		{ "asset", "chassis_asset_tag" },
	};
	g_autofree char *dmi = g_build_filename(sysfs, "class/dmi/id", NULL);
	GString *s = g_string_new("<sysinfo type='smbios'>\n");

	sysinfo_section(s, dmi, "bios", bios, G_N_ELEMENTS(bios));
	sysinfo_section(s, dmi, "system", system, G_N_ELEMENTS(system));
	sysinfo_section(s, dmi, "baseBoard", board, G_N_ELEMENTS(board));
	sysinfo_section(s, dmi, "chassis", chassis, G_N_ELEMENTS(chassis));
	g_string_append(s, "</sysinfo>\n");
	return g_string_free(s, FALSE);
}
