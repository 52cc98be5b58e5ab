/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DUVISOR_UTIL_H
#define DUVISOR_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

#define KIB(x) ((uint64_t)(x) << 10)
#define MIB(x) ((uint64_t)(x) << 20)
#define GIB(x) ((uint64_t)(x) << 30)

/*
 * Diagnostics go to stderr, prefixed with the program name, one line each:
 * managers and tests read them.
 */
void vmm_log_set_verbose(bool verbose);
void vmm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vmm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vmm_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vmm_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * pthread_create() with the VMM's stack size: 1 MiB, not glibc's 8 MiB.
 * Where the host's transparent huge pages are "always", an 8 MiB stack can
 * be backed by a 2 MiB huge page for the few KiB a thread uses (seen: it
 * doubled the VMM's own memory); a 1 MiB stack never holds one.  Returns 0
 * or an error number, like pthread_create().
 */
int vmm_thread_create(pthread_t *thread, void *(*fn)(void *), void *arg);

/* write() that retries on EINTR and short writes; returns 0 or -errno. */
int write_full(int fd, const void *buf, size_t len);

/* Parses sizes such as "512M", "2G", "64K"; a bare number means MiB when
 * bare_is_mib, else bytes. */
int parse_size(const char *s, bool bare_is_mib, uint64_t *out);
int parse_uint(const char *s, uint64_t max, uint64_t *out);

static inline uint64_t now_ns_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
