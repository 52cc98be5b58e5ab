// SPDX-License-Identifier: GPL-2.0-or-later
/* The RISC-V machine's system calls in the seccomp allowlists (core/sandbox.c). */
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <ucontext.h>

#include "core/sandbox-rules.h"
#include "core/util.h"

const struct rule sandbox_arch_main_rules[] = {
	/* Boot registers, ISA and timebase of a new vCPU, on each boot. */
	ALLOW_IOCTL(KVM_GET_ONE_REG),
	ALLOW_IOCTL(KVM_SET_ONE_REG),
	/* The PLIC's outputs: virtio interrupts relayed by the main loop. */
	ALLOW_IOCTL(KVM_INTERRUPT),
};
const size_t sandbox_arch_nmain_rules = ARRAY_SIZE(sandbox_arch_main_rules);

const struct rule sandbox_arch_vcpu_rules[] = {
	/* The PLIC's outputs change on the vCPU threads too: UART interrupts,
	 * claims and completions are MMIO exits. */
	ALLOW_IOCTL(KVM_INTERRUPT),
};
const size_t sandbox_arch_nvcpu_rules = ARRAY_SIZE(sandbox_arch_vcpu_rules);

unsigned long sandbox_arch_syscall_arg1(const void *uc)
{
	/* __gregs[0] is the pc, then x1..x31: a1 is x11. */
	return ((const ucontext_t *)uc)->uc_mcontext.__gregs[11];
}
