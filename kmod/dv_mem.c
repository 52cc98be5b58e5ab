// SPDX-License-Identifier: GPL-2.0
/*
 * DuVisor DV-Ext control plane: guest memory and its G-stage (Sv39x4)
 * page tables.
 *
 * Guest memory is user memory pinned with FOLL_LONGTERM for the VM's
 * life and charged to the creator's locked_vm (RLIMIT_MEMLOCK), under a
 * per-VM bound (max_guest_mb): this is the vPMP role of the prototype,
 * in software.  Only registered memory is ever mapped: no MMIO, no host
 * device (the prototype identity-mapped the host PLIC), so every other
 * guest physical access is a guest-page fault that user space sees.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/csr.h>
#include <asm/pgtable.h>
#include "dv.h"

/* G-stage PTE bits (the privileged spec's, same as Sv39). */
#define DV_PTE_V	BIT(0)
#define DV_PTE_R	BIT(1)
#define DV_PTE_W	BIT(2)
#define DV_PTE_X	BIT(3)
#define DV_PTE_U	BIT(4)
#define DV_PTE_A	BIT(6)
#define DV_PTE_D	BIT(7)
#define DV_PTE_PPN_SHIFT	10
/*
 * G-stage leaves must have U set (guest accesses count as U-mode); A and
 * D are set up front so that no hart has to update them.
 */
#define DV_PTE_LEAF	(DV_PTE_V | DV_PTE_R | DV_PTE_W | DV_PTE_X | \
			 DV_PTE_U | DV_PTE_A | DV_PTE_D)

#define DV_ROOT_ENTRIES	(PAGE_SIZE / sizeof(u64) << DV_PGD_ORDER)
#define DV_ENTRIES	(PAGE_SIZE / sizeof(u64))

static u64 dv_pte_table(struct page *pg)
{
	return ((u64)page_to_pfn(pg) << DV_PTE_PPN_SHIFT) | DV_PTE_V;
}

static u64 *dv_pte_next(u64 pte)
{
	return page_address(pfn_to_page(pte >> DV_PTE_PPN_SHIFT));
}

int dv_gstage_init(struct dv_vm *vm)
{
	/* Buddy blocks are naturally aligned: 16 KiB as Sv39x4 wants. */
	vm->pgd = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO, DV_PGD_ORDER);
	if (!vm->pgd)
		return -ENOMEM;
	vm->hgatp = (HGATP_MODE_SV39X4 << HGATP_MODE_SHIFT) |
		    (((unsigned long)vm->vmid << HGATP_VMID_SHIFT) &
		     HGATP_VMID_MASK) |
		    page_to_pfn(vm->pgd);
	return 0;
}

/* Frees the table pages; the leaves' pages belong to the regions. */
void dv_gstage_free(struct dv_vm *vm)
{
	u64 *root = page_address(vm->pgd);
	unsigned int i, j;

	for (i = 0; i < DV_ROOT_ENTRIES; i++) {
		u64 *l1;

		if (!(root[i] & DV_PTE_V))
			continue;
		l1 = dv_pte_next(root[i]);
		for (j = 0; j < DV_ENTRIES; j++)
			if (l1[j] & DV_PTE_V)
				free_page((unsigned long)dv_pte_next(l1[j]));
		free_page((unsigned long)l1);
	}
	__free_pages(vm->pgd, DV_PGD_ORDER);
	vm->pgd = NULL;
}

/* The level-0 entry of gpa, allocating the tables on the way if asked. */
static u64 *dv_gstage_walk(struct dv_vm *vm, u64 gpa, bool alloc)
{
	u64 *table = page_address(vm->pgd);
	unsigned int level;

	for (level = 2; level > 0; level--) {
		unsigned int idx = (gpa >> (PAGE_SHIFT + 9 * level)) &
				   (level == 2 ? DV_ROOT_ENTRIES - 1 :
						 DV_ENTRIES - 1);
		u64 *pte = &table[idx];

		if (!(*pte & DV_PTE_V)) {
			struct page *pg;

			if (!alloc)
				return NULL;
			pg = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
			if (!pg)
				return NULL;
			vm->nr_tables++;
			/* The zeroed table is visible before the pointer. */
			smp_wmb();
			WRITE_ONCE(*pte, dv_pte_table(pg));
		}
		table = dv_pte_next(*pte);
	}
	return &table[(gpa >> PAGE_SHIFT) & (DV_ENTRIES - 1)];
}

static void dv_gstage_unmap(struct dv_vm *vm, u64 gpa, unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++) {
		u64 *pte = dv_gstage_walk(vm, gpa + (i << PAGE_SHIFT), false);

		if (pte)
			WRITE_ONCE(*pte, 0);
	}
}

static int dv_gstage_map(struct dv_vm *vm, const struct dv_region *r)
{
	unsigned long i;

	for (i = 0; i < r->npages; i++) {
		u64 *pte = dv_gstage_walk(vm, r->gpa + (i << PAGE_SHIFT), true);

		if (!pte) {
			dv_gstage_unmap(vm, r->gpa, i);
			return -ENOMEM;
		}
		WRITE_ONCE(*pte, ((u64)page_to_pfn(r->pages[i]) <<
				  DV_PTE_PPN_SHIFT) | DV_PTE_LEAF);
	}
	return 0;
}

static bool dv_region_valid(const struct duvisor_memory_region *r)
{
	if (r->flags || r->reserved)
		return false;
	if (!r->size || !PAGE_ALIGNED(r->size) ||
	    !PAGE_ALIGNED(r->guest_phys_addr) ||
	    !PAGE_ALIGNED(r->userspace_addr))
		return false;
	if (r->size > DV_GPA_LIMIT ||
	    r->guest_phys_addr > DV_GPA_LIMIT - r->size)
		return false;
	if (r->userspace_addr + r->size < r->userspace_addr)
		return false;
	return access_ok((void __user *)(unsigned long)r->userspace_addr,
			 r->size);
}

static bool dv_region_overlaps(struct dv_vm *vm, u64 gpa, u64 size)
{
	u32 i;

	for (i = 0; i < vm->nr_regions; i++) {
		const struct dv_region *o = &vm->regions[i];

		if (gpa < o->gpa + o->size && o->gpa < gpa + size)
			return true;
	}
	return false;
}

static bool dv_pages_contiguous(const struct dv_region *r)
{
	unsigned long pfn = page_to_pfn(r->pages[0]), i;

	for (i = 1; i < r->npages; i++)
		if (page_to_pfn(r->pages[i]) != pfn + i)
			return false;
	return true;
}

int dv_set_memory_region(struct dv_vm *vm,
			 const struct duvisor_memory_region *ur)
{
	struct dv_region r;
	long pinned = 0;
	int ret;

	if (!dv_region_valid(ur))
		return -EINVAL;
	r.gpa = ur->guest_phys_addr;
	r.size = ur->size;
	r.npages = ur->size >> PAGE_SHIFT;

	mutex_lock(&vm->lock);
	ret = -ENOSPC;
	if (vm->nr_regions >= dv_max_regions)
		goto out_unlock;
	ret = -E2BIG;
	if (r.size > dv_max_guest_bytes - vm->guest_bytes)
		goto out_unlock;
	ret = -EEXIST;
	if (dv_region_overlaps(vm, r.gpa, r.size))
		goto out_unlock;
	/*
	 * DV-Ext's vPMP window is one physical range per VM (firmware has
	 * few PMP entries), so a DV-Ext VM has a single region.
	 */
	ret = -ENOSPC;
	if (dv_mode == DUVISOR_MODE_DVEXT && vm->nr_regions)
		goto out_unlock;

	ret = -ENOMEM;
	r.pages = kvmalloc_array(r.npages, sizeof(*r.pages), GFP_KERNEL_ACCOUNT);
	if (!r.pages)
		goto out_unlock;
	ret = account_locked_vm(vm->mm, r.npages, true);
	if (ret)
		goto out_free;
	while (pinned < r.npages) {
		long n = pin_user_pages_fast(ur->userspace_addr +
					     (pinned << PAGE_SHIFT),
					     r.npages - pinned,
					     FOLL_WRITE | FOLL_LONGTERM,
					     r.pages + pinned);

		if (n <= 0) {
			ret = n ? n : -EFAULT;
			goto out_unpin;
		}
		pinned += n;
	}
	/* The vPMP window (dv_dvext.c) covers one physical range. */
	ret = -EINVAL;
	if (dv_mode == DUVISOR_MODE_DVEXT && !dv_pages_contiguous(&r))
		goto out_unpin;
	ret = dv_gstage_map(vm, &r);
	if (ret)
		goto out_unpin;
	vm->regions[vm->nr_regions] = r;
	/* DV-Ext's sched_in reads regions[0] without the lock. */
	smp_store_release(&vm->nr_regions, vm->nr_regions + 1);
	vm->guest_bytes += r.size;
	mutex_unlock(&vm->lock);
	/* Harts may cache invalid G-stage entries of the new range. */
	dv_flush_vm_everywhere(vm);
	return 0;

out_unpin:
	unpin_user_pages(r.pages, pinned);
	account_locked_vm(vm->mm, r.npages, false);
out_free:
	kvfree(r.pages);
out_unlock:
	mutex_unlock(&vm->lock);
	return ret;
}

/* Last reference only, after every hart flushed the VMID. */
void dv_regions_release(struct dv_vm *vm)
{
	u32 i;

	for (i = 0; i < vm->nr_regions; i++) {
		struct dv_region *r = &vm->regions[i];

		unpin_user_pages_dirty_lock(r->pages, r->npages, true);
		/* A dead mm has no locked_vm left to give back. */
		if (mmget_not_zero(vm->mm)) {
			account_locked_vm(vm->mm, r->npages, false);
			mmput(vm->mm);
		}
		kvfree(r->pages);
		r->pages = NULL;
	}
	vm->nr_regions = 0;
	vm->guest_bytes = 0;
}
