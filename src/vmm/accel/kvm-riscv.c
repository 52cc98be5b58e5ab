// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The KVM accelerator: RISC-V specifics. KVM RISC-V (Linux 6.1) handles the
 * SBI base, timer, IPI, RFENCE, HSM and SRST extensions in the kernel and
 * keeps every vCPU but the first powered off until the guest starts it with
 * HSM; it has no in-kernel interrupt controller (AIA came with 6.5), so the
 * PLIC is ours and drives each hart's external interrupt with KVM_INTERRUPT.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm-internal.h"
#include "core/util.h"

#define RISCV_REG(type, index) \
	(KVM_REG_RISCV | KVM_REG_SIZE_U64 | (type) | (uint64_t)(index))
#define CORE_REG(name) RISCV_REG(KVM_REG_RISCV_CORE, KVM_REG_RISCV_CORE_REG(name))

_Static_assert(sizeof(unsigned long) == 8, "rv64 only: registers are 64-bit");

const struct kvm_cap_name kvm_arch_required_caps[] = {
	{ KVM_CAP_ONE_REG, "ONE_REG" },
};
const size_t kvm_arch_nrequired_caps = ARRAY_SIZE(kvm_arch_required_caps);

int kvm_arch_vm_setup(struct accel_vm *vm)
{
	(void)vm;
	return 0;
}

bool kvm_arch_decode_exit(struct accel_vcpu *vcpu, struct accel_exit *exit)
{
	struct kvm_run *run = vcpu->run;

	if (run->exit_reason != KVM_EXIT_RISCV_SBI)
		return false;
	exit->kind = ACCEL_EXIT_HYPERCALL;
	exit->hypercall.ext = run->riscv_sbi.extension_id;
	exit->hypercall.fn = run->riscv_sbi.function_id;
	for (size_t i = 0; i < 6; i++)
		exit->hypercall.args[i] = run->riscv_sbi.args[i];
	/* KVM preset SBI_ERR_NOT_SUPPORTED: unhandled calls fail cleanly. */
	exit->hypercall.ret = (uint64_t *)run->riscv_sbi.ret;
	return true;
}

static int set_reg(struct accel_vcpu *vcpu, uint64_t id, uint64_t value)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)&value };

	return ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

static int get_reg(struct accel_vcpu *vcpu, uint64_t id, uint64_t *value)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)value };

	return ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg) < 0 ? -errno : 0;
}

static int kvm_riscv_vcpu_set_boot_state(struct accel_vcpu *vcpu,
					 const struct riscv_boot_state *st)
{
	int r = set_reg(vcpu, CORE_REG(regs.pc), st->pc);

	if (!r)
		r = set_reg(vcpu, CORE_REG(regs.a0), st->a0);
	if (!r)
		r = set_reg(vcpu, CORE_REG(regs.a1), st->a1);
	if (r)
		vmm_error("KVM_SET_ONE_REG (boot registers): %s", strerror(-r));
	return r;
}

static int kvm_riscv_vcpu_timebase_hz(struct accel_vcpu *vcpu, uint64_t *hz)
{
	int r = get_reg(vcpu, RISCV_REG(KVM_REG_RISCV_TIMER,
					KVM_REG_RISCV_TIMER_REG(frequency)), hz);

	if (r)
		vmm_error("KVM_GET_ONE_REG (timer frequency): %s", strerror(-r));
	return r;
}

static int kvm_riscv_vcpu_isa(struct accel_vcpu *vcpu, uint64_t *isa)
{
	int r = get_reg(vcpu, RISCV_REG(KVM_REG_RISCV_CONFIG,
					KVM_REG_RISCV_CONFIG_REG(isa)), isa);

	if (r)
		vmm_error("KVM_GET_ONE_REG (ISA): %s", strerror(-r));
	return r;
}

static int kvm_riscv_vcpu_isa_exts(struct accel_vcpu *vcpu, uint32_t *exts)
{
	static const uint64_t kvm_ids[RISCV_ISA_EXT__COUNT] = {
		[RISCV_ISA_EXT_SSTC] = KVM_RISCV_ISA_EXT_SSTC,
		[RISCV_ISA_EXT_SVINVAL] = KVM_RISCV_ISA_EXT_SVINVAL,
		[RISCV_ISA_EXT_SVPBMT] = KVM_RISCV_ISA_EXT_SVPBMT,
		[RISCV_ISA_EXT_ZIHINTPAUSE] = KVM_RISCV_ISA_EXT_ZIHINTPAUSE,
	};

	*exts = 0;
	for (uint32_t i = 0; i < RISCV_ISA_EXT__COUNT; i++) {
		uint64_t on = 0;

		/* A kernel that does not know the extension says ENOENT. */
		if (get_reg(vcpu, RISCV_REG(KVM_REG_RISCV_ISA_EXT, kvm_ids[i]),
			    &on) == 0 && on)
			*exts |= 1u << i;
	}
	return 0;
}

static int kvm_riscv_vcpu_set_external_irq(struct accel_vcpu *vcpu, bool level)
{
	struct kvm_interrupt irq = {
		.irq = level ? KVM_INTERRUPT_SET : KVM_INTERRUPT_UNSET,
	};

	/* An async vCPU ioctl: it does not wait for KVM_RUN to return. */
	return ioctl(vcpu->fd, KVM_INTERRUPT, &irq) < 0 ? -errno : 0;
}

const struct accel_riscv_ops kvm_riscv_ops = {
	.vcpu_set_boot_state = kvm_riscv_vcpu_set_boot_state,
	.vcpu_timebase_hz = kvm_riscv_vcpu_timebase_hz,
	.vcpu_isa = kvm_riscv_vcpu_isa,
	.vcpu_isa_exts = kvm_riscv_vcpu_isa_exts,
	.vcpu_set_external_irq = kvm_riscv_vcpu_set_external_irq,
};
