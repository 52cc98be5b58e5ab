/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host capabilities (CONNECT_GET_CAPABILITIES) and domain capabilities
 * (CONNECT_GET_DOMAIN_CAPABILITIES) XML for virtduvisord, and the machine
 * types DuVisor accepts.
 *
 * What clients read: virt-install/virt-manager host/cpu/arch, guest/os_type,
 * guest/arch/@name, arch/emulator, arch/machine (virt-install takes the
 * first), arch/domain/@type, guest/features; nova host/cpu (arch, model,
 * vendor, topology, features), host/topology/cells (memory, pages, cpus
 * with socket_id/core_id/siblings) and a guest with <domain type='kvm'>.
 *
 * Machines: "duvisor" first (the default), then "pc" and "q35" as aliases
 * with canonical='duvisor', so XML written for QEMU machine names (nova's
 * default, virt-install --machine) is accepted and nova's per-machine
 * domain capability queries succeed.
 *
 * Errors are GErrors in DUVISOR_CONF_ERROR (domain_conf.h) with a
 * virErrorNumber code.
 */
#ifndef DUVISOR_CAPABILITIES_H
#define DUVISOR_CAPABILITIES_H

#include <stdbool.h>

#include <glib.h>

#define DUVISOR_DEFAULT_MACHINE "duvisor"

/* DUVISOR_DEFAULT_MACHINE, or a name accepted for it: "pc", "q35",
 * "pc-i440fx-*", "pc-q35-*" (what tools and nova write for x86). */
bool duvisor_machine_supported(const char *machine);

/* Host capabilities. @vmm_path: duvisor-vmm, shown as the emulator. */
char *duvisor_host_capabilities_xml(const char *vmm_path, GError **error);

/* The same, reading /proc, /sys and /etc under @root (tests). */
char *duvisor_host_capabilities_xml_at(const char *root,
				       const char *vmm_path, GError **error);

/*
 * Domain capabilities. @emulator, @arch, @machine and @virttype are what the
 * client asked for and may each be NULL (defaults: @vmm_path, x86_64,
 * duvisor, kvm). The answer's <machine> is the canonical name "duvisor".
 * Errors: VIR_ERR_INVALID_ARG for another emulator or an unknown machine,
 * VIR_ERR_CONFIG_UNSUPPORTED for another architecture or virt type.
 */
char *duvisor_domain_capabilities_xml(const char *vmm_path,
				      const char *emulator, const char *arch,
				      const char *machine,
				      const char *virttype, GError **error);

#endif
