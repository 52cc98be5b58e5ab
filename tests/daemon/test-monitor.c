// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's control-channel client (monitor.c) against a VMM that does
 * not play by the rules: the VMM is untrusted, so garbage, floods, wrong
 * reply ids and hang-ups must cost it its messages, never the daemon.
 * The real VMM's side is covered by tests/vmm and tests/system; here a
 * thread plays a broken VMM on the other end of the socket.
 */
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control-proto.h"
#include "monitor.h"

#define FLOOD 400

struct fixture {
	char *dir;
	char *path;
	int listen_fd;
	GPtrArray *events;	/* names seen */
	bool closed;
};

static void on_event(struct dv_monitor *mon, const char *name,
		     GHashTable *fields, void *opaque)
{
	struct fixture *fx = opaque;

	g_ptr_array_add(fx->events, g_strdup(name));
}

static void on_closed(struct dv_monitor *mon, void *opaque)
{
	struct fixture *fx = opaque;

	fx->closed = true;
}

static const struct dv_monitor_ops ops = {
	.event = on_event,
	.closed = on_closed,
};

static void setup(struct fixture *fx)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	g_autoptr(GError) err = NULL;

	fx->dir = g_dir_make_tmp("dv-monitor-XXXXXX", &err);
	g_assert_no_error(err);
	fx->path = g_build_filename(fx->dir, "ctl", NULL);
	g_strlcpy(addr.sun_path, fx->path, sizeof(addr.sun_path));
	fx->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fx->listen_fd, >=, 0);
	g_assert_cmpint(bind(fx->listen_fd, (struct sockaddr *)&addr,
			     sizeof(addr)), ==, 0);
	g_assert_cmpint(listen(fx->listen_fd, 1), ==, 0);
	fx->events = g_ptr_array_new_with_free_func(g_free);
}

static void teardown(struct fixture *fx)
{
	close(fx->listen_fd);
	g_unlink(fx->path);
	g_rmdir(fx->dir);
	g_free(fx->path);
	g_free(fx->dir);
	g_ptr_array_unref(fx->events);
}

static void send_msg(int fd, uint16_t type, uint32_t id, const char *key,
		     const char *value)
{
	struct dvctl_buf b;
	size_t len;

	dvctl_begin(&b, type, id);
	if (key)
		dvctl_put(&b, key, value);
	len = dvctl_finish(&b);
	g_assert_cmpint(send(fd, b.data, len, MSG_NOSIGNAL), ==, (ssize_t)len);
}

/* The next request: its type and id. */
static uint16_t recv_request(int fd, uint32_t *id)
{
	uint8_t buf[DVCTL_MAX_MESSAGE];
	struct dvctl_msg msg;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(dvctl_decode(buf, (size_t)n, &msg), ==, DVCTL_OK);
	*id = msg.id;
	return msg.type;
}

static void spin(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static size_t count(GPtrArray *names, const char *name)
{
	size_t n = 0;

	for (guint i = 0; i < names->len; i++)
		n += !strcmp(g_ptr_array_index(names, i), name);
	return n;
}

/* The broken VMM of the test below, once the daemon's side connected. */
static gpointer hostile_vmm(gpointer data)
{
	int fd = GPOINTER_TO_INT(data);
	uint8_t junk[DVCTL_MAX_MESSAGE + 100];
	uint32_t id;

	/* The status asked for on connecting: garbage instead. */
	g_assert_cmpint(recv_request(fd, &id), ==, DVCTL_STATUS);
	memset(junk, 0xa5, sizeof(junk));
	send(fd, junk, 20, MSG_NOSIGNAL);		/* bad magic */
	send(fd, junk, sizeof(junk), MSG_NOSIGNAL);	/* too large */
	send_msg(fd, DVCTL_EVENT, 0, "nokey", "x");	/* no event= */
	send_msg(fd, DVCTL_EVENT, 0, "event", "boot");

	/* pause: a flood of notifications, a reply for someone else, an
	 * error for another request, then the real answer. */
	g_assert_cmpint(recv_request(fd, &id), ==, DVCTL_PAUSE);
	for (int i = 0; i < FLOOD; i++)
		send_msg(fd, DVCTL_EVENT, 0, "event", "state");
	send_msg(fd, DVCTL_REPLY_OK, id + 7, NULL, NULL);
	send_msg(fd, DVCTL_REPLY_ERROR, id + 8, "error", "failed");
	send_msg(fd, DVCTL_REPLY_OK, id, NULL, NULL);

	/* resume: refused. */
	g_assert_cmpint(recv_request(fd, &id), ==, DVCTL_RESUME);
	send_msg(fd, DVCTL_REPLY_ERROR, id, "error", "bad-state");

	/* powerdown: it hangs up instead of answering. */
	g_assert_cmpint(recv_request(fd, &id), ==, DVCTL_POWERDOWN);
	close(fd);
	return NULL;
}

static void test_hostile_vmm(void)
{
	struct fixture fx = { 0 };
	g_autoptr(GError) err = NULL;
	struct dv_monitor *mon;
	GThread *vmm;
	int fd;

	setup(&fx);
	mon = dv_monitor_connect(fx.path, getpid(), &ops, &fx, &err);
	g_assert_no_error(err);
	fd = accept4(fx.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	vmm = g_thread_new("vmm", hostile_vmm, GINT_TO_POINTER(fd));

	/* Only the one valid notification gets through. */
	while (fx.events->len < 1)
		g_main_context_iteration(NULL, TRUE);
	spin();
	g_assert_cmpuint(fx.events->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(fx.events, 0), ==, "boot");

	g_assert_true(dv_monitor_stop(mon, &err));
	g_assert_no_error(err);
	/* The flood is cut to what the monitor keeps; nothing else came. */
	spin();
	g_assert_cmpuint(count(fx.events, "state"), >, 0);
	g_assert_cmpuint(count(fx.events, "state"), <, FLOOD);
	g_assert_cmpuint(fx.events->len, ==, 1 + count(fx.events, "state"));

	g_assert_false(dv_monitor_cont(mon, &err));
	g_assert_error(err, G_IO_ERROR, G_IO_ERROR_FAILED);
	g_assert_nonnull(strstr(err->message, "bad-state"));
	g_clear_error(&err);

	g_assert_false(dv_monitor_system_powerdown(mon, &err));
	g_assert_error(err, G_IO_ERROR, G_IO_ERROR_CLOSED);
	g_clear_error(&err);
	spin();
	g_assert_true(fx.closed);
	/* And every later request fails at once. */
	g_assert_false(dv_monitor_quit(mon, &err));
	g_assert_error(err, G_IO_ERROR, G_IO_ERROR_CLOSED);

	g_thread_join(vmm);
	dv_monitor_free(mon);
	teardown(&fx);
}

/* The next request: its type, id and first line. */
static uint16_t recv_request_kv(int fd, uint32_t *id, char *line, size_t size)
{
	uint8_t buf[DVCTL_MAX_MESSAGE];
	const char *p, *end;
	struct dvctl_msg msg;
	struct dvctl_kv kv;
	ssize_t n = recv(fd, buf, sizeof(buf), 0);

	g_assert_cmpint(n, >, 0);
	g_assert_cmpint(dvctl_decode(buf, (size_t)n, &msg), ==, DVCTL_OK);
	*id = msg.id;
	p = msg.payload;
	end = msg.payload + msg.len;
	g_assert_cmpint(dvctl_next_kv(&p, end, &kv), ==, 1);
	g_snprintf(line, size, "%s=%.*s", kv.key, (int)kv.value_len,
		   kv.value);
	return msg.type;
}

/* A VMM with a balloon; its answers are checked by the test below. */
static gpointer balloon_vmm(gpointer data)
{
	int fd = GPOINTER_TO_INT(data);
	char line[64];
	struct dvctl_buf b;
	uint32_t id;

	g_assert_cmpint(recv_request(fd, &id), ==, DVCTL_STATUS);
	send_msg(fd, DVCTL_REPLY_OK, id, "state", "running");
	g_assert_cmpint(recv_request_kv(fd, &id, line, sizeof(line)), ==,
			DVCTL_BALLOON_SET);
	g_assert_cmpstr(line, ==, "target=201326592");
	send_msg(fd, DVCTL_REPLY_OK, id, NULL, NULL);
	g_assert_cmpint(recv_request_kv(fd, &id, line, sizeof(line)), ==,
			DVCTL_BALLOON_SET);
	g_assert_cmpstr(line, ==, "stats_period=5");
	send_msg(fd, DVCTL_REPLY_ERROR, id, "error", "unsupported");
	g_assert_cmpint(recv_request(fd, &id), ==, DVCTL_BALLOON_STATS);
	dvctl_begin(&b, DVCTL_REPLY_OK, id);
	dvctl_put(&b, "actual", "201326592");
	dvctl_put(&b, "stat.swap_in", "4096");
	g_assert_cmpint(send(fd, b.data, dvctl_finish(&b), MSG_NOSIGNAL), >, 0);
	send_msg(fd, DVCTL_EVENT, 0, "event", "balloon-change");
	close(fd);
	return NULL;
}

static void test_balloon(void)
{
	struct fixture fx = { 0 };
	g_autoptr(GHashTable) stats = NULL;
	g_autoptr(GError) err = NULL;
	struct dv_monitor *mon;
	GThread *vmm;
	int fd;

	setup(&fx);
	mon = dv_monitor_connect(fx.path, getpid(), &ops, &fx, &err);
	g_assert_no_error(err);
	fd = accept4(fx.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	vmm = g_thread_new("vmm", balloon_vmm, GINT_TO_POINTER(fd));
	g_assert_true(dv_monitor_balloon_set_target(mon, 192ull << 20, &err));
	g_assert_no_error(err);
	g_assert_false(dv_monitor_balloon_set_period(mon, 5, &err));
	g_assert_error(err, G_IO_ERROR, G_IO_ERROR_FAILED);
	g_assert_nonnull(strstr(err->message, "unsupported"));
	g_clear_error(&err);
	stats = dv_monitor_balloon_stats(mon, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(g_hash_table_lookup(stats, "actual"), ==, "201326592");
	g_assert_cmpstr(g_hash_table_lookup(stats, "stat.swap_in"), ==, "4096");
	while (!fx.closed)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(count(fx.events, "balloon-change"), ==, 1);
	g_thread_join(vmm);
	dv_monitor_free(mon);
	teardown(&fx);
}

static void test_no_listener(void)
{
	struct fixture fx = { 0 };
	g_autoptr(GError) err = NULL;
	g_autofree char *missing = NULL;

	setup(&fx);
	missing = g_build_filename(fx.dir, "gone", NULL);
	g_assert_null(dv_monitor_connect(missing, getpid(), &ops, &fx, &err));
	g_assert_nonnull(err);
	g_assert_nonnull(strstr(err->message, missing));
	teardown(&fx);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/monitor/hostile-vmm", test_hostile_vmm);
	g_test_add_func("/monitor/balloon", test_balloon);
	g_test_add_func("/monitor/no-listener", test_no_listener);
	return g_test_run();
}
