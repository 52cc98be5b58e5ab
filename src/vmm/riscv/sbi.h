/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The SBI calls KVM leaves to user space (the RISC-V SBI specification
 * v2.0): the legacy console (0.1 putchar/getchar), the debug console
 * (DBCN), and system reset (SRST, legacy shutdown) in case a kernel
 * forwards them. Base, timer, IPI, RFENCE, HSM and (in Linux 6.1) SRST are
 * KVM's own; the dvext accelerator implements those itself
 * (accel/dvext-sbi.c) and passes the rest here. No KVM or VM state here:
 * the machine glues it in, the unit tests call it directly.
 */
#ifndef DUVISOR_RISCV_SBI_H
#define DUVISOR_RISCV_SBI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/guest_mem.h"

/* Extension ids. */
#define SBI_EXT_LEGACY_PUTCHAR  0x01
#define SBI_EXT_LEGACY_GETCHAR  0x02
#define SBI_EXT_LEGACY_SHUTDOWN 0x08
#define SBI_EXT_SRST            0x53525354u   /* "SRST" */
#define SBI_EXT_DBCN            0x4442434eu   /* "DBCN" */
#define SBI_EXT_BASE            0x10
#define SBI_EXT_TIME            0x54494d45u   /* "TIME" */
#define SBI_EXT_IPI             0x735049u     /* "sPI" */
#define SBI_EXT_RFENCE          0x52464e43u   /* "RFNC" */
#define SBI_EXT_HSM             0x48534du     /* "HSM" */

#define SBI_SUCCESS             0
#define SBI_ERR_FAILED          (-1)
#define SBI_ERR_NOT_SUPPORTED   (-2)
#define SBI_ERR_INVALID_PARAM   (-3)
#define SBI_ERR_INVALID_ADDRESS (-5)
#define SBI_ERR_ALREADY_AVAILABLE (-6)

/* One DBCN write copies at most this much: the guest retries the rest,
 * and a vCPU never holds the console for long. */
#define SBI_DBCN_WRITE_MAX 4096u

struct riscv_sbi_env {
	const struct guest_mem *mem;     /* where DBCN buffers must lie */
	void (*console_out)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
};

enum riscv_sbi_action {
	RISCV_SBI_CONTINUE,              /* ret[] holds the answer */
	RISCV_SBI_POWEROFF,
	RISCV_SBI_RESET,
};

/* Handles call (ext, fn) with args a0..a5; fills ret (error, value). */
enum riscv_sbi_action riscv_sbi_handle(const struct riscv_sbi_env *env,
				       uint64_t ext, uint64_t fn,
				       const uint64_t args[6], uint64_t ret[2]);

/* Whether riscv_sbi_handle implements extension ext (the base
 * extension's probe, where the SBI is not KVM's). */
bool riscv_sbi_implements(uint64_t ext);

#endif
