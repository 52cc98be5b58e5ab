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

/* Events raised on other threads, delivered from the main thread. */
#define CONTROL_ASYNC_CRASH_LOADED (1u << 0)
#define CONTROL_ASYNC_BALLOON      (1u << 1)  /* the balloon's size changed */

/*
 * The balloon device registers here while it exists (one boot); until then
 * balloon requests are answered "unsupported: no balloon device". All are
 * called on the main thread.
 */
struct control_balloon_hook {
	/* Both return 0 or -errno (-EINVAL: out of range). */
	int (*set_target)(void *opaque, uint64_t bytes);
	int (*set_stats_period)(void *opaque, uint32_t seconds);
	/* Appends key=value statistics to the reply. */
	void (*stats)(void *opaque, struct dvctl_buf *reply);
	/* The guest's memory now (RAM less the balloon), bytes. */
	uint64_t (*actual)(void *opaque);
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
