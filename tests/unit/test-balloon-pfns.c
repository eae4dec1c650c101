/* SPDX-License-Identifier: MIT */
/*
 * test-balloon-pfns.c - host tests of the balloon's PFN store
 * (kernel/drivers/balloon_pfns.c): a million PFNs in page-sized chunks,
 * reservations, trimming, and running out of memory.
 */
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

static void test_million(void)
{
	static uint32_t out[1000];
	struct pfn_store s;
	uint64_t expect_chunks = (MILLION + PFN_CHUNK_PFNS - 1) / PFN_CHUNK_PFNS;
	uint32_t next = MILLION;
	bool all_pushed = true, lifo = true;
	size_t got;
	uint32_t i;

	ok(sizeof(struct pfn_chunk) <= PFN_CHUNK_BYTES, "a chunk fits in one 4 KiB page");
	ok(PFN_CHUNK_PFNS >= 1000, "a chunk holds %zu PFNs", (size_t)PFN_CHUNK_PFNS);

	pfn_store_init(&s, chunk_alloc, chunk_free);
	is_int(pfn_store_pop(&s, out, 10), 0, "an empty store pops nothing");

	for (i = 0; i < MILLION; i++)
		if (!pfn_store_push(&s, i + 1))
			all_pushed = false;
	ok(all_pushed, "a million PFNs pushed");
	is_u64(s.count, MILLION, "count is a million");
	is_u64(live_chunks, expect_chunks, "in %llu one-page chunks, no more",
	       (unsigned long long)expect_chunks);

	while ((got = pfn_store_pop(&s, out, 1000)) > 0) {
		for (i = 0; i < got; i++)
			if (out[i] != next--)
				lifo = false;
		pfn_store_trim(&s, 0);
	}
	ok(lifo, "every PFN came back exactly once, newest first");
	is_u64(s.count, 0, "count is zero after popping everything");
	is_int(live_chunks, 0, "trimming returned every chunk page");
}

static void test_reserve_and_trim(void)
{
	uint32_t out[300];
	struct pfn_store s;
	bool pushed = true;
	long allocs;
	int i;

	pfn_store_init(&s, chunk_alloc, chunk_free);
	ok(pfn_store_reserve(&s, 3000), "reserve room for 3000 PFNs");
	ok(pfn_store_room(&s) >= 3000, "room is at least 3000");
	allocs = total_allocs;
	fail_after = 0;		/* from now on the allocator fails */
	for (i = 0; i < 3000; i++)
		pushed &= pfn_store_push(&s, i);
	ok(pushed, "pushes within a reservation succeed without memory");
	is_int(total_allocs, allocs, "...and allocate nothing");
	while (pfn_store_room(&s) > 0)
		pfn_store_push(&s, 1);
	allocs = (long)s.count;
	ok(!pfn_store_push(&s, 7), "a push beyond the reserved room fails when memory is out");
	is_u64(s.count, allocs, "a failed push leaves the count alone");
	fail_after = -1;
	pfn_store_pop(&s, out, (size_t)s.count - 3000);

	pfn_store_pop(&s, out, 256);
	pfn_store_trim(&s, 256);
	ok(pfn_store_room(&s) >= 256, "trim keeps the room asked for");
	ok(pfn_store_room(&s) < 256 + PFN_CHUNK_PFNS,
	   "trim frees the spare chunks beyond that");

	while (pfn_store_pop(&s, out, 300))
		;
	pfn_store_trim(&s, 0);
	is_int(live_chunks, 0, "an empty, trimmed store holds no pages");
	ok(!pfn_store_reserve(&s, 1) || live_chunks == 1, "reserve of 1 takes one chunk");
	pfn_store_trim(&s, 0);

	fail_after = 0;
	ok(!pfn_store_reserve(&s, 10), "reserve fails when memory is out");
	ok(!pfn_store_push(&s, 1), "push into an empty store fails when memory is out");
	is_u64(s.count, 0, "nothing was stored");
	fail_after = -1;
}

int main(void)
{
	test_million();
	test_reserve_and_trim();
	return tap_done();
}
