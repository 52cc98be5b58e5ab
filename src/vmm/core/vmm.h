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
#include "core/image.h"
#include "core/util.h"

/* Process exit statuses: part of the interface managers rely on. */
#define VMM_EXIT_POWEROFF      0   /* guest powered off, or quit on request */
#define VMM_EXIT_FAILURE       1   /* bad arguments or start-up failure */
#define VMM_EXIT_RESET         32  /* guest reset with --no-reboot */
#define VMM_EXIT_TRIPLE_FAULT  33  /* triple fault / CPU shutdown */
#define VMM_EXIT_CRASH         34  /* guest reported a crash */
#define VMM_EXIT_VCPU_ERROR    35  /* the accelerator could not run the guest */

#define VMM_MAX_DISKS 8
#define VMM_DISK_SERIAL_MAX 20   /* virtio-blk's ID is 20 bytes */

/* --disk: a raw image by path, or an fd a manager opened for us. */
struct vmm_disk_config {
	char path[4096];             /* empty with fd >= 0 */
	int fd;
	bool readonly;
	bool direct;
	char serial[VMM_DISK_SERIAL_MAX + 1];
};

#define VMM_MAX_NICS 4

/* --net: a tap by name, or an open tap fd a manager passes. */
struct vmm_net_config {
	char tap[16];                /* IFNAMSIZ; empty with fd >= 0 */
	int fd;
	bool has_mac;
	uint8_t mac[6];
};

/* --balloon: a virtio-balloon device; managers change target and period
 * over the control channel (struct vmm keeps them across reboots). */
struct vmm_balloon_config {
	bool enabled;
	bool deflate_on_oom;         /* VIRTIO_BALLOON_F_DEFLATE_ON_OOM */
	bool free_page_reporting;    /* VIRTIO_BALLOON_F_REPORTING */
	uint32_t stats_period;       /* seconds between stats requests, 0: none */
	uint64_t target;             /* bytes of guest memory, 0: all of it */
};

/* --vsock: the guest's address and the host's unix sockets (docs/vsock.md). */
struct vmm_vsock_config {
	bool enabled;
	uint32_t cid;
	/* Where host clients connect and, with _PORT appended, where the
	 * guest's connections go; empty with uds_fd alone. */
	char uds[4096];
	int uds_fd;                  /* an inherited listening socket, or -1 */
	int dir_fd;                  /* an inherited directory uds is in, or -1 */
};

/* --accel: what runs the guest's code. */
enum vmm_accel {
	VMM_ACCEL_KVM,
	VMM_ACCEL_DVEXT,             /* riscv64: /dev/duvisor (docs/dvext-kmod.md) */
};

struct vmm_config {
	enum vmm_accel accel;
	const char *kernel_path;
	const char *initrd_path;
	const char *cmdline;
	uint64_t mem_size;
	bool mem_merge;              /* guest RAM offered to KSM */
	uint32_t ncpus;
	const char *console_spec;
	const char *console_log;
	bool no_reboot;
	bool stats;
	bool rng;
	size_t ndisks;
	struct vmm_disk_config disks[VMM_MAX_DISKS];
	size_t nnics;
	struct vmm_net_config nics[VMM_MAX_NICS];
	struct vmm_balloon_config balloon;
	struct vmm_vsock_config vsock;
	/* Deprivileged start (docs/sandbox.md): fds a manager opened, -1
	 * when the VMM opens the path itself. */
	int kvm_fd;
	/* Read until a byte or EOF before the first VM is created: KVM's
	 * per-VM kernel threads join the creator's cgroups then. */
	int wait_fd;
	int kernel_fd;
	int initrd_fd;
	const char *control_spec;    /* unix:PATH: the VMM listens */
	int control_fd;              /* inherited listening or connected */
	bool sandbox;
	bool drop_ids;
	uint32_t uid, gid;
	bool test_forbidden_syscall;
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
	/* Exits the accelerator handled itself (accel_ops.vcpu_exits_in_accel). */
	uint64_t in_accel;
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
	int32_t tid;              /* the thread's kernel id, 0 until known */
	bool running;
	struct vcpu_stats stats;
};

/* Pausing parks every vCPU thread outside the guest; it outlives reboots. */
struct vcpu_pause {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool paused;
	uint32_t active;          /* vCPU threads in their run loop */
	uint32_t parked;
};

struct arch_vm;
struct control;
struct vm_virtio;
struct blk_backend;
struct blk_stats;
struct tap;
struct vsock_host;

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
	struct vm_virtio *virtio;
};

struct vmm {
	const struct vmm_config *cfg;
	const struct accel_ops *ops;
	struct accel *acc;
	/* Images stay open and are read again, straight into guest RAM, for
	 * each boot: holding their bytes between boots would cost more than
	 * the guest's own VMM. */
	struct image_file kernel;
	struct image_file initrd;   /* fd -1: none */
	/* Device backends outlive boots: a manager's fds cannot be reopened. */
	struct blk_backend *disks[VMM_MAX_DISKS];
	/* Each disk's request counters, cfg->ndisks of them: like the
	 * backends they outlive boots (virtio/blk_request.h). */
	struct blk_stats *disk_stats;
	struct tap *taps[VMM_MAX_NICS];
	uint8_t macs[VMM_MAX_NICS][6];
	/* --balloon as managers changed it since: a rebooted guest inflates
	 * to the same target. Main thread only. */
	struct vmm_balloon_config balloon;
	struct vsock_host *vsock;
	struct console console;
	struct event_loop *loop;
	int signal_fd;
	struct vm *vm;            /* the current boot */
	/* A quit outlives the boot it arrived in: a guest reset racing
	 * with it must not turn it into a reboot. */
	bool quit_requested;
	/* A reset a manager asked for reboots even with --no-reboot. */
	bool reset_requested;
	struct vcpu_pause pause;
	struct control *control;
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

/* Stops the VM for good, even if a guest reset races with it. */
void vmm_request_quit(struct vmm *vmm);
/* The exit counters of all boots so far plus the running one. */
void vmm_sum_stats(const struct vmm *vmm, struct vcpu_stats *out);

/* Interrupt line helpers for device models (struct irq_line and
 * struct irq_fd_binder in devices/irq.h); the machine routes them. */
void vm_set_irq(void *vm, uint32_t gsi, bool level);
int vm_add_irqfd(void *vm, uint32_t gsi, int efd);

/* vcpu.c */
int vcpus_start(struct vm *vm);
void vcpus_stop(struct vm *vm);
/* Returns once every vCPU thread is parked outside the guest. */
void vcpus_pause(struct vmm *vmm);
void vcpus_resume(struct vmm *vmm);

/* Arch hooks (x86/machine.c, riscv/machine.c). */
int arch_vm_init(struct vm *vm);
int arch_vcpu_init(struct vm *vm, struct vcpu *vcpu);
void arch_vm_power_button(struct vm *vm);
void arch_vm_cleanup(struct vm *vm);
uint32_t arch_max_vcpus(void);
/* What --kernel takes, for --help. */
const char *arch_kernel_formats(void);
/* The interrupt controller: in the accelerator or a model of ours. */
int arch_vm_set_irq(struct vm *vm, uint32_t gsi, bool level);
/* Each write to efd pulses gsi (edge). */
int arch_vm_add_irqfd(struct vm *vm, uint32_t gsi, int efd);
/* An exit only this architecture has (e.g. an SBI call); returns false
 * when the vCPU must stop. */
bool arch_vcpu_exit(struct vcpu *vcpu, const struct accel_exit *exit);

#endif
