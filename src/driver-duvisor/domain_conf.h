/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Domain definitions: the subset of libvirt's domain XML that DuVisor
 * accepts, parsed into struct duvisor_domain_def, formatted back, and turned
 * into a duvisor-vmm command line.
 *
 * Policy (see xml-schemas/domain.rng for the exact grammar):
 *  - Every element and attribute the parser does not know is an error, so
 *    nothing a user writes is silently lost. The error names the element.
 *  - A few elements that management tools write but that do not change what
 *    the VMM runs (controllers, input devices, video, guest agent channels,
 *    <clock>, <pm>, <sysinfo>, <features> entries) are checked against a
 *    list of known values and kept as raw XML, written back verbatim;
 *    <metadata> is kept verbatim whatever it holds (as libvirt does).
 *  - Dropped on input because the hypervisor assigns them, as libvirt
 *    does: device <address> and <alias>, <domain id>, pty paths (<source
 *    path> of a pty, <console tty>), generated tap names ("vnet*"), the
 *    network port and bridge of an <interface type='network'>, the port
 *    of an autoport VNC display, the address of an automatic vsock cid.
 *    The live format writes them from struct duvisor_domain_live.
 *  - Values are normalised: memory in KiB (rounded up), lower-case MAC
 *    addresses, a UUID (version 4) and MAC addresses (52:54:00:...)
 *    generated when missing, <currentMemory> at most <memory>, serial ports
 *    numbered, and libvirt's console pairing: a <console> with a serial
 *    target is the first <serial> (one is made from it if there is none).
 *
 * Errors are GErrors in DUVISOR_CONF_ERROR whose code is libvirt's
 * virErrorNumber:
 *   VIR_ERR_XML_ERROR (27)          not well-formed XML, a DOCTYPE (so no
 *                                   entities), over 4 MiB or too deep, a
 *                                   missing required element or attribute,
 *                                   an element twice, a malformed or
 *                                   out-of-range value, inconsistencies
 *                                   (duplicate disk targets or boot orders,
 *                                   topology not matching <vcpu>, ...)
 *   VIR_ERR_CONFIG_UNSUPPORTED (67) well-formed configuration DuVisor does
 *                                   not implement: unknown elements and
 *                                   attributes, other domain types, devices,
 *                                   models, formats (message names the
 *                                   element, e.g. "<devices><sound>")
 *   VIR_ERR_INVALID_ARG (8)         unknown flags or NULL arguments
 */
#ifndef DUVISOR_DOMAIN_CONF_H
#define DUVISOR_DOMAIN_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <libvirt/virterror.h>

#include "capabilities.h"   /* machine types */

#define DUVISOR_CONF_ERROR (duvisor_conf_error_quark())
GQuark duvisor_conf_error_quark(void);
/* Sets *error (unless already set) in DUVISOR_CONF_ERROR with a
 * virErrorNumber @code; returns false. */
bool dv_fail(GError **error, int code, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

/* Limits enforced by the parser. */
#define DUVISOR_DOMAIN_XML_MAX   (4u << 20)  /* bytes of XML (the RPC limit) */
#define DUVISOR_NAME_MAX         200         /* bytes of a domain name */
#define DUVISOR_MAX_VCPUS        254         /* what duvisor-vmm can run */
#define DUVISOR_MEMORY_MAX_KIB   (UINT64_C(1) << 42)  /* 4 PiB */
#define DUVISOR_MAX_DEVICES      256         /* per device kind */
#define DUVISOR_MAX_NICS         4           /* duvisor-vmm's --net limit */
/* Generated tap names start with libvirt's prefix, so that tools treating
 * "vnet*" as transient (libvirt itself, virt-manager) do the same with
 * ours; the parser drops such names from <interface><target dev> (unless
 * managed='no': a tap someone else made), as they are live state. */
#define DUVISOR_TAP_PREFIX       "vnet"

enum duvisor_lifecycle_action {
	DUVISOR_ACTION_DESTROY,
	DUVISOR_ACTION_RESTART,
	DUVISOR_ACTION_PRESERVE,
	DUVISOR_ACTION_RENAME_RESTART,
	DUVISOR_ACTION_COREDUMP_DESTROY,   /* on_crash only */
	DUVISOR_ACTION_COREDUMP_RESTART,   /* on_crash only */
};

enum duvisor_cpu_mode {
	DUVISOR_CPU_NONE,                  /* no mode (no <cpu>, or topology) */
	DUVISOR_CPU_HOST_PASSTHROUGH,
	DUVISOR_CPU_HOST_MODEL,
};

enum duvisor_disk_type { DUVISOR_DISK_FILE, DUVISOR_DISK_BLOCK,
			 DUVISOR_DISK_VOLUME };
enum duvisor_disk_device { DUVISOR_DISK_DISK, DUVISOR_DISK_CDROM };
enum duvisor_disk_format { DUVISOR_FORMAT_NONE, DUVISOR_FORMAT_RAW,
			   DUVISOR_FORMAT_QCOW2 };
enum duvisor_disk_bus { DUVISOR_BUS_VIRTIO, DUVISOR_BUS_SATA,
			DUVISOR_BUS_SCSI, DUVISOR_BUS_IDE };

enum duvisor_net_type { DUVISOR_NET_NETWORK, DUVISOR_NET_BRIDGE,
			DUVISOR_NET_ETHERNET };

enum duvisor_chr_type { DUVISOR_CHR_PTY, DUVISOR_CHR_FILE, DUVISOR_CHR_UNIX,
			DUVISOR_CHR_NULL };
enum duvisor_chr_target { DUVISOR_CHR_TARGET_SERIAL,  /* COM port */
			  DUVISOR_CHR_TARGET_VIRTIO };/* virtio console */

/* Tri-state for optional on/off or yes/no attributes. */
enum duvisor_tristate { DUVISOR_UNSET, DUVISOR_ON, DUVISOR_OFF };

struct duvisor_disk_def {
	enum duvisor_disk_type type;
	enum duvisor_disk_device device;
	bool driver_qemu;               /* <driver name='qemu'> */
	enum duvisor_disk_format format;
	char *cache, *io, *discard, *detect_zeroes;  /* validated words */
	char *path;                     /* file or block device; NULL: empty */
	char *pool, *volume;            /* type='volume' */
	char *target;                   /* "vda" */
	enum duvisor_disk_bus bus;
	bool readonly, shareable;
	char *serial;
	unsigned boot_order;            /* 0: none */
};

/* A virtio-net NIC on a tap device the daemon opens at start. */
struct duvisor_net_def {
	enum duvisor_net_type type;
	uint8_t mac[6];
	char *source;                   /* network or bridge name */
	char *model;                    /* NULL or "virtio" (as written) */
	char *target;                   /* tap name, NULL when generated */
	/* <target managed='no'> (type='ethernet'): an existing tap, used
	 * as it is. */
	enum duvisor_tristate target_managed;
	char *driver_name;              /* vhost|qemu */
	unsigned queues, rx_queue_size, tx_queue_size;
	unsigned mtu;                   /* the host side's; 0: the bridge's */
	enum duvisor_tristate link_up;
	unsigned boot_order;
};

struct duvisor_chr_def {
	enum duvisor_chr_type type;
	char *path;                     /* file or unix socket */
	bool unix_connect;              /* unix: mode='connect' (else bind) */
	enum duvisor_tristate append;   /* file source append */
	enum duvisor_chr_target target;
	int port;                       /* target port */
	char *log_file;
	enum duvisor_tristate log_append;
};

struct duvisor_rng_def {
	bool builtin;                   /* backend model='builtin' */
	char *device;                   /* backend random: /dev/urandom... */
	unsigned rate_bytes, rate_period;
};

struct duvisor_graphics_def {           /* type='vnc' only */
	int port;                       /* -1: automatic */
	enum duvisor_tristate autoport;
	char *listen;                   /* address; NULL: none given */
	bool listen_none;               /* <listen type='none'/> */
	char *passwd;                   /* only formatted with FORMAT_SECURE */
	char *keymap;
};

/* <memoryBacking>: each child as given (all false: absent). */
struct duvisor_memory_backing {
	bool present, nosharepages, source_anonymous, access_private;
	bool allocation_ondemand, discard;
};

struct duvisor_domain_def {
	char *name;
	uint8_t uuid[16];
	char *title, *description;
	char *metadata_xml;             /* <metadata> subtree, verbatim */

	uint64_t memory_kib, current_memory_kib;
	uint64_t max_memory_kib;        /* <maxMemory>; 0: absent */
	unsigned max_memory_slots;
	struct duvisor_memory_backing memory_backing;

	unsigned vcpus, vcpus_current;
	char *vcpu_placement;           /* static|auto or NULL */
	char *vcpu_cpuset;

	char *arch;                     /* "x86_64" */
	char *machine;                  /* as written; default "duvisor" */
	char *kernel, *initrd, *cmdline;
	char **boot_devs;               /* NULL-terminated, may be NULL */
	char *smbios_mode;

	bool acpi, apic;
	char *features_xml, *clock_xml, *pm_xml, *sysinfo_xml;

	enum duvisor_cpu_mode cpu_mode;
	char *cpu_match, *cpu_check, *cpu_migratable;
	unsigned cpu_sockets, cpu_dies, cpu_cores, cpu_threads; /* 0: unset */

	enum duvisor_lifecycle_action on_poweroff, on_reboot, on_crash;

	char *emulator;
	GPtrArray *disks;               /* struct duvisor_disk_def * */
	GPtrArray *nets;                /* struct duvisor_net_def * */
	GPtrArray *serials;             /* struct duvisor_chr_def * */
	GPtrArray *consoles;            /* struct duvisor_chr_def * */
	GPtrArray *rngs;                /* struct duvisor_rng_def * */
	struct duvisor_graphics_def *graphics;  /* at most one, NULL: none */
	bool has_memballoon;            /* always after parsing (default) */
	bool memballoon_virtio;         /* model virtio (else none) */
	enum duvisor_tristate balloon_autodeflate, balloon_free_page_reporting;
	unsigned balloon_stats_period;  /* 0: not given */
	bool has_vsock;
	bool vsock_auto;
	unsigned vsock_cid;             /* 0: not given */
	/* Kept verbatim, in document order (see the policy above). */
	GPtrArray *controllers_xml, *inputs_xml, *videos_xml, *channels_xml;
};

/* Run-time facts of one interface (all optional). */
struct duvisor_net_live {
	const char *tap;                /* the host's end: <target dev> */
	const char *bridge;             /* type='network': the bridge it is on */
	const char *portid;             /* type='network': libvirt's port */
};

/* Run-time facts shown in the live XML (all optional). */
struct duvisor_domain_live {
	int id;                         /* domain id, > 0 */
	const char *console_pty;        /* pty of serial0 (and console0) */
	const struct duvisor_net_live *nets;  /* per interface */
	size_t n_nets;
	unsigned vsock_cid;             /* cid picked for auto, 0: none */
	int vnc_port;                   /* 0: none */
};

/* Parse flags: none yet (the parser always validates strictly, so libvirt's
 * VIR_DOMAIN_DEFINE_VALIDATE needs no flag); pass 0. */
struct duvisor_domain_def *duvisor_domain_def_parse(const char *xml,
						    unsigned flags,
						    GError **error);

/* Format flags: libvirt's VIR_DOMAIN_XML_* values, so the daemon can pass
 * a client's flags through. SECURE includes the VNC password; INACTIVE
 * ignores @live; UPDATE_CPU and MIGRATABLE change nothing. */
enum {
	DUVISOR_FORMAT_SECURE = 1 << 0,
	DUVISOR_FORMAT_INACTIVE = 1 << 1,
	DUVISOR_FORMAT_UPDATE_CPU = 1 << 2,
	DUVISOR_FORMAT_MIGRATABLE = 1 << 3,
};
/* Returns NULL only for unknown flags. */
char *duvisor_domain_def_format(const struct duvisor_domain_def *def,
				const struct duvisor_domain_live *live,
				unsigned flags);

typedef struct duvisor_domain_def duvisor_domain_def;
void duvisor_domain_def_free(struct duvisor_domain_def *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(duvisor_domain_def, duvisor_domain_def_free)
/* A deep copy (format with SECURE, then parse). */
struct duvisor_domain_def *duvisor_domain_def_copy(
	const struct duvisor_domain_def *def, GError **error);
/* Same name and UUID. */
bool duvisor_domain_def_equal_identity(const struct duvisor_domain_def *a,
				       const struct duvisor_domain_def *b);
/* Same configuration (compares the SECURE inactive formats). */
bool duvisor_domain_def_equal(const struct duvisor_domain_def *a,
			      const struct duvisor_domain_def *b);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into buf[37]. */
void duvisor_uuid_format(const uint8_t uuid[16], char buf[37]);
/* 36 characters with dashes or 32 without; false if malformed. */
bool duvisor_uuid_parse(const char *str, uint8_t uuid[16]);
void duvisor_uuid_generate(uint8_t uuid[16]);
/* "52:54:00:xx:xx:xx" into buf[18]. */
void duvisor_mac_format(const uint8_t mac[6], char buf[18]);
/* "xx:xx:xx:xx:xx:xx", either case; false if malformed. */
bool duvisor_mac_parse(const char *str, uint8_t mac[6]);

/* Which disk or interface of @def is at index i. */
#define duvisor_def_disk(def, i) \
	((struct duvisor_disk_def *)g_ptr_array_index((def)->disks, (i)))
#define duvisor_def_net(def, i) \
	((struct duvisor_net_def *)g_ptr_array_index((def)->nets, (i)))
#define duvisor_def_serial(def, i) \
	((struct duvisor_chr_def *)g_ptr_array_index((def)->serials, (i)))
#define duvisor_def_console(def, i) \
	((struct duvisor_chr_def *)g_ptr_array_index((def)->consoles, (i)))
#define duvisor_def_rng(def, i) \
	((struct duvisor_rng_def *)g_ptr_array_index((def)->rngs, (i)))

/*
 * duvisor-vmm's argv (NULL-terminated, for g_spawn; argv[0] = @vmm_path)
 * for what the VMM supports today.  The VMM opens no path: every resource
 * is a file the daemon opens and passes (@files): --kvm-fd (/dev/kvm),
 * --kernel-fd, --initrd-fd, --console fd:N (from the first serial or
 * console: a pty the daemon allocates, a file, a listening unix socket;
 * --console null without any), --console-log fd:N (its <log file>),
 * --disk fd=N,... for each raw virtio disk (in target order: vda, vdb...;
 * readonly, serial, direct=on for cache none/directsync), --net
 * fd=N,mac=... for each interface (in document order: eth0, eth1...; the
 * manager opens a tap for each, see DUVISOR_VMM_FILE_TAP); and --cmdline,
 * --memory (MiB), --cpus, --rng for a virtio RNG, --balloon for the
 * virtio <memballoon> (stats-period, deflate-on-oom for autodeflate,
 * free-page-reporting unless freePageReporting='off', and target= when
 * <currentMemory> is below <memory>), --no-reboot
 * (on_reboot='destroy').  A <vsock> with a fixed cid is added by the
 * launcher (launch.c), which owns its sockets.
 *
 * Always an error (VIR_ERR_CONFIG_UNSUPPORTED): no <kernel> (there is no
 * firmware), memory outside 32 MiB..1024 GiB, an <emulator> other than
 * @vmm_path, a unix console in connect mode.
 * Devices the VMM cannot give the guest yet (non-virtio or non-raw disks,
 * CD-ROMs, storage volumes, automatic vsock cids, a <currentMemory>
 * below <memory> without a balloon, graphics, video, channels, tablet
 * input, further serials, virtio consoles, vCPU hot-plug headroom, a NIC's
 * multiqueue and link state): with DUVISOR_VMM_ARGS_STRICT
 * an error naming the first; without, skipped and described, one line
 * each, in @warnings (may be NULL; gets g_free'd strings).
 */
enum { DUVISOR_VMM_ARGS_STRICT = 1 << 0 };

enum duvisor_vmm_file_kind {
	DUVISOR_VMM_FILE_OPEN,          /* open(path, open_flags, 0600) */
	DUVISOR_VMM_FILE_PTY,           /* a new pty: its master */
	DUVISOR_VMM_FILE_UNIX_LISTEN,   /* a stream socket bound at path */
	DUVISOR_VMM_FILE_TAP,           /* a tap device for interface @net */
};

/* A file the manager opens for the VMM, which gets it as fd @target_fd
 * (the VMM opens no paths itself: it runs without the rights). */
struct duvisor_vmm_file {
	enum duvisor_vmm_file_kind kind;
	const char *what;               /* "kernel", "disk"... for messages */
	int target_fd;
	char *path;                     /* NULL for a pty or a tap */
	int open_flags;                 /* FILE_OPEN: O_RDONLY, O_RDWR... */
	guint net;                      /* FILE_TAP: its index in def->nets */
};
void duvisor_vmm_file_free(struct duvisor_vmm_file *f);

/* How the daemon finds the path of a <disk type='volume'> when a domain
 * starts (storage_resolve.c); errors are GErrors whose code is a
 * virErrorNumber.  Without one, volume disks are not given to guests. */
typedef bool (*duvisor_volume_resolver)(const char *pool, const char *volume,
					char **path, GError **error);
void duvisor_set_volume_resolver(duvisor_volume_resolver fn);

/* The file or block device of @d: its path, or its volume's as storage
 * says now; NULL without a source, or with @error (a virErrorNumber). */
char *duvisor_disk_source_path(const struct duvisor_disk_def *d,
			       GError **error);
/* Where @disk of @def is among the VMM's --disk options (the N of its
 * control protocol's disk.N.*); -1 when the VMM does not get it. */
int duvisor_disk_vmm_index(const struct duvisor_domain_def *def,
			   const struct duvisor_disk_def *disk);
/* The disk of @def libvirt's block calls name by @name: its target (vda)
 * or its source path; NULL if none. */
struct duvisor_disk_def *duvisor_domain_def_find_disk(
	const struct duvisor_domain_def *def, const char *name);

/* @files gets the files to pass, as struct duvisor_vmm_file * (free
 * function set by the caller); their target fds start at 3 and follow
 * each other. */
GPtrArray *duvisor_domain_def_vmm_args(const struct duvisor_domain_def *def,
				       const char *vmm_path, unsigned flags,
				       GPtrArray *files, GPtrArray *warnings,
				       GError **error);

#endif
