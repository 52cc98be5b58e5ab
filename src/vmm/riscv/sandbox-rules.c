// SPDX-License-Identifier: GPL-2.0-or-later
/* The RISC-V machine's system calls in the seccomp allowlists (core/sandbox.c). */
#include <linux/duvisor.h>
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

/*
 * --accel dvext (accel/dvext*.c): the module's calls instead of KVM's.
 * vCPU threads bind themselves (REGISTER_VCPU) and create their timer
 * before their own list narrows the main one, so those two are here.
 */
const struct rule sandbox_dvext_main_rules[] = {
	ALLOW_IOCTL(DUVISOR_CREATE_VM),
	ALLOW_IOCTL(DUVISOR_REQUEST_DELEG),
	ALLOW_IOCTL(DUVISOR_SET_MEMORY_REGION),
	ALLOW_IOCTL(DUVISOR_CREATE_VCPU),
	ALLOW_IOCTL(DUVISOR_REGISTER_VCPU),
	ALLOW(timer_create),
	ALLOW(timer_delete),             /* the vCPU's, at the end of a boot */
	/* The PLIC's outputs: virtio interrupts relayed by the main loop. */
	ALLOW_IOCTL(DUVISOR_SET_IRQ),
	/* vCPU threads inherit this filter before narrowing it. */
	ALLOW_IOCTL(DUVISOR_RUN),
	ALLOW_IOCTL(DUVISOR_GET_CSRS),
	ALLOW_IOCTL(DUVISOR_SET_CSRS),
	ALLOW_IOCTL(DUVISOR_REMOTE_FENCE),
	ALLOW_IOCTL(DUVISOR_INJECT_EXCEPTION),
	ALLOW(timer_settime),
};
const size_t sandbox_dvext_nmain_rules = ARRAY_SIZE(sandbox_dvext_main_rules);

const struct rule sandbox_dvext_vcpu_rules[] = {
	ALLOW_IOCTL(DUVISOR_RUN),
	/* The PLIC's outputs, IPIs to other vCPUs, the guest timer. */
	ALLOW_IOCTL(DUVISOR_SET_IRQ),
	ALLOW(timer_settime),
	/* WFI reads the guest's sie; an HSM start resets its CSRs. */
	ALLOW_IOCTL(DUVISOR_GET_CSRS),
	ALLOW_IOCTL(DUVISOR_SET_CSRS),
	/* SBI RFENCE, on the VM's fd. */
	ALLOW_IOCTL(DUVISOR_REMOTE_FENCE),
	/* What the VMM does not emulate, the guest takes as an exception. */
	ALLOW_IOCTL(DUVISOR_INJECT_EXCEPTION),
};
const size_t sandbox_dvext_nvcpu_rules = ARRAY_SIZE(sandbox_dvext_vcpu_rules);

unsigned long sandbox_arch_syscall_arg1(const void *uc)
{
	/* __gregs[0] is the pc, then x1..x31: a1 is x11. */
	return ((const ucontext_t *)uc)->uc_mcontext.__gregs[11];
}
