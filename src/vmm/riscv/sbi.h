/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SBI calls KVM leaves to user space (the RISC-V SBI specification
 * v2.0): the legacy console (0.1 putchar/getchar), the debug console
 * (DBCN), and system reset (SRST) in case a kernel forwards it. Base,
 * timer, IPI, RFENCE, HSM and (in Linux 6.1) SRST are KVM's own.
 */
#ifndef DUVISOR_RISCV_SBI_H
#define DUVISOR_RISCV_SBI_H

#include <stdbool.h>

#include "core/vmm.h"

/* Handles a hypercall exit; false when the vCPU must stop. */
bool riscv_sbi_call(struct vcpu *vcpu, const struct accel_exit *exit);

#endif
