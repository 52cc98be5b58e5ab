// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's messages.  They go to the outputs of log_outputs (libvirt's
 * syntax), by default to the journal when stderr is connected to it
 * (JOURNAL_STREAM, as under systemd), else to stderr as lines
 * "TIME virtduvisord LEVEL: message".
 *
 * The journal gets PRIORITY, the caller's CODE_FILE / CODE_LINE /
 * CODE_FUNC and, for a message about a domain (which names it "domain
 * 'NAME'", as every message of the daemon does), DUVISOR_DOMAIN=NAME and
 * DUVISOR_DOMAIN_UUID.  Safe to call from any thread.
 */
#ifndef DV_DAEMON_LOG_H
#define DV_DAEMON_LOG_H

#include <glib.h>
#include <stdbool.h>

enum dv_log_level {
	DV_LOG_ERROR = 1,
	DV_LOG_WARN,
	DV_LOG_INFO,
	DV_LOG_DEBUG,
};

void dv_log_set_level(int level);
int dv_log_get_level(void);
/* "error", "warning", "info", "debug", or libvirt's numbers: 1 debug,
 * 2 info, 3 warning, 4 error. */
bool dv_log_parse_level(const char *s, int *level);
const char *dv_log_level_name(int level);

/*
 * Outputs: "OUTPUT OUTPUT...", each "[LEVEL:]journald", "[LEVEL:]stderr"
 * or "[LEVEL:]file:PATH" (PATH absolute).  An output with a LEVEL takes
 * only the messages of that level and above.  NULL or "": the default
 * above.
 */
struct dv_log_outputs;
typedef struct dv_log_outputs dv_log_outputs;

/* Checks the syntax; nothing is opened. */
struct dv_log_outputs *dv_log_outputs_parse(const char *spec,
					    GError **error);
/* Opens the files (created 0600, appended to). */
bool dv_log_outputs_open(struct dv_log_outputs *outs, GError **error);
void dv_log_outputs_free(struct dv_log_outputs *outs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(dv_log_outputs, dv_log_outputs_free)
/* Messages go to @outs (taken) from now on; the previous ones are
 * closed. */
void dv_log_use_outputs(struct dv_log_outputs *outs);
/* "journald", "stderr, file:/var/log/x.log"...: for messages. */
char *dv_log_outputs_describe(const struct dv_log_outputs *outs);

/* Finds the UUID of the domain NAME for the journal's fields; called only
 * on the thread that sets it, the one owning the domains. */
typedef bool (*dv_log_uuid_fn)(const char *name, char uuid[37]);
void dv_log_set_uuid_lookup(dv_log_uuid_fn fn);

void dv_log(int level, const char *file, int line, const char *func,
	    const char *fmt, ...) G_GNUC_PRINTF(5, 6);

#define DV_LOG_AT(level, ...) \
	dv_log(level, __FILE__, __LINE__, G_STRFUNC, __VA_ARGS__)
#define DV_ERROR(...) DV_LOG_AT(DV_LOG_ERROR, __VA_ARGS__)
#define DV_WARN(...) DV_LOG_AT(DV_LOG_WARN, __VA_ARGS__)
#define DV_INFO(...) DV_LOG_AT(DV_LOG_INFO, __VA_ARGS__)
#define DV_DEBUG(...)                                       \
	do {                                                \
		if (dv_log_get_level() >= DV_LOG_DEBUG)     \
			DV_LOG_AT(DV_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
