/* SPDX-License-Identifier: MIT */
/*
 * test-kernel-mm.c - host unit tests of the guest kernel's page allocator
 * (kernel/mm/page_alloc.c): exact free counts, carving around reserved
 * memory, reuse of freed pages, contiguous runs, the reclaim hook and the
 * free page reporting bookkeeping.
 * Physical memory is a page-aligned host buffer ("identity-mapped").
 */
#include "config.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
/* Included, not linked, so each scenario can start from an empty
 * allocator by clearing its state. */
#include "../../kernel/mm/page_alloc.c"

#define ARENA_PAGES	1024

static unsigned char *arena;	/* ARENA_PAGES page-aligned host pages */
static jmp_buf *panic_jump;	/* where panic() returns to, if set */

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfprintf(stderr, fmt, ap);
	va_end(ap);
	return n;
}

void panic(const char *fmt, ...)
{
	va_list ap;

	fputs("# panic: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	if (panic_jump)
		longjmp(*panic_jump, 1);
	abort();
}

static paddr_t page_at(size_t i)
{
	return (paddr_t)(uintptr_t)(arena + i * PAGE_SIZE);
}

static size_t index_of(paddr_t p)
{
	return (p - page_at(0)) / PAGE_SIZE;
}

static void reset(void)
{
	memset(&mm, 0, sizeof(mm));
	memset(arena, 0xa5, ARENA_PAGES * PAGE_SIZE);
}

/* Runs FN and reports whether it panicked. */
static bool panics(void (*fn)(void))
{
	jmp_buf jb;
	bool panicked = false;

	panic_jump = &jb;
	if (setjmp(jb))
		panicked = true;
	else
		fn();
	panic_jump = NULL;
	return panicked;
}

static void test_counts_and_reserve(void)
{
	reset();
	/* Unaligned RAM is trimmed inwards to whole pages. */
	mm_add_ram(page_at(0) + 100, 64 * PAGE_SIZE);
	is_u64(mm_total_bytes(), 63 * PAGE_SIZE, "unaligned RAM range is trimmed to whole pages");
	is_u64(mm_free_bytes(), 63 * PAGE_SIZE, "all of it is free");
	mm_add_ram(page_at(100), 50 * PAGE_SIZE);
	is_u64(mm_total_bytes(), 113 * PAGE_SIZE, "a second range adds up");
	is_u64(mm_ram_end(), page_at(150), "RAM ends at the end of the highest range");

	/* Unaligned reservations are rounded outwards: pages 10..12. */
	mm_reserve(page_at(10) + 8, 2 * PAGE_SIZE);
	is_u64(mm_free_bytes(), 110 * PAGE_SIZE, "reserving part of a page takes the whole page");
	is_u64(mm_total_bytes(), 110 * PAGE_SIZE, "reserved pages are not managed RAM");
	mm_reserve(page_at(60), 50 * PAGE_SIZE);	/* tail of one, head of the other */
	is_u64(mm_free_bytes(), (110 - 4 - 10) * PAGE_SIZE, "a reservation across two ranges cuts both");
	mm_reserve(page_at(500), 10 * PAGE_SIZE);	/* not RAM at all */
	is_u64(mm_free_bytes(), 96 * PAGE_SIZE, "reserving non-RAM changes nothing");
	mm_reserve(page_at(100), PAGE_SIZE);		/* already reserved */
	is_u64(mm_free_bytes(), 96 * PAGE_SIZE, "reserving twice counts once");
	/* Empty memory-map entries (microvm lists one) describe nothing. */
	mm_reserve(page_at(20) + 8, 0);
	is_u64(mm_free_bytes(), 96 * PAGE_SIZE, "an empty reservation at an unaligned address cuts nothing");
	mm_add_ram(page_at(300), 0);
	mm_add_ram(page_at(300) + 8, 0);
	is_u64(mm_total_bytes(), 96 * PAGE_SIZE, "empty RAM ranges add nothing");
	is_u64(mm_ram_end(), page_at(150), "...and do not move the end of RAM");
	mm_init();
	is_u64(mm_free_bytes(), 95 * PAGE_SIZE,
	       "one page (4 bytes per RAM page) goes to the free-page stack");
	is_u64(mm_total_bytes(), 96 * PAGE_SIZE, "it is still managed RAM");

	/* Every page handed out is distinct, RAM and never reserved. */
	static bool seen[ARENA_PAGES];
	bool good = true;
	uint64_t n = 0;
	paddr_t p;

	memset(seen, 0, sizeof(seen));
	while ((p = page_alloc())) {
		size_t i = index_of(p);

		if ((p & (PAGE_SIZE - 1)) || i >= 150 || seen[i] ||
		    (i >= 10 && i < 13) || (i >= 60 && i < 110) || i == 0)
			good = false;
		seen[i] = true;
		n++;
	}
	is_u64(n, 95, "exactly the free pages can be allocated");
	ok(good, "each page is a distinct, unreserved RAM page");
	is_u64(mm_free_bytes(), 0, "nothing is free after allocating everything");
	is_u64(page_alloc_noreclaim(), 0, "allocation from an empty allocator fails");
}

/* Where RAM below 4 GiB ends, from QEMU's memory maps (paging.c makes
 * the MMIO hole above it uncached). Nothing here is touched: no mm_init. */
static void test_ram_end_below_4g(void)
{
	reset();	/* pc, -m 3300M: 3.2 GiB of RAM below 4 GiB */
	mm_add_ram(0, 0x9fc00);
	mm_add_ram(0x100000, 0xce2e0000);
	is_u64(mm_ram_end_below_4g(), 0xce3e0000ull, "pc 3300M: low RAM ends at 0xce3e0000");

	reset();	/* q35, -m 3G: 2 GiB below 4 GiB, the rest above */
	mm_add_ram(0, 0x9fc00);
	mm_add_ram(0x100000, 0x7fee0000);
	mm_add_ram(0x100000000ull, 0x40000000);
	is_u64(mm_ram_end_below_4g(), 0x7ffe0000ull, "q35 3G: RAM above 4 GiB does not count");
	is_u64(mm_ram_end(), 0x140000000ull, "...but is the end of all RAM");

	reset();	/* one entry across 4 GiB (not QEMU's, but allowed) */
	mm_add_ram(0xc0000000ull, 0x80000000ull);
	is_u64(mm_ram_end_below_4g(), 0x100000000ull, "RAM across 4 GiB: low RAM ends at 4 GiB");
}

static void test_free_and_reuse(void)
{
	paddr_t a, b, c;

	reset();
	mm_add_ram(page_at(0), 8 * PAGE_SIZE);
	mm_init();
	a = page_alloc();
	b = page_alloc();
	c = page_alloc();
	is_u64(mm_free_bytes(), 4 * PAGE_SIZE, "three pages taken");
	page_free(b);
	page_free(a);
	is_u64(mm_free_bytes(), 6 * PAGE_SIZE, "freeing returns them to the count");
	is_u64(page_alloc(), a, "the most recently freed page is reused first");
	is_u64(page_alloc(), b, "then the one before");
	page_free(c);
	for (int i = 0; i < 8 && page_alloc(); i++)
		;
	is_u64(mm_free_bytes(), 0, "freed and never-used pages are all allocatable");
	is_u64(mm_total_bytes(), 8 * PAGE_SIZE, "total does not change with allocation");
}

static void test_page_zero_is_never_used(void)
{
	reset();
	mm_add_ram(0, 3 * PAGE_SIZE);
	is_u64(mm_total_bytes(), 2 * PAGE_SIZE, "page 0 (which means 'no page') is left out");
}

static void test_free_leaves_page_alone(void)
{
	paddr_t p;
	unsigned char *bytes;
	bool untouched = true;

	reset();
	mm_add_ram(page_at(0), 8 * PAGE_SIZE);
	mm_init();
	p = page_alloc();
	bytes = (unsigned char *)(uintptr_t)p;
	memset(bytes, 0x5a, PAGE_SIZE);
	page_free(p);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (bytes[i] != 0x5a)
			untouched = false;
	ok(untouched, "page_free does not write to the page (a deflated page stays unfaulted)");
	is_u64(page_alloc(), p, "and the page is handed out again");
}

static void free_unaligned(void)
{
	page_free(page_at(1) + 8);
}

static void free_null(void)
{
	page_free(0);
}

static void free_beyond_ram(void)
{
	page_free(page_at(ARENA_PAGES));
}

static paddr_t twice;

static void free_more_than_exist(void)
{
	for (int i = 0; i < 17; i++)
		page_free(twice);
}

static void test_bad_free_panics(void)
{
	reset();
	mm_add_ram(page_at(0), 16 * PAGE_SIZE);
	mm_init();
	ok(panics(free_unaligned), "freeing an unaligned address panics");
	ok(panics(free_null), "freeing page 0 panics");
	ok(panics(free_beyond_ram), "freeing beyond RAM panics");
	is_u64(mm_free_bytes(), 15 * PAGE_SIZE, "a refused free changes no count");
	twice = page_alloc();
	ok(panics(free_more_than_exist), "freeing more pages than exist panics");
}

static void test_contig(void)
{
	paddr_t p, q;
	bool zeroed = true;

	reset();
	mm_add_ram(page_at(0), 4 * PAGE_SIZE);
	mm_add_ram(page_at(10), 16 * PAGE_SIZE);
	mm_init();	/* its one page comes from the lowest range */
	p = page_alloc_contig(8);
	ok(p >= page_at(10) && p + 8 * PAGE_SIZE <= page_at(26),
	   "a contiguous run comes from a range large enough for it");
	for (size_t i = 0; i < 8 * PAGE_SIZE; i++)
		if (((unsigned char *)(uintptr_t)p)[i])
			zeroed = false;
	ok(zeroed, "contiguous pages are zeroed");
	is_u64(mm_free_bytes(), 11 * PAGE_SIZE, "and counted as allocated");
	q = page_alloc_contig(2);
	is_u64(q, page_at(1), "small runs come from the lowest range (early page tables need mapped memory)");
	is_u64(page_alloc_contig(9), 0, "no run of 9 pages left: fails although 9 pages are free");
	is_u64(mm_free_bytes(), 9 * PAGE_SIZE, "a failed contiguous allocation takes nothing");
}

/* The balloon stand-in: holds pages and gives them back when asked. */
static struct {
	paddr_t pages[64];
	int n;
	int calls;
	uint64_t last_want;
	int give_per_call;
	bool alloc_inside;	/* the hook calls page_alloc itself */
	paddr_t inner_page;
} balloon;

static uint64_t reclaim(uint64_t want_bytes, void *arg)
{
	int given = 0;

	balloon.calls++;
	balloon.last_want = want_bytes;
	if (balloon.alloc_inside)
		balloon.inner_page = page_alloc();
	while (balloon.n && given < balloon.give_per_call) {
		page_free(balloon.pages[--balloon.n]);
		given++;
	}
	return given * PAGE_SIZE;
}

static void test_reclaim_hook(void)
{
	int hook_arg;

	reset();
	mm_add_ram(page_at(0), 101 * PAGE_SIZE);
	mm_init();	/* 100 pages free */
	memset(&balloon, 0, sizeof(balloon));
	/* The balloon takes 40 pages without reclaiming. */
	for (int i = 0; i < 40; i++)
		balloon.pages[balloon.n++] = page_alloc_noreclaim();
	mm_set_reclaim_hook(reclaim, &hook_arg, 10 * PAGE_SIZE);
	balloon.give_per_call = 4;

	/* 60 free: the hook stays quiet until taking a page would leave
	 * less than 10 pages free. */
	for (int i = 0; i < 50; i++)
		page_alloc();
	is_int(balloon.calls, 0, "no reclaim while free memory stays at the threshold");
	is_u64(mm_free_bytes(), 10 * PAGE_SIZE, "10 pages free");
	ok(page_alloc() != 0, "the next allocation succeeds");
	is_int(balloon.calls, 1, "and ran the hook first");
	is_u64(balloon.last_want, 1 * PAGE_SIZE, "asking for what brings free memory back to the threshold");
	is_u64(mm_free_bytes(), 13 * PAGE_SIZE, "the hook's pages are free again (10 + 4 - 1)");

	balloon.give_per_call = 64;	/* empty the balloon */
	page_alloc();
	page_alloc();
	page_alloc();
	page_alloc();	/* 13 -> 9 after this one: reclaim */
	is_int(balloon.calls, 2, "reclaim again only when needed");
	is_int(balloon.n, 0, "the balloon is empty");
	while (page_alloc())
		;
	is_u64(mm_free_bytes(), 0, "with nothing left to reclaim, allocation runs memory down to zero");

	/* page_alloc from inside the hook does not run the hook again. */
	reset();
	mm_add_ram(page_at(0), 21 * PAGE_SIZE);
	mm_init();	/* 20 pages free */
	memset(&balloon, 0, sizeof(balloon));
	balloon.alloc_inside = true;
	mm_set_reclaim_hook(reclaim, NULL, 100 * PAGE_SIZE);
	ok(page_alloc() != 0, "allocation below the threshold succeeds");
	is_int(balloon.calls, 1, "the hook ran once, not recursively");
	ok(balloon.inner_page != 0, "page_alloc inside the hook works");
	is_u64(mm_free_bytes(), 18 * PAGE_SIZE, "both pages counted");

	/* The balloon's own inflation never triggers reclaim. */
	balloon.alloc_inside = false;
	page_alloc_noreclaim();
	is_int(balloon.calls, 1, "page_alloc_noreclaim never calls the hook");
}

static int report_nudges;

static void count_nudge(void *arg)
{
	(void)arg;
	report_nudges++;
}

static bool in_runs(paddr_t p, const struct mm_run *runs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p >= runs[i].start && p < runs[i].start + runs[i].npages * PAGE_SIZE)
			return true;
	return false;
}

static uint64_t run_pages(const struct mm_run *runs, size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += runs[i].npages;
	return total;
}

/* Random alloc/free and free page reports against a model: the count
 * stays exact and no page is ever handed out twice. */
static void test_random_model(void)
{
	static paddr_t held[ARENA_PAGES];
	static bool out[ARENA_PAGES];
	struct mm_run runs[4];
	size_t nheld = 0, nruns = 0;
	bool consistent = true, unique = true;
	uint64_t expect_free;

	reset();
	mm_add_ram(page_at(1), 300 * PAGE_SIZE);
	mm_add_ram(page_at(400), 600 * PAGE_SIZE);
	mm_reserve(page_at(450), 20 * PAGE_SIZE);
	mm_init();
	expect_free = 879;	/* 880 pages, one for the free-page stack */
	memset(out, 0, sizeof(out));
	srand(12345);
	for (int step = 0; step < 200000; step++) {
		int dice = rand() % 64;

		if (dice == 0 && !nruns) {
			nruns = mm_report_take(runs, 4, 8, 0);
			expect_free -= run_pages(runs, nruns);
		} else if (dice == 1 && nruns) {
			mm_report_return(runs, nruns);
			expect_free += run_pages(runs, nruns);
			nruns = 0;
		} else if (dice % 2 && nheld) {
			size_t k = rand() % nheld;

			page_free(held[k]);
			out[index_of(held[k])] = false;
			held[k] = held[--nheld];
			expect_free++;
		} else {
			paddr_t p = page_alloc();

			if (!p) {
				if (expect_free)
					consistent = false;
				continue;
			}
			if (out[index_of(p)] || in_runs(p, runs, nruns))
				unique = false;
			out[index_of(p)] = true;
			held[nheld++] = p;
			expect_free--;
		}
		if (mm_free_bytes() != expect_free * PAGE_SIZE)
			consistent = false;
	}
	ok(consistent, "free count exact over 200000 random allocs, frees and reports");
	ok(unique, "no page was ever handed out twice, nor while out for a report");
	mm_report_return(runs, nruns);
	while (nheld)
		page_free(held[--nheld]);
	is_u64(mm_free_bytes(), 879 * PAGE_SIZE, "freeing everything restores the full count");
}

/* Free page reporting: only pages freed since their last report go out,
 * in runs; while out they are neither free nor allocatable. */
static void test_report(void)
{
	static paddr_t held[64];
	struct mm_run runs[8], again[8];
	size_t n, m, i;
	bool disjoint = true, fresh = true;
	paddr_t p;

	reset();
	mm_add_ram(page_at(0), 64 * PAGE_SIZE);
	mm_init();			/* 63 free: one page for the stack */
	report_nudges = 0;
	mm_set_report_hook(count_nudge, NULL, 8 * PAGE_SIZE);
	for (i = 0; i < 20; i++)	/* carved: pages 1..20 */
		held[i] = page_alloc();
	is_u64(mm_unreported_bytes(), 0, "never-used pages need no report");
	for (i = 20; i-- > 0;)		/* the console frees newest first */
		page_free(held[i]);
	is_u64(mm_unreported_bytes(), 20 * PAGE_SIZE, "20 freed pages wait for a report");
	is_int(report_nudges, 1, "the hook ran once, when 8 had piled up");

	n = mm_report_take(runs, 3, 6, 0);
	is_u64(n, 3, "3 runs at most");
	ok(runs[0].start == page_at(1) && runs[0].npages == 6 &&
	   runs[1].start == page_at(7) && runs[2].start == page_at(13) &&
	   run_pages(runs, n) == 18, "contiguous frees come out as runs of at most 6 pages");
	is_u64(mm_free_bytes(), 45 * PAGE_SIZE, "pages out for a report are not free");
	is_u64(mm_unreported_bytes(), 2 * PAGE_SIZE, "the 2 left over still wait");
	for (i = 0; i < 45; i++) {
		held[i] = page_alloc();
		if (!held[i] || in_runs(held[i], runs, n))
			disjoint = false;
	}
	ok(disjoint, "every free page can be allocated, none of those out for a report");
	is_u64(page_alloc(), 0, "and then nothing is left");
	for (i = 45; i-- > 0;)
		page_free(held[i]);
	is_int(report_nudges, 2, "the hook ran again when 8 had piled up again");

	mm_report_return(runs, n);
	is_u64(mm_free_bytes(), 63 * PAGE_SIZE, "returned pages are free again");
	m = mm_report_take(again, 8, 64, 0);
	is_u64(run_pages(again, m), 45, "the next report has only the 45 freed since");
	for (i = 0; i < 45; i++)
		if (!in_runs(held[i], again, m))
			fresh = false;
	for (i = 0; i < m; i++)
		if (in_runs(again[i].start, runs, n))
			fresh = false;
	ok(fresh, "no page is reported twice");
	mm_report_return(again, m);
	is_u64(mm_report_take(again, 8, 64, 0), 0, "with nothing freed since, nothing to report");
	is_u64(mm_free_bytes(), 63 * PAGE_SIZE, "all 63 free after the reports");

	/* Reported pages are reused like any other; freed again, they need
	 * a new report. */
	for (i = 0; i < 10; i++)
		held[i] = page_alloc();
	for (i = 0; i < 10; i++)
		page_free(held[i]);
	n = mm_report_take(runs, 8, 64, 60 * PAGE_SIZE);
	is_u64(run_pages(runs, n), 3, "a report leaves the floor free (60 of 63 pages)");
	is_u64(mm_free_bytes(), 60 * PAGE_SIZE, "exactly the floor is free meanwhile");
	mm_report_return(runs, n);
	n = mm_report_take(runs, 8, 64, 0);
	is_u64(run_pages(runs, n), 7, "the rest goes out in the next report");
	mm_report_return(runs, n);

	p = page_alloc();
	page_free_discarded(p);
	is_u64(mm_unreported_bytes(), 0, "a page the host discarded needs no report");
	is_u64(mm_free_bytes(), 63 * PAGE_SIZE, "and counts as free");
	mm_set_report_hook(NULL, NULL, 0);
}

/* Reports prefer whole 2 MiB-aligned blocks (a host backing RAM with
 * huge pages discards nothing smaller), whatever order the pages were
 * freed in; only what forms no whole block goes out in smaller runs. */
static void test_report_blocks(void)
{
	static paddr_t held[ARENA_PAGES];
	struct mm_run runs[32];
	size_t n, i, nheld = 0;
	uint64_t total = 0;
	bool aligned = true;

	reset();
	mm_add_ram(page_at(0), ARENA_PAGES * PAGE_SIZE);
	mm_init();			/* page 0 holds the stack */
	while ((held[nheld] = page_alloc()))
		nheld++;
	/* Freed interleaved: odd pages, then even ones. */
	for (i = 0; i < nheld; i += 2)
		page_free(held[i]);
	for (i = 1; i < nheld; i += 2)
		page_free(held[i]);
	is_u64(mm_unreported_bytes(), (ARENA_PAGES - 1) * PAGE_SIZE, "1023 pages freed");

	n = mm_report_take(runs, 1, 1024, 0);
	ok(n == 1 && runs[0].start == page_at(512) && runs[0].npages == 512,
	   "one run allowed: the whole aligned 2 MiB block goes first (%#lx, %lu pages)",
	   n ? (unsigned long)index_of(runs[0].start) : 0UL, n ? (unsigned long)runs[0].npages : 0UL);
	mm_report_return(runs, n);

	/* Reported pages are discarded; reuse and free them to report again. */
	for (i = 0; (held[i] = page_alloc()); i++)
		;
	for (size_t k = i; k-- > 0;)
		page_free(held[k]);
	n = mm_report_take(runs, 32, 1024, 0);
	for (i = 0; i < n; i++) {
		total += runs[i].npages;
		if (runs[i].npages % 512 == 0 &&
		    (index_of(runs[i].start) % 512 || runs[i].npages == 0))
			aligned = false;
	}
	ok(n == 2 && runs[0].start == page_at(512) && runs[0].npages == 512 &&
	   runs[1].start == page_at(1) && runs[1].npages == 511,
	   "all of it: the aligned block, then the 511 pages below it in one run");
	ok(aligned && total == ARENA_PAGES - 1, "every page once, blocks aligned");
	is_u64(mm_free_bytes(), 0, "all out for the report");
	mm_report_return(runs, n);
	is_u64(mm_free_bytes(), (ARENA_PAGES - 1) * PAGE_SIZE, "and back");

	/* A floor that leaves no room for a whole block: small runs only. */
	for (i = 0; (held[i] = page_alloc()); i++)
		;
	for (size_t k = i; k-- > 0;)
		page_free(held[k]);
	n = mm_report_take(runs, 32, 1024, (ARENA_PAGES - 1 - 100) * PAGE_SIZE);
	ok(n >= 1 && runs[0].npages <= 100 && index_of(runs[0].start) < 512,
	   "a floor 100 pages below free: no block, 100 pages from below it");
	mm_report_return(runs, n);
}

static void test_minor_faults(void)
{
	uint64_t before = mm_minor_faults();

	mm_count_minor_faults(5);
	mm_count_minor_faults(7);
	is_u64(mm_minor_faults() - before, 12, "minor faults accumulate");
}

int main(void)
{
	/* 2 MiB-aligned, so that page 512 starts a whole block. */
	arena = aligned_alloc(2 << 20, ARENA_PAGES * PAGE_SIZE);
	if (!arena) {
		perror("aligned_alloc");
		return 1;
	}
	test_counts_and_reserve();
	test_ram_end_below_4g();
	test_free_and_reuse();
	test_page_zero_is_never_used();
	test_bad_free_panics();
	test_free_leaves_page_alone();
	test_contig();
	test_reclaim_hook();
	test_random_model();
	test_report();
	test_report_blocks();
	test_minor_faults();
	free(arena);
	return tap_done();
}
