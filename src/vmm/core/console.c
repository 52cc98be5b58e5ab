// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "core/util.h"

#define ESCAPE_CHAR 0x01  /* Ctrl-A */

static const char *spec_arg(const char *spec, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(spec, prefix, n) == 0 && spec[n] ? spec + n : NULL;
}

/* fd:N, a descriptor the manager opened for us; -1 if spec is not one. */
static int spec_fd(const char *spec)
{
	const char *arg = spec_arg(spec, "fd:");
	uint64_t v;

	if (!arg || parse_uint(arg, INT32_MAX, &v) < 0)
		return -1;
	return (int)v;
}

bool console_spec_valid(const char *spec)
{
	return !strcmp(spec, "stdio") || !strcmp(spec, "pty") ||
	       !strcmp(spec, "null") || spec_arg(spec, "unix:") ||
	       spec_arg(spec, "file:") || spec_fd(spec) >= 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void restore_tty(struct console *con)
{
	if (con->tty_raw) {
		tcsetattr(con->in_fd, TCSANOW, &con->saved_tty);
		con->tty_raw = false;
	}
}

static int open_stdio(struct console *con)
{
	struct termios raw;

	con->in_fd = STDIN_FILENO;
	con->out_fd = STDOUT_FILENO;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &con->saved_tty) == 0) {
		raw = con->saved_tty;
		cfmakeraw(&raw);
		/* Keep output post-processing so host-side lines stay tidy. */
		raw.c_oflag |= OPOST;
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
			con->tty_raw = true;
	}
	return 0;
}

/* Holds the slave side of a pty master open and makes it raw: otherwise
 * every client that detaches leaves the master in a permanent hang-up
 * state, and the line discipline would mangle the guest's bytes. */
static int keep_pty_slave(struct console *con, int slave)
{
	struct termios raw;

	if (slave < 0)
		return -errno;
	con->pty_keep_fd = slave;
	if (tcgetattr(slave, &raw) == 0) {
		cfmakeraw(&raw);
		tcsetattr(slave, TCSANOW, &raw);
	}
	return 0;
}

static int open_pty(struct console *con)
{
	char *name;
	int master;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
		goto fail;
	name = ptsname(master);
	if (!name)
		goto fail;
	con->path = strdup(name);
	if (!con->path ||
	    keep_pty_slave(con, open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		goto fail;
	if (set_nonblock(master) < 0)
		goto fail;
	con->in_fd = con->out_fd = master;
	vmm_info("serial console on %s", con->path);
	return 0;
fail:
	vmm_error("cannot create a pseudo-terminal: %s", strerror(errno));
	if (master >= 0)
		close(master);
	return -errno;
}

static int open_unix(struct console *con, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		vmm_error("console socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A stale socket from a previous run would make bind fail. */
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, 1) < 0) {
		int r = -errno;

		vmm_error("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	con->listen_fd = fd;
	con->path = strdup(path);
	return con->path ? 0 : -ENOMEM;
}

static int open_file(struct console *con, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	if (fd < 0) {
		int r = -errno;

		vmm_error("cannot open console file %s: %s", path,
			  strerror(errno));
		return r;
	}
	con->out_fd = fd;
	con->path = strdup(path);
	return con->path ? 0 : -ENOMEM;
}

/*
 * fd:N from a manager that opened the resource for us (we may have no
 * right to open paths): a pty master, a connected socket or pipe (both
 * ways), a listening socket (clients come and go as with unix:PATH), or a
 * regular file (output only).
 */
static int open_fd(struct console *con, int fd)
{
	int listening = 0;
	socklen_t len = sizeof(listening);
	struct stat st;
	int slave, r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		con->kind = CONSOLE_FILE;
		con->out_fd = fd;
		return 0;
	}
	r = set_nonblock(fd);
	if (r < 0)
		return r;
	if (S_ISSOCK(st.st_mode) &&
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
	    listening) {
		con->kind = CONSOLE_UNIX;
		con->listen_fd = fd;
		return 0;	/* no path: whoever bound it removes it */
	}
	con->kind = CONSOLE_FD;
	con->in_fd = con->out_fd = fd;
	/* Only a pty master has a peer to open, and opening it needs no
	 * path. */
	slave = ioctl(fd, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave >= 0)
		return keep_pty_slave(con, slave);
	return 0;
}

int console_open(struct console *con, const char *spec, const char *log_path)
{
	const char *arg;
	int r;

	memset(con, 0, sizeof(*con));
	con->in_fd = con->out_fd = con->listen_fd = -1;
	con->pty_keep_fd = con->log_fd = -1;
	pthread_mutex_init(&con->lock, NULL);
	if (!strcmp(spec, "stdio")) {
		con->kind = CONSOLE_STDIO;
		r = open_stdio(con);
	} else if (!strcmp(spec, "pty")) {
		con->kind = CONSOLE_PTY;
		r = open_pty(con);
	} else if ((arg = spec_arg(spec, "unix:"))) {
		con->kind = CONSOLE_UNIX;
		r = open_unix(con, arg);
	} else if ((arg = spec_arg(spec, "file:"))) {
		con->kind = CONSOLE_FILE;
		r = open_file(con, arg);
	} else if (spec_fd(spec) >= 0) {
		r = open_fd(con, spec_fd(spec));
		if (r < 0)
			vmm_error("console %s: %s", spec, strerror(-r));
	} else if (!strcmp(spec, "null")) {
		con->kind = CONSOLE_NULL;
		r = 0;
	} else {
		vmm_error("unknown console '%s' (stdio, pty, unix:PATH, "
			  "file:PATH or null)", spec);
		r = -EINVAL;
	}
	if (r == 0 && log_path) {
		con->log_fd = spec_fd(log_path);
		if (con->log_fd < 0)
			con->log_fd = open(log_path, O_WRONLY | O_CREAT |
					   O_APPEND | O_CLOEXEC, 0640);
		if (con->log_fd < 0) {
			r = -errno;
			vmm_error("cannot open console log %s: %s", log_path,
				  strerror(errno));
		}
	}
	if (r < 0)
		console_close(con);
	return r;
}

static void drop_client(struct console *con)
{
	pthread_mutex_lock(&con->lock);
	if (con->in_fd >= 0) {
		if (con->loop)
			event_loop_remove(con->loop, con->in_fd);
		close(con->in_fd);
	}
	con->in_fd = con->out_fd = -1;
	pthread_mutex_unlock(&con->lock);
}

void console_close(struct console *con)
{
	restore_tty(con);
	if (con->kind == CONSOLE_UNIX) {
		drop_client(con);
		if (con->listen_fd >= 0) {
			close(con->listen_fd);
			/* Sandboxed, paths are off limits: the manager cleans up. */
			if (con->path && !sandbox_active())
				unlink(con->path);
		}
	} else if (con->kind == CONSOLE_PTY || con->kind == CONSOLE_FILE ||
		   con->kind == CONSOLE_FD) {
		if (con->out_fd >= 0)
			close(con->out_fd);
	}
	if (con->pty_keep_fd >= 0)
		close(con->pty_keep_fd);
	if (con->log_fd >= 0)
		close(con->log_fd);
	free(con->path);
	pthread_mutex_destroy(&con->lock);
	memset(con, 0, sizeof(*con));
	con->in_fd = con->out_fd = con->listen_fd = -1;
	con->pty_keep_fd = con->log_fd = -1;
}

/* Ctrl-A x quits, Ctrl-A p presses the power button, Ctrl-A Ctrl-A sends
 * one Ctrl-A. Only on an interactive stdio console. */
static size_t filter_escapes(struct console *con, uint8_t *buf, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];

		if (con->escape_pending) {
			con->escape_pending = false;
			if (c == 'x' || c == 'X') {
				if (con->actions.quit)
					con->actions.quit(con->actions.opaque);
				continue;
			}
			if (c == 'p' || c == 'P') {
				if (con->actions.power_button)
					con->actions.power_button(
						con->actions.opaque);
				continue;
			}
			if (c != ESCAPE_CHAR)
				buf[out++] = ESCAPE_CHAR;
		} else if (c == ESCAPE_CHAR) {
			con->escape_pending = true;
			continue;
		}
		buf[out++] = c;
	}
	return out;
}

static void on_input(void *opaque, uint32_t events)
{
	struct console *con = opaque;
	uint8_t buf[256];
	size_t room;
	ssize_t n;

	room = con->sink.room ? con->sink.room(con->sink.opaque) : sizeof(buf);
	if (!room) {
		/* Resumed by console_input_ready() once the guest reads. */
		event_loop_modify(con->loop, con->in_fd, 0);
		__atomic_store_n(&con->input_paused, true, __ATOMIC_SEQ_CST);
		/* The guest may have made room between the check and the
		 * pause, and its wakeup then found nothing paused: without a
		 * second look the console would stay deaf for good. */
		if (con->sink.room(con->sink.opaque))
			console_input_ready(con);
		return;
	}
	n = read(con->in_fd, buf, MIN(room, sizeof(buf)));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (con->kind == CONSOLE_UNIX) {
			drop_client(con);
		} else if (con->kind == CONSOLE_STDIO ||
			   con->kind == CONSOLE_FD ||
			   (events & (EPOLLHUP | EPOLLERR))) {
			/* End of stdin is not the end of the VM. */
			event_loop_remove(con->loop, con->in_fd);
		}
		return;
	}
	if (con->tty_raw)
		n = (ssize_t)filter_escapes(con, buf, (size_t)n);
	if (n > 0 && con->sink.push)
		con->sink.push(con->sink.opaque, buf, (size_t)n);
}

static void on_connect(void *opaque, uint32_t events)
{
	struct console *con = opaque;
	int fd;

	(void)events;
	fd = accept4(con->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	/* The newest client wins, like a console cable being re-plugged. */
	drop_client(con);
	pthread_mutex_lock(&con->lock);
	con->in_fd = con->out_fd = fd;
	pthread_mutex_unlock(&con->lock);
	if (event_loop_add(con->loop, fd, EPOLLIN, on_input, con) < 0)
		drop_client(con);
}

int console_attach(struct console *con, struct event_loop *loop,
		   const struct console_actions *actions)
{
	con->loop = loop;
	if (actions)
		con->actions = *actions;
	if (con->listen_fd >= 0)
		return event_loop_add(loop, con->listen_fd, EPOLLIN, on_connect,
				      con);
	if (con->in_fd >= 0) {
		int r = event_loop_add(loop, con->in_fd, EPOLLIN, on_input, con);

		/* stdin from a regular file or /dev/null cannot be polled:
		 * such a console has no input, which is no error. */
		if (r == -EPERM && con->kind == CONSOLE_STDIO)
			return 0;
		if (r < 0)
			vmm_error("cannot watch console input: %s", strerror(-r));
		return r;
	}
	return 0;
}

void console_set_sink(struct console *con, const struct console_sink *sink)
{
	con->sink = *sink;
}

void console_input_ready(struct console *con)
{
	if (__atomic_exchange_n(&con->input_paused, false, __ATOMIC_SEQ_CST) &&
	    con->in_fd >= 0)
		event_loop_modify(con->loop, con->in_fd, EPOLLIN);
}

void console_write(struct console *con, const uint8_t *buf, size_t len)
{
	if (con->log_fd >= 0)
		(void)write_full(con->log_fd, buf, len);
	pthread_mutex_lock(&con->lock);
	if (con->out_fd >= 0) {
		if (con->kind == CONSOLE_STDIO || con->kind == CONSOLE_FILE) {
			(void)write_full(con->out_fd, buf, len);
		} else {
			/* Nobody reading a pty or socket must not stall the
			 * guest: drop what does not fit. */
			ssize_t n = write(con->out_fd, buf, len);

			(void)n;
		}
	}
	pthread_mutex_unlock(&con->lock);
}
