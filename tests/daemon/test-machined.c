// SPDX-License-Identifier: GPL-2.0-or-later
/* Machine names given to systemd-machined.  (Registration itself runs
 * against a real machined in the systemd test host: tests/systemd.) */
#include <string.h>

#include "machined.h"

static void test_names(void)
{
	static const struct { const char *dom, *machine; } t[] = {
		{ "web", "duvisor-3-web" },
		{ "my vm/with:odd*chars", "duvisor-3-myvmwithoddchars" },
		{ "dots..in.a.row.", "duvisor-3-dots.in.a.row" },
		{ "ends-with-dash-", "duvisor-3-ends-with-dash" },
		{ "", "duvisor-3" },
		{ "é", "duvisor-3" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *name = dv_machine_name(t[i].dom, 3);

		g_assert_cmpstr(name, ==, t[i].machine);
	}
}

static void test_long_name_is_cut(void)
{
	g_autofree char *dom = g_strnfill(200, 'x');
	g_autofree char *name = dv_machine_name(dom, 12345);

	g_assert_cmpuint(strlen(name), <=, 64);
	g_assert_true(g_str_has_prefix(name, "duvisor-12345-xxx"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/machined/names", test_names);
	g_test_add_func("/machined/long-name", test_long_name_is_cut);
	return g_test_run();
}
