// SPDX-License-Identifier: GPL-2.0-or-later
/* duvisor-vmm: command line. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "core/vmm.h"

#ifndef DUVISOR_VERSION
#define DUVISOR_VERSION "unknown"
#endif

/* Packagers may turn the sandbox on by default (-DSANDBOX_DEFAULT=1). */
#ifndef SANDBOX_DEFAULT
#define SANDBOX_DEFAULT 0
#endif

#define DEFAULT_MEM_SIZE MIB(256)
#define MIN_MEM_SIZE     MIB(32)
#define MAX_MEM_SIZE     GIB(1024)

static void usage(FILE *out)
{
	fprintf(out,
"Usage: duvisor-vmm --kernel PATH|--kernel-fd N [OPTIONS]\n"
"Run one virtual machine that boots a Linux kernel directly.\n"
"\n"
"Guest:\n"
"  -k, --kernel PATH      kernel: %s\n"
"  -i, --initrd PATH      initial ramdisk\n"
"  -a, --cmdline STRING   kernel command line (e.g. 'console=ttyS0')\n"
"  -m, --memory SIZE      guest RAM, e.g. 512M or 2G (bare number: MiB;\n"
"                         default 256M, at least 32M)\n"
"  -c, --cpus N           number of vCPUs (default 1)\n"
"      --memory-merge on|off\n"
"                         let the host's KSM merge identical guest pages\n"
"                         with other processes' (default on; it only acts\n"
"                         when the host runs KSM)\n"
"\n"
"Console (the guest's COM1, ttyS0):\n"
"      --console KIND     stdio (default), pty (its path is printed),\n"
"                         unix:PATH (a listening socket; the newest client\n"
"                         gets the console), file:PATH (output only),\n"
"                         fd:N (inherited: a pty master, a connected or\n"
"                         listening socket, or a file for output only),\n"
"                         null\n"
"      --console-log PATH|fd:N\n"
"                         also append all console output to PATH (or to\n"
"                         the inherited file N)\n"
"  On an interactive stdio console, Ctrl-A x quits, Ctrl-A p presses the\n"
"  power button and Ctrl-A Ctrl-A sends Ctrl-A.\n"
"\n"
"Devices (virtio-mmio):\n"
"      --disk path=FILE[,readonly=on][,serial=S][,direct=on]\n"
"      --disk fd=N[,...]  a raw disk image or block device (up to 8; the\n"
"                         guest sees them as vda, vdb... in this order);\n"
"                         fd=N: an open descriptor inherited from a manager;\n"
"                         serial: printable ASCII, cut to 20 bytes (the\n"
"                         guest's /sys/block/vdX/serial, by-id names);\n"
"                         direct=on: O_DIRECT, bypass the host page cache\n"
"      --net tap=NAME[,mac=52:54:00:12:34:56]\n"
"      --net fd=N[,mac=...]  a NIC on a tap device (up to 4; the guest sees\n"
"                         them as eth0, eth1... in this order); fd=N: an\n"
"                         open tap inherited from a manager; the tap should\n"
"                         have IFF_VNET_HDR for checksum and segmentation\n"
"                         offloads; mac: the guest's address (default\n"
"                         52:54:00 and three random bytes)\n"
"      --rng              an entropy device fed by getrandom()\n"
"      --balloon [stats-period=N][,deflate-on-oom=on][,target=SIZE]\n"
"                [,free-page-reporting=on]\n"
"                         a memory balloon (managers set its target over\n"
"                         --control); stats-period: ask the guest for its\n"
"                         memory statistics every N seconds (default 0:\n"
"                         only once, when its driver starts);\n"
"                         deflate-on-oom=on: the guest may take pages back\n"
"                         when it runs out of memory; target: the guest's\n"
"                         memory at boot, as for --memory;\n"
"                         free-page-reporting=on: memory the guest frees\n"
"                         goes back to the host\n", arch_kernel_formats());
	/* Two strings: C17 compilers need not take longer ones. */
	fprintf(out,
"      --vsock cid=N,uds=PATH\n"
"      --vsock cid=N,uds-fd=N[,uds=PATH][,dir-fd=N]\n"
"                         guest sockets (AF_VSOCK, CID N >= 3) to host unix\n"
"                         sockets: host clients connect to PATH and send\n"
"                         'CONNECT <port>\\n'; the guest's connections to\n"
"                         the host's port P go to PATH_P; uds-fd: an\n"
"                         inherited listening socket instead of binding\n"
"                         PATH; dir-fd: an inherited directory PATH (then\n"
"                         a name) is in (docs/vsock.md)\n"
"\n"
"Control and confinement (docs/control-protocol.md, docs/sandbox.md):\n"
"      --control unix:PATH  listen for managers on a SOCK_SEQPACKET socket\n"
"      --control-fd N     an inherited listening or connected socket\n"
"      --kvm-fd N         an open /dev/kvm instead of opening it\n"
"      --accel kvm|dvext  what runs the guest: KVM (default) or, in riscv64\n"
"                         builds only, the DV-Ext control plane\n"
"                         /dev/duvisor (docs/dvext-kmod.md)\n"
"      --wait-fd N        create the VM only once fd N gives a byte or EOF\n"
"                         (a manager finishes its set-up, e.g. moving us\n"
"                         into our cgroup, first)\n"
"      --kernel-fd N, --initrd-fd N\n"
"                         open images instead of --kernel/--initrd paths\n"
"      --user UID --group GID\n"
"                         drop to these ids before running the guest\n"
"      --sandbox on|off   seccomp allowlists per thread (default %s)\n"
"\n"
"Behaviour:\n"
"      --no-reboot        exit when the guest resets instead of rebooting it\n"
"      --stats            print exit counters on stderr when the VM ends\n"
"  -v, --verbose          more diagnostics\n"
"  -h, --help             this text\n"
"      --version          print the version\n"
"\n"
"Signals: SIGTERM or SIGINT press the power button (ACPI on x86, a\n"
"virtio-input key on RISC-V: the guest shuts down cleanly); SIGQUIT stops\n"
"the VM at once.\n"
"\n"
"Exit status:\n"
"   0  the guest powered off (or the VM was stopped on request)\n"
"   1  invalid arguments or the VM could not be set up\n"
"  32  the guest reset and --no-reboot was given\n"
"  33  the guest triple-faulted (CPU shutdown)\n"
"  34  the guest reported a crash\n"
"  35  the accelerator could not run the guest\n",
		SANDBOX_DEFAULT ? "on" : "off");
}

enum {
	OPT_CONSOLE = 0x100,
	OPT_CONSOLE_LOG,
	OPT_NO_REBOOT,
	OPT_STATS,
	OPT_VERSION,
	OPT_DISK,
	OPT_NET,
	OPT_RNG,
	OPT_BALLOON,
	OPT_VSOCK,
	OPT_CONTROL,
	OPT_CONTROL_FD,
	OPT_KVM_FD,
	OPT_WAIT_FD,
	OPT_KERNEL_FD,
	OPT_INITRD_FD,
	OPT_USER,
	OPT_GROUP,
	OPT_SANDBOX,
	OPT_MEMORY_MERGE,
	OPT_TEST_FORBIDDEN,
	OPT_ACCEL,
};

static const struct option long_options[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'a' },
	{ "memory", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "console-log", required_argument, NULL, OPT_CONSOLE_LOG },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "balloon", optional_argument, NULL, OPT_BALLOON },
	{ "vsock", required_argument, NULL, OPT_VSOCK },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "control-fd", required_argument, NULL, OPT_CONTROL_FD },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "kvm-fd", required_argument, NULL, OPT_KVM_FD },
	{ "wait-fd", required_argument, NULL, OPT_WAIT_FD },
	{ "kernel-fd", required_argument, NULL, OPT_KERNEL_FD },
	{ "initrd-fd", required_argument, NULL, OPT_INITRD_FD },
	{ "user", required_argument, NULL, OPT_USER },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "sandbox", required_argument, NULL, OPT_SANDBOX },
	{ "memory-merge", required_argument, NULL, OPT_MEMORY_MERGE },
	/* Tests only: lets a control request attempt a forbidden call. */
	{ "test-trigger-forbidden-syscall", no_argument, NULL,
	  OPT_TEST_FORBIDDEN },
	{ "no-reboot", no_argument, NULL, OPT_NO_REBOOT },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int bad_arg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_arg(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "duvisor-vmm: error: %s (see --help)\n", msg);
	return VMM_EXIT_FAILURE;
}

/* An inherited descriptor number; it must be open. */
static int parse_fd_arg(const char *opt, const char *s, int *fd)
{
	uint64_t v;

	if (parse_uint(s, INT32_MAX, &v) < 0)
		return bad_arg("%s: invalid descriptor '%s'", opt, s);
	if (fcntl((int)v, F_GETFD) < 0)
		return bad_arg("%s: descriptor %s is not open", opt, s);
	*fd = (int)v;
	return 0;
}

/* Numeric ids only: name lookups would need /etc at a manager's whim. */
static int parse_id_arg(const char *opt, const char *s, uint32_t *id)
{
	uint64_t v;

	if (parse_uint(s, UINT32_MAX - 1, &v) < 0)
		return bad_arg("%s: invalid numeric id '%s'", opt, s);
	*id = (uint32_t)v;
	return 0;
}

static int parse_accel(const char *s, enum vmm_accel *accel)
{
	if (!strcmp(s, "kvm")) {
		*accel = VMM_ACCEL_KVM;
		return 0;
	}
	if (strcmp(s, "dvext"))
		return bad_arg("--accel takes kvm or dvext, not '%s'", s);
#if defined(__riscv)
	*accel = VMM_ACCEL_DVEXT;
	return 0;
#else
	return bad_arg("%s", "--accel dvext: the DV-Ext accelerator "
		       "(/dev/duvisor) is only available in riscv64 builds");
#endif
}

static const char *fd_name(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "fd:%d", fd);
	return buf;
}

int main(int argc, char **argv)
{
	struct vmm_config cfg = {
		.mem_size = DEFAULT_MEM_SIZE,
		.ncpus = 1,
		.console_spec = "stdio",
		.kvm_fd = -1,
		.wait_fd = -1,
		.kernel_fd = -1,
		.initrd_fd = -1,
		.control_fd = -1,
		.sandbox = SANDBOX_DEFAULT,
		.mem_merge = true,
	};
	char err[256], kernel_name[32], initrd_name[32];
	bool have_uid = false, have_gid = false;
	uint64_t v;
	int opt;

	/* getopt's own messages would not follow our one-line format. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":k:i:a:m:c:vh", long_options,
				  NULL)) != -1) {
		switch (opt) {
		case 'k':
			cfg.kernel_path = optarg;
			break;
		case 'i':
			cfg.initrd_path = optarg;
			break;
		case 'a':
			cfg.cmdline = optarg;
			break;
		case 'm':
			if (parse_size(optarg, true, &v) < 0)
				return bad_arg("invalid memory size '%s'", optarg);
			if (v < MIN_MEM_SIZE || v > MAX_MEM_SIZE)
				return bad_arg("memory size '%s' out of range "
					       "(32M to 1024G)", optarg);
			cfg.mem_size = ALIGN_UP(v, MIB(2));
			break;
		case 'c':
			if (parse_uint(optarg, UINT32_MAX, &v) < 0 || v == 0)
				return bad_arg("invalid vCPU count '%s'", optarg);
			cfg.ncpus = (uint32_t)v;
			break;
		case OPT_CONSOLE:
			if (!console_spec_valid(optarg))
				return bad_arg("invalid console '%s' (stdio, "
					       "pty, unix:PATH, file:PATH, "
					       "fd:N or null)", optarg);
			cfg.console_spec = optarg;
			break;
		case OPT_CONSOLE_LOG:
			cfg.console_log = optarg;
			break;
		case OPT_DISK:
			if (cfg.ndisks == VMM_MAX_DISKS)
				return bad_arg("at most %d disks", VMM_MAX_DISKS);
			if (parse_disk_option(optarg, &cfg.disks[cfg.ndisks],
					      err, sizeof(err)) < 0)
				return bad_arg("--disk %s: %s", optarg, err);
			cfg.ndisks++;
			break;
		case OPT_NET:
			if (cfg.nnics == VMM_MAX_NICS)
				return bad_arg("at most %d NICs", VMM_MAX_NICS);
			if (parse_net_option(optarg, &cfg.nics[cfg.nnics],
					     err, sizeof(err)) < 0)
				return bad_arg("--net %s: %s", optarg, err);
			cfg.nnics++;
			break;
		case OPT_RNG:
			cfg.rng = true;
			break;
		case OPT_BALLOON:
			/* Options may follow as a separate word too. */
			if (!optarg && optind < argc && argv[optind][0] != '-' &&
			    strchr(argv[optind], '='))
				optarg = argv[optind++];
			if (parse_balloon_option(optarg ? optarg : "",
						 &cfg.balloon, err,
						 sizeof(err)) < 0)
				return bad_arg("--balloon %s: %s",
					       optarg ? optarg : "", err);
			break;
		case OPT_VSOCK:
			if (cfg.vsock.enabled)
				return bad_arg("%s", "at most one --vsock");
			if (parse_vsock_option(optarg, &cfg.vsock, err,
					       sizeof(err)) < 0)
				return bad_arg("--vsock %s: %s", optarg, err);
			break;
		case OPT_CONTROL:
			if (strncmp(optarg, "unix:", 5) || !optarg[5])
				return bad_arg("invalid control '%s' (unix:PATH)",
					       optarg);
			cfg.control_spec = optarg;
			break;
		case OPT_CONTROL_FD:
			if (parse_fd_arg("--control-fd", optarg, &cfg.control_fd))
				return VMM_EXIT_FAILURE;
			break;
		case OPT_ACCEL:
			if (parse_accel(optarg, &cfg.accel))
				return VMM_EXIT_FAILURE;
			break;
		case OPT_KVM_FD:
			if (parse_fd_arg("--kvm-fd", optarg, &cfg.kvm_fd))
				return VMM_EXIT_FAILURE;
			break;
		case OPT_WAIT_FD:
			if (parse_fd_arg("--wait-fd", optarg, &cfg.wait_fd))
				return VMM_EXIT_FAILURE;
			break;
		case OPT_KERNEL_FD:
			if (parse_fd_arg("--kernel-fd", optarg, &cfg.kernel_fd))
				return VMM_EXIT_FAILURE;
			break;
		case OPT_INITRD_FD:
			if (parse_fd_arg("--initrd-fd", optarg, &cfg.initrd_fd))
				return VMM_EXIT_FAILURE;
			break;
		case OPT_USER:
			if (parse_id_arg("--user", optarg, &cfg.uid))
				return VMM_EXIT_FAILURE;
			have_uid = true;
			break;
		case OPT_GROUP:
			if (parse_id_arg("--group", optarg, &cfg.gid))
				return VMM_EXIT_FAILURE;
			have_gid = true;
			break;
		case OPT_SANDBOX:
		case OPT_MEMORY_MERGE:
			if (strcmp(optarg, "on") && strcmp(optarg, "off"))
				return bad_arg("--%s takes on or off, not '%s'",
					       opt == OPT_SANDBOX ? "sandbox" :
					       "memory-merge", optarg);
			*(opt == OPT_SANDBOX ? &cfg.sandbox : &cfg.mem_merge) =
				!strcmp(optarg, "on");
			break;
		case OPT_TEST_FORBIDDEN:
			cfg.test_forbidden_syscall = true;
			break;
		case OPT_NO_REBOOT:
			cfg.no_reboot = true;
			break;
		case OPT_STATS:
			cfg.stats = true;
			break;
		case 'v':
			vmm_log_set_verbose(true);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("duvisor-vmm %s\n", DUVISOR_VERSION);
			return 0;
		case ':':
			return bad_arg("option '%s' needs a value",
				       argv[optind - 1]);
		default:
			return bad_arg("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_arg("unexpected argument '%s'", argv[optind]);
	if (cfg.kernel_fd >= 0 && cfg.kernel_path)
		return bad_arg("%s", "give one of --kernel and --kernel-fd");
	if (cfg.initrd_fd >= 0 && cfg.initrd_path)
		return bad_arg("%s", "give one of --initrd and --initrd-fd");
	if (cfg.kvm_fd >= 0 && cfg.accel != VMM_ACCEL_KVM)
		return bad_arg("%s", "--kvm-fd goes with --accel kvm");
	if (cfg.control_fd >= 0 && cfg.control_spec)
		return bad_arg("%s", "give one of --control and --control-fd");
	if (cfg.balloon.target > cfg.mem_size)
		return bad_arg("%s", "--balloon target= is more than --memory");
	if (have_uid != have_gid)
		return bad_arg("%s", "--user and --group go together");
	cfg.drop_ids = have_uid;
	/* Messages name inherited images by their descriptor. */
	if (cfg.kernel_fd >= 0)
		cfg.kernel_path = fd_name(kernel_name, sizeof(kernel_name),
					  cfg.kernel_fd);
	if (cfg.initrd_fd >= 0)
		cfg.initrd_path = fd_name(initrd_name, sizeof(initrd_name),
					  cfg.initrd_fd);
	if (!cfg.kernel_path)
		return bad_arg("%s", "no kernel given: use --kernel PATH");
	return vmm_run(&cfg);
}
