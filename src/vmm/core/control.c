// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control channel on the VMM side: accepting clients, answering their
 * requests and broadcasting notifications. Clients are untrusted to the
 * extent that nothing they send or fail to read may stop the VMM: replies
 * and notifications are sent without blocking, and a client whose socket
 * is full is dropped (it can reconnect and ask for the status).
 */
#include "core/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "virtio/blk_request.h"

#ifndef DUVISOR_VERSION
#define DUVISOR_VERSION "unknown"
#endif

#define CONTROL_MAX_CLIENTS 8
/* Requests taken off one client per wake-up, so none can starve others. */
#define CONTROL_BURST 16

struct control_client {
	struct control *ctl;
	int fd;
};

struct control {
	struct vmm *vmm;
	int listen_fd;
	char *path;               /* ours to unlink, when we bound it */
	int async_fd;             /* wakes the main thread for async events */
	unsigned int async_pending;
	const char *state;        /* the last one announced */
	bool ending;
	struct control_balloon_hook balloon;
	struct control_client clients[CONTROL_MAX_CLIENTS];
};

static void drop_client(struct control_client *c, const char *why)
{
	if (c->fd < 0)
		return;
	vmm_debug("control: dropping client %d: %s", c->fd, why);
	event_loop_remove(c->ctl->vmm->loop, c->fd);
	close(c->fd);
	c->fd = -1;
}

static void send_msg(struct control_client *c, struct dvctl_buf *b)
{
	size_t len = dvctl_finish(b);

	if (!len) {
		/* Our own bug: tell the client rather than send nothing. */
		dvctl_begin(b, DVCTL_REPLY_ERROR, 0);
		dvctl_put(b, "error", "internal");
		len = dvctl_finish(b);
	}
	if (send(c->fd, b->data, len, MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)len)
		drop_client(c, errno == EAGAIN ? "it does not read" :
			    strerror(errno));
}

static void broadcast(struct control *ctl, struct dvctl_buf *b)
{
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (ctl->clients[i].fd >= 0)
			send_msg(&ctl->clients[i], b);
}

static void event_begin(struct dvctl_buf *b, const char *name)
{
	dvctl_begin(b, DVCTL_EVENT, 0);
	dvctl_put(b, "event", name);
}

static const char *current_state(const struct control *ctl)
{
	if (ctl->ending)
		return "shutting-down";
	if (__atomic_load_n(&ctl->vmm->pause.paused, __ATOMIC_ACQUIRE))
		return "paused";
	return "running";
}

/* Announces the state when it changed since the last announcement. */
static void sync_state(struct control *ctl)
{
	const char *state = current_state(ctl);
	struct dvctl_buf b;

	if (ctl->state == state)
		return;
	ctl->state = state;
	event_begin(&b, "state");
	dvctl_put(&b, "state", state);
	broadcast(ctl, &b);
}

static void reply_error(struct control_client *c, uint32_t id,
			const char *error, const char *message)
{
	struct dvctl_buf b;

	dvctl_begin(&b, DVCTL_REPLY_ERROR, id);
	dvctl_put(&b, "error", error);
	if (message)
		dvctl_put(&b, "message", message);
	send_msg(c, &b);
}

static void reply_ok(struct control_client *c, uint32_t id)
{
	struct dvctl_buf b;

	dvctl_begin(&b, DVCTL_REPLY_OK, id);
	send_msg(c, &b);
}

static void list_names(const struct bus *bus, char *list, size_t size,
		       size_t *n)
{
	for (size_t i = 0; i < bus->nranges && *n < size; i++) {
		int w = snprintf(list + *n, size - *n, "%s%s", *n ? "," : "",
				 bus->ranges[i].name ? bus->ranges[i].name :
				 "?");

		if (w > 0)
			*n = MIN(*n + (size_t)w, size - 1);
	}
}

/* vcpu_tids=T0,T1,...: one line, as 254 vCPUs' vcpu.N.tid lines would not
 * fit in a message; 0 for a thread that has not started yet. */
static void put_vcpu_tids(const struct vm *vm, struct dvctl_buf *b)
{
	char list[DVCTL_MAX_PAYLOAD / 2] = "";
	size_t n = 0;

	for (uint32_t i = 0; vm && i < vm->ncpus && n < sizeof(list); i++) {
		int w = snprintf(list + n, sizeof(list) - n, "%s%d",
				 i ? "," : "",
				 __atomic_load_n(&vm->vcpus[i].tid,
						 __ATOMIC_RELAXED));

		if (w > 0)
			n = MIN(n + (size_t)w, sizeof(list) - 1);
	}
	dvctl_put(b, "vcpu_tids", list);
}

static void put_status(struct control *ctl, struct dvctl_buf *b)
{
	const struct vmm *vmm = ctl->vmm;
	const struct vmm_config *cfg = vmm->cfg;
	struct vcpu_stats st;
	char devices[1024] = "";
	size_t n = 0, nclients = 0;
	uint64_t total = 0;

	dvctl_put(b, "state", current_state(ctl));
	dvctl_put_u64(b, "protocol", DVCTL_VERSION);
	dvctl_put(b, "version", DUVISOR_VERSION);
	dvctl_put_u64(b, "pid", (uint64_t)getpid());
	dvctl_put_u64(b, "vcpus", cfg->ncpus);
	put_vcpu_tids(vmm->vm, b);
	dvctl_put_u64(b, "memory", cfg->mem_size);
	dvctl_put_u64(b, "boots", vmm->boots);
	dvctl_put_u64(b, "uptime_ms",
		      (now_ns_monotonic() - vmm->start_ns) / 1000000);
	dvctl_put(b, "sandbox", sandbox_active() ? "on" : "off");
	dvctl_put(b, "on_reset", cfg->no_reboot ? "exit" : "reboot");
	if (vmm->vm) {
		list_names(&vmm->vm->pio, devices, sizeof(devices), &n);
		list_names(&vmm->vm->mmio, devices, sizeof(devices), &n);
	}
	dvctl_put(b, "devices", devices);
	dvctl_put(b, "balloon", ctl->balloon.set_target ? "on" : "none");
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		nclients += ctl->clients[i].fd >= 0;
	dvctl_put_u64(b, "clients", nclients);
	vmm_sum_stats(vmm, &st);
	for (size_t i = 0; i < ACCEL_EXIT__COUNT; i++)
		total += st.exits[i];
	dvctl_put_u64(b, "exits", total);
	for (size_t i = 0; i < ACCEL_EXIT__COUNT; i++) {
		char key[DVCTL_MAX_KEY + 1];

		snprintf(key, sizeof(key), "exits.%s", accel_exit_kind_name(i));
		dvctl_put_u64(b, key, st.exits[i]);
	}
}

static void do_status(struct control_client *c, uint32_t id)
{
	struct dvctl_buf b;

	dvctl_begin(&b, DVCTL_REPLY_OK, id);
	put_status(c->ctl, &b);
	send_msg(c, &b);
}

static void do_hello(struct control_client *c, uint32_t id)
{
	struct dvctl_buf b;

	dvctl_begin(&b, DVCTL_REPLY_OK, id);
	dvctl_put_u64(&b, "protocol", DVCTL_VERSION);
	dvctl_put(&b, "vmm", "duvisor-vmm");
	dvctl_put(&b, "version", DUVISOR_VERSION);
	dvctl_put_u64(&b, "pid", (uint64_t)getpid());
	send_msg(c, &b);
}

static void put_disk_stats(struct dvctl_buf *b, size_t index,
			   const struct blk_stats *st, uint64_t size)
{
	const struct {
		const char *name;
		uint64_t value;
	} fields[] = {
		{ "rd_reqs", st->rd_reqs }, { "rd_bytes", st->rd_bytes },
		{ "rd_ns", st->rd_ns }, { "wr_reqs", st->wr_reqs },
		{ "wr_bytes", st->wr_bytes }, { "wr_ns", st->wr_ns },
		{ "fl_reqs", st->fl_reqs }, { "fl_ns", st->fl_ns },
		{ "errors", st->errors }, { "size", size },
	};

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		char key[DVCTL_MAX_KEY + 1];

		snprintf(key, sizeof(key), "disk.%zu.%s", index, fields[f].name);
		dvctl_put_u64(b, key, fields[f].value);
	}
}

/* disk.N.*, N in --disk order; 8 disks need about 3000 bytes. */
static void do_block_stats(struct control_client *c, uint32_t id)
{
	const struct vmm *vmm = c->ctl->vmm;
	struct blk_stats st;
	struct dvctl_buf b;

	dvctl_begin(&b, DVCTL_REPLY_OK, id);
	dvctl_put_u64(&b, "disks", vmm->cfg->ndisks);
	for (size_t i = 0; i < vmm->cfg->ndisks; i++) {
		blk_stats_read(&vmm->disk_stats[i], &st);
		put_disk_stats(&b, i, &st, vmm->disks[i]->size);
	}
	send_msg(c, &b);
}

static void balloon_stats(struct control_client *c, uint32_t id)
{
	struct control *ctl = c->ctl;
	struct dvctl_buf b;

	dvctl_begin(&b, DVCTL_REPLY_OK, id);
	ctl->balloon.stats(ctl->balloon.opaque, &b);
	send_msg(c, &b);
}

/* balloon-set: target=BYTES and/or stats_period=SECONDS, both checked
 * before either is applied. */
static void balloon_set(struct control_client *c, const struct dvctl_msg *m)
{
	const struct control_balloon_hook *h = &c->ctl->balloon;
	char target_s[32], period_s[16];
	bool has_target = dvctl_get(m, "target", target_s, sizeof(target_s));
	bool has_period = dvctl_get(m, "stats_period", period_s,
				    sizeof(period_s));
	uint64_t target = 0, period = 0;
	int r = 0;

	if ((!has_target && !has_period) ||
	    (has_target && parse_size(target_s, false, &target) < 0) ||
	    (has_period && parse_uint(period_s, INT32_MAX, &period) < 0)) {
		reply_error(c, m->id, "invalid-argument",
			    "target=BYTES or stats_period=SECONDS is required");
		return;
	}
	if (has_target)
		r = h->set_target(h->opaque, target);
	if (!r && has_period)
		r = h->set_stats_period(h->opaque, (uint32_t)period);
	if (r == -EINVAL)
		reply_error(c, m->id, "invalid-argument",
			    "the target must be more than 0 and at most the "
			    "guest's memory");
	else if (r < 0)
		reply_error(c, m->id, "failed", strerror(-r));
	else
		reply_ok(c, m->id);
}

static void do_balloon(struct control_client *c, const struct dvctl_msg *m)
{
	if (!c->ctl->balloon.set_target) {
		reply_error(c, m->id, "unsupported", "no balloon device");
		return;
	}
	if (m->type == DVCTL_BALLOON_STATS)
		balloon_stats(c, m->id);
	else
		balloon_set(c, m);
}

/* Requests that change the machine need one, and one that is not ending. */
static bool machine_ready(struct control_client *c, uint32_t id)
{
	if (c->ctl->ending || !c->ctl->vmm->vm) {
		reply_error(c, id, "bad-state", "the VM is shutting down");
		return false;
	}
	return true;
}

static void handle_request(struct control_client *c, const struct dvctl_msg *m)
{
	struct control *ctl = c->ctl;
	struct vmm *vmm = ctl->vmm;

	switch (m->type) {
	case DVCTL_HELLO:
		do_hello(c, m->id);
		break;
	case DVCTL_STATUS:
		do_status(c, m->id);
		break;
	case DVCTL_PAUSE:
	case DVCTL_RESUME:
		if (!machine_ready(c, m->id))
			break;
		if (m->type == DVCTL_PAUSE)
			vcpus_pause(vmm);
		else
			vcpus_resume(vmm);
		reply_ok(c, m->id);
		sync_state(ctl);
		break;
	case DVCTL_POWERDOWN:
		if (!machine_ready(c, m->id))
			break;
		arch_vm_power_button(vmm->vm);
		reply_ok(c, m->id);
		break;
	case DVCTL_RESET:
		if (!machine_ready(c, m->id))
			break;
		vmm->reset_requested = true;
		vm_request_stop(vmm->vm, VM_STOP_RESET);
		reply_ok(c, m->id);
		break;
	case DVCTL_QUIT:
		reply_ok(c, m->id);
		ctl->ending = true;
		sync_state(ctl);
		vmm_request_quit(vmm);
		break;
	case DVCTL_BALLOON_SET:
	case DVCTL_BALLOON_STATS:
		do_balloon(c, m);
		break;
	case DVCTL_BLOCK_STATS:
		do_block_stats(c, m->id);
		break;
	case DVCTL_TEST_FORBIDDEN_SYSCALL:
		if (!vmm->cfg->test_forbidden_syscall) {
			reply_error(c, m->id, "unknown-request", NULL);
			break;
		}
		reply_ok(c, m->id);
		sandbox_try_forbidden_syscall();
		break;
	default:
		reply_error(c, m->id, "unknown-request", NULL);
		break;
	}
}

static void handle_packet(struct control_client *c, const uint8_t *buf,
			  size_t len)
{
	struct dvctl_msg m;
	int r = dvctl_decode(buf, len, &m);

	if (r != DVCTL_OK) {
		vmm_debug("control: refused a message: %s",
			  dvctl_error_name(r));
		reply_error(c, m.id, dvctl_error_name(r), NULL);
		return;
	}
	handle_request(c, &m);
}

static void on_client(void *opaque, uint32_t events)
{
	struct control_client *c = opaque;
	/* One byte more than a message may have, to tell it is too long. */
	uint8_t buf[DVCTL_MAX_MESSAGE + 1];

	(void)events;
	for (int i = 0; i < CONTROL_BURST && c->fd >= 0; i++) {
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* SOCK_SEQPACKET: 0 is the peer hanging up. */
		if (n <= 0) {
			drop_client(c, n ? strerror(errno) : "hung up");
			return;
		}
		handle_packet(c, buf, (mh.msg_flags & MSG_TRUNC) ?
			      sizeof(buf) : (size_t)n);
	}
}

static int add_client(struct control *ctl, int fd)
{
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *c = &ctl->clients[i];

		if (c->fd >= 0)
			continue;
		if (event_loop_add(ctl->vmm->loop, fd, EPOLLIN, on_client, c))
			break;
		c->fd = fd;
		return 0;
	}
	return -ENOSPC;
}

static void on_connect(void *opaque, uint32_t events)
{
	struct control *ctl = opaque;
	int fd;

	(void)events;
	fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (add_client(ctl, fd) < 0) {
		struct dvctl_buf b;

		dvctl_begin(&b, DVCTL_REPLY_ERROR, 0);
		dvctl_put(&b, "error", "too-many-clients");
		if (dvctl_finish(&b))
			(void)send(fd, b.data, b.len,
				   MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
	}
}

static void on_async(void *opaque, uint32_t events)
{
	struct control *ctl = opaque;
	unsigned int pending;
	uint64_t v;
	struct dvctl_buf b;

	(void)events;
	(void)!read(ctl->async_fd, &v, sizeof(v));
	pending = __atomic_exchange_n(&ctl->async_pending, 0, __ATOMIC_ACQ_REL);
	if (pending & CONTROL_ASYNC_CRASH_LOADED) {
		vmm_info("guest panicked with a crash kernel loaded");
		event_begin(&b, "guest-crashloaded");
		broadcast(ctl, &b);
	}
	/* The device may be gone (a reboot) by the time we get here. */
	if ((pending & CONTROL_ASYNC_BALLOON) && ctl->balloon.actual) {
		event_begin(&b, "balloon-change");
		dvctl_put_u64(&b, "actual",
			      ctl->balloon.actual(ctl->balloon.opaque));
		broadcast(ctl, &b);
	}
}

void control_post_async(struct control *ctl, unsigned int events)
{
	uint64_t one = 1;

	if (!ctl)
		return;
	__atomic_or_fetch(&ctl->async_pending, events, __ATOMIC_ACQ_REL);
	(void)write_full(ctl->async_fd, &one, sizeof(one));
}

static int listen_unix(struct control *ctl, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		vmm_error("control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A stale socket of a VMM that died would make bind fail. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, CONTROL_MAX_CLIENTS) < 0) {
		int r = -errno;

		vmm_error("cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	ctl->listen_fd = fd;
	ctl->path = strdup(path);
	return ctl->path ? 0 : -ENOMEM;
}

static int set_nonblock_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

/* An inherited fd: a listening socket, or one end of a connection. */
static int adopt_fd(struct control *ctl, int fd)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_SEQPACKET) {
		vmm_error("--control-fd %d: not a SOCK_SEQPACKET socket", fd);
		return -EINVAL;
	}
	len = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
	    set_nonblock_cloexec(fd) < 0) {
		vmm_error("--control-fd %d: %s", fd, strerror(errno));
		return -errno;
	}
	if (listening) {
		ctl->listen_fd = fd;
		return 0;
	}
	return add_client(ctl, fd);
}

int control_open(struct vmm *vmm)
{
	const struct vmm_config *cfg = vmm->cfg;
	struct control *ctl;
	int r;

	if (!cfg->control_spec && cfg->control_fd < 0)
		return 0;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->vmm = vmm;
	ctl->listen_fd = -1;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		ctl->clients[i] = (struct control_client){ .ctl = ctl,
							   .fd = -1 };
	vmm->control = ctl;
	ctl->async_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r = ctl->async_fd < 0 ? -errno :
	    event_loop_add(vmm->loop, ctl->async_fd, EPOLLIN, on_async, ctl);
	if (r < 0) {
		vmm_error("cannot set up the control channel: %s",
			  strerror(-r));
		return r;
	}
	/* These two explain their own failures. */
	if (cfg->control_spec)
		r = listen_unix(ctl, cfg->control_spec + strlen("unix:"));
	else
		r = adopt_fd(ctl, cfg->control_fd);
	if (r < 0)
		return r;
	if (ctl->listen_fd >= 0)
		r = event_loop_add(vmm->loop, ctl->listen_fd, EPOLLIN,
				   on_connect, ctl);
	if (r < 0)
		vmm_error("cannot set up the control channel: %s",
			  strerror(-r));
	return r;
}

void control_close(struct vmm *vmm)
{
	struct control *ctl = vmm->control;

	if (!ctl)
		return;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		drop_client(&ctl->clients[i], "the VMM exits");
	if (ctl->listen_fd >= 0) {
		event_loop_remove(vmm->loop, ctl->listen_fd);
		close(ctl->listen_fd);
	}
	/* Sandboxed, we may not touch paths: the manager removes it. */
	if (ctl->path && !sandbox_active())
		unlink(ctl->path);
	if (ctl->async_fd >= 0) {
		event_loop_remove(vmm->loop, ctl->async_fd);
		close(ctl->async_fd);
	}
	free(ctl->path);
	free(ctl);
	vmm->control = NULL;
}

void control_set_balloon(struct control *ctl,
			 const struct control_balloon_hook *hook)
{
	if (ctl)
		ctl->balloon = hook ? *hook :
			       (struct control_balloon_hook){ 0 };
}

void control_boot_started(struct control *ctl)
{
	struct dvctl_buf b;

	if (!ctl)
		return;
	event_begin(&b, "boot");
	dvctl_put_u64(&b, "boots", ctl->vmm->boots);
	broadcast(ctl, &b);
	sync_state(ctl);
}

static const char *stop_event(enum vm_stop_reason reason)
{
	switch (reason) {
	case VM_STOP_POWEROFF:
		return "guest-poweroff";
	case VM_STOP_RESET:
		return "guest-reset";
	case VM_STOP_TRIPLE_FAULT:
		return "guest-triple-fault";
	case VM_STOP_CRASH:
		return "guest-panic";
	case VM_STOP_QUIT:
		return "quit";
	default:
		return "error";
	}
}

void control_vm_stopped(struct control *ctl, enum vm_stop_reason reason,
			bool by_request, bool rebooting)
{
	struct dvctl_buf b;

	if (!ctl)
		return;
	event_begin(&b, stop_event(reason));
	if (reason == VM_STOP_RESET) {
		dvctl_put(&b, "source", by_request ? "manager" : "guest");
		dvctl_put(&b, "rebooting", rebooting ? "yes" : "no");
	}
	if (reason == VM_STOP_ERROR || reason == VM_STOP_NONE)
		dvctl_put(&b, "message", reason == VM_STOP_NONE ?
			  "the VM could not be built" :
			  "the accelerator could not run the guest");
	broadcast(ctl, &b);
	if (!rebooting) {
		ctl->ending = true;
		sync_state(ctl);
	}
}

void control_exiting(struct control *ctl, int status)
{
	struct dvctl_buf b;

	if (!ctl)
		return;
	event_begin(&b, "exit");
	dvctl_put_u64(&b, "status", (uint64_t)status);
	broadcast(ctl, &b);
}
