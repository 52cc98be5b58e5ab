// SPDX-License-Identifier: GPL-2.0-or-later
/* virtduvisord's settings (see daemon_config.h). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_config.h"
#include "daemon_log.h"

#ifndef DUVISOR_VERSION
#define DUVISOR_VERSION "0.0.0"
#endif
#ifndef DUVISOR_VMM_PATH
#define DUVISOR_VMM_PATH "/usr/bin/duvisor-vmm"
#endif

#define SYSTEM_SOCK_DIR "/var/run/libvirt"
#define SYSTEM_CONFIG "/etc/libvirt/virtduvisord.conf"
#define SYSTEM_CONFIG_DIR "/etc/libvirt/duvisor"
#define SYSTEM_LOG_DIR "/var/log/libvirt/duvisor"

/* Settings whose defaults depend on others, resolved after parsing. */
struct parse_state {
	char *sock_dir;
	bool rw_set;
	bool ro_set;
	char why[256];		/* a reason apply() composed */
};

bool daemon_config_parse_version(const char *s, uint64_t *out)
{
	unsigned long long part[3] = { 0, 0, 0 };
	const char *p = s;
	int n = 0;

	while (n < 3) {
		char *end;

		if (!g_ascii_isdigit(*p))
			return false;
		part[n++] = g_ascii_strtoull(p, &end, 10);
		if (part[n - 1] > 999 && n > 1)
			return false;
		p = end;
		if (*p != '.')
			break;
		p++;
	}
	if (*p)
		return false;
	*out = part[0] * 1000000 + part[1] * 1000 + part[2];
	return true;
}

void daemon_config_defaults(struct daemon_config *cfg, bool session)
{
	g_autofree char *dir = session
		? g_build_filename(g_get_user_runtime_dir(), "libvirt", NULL)
		: g_strdup(SYSTEM_SOCK_DIR);

	memset(cfg, 0, sizeof(*cfg));
	cfg->session = session;
	cfg->rw_socket = g_build_filename(dir, DV_SOCK_NAME, NULL);
	cfg->ro_socket = session ? NULL
				 : g_build_filename(dir, DV_SOCK_RO_NAME, NULL);
	cfg->rw_perms = 0600;
	cfg->ro_perms = 0666;
	cfg->state_dir = g_build_filename(dir, "duvisor", NULL);
	cfg->config_dir = session
		? g_build_filename(g_get_user_config_dir(), "libvirt", "duvisor",
				   NULL)
		: g_strdup(SYSTEM_CONFIG_DIR);
	cfg->log_dir = session
		? g_build_filename(g_get_user_cache_dir(), "libvirt", "duvisor",
				   "log", NULL)
		: g_strdup(SYSTEM_LOG_DIR);
	cfg->vmm_path = g_strdup(DUVISOR_VMM_PATH);
	cfg->vmm_uid = (uid_t)-1;
	cfg->vmm_gid = (gid_t)-1;
	/* The package's unprivileged user for VMMs, when it exists. */
	if (!session) {
		struct passwd *pw = getpwnam(DEFAULT_VMM_USER);

		if (pw) {
			cfg->vmm_uid = pw->pw_uid;
			cfg->vmm_gid = pw->pw_gid;
		}
	}
	cfg->vmm_sandbox = true;
	cfg->log_level = DV_LOG_INFO;
	cfg->max_clients = 1024;
	cfg->max_client_requests = 16;
	if (!daemon_config_parse_version(DUVISOR_VERSION,
					 &cfg->hypervisor_version))
		cfg->hypervisor_version = 0;
	cfg->storage_uri = g_strdup(session ? "storage:///session"
					    : "storage:///system");
	cfg->network_uri = g_strdup(session ? "network:///session"
					    : "network:///system");
}

void daemon_config_clear(struct daemon_config *cfg)
{
	g_free(cfg->config_file);
	g_free(cfg->rw_socket);
	g_free(cfg->ro_socket);
	g_free(cfg->sock_group);
	g_free(cfg->state_dir);
	g_free(cfg->config_dir);
	g_free(cfg->log_dir);
	g_free(cfg->vmm_path);
	g_free(cfg->storage_uri);
	g_free(cfg->network_uri);
	g_free(cfg->log_outputs);
	memset(cfg, 0, sizeof(*cfg));
}

/* Keeps the string (and its address) when the value is the same. */
static void take_string(char **dst, const char *src)
{
	if (g_strcmp0(*dst, src) == 0)
		return;
	g_free(*dst);
	*dst = g_strdup(src);
}

char *daemon_config_apply_runtime(struct daemon_config *cfg,
				  const struct daemon_config *next)
{
	const struct {
		const char *key;
		bool differs;
	} fixed[] = {
		{ "unix_sock_rw_path",
		  g_strcmp0(cfg->rw_socket, next->rw_socket) != 0 },
		{ "unix_sock_ro_path",
		  g_strcmp0(cfg->ro_socket, next->ro_socket) != 0 },
		{ "unix_sock_group",
		  g_strcmp0(cfg->sock_group, next->sock_group) != 0 },
		{ "unix_sock_rw_perms", cfg->rw_perms != next->rw_perms },
		{ "unix_sock_ro_perms", cfg->ro_perms != next->ro_perms },
		{ "run_dir",
		  g_strcmp0(cfg->state_dir, next->state_dir) != 0 },
		{ "config_dir",
		  g_strcmp0(cfg->config_dir, next->config_dir) != 0 },
		{ "log_dir", g_strcmp0(cfg->log_dir, next->log_dir) != 0 },
		{ "storage_uri",
		  g_strcmp0(cfg->storage_uri, next->storage_uri) != 0 },
		{ "network_uri",
		  g_strcmp0(cfg->network_uri, next->network_uri) != 0 },
	};
	GString *names = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
		if (fixed[i].differs)
			g_string_append_printf(names, "%s%s",
					       names->len ? ", " : "",
					       fixed[i].key);
	take_string(&cfg->config_file, next->config_file);
	cfg->log_level = next->log_level;
	take_string(&cfg->log_outputs, next->log_outputs);
	cfg->max_clients = next->max_clients;
	cfg->max_client_requests = next->max_client_requests;
	take_string(&cfg->vmm_path, next->vmm_path);
	cfg->vmm_uid = next->vmm_uid;
	cfg->vmm_gid = next->vmm_gid;
	cfg->hypervisor_version = next->hypervisor_version;
	return g_string_free(names, FALSE);
}

static bool resolve_user(const char *s, uid_t *uid)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	struct passwd *pw;

	if (*s && !*end) {
		*uid = (uid_t)v;
		return true;
	}
	pw = getpwnam(s);
	if (!pw)
		return false;
	*uid = pw->pw_uid;
	return true;
}

static bool resolve_group(const char *s, gid_t *gid)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	struct group *gr;

	if (*s && !*end) {
		*gid = (gid_t)v;
		return true;
	}
	gr = getgrnam(s);
	if (!gr)
		return false;
	*gid = gr->gr_gid;
	return true;
}

struct value {
	bool is_string;
	char *s;		/* string, or the integer's text */
	long long n;
};

static void replace(char **dst, const char *s)
{
	g_free(*dst);
	*dst = *s ? g_strdup(s) : NULL;
}

/* Applies one setting; false with *why set when the value is wrong. */
static bool apply(struct daemon_config *cfg, struct parse_state *ps,
		  const char *key, const struct value *v, const char **why)
{
	const char *s = v->s;

	if (!strcmp(key, "unix_sock_dir")) {
		replace(&ps->sock_dir, s);
	} else if (!strcmp(key, "unix_sock_rw_path")) {
		if (!*s)
			return (*why = "must not be empty"), false;
		replace(&cfg->rw_socket, s);
		ps->rw_set = true;
	} else if (!strcmp(key, "unix_sock_ro_path")) {
		replace(&cfg->ro_socket, s);
		ps->ro_set = true;
	} else if (!strcmp(key, "unix_sock_group")) {
		gid_t gid;

		if (*s && !resolve_group(s, &gid))
			return (*why = "unknown group"), false;
		replace(&cfg->sock_group, s);
	} else if (!strcmp(key, "unix_sock_rw_perms") ||
		   !strcmp(key, "unix_sock_ro_perms")) {
		char *end;
		unsigned long mode = strtoul(s, &end, 8);

		if (!*s || *end || mode > 07777)
			return (*why = "must be an octal mode"), false;
		if (!strcmp(key, "unix_sock_rw_perms"))
			cfg->rw_perms = (unsigned int)mode;
		else
			cfg->ro_perms = (unsigned int)mode;
	} else if (!strcmp(key, "state_dir") || !strcmp(key, "run_dir")) {
		if (!*s)
			return (*why = "must not be empty"), false;
		replace(&cfg->state_dir, s);
	} else if (!strcmp(key, "config_dir")) {
		if (!*s)
			return (*why = "must not be empty"), false;
		replace(&cfg->config_dir, s);
	} else if (!strcmp(key, "log_dir")) {
		if (!*s)
			return (*why = "must not be empty"), false;
		replace(&cfg->log_dir, s);
	} else if (!strcmp(key, "vmm_path")) {
		if (!*s)
			return (*why = "must not be empty"), false;
		replace(&cfg->vmm_path, s);
	} else if (!strcmp(key, "vmm_user")) {
		if (!resolve_user(s, &cfg->vmm_uid))
			return (*why = "unknown user"), false;
	} else if (!strcmp(key, "vmm_group")) {
		if (!resolve_group(s, &cfg->vmm_gid))
			return (*why = "unknown group"), false;
	} else if (!strcmp(key, "vmm_sandbox")) {
		if (v->is_string || (v->n != 0 && v->n != 1))
			return (*why = "must be 0 or 1"), false;
		cfg->vmm_sandbox = v->n == 1;
	} else if (!strcmp(key, "log_level")) {
		if (!dv_log_parse_level(s, &cfg->log_level))
			return (*why = "unknown log level"), false;
	} else if (!strcmp(key, "log_outputs")) {
		g_autoptr(dv_log_outputs) outs = NULL;
		g_autoptr(GError) err = NULL;

		outs = dv_log_outputs_parse(s, &err);
		if (!outs) {
			g_strlcpy(ps->why, err->message, sizeof(ps->why));
			return (*why = ps->why), false;
		}
		replace(&cfg->log_outputs, s);
	} else if (!strcmp(key, "max_clients") ||
		   !strcmp(key, "max_client_requests")) {
		if (v->is_string || v->n < 1 || v->n > 1000000)
			return (*why = "must be a number from 1 to 1000000"), false;
		if (!strcmp(key, "max_clients"))
			cfg->max_clients = (unsigned int)v->n;
		else
			cfg->max_client_requests = (unsigned int)v->n;
	} else if (!strcmp(key, "hypervisor_version")) {
		if (!daemon_config_parse_version(s, &cfg->hypervisor_version))
			return (*why = "must look like 1.2.3"), false;
	} else if (!strcmp(key, "storage_uri")) {
		replace(&cfg->storage_uri, s);
	} else if (!strcmp(key, "network_uri")) {
		replace(&cfg->network_uri, s);
	} else {
		DV_WARN("ignoring the unknown setting %s", key);
	}
	return true;
}

/* Parses "value [# comment]"; false on syntax errors. */
static bool parse_value(const char *p, struct value *v)
{
	GString *str = g_string_new(NULL);
	char *end;

	memset(v, 0, sizeof(*v));
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			g_string_append_c(str, *p);
		}
		if (*p != '"')
			goto bad;
		p++;
		v->is_string = true;
	} else {
		errno = 0;
		v->n = strtoll(p, &end, 10);
		if (end == p || errno)
			goto bad;
		g_string_append_len(str, p, end - p);
		p = end;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (*p && *p != '#')
		goto bad;
	v->s = g_string_free(str, FALSE);
	return true;
bad:
	g_string_free(str, TRUE);
	return false;
}

static bool parse_lines(struct daemon_config *cfg, struct parse_state *ps,
			const char *text, const char *origin, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (int i = 0; lines[i]; i++) {
		char *p = g_strstrip(lines[i]);
		g_autofree char *key = NULL;
		const char *why = NULL;
		struct value v;
		size_t klen;
		bool ok;

		if (!*p || *p == '#')
			continue;
		klen = strspn(p, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
		key = g_strndup(p, klen);
		p += klen;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!klen || *p != '=') {
			g_set_error(error, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_PARSE,
				    "%s:%d: expected \"key = value\"", origin,
				    i + 1);
			return false;
		}
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		if (!parse_value(p, &v)) {
			g_set_error(error, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_INVALID_VALUE,
				    "%s:%d: %s: expected a \"string\" or a "
				    "number", origin, i + 1, key);
			return false;
		}
		ok = apply(cfg, ps, key, &v, &why);
		g_free(v.s);
		if (!ok) {
			g_set_error(error, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_INVALID_VALUE,
				    "%s:%d: %s: %s", origin, i + 1, key, why);
			return false;
		}
	}
	return true;
}

static void finish_parse(struct daemon_config *cfg, struct parse_state *ps)
{
	if (ps->sock_dir && !ps->rw_set) {
		g_free(cfg->rw_socket);
		cfg->rw_socket = g_build_filename(ps->sock_dir, DV_SOCK_NAME,
						  NULL);
	}
	if (ps->sock_dir && !ps->ro_set && !cfg->session) {
		g_free(cfg->ro_socket);
		cfg->ro_socket = g_build_filename(ps->sock_dir, DV_SOCK_RO_NAME,
						  NULL);
	}
	g_clear_pointer(&ps->sock_dir, g_free);
}

bool daemon_config_parse(struct daemon_config *cfg, const char *text,
			 const char *origin, GError **error)
{
	struct parse_state ps = { 0 };
	bool ok = parse_lines(cfg, &ps, text, origin, error);

	finish_parse(cfg, &ps);
	return ok;
}

static char *default_config_file(bool session)
{
	if (!session)
		return g_strdup(SYSTEM_CONFIG);
	return g_build_filename(g_get_user_config_dir(), "libvirt",
				"virtduvisord.conf", NULL);
}

bool daemon_config_load(struct daemon_config *cfg, int *argc, char ***argv,
			GError **error)
{
	g_autofree char *opt_socket = NULL, *opt_ro_socket = NULL;
	g_autofree char *opt_config = NULL, *opt_state = NULL, *opt_vmm = NULL;
	g_autofree char *opt_config_dir = NULL, *opt_log_dir = NULL;
	gint opt_timeout = 0;
	gboolean opt_verbose = FALSE, opt_version = FALSE;
	gboolean opt_session = FALSE, opt_system = FALSE;
	GOptionEntry entries[] = {
		{ "socket", 0, 0, G_OPTION_ARG_FILENAME, &opt_socket,
		  "Read-write socket", "PATH" },
		{ "ro-socket", 0, 0, G_OPTION_ARG_FILENAME, &opt_ro_socket,
		  "Read-only socket (\"\": none)", "PATH" },
		{ "config", 'f', 0, G_OPTION_ARG_FILENAME, &opt_config,
		  "Configuration file", "FILE" },
		{ "timeout", 't', 0, G_OPTION_ARG_INT, &opt_timeout,
		  "Exit after SECS without clients or running domains",
		  "SECS" },
		{ "session", 0, 0, G_OPTION_ARG_NONE, &opt_session,
		  "Serve duvisor:///session (default when not root)", NULL },
		{ "system", 0, 0, G_OPTION_ARG_NONE, &opt_system,
		  "Serve duvisor:///system (default as root)", NULL },
		{ "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_state,
		  "Directory for runtime state", "DIR" },
		{ "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_config_dir,
		  "Directory of persistent domain definitions", "DIR" },
		{ "log-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_log_dir,
		  "Directory of the domains' logs", "DIR" },
		{ "vmm", 0, 0, G_OPTION_ARG_FILENAME, &opt_vmm,
		  "duvisor-vmm binary", "PATH" },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
		  "Log debug messages", NULL },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version,
		  "Print the version and exit", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("- DuVisor's libvirt daemon");
	g_autofree char *file = NULL;
	g_autofree char *text = NULL;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_description(ctx,
		"Clients connect with: virsh -c duvisor:///system\n"
		"(or duvisor:///system?socket=PATH for a private socket).");
	if (!g_option_context_parse(ctx, argc, argv, error))
		return false;
	if (*argc > 1) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
			    "unexpected argument: %s", (*argv)[1]);
		return false;
	}
	if (opt_timeout < 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--timeout must not be negative");
		return false;
	}
	daemon_config_defaults(cfg, opt_session ||
				    (!opt_system && geteuid() != 0));
	cfg->show_version = opt_version;
	if (opt_version)
		return true;

	file = opt_config ? g_strdup(opt_config)
			  : default_config_file(cfg->session);
	if (opt_config || g_file_test(file, G_FILE_TEST_EXISTS)) {
		if (!g_file_get_contents(file, &text, NULL, error) ||
		    !daemon_config_parse(cfg, text, file, error))
			return false;
		cfg->config_file = g_steal_pointer(&file);
	}

	if (opt_socket)
		replace(&cfg->rw_socket, opt_socket);
	if (opt_ro_socket)
		replace(&cfg->ro_socket, opt_ro_socket);
	if (opt_state)
		replace(&cfg->state_dir, opt_state);
	if (opt_vmm)
		replace(&cfg->vmm_path, opt_vmm);
	if (opt_config_dir)
		replace(&cfg->config_dir, opt_config_dir);
	if (opt_log_dir)
		replace(&cfg->log_dir, opt_log_dir);
	if (!cfg->rw_socket || !cfg->state_dir || !cfg->vmm_path ||
	    !cfg->config_dir || !cfg->log_dir) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "empty --socket, --state-dir, --config-dir, "
			    "--log-dir or --vmm");
		return false;
	}
	cfg->timeout = (unsigned int)opt_timeout;
	if (opt_verbose)
		cfg->log_level = DV_LOG_DEBUG;
	return true;
}
