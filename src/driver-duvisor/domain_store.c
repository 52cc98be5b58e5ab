// SPDX-License-Identifier: GPL-2.0-or-later
/* Persistent domain definitions (see domain_store.h). */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_log.h"
#include "domain_store.h"

#define TEMP_MARK ".tmp-"	/* FILE.tmp-XXXXXX */
#define SUFFIX ".xml"

static char *config_dir;
static char *autostart_dir;

void dv_store_init(const char *dir)
{
	g_free(config_dir);
	g_free(autostart_dir);
	config_dir = g_strdup(dir);
	autostart_dir = g_build_filename(dir, "autostart", NULL);
}

void dv_store_shutdown(void)
{
	g_clear_pointer(&config_dir, g_free);
	g_clear_pointer(&autostart_dir, g_free);
}

static bool fail_errno(GError **error, int err, const char *what,
		       const char *path)
{
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		    "cannot %s '%s': %s", what, path, g_strerror(err));
	return false;
}

static bool make_dir(const char *dir, GError **error)
{
	if (g_mkdir_with_parents(dir, 0755) < 0)
		return fail_errno(error, errno, "create directory", dir);
	return true;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

bool dv_write_file_atomic(const char *path, const void *data, size_t len,
			  int mode, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *tmp = g_strconcat(path, TEMP_MARK "XXXXXX", NULL);
	const char *p = data;
	int fd;

	if (!make_dir(dir, error))
		return false;
	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, mode);
	if (fd < 0)
		return fail_errno(error, errno, "create", tmp);
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			close(fd);
			g_unlink(tmp);
			return fail_errno(error, err, "write", tmp);
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		int err = errno;

		close(fd);
		g_unlink(tmp);
		return fail_errno(error, err, "write", tmp);
	}
	if (close(fd) < 0) {
		int err = errno;

		g_unlink(tmp);
		return fail_errno(error, err, "write", tmp);
	}
	if (rename(tmp, path) < 0) {
		int err = errno;

		g_unlink(tmp);
		return fail_errno(error, err, "replace", path);
	}
	sync_dir(dir);
	return true;
}

void dv_remove_stale_temp_files(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		size_t len = strlen(name), mark = strlen(TEMP_MARK) + 6;
		g_autofree char *path = NULL;

		/* FILE.tmp-XXXXXX (never a NAME.xml or NAME.status). */
		if (len <= mark || strncmp(name + len - mark, TEMP_MARK,
					   strlen(TEMP_MARK)) != 0)
			continue;
		path = g_build_filename(dir, name, NULL);
		if (g_file_test(path, G_FILE_TEST_IS_REGULAR) &&
		    !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
			DV_INFO("removing the stale temporary file %s", path);
			g_unlink(path);
		}
	}
}

static char *config_path(const char *name)
{
	g_autofree char *file = g_strconcat(name, SUFFIX, NULL);

	return g_build_filename(config_dir, file, NULL);
}

static char *autostart_path(const char *name)
{
	g_autofree char *file = g_strconcat(name, SUFFIX, NULL);

	return g_build_filename(autostart_dir, file, NULL);
}

bool dv_store_save(const struct duvisor_domain_def *def, GError **error)
{
	g_autofree char *path = config_path(def->name);
	g_autofree char *xml = duvisor_domain_def_format(
		def, NULL, DUVISOR_FORMAT_SECURE | DUVISOR_FORMAT_INACTIVE);

	if (!xml) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
			    "cannot format the definition of '%s'", def->name);
		return false;
	}
	return dv_write_file_atomic(path, xml, strlen(xml), 0600, error);
}

static bool remove_file(const char *path, GError **error)
{
	if (g_unlink(path) < 0 && errno != ENOENT)
		return fail_errno(error, errno, "remove", path);
	return true;
}

bool dv_store_delete(const char *name, GError **error)
{
	g_autofree char *path = config_path(name);
	g_autofree char *link = autostart_path(name);

	if (!remove_file(link, error) || !remove_file(path, error))
		return false;
	sync_dir(config_dir);
	return true;
}

bool dv_store_set_autostart(const char *name, bool autostart,
			    GError **error)
{
	g_autofree char *path = config_path(name);
	g_autofree char *link = autostart_path(name);

	if (!autostart)
		return remove_file(link, error);
	if (dv_store_get_autostart(name))
		return true;
	if (!make_dir(autostart_dir, error))
		return false;
	if (symlink(path, link) < 0 && errno != EEXIST)
		return fail_errno(error, errno, "create", link);
	sync_dir(autostart_dir);
	return true;
}

bool dv_store_get_autostart(const char *name)
{
	g_autofree char *link = autostart_path(name);
	struct stat st;

	return lstat(link, &st) == 0;
}

static struct duvisor_domain_def *load_one(const char *dir, const char *file)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	g_autofree char *name = g_strndup(file, strlen(file) - strlen(SUFFIX));
	g_autofree char *xml = NULL;
	g_autoptr(GError) err = NULL;
	struct duvisor_domain_def *def;

	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
		return NULL;
	if (!g_file_get_contents(path, &xml, NULL, &err)) {
		DV_WARN("skipping %s: %s", path, err->message);
		return NULL;
	}
	def = duvisor_domain_def_parse(xml, 0, &err);
	if (!def) {
		DV_WARN("skipping %s: %s", path, err->message);
		return NULL;
	}
	if (strcmp(def->name, name) != 0) {
		DV_WARN("skipping %s: it defines the domain '%s'", path,
			def->name);
		duvisor_domain_def_free(def);
		return NULL;
	}
	return def;
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

unsigned int dv_store_load(dv_store_load_fn fn, void *opaque)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GDir) d = NULL;
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	unsigned int n = 0;
	const char *file;

	if (!g_file_test(config_dir, G_FILE_TEST_IS_DIR))
		return 0;
	dv_remove_stale_temp_files(config_dir);
	d = g_dir_open(config_dir, 0, &err);
	if (!d) {
		DV_WARN("cannot read %s: %s", config_dir, err->message);
		return 0;
	}
	while ((file = g_dir_read_name(d)))
		if (g_str_has_suffix(file, SUFFIX) &&
		    strlen(file) > strlen(SUFFIX))
			g_ptr_array_add(files, g_strdup(file));
	/* A stable order, so duplicate UUIDs always resolve the same way. */
	g_ptr_array_sort(files, compare_strings);
	for (guint i = 0; i < files->len; i++) {
		const char *f = g_ptr_array_index(files, i);
		struct duvisor_domain_def *def = load_one(config_dir, f);

		if (!def)
			continue;
		fn(def, dv_store_get_autostart(def->name), opaque);
		n++;
	}
	return n;
}
