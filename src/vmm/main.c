// SPDX-License-Identifier: GPL-2.0-or-later
/* duvisor-vmm: command line. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/vmm.h"

#ifndef DUVISOR_VERSION
#define DUVISOR_VERSION "unknown"
#endif

#define DEFAULT_MEM_SIZE MIB(256)
#define MIN_MEM_SIZE     MIB(32)
#define MAX_MEM_SIZE     GIB(1024)

static void usage(FILE *out)
{
	fprintf(out,
"Usage: duvisor-vmm --kernel PATH [OPTIONS]\n"
"Run one virtual machine that boots a Linux kernel directly.\n"
"\n"
"Guest:\n"
"  -k, --kernel PATH      kernel: bzImage (boot protocol 2.12+) or ELF vmlinux\n"
"  -i, --initrd PATH      initial ramdisk\n"
"  -a, --cmdline STRING   kernel command line (e.g. 'console=ttyS0')\n"
"  -m, --memory SIZE      guest RAM, e.g. 512M or 2G (bare number: MiB;\n"
"                         default 256M, at least 32M)\n"
"  -c, --cpus N           number of vCPUs (default 1)\n"
"\n"
"Console (the guest's COM1, ttyS0):\n"
"      --console KIND     stdio (default), pty (its path is printed),\n"
"                         unix:PATH (a listening socket; the newest client\n"
"                         gets the console), file:PATH (output only), null\n"
"      --console-log PATH also append all console output to PATH\n"
"  On an interactive stdio console, Ctrl-A x quits, Ctrl-A p presses the\n"
"  power button and Ctrl-A Ctrl-A sends Ctrl-A.\n"
"\n"
"Behaviour:\n"
"      --no-reboot        exit when the guest resets instead of rebooting it\n"
"      --stats            print exit counters on stderr when the VM ends\n"
"  -v, --verbose          more diagnostics\n"
"  -h, --help             this text\n"
"      --version          print the version\n"
"\n"
"Signals: SIGTERM or SIGINT press the ACPI power button (the guest shuts\n"
"down cleanly); SIGQUIT stops the VM at once.\n"
"\n"
"Exit status:\n"
"   0  the guest powered off (or the VM was stopped on request)\n"
"   1  invalid arguments or the VM could not be set up\n"
"  32  the guest reset and --no-reboot was given\n"
"  33  the guest triple-faulted (CPU shutdown)\n"
"  34  the guest reported a crash\n"
"  35  the accelerator could not run the guest\n");
}

enum {
	OPT_CONSOLE = 0x100,
	OPT_CONSOLE_LOG,
	OPT_NO_REBOOT,
	OPT_STATS,
	OPT_VERSION,
};

static const struct option long_options[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'a' },
	{ "memory", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "console-log", required_argument, NULL, OPT_CONSOLE_LOG },
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

int main(int argc, char **argv)
{
	struct vmm_config cfg = {
		.mem_size = DEFAULT_MEM_SIZE,
		.ncpus = 1,
		.console_spec = "stdio",
	};
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
					       "pty, unix:PATH, file:PATH or "
					       "null)", optarg);
			cfg.console_spec = optarg;
			break;
		case OPT_CONSOLE_LOG:
			cfg.console_log = optarg;
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
	if (!cfg.kernel_path)
		return bad_arg("%s", "no kernel given: use --kernel PATH");
	return vmm_run(&cfg);
}
