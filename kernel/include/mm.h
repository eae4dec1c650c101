/* SPDX-License-Identifier: MIT */
/*
 * mm.h - the physical page allocator (kernel/mm/page_alloc.c).
 * All guest RAM is identity-mapped, so a physical address is also a usable
 * pointer. Pages are 4 KiB. The allocator counts free pages exactly: the
 * balloon's stats and its "never inflate below balloon.min" rule rely on it.
 */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H

#include "kernel.h"

#define PAGE_SIZE	4096ull
#define PAGE_SHIFT	12

typedef uint64_t paddr_t;

static inline void *phys_to_virt(paddr_t p) { return (void *)(uintptr_t)p; }
static inline paddr_t virt_to_phys(const void *v) { return (paddr_t)(uintptr_t)v; }

/*
 * One page for a workload (the console's alloc). If taking it would leave
 * less than the reclaim threshold free, the reclaim hook runs first (the
 * balloon deflates). Returns 0 when no page can be had.
 */
paddr_t page_alloc(void);
/* One page without running the reclaim hook (the balloon's own inflation,
 * which checks balloon.min itself). Returns 0 when none is free. */
paddr_t page_alloc_noreclaim(void);
void page_free(paddr_t page);
/* Free a page whose contents the host has discarded (a deflated balloon
 * page): it needs no free page report. */
void page_free_discarded(paddr_t page);
/* NPAGES physically contiguous, zeroed pages (virtqueue rings, tables);
 * for boot-time use. Returns 0 on failure. */
paddr_t page_alloc_contig(size_t npages);

uint64_t mm_total_bytes(void);	/* all RAM the allocator manages */
uint64_t mm_free_bytes(void);	/* exactly what page_alloc can still hand out */

/*
 * Reclaim hook: called by page_alloc() when free memory would fall below
 * THRESHOLD bytes; it should free pages (page_free) and return how many
 * bytes it freed. One hook (the balloon driver's).
 */
typedef uint64_t (*mm_reclaim_fn)(uint64_t want_bytes, void *arg);
void mm_set_reclaim_hook(mm_reclaim_fn fn, void *arg, uint64_t threshold);

/*
 * Free page reporting (virtio-balloon PAGE_REPORTING): pages freed since
 * they were last reported are handed out in runs of contiguous pages and
 * are not allocatable (nor counted free) until returned; returned pages
 * count as discarded and are not reported again until reused and freed.
 * FN runs (from page_free) each time the unreported pages reach
 * THRESHOLD bytes; it should only schedule the report.
 */
struct mm_run {
	paddr_t start;
	uint64_t npages;
};
void mm_set_report_hook(void (*fn)(void *arg), void *arg, uint64_t threshold);
uint64_t mm_unreported_bytes(void);
/* Take up to MAX_RUNS runs of at most MAX_RUN_PAGES unreported pages,
 * leaving at least FLOOR_BYTES free; returns the number of runs. Whole
 * MM_REPORT_BLOCK-aligned blocks of unreported pages go first, as runs
 * that start and end on such a boundary (a host backing RAM with 2 MiB
 * pages discards only those); then, while room is left, runs of the
 * pages that form no whole block. At most MM_REPORT_MAX_RUNS runs. */
#define MM_REPORT_BLOCK		(2 * MiB)
#define MM_REPORT_MAX_RUNS	64
size_t mm_report_take(struct mm_run *runs, size_t max_runs,
		      uint64_t max_run_pages, uint64_t floor_bytes);
void mm_report_return(const struct mm_run *runs, size_t n);

/* Minor page-fault-like counter for the stats queue: pages first touched
 * by workloads (the kernel has no demand paging, so this counts pages the
 * console's alloc touched). */
uint64_t mm_minor_faults(void);
void mm_count_minor_faults(uint64_t n);

#endif
