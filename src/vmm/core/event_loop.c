// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/event_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/util.h"

#define MAX_WATCHES 32

struct watch {
	int fd;
	event_cb cb;
	void *opaque;
};

struct event_loop {
	int epfd;
	int wake_fd;
	struct watch watches[MAX_WATCHES];
};

static void drain_wake(void *opaque, uint32_t events)
{
	struct event_loop *loop = opaque;
	uint64_t v;

	(void)events;
	while (read(loop->wake_fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
}

struct event_loop *event_loop_new(void)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	for (size_t i = 0; i < MAX_WATCHES; i++)
		loop->watches[i].fd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || loop->wake_fd < 0 ||
	    event_loop_add(loop, loop->wake_fd, EPOLLIN, drain_wake, loop)) {
		event_loop_free(loop);
		return NULL;
	}
	return loop;
}

void event_loop_free(struct event_loop *loop)
{
	if (!loop)
		return;
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->wake_fd >= 0)
		close(loop->wake_fd);
	free(loop);
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events,
		   event_cb cb, void *opaque)
{
	struct epoll_event ev = { .events = events };

	for (size_t i = 0; i < MAX_WATCHES; i++) {
		struct watch *w = &loop->watches[i];

		if (w->fd >= 0)
			continue;
		ev.data.ptr = w;
		if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
		*w = (struct watch){ .fd = fd, .cb = cb, .opaque = opaque };
		return 0;
	}
	return -ENOSPC;
}

static struct watch *find_watch(struct event_loop *loop, int fd)
{
	for (size_t i = 0; i < MAX_WATCHES; i++)
		if (loop->watches[i].fd == fd)
			return &loop->watches[i];
	return NULL;
}

int event_loop_modify(struct event_loop *loop, int fd, uint32_t events)
{
	struct watch *w = find_watch(loop, fd);
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (!w)
		return -ENOENT;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void event_loop_remove(struct event_loop *loop, int fd)
{
	struct watch *w = find_watch(loop, fd);

	if (!w)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->fd = -1;
}

void event_loop_wake(struct event_loop *loop)
{
	uint64_t one = 1;

	(void)write_full(loop->wake_fd, &one, sizeof(one));
}

int event_loop_run_once(struct event_loop *loop, int timeout_ms)
{
	struct epoll_event evs[MAX_WATCHES];
	int n = epoll_wait(loop->epfd, evs, MAX_WATCHES, timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;

		/* A callback may have removed a later watch. */
		if (w->fd >= 0)
			w->cb(w->opaque, evs[i].events);
	}
	return n;
}
