// SPDX-License-Identifier: GPL-2.0-or-later
/* The x86 machine's system calls in the seccomp allowlists (core/sandbox.c). */
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <ucontext.h>

#include "core/sandbox-rules.h"
#include "core/util.h"

const struct rule sandbox_arch_main_rules[] = {
	/* In-kernel irqchip and PIT, CPUID, boot state: built on each boot. */
	ALLOW_IOCTL(KVM_GET_SUPPORTED_CPUID),
	ALLOW_IOCTL(KVM_CREATE_IRQCHIP),
	ALLOW_IOCTL(KVM_CREATE_PIT2),
	ALLOW_IOCTL(KVM_SET_TSS_ADDR),
	ALLOW_IOCTL(KVM_SET_IDENTITY_MAP_ADDR),
	ALLOW_IOCTL(KVM_IRQ_LINE),
	ALLOW_IOCTL(KVM_IRQFD),
	ALLOW_IOCTL(KVM_SET_CPUID2),
	ALLOW_IOCTL(KVM_SET_MSRS),
	ALLOW_IOCTL(KVM_GET_REGS),   /* vCPU state after a failed exit */
	ALLOW_IOCTL(KVM_GET_SREGS),
	ALLOW_IOCTL(KVM_SET_SREGS),
	ALLOW_IOCTL(KVM_SET_REGS),
	ALLOW_IOCTL(KVM_SET_FPU),
};
const size_t sandbox_arch_nmain_rules = ARRAY_SIZE(sandbox_arch_main_rules);

const struct rule sandbox_arch_vcpu_rules[] = {
	ALLOW_IOCTL(KVM_IRQ_LINE),   /* device interrupts (COM1, GED) */
	/* Reading its own registers for the log after a failed exit. */
	ALLOW_IOCTL(KVM_GET_REGS),
	ALLOW_IOCTL(KVM_GET_SREGS),
};
const size_t sandbox_arch_nvcpu_rules = ARRAY_SIZE(sandbox_arch_vcpu_rules);

unsigned long sandbox_arch_syscall_arg1(const void *uc)
{
	return (unsigned long)((const ucontext_t *)uc)->uc_mcontext.gregs[REG_RSI];
}
