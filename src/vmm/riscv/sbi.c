// SPDX-License-Identifier: GPL-2.0-or-later
/* The SBI calls of a RISC-V guest that reach the VMM. */
#include "riscv/sbi.h"

#include "core/console.h"

/* Extension ids (SBI v2.0, chapter 3 and later). */
#define SBI_EXT_LEGACY_PUTCHAR  0x01
#define SBI_EXT_LEGACY_GETCHAR  0x02
#define SBI_EXT_LEGACY_SHUTDOWN 0x08
#define SBI_EXT_SRST            0x53525354u   /* "SRST" */
#define SBI_EXT_DBCN            0x4442434eu   /* "DBCN" */

#define SBI_DBCN_WRITE          0
#define SBI_DBCN_READ           1
#define SBI_DBCN_WRITE_BYTE     2

#define SBI_SRST_RESET          0
#define SBI_SRST_SHUTDOWN       0
#define SBI_SRST_COLD_REBOOT    1
#define SBI_SRST_WARM_REBOOT    2

#define SBI_SUCCESS             0
#define SBI_ERR_NOT_SUPPORTED   (-2)
#define SBI_ERR_INVALID_PARAM   (-3)

/* One DBCN write copies at most this much: the guest retries the rest,
 * and a vCPU never holds the console for long. */
#define DBCN_WRITE_MAX 4096u

static void set_ret(const struct accel_exit *exit, int64_t error,
		    uint64_t value)
{
	exit->hypercall.ret[0] = (uint64_t)error;
	exit->hypercall.ret[1] = value;
}

static void dbcn(struct vcpu *vcpu, const struct accel_exit *exit)
{
	struct vmm *vmm = vcpu->vm->vmm;
	const uint64_t *a = exit->hypercall.args;
	uint8_t byte;

	switch (exit->hypercall.fn) {
	case SBI_DBCN_WRITE: {
		/* a0 bytes at physical a2:a1 (a2 is the high half on rv32). */
		uint64_t len = a[0] < DBCN_WRITE_MAX ? a[0] : DBCN_WRITE_MAX;
		const uint8_t *p = len ? guest_mem_ptr(&vcpu->vm->mem, a[1], len) :
				   NULL;

		if (a[2] || (len && !p)) {
			set_ret(exit, SBI_ERR_INVALID_PARAM, 0);
			return;
		}
		console_write(&vmm->console, p, len);
		set_ret(exit, SBI_SUCCESS, len);
		return;
	}
	case SBI_DBCN_READ:
		/* Console input belongs to the UART: nothing to read here. */
		set_ret(exit, SBI_SUCCESS, 0);
		return;
	case SBI_DBCN_WRITE_BYTE:
		byte = (uint8_t)a[0];
		console_write(&vmm->console, &byte, 1);
		set_ret(exit, SBI_SUCCESS, 0);
		return;
	default:
		set_ret(exit, SBI_ERR_NOT_SUPPORTED, 0);
		return;
	}
}

/* Returns false: the VM stops (or reboots). */
static bool srst(struct vcpu *vcpu, const struct accel_exit *exit)
{
	if (exit->hypercall.fn != SBI_SRST_RESET) {
		set_ret(exit, SBI_ERR_NOT_SUPPORTED, 0);
		return true;
	}
	switch (exit->hypercall.args[0]) {
	case SBI_SRST_SHUTDOWN:
		vm_request_stop(vcpu->vm, VM_STOP_POWEROFF);
		return false;
	case SBI_SRST_COLD_REBOOT:
	case SBI_SRST_WARM_REBOOT:
		vm_request_stop(vcpu->vm, VM_STOP_RESET);
		return false;
	default:
		set_ret(exit, SBI_ERR_INVALID_PARAM, 0);
		return true;
	}
}

bool riscv_sbi_call(struct vcpu *vcpu, const struct accel_exit *exit)
{
	struct vmm *vmm = vcpu->vm->vmm;
	uint8_t byte;

	switch (exit->hypercall.ext) {
	case SBI_EXT_LEGACY_PUTCHAR:
		byte = (uint8_t)exit->hypercall.args[0];
		console_write(&vmm->console, &byte, 1);
		set_ret(exit, SBI_SUCCESS, 0);
		return true;
	case SBI_EXT_LEGACY_GETCHAR:
		/* -1: no character (input goes to the UART). */
		set_ret(exit, -1, 0);
		return true;
	case SBI_EXT_LEGACY_SHUTDOWN:
		vm_request_stop(vcpu->vm, VM_STOP_POWEROFF);
		return false;
	case SBI_EXT_DBCN:
		dbcn(vcpu, exit);
		return true;
	case SBI_EXT_SRST:
		return srst(vcpu, exit);
	default:
		vmm_debug("vCPU %u: SBI extension %#llx function %llu not "
			  "supported", vcpu->index,
			  (unsigned long long)exit->hypercall.ext,
			  (unsigned long long)exit->hypercall.fn);
		set_ret(exit, SBI_ERR_NOT_SUPPORTED, 0);
		return true;
	}
}
