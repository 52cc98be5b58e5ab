// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * kvm-holder: keeps one KVM VM (in-kernel irqchip, one vCPU that never
 * runs) alive until it is killed.  Part of the KVM test host's initramfs
 * (built by tests/host/build-host, started by tests/host/init).
 *
 * Why: KVM enables the static key preempt_notifier_key when the first VM
 * is created and disables it when the last one is destroyed, and a vCPU's
 * local APIC flips apic_sw_disabled; each flip makes the kernel live-patch
 * code (__schedule, KVM's LAPIC paths) through int3 breakpoints.  Under
 * QEMU's multi-threaded TCG that patching sometimes never completes: both
 * CPUs of the test host keep looping through the int3 handler at the patch
 * site and the test host livelocks.  While this VM exists, guests starting
 * and stopping no longer flip those keys.
 *
 * Usage: kvm-holder READY-FILE   (created once the VM and vCPU exist)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "kvm-holder: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	int kvm, vm, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: kvm-holder READY-FILE\n");
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail("KVM_CREATE_IRQCHIP");
	if (ioctl(vm, KVM_CREATE_VCPU, 0) < 0)
		return fail("KVM_CREATE_VCPU");
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(argv[1]);
	close(fd);
	for (;;)
		pause();
}
