// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain events: clients register callbacks per event ID (procedure 316,
 * optionally for one domain) and get MESSAGE packets carrying their own
 * callback ID.
 */
#ifndef DV_EVENTS_H
#define DV_EVENTS_H

#include "rpc_server.h"

/* Registers procedures 316/317 and forgets a client's callbacks when it
 * goes away. */
void duvisor_events_init(struct rpc_server *srv);

/* VIR_DOMAIN_EVENT_ID_LIFECYCLE (proc 318); event/detail: virDomainEventType
 * and its detail enum.  id: the domain ID, -1 when inactive. */
void duvisor_events_lifecycle(const char *name, const unsigned char *uuid,
			      int id, int event, int detail);
/* VIR_DOMAIN_EVENT_ID_REBOOT (proc 319). */
void duvisor_events_reboot(const char *name, const unsigned char *uuid,
			   int id);

/* VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE (proc 331): the guest's memory is
 * now actual_kib. */
void duvisor_events_balloon_change(const char *name, const unsigned char *uuid,
				   int id, uint64_t actual_kib);

/*
 * Any event: msg is the message structure of procedure proc (filter its XDR
 * function) and callback_id points to its callbackID field, which is set
 * for each receiving client.  uuid: the domain the event is about.
 */
void duvisor_events_broadcast(int event_id, const unsigned char *uuid,
			      int proc, xdrproc_t filter, void *msg,
			      int *callback_id);

/* Number of callbacks registered for event_id over all clients (for any
 * domain). */
unsigned int duvisor_events_count(int event_id);

#endif
