// SPDX-License-Identifier: GPL-2.0-or-later
/* The daemon's messages (see daemon_log.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* The location is the caller's, passed in by the DV_* macros. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "daemon_log.h"

enum output_kind { OUT_JOURNAL, OUT_STDERR, OUT_FILE };

struct output {
	enum output_kind kind;
	int level;		/* the most verbose level it takes */
	char *path;		/* OUT_FILE */
	int fd;			/* OUT_FILE once opened, else -1 */
};

struct dv_log_outputs {
	GArray *list;		/* struct output */
};

static int log_level = DV_LOG_INFO;

/* Guards the outputs: worker threads log too. */
static GMutex lock;
static struct dv_log_outputs *current;	/* NULL: stderr */
static dv_log_uuid_fn uuid_lookup;
static GThread *lookup_thread;

static const char *const level_names[] = {
	[DV_LOG_ERROR] = "error",
	[DV_LOG_WARN] = "warning",
	[DV_LOG_INFO] = "info",
	[DV_LOG_DEBUG] = "debug",
};

static const int priorities[] = {
	[DV_LOG_ERROR] = LOG_ERR,
	[DV_LOG_WARN] = LOG_WARNING,
	[DV_LOG_INFO] = LOG_INFO,
	[DV_LOG_DEBUG] = LOG_DEBUG,
};

void dv_log_set_level(int level)
{
	g_atomic_int_set(&log_level, CLAMP(level, DV_LOG_ERROR, DV_LOG_DEBUG));
}

int dv_log_get_level(void)
{
	return g_atomic_int_get(&log_level);
}

const char *dv_log_level_name(int level)
{
	return level_names[CLAMP(level, DV_LOG_ERROR, DV_LOG_DEBUG)];
}

/* libvirt counts the other way round: 1 is debug, 4 error. */
static bool parse_number(const char *s, size_t len, int *level)
{
	if (len != 1 || s[0] < '1' || s[0] > '4')
		return false;
	*level = DV_LOG_DEBUG + 1 - (s[0] - '0');
	return true;
}

bool dv_log_parse_level(const char *s, int *level)
{
	if (parse_number(s, strlen(s), level))
		return true;
	for (int i = DV_LOG_ERROR; i <= DV_LOG_DEBUG; i++) {
		if (g_ascii_strcasecmp(s, level_names[i]) == 0) {
			*level = i;
			return true;
		}
	}
	if (g_ascii_strcasecmp(s, "warn") == 0) {
		*level = DV_LOG_WARN;
		return true;
	}
	return false;
}

/* ---- outputs ---------------------------------------------------------- */

static void output_clear(gpointer data)
{
	struct output *o = data;

	if (o->fd >= 0)
		close(o->fd);
	g_free(o->path);
}

static struct dv_log_outputs *outputs_new(void)
{
	struct dv_log_outputs *outs = g_new0(struct dv_log_outputs, 1);

	outs->list = g_array_new(FALSE, TRUE, sizeof(struct output));
	g_array_set_clear_func(outs->list, output_clear);
	return outs;
}

void dv_log_outputs_free(struct dv_log_outputs *outs)
{
	if (!outs)
		return;
	g_array_free(outs->list, TRUE);
	g_free(outs);
}

/* Whether stderr is the stream systemd connected to the journal. */
static bool stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return false;
	return fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

static bool parse_output(const char *tok, struct output *o, GError **error)
{
	const char *colon = strchr(tok, ':');

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->level = DV_LOG_DEBUG;
	if (colon && g_ascii_isdigit(tok[0])) {
		if (!parse_number(tok, colon - tok, &o->level)) {
			g_set_error(error, G_KEY_FILE_ERROR,
				    G_KEY_FILE_ERROR_INVALID_VALUE,
				    "log output \"%s\": the level must be 1 "
				    "(debug) to 4 (error)", tok);
			return false;
		}
		tok = colon + 1;
	}
	if (!strcmp(tok, "journald")) {
		o->kind = OUT_JOURNAL;
	} else if (!strcmp(tok, "stderr")) {
		o->kind = OUT_STDERR;
	} else if (g_str_has_prefix(tok, "file:") &&
		   g_path_is_absolute(tok + 5)) {
		o->kind = OUT_FILE;
		o->path = g_strdup(tok + 5);
	} else {
		g_set_error(error, G_KEY_FILE_ERROR,
			    G_KEY_FILE_ERROR_INVALID_VALUE,
			    "log output \"%s\": expected journald, stderr or "
			    "file:/ABSOLUTE/PATH", tok);
		return false;
	}
	return true;
}

struct dv_log_outputs *dv_log_outputs_parse(const char *spec,
					    GError **error)
{
	g_autoptr(dv_log_outputs) outs = outputs_new();
	g_auto(GStrv) toks = g_strsplit_set(spec ? spec : "", " \t", -1);
	struct output o;

	for (int i = 0; toks[i]; i++) {
		if (!*toks[i])
			continue;
		if (!parse_output(toks[i], &o, error))
			return NULL;
		g_array_append_val(outs->list, o);
	}
	if (outs->list->len == 0) {
		memset(&o, 0, sizeof(o));
		o.fd = -1;
		o.level = DV_LOG_DEBUG;
		o.kind = stderr_is_journal() ? OUT_JOURNAL : OUT_STDERR;
		g_array_append_val(outs->list, o);
	}
	return g_steal_pointer(&outs);
}

bool dv_log_outputs_open(struct dv_log_outputs *outs, GError **error)
{
	for (guint i = 0; i < outs->list->len; i++) {
		struct output *o = &g_array_index(outs->list, struct output, i);
		g_autofree char *dir = NULL;
		int err;

		if (o->kind != OUT_FILE || o->fd >= 0)
			continue;
		dir = g_path_get_dirname(o->path);
		if (g_mkdir_with_parents(dir, 0755) < 0 && errno != EEXIST)
			goto fail;
		o->fd = open(o->path, O_WRONLY | O_CREAT | O_APPEND |
				      O_CLOEXEC | O_NOCTTY, 0600);
		if (o->fd >= 0)
			continue;
fail:
		err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
			    "cannot open the log file %s: %s", o->path,
			    g_strerror(err));
		return false;
	}
	return true;
}

void dv_log_use_outputs(struct dv_log_outputs *outs)
{
	struct dv_log_outputs *old;

	g_mutex_lock(&lock);
	old = current;
	current = outs;
	g_mutex_unlock(&lock);
	dv_log_outputs_free(old);
}

char *dv_log_outputs_describe(const struct dv_log_outputs *outs)
{
	GString *s = g_string_new(NULL);
	static const char *const kinds[] = {
		[OUT_JOURNAL] = "journald",
		[OUT_STDERR] = "stderr",
		[OUT_FILE] = "file:",
	};

	for (guint i = 0; i < outs->list->len; i++) {
		const struct output *o =
			&g_array_index(outs->list, struct output, i);

		g_string_append_printf(s, "%s%s%s", i ? ", " : "",
				       kinds[o->kind], o->path ? o->path : "");
		if (o->level < DV_LOG_DEBUG)
			g_string_append_printf(s, " (%s and above)",
					       level_names[o->level]);
	}
	return g_string_free(s, FALSE);
}

void dv_log_set_uuid_lookup(dv_log_uuid_fn fn)
{
	g_mutex_lock(&lock);
	uuid_lookup = fn;
	lookup_thread = g_thread_self();
	g_mutex_unlock(&lock);
}

/* ---- writing ---------------------------------------------------------- */

struct message {
	int level;
	const char *file;
	int line;
	const char *func;
	const char *text;
	bool domain_done;	/* domain and uuid looked for */
	char *domain;		/* NULL: not about a domain */
	char uuid[37];		/* "" when unknown */
};

/*
 * The domain of a message "... domain 'NAME' ...".  A NAME with quotes
 * of its own is found by trying each closing quote against the known
 * domains; without a match, NAME ends at the first one.
 */
static void find_domain(struct message *m)
{
	const char *start = strstr(m->text, "domain '");
	const char *q;

	m->domain_done = true;
	if (!start)
		return;
	start += strlen("domain '");
	q = strchr(start, '\'');
	if (!q)
		return;
	if (uuid_lookup && g_thread_self() == lookup_thread) {
		for (const char *e = q; e; e = strchr(e + 1, '\'')) {
			g_autofree char *name = g_strndup(start, e - start);

			if (uuid_lookup(name, m->uuid)) {
				m->domain = g_steal_pointer(&name);
				return;
			}
		}
	}
	m->uuid[0] = '\0';
	m->domain = g_strndup(start, q - start);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void write_line(int fd, const struct message *m)
{
	gint64 now = g_get_real_time();
	time_t secs = (time_t)(now / G_USEC_PER_SEC);
	char stamp[32] = "";
	struct tm tm;
	g_autofree char *line = NULL;

	if (localtime_r(&secs, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	line = g_strdup_printf("%s.%03d virtduvisord %s: %s\n", stamp,
			       (int)(now % G_USEC_PER_SEC / 1000),
			       level_names[m->level], m->text);
	write_all(fd, line, strlen(line));
}

/* The socket of journald's native protocol. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static bool send_journal(struct message *m)
{
	char *fields[9];
	struct iovec iov[G_N_ELEMENTS(fields)];
	int n = 0, r;

	/* sd_journal_sendv() drops messages silently without a journal. */
	if (access(JOURNAL_SOCKET, W_OK) < 0)
		return false;
	if (!m->domain_done)
		find_domain(m);
	fields[n++] = g_strdup_printf("MESSAGE=%s", m->text);
	fields[n++] = g_strdup_printf("PRIORITY=%d", priorities[m->level]);
	fields[n++] = g_strdup("SYSLOG_IDENTIFIER=virtduvisord");
	fields[n++] = g_strdup_printf("CODE_FILE=%s", m->file);
	fields[n++] = g_strdup_printf("CODE_LINE=%d", m->line);
	fields[n++] = g_strdup_printf("CODE_FUNC=%s", m->func);
	if (m->domain)
		fields[n++] = g_strdup_printf("DUVISOR_DOMAIN=%s", m->domain);
	if (m->domain && m->uuid[0])
		fields[n++] = g_strdup_printf("DUVISOR_DOMAIN_UUID=%s",
					      m->uuid);
	for (int i = 0; i < n; i++) {
		iov[i].iov_base = fields[i];
		iov[i].iov_len = strlen(fields[i]);
	}
	r = sd_journal_sendv(iov, n);
	for (int i = 0; i < n; i++)
		g_free(fields[i]);
	return r >= 0;
}

static void emit(const struct output *o, struct message *m)
{
	switch (o->kind) {
	case OUT_JOURNAL:
		/* Without a journal, the message is not lost. */
		if (!send_journal(m))
			write_line(STDERR_FILENO, m);
		break;
	case OUT_STDERR:
		write_line(STDERR_FILENO, m);
		break;
	case OUT_FILE:
		write_line(o->fd >= 0 ? o->fd : STDERR_FILENO, m);
		break;
	}
}

void dv_log(int level, const char *file, int line, const char *func,
	    const char *fmt, ...)
{
	g_autofree char *text = NULL;
	struct message m = {
		.file = file,
		.line = line,
		.func = func,
	};
	int saved_errno = errno;	/* callers may still want it */
	va_list ap;

	if (level > dv_log_get_level())
		return;
	m.level = CLAMP(level, DV_LOG_ERROR, DV_LOG_DEBUG);
	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	m.text = text;

	g_mutex_lock(&lock);
	if (!current) {
		write_line(STDERR_FILENO, &m);
	} else {
		for (guint i = 0; i < current->list->len; i++) {
			const struct output *o = &g_array_index(
				current->list, struct output, i);

			if (m.level <= o->level)
				emit(o, &m);
		}
	}
	g_mutex_unlock(&lock);
	g_free(m.domain);
	errno = saved_errno;
}
