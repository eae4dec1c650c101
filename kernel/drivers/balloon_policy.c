/* SPDX-License-Identifier: MIT */
/*
 * balloon_policy.c - how far to inflate or deflate next
 * (5.5.6.1: move towards num_pages) without taking free memory below the
 * floor. Pure C: built into the kernel and into the host unit tests.
 */
#include "balloon_policy.h"

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

struct balloon_step balloon_next_step(const struct balloon_counts *c)
{
	/* Where the balloon ends up once every batch in flight lands.
	 * Pages in deflate batches already left .held, and stay out. */
	uint64_t projected = c->held + c->inflating;
	struct balloon_step step = { BALLOON_SETTLED, 0 };
	uint64_t limit;

	if (projected < c->target) {
		/* Inflate, but never below the floor, counting the pages
		 * the PFN store may still need for its own chunks. */
		limit = c->floor + c->reserve;
		if (c->free <= limit) {
			step.action = BALLOON_BLOCKED;
			return step;
		}
		if (c->slots == 0) {
			step.action = BALLOON_WAIT;
			return step;
		}
		step.action = BALLOON_INFLATE;
		step.pages = min_u64(min_u64(c->target - projected, c->free - limit),
				     BALLOON_BATCH_PFNS);
	} else if (projected > c->target) {
		/* Only acknowledged pages can go back; pages still being
		 * inflated come back as held once the device is done. */
		if (c->held == 0 || c->slots == 0) {
			step.action = BALLOON_WAIT;
			return step;
		}
		step.action = BALLOON_DEFLATE;
		step.pages = min_u64(min_u64(projected - c->target, c->held),
				     BALLOON_BATCH_PFNS);
	}
	return step;
}

uint64_t balloon_reclaim_pages(uint64_t want, uint64_t held)
{
	uint64_t n = (want + BALLOON_BATCH_PFNS - 1) / BALLOON_BATCH_PFNS *
		     BALLOON_BATCH_PFNS;

	if (n == 0)
		n = BALLOON_BATCH_PFNS;
	return min_u64(n, held);
}

uint32_t balloon_retry_delay(uint32_t prev_ms)
{
	if (prev_ms < BALLOON_RETRY_MIN_MS)
		return BALLOON_RETRY_MIN_MS;
	if (prev_ms >= BALLOON_RETRY_MAX_MS / 2)
		return BALLOON_RETRY_MAX_MS;
	return prev_ms * 2;
}
