// SPDX-License-Identifier: GPL-2.0-or-later
/* node_stats.c on made-up /sys and /proc trees: sparse CPU lists, NUMA
 * cells, odd DMI strings, missing files. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "node_stats.h"

static void put(const char *root, const char *path, const char *text)
{
	g_autofree char *full = g_build_filename(root, path, NULL);
	g_autofree char *dir = g_path_get_dirname(full);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(full, text, -1, NULL));
}

static char *new_root(void)
{
	char *root = g_dir_make_tmp("node-stats-XXXXXX", NULL);

	g_assert_nonnull(root);
	return root;
}

static void rm_rf(const char *path)
{
	g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *p = g_build_filename(path, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR))
			rm_rf(p);
		else
			g_unlink(p);
	}
	g_rmdir(path);
}

static void test_cpu_map(void)
{
	g_autofree char *root = new_root();
	g_autoptr(GArray) map = g_array_new(FALSE, TRUE, sizeof(guint8));
	g_autoptr(GError) error = NULL;
	unsigned int present, online;
	static const guint8 want[] = { 1, 0, 1, 1, 0, 0 };

	put(root, "devices/system/cpu/present", "0-3,5\n");
	/* 7 is online but not present: not counted. */
	put(root, "devices/system/cpu/online", "0,2-3,7\n");
	g_assert_true(node_cpu_map(root, &present, map, &online, &error));
	g_assert_cmpuint(present, ==, 6);
	g_assert_cmpuint(online, ==, 3);
	g_assert_cmpmem(map->data, map->len, want, sizeof(want));

	put(root, "devices/system/cpu/present", "0-x\n");
	g_assert_false(node_cpu_map(root, &present, NULL, &online, &error));
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
	rm_rf(root);
}

static void test_cpu_times(void)
{
	g_autofree char *root = new_root();
	g_autoptr(GError) error = NULL;
	struct node_cpu_times t;
	uint64_t tick = 1000000000u / (uint64_t)sysconf(_SC_CLK_TCK);

	put(root, "stat", "cpu  10 1 20 300 4 5 6 0 0 0\n"
			  "cpu0 5 0 10 150 2 2 3 0 0 0\n"
			  "cpu3 5 1 10 150 2 3 3 0 0 0\n"
			  "intr 12345\n");
	g_assert_true(node_cpu_times(root, -1, &t, &error));
	g_assert_cmpuint(t.user, ==, 11 * tick);
	g_assert_cmpuint(t.kernel, ==, 31 * tick);
	g_assert_cmpuint(t.idle, ==, 300 * tick);
	g_assert_cmpuint(t.iowait, ==, 4 * tick);
	g_assert_true(node_cpu_times(root, 3, &t, &error));
	g_assert_cmpuint(t.kernel, ==, 16 * tick);
	/* CPU 1 is offline: it has no line. */
	g_assert_false(node_cpu_times(root, 1, &t, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	put(root, "stat", "cpu 1 2\n");
	g_assert_false(node_cpu_times(root, -1, &t, &error));
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
	rm_rf(root);
}

static void test_memory(void)
{
	g_autofree char *root = new_root();
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) cells = NULL;
	const char *names[4];
	uint64_t v[4], bytes;

	put(root, "proc/meminfo", "MemTotal:       8000 kB\n"
				  "MemFree:        3000 kB\n"
				  "MemAvailable:   5000 kB\n"
				  "Buffers:         100 kB\n"
				  "Cached:          900 kB\n"
				  "SwapCached:        7 kB\n");
	put(root, "sys/devices/system/node/possible", "0-2\n");
	put(root, "sys/devices/system/node/node0/meminfo",
	    "Node 0 MemTotal:       6000 kB\nNode 0 MemFree:  2000 kB\n");
	put(root, "sys/devices/system/node/node2/meminfo",
	    "Node 2 MemTotal:       2000 kB\nNode 2 MemFree:  1000 kB\n");
	{
		g_autofree char *sys = g_build_filename(root, "sys", NULL);
		g_autofree char *proc = g_build_filename(root, "proc", NULL);

		g_assert_cmpint(node_memory_stats(sys, proc, -1, names, v,
						  &error), ==, 4);
		g_assert_cmpstr(names[3], ==, "cached");
		g_assert_cmpuint(v[3], ==, 900);   /* not SwapCached */
		g_assert_cmpint(node_memory_stats(sys, proc, 2, names, v,
						  &error), ==, 2);
		g_assert_cmpstr(names[1], ==, "free");
		g_assert_cmpuint(v[1], ==, 1000);
		g_assert_cmpint(node_memory_stats(sys, proc, 1, names, v,
						  &error), ==, -1);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
		g_clear_error(&error);
		/* Cell 1 is possible but has no memory. */
		cells = node_cells_free_memory(sys, proc, 0, 8, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(cells->len, ==, 3);
		g_assert_cmpuint(g_array_index(cells, uint64_t, 0), ==,
				 2000 * 1024);
		g_assert_cmpuint(g_array_index(cells, uint64_t, 1), ==, 0);
		g_assert_cmpuint(g_array_index(cells, uint64_t, 2), ==,
				 1000 * 1024);
		g_clear_pointer(&cells, g_array_unref);
		cells = node_cells_free_memory(sys, proc, 2, 1, &error);
		g_assert_cmpuint(cells->len, ==, 1);
		g_assert_null(node_cells_free_memory(sys, proc, 3, 1, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
		g_assert_true(node_free_memory(proc, &bytes, NULL));
		g_assert_cmpuint(bytes, ==, 3000 * 1024);
	}
	rm_rf(root);
}

static void test_sysinfo(void)
{
	g_autofree char *root = new_root();
	g_autofree char *none = node_sysinfo_xml(root);
	g_autofree char *xml = NULL;

	g_assert_cmpstr(none, ==, "<sysinfo type='smbios'>\n</sysinfo>\n");
	put(root, "class/dmi/id/bios_vendor", "SeaBIOS & co <1>\n");
	put(root, "class/dmi/id/sys_vendor", "QEMU\n");
	put(root, "class/dmi/id/product_name", "   \n");   /* says nothing */
	put(root, "class/dmi/id/board_asset_tag", "tag\n");
	xml = node_sysinfo_xml(root);
	g_assert_cmpstr(xml, ==, "<sysinfo type='smbios'>\n"
			"  <bios>\n"
			"    <entry name='vendor'>SeaBIOS &amp; co &lt;1&gt;"
			"</entry>\n"
			"  </bios>\n"
			"  <system>\n"
			"    <entry name='manufacturer'>QEMU</entry>\n"
			"  </system>\n"
			"  <baseBoard>\n"
			"    <entry name='asset'>tag</entry>\n"
			"  </baseBoard>\n"
			"</sysinfo>\n");
	rm_rf(root);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/node-stats/cpu-map", test_cpu_map);
	g_test_add_func("/node-stats/cpu-times", test_cpu_times);
	g_test_add_func("/node-stats/memory", test_memory);
	g_test_add_func("/node-stats/sysinfo", test_sysinfo);
	return g_test_run();
}
