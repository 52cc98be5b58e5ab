// SPDX-License-Identifier: GPL-2.0-or-later
/* The host's data (see node_info.h). */
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "node_info.h"

#define CPU_MAX 65536u

GArray *node_parse_cpulist(const char *s, unsigned int max)
{
	g_autoptr(GArray) cpus = g_array_new(FALSE, FALSE, sizeof(unsigned int));
	const char *p = s;

	while (*p && *p != '\n') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10);
		unsigned long hi = lo;

		if (end == p || lo >= max)
			return NULL;
		p = end;
		if (*p == '-') {
			p++;
			hi = strtoul(p, &end, 10);
			if (end == p || hi < lo || hi >= max)
				return NULL;
			p = end;
		}
		for (unsigned long i = lo; i <= hi; i++) {
			unsigned int v = (unsigned int)i;

			g_array_append_val(cpus, v);
		}
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return NULL;
	}
	return g_steal_pointer(&cpus);
}

char *node_read_text(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return text;
}

static bool read_long(const char *dir, const char *name, long *v)
{
	g_autofree char *text = node_read_text(dir, name);
	char *end;

	if (!text)
		return false;
	*v = strtol(text, &end, 10);
	return end != text;
}

static uint64_t meminfo_total(const char *procfs)
{
	g_autofree char *text = node_read_text(procfs, "meminfo");
	const char *p = text ? strstr(text, "MemTotal:") : NULL;

	return p ? g_ascii_strtoull(p + strlen("MemTotal:"), NULL, 10) : 0;
}

static int cpu_mhz(const char *sysfs, const char *procfs)
{
	g_autofree char *text = node_read_text(procfs, "cpuinfo");
	g_autofree char *freq_dir = g_build_filename(sysfs,
		"devices/system/cpu/cpu0/cpufreq", NULL);
	const char *p = text ? strstr(text, "cpu MHz") : NULL;
	long khz;

	if (p && (p = strchr(p, ':')))
		return (int)(g_ascii_strtod(p + 1, NULL) + 0.5);
	if (read_long(freq_dir, "cpuinfo_max_freq", &khz) && khz > 0)
		return (int)(khz / 1000);
	return 0;
}

/* NUMA nodes that have CPUs; at least 1. */
static int numa_nodes(const char *sysfs)
{
	g_autofree char *dir = g_build_filename(sysfs, "devices/system/node",
						NULL);
	g_autofree char *text = node_read_text(dir, "has_cpu");
	g_autoptr(GArray) nodes = text ? node_parse_cpulist(text, CPU_MAX) : NULL;

	return nodes && nodes->len > 0 ? (int)nodes->len : 1;
}

static void topology(const char *sysfs, GArray *cpus, struct node_info *ni)
{
	g_autoptr(GHashTable) packages = g_hash_table_new(g_direct_hash,
							  g_direct_equal);
	g_autoptr(GHashTable) cores = g_hash_table_new(g_int64_hash,
						       g_int64_equal);
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
	int nsockets, ncores;

	for (guint i = 0; i < cpus->len; i++) {
		unsigned int cpu = g_array_index(cpus, unsigned int, i);
		g_autofree char *name = g_strdup_printf(
			"devices/system/cpu/cpu%u/topology", cpu);
		g_autofree char *dir = g_build_filename(sysfs, name, NULL);
		long pkg, core;
		gint64 *key;

		if (!read_long(dir, "physical_package_id", &pkg) ||
		    !read_long(dir, "core_id", &core))
			goto flat;
		key = g_new(gint64, 1);
		*key = (gint64)(pkg & 0xffffffff) << 32 | (core & 0xffffffff);
		g_ptr_array_add(keys, key);
		g_hash_table_add(packages, GINT_TO_POINTER((int)pkg + 1));
		g_hash_table_add(cores, key);
	}
	nsockets = (int)g_hash_table_size(packages);
	ncores = (int)g_hash_table_size(cores);
	ni->nodes = numa_nodes(sysfs);
	if (nsockets < 1 || ncores < nsockets || ni->cpus % ncores ||
	    ncores % nsockets || nsockets % ni->nodes)
		goto flat;
	ni->threads = ni->cpus / ncores;
	ni->cores = ncores / nsockets;
	ni->sockets = nsockets / ni->nodes;
	if (ni->nodes * ni->sockets * ni->cores * ni->threads == ni->cpus)
		return;
flat:
	/* What libvirt reports for topologies that do not fit the fields. */
	ni->nodes = 1;
	ni->sockets = 1;
	ni->cores = ni->cpus;
	ni->threads = 1;
}

bool node_info_read(const char *sysfs, const char *procfs,
		    struct node_info *ni, GError **error)
{
	g_autofree char *cpu_dir = g_build_filename(sysfs, "devices/system/cpu",
						    NULL);
	g_autofree char *online = node_read_text(cpu_dir, "online");
	g_autoptr(GArray) cpus = online ? node_parse_cpulist(online, CPU_MAX)
					: NULL;
	struct utsname uts;

	memset(ni, 0, sizeof(*ni));
	if (!cpus || cpus->len == 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
			    "cannot read the online CPUs from %s/online",
			    cpu_dir);
		return false;
	}
	if (uname(&uts) == 0)
		g_strlcpy(ni->model, uts.machine, sizeof(ni->model));
	ni->memory_kib = meminfo_total(procfs);
	ni->cpus = (int)cpus->len;
	ni->mhz = cpu_mhz(sysfs, procfs);
	topology(sysfs, cpus, ni);
	return true;
}

bool node_info_get(struct node_info *ni, GError **error)
{
	return node_info_read("/sys", "/proc", ni, error);
}

char *node_hostname(void)
{
	char name[256] = "";
	struct addrinfo hints = {
		.ai_flags = AI_CANONNAME | AI_CANONIDN,
		.ai_family = AF_UNSPEC,
	};
	struct addrinfo *res = NULL;
	char *out;

	if (gethostname(name, sizeof(name) - 1) < 0 || !name[0])
		return g_strdup("localhost");
	if (strchr(name, '.'))
		return g_strdup(name);
	if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res)
		return g_strdup(name);
	out = g_strdup(res->ai_canonname && *res->ai_canonname &&
		       g_ascii_strcasecmp(res->ai_canonname, "localhost") != 0
		       ? res->ai_canonname : name);
	freeaddrinfo(res);
	return out;
}
