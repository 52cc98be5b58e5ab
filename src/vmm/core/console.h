/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the guest's serial console goes: the VMM's stdio, a pseudo-terminal,
 * a unix socket a client connects to, a file, or nowhere; optionally also
 * copied to a log file. It outlives guest reboots.
 */
#ifndef DUVISOR_CONSOLE_H
#define DUVISOR_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "core/event_loop.h"

enum console_kind {
	CONSOLE_NULL,
	CONSOLE_STDIO,
	CONSOLE_PTY,
	CONSOLE_UNIX,
	CONSOLE_FILE,
	CONSOLE_FD,              /* a manager's socket or pty, both ways */
};

/* Whoever consumes input: the UART. */
struct console_sink {
	size_t (*room)(void *opaque);
	void (*push)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
};

/* What the user can ask for from a terminal (Ctrl-A escapes). */
struct console_actions {
	void (*quit)(void *opaque);
	void (*power_button)(void *opaque);
	void *opaque;
};

struct console {
	enum console_kind kind;
	char *path;              /* pty slave name, socket or file path */
	int in_fd, out_fd;       /* -1 when there is none (yet) */
	int listen_fd;           /* unix: the listening socket */
	int pty_keep_fd;         /* pty: our own slave fd, so no HUP storms */
	int log_fd;
	bool tty_raw;
	bool escape_pending;
	bool input_paused;
	struct termios saved_tty;
	struct event_loop *loop;
	struct console_sink sink;
	struct console_actions actions;
	pthread_mutex_t lock;    /* guards out_fd against client changes */
};

/*
 * spec: "stdio", "pty", "unix:PATH", "file:PATH", "fd:N" or "null".
 * Returns 0, or -errno with a message already printed.
 */
int console_open(struct console *con, const char *spec, const char *log_path);
void console_close(struct console *con);

int console_attach(struct console *con, struct event_loop *loop,
		   const struct console_actions *actions);
void console_set_sink(struct console *con, const struct console_sink *sink);

/* Output from the guest; called from vCPU threads. Never blocks on a
 * pty or socket peer that does not read. */
void console_write(struct console *con, const uint8_t *buf, size_t len);

/* The sink has room again: resume reading input. Any thread. */
void console_input_ready(struct console *con);

/* Checks a spec without opening anything. */
bool console_spec_valid(const char *spec);

#endif
