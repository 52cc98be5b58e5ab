// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * duvisor-ctl: talks to a running duvisor-vmm over its control socket
 * (docs/control-protocol.md). One request per run, or `watch` to print
 * notifications until the VMM goes away.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control-proto.h"

#define REPLY_TIMEOUT_MS 30000

static void usage(FILE *out)
{
	fprintf(out,
"Usage: duvisor-ctl SOCKET COMMAND [ARG]\n"
"Talk to a duvisor-vmm started with --control unix:SOCKET.\n"
"\n"
"Commands:\n"
"  hello            protocol and VMM version\n"
"  status           state, vCPUs, memory, boots, devices, exit counters\n"
"  pause | resume   stop or continue all vCPUs\n"
"  powerdown        press the power button (the guest shuts down)\n"
"  reset            reset the machine (the VMM rebuilds it)\n"
"  quit             stop the VM at once; the VMM exits with status 0\n"
"  balloon-set BYTES, balloon-stats\n"
"  block-stats      each disk's requests, bytes and times\n"
"  watch            print notifications until the VMM exits\n"
"\n"
"Replies and notifications are printed as key=value lines. Exit status:\n"
"0 on success, 1 on an error reply, 2 when the VMM cannot be reached.\n");
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "duvisor-ctl: socket path too long\n");
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "duvisor-ctl: cannot connect to %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void print_payload(const struct dvctl_msg *m)
{
	fwrite(m->payload, 1, m->len, stdout);
	fflush(stdout);
}

/* Receives one message; returns 1, 0 on hang-up or timeout, -1 on error. */
static int receive(int fd, uint8_t *buf, struct dvctl_msg *m, int timeout)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	if (poll(&pfd, 1, timeout) <= 0)
		return 0;
	n = recv(fd, buf, DVCTL_MAX_MESSAGE, 0);
	if (n <= 0)
		return n < 0 ? -1 : 0;
	r = dvctl_decode(buf, (size_t)n, m);
	if (r != DVCTL_OK) {
		fprintf(stderr, "duvisor-ctl: malformed message from the VMM: "
			"%s\n", dvctl_error_name(r));
		return -1;
	}
	return 1;
}

static int watch(int fd)
{
	static uint8_t buf[DVCTL_MAX_MESSAGE];
	struct dvctl_msg m;

	for (;;) {
		int r = receive(fd, buf, &m, -1);

		if (r <= 0)
			return r < 0 ? 2 : 0;
		if (m.type == DVCTL_EVENT)
			print_payload(&m);
	}
}

static int request(int fd, uint16_t type, const char *arg)
{
	static struct dvctl_buf out;
	static uint8_t buf[DVCTL_MAX_MESSAGE];
	const uint32_t id = (uint32_t)getpid();
	struct dvctl_msg m;
	size_t len;
	int r;

	dvctl_begin(&out, type, id);
	if (arg)
		dvctl_put(&out, "target", arg);
	len = dvctl_finish(&out);
	if (!len || send(fd, out.data, len, MSG_NOSIGNAL) != (ssize_t)len) {
		fprintf(stderr, "duvisor-ctl: cannot send the request\n");
		return 2;
	}
	/* Notifications may come first: skip them. */
	for (;;) {
		r = receive(fd, buf, &m, REPLY_TIMEOUT_MS);
		if (r <= 0) {
			fprintf(stderr, "duvisor-ctl: no reply from the VMM\n");
			return 2;
		}
		if (m.type != DVCTL_EVENT && m.id == id)
			break;
	}
	print_payload(&m);
	return m.type == DVCTL_REPLY_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	uint16_t type;
	int fd, status;

	if (argc == 2 &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 3 || argc > 4) {
		usage(stderr);
		return 2;
	}
	type = dvctl_request_by_name(argv[2]);
	if (strcmp(argv[2], "watch") && !type) {
		fprintf(stderr, "duvisor-ctl: unknown command '%s'\n", argv[2]);
		return 2;
	}
	if ((type == DVCTL_BALLOON_SET) != (argc == 4)) {
		fprintf(stderr, "duvisor-ctl: %s\n", argc == 4 ?
			"this command takes no argument" :
			"balloon-set needs a size in bytes");
		return 2;
	}
	fd = connect_to(argv[1]);
	if (fd < 0)
		return 2;
	status = type ? request(fd, type, argc == 4 ? argv[3] : NULL) :
		 watch(fd);
	close(fd);
	return status;
}
