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

int kvm_check_extension(int fd, long cap);
int kvm_x86_vm_setup(struct accel_vm *vm);
int kvm_x86_vcpu_describe(struct accel_vcpu *vcpu, char *buf, size_t len);

extern const struct accel_x86_ops kvm_x86_ops;

#endif
