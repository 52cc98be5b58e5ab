// SPDX-License-Identifier: GPL-2.0-or-later
/* The unix sockets behind virtio-vsock (see vsock_host.h). */
#include "virtio/vsock_host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "core/util.h"

/*
 * Every address goes through the directory's descriptor: it stays valid
 * after the VMM dropped its ids or entered the sandbox (no open(), and
 * /proc/self/fd/N/ skips the permission checks of the path above it), and
 * the directory's own path may be longer than a sockaddr_un takes.
 */
static int address(const struct vsock_host *h, const char *suffix,
		   struct sockaddr_un *a)
{
	int n;

	*a = (struct sockaddr_un){ .sun_family = AF_UNIX };
	n = snprintf(a->sun_path, sizeof(a->sun_path), "/proc/self/fd/%d/%s%s",
		     h->dir_fd, h->name, suffix);
	return n < 0 || (size_t)n >= sizeof(a->sun_path) ? -ENAMETOOLONG : 0;
}

static int open_dir(const struct vmm_vsock_config *cfg, struct vsock_host *h)
{
	const char *slash = strrchr(cfg->uds, '/');
	const char *base = slash ? slash + 1 : cfg->uds;
	size_t len = strlen(base);
	char *dir;
	struct stat st;

	/* parse_vsock_option() checked it is a short name. */
	if (!len || len >= sizeof(h->name))
		return -ENAMETOOLONG;
	memcpy(h->name, base, len + 1);
	if (cfg->dir_fd >= 0) {
		if (fstat(cfg->dir_fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
			vmm_error("--vsock dir-fd=%d: not a directory",
				  cfg->dir_fd);
			return -ENOTDIR;
		}
		h->dir_fd = cfg->dir_fd;
		return 0;
	}
	dir = slash ? strndup(cfg->uds, (size_t)(slash - cfg->uds)) :
		      strdup(".");
	if (!dir)
		return -ENOMEM;
	h->dir_fd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (h->dir_fd < 0) {
		int r = -errno;

		vmm_error("cannot open the directory of vsock socket %s: %s",
			  cfg->uds, strerror(errno));
		free(dir);
		return r;
	}
	free(dir);
	return 0;
}

static int bind_listener(const struct vmm_vsock_config *cfg,
			 struct vsock_host *h)
{
	struct sockaddr_un a;
	struct stat st;
	int r = address(h, "", &a);

	if (r < 0)
		return r;
	h->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
			      SOCK_CLOEXEC, 0);
	if (h->listen_fd < 0) {
		r = -errno;
		vmm_error("cannot create the vsock socket %s: %s", cfg->uds,
			  strerror(errno));
		return r;
	}
	/* A stale socket of a VMM that died would make bind fail. */
	if (fstatat(h->dir_fd, h->name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISSOCK(st.st_mode))
		unlinkat(h->dir_fd, h->name, 0);
	if (bind(h->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(h->listen_fd, 64) < 0) {
		r = -errno;
		vmm_error("cannot listen on %s: %s", cfg->uds, strerror(errno));
		return r;
	}
	h->bound_path = strdup(cfg->uds);
	return h->bound_path ? 0 : -ENOMEM;
}

static int adopt_listener(int fd, struct vsock_host *h)
{
	int type = 0, listening = 0, fl;
	socklen_t len = sizeof(type);
	struct sockaddr_un a;
	socklen_t alen = sizeof(a);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_STREAM ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0 ||
	    a.sun_family != AF_UNIX) {
		vmm_error("--vsock uds-fd=%d: not a unix stream socket", fd);
		return -EINVAL;
	}
	len = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
	    !listening) {
		vmm_error("--vsock uds-fd=%d: not a listening socket", fd);
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int r = -errno;

		vmm_error("--vsock uds-fd=%d: %s", fd, strerror(-r));
		return r;
	}
	h->listen_fd = fd;
	return 0;
}

int vsock_host_open(const struct vmm_vsock_config *cfg,
		    struct vsock_host **out)
{
	struct vsock_host *h = calloc(1, sizeof(*h));
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = VSOCK_HOST_LISTENER };
	int r = 0;

	if (!h)
		return -ENOMEM;
	h->guest_cid = cfg->cid;
	h->listen_fd = h->dir_fd = h->epoll_fd = -1;
	if (cfg->uds[0])
		r = open_dir(cfg, h);
	if (!r)
		r = cfg->uds_fd >= 0 ? adopt_listener(cfg->uds_fd, h) :
		    bind_listener(cfg, h);
	if (!r) {
		h->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
		if (h->epoll_fd < 0 ||
		    epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, h->listen_fd, &ev) < 0) {
			r = -errno;
			vmm_error("cannot watch the vsock sockets: %s",
				  strerror(errno));
		}
	}
	if (r < 0) {
		vsock_host_close(h);
		return r;
	}
	*out = h;
	return 0;
}

void vsock_host_close(struct vsock_host *h)
{
	if (!h)
		return;
	if (h->epoll_fd >= 0)
		close(h->epoll_fd);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	/* Sandboxed, paths are off limits: the manager cleans up. */
	if (h->bound_path && !sandbox_active())
		unlinkat(h->dir_fd, h->name, 0);
	if (h->dir_fd >= 0)
		close(h->dir_fd);
	free(h->bound_path);
	free(h);
}

int vsock_host_connect(const struct vsock_host *h, uint32_t port)
{
	struct sockaddr_un a;
	char suffix[16];
	int fd, r;

	if (h->dir_fd < 0)
		return -ECONNREFUSED;
	snprintf(suffix, sizeof(suffix), "_%u", port);
	r = address(h, suffix, &a);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A unix stream connect completes at once or fails (EAGAIN: the
	 * listener's backlog is full): the main loop never waits here. */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}
