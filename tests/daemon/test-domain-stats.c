// SPDX-License-Identifier: GPL-2.0-or-later
/* The pure parts of domain statistics: /proc stat lines, what the VMM
 * says (vcpu_tids, block-stats) and typed-parameter replies. */
#include <glib.h>
#include <libvirt/libvirt.h>
#include <string.h>
#include <unistd.h>

#include "domain_stats.h"
#include "monitor.h"
#include "typed_params.h"

/* A thread's stat line: comm with spaces and a ")", 52 fields. */
static const char task_stat[] =
	"4242 (duvisor-vmm) x) R 1 4242 4242 0 -1 4194624 1234 0 0 0 "
	"700 300 0 0 20 0 3 0 98765 123456789 2345 18446744073709551615 "
	"1 1 0 0 0 0 0 4096 0 0 0 0 17 5 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

static void test_proc_stat_parse(void)
{
	struct dv_proc_stat st;

	g_assert_true(dv_proc_stat_parse(task_stat, &st));
	g_assert_cmpint(st.state, ==, 'R');
	g_assert_cmpuint(st.utime, ==, 700);
	g_assert_cmpuint(st.stime, ==, 300);
	g_assert_cmpint(st.threads, ==, 3);
	g_assert_cmpuint(st.start_time, ==, 98765);
	g_assert_cmpint(st.processor, ==, 5);
	/* An old kernel's short line: no processor. */
	g_assert_true(dv_proc_stat_parse("1 (a) S 0 0 0 0 0 0 0 0 0 0 7 8 0 0 "
					 "0 0 1 0 5\n", &st));
	g_assert_cmpuint(st.utime, ==, 7);
	g_assert_cmpint(st.processor, ==, -1);
	g_assert_false(dv_proc_stat_parse("1 (a) S 0 0", &st));
	g_assert_false(dv_proc_stat_parse("garbage", &st));
	g_assert_false(dv_proc_stat_parse("1 (a)S 0", &st));
}

static void test_proc_task_stat_read(void)
{
	struct dv_proc_stat st;

	/* Our own thread, and ids that are not threads of ours. */
	g_assert_true(dv_proc_task_stat_read(getpid(), getpid(), &st));
	g_assert_cmpint(st.processor, >=, 0);
	g_assert_false(dv_proc_task_stat_read(getpid(), 1, &st));
	g_assert_false(dv_proc_task_stat_read(getpid(), 0, &st));
	g_assert_false(dv_proc_task_stat_read(getpid(), -5, &st));
	g_assert_cmpuint(dv_proc_ticks_to_ns(100), ==,
			 100 * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK)));
}

static void test_vcpu_tids(void)
{
	g_autoptr(GArray) two = dv_vcpu_tids_parse("4243,4244", 4);
	g_autoptr(GArray) zero = dv_vcpu_tids_parse("0", 4);

	g_assert_nonnull(two);
	g_assert_cmpuint(two->len, ==, 2);
	g_assert_cmpint(g_array_index(two, pid_t, 1), ==, 4244);
	g_assert_cmpuint(zero->len, ==, 1);
	/* More than the domain's vCPUs, junk, negative, too large. */
	g_assert_null(dv_vcpu_tids_parse("1,2,3", 2));
	g_assert_null(dv_vcpu_tids_parse("12a", 4));
	g_assert_null(dv_vcpu_tids_parse("-1", 4));
	g_assert_null(dv_vcpu_tids_parse("4294967296", 4));
	g_assert_null(dv_vcpu_tids_parse("1,,2", 4));
}

static GHashTable *reply_of(const char *const *kv)
{
	GHashTable *h = g_hash_table_new(g_str_hash, g_str_equal);

	for (; kv[0]; kv += 2)
		g_hash_table_insert(h, (gpointer)kv[0], (gpointer)kv[1]);
	return h;
}

static void test_disk_stats_parse(void)
{
	static const char *const full[] = {
		"disks", "1",
		"disk.0.rd_reqs", "1", "disk.0.rd_bytes", "512",
		"disk.0.rd_ns", "3", "disk.0.wr_reqs", "4",
		"disk.0.wr_bytes", "18446744073709551615", "disk.0.wr_ns", "6",
		"disk.0.fl_reqs", "7", "disk.0.fl_ns", "8",
		"disk.0.errors", "9", NULL,
	};
	static const char *const bad[] = {
		"disks", "2", "disk.1.rd_reqs", "x", NULL,
	};
	g_autoptr(GHashTable) ok = reply_of(full);
	g_autoptr(GHashTable) junk = reply_of(bad);
	struct dv_disk_stats st;

	g_assert_true(dv_disk_stats_parse(ok, 0, &st));
	g_assert_cmpuint(st.rd_bytes, ==, 512);
	g_assert_cmpuint(st.wr_bytes, ==, G_MAXUINT64);
	g_assert_cmpuint(st.errors, ==, 9);
	/* Beyond the VMM's disks, not attached, malformed. */
	g_assert_false(dv_disk_stats_parse(ok, 1, &st));
	g_assert_false(dv_disk_stats_parse(ok, -1, &st));
	g_assert_false(dv_disk_stats_parse(junk, 1, &st));
	g_assert_false(dv_disk_stats_parse(junk, 0, &st));
}

static void test_typed_params(void)
{
	struct dv_typed_params tp;
	dv_typed_param *val;
	u_int len;
	int nparams;

	dv_typed_params_init(&tp, 3);
	dv_typed_params_llong(&tp, -1, "rd_%s", "operations");
	dv_typed_params_string(&tp, "vda", "block.%u.name", 0);
	dv_typed_params_uint(&tp, 7, "%s", "x");
	g_assert_false(tp.full);
	dv_typed_params_int(&tp, 1, "one.too.many");
	g_assert_true(tp.full);
	g_assert_cmpuint(dv_typed_params_count(&tp), ==, 3);

	/* nparams 0: the count alone. */
	dv_typed_params_reply(&tp, 0, &val, &len, &nparams);
	g_assert_cmpint(nparams, ==, 3);
	g_assert_cmpuint(len, ==, 0);
	g_free(val);
	dv_typed_params_clear(&tp);

	dv_typed_params_init(&tp, 16);
	dv_typed_params_llong(&tp, 5, "a");
	dv_typed_params_string(&tp, "vdb", "b");
	dv_typed_params_ullong(&tp, G_MAXUINT64, "c");
	/* A field libvirt's 80-byte buffer cannot hold. */
	dv_typed_params_int(&tp, 1, "%0100d", 0);
	g_assert_true(tp.full);
	dv_typed_params_reply(&tp, 2, &val, &len, &nparams);
	g_assert_cmpint(nparams, ==, 2);
	g_assert_cmpuint(len, ==, 2);
	g_assert_cmpstr(val[0].field, ==, "a");
	g_assert_cmpint(val[0].value.type, ==, VIR_TYPED_PARAM_LLONG);
	g_assert_cmpint(val[0].value.dv_typed_param_value_u.l, ==, 5);
	g_assert_cmpint(val[1].value.type, ==, VIR_TYPED_PARAM_STRING);
	g_assert_cmpstr(val[1].value.dv_typed_param_value_u.s, ==, "vdb");
	g_assert_cmpuint(dv_typed_params_count(&tp), ==, 0);
	xdr_free((xdrproc_t)xdr_dv_typed_param, (char *)&val[0]);
	xdr_free((xdrproc_t)xdr_dv_typed_param, (char *)&val[1]);
	g_free(val);
	dv_typed_params_clear(&tp);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/domain-stats/proc-stat-parse", test_proc_stat_parse);
	g_test_add_func("/domain-stats/proc-task-stat", test_proc_task_stat_read);
	g_test_add_func("/domain-stats/vcpu-tids", test_vcpu_tids);
	g_test_add_func("/domain-stats/disk-stats", test_disk_stats_parse);
	g_test_add_func("/domain-stats/typed-params", test_typed_params);
	return g_test_run();
}
