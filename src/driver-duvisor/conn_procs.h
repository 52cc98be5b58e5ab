// SPDX-License-Identifier: GPL-2.0-or-later
/* Connection-level procedures: handshake, versions, host data. */
#ifndef DV_CONN_PROCS_H
#define DV_CONN_PROCS_H

#include <stdbool.h>

#include "daemon_config.h"
#include "rpc_server.h"

/* CONNECT_SUPPORTS_FEATURE numbers (libvirt's driver features). */
enum dv_feature {
	DV_FEATURE_FD_PASSING = 8,
	DV_FEATURE_TYPED_PARAM_STRING = 9,
	DV_FEATURE_PROGRAM_KEEPALIVE = 10,
	DV_FEATURE_REMOTE_EVENT_CALLBACK = 14,
	DV_FEATURE_REMOTE_CLOSE_CALLBACK = 15,
};

/* cfg must outlive the daemon's main loop. */
void conn_procs_register(const struct daemon_config *cfg);
/* Changes the answer to CONNECT_SUPPORTS_FEATURE for a feature. */
void conn_set_feature(int feature, bool supported);
/* The URI the client opened (NULL before CONNECT_OPEN). */
const char *conn_client_uri(struct rpc_client *c);

#endif
