// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The dvext accelerator on a DV-Ext CPU (the module in DUVISOR_MODE_DVEXT):
 * no DUVISOR_RUN, the vCPU thread enters its guest with HURET
 * (dvext-hu-switch.S) and its exits land at utvec in this thread.  The
 * guest's state is put on the run page as the module's trap mode would,
 * so dvext.c decodes both the same way.  Interrupts go through the HU
 * CSRs: HUVIP for the guest's pending VS interrupts, VTIMECMP/VTIMECTL for
 * its timer (a U-timer exit), VIPI bits to kick another vCPU (a U-soft
 * exit on the hart that runs it).
 *
 * BUILD-CHECKED ONLY: no CPU here implements DV-Ext (docs/dvext-kmod.md).
 */
#include <errno.h>
#include <stddef.h>

#include "accel/dvext-internal.h"

#define CSR_HUSTATUS    0x800
#define CSR_HUVIP       0x845
#define CSR_HUVSSTATUS  0x400
#define CSR_HUVSIE      0x404
#define CSR_HUVSATP     0x480
#define CSR_VTIMECMP    0x401
#define CSR_VTIMECTL    0x402

#define HSTATUS_VTW     (1ull << 21)
#define HSTATUS_SPVP    (1ull << 8)
#define CAUSE_IRQ       (1ull << 63)
#define VTIMECTL_ENABLE 1ull
/* The vtimer raises the U timer interrupt (bits 6:1: its number). */
#define VTIMECTL_U_TIMER (VTIMECTL_ENABLE | DUVISOR_IRQ_U_TIMER << 1)

#define STR(x) #x
#define XSTR(x) STR(x)
#define csr_write(csr, v) \
	__asm__ volatile("csrw " XSTR(csr) ", %0" : : "r"((uint64_t)(v)))
#define csr_set(csr, v) \
	__asm__ volatile("csrs " XSTR(csr) ", %0" : : "r"((uint64_t)(v)))

_Static_assert(offsetof(struct dvext_hu_ctx, guest) == 128, "switch.S");
_Static_assert(offsetof(struct dvext_hu_ctx, pc) == 128 + 256, "switch.S");
_Static_assert(offsetof(struct dvext_hu_ctx, hutinst) == 128 + 256 + 32,
	       "switch.S");

void dvext_hu_enter(struct dvext_hu_ctx *ctx);

/* HLVX.HU: an instruction halfword through the guest's page tables. */
static uint64_t hlvx_hu(uint64_t gva)
{
	uint64_t v;

	__asm__ volatile(".insn r 0x73, 0x4, 0x32, %0, %1, x3"
			 : "=r"(v) : "r"(gva) : "memory");
	return v;
}

/* The MMIO instruction: htinst if the hardware gave it (a transformed
 * instruction has bit 1 clear when it was compressed), else read. */
static uint64_t guest_insn(const struct dvext_hu_ctx *c)
{
	uint64_t lo;

	if (c->hutinst & 1)
		return c->hutinst | 2;
	lo = hlvx_hu(c->pc);
	return (lo & 3) == 3 ? lo | hlvx_hu(c->pc + 2) << 16 : lo;
}

void dvext_hu_set_irq_level(struct accel_vcpu *vcpu, uint32_t irq, bool level)
{
	if (level)
		__atomic_or_fetch(&vcpu->hu_virqs, 1ull << irq, __ATOMIC_SEQ_CST);
	else
		__atomic_and_fetch(&vcpu->hu_virqs, ~(1ull << irq),
				   __ATOMIC_SEQ_CST);
}

/* Sets or clears vCPU index's bit in VIPI0-3 (CSR numbers are immediates). */
static void vipi(uint32_t index, bool set)
{
	uint64_t bit = 1ull << (index % 64);

#define VIPI_CASE(n, csr) \
	case n: \
		if (set) \
			__asm__ volatile("csrs " #csr ", %0" : : "r"(bit)); \
		else \
			__asm__ volatile("csrc " #csr ", %0" : : "r"(bit)); \
		break
	switch (index / 64) {
	VIPI_CASE(0, 0x483);
	VIPI_CASE(1, 0x484);
	VIPI_CASE(2, 0x485);
	default:
		VIPI_CASE(3, 0x486);
	}
#undef VIPI_CASE
}

/* A U-soft exit on the hart that runs vcpu: it reloads HUVIP. */
void dvext_hu_kick(struct accel_vcpu *vcpu)
{
	vipi(vcpu->index, true);
}

void dvext_hu_set_timer(uint64_t deadline)
{
	csr_write(CSR_VTIMECTL, 0);
	if (deadline == UINT64_MAX)
		return;
	csr_write(CSR_VTIMECMP, deadline);
	csr_write(CSR_VTIMECTL, VTIMECTL_U_TIMER);
}

uint64_t dvext_hu_guest_vsie(void)
{
	uint64_t vsie;

	__asm__ volatile("csrr %0, " XSTR(CSR_HUVSIE) : "=r"(vsie));
	return vsie;
}

void dvext_hu_reset_csrs(void)
{
	csr_write(CSR_HUVSSTATUS, 0);
	csr_write(CSR_HUVSIE, 0);
	csr_write(CSR_HUVSATP, 0);
}

/*
 * One entry and exit, on the vCPU's registered thread.  0: a delegated
 * trap is on the run page; -EINTR: an interrupt for the VMM (its timer,
 * a kick), nothing to decode.
 */
int dvext_hu_run(struct accel_vcpu *vcpu)
{
	struct dvext_hu_ctx *c = &vcpu->hu;
	struct duvisor_run *run = vcpu->run;
	struct duvisor_trap *t = &run->trap;

	if (!vcpu->hu_entered) {
		/* The first entry: VS-mode, WFI trapping (virtual inst). */
		csr_set(CSR_HUSTATUS, HSTATUS_SPVP | HSTATUS_VTW);
		vcpu->hu_entered = true;
	}
	csr_write(CSR_HUVIP, __atomic_load_n(&vcpu->hu_virqs,
					     __ATOMIC_SEQ_CST));
	for (int i = 1; i < 32; i++)
		c->guest[i] = run->regs[i];
	c->pc = run->pc;
	dvext_hu_enter(c);
	for (int i = 1; i < 32; i++)
		run->regs[i] = c->guest[i];
	run->pc = c->pc;
	run->stat_exits++;
	if (c->ucause & CAUSE_IRQ) {
		if ((c->ucause & ~CAUSE_IRQ) == DUVISOR_IRQ_U_TIMER) {
			csr_write(CSR_VTIMECTL, 0);
			vcpu->timer_deadline = 0;   /* dvext_timer_check */
		}
		/* U soft: another vCPU changed our interrupts (HUVIP is
		 * reloaded at the next entry); the kick is consumed. */
		vipi(vcpu->index, false);
		return -EINTR;
	}
	*t = (struct duvisor_trap){
		.scause = c->ucause, .sepc = c->pc, .stval = c->utval,
		.htval = c->hutval, .htinst = c->hutinst,
	};
	if (t->scause == DUVISOR_EXC_LOAD_GUEST_PF ||
	    t->scause == DUVISOR_EXC_STORE_GUEST_PF ||
	    t->scause == DUVISOR_EXC_INST_GUEST_PF)
		t->gpa = t->htval << 2 | (t->stval & 3);
	if (t->scause == DUVISOR_EXC_LOAD_GUEST_PF ||
	    t->scause == DUVISOR_EXC_STORE_GUEST_PF)
		t->insn = guest_insn(c);
	run->exit_reason = DUVISOR_EXIT_TRAP;
	return 0;
}
