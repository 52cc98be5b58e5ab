// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The delegate connection to libvirt's storage driver (delegate.h): its
 * settings, its failures, and dv_resolve_volume() (storage_resolve.h).
 *
 * The cases that need a real storage driver run when
 * DUVISOR_TEST_STORAGE_URI names one with a running pool
 * DUVISOR_TEST_POOL holding DUVISOR_TEST_VOLUME at DUVISOR_TEST_VOLUME_PATH
 * and an inactive pool DUVISOR_TEST_INACTIVE_POOL: test_storage_network.py
 * prepares them on a private libvirtd and runs this program.  Without
 * them (the plain unit run) those cases are not registered: they run in
 * that pytest, never as a skip here.
 */
#include <glib.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "daemon_config.h"
#include "delegate.h"
#include "domain_lifecycle.h"
#include "rpc_dispatch.h"
#include "storage_resolve.h"

static void start_delegate(const char *storage_uri)
{
	struct daemon_config cfg;

	daemon_config_defaults(&cfg, false);
	g_free(cfg.storage_uri);
	cfg.storage_uri = g_strdup(storage_uri);
	dv_delegate_init(&cfg);
	daemon_config_clear(&cfg);
}

static void stop_delegate(void)
{
	dv_delegate_shutdown();
	rpc_dispatch_shutdown();
}

static void test_config_keys(void)
{
	struct daemon_config cfg;
	g_autoptr(GError) err = NULL;

	daemon_config_defaults(&cfg, false);
	g_assert_cmpstr(cfg.storage_uri, ==, "storage:///system");
	g_assert_cmpstr(cfg.network_uri, ==, "network:///system");
	g_assert_true(daemon_config_parse(&cfg,
		"storage_uri = \"storage:///system?socket=/x/sock\"\n"
		"network_uri = \"\"   # none\n", "test", &err));
	g_assert_no_error(err);
	g_assert_cmpstr(cfg.storage_uri, ==, "storage:///system?socket=/x/sock");
	g_assert_null(cfg.network_uri);
	daemon_config_clear(&cfg);

	daemon_config_defaults(&cfg, true);
	g_assert_cmpstr(cfg.storage_uri, ==, "storage:///session");
	g_assert_cmpstr(cfg.network_uri, ==, "network:///session");
	daemon_config_clear(&cfg);
}

/* Resolves and expects a failure with code; returns its message. */
static char *resolve_fails(const char *pool, const char *vol, int code)
{
	g_autoptr(GError) err = NULL;
	char *path = NULL;

	g_assert_false(dv_resolve_volume(pool, vol, &path, &err));
	g_assert_null(path);
	g_assert_error(err, DV_DRIVER_ERROR, code);
	return g_strdup(err->message);
}

static void test_unconfigured(void)
{
	g_autofree char *msg = NULL;

	start_delegate(NULL);
	msg = resolve_fails("default", "disk.img", VIR_ERR_NO_SUPPORT);
	g_assert_nonnull(strstr(msg, "not available"));
	g_assert_nonnull(strstr(msg, "'disk.img'"));
	stop_delegate();
}

static void test_unreachable(void)
{
	g_autofree char *msg = NULL;

	start_delegate("storage:///system?socket=/nonexistent/libvirt-sock");
	msg = resolve_fails("default", "disk.img", VIR_ERR_NO_SUPPORT);
	g_assert_nonnull(strstr(msg, "/nonexistent/libvirt-sock"));
	/* Asked again: still a clean failure, no stale connection. */
	g_free(resolve_fails("default", "disk.img", VIR_ERR_NO_SUPPORT));
	stop_delegate();
}

static void test_resolve(void)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *path = NULL;
	g_autofree char *msg = NULL;

	start_delegate(g_getenv("DUVISOR_TEST_STORAGE_URI"));
	g_assert_true(dv_resolve_volume(g_getenv("DUVISOR_TEST_POOL"),
					g_getenv("DUVISOR_TEST_VOLUME"), &path,
					&err));
	g_assert_no_error(err);
	g_assert_cmpstr(path, ==, g_getenv("DUVISOR_TEST_VOLUME_PATH"));

	g_free(resolve_fails(g_getenv("DUVISOR_TEST_POOL"), "nosuch.img",
			     VIR_ERR_NO_STORAGE_VOL));
	msg = resolve_fails("nosuch-pool", "x.img", VIR_ERR_NO_STORAGE_POOL);
	g_assert_nonnull(strstr(msg, "nosuch-pool"));
	g_free(resolve_fails(g_getenv("DUVISOR_TEST_INACTIVE_POOL"), "x.img",
			     VIR_ERR_OPERATION_INVALID));
	stop_delegate();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/delegate/config-keys", test_config_keys);
	g_test_add_func("/delegate/unconfigured", test_unconfigured);
	g_test_add_func("/delegate/unreachable", test_unreachable);
	if (g_getenv("DUVISOR_TEST_STORAGE_URI"))
		g_test_add_func("/delegate/resolve-volume", test_resolve);
	return g_test_run();
}
