// SPDX-License-Identifier: GPL-2.0-or-later
/* The KVM accelerator: x86 specifics (in-kernel irqchip, CPUID, MSRs, regs). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "accel/kvm-internal.h"
#include "core/util.h"
#include "x86/cpuid.h"
#include "x86/layout.h"

#define MSR_IA32_TSC            0x10
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_MTRR_DEF_TYPE       0x2ff
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SYSCALL_MASK        0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102

#define MISC_ENABLE_FAST_STRING (1ull << 0)
#define MTRR_ENABLE             (1ull << 11)
#define MTRR_TYPE_WRBACK        6ull

#define X86_CR0_PE  (1ull << 0)
#define X86_CR0_ET  (1ull << 4)
#define X86_CR0_PG  (1ull << 31)
#define X86_CR4_PAE (1ull << 5)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)

/* The in-kernel PIC, IOAPIC, LAPICs and PIT, and GSIs for irqfds. */
const struct kvm_cap_name kvm_arch_required_caps[] = {
	{ KVM_CAP_IRQCHIP, "IRQCHIP" },
	{ KVM_CAP_IRQFD, "IRQFD" },
	{ KVM_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "EXT_CPUID" },
	{ KVM_CAP_PIT2, "PIT2" },
};
const size_t kvm_arch_nrequired_caps = ARRAY_SIZE(kvm_arch_required_caps);

bool kvm_arch_decode_exit(struct accel_vcpu *vcpu, struct accel_exit *exit)
{
	(void)vcpu;
	(void)exit;
	return false;
}

int kvm_arch_vm_setup(struct accel_vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t identity = X86_KVM_IDENTITY_MAP;

	if (ioctl(vm->fd, KVM_SET_TSS_ADDR, (unsigned long)X86_KVM_TSS_ADDR) < 0) {
		vmm_error("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return -errno;
	}
	if (kvm_check_extension(vm->fd, KVM_CAP_SET_IDENTITY_MAP_ADDR) &&
	    ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0) {
		vmm_error("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
		return -errno;
	}
	/* PIC, IOAPIC and local APICs in the kernel: interrupts and IPIs
	 * never cost a trip to user space. */
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		vmm_error("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	/* The PIT too; the speaker port (0x61) is absorbed as well. */
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0) {
		vmm_error("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static int kvm_x86_supported_cpuid(struct accel *acc,
				   struct cpuid_entry *entries, uint32_t *n)
{
	struct kvm_cpuid2 *cpuid;
	uint32_t nent = CPUID_MAX_ENTRIES;

	cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = nent;
	if (ioctl(acc->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		int r = -errno;

		vmm_error("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(cpuid);
		return r;
	}
	if (cpuid->nent > *n) {
		free(cpuid);
		return -E2BIG;
	}
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *k = &cpuid->entries[i];

		entries[i] = (struct cpuid_entry){
			.function = k->function, .index = k->index,
			.flags = k->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX ?
				 CPUID_FLAG_SIGNIFICANT_INDEX : 0,
			.eax = k->eax, .ebx = k->ebx, .ecx = k->ecx, .edx = k->edx,
		};
	}
	*n = cpuid->nent;
	free(cpuid);
	return 0;
}

static int kvm_x86_vcpu_set_cpuid(struct accel_vcpu *vcpu,
				  const struct cpuid_entry *entries, uint32_t n)
{
	struct kvm_cpuid2 *cpuid;
	int r = 0;

	cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = n;
	for (uint32_t i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *k = &cpuid->entries[i];

		k->function = entries[i].function;
		k->index = entries[i].index;
		k->flags = entries[i].flags & CPUID_FLAG_SIGNIFICANT_INDEX ?
			   KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
		k->eax = entries[i].eax;
		k->ebx = entries[i].ebx;
		k->ecx = entries[i].ecx;
		k->edx = entries[i].edx;
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0) {
		r = -errno;
		vmm_error("KVM_SET_CPUID2: %s", strerror(errno));
	}
	free(cpuid);
	return r;
}

static int kvm_x86_vcpu_set_boot_msrs(struct accel_vcpu *vcpu)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} boot_msrs[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WRBACK },
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[ARRAY_SIZE(boot_msrs)];
	} msrs;
	int r;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = ARRAY_SIZE(boot_msrs);
	for (size_t i = 0; i < ARRAY_SIZE(boot_msrs); i++) {
		msrs.entries[i].index = boot_msrs[i].index;
		msrs.entries[i].data = boot_msrs[i].value;
	}
	r = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
	if (r < 0) {
		vmm_error("KVM_SET_MSRS: %s", strerror(errno));
		return -errno;
	}
	if ((size_t)r != ARRAY_SIZE(boot_msrs)) {
		vmm_error("KVM_SET_MSRS: MSR %#x refused",
			  boot_msrs[r].index);
		return -EINVAL;
	}
	return 0;
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type,
				       bool code)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code ? 0 : 1,
		.s = 1,
		.l = code ? 1 : 0,
		.g = 1,
	};
}

static int kvm_x86_vcpu_set_boot_state(struct accel_vcpu *vcpu,
				       const struct x86_boot_state *st)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;
	struct kvm_segment data;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs = flat_segment(st->code_sel, 0xb, true);
	data = flat_segment(st->data_sel, 0x3, false);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.tr = (struct kvm_segment){
		.selector = st->tss_sel, .type = 0xb, .present = 1,
		.limit = 0xfffff, .g = 0,
	};
	sregs.gdt.base = st->gdt_base;
	sregs.gdt.limit = st->gdt_limit;
	sregs.idt.base = st->idt_base;
	sregs.idt.limit = st->idt_limit;
	sregs.cr0 |= X86_CR0_PE | X86_CR0_PG | X86_CR0_ET;
	sregs.cr3 = st->cr3;
	sregs.cr4 |= X86_CR4_PAE;
	sregs.efer |= X86_EFER_LME | X86_EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = st->rip;
	regs.rsp = st->rsp;
	regs.rbp = st->rsp;
	regs.rsi = st->rsi;
	regs.rbx = st->rbx;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	return 0;
}

int kvm_x86_vcpu_describe(struct accel_vcpu *vcpu, char *buf, size_t len)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	snprintf(buf, len,
		 "rip %#llx rsp %#llx rflags %#llx cs %#x ss %#x cr0 %#llx "
		 "cr2 %#llx cr3 %#llx cr4 %#llx efer %#llx idt %#llx/%#x "
		 "gdt %#llx/%#x tr %#x pending %#llx",
		 (unsigned long long)regs.rip, (unsigned long long)regs.rsp,
		 (unsigned long long)regs.rflags, sregs.cs.selector,
		 sregs.ss.selector, (unsigned long long)sregs.cr0,
		 (unsigned long long)sregs.cr2, (unsigned long long)sregs.cr3,
		 (unsigned long long)sregs.cr4, (unsigned long long)sregs.efer,
		 (unsigned long long)sregs.idt.base, sregs.idt.limit,
		 (unsigned long long)sregs.gdt.base, sregs.gdt.limit,
		 sregs.tr.selector,
		 (unsigned long long)sregs.interrupt_bitmap[0]);
	return 0;
}

static bool kvm_x86_has_tsc_deadline(struct accel *acc)
{
	return kvm_check_extension(acc->kvm_fd, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
}

const struct accel_x86_ops kvm_x86_ops = {
	.supported_cpuid = kvm_x86_supported_cpuid,
	.vcpu_set_cpuid = kvm_x86_vcpu_set_cpuid,
	.vcpu_set_boot_msrs = kvm_x86_vcpu_set_boot_msrs,
	.vcpu_set_boot_state = kvm_x86_vcpu_set_boot_state,
	.has_tsc_deadline = kvm_x86_has_tsc_deadline,
};
