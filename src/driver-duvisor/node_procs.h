// SPDX-License-Identifier: GPL-2.0-or-later
/* Host procedures: CPU map, CPU and memory statistics, free memory,
 * SMBIOS data (node_procs.c). */
#ifndef DV_NODE_PROCS_H
#define DV_NODE_PROCS_H

void node_procs_register(void);

#endif
