/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VMM's main thread waits here: console input, signals and requests
 * from vCPU threads (through a wake-up eventfd).
 */
#ifndef DUVISOR_EVENT_LOOP_H
#define DUVISOR_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*event_cb)(void *opaque, uint32_t events);

struct event_loop;

struct event_loop *event_loop_new(void);
void event_loop_free(struct event_loop *loop);

/* Watches fd for events (EPOLLIN...); returns 0 or -errno. */
int event_loop_add(struct event_loop *loop, int fd, uint32_t events,
		   event_cb cb, void *opaque);
int event_loop_modify(struct event_loop *loop, int fd, uint32_t events);
void event_loop_remove(struct event_loop *loop, int fd);

/* Makes the current or next event_loop_run_once return; any thread. */
void event_loop_wake(struct event_loop *loop);

/* Waits up to timeout_ms (-1: forever) and dispatches what is ready. */
int event_loop_run_once(struct event_loop *loop, int timeout_ms);

#endif
