// SPDX-License-Identifier: GPL-2.0
/*
 * DuVisor DV-Ext mode: delegation instead of a world switch.
 *
 * BUILD-CHECKED ONLY: no CPU or emulator here implements DV-Ext, so this
 * file is compiled but has never run (docs/dvext-kmod.md).
 *
 * While a registered thread is on a hart, the hart has hstatus.HU set,
 * the VM's exit and interrupt causes delegated to U-mode (sedeleg and
 * sideleg, the N extension's CSRs that DV-Ext reuses), the VM's G-stage
 * root and VMID in hgatp, and the thread's own copy of the hypervisor
 * CSRs it programs from HU-mode.  On every other thread the hart is
 * back to the host's state.  Guest exits then go straight to the
 * thread's utvec: the module is not on that path at all.
 */
#define pr_fmt(fmt) "duvisor: " fmt

#include <linux/irqflags.h>
#include <asm/csr.h>
#include <asm/hwcap.h>
#include <asm/sbi.h>
#include "dv.h"

#define CSR_UTVEC	0x005
#define CSR_USCRATCH	0x040
#define CSR_UEPC	0x041
#define CSR_UCAUSE	0x042
#define CSR_UTVAL	0x043
#define CSR_SEDELEG	0x102
#define CSR_SIDELEG	0x103
#define CSR_VTIMECMP	0x401
#define CSR_VTIMECTL	0x402
#define CSR_VCPUID	0x482

/*
 * The vPMP window: firmware limits what V-mode and HU-mode accesses may
 * reach to the VM's memory, since HU-mode can write HUGATP itself.  A
 * firmware-specific SBI extension (SBI v0.2+ calling convention: EID in
 * a7, FID in a6); without it DV-Ext mode is refused, never run open.
 */
#define DV_SBI_EXT_VPMP		0x0A445650	/* "\nDVP" */
#define DV_SBI_VPMP_SET		0
#define DV_SBI_VPMP_CLEAR	1

static bool dv_isa_has_z(void)
{
	return __riscv_isa_extension_available(NULL, 'z' - 'a');
}

/*
 * misa.Z is what DV-Ext advertises, but Linux's riscv,isa parser reads a
 * 'z' as the start of a multi-letter name, so the CSR probe decides too.
 */
bool dv_dvext_probe(void)
{
	unsigned long flags, ok;

	local_irq_save(flags);
	ok = dv_probe_hu_csr();
	local_irq_restore(flags);
	if (!ok && !dv_isa_has_z())
		return false;
	if (sbi_spec_version < sbi_mk_version(0, 2) ||
	    sbi_probe_extension(DV_SBI_EXT_VPMP) <= 0) {
		pr_info("DV-Ext present but no vPMP SBI extension: not used\n");
		return false;
	}
	return true;
}

static void dv_vpmp_set(struct dv_vm *vm)
{
	struct dv_region *r = &vm->regions[0];

	/* A DV-Ext VM has one region; its pages are contiguous (dv_mem.c). */
	if (!smp_load_acquire(&vm->nr_regions)) {
		sbi_ecall(DV_SBI_EXT_VPMP, DV_SBI_VPMP_CLEAR, 0, 0, 0, 0, 0, 0);
		return;
	}
	sbi_ecall(DV_SBI_EXT_VPMP, DV_SBI_VPMP_SET,
		  page_to_phys(r->pages[0]), r->size, 0, 0, 0, 0);
}

void dv_dvext_sched_in(struct dv_vcpu *vcpu, int cpu)
{
	struct dv_hu_state *s = &vcpu->hu;
	struct dv_vm *vm = vcpu->vm;

	dv_vpmp_set(vm);
	csr_write(CSR_HGATP, vm->hgatp);
	s->host_hedeleg = csr_swap(CSR_HEDELEG, s->hedeleg);
	s->host_hideleg = csr_swap(CSR_HIDELEG, s->hideleg);
	s->host_hcounteren = csr_swap(CSR_HCOUNTEREN, s->hcounteren);
	csr_write(CSR_HTIMEDELTA, s->htimedelta);
	csr_write(CSR_HVIP, s->hvip);
	csr_write(CSR_VSSTATUS, s->vsstatus);
	csr_write(CSR_VSIE, s->vsie);
	csr_write(CSR_VSTVEC, s->vstvec);
	csr_write(CSR_VSSCRATCH, s->vsscratch);
	csr_write(CSR_VSEPC, s->vsepc);
	csr_write(CSR_VSCAUSE, s->vscause);
	csr_write(CSR_VSTVAL, s->vstval);
	csr_write(CSR_VSATP, s->vsatp);
	csr_write(CSR_UTVEC, s->utvec);
	csr_write(CSR_USCRATCH, s->uscratch);
	csr_write(CSR_UEPC, s->uepc);
	csr_write(CSR_UCAUSE, s->ucause);
	csr_write(CSR_UTVAL, s->utval);
	csr_write(CSR_VTIMECMP, s->vtimecmp);
	csr_write(CSR_VTIMECTL, s->vtimectl);
	csr_write(CSR_VCPUID, vcpu->id);
	csr_write(CSR_SEDELEG, vm->edeleg);
	csr_write(CSR_SIDELEG, vm->ideleg);
	csr_set(CSR_HSTATUS, HSTATUS_HU);
}

void dv_dvext_sched_out(struct dv_vcpu *vcpu)
{
	struct dv_hu_state *s = &vcpu->hu;

	/* HU first: from here on the hart is the host's again. */
	csr_clear(CSR_HSTATUS, HSTATUS_HU);
	csr_write(CSR_SEDELEG, 0);
	csr_write(CSR_SIDELEG, 0);
	s->utvec = csr_read(CSR_UTVEC);
	s->uscratch = csr_read(CSR_USCRATCH);
	s->uepc = csr_read(CSR_UEPC);
	s->ucause = csr_read(CSR_UCAUSE);
	s->utval = csr_read(CSR_UTVAL);
	s->vtimecmp = csr_read(CSR_VTIMECMP);
	s->vtimectl = csr_read(CSR_VTIMECTL);
	/* A guest timer must not fire into another thread. */
	csr_write(CSR_VTIMECTL, 0);
	s->hedeleg = csr_read(CSR_HEDELEG);
	s->hideleg = csr_read(CSR_HIDELEG);
	s->hcounteren = csr_read(CSR_HCOUNTEREN);
	s->htimedelta = csr_read(CSR_HTIMEDELTA);
	s->hvip = csr_read(CSR_HVIP);
	s->vsstatus = csr_read(CSR_VSSTATUS);
	s->vsie = csr_read(CSR_VSIE);
	s->vstvec = csr_read(CSR_VSTVEC);
	s->vsscratch = csr_read(CSR_VSSCRATCH);
	s->vsepc = csr_read(CSR_VSEPC);
	s->vscause = csr_read(CSR_VSCAUSE);
	s->vstval = csr_read(CSR_VSTVAL);
	s->vsatp = csr_read(CSR_VSATP);
	csr_write(CSR_HEDELEG, s->host_hedeleg);
	csr_write(CSR_HIDELEG, s->host_hideleg);
	csr_write(CSR_HCOUNTEREN, s->host_hcounteren);
	csr_write(CSR_HVIP, 0);
	sbi_ecall(DV_SBI_EXT_VPMP, DV_SBI_VPMP_CLEAR, 0, 0, 0, 0, 0, 0);
}
