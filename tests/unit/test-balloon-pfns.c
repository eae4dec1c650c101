/* SPDX-License-Identifier: MIT */
/*
 * test-balloon-pfns.c - host tests of the balloon's PFN store
 * (kernel/drivers/balloon_pfns.c): a million PFNs contiguous and
 * scattered in page-sized chunks, LIFO order, reservations, trimming,
 * and running out of memory.
 */
#include "config.h"

#include "balloon_pfns.h"
#include "tap.h"

static long live_chunks, total_allocs, fail_after = -1;

static void *chunk_alloc(void)
{
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	live_chunks++;
	total_allocs++;
	return malloc(PFN_CHUNK_BYTES);
}

static void chunk_free(void *c)
{
	live_chunks--;
	free(c);
}

#define MILLION	(1u << 20)	/* 4 GiB of 4 KiB pages */

/* Push a million PFNs first + i * stride, check the chunk count, then pop
 * them all (trimming as the driver does) and check the order. */
static void million(uint32_t first, uint32_t stride, uint64_t want_chunks, const char *what)
{
	static uint32_t out[1000];
	struct pfn_store s;
	uint64_t left = MILLION;
	bool all_pushed = true, lifo = true;
	size_t got, i;

	pfn_store_init(&s, chunk_alloc, chunk_free);
	for (i = 0; i < MILLION; i++)
		all_pushed &= pfn_store_push(&s, first + i * stride);
	ok(all_pushed, "%s: a million PFNs pushed", what);
	is_u64(s.count, MILLION, "%s: count is a million", what);
	is_u64(live_chunks, want_chunks, "%s: held in %llu one-page chunks", what,
	       (unsigned long long)want_chunks);

	while ((got = pfn_store_pop(&s, out, 1000)) > 0) {
		for (i = 0; i < got; i++)
			if (out[i] != first + --left * stride)
				lifo = false;
		pfn_store_trim(&s, 0);
	}
	ok(lifo && left == 0, "%s: every PFN came back once, newest first", what);
	is_u64(s.count, 0, "%s: count is zero after popping everything", what);
	is_int(live_chunks, 0, "%s: trimming returned every chunk page", what);
}

static void test_million(void)
{
	ok(sizeof(struct pfn_chunk) <= PFN_CHUNK_BYTES, "a chunk fits in one 4 KiB page");
	ok(PFN_CHUNK_RUNS >= 500, "a chunk holds %zu runs", (size_t)PFN_CHUNK_RUNS);
	million(256, 1, 1, "contiguous");
	million(256, 2, (MILLION + PFN_CHUNK_RUNS - 1) / PFN_CHUNK_RUNS, "scattered");
}

static void test_runs(void)
{
	static const uint32_t seq[] = { 1, 2, 3 }, gap[] = { 1, 2, 4 }, down[] = { 3, 2, 1 };
	uint32_t out[8];
	struct pfn_store s;

	is_u64(pfn_count_runs(seq, 0), 0, "no PFNs are no runs");
	is_u64(pfn_count_runs(seq, 3), 1, "consecutive PFNs are one run");
	is_u64(pfn_count_runs(gap, 3), 2, "a gap starts a new run");
	is_u64(pfn_count_runs(down, 3), 3, "descending PFNs are one run each");

	pfn_store_init(&s, chunk_alloc, chunk_free);
	is_int(pfn_store_pop(&s, out, 8), 0, "an empty store pops nothing");
	pfn_store_push(&s, 5);
	pfn_store_push(&s, 6);
	pfn_store_push(&s, 7);
	pfn_store_push(&s, 3);
	is_int(pfn_store_pop(&s, out, 2), 2, "pop takes what was asked");
	ok(out[0] == 3 && out[1] == 7, "the newest PFN first, across runs");
	is_int(pfn_store_pop(&s, out, 8), 2, "pop takes no more than is held");
	ok(out[0] == 6 && out[1] == 5, "then the rest of the older run, backwards");
	pfn_store_trim(&s, 0);
	is_int(live_chunks, 0, "an empty, trimmed store holds no pages");
}

static void test_reserve_and_trim(void)
{
	uint32_t out[300];
	struct pfn_store s;
	bool pushed = true;
	long allocs;
	int i;

	pfn_store_init(&s, chunk_alloc, chunk_free);
	ok(pfn_store_reserve(&s, 1000), "reserve room for 1000 runs");
	ok(pfn_store_room(&s) >= 1000, "room is at least 1000");
	allocs = total_allocs;
	fail_after = 0;		/* from now on the allocator fails */
	for (i = 0; i < 1000; i++)
		pushed &= pfn_store_push(&s, 10 * i);
	ok(pushed, "1000 scattered pushes within a reservation succeed without memory");
	is_int(total_allocs, allocs, "...and allocate nothing");
	while (pfn_store_room(&s) > 0)
		pfn_store_push(&s, 10 * i++);
	ok(pfn_store_push(&s, 10 * (i - 1) + 1),
	   "with no room left, a PFN that extends the last run still fits");
	allocs = (long)s.count;
	ok(!pfn_store_push(&s, 10 * i), "a PFN that needs a new run fails when memory is out");
	is_u64(s.count, allocs, "a failed push leaves the count alone");
	fail_after = -1;

	pfn_store_pop(&s, out, 300);
	pfn_store_trim(&s, 256);
	ok(pfn_store_room(&s) >= 256, "trim keeps the room asked for");
	ok(pfn_store_room(&s) < 256 + PFN_CHUNK_RUNS, "trim frees the spare chunks beyond that");

	while (pfn_store_pop(&s, out, 300))
		;
	pfn_store_trim(&s, 0);
	is_int(live_chunks, 0, "an empty, trimmed store holds no pages");

	fail_after = 0;
	ok(!pfn_store_reserve(&s, 10), "reserve fails when memory is out");
	ok(!pfn_store_push(&s, 1), "push into an empty store fails when memory is out");
	is_u64(s.count, 0, "nothing was stored");
	fail_after = -1;
}

int main(void)
{
	test_million();
	test_runs();
	test_reserve_and_trim();
	return tap_done();
}
