// SPDX-License-Identifier: GPL-2.0-or-later
/* virtduvisord's configuration file and host data parsing. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "daemon_config.h"
#include "daemon_log.h"
#include "node_info.h"

static void test_defaults(void)
{
	struct daemon_config cfg;

	daemon_config_defaults(&cfg, false);
	g_assert_cmpstr(cfg.rw_socket, ==, "/var/run/libvirt/virtduvisord-sock");
	g_assert_cmpstr(cfg.ro_socket, ==,
			"/var/run/libvirt/virtduvisord-sock-ro");
	g_assert_cmpuint(cfg.rw_perms, ==, 0600);
	g_assert_cmpuint(cfg.ro_perms, ==, 0666);
	daemon_config_clear(&cfg);

	daemon_config_defaults(&cfg, true);
	g_assert_true(g_str_has_suffix(cfg.rw_socket,
				       "/libvirt/virtduvisord-sock"));
	g_assert_null(cfg.ro_socket);
	daemon_config_clear(&cfg);
}

static void test_parse(void)
{
	struct daemon_config cfg;
	g_autoptr(GError) err = NULL;
	const char *text =
		"# a comment\n"
		"\n"
		"unix_sock_dir = \"/tmp/dv\"\n"
		"unix_sock_ro_perms = \"0644\"   # trailing comment\n"
		"state_dir=\"/tmp/dv/state\"\n"
		"vmm_path = \"/opt/dv/duvisor-vmm\"\n"
		"vmm_user = \"0\"\n"
		"vmm_group = \"0\"\n"
		"log_level = \"debug\"\n"
		"max_clients = 7\n"
		"max_client_requests = 3\n"
		"hypervisor_version = \"8.2.1\"\n"
		"some_future_key = 1\n";

	daemon_config_defaults(&cfg, false);
	g_assert_true(daemon_config_parse(&cfg, text, "test", &err));
	g_assert_no_error(err);
	g_assert_cmpstr(cfg.rw_socket, ==, "/tmp/dv/virtduvisord-sock");
	g_assert_cmpstr(cfg.ro_socket, ==, "/tmp/dv/virtduvisord-sock-ro");
	g_assert_cmpuint(cfg.ro_perms, ==, 0644);
	g_assert_cmpuint(cfg.rw_perms, ==, 0600);
	g_assert_cmpstr(cfg.state_dir, ==, "/tmp/dv/state");
	g_assert_cmpstr(cfg.vmm_path, ==, "/opt/dv/duvisor-vmm");
	g_assert_cmpint(cfg.vmm_uid, ==, 0);
	g_assert_cmpint(cfg.vmm_gid, ==, 0);
	g_assert_cmpint(cfg.log_level, ==, DV_LOG_DEBUG);
	g_assert_cmpuint(cfg.max_clients, ==, 7);
	g_assert_cmpuint(cfg.max_client_requests, ==, 3);
	g_assert_cmpuint(cfg.hypervisor_version, ==, 8002001);

	/* An explicit path wins over the directory; "" disables. */
	g_assert_true(daemon_config_parse(&cfg,
		"unix_sock_rw_path = \"/x/rw\"\nunix_sock_ro_path = \"\"\n"
		"unix_sock_dir = \"/y\"\n", "test", &err));
	g_assert_cmpstr(cfg.rw_socket, ==, "/x/rw");
	g_assert_null(cfg.ro_socket);
	daemon_config_clear(&cfg);
}

static void test_parse_errors(void)
{
	static const char *const bad[] = {
		"just words\n",
		"= \"value\"\n",
		"state_dir = unquoted\n",
		"state_dir = \"unterminated\n",
		"state_dir = \"a\" extra\n",
		"unix_sock_rw_perms = \"0999\"\n",
		"max_clients = 0\n",
		"max_clients = \"5\"\n",
		"log_level = \"loud\"\n",
		"vmm_user = \"no-such-user-here\"\n",
		"hypervisor_version = \"1.x\"\n",
		"unix_sock_rw_path = \"\"\n",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		struct daemon_config cfg;
		g_autoptr(GError) err = NULL;

		daemon_config_defaults(&cfg, false);
		if (daemon_config_parse(&cfg, bad[i], "f.conf", &err))
			g_error("accepted: %s", bad[i]);
		g_assert_nonnull(err);
		g_assert_true(g_str_has_prefix(err->message, "f.conf:1:"));
		daemon_config_clear(&cfg);
	}
}

static void test_log_settings(void)
{
	static const char *const bad[] = {
		"log_outputs = \"syslog:x\"\n",
		"log_outputs = \"5:stderr\"\n",
		"log_outputs = \"file:relative.log\"\n",
		"log_outputs = \"stderr journal\"\n",
		"log_level = 0\n",
	};
	struct daemon_config cfg;
	g_autoptr(GError) err = NULL;
	g_autofree char *desc = NULL;
	g_autoptr(dv_log_outputs) outs = NULL;

	/* libvirt's numbers: 1 is debug, 4 error. */
	daemon_config_defaults(&cfg, false);
	g_assert_true(daemon_config_parse(&cfg, "log_level = 1\n", "t", &err));
	g_assert_cmpint(cfg.log_level, ==, DV_LOG_DEBUG);
	g_assert_true(daemon_config_parse(&cfg, "log_level = \"4\"\n", "t",
					  &err));
	g_assert_cmpint(cfg.log_level, ==, DV_LOG_ERROR);
	g_assert_true(daemon_config_parse(&cfg,
		"log_outputs = \"3:journald  1:file:/var/log/v.log stderr\"\n",
		"t", &err));
	g_assert_no_error(err);
	outs = dv_log_outputs_parse(cfg.log_outputs, &err);
	g_assert_nonnull(outs);
	desc = dv_log_outputs_describe(outs);
	g_assert_cmpstr(desc, ==, "journald (warning and above), "
				  "file:/var/log/v.log, stderr");
	daemon_config_clear(&cfg);

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) e = NULL;

		daemon_config_defaults(&cfg, false);
		if (daemon_config_parse(&cfg, bad[i], "f.conf", &e))
			g_error("accepted: %s", bad[i]);
		g_assert_true(g_str_has_prefix(e->message, "f.conf:1: log_"));
		g_assert_null(cfg.log_outputs);
		daemon_config_clear(&cfg);
	}
}

/* A reload takes what can change at run time and names the rest. */
static void test_runtime_settings(void)
{
	struct daemon_config cfg, next;
	g_autoptr(GError) err = NULL;
	g_autofree char *fixed = NULL, *none = NULL;
	const char *vmm;

	daemon_config_defaults(&cfg, false);
	daemon_config_defaults(&next, false);
	vmm = cfg.vmm_path;
	g_assert_true(daemon_config_parse(&next,
		"log_level = \"debug\"\nlog_outputs = \"stderr\"\n"
		"max_clients = 9\nmax_client_requests = 2\n"
		"hypervisor_version = \"2.0.0\"\nvmm_user = \"0\"\n"
		"log_dir = \"/elsewhere\"\nunix_sock_dir = \"/s\"\n",
		"next", &err));
	fixed = daemon_config_apply_runtime(&cfg, &next);
	g_assert_cmpstr(fixed, ==,
			"unix_sock_rw_path, unix_sock_ro_path, log_dir");
	g_assert_cmpint(cfg.log_level, ==, DV_LOG_DEBUG);
	g_assert_cmpstr(cfg.log_outputs, ==, "stderr");
	g_assert_cmpuint(cfg.max_clients, ==, 9);
	g_assert_cmpuint(cfg.max_client_requests, ==, 2);
	g_assert_cmpuint(cfg.hypervisor_version, ==, 2000000);
	g_assert_cmpint(cfg.vmm_uid, ==, 0);
	g_assert_cmpstr(cfg.log_dir, ==, "/var/log/libvirt/duvisor");
	g_assert_cmpstr(cfg.rw_socket, ==,
			"/var/run/libvirt/virtduvisord-sock");
	/* An unchanged string stays where it was (others point to it). */
	g_assert_true(cfg.vmm_path == vmm);
	none = daemon_config_apply_runtime(&cfg, &cfg);
	g_assert_cmpstr(none, ==, "");
	daemon_config_clear(&next);
	daemon_config_clear(&cfg);
}

static void test_version(void)
{
	uint64_t v;

	g_assert_true(daemon_config_parse_version("9.0.0", &v));
	g_assert_cmpuint(v, ==, 9000000);
	g_assert_true(daemon_config_parse_version("0.1.0", &v));
	g_assert_cmpuint(v, ==, 1000);
	g_assert_true(daemon_config_parse_version("6.2", &v));
	g_assert_cmpuint(v, ==, 6002000);
	g_assert_false(daemon_config_parse_version("", &v));
	g_assert_false(daemon_config_parse_version("1.2.3.4", &v));
	g_assert_false(daemon_config_parse_version("1.1000.0", &v));
}

static void test_cpulist(void)
{
	g_autoptr(GArray) a = node_parse_cpulist("0-2,5,7-8\n", 64);

	g_assert_nonnull(a);
	g_assert_cmpuint(a->len, ==, 6);
	g_assert_cmpuint(g_array_index(a, unsigned int, 3), ==, 5);
	g_assert_cmpuint(g_array_index(a, unsigned int, 5), ==, 8);
	g_assert_null(node_parse_cpulist("3-1", 64));
	g_assert_null(node_parse_cpulist("1,x", 64));
	g_assert_null(node_parse_cpulist("70", 64));
	g_autoptr(GArray) e = node_parse_cpulist("", 64);
	g_assert_cmpuint(e->len, ==, 0);
}

static void put(const char *root, const char *rel, const char *text)
{
	g_autofree char *path = g_build_filename(root, rel, NULL);
	g_autofree char *dir = g_path_get_dirname(path);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* 2 nodes x 1 socket x 2 cores x 2 threads. */
static void test_node_info(void)
{
	g_autofree char *root = g_dir_make_tmp("dv-node-XXXXXX", NULL);
	g_autofree char *sys = g_build_filename(root, "sys", NULL);
	g_autofree char *proc = g_build_filename(root, "proc", NULL);
	g_autoptr(GError) err = NULL;
	struct node_info ni;

	put(sys, "devices/system/cpu/online", "0-7\n");
	put(sys, "devices/system/node/has_cpu", "0-1\n");
	for (int cpu = 0; cpu < 8; cpu++) {
		g_autofree char *pkg = g_strdup_printf(
			"devices/system/cpu/cpu%d/topology/physical_package_id",
			cpu);
		g_autofree char *core = g_strdup_printf(
			"devices/system/cpu/cpu%d/topology/core_id", cpu);
		g_autofree char *pv = g_strdup_printf("%d\n", cpu / 4);
		g_autofree char *cv = g_strdup_printf("%d\n", cpu % 4 / 2);

		put(sys, pkg, pv);
		put(sys, core, cv);
	}
	put(proc, "meminfo", "MemTotal:       16314236 kB\nMemFree: 1 kB\n");
	put(proc, "cpuinfo", "processor\t: 0\ncpu MHz\t\t: 2599.996\n");

	g_assert_true(node_info_read(sys, proc, &ni, &err));
	g_assert_cmpuint(ni.memory_kib, ==, 16314236);
	g_assert_cmpint(ni.cpus, ==, 8);
	g_assert_cmpint(ni.mhz, ==, 2600);
	g_assert_cmpint(ni.nodes, ==, 2);
	g_assert_cmpint(ni.sockets, ==, 1);
	g_assert_cmpint(ni.cores, ==, 2);
	g_assert_cmpint(ni.threads, ==, 2);

	/* A CPU without topology: the flat fallback. */
	put(sys, "devices/system/cpu/online", "0-8\n");
	g_assert_true(node_info_read(sys, proc, &ni, &err));
	g_assert_cmpint(ni.cpus, ==, 9);
	g_assert_cmpint(ni.nodes, ==, 1);
	g_assert_cmpint(ni.sockets, ==, 1);
	g_assert_cmpint(ni.cores, ==, 9);
	g_assert_cmpint(ni.threads, ==, 1);

	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
	g_assert_cmpint(system(cmd), ==, 0);
}

static void test_node_info_live(void)
{
	g_autoptr(GError) err = NULL;
	struct node_info ni;

	g_assert_true(node_info_get(&ni, &err));
	g_assert_cmpint(ni.cpus, >, 0);
	g_assert_cmpint(ni.nodes * ni.sockets * ni.cores * ni.threads, ==,
			ni.cpus);
	g_assert_cmpuint(ni.memory_kib, >, 0);
	g_assert_cmpuint(strlen(ni.model), >, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	dv_log_set_level(DV_LOG_ERROR);
	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/parse", test_parse);
	g_test_add_func("/config/parse-errors", test_parse_errors);
	g_test_add_func("/config/version", test_version);
	g_test_add_func("/config/log", test_log_settings);
	g_test_add_func("/config/runtime", test_runtime_settings);
	g_test_add_func("/node/cpulist", test_cpulist);
	g_test_add_func("/node/info", test_node_info);
	g_test_add_func("/node/info-live", test_node_info_live);
	return g_test_run();
}
