// SPDX-License-Identifier: GPL-2.0-or-later
/* Log lines to stderr (see daemon_log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon_log.h"

static int log_level = DV_LOG_INFO;

static const char *const level_names[] = {
	[DV_LOG_ERROR] = "error",
	[DV_LOG_WARN] = "warning",
	[DV_LOG_INFO] = "info",
	[DV_LOG_DEBUG] = "debug",
};

void dv_log_set_level(int level)
{
	log_level = CLAMP(level, DV_LOG_ERROR, DV_LOG_DEBUG);
}

int dv_log_get_level(void)
{
	return log_level;
}

bool dv_log_parse_level(const char *s, int *level)
{
	for (int i = DV_LOG_ERROR; i <= DV_LOG_DEBUG; i++) {
		if (g_ascii_strcasecmp(s, level_names[i]) == 0 ||
		    (s[0] == '0' + i && s[1] == '\0')) {
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

void dv_log(int level, const char *fmt, ...)
{
	gint64 now = g_get_real_time();
	time_t secs = (time_t)(now / G_USEC_PER_SEC);
	char stamp[32] = "";
	struct tm tm;
	va_list ap;

	if (level > log_level)
		return;
	level = CLAMP(level, DV_LOG_ERROR, DV_LOG_DEBUG);
	if (localtime_r(&secs, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);

	g_autofree char *msg = NULL;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s.%03d virtduvisord %s: %s\n", stamp,
		(int)(now % G_USEC_PER_SEC / 1000), level_names[level], msg);
}
