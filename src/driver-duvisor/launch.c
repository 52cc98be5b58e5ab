// SPDX-License-Identifier: GPL-2.0-or-later
/* What a duvisor-vmm starts with (see launch.h). */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "domain_net.h"
#include "launch.h"
#include "process.h"
#include "unix_address.h"

static bool open_error(GError **error, const char *what, const char *path)
{
	int err = errno;

	return dv_fail(error, VIR_ERR_OPERATION_FAILED, "cannot open %s '%s': %s",
		    what, path, g_strerror(err));
}

/* The master of a new pty; *path gets its slave (for console clients). */
static int open_pty(char **path, GError **error)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	const char *name;

	if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0 ||
	    !(name = ptsname(fd))) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		dv_fail(error, VIR_ERR_OPERATION_FAILED,
		     "cannot allocate a pseudo-terminal: %s", g_strerror(err));
		return -1;
	}
	*path = g_strdup(name);
	return fd;
}

/* A stale socket would make bind() fail; anything else at @path stays. */
static void remove_stale_socket(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
}

static int listen_unix(const char *path, int type, GError **error)
{
	struct dv_unix_address a;
	g_autoptr(GError) err = NULL;
	int fd;

	if (!dv_unix_address_init(&a, path, &err)) {
		dv_fail(error, VIR_ERR_OPERATION_FAILED, "%s", err->message);
		return -1;
	}
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		open_error(error, "a socket for", path);
		dv_unix_address_clear(&a);
		return -1;
	}
	remove_stale_socket(path);
	if (bind(fd, (struct sockaddr *)&a.addr, sizeof(a.addr)) < 0 ||
	    listen(fd, 8) < 0) {
		int e = errno;

		close(fd);
		fd = -1;
		dv_fail(error, VIR_ERR_OPERATION_FAILED,
		     "cannot listen on '%s': %s", path, g_strerror(e));
	}
	dv_unix_address_clear(&a);
	return fd;
}

/* Files, block devices (disks) and character devices (/dev/kvm,
 * /dev/null as a log): nothing that could block or is not data.  (Taps
 * come from domain_net.c.) */
static bool usable_file(int fd, const struct duvisor_vmm_file *f,
			GError **error)
{
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0 ||
	    (fl = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return open_error(error, f->what, f->path);
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode))
		return true;
	return dv_fail(error, VIR_ERR_OPERATION_FAILED,
		    "cannot use %s '%s': not a file or device", f->what,
		    f->path);
}

/* The domain a launch is for. */
struct owner {
	const char *name;
	const uint8_t *uuid;
	const struct duvisor_domain_def *def;
};

static int open_file(dv_launch *l, const struct duvisor_vmm_file *f,
		     const struct owner *o, GError **error)
{
	int fd;

	switch (f->kind) {
	case DUVISOR_VMM_FILE_PTY:
		g_free(l->pty);
		return open_pty(&l->pty, error);
	case DUVISOR_VMM_FILE_UNIX_LISTEN:
		return listen_unix(f->path, SOCK_STREAM, error);
	case DUVISOR_VMM_FILE_TAP:
		return dv_nics_open(l->nics, o->def, f->net, o->name, o->uuid,
				    error);
	case DUVISOR_VMM_FILE_OPEN:
		break;
	}
	/* O_NONBLOCK: a FIFO named in the XML must not hang the daemon. */
	fd = open(f->path, f->open_flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		  0600);
	if (fd < 0) {
		open_error(error, f->what, f->path);
		return -1;
	}
	if (!usable_file(fd, f, error)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void pass(dv_launch *l, int fd, int target)
{
	g_array_append_val(l->fds, fd);
	g_array_append_val(l->targets, target);
}

/* Passes @fd as the next number after the files of the plan. */
static int pass_next(dv_launch *l, int fd)
{
	int target = 3;

	for (guint i = 0; i < l->targets->len; i++)
		target = MAX(target, g_array_index(l->targets, int, i) + 1);
	pass(l, fd, target);
	return target;
}

/* Appends an option and its value (taken) before argv's NULL. */
static void add_arg(GPtrArray *argv, const char *opt, char *value)
{
	g_ptr_array_insert(argv, (gint)argv->len - 1, g_strdup(opt));
	if (value)
		g_ptr_array_insert(argv, (gint)argv->len - 1, value);
}

/* Console output is kept per domain even when nobody is attached, unless
 * the XML names its own <log file=...>. */
static bool add_console_log(dv_launch *l, const char *name,
			    const struct duvisor_domain_def *def,
			    const struct daemon_config *cfg, GError **error)
{
	g_autofree char *file = NULL, *path = NULL;
	int fd;

	if (!def->serials->len || duvisor_def_serial(def, 0)->log_file)
		return true;
	file = g_strconcat(name, ".console.log", NULL);
	path = g_build_filename(cfg->log_dir, file, NULL);
	if (g_mkdir_with_parents(cfg->log_dir, 0755) < 0)
		return open_error(error, "the log directory", cfg->log_dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
		  0600);
	if (fd < 0)
		return open_error(error, "the console log", path);
	add_arg(l->argv, "--console-log",
		g_strdup_printf("fd:%d", pass_next(l, fd)));
	return true;
}

/* The control socket is in a directory only root may enter: whoever can
 * connect controls the VM. */
static bool add_control(dv_launch *l, const uint8_t uuid[16],
			const struct daemon_config *cfg, GError **error)
{
	g_autofree char *dir = g_build_filename(cfg->state_dir, "control",
						NULL);
	int fd;

	if (g_mkdir_with_parents(dir, 0700) < 0 || chmod(dir, 0700) < 0)
		return open_error(error, "the control directory", dir);
	l->control_path = dv_launch_control_path(cfg, uuid);
	fd = listen_unix(l->control_path, SOCK_SEQPACKET, error);
	if (fd < 0)
		return false;
	add_arg(l->argv, "--control-fd",
		g_strdup_printf("%d", pass_next(l, fd)));
	return true;
}

/*
 * A <vsock> with a fixed cid (docs/vsock.md): host clients connect to
 * v.sock in a directory of the domain's own and ask for a guest port;
 * the guest's connections to the host's port P go to v.sock_P there,
 * where host services listen. The VMM gets the listener and the
 * directory, which it reaches through its descriptor only (it may not
 * open paths, nor enter the state directory).
 */
static bool add_vsock(dv_launch *l, const uint8_t uuid[16],
		      const struct duvisor_domain_def *def,
		      const struct daemon_config *cfg, GError **error)
{
	g_autofree char *dir = NULL, *path = NULL;
	int lfd, dfd;

	if (!def->has_vsock || def->vsock_auto)
		return true;
	dir = dv_launch_vsock_dir(cfg, uuid);
	/* Anyone may pass (services must let the VMM's user connect to
	 * their sockets); nobody but root may list or create. */
	if (g_mkdir_with_parents(dir, 0711) < 0 || chmod(dir, 0711) < 0)
		return open_error(error, "the vsock directory", dir);
	path = g_build_filename(dir, "v.sock", NULL);
	lfd = listen_unix(path, SOCK_STREAM, error);
	if (lfd < 0)
		return false;
	lfd = pass_next(l, lfd);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return open_error(error, "the vsock directory", dir);
	add_arg(l->argv, "--vsock",
		g_strdup_printf("cid=%u,uds-fd=%d,dir-fd=%d,uds=v.sock",
				def->vsock_cid, lfd, pass_next(l, dfd)));
	return true;
}

static bool add_gate(dv_launch *l, GError **error)
{
	int fds[2];

	if (!g_unix_open_pipe(fds, FD_CLOEXEC, error))
		return false;
	l->gate_fd = fds[1];
	add_arg(l->argv, "--wait-fd",
		g_strdup_printf("%d", pass_next(l, fds[0])));
	return true;
}

bool dv_launch_prepare(dv_launch *l, const char *name, const uint8_t uuid[16],
		       const struct duvisor_domain_def *def,
		       const struct daemon_config *cfg, GPtrArray *warnings,
		       GError **error)
{
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(
		(GDestroyNotify)duvisor_vmm_file_free);
	const struct owner o = { name, uuid, def };

	memset(l, 0, sizeof(*l));
	l->gate_fd = -1;
	l->fds = g_array_new(FALSE, FALSE, sizeof(int));
	l->targets = g_array_new(FALSE, FALSE, sizeof(int));
	l->nics = dv_nics_new();
	l->argv = duvisor_domain_def_vmm_args(def, cfg->vmm_path, 0, files,
					      warnings, error);
	if (!l->argv)
		return false;
	for (guint i = 0; i < files->len; i++) {
		const struct duvisor_vmm_file *f = g_ptr_array_index(files, i);
		int fd = open_file(l, f, &o, error);

		if (fd < 0)
			return false;
		pass(l, fd, f->target_fd);
	}
	if (cfg->vmm_sandbox)
		add_arg(l->argv, "--sandbox", g_strdup("on"));
	return add_console_log(l, name, def, cfg, error) &&
	       add_control(l, uuid, cfg, error) &&
	       add_vsock(l, uuid, def, cfg, error) && add_gate(l, error);
}

void dv_launch_log(const dv_launch *l, const char *log_path)
{
	g_autoptr(GString) cmdline = g_string_new(NULL);

	for (guint i = 0; i + 1 < l->argv->len; i++) {
		g_autofree char *q = g_shell_quote(
			g_ptr_array_index(l->argv, i));

		g_string_append_printf(cmdline, "%s%s", i ? " " : "", q);
	}
	dv_log_append(log_path, "starting up: %s", cmdline->str);
	if (l->pty)
		dv_log_append(log_path, "serial console on %s", l->pty);
	for (guint i = 0; i < l->nics->len; i++) {
		const struct dv_nic *n = g_ptr_array_index(l->nics, i);

		if (n && n->portid)
			dv_log_append(log_path, "interface %u: tap %s on bridge "
				      "%s, port %s of network '%s'", i, n->tap,
				      n->bridge, n->portid, n->network);
		else if (n)
			dv_log_append(log_path, "interface %u: tap %s%s%s", i,
				      n->tap, n->bridge ? " on bridge " : "",
				      n->bridge ? n->bridge : "");
	}
}

void dv_launch_clear(dv_launch *l)
{
	/* Closing our copies of the taps removes those of a launch that
	 * failed; their network ports go too.  After a start the VMM holds
	 * the taps, and the domain took the list. */
	if (l->fds) {
		for (guint i = 0; i < l->fds->len; i++)
			close(g_array_index(l->fds, int, i));
		g_array_unref(l->fds);
	}
	if (l->nics) {
		dv_nics_release(l->nics);
		g_ptr_array_unref(l->nics);
	}
	if (l->targets)
		g_array_unref(l->targets);
	if (l->argv)
		g_ptr_array_unref(l->argv);
	if (l->gate_fd >= 0)
		close(l->gate_fd);
	g_free(l->pty);
	g_free(l->control_path);
	memset(l, 0, sizeof(*l));
	l->gate_fd = -1;
}

char *dv_launch_control_path(const struct daemon_config *cfg,
			     const uint8_t uuid[16])
{
	char id[37], file[48];

	duvisor_uuid_format(uuid, id);
	g_snprintf(file, sizeof(file), "%s.sock", id);
	return g_build_filename(cfg->state_dir, "control", file, NULL);
}

char *dv_launch_vsock_dir(const struct daemon_config *cfg,
			  const uint8_t uuid[16])
{
	char id[37];

	duvisor_uuid_format(uuid, id);
	return g_build_filename(cfg->state_dir, "vsock", id, NULL);
}

void dv_launch_cleanup(const struct daemon_config *cfg, const uint8_t uuid[16],
		       const struct duvisor_domain_def *def)
{
	g_autofree char *control = dv_launch_control_path(cfg, uuid);

	remove_stale_socket(control);
	if (def->has_vsock) {
		g_autofree char *dir = dv_launch_vsock_dir(cfg, uuid);
		g_autofree char *path = g_build_filename(dir, "v.sock", NULL);

		remove_stale_socket(path);
		/* Kept while host services still listen in it. */
		g_rmdir(dir);
	}
	if (def->serials->len) {
		const struct duvisor_chr_def *c = duvisor_def_serial(def, 0);

		if (c->type == DUVISOR_CHR_UNIX && !c->unix_connect && c->path)
			remove_stale_socket(c->path);
	}
}
