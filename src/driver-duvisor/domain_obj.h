// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain objects: what the daemon knows about each domain (definitions,
 * persistence, state and reason, id) and the list of all of them, with
 * lookups by name, UUID and id.
 *
 * A domain has one or two definitions, as in libvirt:
 *  - def: what it runs with while active, its configuration while inactive;
 *  - newdef: while active, the persistent configuration for the next start
 *    when it was redefined (or defined) since it started; NULL otherwise.
 *
 * Objects are reference counted: the list holds one reference, and work
 * that outlives a call (a start waiting for the VMM, a console) holds its
 * own.  A domain taken out of the list is marked removed.  Everything runs
 * in the daemon's main thread.
 */
#ifndef DV_DOMAIN_OBJ_H
#define DV_DOMAIN_OBJ_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain_conf.h"

struct dv_vm;		/* domain_lifecycle.c: the VMM and its jobs */

struct dv_domain {
	unsigned int refs;
	struct duvisor_domain_def *def;
	struct duvisor_domain_def *newdef;
	bool persistent;
	bool autostart;
	bool removed;		/* no longer in the list */
	int id;			/* > 0 while active, -1 otherwise */
	int state;		/* virDomainState */
	int reason;		/* its reason enum */
	gint64 state_time;	/* g_get_real_time() of the last change */
	struct dv_vm *vm;	/* non-NULL while active */
};

/* The list. */
void dv_domains_init(void);
void dv_domains_shutdown(void);	/* drops every domain from the list */

/* New inactive domain (SHUTOFF, reason UNKNOWN) added to the list; takes
 * @def.  The caller checks first that name and UUID are free.  Returns a
 * borrowed pointer (the list's reference). */
struct dv_domain *dv_domain_add(struct duvisor_domain_def *def,
				bool persistent);
/* Takes @dom out of the list and drops the list's reference. */
void dv_domain_remove(struct dv_domain *dom);

struct dv_domain *dv_domain_ref(struct dv_domain *dom);
void dv_domain_unref(struct dv_domain *dom);
typedef struct dv_domain dv_domain_obj;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(dv_domain_obj, dv_domain_unref)

/* Borrowed pointers; NULL when not found. */
struct dv_domain *dv_domain_find_by_name(const char *name);
struct dv_domain *dv_domain_find_by_uuid(const uint8_t uuid[16]);
struct dv_domain *dv_domain_find_by_id(int id);

/* Every domain, sorted by name; each element holds a reference (the array
 * frees them). */
GPtrArray *dv_domain_list(void);
unsigned int dv_domain_count(bool active);

/* The next domain id (1, 2, ...; never one in use).  After re-adopting
 * running domains, dv_domain_reserve_id() makes sure later ids are higher. */
int dv_domain_next_id(void);
void dv_domain_reserve_id(int id);

/* The domain's name and UUID (from def). */
const char *dv_domain_name(const struct dv_domain *dom);
const uint8_t *dv_domain_uuid(const struct dv_domain *dom);
bool dv_domain_is_active(const struct dv_domain *dom);
/* The definition the next start uses (newdef, else def). */
struct duvisor_domain_def *dv_domain_persistent_def(struct dv_domain *dom);

/* Makes @def (taken) the persistent definition of @dom: its definition
 * while inactive; while active, the one of its next start (none when it
 * is the one running).  Returns whether @dom was persistent before. */
bool dv_domain_set_persistent_def(struct dv_domain *dom,
				  struct duvisor_domain_def *def);

void dv_domain_set_state(struct dv_domain *dom, int state, int reason);

/* "running", "shut off"... for logs. */
const char *dv_domain_state_name(int state);

#endif
