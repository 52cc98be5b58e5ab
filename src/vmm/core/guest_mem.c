// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "core/util.h"

int guest_mem_add(struct guest_mem *mem, uint64_t gpa, uint64_t size)
{
	uintptr_t start;
	void *raw, *hva;

	if (mem->nregions >= GUEST_MEM_MAX_REGIONS || !size ||
	    gpa + size < gpa)
		return -EINVAL;
	/*
	 * NORESERVE: guest memory is committed as the guest touches it, which
	 * is what keeps a mostly idle VM small.
	 */
	if (size > UINT64_MAX - GUEST_HUGE_PAGE_SIZE)
		return -EINVAL;
	raw = mmap(NULL, size + GUEST_HUGE_PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return -errno;
	/*
	 * Start on a 2 MiB boundary: only then can KVM map the guest with huge
	 * pages, which saves tens of thousands of faults per boot.
	 */
	start = ALIGN_UP((uintptr_t)raw, (uintptr_t)GUEST_HUGE_PAGE_SIZE);
	if (start > (uintptr_t)raw)
		munmap(raw, start - (uintptr_t)raw);
	if ((uintptr_t)raw + size + GUEST_HUGE_PAGE_SIZE > start + size)
		munmap((void *)(start + size),
		       (uintptr_t)raw + size + GUEST_HUGE_PAGE_SIZE - (start + size));
	hva = (void *)start;
	(void)madvise(hva, size, MADV_HUGEPAGE);
	/* Guest memory has no place in a core dump of the VMM. */
	(void)madvise(hva, size, MADV_DONTDUMP);
	/* Identical pages of many similar guests are where KSM saves most;
	 * it only runs when the host's administrator turned it on. */
	if (mem->mergeable)
		(void)madvise(hva, size, MADV_MERGEABLE);
	mem->regions[mem->nregions++] = (struct guest_mem_region){
		.gpa = gpa, .size = size, .hva = hva,
	};
	return 0;
}

void guest_mem_free(struct guest_mem *mem)
{
	for (size_t i = 0; i < mem->nregions; i++)
		munmap(mem->regions[i].hva, mem->regions[i].size);
	memset(mem, 0, sizeof(*mem));
}

void guest_mem_small_pages(const struct guest_mem *mem, uint64_t gpa,
			   uint64_t len)
{
	for (size_t i = 0; i < mem->nregions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		uint64_t end = len > UINT64_MAX - gpa ? UINT64_MAX : gpa + len;
		uint64_t lo = MAX(gpa, r->gpa);
		uint64_t hi = MIN(end, r->gpa + r->size);

		lo = ALIGN_DOWN(lo, GUEST_PAGE_SIZE);
		hi = ALIGN_UP(hi, GUEST_PAGE_SIZE);
		if (lo < hi)
			(void)madvise(r->hva + (lo - r->gpa), hi - lo,
				      MADV_NOHUGEPAGE);
	}
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (size_t i = 0; i < mem->nregions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src,
		    size_t len)
{
	void *dst = guest_mem_ptr(mem, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

uint64_t guest_mem_total(const struct guest_mem *mem)
{
	uint64_t total = 0;

	for (size_t i = 0; i < mem->nregions; i++)
		total += mem->regions[i].size;
	return total;
}
