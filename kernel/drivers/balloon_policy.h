/* SPDX-License-Identifier: MIT */
/*
 * balloon_policy.h - the balloon's decisions as pure functions of its
 * counters: what to put in the next descriptor, how much to give back
 * under memory pressure, how long to wait before retrying. Pure C, also
 * built for the host tests. All counts are 4 KiB pages.
 */
#ifndef KERNEL_BALLOON_POLICY_H
#define KERNEL_BALLOON_POLICY_H

#include <stdint.h>

/* At most this many PFNs per descriptor: Firecracker silently ignores
 * larger arrays, Linux uses the same size. */
#define BALLOON_BATCH_PFNS	256

/* Retry delays when the target cannot be met yet (milliseconds). */
#define BALLOON_RETRY_MIN_MS	50
#define BALLOON_RETRY_MAX_MS	2000

struct balloon_counts {
	uint64_t target;	/* num_pages, what the device asks for */
	uint64_t held;		/* in the balloon, acknowledged: deflatable */
	uint64_t inflating;	/* in inflate descriptors not yet used */
	uint64_t free;		/* free guest pages right now */
	uint64_t floor;		/* never inflate below this many free pages */
	uint64_t reserve;	/* free pages bookkeeping may still take */
	unsigned slots;		/* batches that can be submitted now */
};

enum balloon_action {
	BALLOON_SETTLED,	/* at the target once in-flight work lands */
	BALLOON_INFLATE,	/* submit an inflate batch of .pages */
	BALLOON_DEFLATE,	/* submit a deflate batch of .pages */
	BALLOON_WAIT,		/* wait for in-flight batches to come back */
	BALLOON_BLOCKED,	/* must inflate, but free memory is at the floor */
};

struct balloon_step {
	enum balloon_action action;
	uint32_t pages;		/* 1..BALLOON_BATCH_PFNS for INFLATE/DEFLATE */
};

struct balloon_step balloon_next_step(const struct balloon_counts *c);
/* Pages to deflate when the allocator needs WANT pages back and the
 * balloon holds HELD (acknowledged or still being inflated): whole
 * batches, at least one, at most HELD. */
uint64_t balloon_reclaim_pages(uint64_t want, uint64_t held);
/* The retry delay after one of PREV_MS (0: the first retry). */
uint32_t balloon_retry_delay(uint32_t prev_ms);

#endif
