/* SPDX-License-Identifier: MIT */
/*
 * balloon_pfns.h - the balloon's record of the page frames it holds: a
 * stack of one-page chunks, so a million PFNs (4 GiB of balloon) need
 * no large contiguous allocation. Pure C, also built for the host tests.
 */
#ifndef KERNEL_BALLOON_PFNS_H
#define KERNEL_BALLOON_PFNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PFN_CHUNK_BYTES	4096
/* what fits in one page after the header */
#define PFN_CHUNK_PFNS	((PFN_CHUNK_BYTES - sizeof(void *) - sizeof(uint32_t)) / sizeof(uint32_t))

struct pfn_chunk {
	struct pfn_chunk *next;		/* the chunk below on the stack */
	uint32_t count;			/* PFNs used in pfns[] */
	uint32_t pfns[PFN_CHUNK_PFNS];
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
/* PFNs that can be pushed without allocating. */
uint64_t pfn_store_room(const struct pfn_store *s);
/* Make room for N more PFNs now (so later pushes cannot fail). */
bool pfn_store_reserve(struct pfn_store *s, uint64_t n);
/* Add one PFN, allocating a chunk if there is no room; false if none. */
bool pfn_store_push(struct pfn_store *s, uint32_t pfn);
/* Take up to N PFNs (the most recently pushed first) into OUT. */
size_t pfn_store_pop(struct pfn_store *s, uint32_t *out, size_t n);
/* Free spare chunks not needed to keep room for KEEP more PFNs. */
void pfn_store_trim(struct pfn_store *s, uint64_t keep);

#endif
