/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The accelerator: what runs guest code. The machine model (memory map,
 * boot, ACPI, devices) talks to it only through this table, so another
 * accelerator (e.g. RISC-V with DV-Ext delegation) slots in without touching
 * device code. KVM runs guests on both architectures; on riscv64 the
 * dvext accelerator runs them on the DV-Ext control plane (kmod/,
 * /dev/duvisor, docs/dvext-kmod.md).
 */
#ifndef DUVISOR_ACCEL_H
#define DUVISOR_ACCEL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kicks a vCPU thread out of the guest: the VMM installs a handler that
 * does nothing and unblocks it on vCPU threads only. */
#define ACCEL_KICK_SIGNAL SIGUSR1

struct accel;
struct accel_vm;
struct accel_vcpu;

enum accel_exit_kind {
	ACCEL_EXIT_IO,
	ACCEL_EXIT_MMIO,
	ACCEL_EXIT_INTERRUPTED,   /* kicked out of the guest by the VMM */
	ACCEL_EXIT_HLT,
	ACCEL_EXIT_SHUTDOWN,      /* triple fault or equivalent */
	ACCEL_EXIT_SYSTEM_RESET,
	ACCEL_EXIT_SYSTEM_OFF,
	ACCEL_EXIT_SYSTEM_CRASH,
	ACCEL_EXIT_ERROR,         /* the accelerator cannot go on */
	ACCEL_EXIT_HYPERCALL,     /* a firmware call left to the VMM (SBI) */
	ACCEL_EXIT_OTHER,
	ACCEL_EXIT__COUNT
};

struct accel_exit {
	enum accel_exit_kind kind;
	uint32_t raw_reason;
	union {
		struct {
			uint16_t port;
			uint8_t size;
			bool write;
			uint32_t count;  /* > 1 for string I/O */
			uint8_t *data;   /* size * count bytes, in place */
		} io;
		struct {
			uint64_t addr;
			uint32_t len;
			bool write;
			uint8_t *data;   /* in place: fill it for reads */
		} mmio;
		struct {
			uint32_t suberror;
			uint64_t data0;
		} error;
		/* RISC-V: an SBI call KVM does not handle in the kernel. */
		struct {
			uint64_t ext, fn;
			uint64_t args[6];
			uint64_t *ret;    /* in place: error, value */
		} hypercall;
	};
};

/* The x86 part of a vCPU's first state: flat 64-bit mode, paging on. */
struct x86_boot_state {
	uint64_t rip, rsp, rsi, rbx;
	uint64_t cr3;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint64_t idt_base;
	uint16_t idt_limit;
	uint16_t code_sel, data_sel, tss_sel;
};

struct cpuid_entry;

struct accel_x86_ops {
	/* Fills up to *n entries of what the accelerator can expose. */
	int (*supported_cpuid)(struct accel *acc, struct cpuid_entry *entries,
			       uint32_t *n);
	int (*vcpu_set_cpuid)(struct accel_vcpu *vcpu,
			      const struct cpuid_entry *entries, uint32_t n);
	int (*vcpu_set_boot_msrs)(struct accel_vcpu *vcpu);
	int (*vcpu_set_boot_state)(struct accel_vcpu *vcpu,
				   const struct x86_boot_state *st);
	bool (*has_tsc_deadline)(struct accel *acc);
};

/* The RISC-V part of a vCPU's first state (the Linux boot protocol). */
struct riscv_boot_state {
	uint64_t pc;
	uint64_t a0, a1;          /* hart id, device tree address */
};

/* Multi-letter ISA extensions a RISC-V vCPU may have (riscv,isa names). */
enum riscv_isa_ext {
	RISCV_ISA_EXT_SSTC,         /* guest timer without SBI calls */
	RISCV_ISA_EXT_SVINVAL,
	RISCV_ISA_EXT_SVPBMT,
	RISCV_ISA_EXT_ZIHINTPAUSE,
	RISCV_ISA_EXT__COUNT
};

struct accel_riscv_ops {
	int (*vcpu_set_boot_state)(struct accel_vcpu *vcpu,
				   const struct riscv_boot_state *st);
	/* The time CSR's frequency, for the device tree. */
	int (*vcpu_timebase_hz)(struct accel_vcpu *vcpu, uint64_t *hz);
	/* Single-letter ISA extensions, bit n = letter 'a' + n. */
	int (*vcpu_isa)(struct accel_vcpu *vcpu, uint64_t *isa);
	/* Multi-letter ones: bit n = enum riscv_isa_ext n. */
	int (*vcpu_isa_exts)(struct accel_vcpu *vcpu, uint32_t *exts);
	/* Raises or lowers the supervisor external interrupt of the vCPU,
	 * the output of a user-space PLIC context. Safe from any thread. */
	int (*vcpu_set_external_irq)(struct accel_vcpu *vcpu, bool level);
};

struct accel_ops {
	const char *name;
	/* fd >= 0: an already-open device handed in; else open the default. */
	int (*open)(int fd, struct accel **out);
	void (*close)(struct accel *acc);
	uint32_t (*max_vcpus)(struct accel *acc);

	/* A VM with its in-kernel interrupt controllers and timers. */
	int (*vm_create)(struct accel *acc, struct accel_vm **out);
	void (*vm_destroy)(struct accel_vm *vm);
	int (*vm_add_memory)(struct accel_vm *vm, uint32_t slot, uint64_t gpa,
			     uint64_t size, void *hva);
	int (*vm_set_irq)(struct accel_vm *vm, uint32_t gsi, bool level);
	/* Port/MMIO writes the accelerator absorbs by signalling efd. */
	int (*vm_add_ioeventfd)(struct accel_vm *vm, uint64_t addr,
				uint32_t len, bool pio, int efd);
	/* The same for MMIO writes of exactly `data` (a virtqueue index). */
	int (*vm_add_ioeventfd_match)(struct accel_vm *vm, uint64_t addr,
				      uint32_t len, uint64_t data, int efd);
	/* Each write to efd pulses the (edge-triggered) line gsi. */
	int (*vm_add_irqfd)(struct accel_vm *vm, uint32_t gsi, int efd);

	int (*vcpu_create)(struct accel_vm *vm, uint32_t index,
			   struct accel_vcpu **out);
	void (*vcpu_destroy)(struct accel_vcpu *vcpu);
	/* Optional: called on the vCPU's own thread before its first run and
	 * before its sandbox is installed (the thread binds to the vCPU). */
	int (*vcpu_thread_init)(struct accel_vcpu *vcpu);
	/* Runs until an exit the VMM must see; returns 0 or -errno. */
	int (*vcpu_run)(struct accel_vcpu *vcpu, struct accel_exit *exit);
	/* Makes the current or next vcpu_run return INTERRUPTED; the caller
	 * also signals the vCPU thread. Safe from any thread. */
	void (*vcpu_request_exit)(struct accel_vcpu *vcpu);
	/* One line of the vCPU's architectural state for a post-mortem
	 * (a triple fault, an exit the accelerator cannot handle). */
	int (*vcpu_describe)(struct accel_vcpu *vcpu, char *buf, size_t len);
	/* Optional: guest exits handled inside the accelerator's vcpu_run
	 * (dvext: firmware calls, WFI) that the VMM never saw. */
	uint64_t (*vcpu_exits_in_accel)(struct accel_vcpu *vcpu);

	/* The arch part; NULL on other architectures. */
	const struct accel_x86_ops *x86;
	const struct accel_riscv_ops *riscv;
};

extern const struct accel_ops accel_kvm_ops;
#if defined(__riscv)
extern const struct accel_ops accel_dvext_ops;
#endif

const char *accel_exit_kind_name(enum accel_exit_kind kind);

#endif
