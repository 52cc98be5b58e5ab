// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * duvisor-host-validate: can this host run DuVisor VMs, and how well?
 * Prints one PASS/WARN/FAIL line per check, with a hint for each problem;
 * exits 1 when a check failed, 0 otherwise (warnings included).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef DUVISOR_VERSION
#define DUVISOR_VERSION "unknown"
#endif

enum verdict { PASS, WARN, FAIL, NOTE };

static const char *const verdict_names[] = { "PASS", "WARN", "FAIL", "NOTE" };

static struct {
	bool quiet;
	unsigned int failed, warned;
} run;

/* One result line: "DUVISOR: Checking WHAT : VERDICT (HINT)". */
static void report(enum verdict v, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(enum verdict v, const char *what, const char *fmt, ...)
{
	char hint[512] = "";
	va_list ap;

	if (v == FAIL)
		run.failed++;
	else if (v == WARN)
		run.warned++;
	if (run.quiet && (v == PASS || v == NOTE))
		return;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(hint, sizeof(hint), fmt, ap);
		va_end(ap);
	}
	printf("DUVISOR: Checking %-45s: %s%s%s%s\n", what, verdict_names[v],
	       *hint ? " (" : "", hint, *hint ? ")" : "");
}

static bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* The first line of a small file, without its newline; false if none. */
static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static bool word_in(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* Whether /proc/cpuinfo's flags name hardware virtualisation. */
static const char *cpu_virt_flag(void)
{
	static char line[8192];
	const char *found = NULL;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return NULL;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (word_in(line, "vmx"))
			found = "vmx";
		else if (word_in(line, "svm"))
			found = "svm";
	}
	fclose(f);
	return found;
}

/* A KVM that runs no unmodified guest well: PVM is a software-only
 * hypervisor (guests must be built for it). */
static bool software_only_kvm(void)
{
	return path_exists("/sys/module/kvm_pvm");
}

static void check_kvm(void)
{
	static const struct { long cap; const char *name; } caps[] = {
		{ KVM_CAP_USER_MEMORY, "user memory" },
		{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
		{ KVM_CAP_IOEVENTFD, "ioeventfd" },
		{ KVM_CAP_IRQFD, "irqfd" },
		{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
	};
	const char *flag = cpu_virt_flag();
	int fd, api;

	if (flag)
		report(PASS, "for hardware virtualization", NULL);
	else
		report(software_only_kvm() ? WARN : FAIL,
		       "for hardware virtualization",
		       "no vmx/svm CPU flag: enable VT-x/AMD-V in the "
		       "firmware, or run on a host that exposes it");
	if (!path_exists("/dev/kvm")) {
		report(FAIL, "if device /dev/kvm exists",
		       "load kvm_intel or kvm_amd");
		return;
	}
	report(PASS, "if device /dev/kvm exists", NULL);
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		report(FAIL, "if device /dev/kvm is accessible",
		       "%s: the daemon opens it as root and hands it to the "
		       "VMM; to run duvisor-vmm yourself, join group kvm",
		       strerror(errno));
		return;
	}
	report(PASS, "if device /dev/kvm is accessible", NULL);
	api = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		report(FAIL, "for the KVM API version",
		       "got %d, DuVisor needs %d", api, KVM_API_VERSION);
	} else {
		report(PASS, "for the KVM API version", NULL);
		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			char what[64];

			snprintf(what, sizeof(what), "for KVM %s",
				 caps[i].name);
			if (ioctl(fd, KVM_CHECK_EXTENSION, caps[i].cap) > 0)
				report(PASS, what, NULL);
			else
				report(FAIL, what, "duvisor-vmm needs it: "
				       "a newer kernel is required");
		}
	}
	close(fd);
	if (software_only_kvm())
		report(WARN, "if KVM runs unmodified guests",
		       "/dev/kvm is PVM, a software-only hypervisor: "
		       "unmodified Linux guests cannot run well (or at all) "
		       "here; use a host with VT-x/AMD-V");
	else
		report(PASS, "if KVM runs unmodified guests", NULL);
}

static void check_devices(void)
{
	if (path_exists("/dev/net/tun"))
		report(PASS, "if device /dev/net/tun exists", NULL);
	else
		report(FAIL, "if device /dev/net/tun exists",
		       "load the tun module: guests have no network without "
		       "it");
	if (path_exists("/dev/vhost-net"))
		report(PASS, "if device /dev/vhost-net exists", NULL);
	else
		report(NOTE, "if device /dev/vhost-net exists",
		       "absent: virtio-net runs in the VMM's own data path");
	if (path_exists("/dev/vhost-vsock"))
		report(PASS, "if device /dev/vhost-vsock exists", NULL);
	else
		report(NOTE, "if device /dev/vhost-vsock exists",
		       "absent: vsock runs in the VMM (host AF_UNIX sockets)");
}

static void check_confinement(void)
{
	char line[512];

	if (read_line("/proc/sys/kernel/seccomp/actions_avail", line,
		      sizeof(line)) && word_in(line, "kill_process"))
		report(PASS, "for seccomp filters", NULL);
	else
		report(FAIL, "for seccomp filters",
		       "the kernel lacks CONFIG_SECCOMP_FILTER: the VMM "
		       "cannot confine itself");
	if (!read_line("/sys/fs/cgroup/cgroup.controllers", line,
		       sizeof(line))) {
		report(WARN, "for cgroup v2",
		       "no unified hierarchy at /sys/fs/cgroup: VMs get no "
		       "cgroup of their own");
		return;
	}
	report(PASS, "for cgroup v2", NULL);
	static const char *const controllers[] = { "cpu", "memory", "pids",
						   "io" };
	for (size_t i = 0; i < 4; i++) {
		char what[64];

		snprintf(what, sizeof(what), "for cgroup '%s' controller",
			 controllers[i]);
		if (word_in(line, controllers[i]))
			report(PASS, what, NULL);
		else
			report(WARN, what, "not enabled: no %s accounting "
			       "or limits for VMs", controllers[i]);
	}
}

static void check_systemd(void)
{
	if (!path_exists("/run/systemd/system")) {
		report(NOTE, "for systemd", "not the init system: no socket "
		       "activation and no machined registration");
		return;
	}
	report(PASS, "for systemd", NULL);
	if (path_exists("/run/systemd/machines"))
		report(PASS, "for systemd-machined", NULL);
	else
		report(WARN, "for systemd-machined",
		       "not running: VMs will not show in machinectl "
		       "(install systemd-container)");
}

static void check_dv_ext(void)
{
	struct utsname u;

	if (uname(&u) < 0 || strcmp(u.machine, "riscv64"))
		return;     /* DV-Ext is a RISC-V extension */
	if (path_exists("/dev/duvisor"))
		report(PASS, "for the DV-Ext control plane (/dev/duvisor)",
		       NULL);
	else
		report(FAIL, "for the DV-Ext control plane (/dev/duvisor)",
		       "load DuVisor's kernel module (kmod/)");
}

static void usage(FILE *out)
{
	fprintf(out,
"Usage: duvisor-host-validate [-q]\n"
"Checks that this host can run DuVisor VMs: KVM, devices, confinement,\n"
"systemd.  Exit status 1 when a check failed.\n"
"  -q, --quiet    only the warnings and failures\n"
"  -h, --help     this text\n"
"      --version  print the version\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "qh", options, NULL)) != -1) {
		switch (opt) {
		case 'q':
			run.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("duvisor-host-validate (DuVisor) %s\n",
			       DUVISOR_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	check_kvm();
	check_devices();
	check_confinement();
	check_systemd();
	check_dv_ext();
	return run.failed ? 1 : 0;
}
