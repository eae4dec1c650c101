/* SPDX-License-Identifier: MIT */
/*
 * page_alloc.c - the physical page allocator: 4 KiB pages from the boot
 * memory map, an exact free count, O(1) single-page alloc and free, and
 * the reclaim hook through which the balloon gives memory back under
 * pressure. Host-testable: it touches only the pages it manages.
 */
#include "kernel.h"
#include "init.h"
#include "mm.h"

#define MM_MAX_RANGES	64

/*
 * Free memory comes in two kinds, so boot never walks or zeroes all of RAM:
 * - ranges: runs of pages never handed out yet, carved from the bottom of
 *   the lowest non-empty run (so early page-table pages come from low,
 *   already-mapped memory);
 * - the free stack: pages handed out and freed again, as 32-bit page
 *   numbers in an array set aside by mm_init(). Reused first (LIFO), so
 *   the pages the balloon gives back are the ones a workload gets next.
 *   Freeing never touches the freed page itself: after a deflate that
 *   would fault every page the host has just discarded back in.
 * The stack array holds two stacks growing towards each other: from the
 * bottom, pages freed since they were last reported to the host (free
 * page reporting, virtio 5.5.6.7); from the top, pages the host has
 * discarded (reported, or given back by the balloon). Reported pages are
 * reused only after the unreported ones, so they stay discarded longer.
 * Pages taken out for a report are neither free nor on a stack until
 * they come back. Never-touched ranges need no report: the host never
 * backed them.
 * Only kernel work context (never an interrupt handler) calls in, so
 * there is no locking.
 */
static struct {
	struct mm_range {
		paddr_t start;		/* first untouched page */
		paddr_t end;		/* end of the run (exclusive) */
	} ranges[MM_MAX_RANGES];	/* sorted by address, no overlaps */
	int nranges;
	paddr_t base;			/* lowest RAM page: page numbers count from here */
	uint32_t *stack;		/* freed pages, (addr - base) / PAGE_SIZE */
	uint64_t stack_len;		/* unreported entries, from the bottom */
	uint64_t clean_len;		/* discarded entries, from the top */
	uint64_t stack_cap;		/* entries that fit: one per RAM page */
	uint64_t reporting;		/* pages out for a report */
	uint64_t free_pages;		/* pages in ranges + on the stacks */
	uint64_t total_pages;		/* all RAM pages managed */
	paddr_t ram_end;		/* end of the highest RAM page */
	paddr_t low_ram_end;		/* ... of the highest below 4 GiB */
	mm_reclaim_fn reclaim;		/* the balloon's deflate, or NULL */
	void *reclaim_arg;
	uint64_t reclaim_threshold;	/* bytes: reclaim below this much free */
	bool in_reclaim;		/* the hook is running: no recursion */
	void (*report)(void *arg);	/* free page reporting's nudge, or NULL */
	void *report_arg;
	uint64_t report_pages;		/* nudge when this many are unreported */
	uint64_t minor_faults;		/* pages first touched by workloads */
} mm;

static uint64_t range_pages(const struct mm_range *r)
{
	return (r->end - r->start) / PAGE_SIZE;
}

static void range_remove(int i)
{
	memmove(&mm.ranges[i], &mm.ranges[i + 1],
		(mm.nranges - i - 1) * sizeof(mm.ranges[0]));
	mm.nranges--;
}

static void range_insert(int i, paddr_t start, paddr_t end)
{
	if (mm.nranges == MM_MAX_RANGES)
		panic("mm: more than %d memory ranges", MM_MAX_RANGES);
	memmove(&mm.ranges[i + 1], &mm.ranges[i],
		(mm.nranges - i) * sizeof(mm.ranges[0]));
	mm.ranges[i].start = start;
	mm.ranges[i].end = end;
	mm.nranges++;
}

void mm_add_ram(uint64_t start, uint64_t len)
{
	paddr_t s = ALIGN_UP(start, PAGE_SIZE);
	paddr_t e = (start + len) & ~(PAGE_SIZE - 1);
	int i;

	if (s == 0)	/* page 0 doubles as "no page": never hand it out */
		s = PAGE_SIZE;
	if (e <= s)
		return;
	for (i = 0; i < mm.nranges; i++) {
		if (s < mm.ranges[i].end && e > mm.ranges[i].start)
			panic("mm: RAM %lx-%lx overlaps RAM already added", s, e);
		if (e <= mm.ranges[i].start)
			break;
	}
	range_insert(i, s, e);
	mm.total_pages += (e - s) / PAGE_SIZE;
	mm.free_pages += (e - s) / PAGE_SIZE;
	mm.ram_end = MAX(mm.ram_end, e);
	if (s < 4 * GiB)
		mm.low_ram_end = MAX(mm.low_ram_end, MIN(e, 4 * GiB));
}

void mm_reserve(uint64_t start, uint64_t len)
{
	paddr_t s = start & ~(PAGE_SIZE - 1);
	paddr_t e = ALIGN_UP(start + len, PAGE_SIZE);

	/* Rounding outwards would make an empty range at an unaligned
	 * address cover a whole page. */
	if (!len)
		return;
	for (int i = 0; i < mm.nranges; i++) {
		struct mm_range *r = &mm.ranges[i];
		paddr_t cut_s = MAX(s, r->start), cut_e = MIN(e, r->end);
		uint64_t cut;

		if (cut_s >= cut_e)
			continue;
		cut = (cut_e - cut_s) / PAGE_SIZE;
		mm.total_pages -= cut;
		mm.free_pages -= cut;
		if (cut_s == r->start && cut_e == r->end) {
			range_remove(i--);
		} else if (cut_s == r->start) {
			r->start = cut_e;
		} else if (cut_e == r->end) {
			r->end = cut_s;
		} else {	/* a hole in the middle: split the run */
			paddr_t old_end = r->end;

			r->end = cut_s;
			range_insert(i + 1, cut_e, old_end);
			i++;
		}
	}
}

paddr_t mm_ram_end(void)
{
	return mm.ram_end;
}

paddr_t mm_ram_end_below_4g(void)
{
	return mm.low_ram_end;
}

/* NPAGES contiguous never-used pages from the lowest range that has
 * them, not zeroed; 0 if no range has enough. */
static paddr_t carve(size_t npages)
{
	for (int i = 0; i < mm.nranges; i++) {
		struct mm_range *r = &mm.ranges[i];
		paddr_t p = r->start;

		if (range_pages(r) < npages)
			continue;
		r->start += npages * PAGE_SIZE;
		mm.free_pages -= npages;
		return p;
	}
	return 0;
}

void mm_init(void)
{
	uint64_t bytes = mm.total_pages * sizeof(mm.stack[0]);
	paddr_t p;

	if (!mm.nranges)
		panic("mm: no RAM");
	mm.base = mm.ranges[0].start;
	if ((mm.ram_end - mm.base) / PAGE_SIZE > UINT32_MAX)
		panic("mm: RAM beyond 16 TiB does not fit 32-bit page numbers");
	/* Never zeroed: an entry is written before it is read. */
	p = carve(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
	if (!p)
		panic("mm: no room for the free-page stack (%lu bytes)", bytes);
	mm.stack = phys_to_virt(p);
	mm.stack_cap = mm.total_pages;
}

static paddr_t stack_page(uint64_t i)
{
	return mm.base + (paddr_t)mm.stack[i] * PAGE_SIZE;
}

paddr_t page_alloc_noreclaim(void)
{
	if (mm.stack_len) {
		mm.free_pages--;
		return stack_page(--mm.stack_len);
	}
	if (mm.clean_len) {
		mm.free_pages--;
		return stack_page(mm.stack_cap - mm.clean_len--);
	}
	return carve(1);
}

paddr_t page_alloc(void)
{
	/* Free bytes left once this page is taken. */
	uint64_t after = mm.free_pages ? (mm.free_pages - 1) * PAGE_SIZE : 0;

	if (mm.reclaim && !mm.in_reclaim && after < mm.reclaim_threshold) {
		mm.in_reclaim = true;
		mm.reclaim(mm.reclaim_threshold - after, mm.reclaim_arg);
		mm.in_reclaim = false;
	}
	return page_alloc_noreclaim();
}

/* Room on the stacks for PAGE: panics on a page we do not manage, or on
 * more frees than pages (a double free). */
static uint32_t stack_entry(paddr_t page)
{
	if (page < mm.base || (page & (PAGE_SIZE - 1)) || page >= mm.ram_end)
		panic("mm: page_free(%lx): not a page we manage", page);
	if (mm.stack_len + mm.clean_len + mm.reporting >= mm.stack_cap)
		panic("mm: page_free(%lx): double free", page);
	mm.free_pages++;
	return (page - mm.base) / PAGE_SIZE;
}

void page_free(paddr_t page)
{
	mm.stack[mm.stack_len] = stack_entry(page);
	/* Once per crossing, not per free: the hook only schedules work. */
	if (++mm.stack_len == mm.report_pages && mm.report)
		mm.report(mm.report_arg);
}

void page_free_discarded(paddr_t page)
{
	uint32_t e = stack_entry(page);

	mm.stack[mm.stack_cap - ++mm.clean_len] = e;
}

void mm_set_report_hook(void (*fn)(void *arg), void *arg, uint64_t threshold)
{
	mm.report = fn;
	mm.report_arg = arg;
	mm.report_pages = MAX(threshold / PAGE_SIZE, 1);
}

uint64_t mm_unreported_bytes(void)
{
	return mm.stack_len * PAGE_SIZE;
}

/* Sift the heap STACK[0..N) down from I (a max-heap of page numbers). */
static void heap_sift(uint32_t *a, uint64_t n, uint64_t i)
{
	for (;;) {
		uint64_t big = i, l = 2 * i + 1, r = l + 1;
		uint32_t t;

		if (l < n && a[l] > a[big])
			big = l;
		if (r < n && a[r] > a[big])
			big = r;
		if (big == i)
			return;
		t = a[i];
		a[i] = a[big];
		a[big] = t;
		i = big;
	}
}

/* Sort the unreported stack by address (in place, no allocation): runs
 * and aligned blocks then lie next to each other. Free pages have no
 * order that matters otherwise. Already sorted after the last report,
 * unless pages were freed since. */
static void stack_sort(void)
{
	uint32_t *a = mm.stack, t;
	uint64_t n = mm.stack_len, i;

	for (i = 1; i < n && a[i - 1] < a[i]; i++)
		;
	if (i >= n)
		return;
	for (i = n / 2; i-- > 0;)
		heap_sift(a, n, i);
	for (i = n; i-- > 1;) {
		t = a[0];
		a[0] = a[i];
		a[i] = t;
		heap_sift(a, i, 0);
	}
}

/* Sorted entries [FROM, TO) form one run of consecutive pages. */
struct take {
	uint64_t from, to;
};

/* Add the run of sorted entries [FROM, TO) to the report, at most
 * *BUDGET pages; false when no run is left. */
static bool take_run(struct mm_run *runs, struct take *takes, size_t *n,
		     size_t max_runs, uint64_t from, uint64_t to, uint64_t *budget)
{
	if (*n == max_runs || !*budget)
		return false;
	to = MIN(to, from + *budget);
	runs[*n].start = stack_page(from);
	runs[*n].npages = to - from;
	takes[*n].from = from;
	takes[*n].to = to;
	(*n)++;
	*budget -= to - from;
	return true;
}

/* Sort TAKES[0..N) by position (few: insertion sort). */
static void takes_sort(struct take *takes, size_t n)
{
	for (size_t a = 1; a < n; a++) {
		struct take t = takes[a];
		size_t b = a;

		for (; b > 0 && takes[b - 1].from > t.from; b--)
			takes[b] = takes[b - 1];
		takes[b] = t;
	}
}

size_t mm_report_take(struct mm_run *runs, size_t max_runs,
		      uint64_t max_run_pages, uint64_t floor_bytes)
{
	const uint64_t block = MM_REPORT_BLOCK / PAGE_SIZE;
	struct take takes[MM_REPORT_MAX_RUNS];
	uint64_t floor = ALIGN_UP(floor_bytes, PAGE_SIZE) / PAGE_SIZE;
	uint64_t budget = mm.free_pages > floor ? mm.free_pages - floor : 0;
	uint64_t i, j, end, limit, out = 0, taken = 0;
	size_t n = 0, nblocks, k;

	max_runs = MIN(max_runs, MM_REPORT_MAX_RUNS);
	if (!mm.stack_len || !budget || !max_runs || !max_run_pages)
		return 0;
	stack_sort();

	/* Whole aligned blocks first, several to a run where they touch. */
	for (i = 0; i < mm.stack_len && block <= max_run_pages && budget >= block; i = end) {
		/* [i, end): one run of consecutive pages */
		for (end = i + 1; end < mm.stack_len && mm.stack[end] == mm.stack[end - 1] + 1; end++)
			;
		j = i + (ALIGN_UP(stack_page(i), MM_REPORT_BLOCK) - stack_page(i)) / PAGE_SIZE;
		while (j + block <= end && n < max_runs && budget >= block) {
			uint64_t blocks = MIN(MIN((end - j) / block, max_run_pages / block),
					      budget / block);

			take_run(runs, takes, &n, max_runs, j, j + blocks * block, &budget);
			j += blocks * block;
		}
	}
	/* Then what forms no whole block, in runs: the entries between the
	 * blocks taken (sorted by position, as found), from the bottom. */
	nblocks = n;
	for (i = 0, k = 0; i < mm.stack_len && n < max_runs && budget; ) {
		if (k < nblocks && i == takes[k].from) {
			i = takes[k++].to;
			continue;
		}
		limit = k < nblocks ? takes[k].from : mm.stack_len;
		for (end = i + 1; end < limit && end - i < max_run_pages &&
		     mm.stack[end] == mm.stack[end - 1] + 1; end++)
			;
		take_run(runs, takes, &n, max_runs, i, end, &budget);
		i = end;
	}
	/* Close the gaps the taken entries leave, keeping the order. */
	takes_sort(takes, n);
	for (i = 0, k = 0; i < mm.stack_len; ) {
		if (k < n && i == takes[k].from) {
			taken += takes[k].to - i;
			i = takes[k++].to;
			continue;
		}
		mm.stack[out++] = mm.stack[i++];
	}
	mm.stack_len = out;
	mm.free_pages -= taken;
	mm.reporting += taken;
	return n;
}

void mm_report_return(const struct mm_run *runs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mm.reporting -= runs[i].npages;
		for (uint64_t j = 0; j < runs[i].npages; j++)
			page_free_discarded(runs[i].start + j * PAGE_SIZE);
	}
}

paddr_t page_alloc_contig(size_t npages)
{
	paddr_t p = carve(npages);

	if (p)
		memset(phys_to_virt(p), 0, npages * PAGE_SIZE);
	return p;
}

uint64_t mm_total_bytes(void)
{
	return mm.total_pages * PAGE_SIZE;
}

uint64_t mm_free_bytes(void)
{
	return mm.free_pages * PAGE_SIZE;
}

void mm_set_reclaim_hook(mm_reclaim_fn fn, void *arg, uint64_t threshold)
{
	mm.reclaim = fn;
	mm.reclaim_arg = arg;
	mm.reclaim_threshold = threshold;
}

uint64_t mm_minor_faults(void)
{
	return mm.minor_faults;
}

void mm_count_minor_faults(uint64_t n)
{
	mm.minor_faults += n;
}
