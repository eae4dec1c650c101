/* SPDX-License-Identifier: MIT */
/*
 * balloon_pfns.h - the balloon's record of the page frames it holds: runs
 * of consecutive PFNs in a stack of one-page chunks. A balloon taken from
 * contiguous free memory fits in a handful of runs; a million scattered
 * PFNs (4 GiB) still need no large contiguous allocation. Pure C, also
 * built for the host tests.
 */
#ifndef KERNEL_BALLOON_PFNS_H
#define KERNEL_BALLOON_PFNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PFN_CHUNK_BYTES	4096

struct pfn_run {
	uint32_t first;			/* lowest PFN */
	uint32_t count;			/* PFNs first .. first + count - 1 */
};

/* what fits in one page after the header */
#define PFN_CHUNK_RUNS	((PFN_CHUNK_BYTES - 2 * sizeof(uint64_t)) / sizeof(struct pfn_run))

struct pfn_chunk {
	struct pfn_chunk *next;		/* the chunk below on the stack */
	uint64_t nruns;			/* runs used in runs[] */
	struct pfn_run runs[PFN_CHUNK_RUNS];
};

struct pfn_store {
	struct pfn_chunk *top;		/* all chunks below top are full */
	struct pfn_chunk *spare;	/* empty chunks kept for later pushes */
	uint64_t count;			/* PFNs held */
	uint64_t chunks;		/* chunks owned, stacked or spare */
	uint64_t spares;		/* of which spare */
	/* one PFN_CHUNK_BYTES page, or NULL when there is none */
	void *(*alloc_chunk)(void);
	void (*free_chunk)(void *chunk);
};

void pfn_store_init(struct pfn_store *s, void *(*alloc_chunk)(void),
		    void (*free_chunk)(void *));
/* Runs that can be started without allocating. */
uint64_t pfn_store_room(const struct pfn_store *s);
/* Make room for RUNS more runs now (so later pushes cannot fail). */
bool pfn_store_reserve(struct pfn_store *s, uint64_t runs);
/* Add one PFN: it extends the top run when it follows that run's last
 * PFN, else starts a run, allocating a chunk if there is no room; false
 * when that fails. */
bool pfn_store_push(struct pfn_store *s, uint32_t pfn);
/* Take up to N PFNs, the most recently pushed first, into OUT. */
size_t pfn_store_pop(struct pfn_store *s, uint32_t *out, size_t n);
/* Free spare chunks not needed to keep room for KEEP more runs. */
void pfn_store_trim(struct pfn_store *s, uint64_t keep);
/* How many runs the N PFNs in PFNS form when pushed in order: the most
 * room pushing them can need. */
uint64_t pfn_count_runs(const uint32_t *pfns, size_t n);

#endif
