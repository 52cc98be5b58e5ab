/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest RAM: a few contiguous regions of guest physical address space, each
 * backed by one anonymous mapping. Every access the VMM makes on the guest's
 * behalf goes through guest_mem_ptr(), which checks the whole range, since
 * addresses and lengths often come from the (untrusted) guest.
 */
#ifndef DUVISOR_GUEST_MEM_H
#define DUVISOR_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4
/* Host pages: what a touched guest page costs the host, normally and when
 * the mapping is backed by a transparent huge page. */
#define GUEST_PAGE_SIZE 4096u
#define GUEST_HUGE_PAGE_SIZE (2ull << 20)

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	bool mergeable;              /* regions added from now on: for KSM */
	size_t nregions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

/* Maps anonymous memory for [gpa, gpa + size). Returns 0 or -errno. */
int guest_mem_add(struct guest_mem *mem, uint64_t gpa, uint64_t size);
void guest_mem_free(struct guest_mem *mem);

/*
 * Keeps the guest RAM in [gpa, gpa + len) (rounded out to whole pages) out
 * of transparent huge pages, for memory the guest uses sparsely: each
 * page it touches then costs the host 4 KiB rather than 2 MiB.  Takes
 * effect for pages not touched yet; best effort, as huge pages are.
 */
void guest_mem_small_pages(const struct guest_mem *mem, uint64_t gpa,
			   uint64_t len);

/* Host pointer for [gpa, gpa + len), or NULL unless it lies in one region. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copies into guest memory; returns 0 or -EFAULT. */
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src,
		    size_t len);

uint64_t guest_mem_total(const struct guest_mem *mem);

#endif
