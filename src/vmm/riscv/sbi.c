// SPDX-License-Identifier: GPL-2.0-or-later
/* The SBI calls of a RISC-V guest that reach the VMM. */
#include "riscv/sbi.h"

#define SBI_DBCN_WRITE          0
#define SBI_DBCN_READ           1
#define SBI_DBCN_WRITE_BYTE     2

#define SBI_SRST_RESET          0
#define SBI_SRST_SHUTDOWN       0
#define SBI_SRST_COLD_REBOOT    1
#define SBI_SRST_WARM_REBOOT    2

static void set_ret(uint64_t ret[2], int64_t error, uint64_t value)
{
	ret[0] = (uint64_t)error;
	ret[1] = value;
}

static void dbcn(const struct riscv_sbi_env *env, uint64_t fn,
		 const uint64_t *a, uint64_t ret[2])
{
	uint8_t byte;

	switch (fn) {
	case SBI_DBCN_WRITE: {
		/* a0 bytes at physical a2:a1 (a2 is the high half on rv32,
		 * zero on rv64). The buffer is the guest's: checked whole. */
		uint64_t len = a[0] < SBI_DBCN_WRITE_MAX ? a[0] :
			       SBI_DBCN_WRITE_MAX;
		const uint8_t *p = len ? guest_mem_ptr(env->mem, a[1], len) :
				   NULL;

		if (a[2] || (len && !p)) {
			set_ret(ret, SBI_ERR_INVALID_PARAM, 0);
			return;
		}
		if (len)
			env->console_out(env->opaque, p, len);
		set_ret(ret, SBI_SUCCESS, len);
		return;
	}
	case SBI_DBCN_READ:
		/* Console input belongs to the UART: nothing to read here. */
		set_ret(ret, SBI_SUCCESS, 0);
		return;
	case SBI_DBCN_WRITE_BYTE:
		byte = (uint8_t)a[0];
		env->console_out(env->opaque, &byte, 1);
		set_ret(ret, SBI_SUCCESS, 0);
		return;
	default:
		set_ret(ret, SBI_ERR_NOT_SUPPORTED, 0);
		return;
	}
}

static enum riscv_sbi_action srst(uint64_t fn, const uint64_t *a,
				  uint64_t ret[2])
{
	if (fn != SBI_SRST_RESET) {
		set_ret(ret, SBI_ERR_NOT_SUPPORTED, 0);
		return RISCV_SBI_CONTINUE;
	}
	switch (a[0]) {
	case SBI_SRST_SHUTDOWN:
		return RISCV_SBI_POWEROFF;
	case SBI_SRST_COLD_REBOOT:
	case SBI_SRST_WARM_REBOOT:
		return RISCV_SBI_RESET;
	default:
		set_ret(ret, SBI_ERR_INVALID_PARAM, 0);
		return RISCV_SBI_CONTINUE;
	}
}

enum riscv_sbi_action riscv_sbi_handle(const struct riscv_sbi_env *env,
				       uint64_t ext, uint64_t fn,
				       const uint64_t args[6], uint64_t ret[2])
{
	uint8_t byte;

	switch (ext) {
	case SBI_EXT_LEGACY_PUTCHAR:
		byte = (uint8_t)args[0];
		env->console_out(env->opaque, &byte, 1);
		set_ret(ret, SBI_SUCCESS, 0);
		return RISCV_SBI_CONTINUE;
	case SBI_EXT_LEGACY_GETCHAR:
		/* -1: no character (input goes to the UART). */
		set_ret(ret, -1, 0);
		return RISCV_SBI_CONTINUE;
	case SBI_EXT_LEGACY_SHUTDOWN:
		return RISCV_SBI_POWEROFF;
	case SBI_EXT_DBCN:
		dbcn(env, fn, args, ret);
		return RISCV_SBI_CONTINUE;
	case SBI_EXT_SRST:
		return srst(fn, args, ret);
	default:
		set_ret(ret, SBI_ERR_NOT_SUPPORTED, 0);
		return RISCV_SBI_CONTINUE;
	}
}

bool riscv_sbi_implements(uint64_t ext)
{
	return ext == SBI_EXT_LEGACY_PUTCHAR || ext == SBI_EXT_LEGACY_GETCHAR ||
	       ext == SBI_EXT_LEGACY_SHUTDOWN || ext == SBI_EXT_DBCN ||
	       ext == SBI_EXT_SRST;
}
