// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Running VMs as systemd-machined machines: `machinectl list` shows them,
 * and each VMM gets a scope of its own in machine.slice (its cgroup, with
 * CPU, memory and task accounting).  Without systemd or machined the
 * daemon works as before and says so once.
 */
#ifndef DUVISOR_MACHINED_H
#define DUVISOR_MACHINED_H

#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

/* "duvisor-ID-NAME", restricted to what machined accepts in a name. */
char *dv_machine_name(const char *domain_name, int id);

/* Asynchronous: failures are logged (and appended to @log_path).  Takes
 * @gate_fd (may be -1) and closes it once the machine exists (or could
 * not be made, or at once without machined): the VMM waits for that. */
void dv_machined_register(const char *domain_name, const uint8_t uuid[16],
			  int id, pid_t leader, const char *log_path,
			  int gate_fd);
void dv_machined_terminate(const char *domain_name, int id);

/* Drops the bus connection (daemon shutdown). */
void dv_machined_shutdown(void);

#endif
