/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DUVISOR_KVM_INTERNAL_H
#define DUVISOR_KVM_INTERNAL_H

#include <linux/kvm.h>
#include <stddef.h>

#include "accel/accel.h"

struct accel {
	int kvm_fd;
	size_t run_size;
	uint32_t max_vcpus;
};

struct accel_vm {
	struct accel *acc;
	int fd;
};

struct accel_vcpu {
	struct accel_vm *vm;
	int fd;
	uint32_t index;
	struct kvm_run *run;
};

struct kvm_cap_name {
	long cap;
	const char *name;
};

int kvm_check_extension(int fd, long cap);
int kvm_x86_vcpu_describe(struct accel_vcpu *vcpu, char *buf, size_t len);

/* The arch part (kvm-x86.c, kvm-riscv.c). */
extern const struct kvm_cap_name kvm_arch_required_caps[];
extern const size_t kvm_arch_nrequired_caps;
/* Creates the in-kernel devices a new VM needs. */
int kvm_arch_vm_setup(struct accel_vm *vm);
/* Decodes an exit the generic code does not know; false if none. */
bool kvm_arch_decode_exit(struct accel_vcpu *vcpu, struct accel_exit *exit);

extern const struct accel_x86_ops kvm_x86_ops;
extern const struct accel_riscv_ops kvm_riscv_ops;

#endif
