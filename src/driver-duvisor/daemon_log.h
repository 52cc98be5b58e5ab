// SPDX-License-Identifier: GPL-2.0-or-later
/* Log lines to stderr: "TIME LEVEL message". */
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
/* "error", "warning", "info", "debug" or 1..4. */
bool dv_log_parse_level(const char *s, int *level);
void dv_log(int level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define DV_ERROR(...) dv_log(DV_LOG_ERROR, __VA_ARGS__)
#define DV_WARN(...) dv_log(DV_LOG_WARN, __VA_ARGS__)
#define DV_INFO(...) dv_log(DV_LOG_INFO, __VA_ARGS__)
#define DV_DEBUG(...)                                     \
	do {                                              \
		if (dv_log_get_level() >= DV_LOG_DEBUG)   \
			dv_log(DV_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#endif
