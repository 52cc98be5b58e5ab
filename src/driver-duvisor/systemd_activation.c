// SPDX-License-Identifier: GPL-2.0-or-later
/* Socket activation and service notifications (sd-daemon). */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon_log.h"
#include "systemd_activation.h"

enum socket_role { ROLE_UNKNOWN, ROLE_RW, ROLE_RO };

static enum socket_role role_of(int fd, const char *name,
				const struct daemon_config *cfg)
{
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, cfg->rw_socket, 0) > 0)
		return ROLE_RW;
	if (cfg->ro_socket &&
	    sd_is_socket_unix(fd, SOCK_STREAM, 1, cfg->ro_socket, 0) > 0)
		return ROLE_RO;
	/* A unit that moved the socket elsewhere (ListenStream=) still
	 * says which one it is by its name. */
	if (!name)
		return ROLE_UNKNOWN;
	if (!strcmp(name, "virtduvisord-ro.socket") || !strcmp(name, "ro"))
		return ROLE_RO;
	if (!strcmp(name, "virtduvisord.socket") || !strcmp(name, "rw"))
		return ROLE_RW;
	return ROLE_UNKNOWN;
}

/* The file system path of a unix socket, for messages. */
static char *socket_path(int fd)
{
	struct sockaddr_un sun = { 0 };
	socklen_t len = sizeof(sun);

	if (getsockname(fd, (struct sockaddr *)&sun, &len) < 0 ||
	    sun.sun_family != AF_UNIX || !sun.sun_path[0])
		return g_strdup_printf("fd %d", fd);
	return g_strndup(sun.sun_path, sizeof(sun.sun_path));
}

bool dv_systemd_adopt_sockets(struct rpc_server *srv,
			      const struct daemon_config *cfg, bool *have_rw,
			      bool *have_ro, GError **error)
{
	g_auto(GStrv) names = NULL;
	int n = sd_listen_fds_with_names(1, &names);
	bool ok = true;

	*have_rw = *have_ro = false;
	if (n < 0) {
		DV_WARN("ignoring the sockets systemd handed in: %s",
			g_strerror(-n));
		return true;
	}
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;
		const char *name = names ? names[i] : NULL;
		enum socket_role role = role_of(fd, name, cfg);
		bool *have = role == ROLE_RO ? have_ro : have_rw;
		g_autofree char *path = socket_path(fd);

		if (!ok || role == ROLE_UNKNOWN || *have) {
			if (ok)
				DV_WARN("closing %s handed in by systemd "
					"(%s): not a socket of ours", path,
					name ? name : "unnamed");
			close(fd);
			continue;
		}
		if (!rpc_server_adopt(srv, fd, path, role == ROLE_RO, error)) {
			close(fd);
			ok = false;
			continue;
		}
		*have = true;
	}
	return ok;
}

void dv_systemd_notify(const char *state)
{
	int r = sd_notify(0, state);

	if (r < 0)
		DV_WARN("cannot notify systemd (%s): %s", state,
			g_strerror(-r));
}
