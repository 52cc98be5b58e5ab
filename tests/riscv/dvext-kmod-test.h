/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the parts of dvext-kmod-test (tests/riscv/dvext-kmod-test.c). */
#ifndef DVEXT_KMOD_TEST_H
#define DVEXT_KMOD_TEST_H

#include <stdint.h>

#include "../../kmod/include/uapi/linux/duvisor.h"

#define GUEST_BASE	0x80000000ULL
#define GUEST_SIZE	(2ULL << 20)
#define MMIO_ADDR	0x10000000ULL
#define SBI_EXT_BASE	0x10
#define REPORT_EXT	0x0A000001	/* the guest's "here is a value" call */
#define IRQ_EXT		0x0A000002	/* the guest's interrupt handler */
#define BENCH_EXT	0x0A000003
#define NO_EXC_EXT	0x0A000005	/* the exception was not raised */
#define EXC_EXT		0x0A000006	/* the guest's exception handler */
#define WFI_INSN	0x10500073u
#define CAUSE_IRQ	(1ULL << 63)

/* The guest's labels (dvext-kmod-test.c). */
extern const uint32_t guest_start[], guest_ecall[], guest_handler[], guest_bench[], guest_fp[],
	guest_sw[], guest_lw[], guest_clw[], guest_wfi[], guest_spin[], guest_exc[],
	guest_exc_csr[], guest_exc_handler[], guest_end[];

#define GOFF(sym) ((uint64_t)((const char *)(sym) - (const char *)guest_start))

struct vm {
	int vm;
	uint8_t *mem;
};

extern int dev_fd;

void check(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void check_errno(int fd, unsigned long req, void *arg, int err, const char *name);
struct vm make_vm(int with_mem, uint64_t edeleg);
struct duvisor_run *map_run(int vcpu);
int run(int vcpu, struct duvisor_run *rs);
int expect_trap(int vcpu, struct duvisor_run *rs, uint64_t cause, const char *name);

/* dvext-kmod-threads.c */
void test_thread_teardown(void);
void test_smp_and_signals(void);
void test_kvm_coexistence(void);
void test_create_destroy_loop(void);
void bench_duvisor(long n);

/* dvext-kmod-requests.c */
void test_remote_fence(void);
void test_inject_exception(void);

/* dvext-kmod-kvm.c */
int bench_kvm(long n);
int kvm_loop(long n);

#endif
