// SPDX-License-Identifier: GPL-2.0-or-later
/* Running domains' state in run_dir (see domain_status.h). */
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <signal.h>
#include <string.h>

#include "daemon_log.h"
#include "domain_lifecycle.h"
#include "domain_net.h"
#include "domain_status.h"
#include "domain_store.h"
#include "monitor.h"

#define GROUP "domain"
#define SUFFIX ".status"

static char *run_dir;

void dv_status_init(const char *dir)
{
	g_free(run_dir);
	run_dir = g_strdup(dir);
}

void dv_status_shutdown(void)
{
	g_clear_pointer(&run_dir, g_free);
}

static char *status_path(const char *name)
{
	g_autofree char *file = g_strconcat(name, SUFFIX, NULL);

	return g_build_filename(run_dir, file, NULL);
}

void dv_status_save(struct dv_domain *dom)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;
	g_autofree char *path = status_path(dv_domain_name(dom));
	g_autofree char *xml = NULL;
	g_autofree char *text = NULL;
	const char *pty = NULL;
	uint64_t start_time;
	bool starting;
	int64_t pid;
	char uuid[37];
	gsize len;

	if (!dv_domain_vmm_identity(dom, &pid, &start_time, &pty, &starting))
		return;
	xml = duvisor_domain_def_format(dom->def, NULL,
					DUVISOR_FORMAT_SECURE |
					DUVISOR_FORMAT_INACTIVE);
	duvisor_uuid_format(dv_domain_uuid(dom), uuid);
	g_key_file_set_string(kf, GROUP, "name", dv_domain_name(dom));
	g_key_file_set_string(kf, GROUP, "uuid", uuid);
	g_key_file_set_integer(kf, GROUP, "id", dom->id);
	g_key_file_set_integer(kf, GROUP, "state", dom->state);
	g_key_file_set_integer(kf, GROUP, "reason", dom->reason);
	g_key_file_set_boolean(kf, GROUP, "persistent", dom->persistent);
	g_key_file_set_int64(kf, GROUP, "pid", pid);
	g_key_file_set_uint64(kf, GROUP, "start_time", start_time);
	g_key_file_set_string(kf, GROUP, "pty", pty ? pty : "");
	g_key_file_set_boolean(kf, GROUP, "starting", starting);
	g_key_file_set_string(kf, GROUP, "xml", xml ? xml : "");
	dv_nics_save(dv_domain_nics(dom), kf);
	text = g_key_file_to_data(kf, &len, NULL);
	if (!dv_write_file_atomic(path, text, len, 0600, &err))
		DV_WARN("cannot save the state of '%s': %s",
			dv_domain_name(dom), err->message);
}

void dv_status_remove(struct dv_domain *dom)
{
	g_autofree char *path = status_path(dv_domain_name(dom));

	g_unlink(path);
}

/* A VMM that was still starting when its daemon died: nobody knows
 * whether it came up, so it goes (its domain starts afresh if wanted). */
static void kill_unstarted(pid_t pid, uint64_t start_time, const char *name)
{
	struct dv_proc_stat st;

	if (!dv_proc_stat_read(pid, &st) || st.state == 'Z' ||
	    st.start_time != start_time)
		return;
	DV_WARN("domain '%s': killing duvisor-vmm (pid %d), which was still "
		"starting when the previous daemon stopped", name, (int)pid);
	kill(pid, SIGKILL);
}

/* One status file; true when its VMM was taken over. */
static bool restore_one(const char *path)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) err = NULL;
	g_autoptr(duvisor_domain_def) def = NULL;
	g_autoptr(GPtrArray) nics = NULL;
	g_autofree char *xml = NULL, *pty = NULL;
	struct dv_domain *dom;
	bool created = false;
	gint64 pid;
	guint64 start_time;
	int id, state, reason;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err))
		goto bad;
	xml = g_key_file_get_string(kf, GROUP, "xml", &err);
	if (!xml)
		goto bad;
	def = duvisor_domain_def_parse(xml, 0, &err);
	if (!def)
		goto bad;
	pid = g_key_file_get_int64(kf, GROUP, "pid", &err);
	if (err)
		goto bad;
	start_time = g_key_file_get_uint64(kf, GROUP, "start_time", &err);
	if (err)
		goto bad;
	id = g_key_file_get_integer(kf, GROUP, "id", &err);
	if (err)
		goto bad;
	state = g_key_file_get_integer(kf, GROUP, "state", NULL);
	reason = g_key_file_get_integer(kf, GROUP, "reason", NULL);
	pty = g_key_file_get_string(kf, GROUP, "pty", NULL);
	if (pty && !*pty)
		g_clear_pointer(&pty, g_free);
	nics = dv_nics_load(kf);
	if (g_key_file_get_boolean(kf, GROUP, "starting", NULL)) {
		kill_unstarted((pid_t)pid, start_time, def->name);
		dv_nics_release(nics);
		return false;
	}
	if (pid <= 0 || id <= 0 || (state != VIR_DOMAIN_RUNNING &&
				    state != VIR_DOMAIN_PAUSED)) {
		g_set_error(&err, G_KEY_FILE_ERROR,
			    G_KEY_FILE_ERROR_INVALID_VALUE, "bad values");
		goto bad;
	}

	dom = dv_domain_find_by_uuid(def->uuid);
	if (dom && (strcmp(dv_domain_name(dom), def->name) != 0 ||
		    dv_domain_is_active(dom))) {
		DV_WARN("%s: domain '%s' clashes with '%s': not taken over",
			path, def->name, dv_domain_name(dom));
		return false;
	}
	if (!dom && dv_domain_find_by_name(def->name)) {
		DV_WARN("%s: the name '%s' is taken by another domain: not "
			"taken over", path, def->name);
		return false;
	}
	if (!dom) {
		/* Transient, or its configuration is gone. */
		dom = dv_domain_add(g_steal_pointer(&def), false);
		created = true;
	} else {
		/* It runs with @def; the configuration applies next time. */
		if (!duvisor_domain_def_equal(dom->def, def))
			dom->newdef = dom->def;
		else
			duvisor_domain_def_free(dom->def);
		dom->def = g_steal_pointer(&def);
		dom->persistent = true;
	}
	if (dv_domain_adopt(dom, id, (int64_t)pid, start_time, pty, state,
			    reason, g_steal_pointer(&nics)))
		return true;
	/* Gone meanwhile. */
	if (created) {
		dv_domain_remove(dom);
	} else if (dom->newdef) {
		duvisor_domain_def_free(dom->def);
		dom->def = g_steal_pointer(&dom->newdef);
	}
	return false;
bad:
	DV_WARN("ignoring %s: %s", path, err ? err->message : "unreadable");
	return false;
}

unsigned int dv_status_restore(void)
{
	g_autoptr(GDir) d = NULL;
	const char *file;
	unsigned int n = 0;

	if (!run_dir)
		return 0;
	dv_remove_stale_temp_files(run_dir);
	d = g_dir_open(run_dir, 0, NULL);
	while (d && (file = g_dir_read_name(d))) {
		g_autofree char *path = NULL;

		if (!g_str_has_suffix(file, SUFFIX))
			continue;
		path = g_build_filename(run_dir, file, NULL);
		if (restore_one(path)) {
			n++;
			continue;
		}
		g_unlink(path);
	}
	return n;
}
