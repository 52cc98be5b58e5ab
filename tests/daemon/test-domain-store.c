// SPDX-License-Identifier: GPL-2.0-or-later
/* Units: persistent definitions (domain_store), /proc facts (monitor), the
 * domain list (domain_obj). */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain_obj.h"
#include "domain_store.h"
#include "monitor.h"

static char *make_tmpdir(void)
{
	g_autoptr(GError) err = NULL;
	char *dir = g_dir_make_tmp("dv-store-XXXXXX", &err);

	g_assert_no_error(err);
	return dir;
}

static void remove_tree(const char *dir)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	g_assert_cmpint(system(cmd), ==, 0);
}

static GPtrArray *list_dir(const char *dir)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *n;

	while (d && (n = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(n));
	return names;
}

static struct duvisor_domain_def *def_named(const char *name)
{
	g_autofree char *xml = g_strdup_printf(
		"<domain type='kvm'><name>%s</name><memory>65536</memory>"
		"<os><type>hvm</type><kernel>/k</kernel></os></domain>", name);
	g_autoptr(GError) err = NULL;
	struct duvisor_domain_def *def = duvisor_domain_def_parse(xml, 0, &err);

	g_assert_no_error(err);
	return def;
}

static void test_atomic_write(void)
{
	g_autofree char *dir = make_tmpdir();
	g_autofree char *path = g_build_filename(dir, "sub", "f.xml", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) names = NULL;
	g_autofree char *text = NULL;
	struct stat st;

	g_assert_true(dv_write_file_atomic(path, "one", 3, 0600, &err));
	g_assert_true(dv_write_file_atomic(path, "second", 6, 0600, &err));
	g_assert_no_error(err);
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "second");
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	{
		g_autofree char *sub = g_path_get_dirname(path);

		names = list_dir(sub);
	}
	g_assert_cmpuint(names->len, ==, 1);
	/* A directory in the way: an error, nothing left behind. */
	g_assert_false(dv_write_file_atomic(dir, "x", 1, 0600, &err));
	g_assert_nonnull(err);
	remove_tree(dir);
}

static void test_stale_temp_files(void)
{
	g_autofree char *dir = make_tmpdir();
	const char *keep[] = { "a.xml", "a.xml.tmp-1234567", "b.tmp-abcdef.xml",
			       "c.status" };
	const char *drop[] = { "a.xml.tmp-AbC123", "c.status.tmp-zzzzzz" };
	g_autoptr(GPtrArray) names = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(keep); i++) {
		g_autofree char *p = g_build_filename(dir, keep[i], NULL);

		g_assert_true(g_file_set_contents(p, "x", 1, NULL));
	}
	for (size_t i = 0; i < G_N_ELEMENTS(drop); i++) {
		g_autofree char *p = g_build_filename(dir, drop[i], NULL);

		g_assert_true(g_file_set_contents(p, "x", 1, NULL));
	}
	dv_remove_stale_temp_files(dir);
	names = list_dir(dir);
	g_assert_cmpuint(names->len, ==, G_N_ELEMENTS(keep));
	for (size_t i = 0; i < G_N_ELEMENTS(drop); i++) {
		g_autofree char *p = g_build_filename(dir, drop[i], NULL);

		g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
	}
	remove_tree(dir);
}

static void count_loaded(struct duvisor_domain_def *def, bool autostart,
			 void *opaque)
{
	GPtrArray *got = opaque;

	g_ptr_array_add(got, g_strdup_printf("%s%s", def->name,
					     autostart ? "+" : ""));
	duvisor_domain_def_free(def);
}

static void test_store_roundtrip(void)
{
	g_autofree char *dir = make_tmpdir();
	g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) err = NULL;
	g_autofree char *bad = g_build_filename(dir, "bad.xml", NULL);
	g_autofree char *other = g_build_filename(dir, "other.xml", NULL);
	g_autofree char *other_xml = NULL;
	const char *names[] = { "alpha", "beta", "with space" };

	dv_store_init(dir);
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(duvisor_domain_def) def = def_named(names[i]);

		g_assert_true(dv_store_save(def, &err));
		g_assert_no_error(err);
	}
	g_assert_true(dv_store_set_autostart("beta", true, &err));
	g_assert_true(dv_store_set_autostart("beta", true, &err));
	g_assert_true(dv_store_get_autostart("beta"));
	g_assert_false(dv_store_get_autostart("alpha"));
	/* Unparsable, and a file whose domain has another name. */
	g_assert_true(g_file_set_contents(bad, "<domain", -1, NULL));
	{
		g_autoptr(duvisor_domain_def) def = def_named("mismatch");

		other_xml = duvisor_domain_def_format(def, NULL, 0);
	}
	g_assert_true(g_file_set_contents(other, other_xml, -1, NULL));
	g_assert_cmpuint(dv_store_load(count_loaded, got), ==, 3);
	g_assert_cmpuint(got->len, ==, 3);
	g_assert_cmpstr(g_ptr_array_index(got, 0), ==, "alpha");
	g_assert_cmpstr(g_ptr_array_index(got, 1), ==, "beta+");
	g_assert_cmpstr(g_ptr_array_index(got, 2), ==, "with space");

	g_assert_true(dv_store_delete("beta", &err));
	g_assert_false(dv_store_get_autostart("beta"));
	g_assert_true(dv_store_delete("beta", &err));	/* already gone */
	g_assert_no_error(err);
	g_ptr_array_set_size(got, 0);
	g_assert_cmpuint(dv_store_load(count_loaded, got), ==, 2);
	dv_store_shutdown();
	remove_tree(dir);
}

static void test_proc_stat(void)
{
	struct dv_proc_stat st, again;

	g_assert_true(dv_proc_stat_read(getpid(), &st));
	g_assert_cmpint(st.state, ==, 'R');
	g_assert_cmpint(st.threads, >=, 1);
	g_assert_true(dv_proc_stat_read(getpid(), &again));
	g_assert_cmpuint(st.start_time, ==, again.start_time);
	g_assert_false(dv_proc_stat_read(-1, &st));
}

static void test_domain_list(void)
{
	struct dv_domain *a, *b;
	g_autoptr(GPtrArray) all = NULL;

	dv_domains_init();
	b = dv_domain_add(def_named("b"), true);
	a = dv_domain_add(def_named("a"), false);
	g_assert_true(dv_domain_find_by_name("a") == a);
	g_assert_true(dv_domain_find_by_uuid(b->def->uuid) == b);
	g_assert_null(dv_domain_find_by_id(1));
	g_assert_cmpint(a->state, ==, VIR_DOMAIN_SHUTOFF);
	a->id = dv_domain_next_id();
	g_assert_cmpint(a->id, ==, 1);
	g_assert_true(dv_domain_find_by_id(1) == a);
	dv_domain_reserve_id(41);
	g_assert_cmpint(dv_domain_next_id(), ==, 42);
	g_assert_cmpuint(dv_domain_count(true), ==, 1);
	g_assert_cmpuint(dv_domain_count(false), ==, 1);
	all = dv_domain_list();
	g_assert_cmpuint(all->len, ==, 2);
	g_assert_true(g_ptr_array_index(all, 0) == a);
	a->id = -1;
	dv_domain_remove(b);
	g_assert_null(dv_domain_find_by_name("b"));
	g_assert_true(b->removed);		/* still held by @all */
	dv_domains_shutdown();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/store/atomic-write", test_atomic_write);
	g_test_add_func("/store/stale-temp-files", test_stale_temp_files);
	g_test_add_func("/store/roundtrip", test_store_roundtrip);
	g_test_add_func("/monitor/proc-stat", test_proc_stat);
	g_test_add_func("/domains/list", test_domain_list);
	return g_test_run();
}
