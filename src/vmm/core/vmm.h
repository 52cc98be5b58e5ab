/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VMM process and the machine it runs. A `struct vmm` lives as long as
 * the process (accelerator handle, kernel and initrd images, console); a
 * `struct vm` lives for one boot, so a guest reboot rebuilds the machine
 * from scratch inside the same process.
 */
#ifndef DUVISOR_VMM_H
#define DUVISOR_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "accel/accel.h"
#include "core/bus.h"
#include "core/console.h"
#include "core/event_loop.h"
#include "core/guest_mem.h"
#include "core/util.h"

/* Process exit statuses: part of the interface managers rely on. */
#define VMM_EXIT_POWEROFF      0   /* guest powered off, or quit on request */
#define VMM_EXIT_FAILURE       1   /* bad arguments or start-up failure */
#define VMM_EXIT_RESET         32  /* guest reset with --no-reboot */
#define VMM_EXIT_TRIPLE_FAULT  33  /* triple fault / CPU shutdown */
#define VMM_EXIT_CRASH         34  /* guest reported a crash */
#define VMM_EXIT_VCPU_ERROR    35  /* the accelerator could not run the guest */

struct vmm_config {
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;
	uint64_t mem_size;
	uint32_t ncpus;
	const char *console_spec;
	const char *console_log;
	bool no_reboot;
	bool stats;
};

enum vm_stop_reason {
	VM_STOP_NONE,
	VM_STOP_POWEROFF,
	VM_STOP_RESET,
	VM_STOP_TRIPLE_FAULT,
	VM_STOP_CRASH,
	VM_STOP_ERROR,
	VM_STOP_QUIT,
};

/* Exit counts of a vCPU; per vCPU so the hot path shares no cache line. */
struct vcpu_stats {
	uint64_t exits[ACCEL_EXIT__COUNT];
	/* By bus range; the last slot counts accesses nobody claimed. */
	uint64_t pio[BUS_MAX_RANGES + 1];
	uint64_t mmio[BUS_MAX_RANGES + 1];
};

struct vm;

struct vcpu {
	struct vm *vm;
	struct accel_vcpu *acc;
	uint32_t index;
	pthread_t thread;
	bool running;
	struct vcpu_stats stats;
};

struct arch_vm;

struct vm {
	struct vmm *vmm;
	struct accel_vm *avm;
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	uint32_t ncpus;
	struct vcpu *vcpus;
	int stop_reason;          /* enum vm_stop_reason, set once */
	struct arch_vm *arch;
};

struct vmm {
	const struct vmm_config *cfg;
	const struct accel_ops *ops;
	struct accel *acc;
	/* Images stay open and are read again for each boot: holding their
	 * bytes between boots would cost more than the guest's own VMM. */
	int kernel_fd;
	int initrd_fd;
	struct file_buf kernel;   /* loaded only while a boot is built */
	struct file_buf initrd;
	struct console console;
	struct event_loop *loop;
	int signal_fd;
	struct vm *vm;            /* the current boot */
	/* A quit outlives the boot it arrived in: a guest reset racing
	 * with it must not turn it into a reboot. */
	bool quit_requested;
	uint64_t boots;
	uint64_t start_ns;
	struct vcpu_stats totals; /* summed over vCPUs and boots */
	const char *pio_names[BUS_MAX_RANGES];
	const char *mmio_names[BUS_MAX_RANGES];
};

/* Runs the VM until it ends; returns the process exit status. */
int vmm_run(const struct vmm_config *cfg);

/* First caller wins; wakes the main thread. Safe from any thread. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason reason);
enum vm_stop_reason vm_stop_reason(struct vm *vm);

/* Interrupt line helper for device models. */
void vm_set_irq(void *vm, uint32_t gsi, bool level);

/* vcpu.c */
int vcpus_start(struct vm *vm);
void vcpus_stop(struct vm *vm);

/* Arch hooks (x86/machine.c). */
int arch_vm_init(struct vm *vm);
int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu);
void arch_vm_power_button(struct vm *vm);
void arch_vm_cleanup(struct vm *vm);
uint32_t arch_max_vcpus(void);

#endif
