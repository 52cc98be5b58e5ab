/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control channel: a SOCK_SEQPACKET socket on which managers query and
 * steer the VMM and receive its notifications (docs/control-protocol.md).
 * Everything here runs on the main thread except control_post_async().
 */
#ifndef DUVISOR_CONTROL_H
#define DUVISOR_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "control-proto.h"
#include "core/vmm.h"

/* Events raised on vCPU threads, delivered from the main thread. */
#define CONTROL_ASYNC_CRASH_LOADED (1u << 0)

/*
 * The balloon device registers here while it exists (one boot); until then
 * balloon requests are answered "unsupported: no balloon device".
 */
struct control_balloon_hook {
	/* Returns 0 or -errno. */
	int (*set_target)(void *opaque, uint64_t bytes);
	/* Appends key=value statistics to the reply. */
	void (*stats)(void *opaque, struct dvctl_buf *reply);
	void *opaque;
};

/* Sets up --control / --control-fd, if any; vmm->control stays NULL
 * without them. Returns 0 or -errno after a message. */
int control_open(struct vmm *vmm);
void control_close(struct vmm *vmm);

/* All are no-ops on a NULL control. */
void control_post_async(struct control *ctl, unsigned int events);
void control_set_balloon(struct control *ctl,
			 const struct control_balloon_hook *hook);

/* Lifecycle notifications from vm.c. */
void control_boot_started(struct control *ctl);
void control_vm_stopped(struct control *ctl, enum vm_stop_reason reason,
			bool by_request, bool rebooting);
void control_exiting(struct control *ctl, int status);

#endif
