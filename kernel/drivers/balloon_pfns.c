/* SPDX-License-Identifier: MIT */
/*
 * balloon_pfns.c - the balloon's PFN store: runs of consecutive PFNs in a
 * stack of page-sized chunks, plus a few spare chunks so that pushes
 * after a reservation never need memory. Pure C: built into the kernel
 * and into the host unit tests.
 */
#include "balloon_pfns.h"

_Static_assert(sizeof(struct pfn_chunk) <= PFN_CHUNK_BYTES,
	       "a PFN chunk must fit in one page");

void pfn_store_init(struct pfn_store *s, void *(*alloc_chunk)(void),
		    void (*free_chunk)(void *))
{
	s->top = NULL;
	s->spare = NULL;
	s->count = 0;
	s->chunks = 0;
	s->spares = 0;
	s->alloc_chunk = alloc_chunk;
	s->free_chunk = free_chunk;
}

uint64_t pfn_store_room(const struct pfn_store *s)
{
	uint64_t room = s->spares * PFN_CHUNK_RUNS;

	if (s->top)
		room += PFN_CHUNK_RUNS - s->top->nruns;
	return room;
}

static bool add_spare(struct pfn_store *s)
{
	struct pfn_chunk *c = s->alloc_chunk();

	if (!c)
		return false;
	c->next = s->spare;
	s->spare = c;
	s->spares++;
	s->chunks++;
	return true;
}

bool pfn_store_reserve(struct pfn_store *s, uint64_t runs)
{
	while (pfn_store_room(s) < runs)
		if (!add_spare(s))
			return false;
	return true;
}

bool pfn_store_push(struct pfn_store *s, uint32_t pfn)
{
	struct pfn_chunk *c = s->top;
	struct pfn_run *r;

	if (c && c->nruns) {
		r = &c->runs[c->nruns - 1];
		if (pfn == r->first + r->count && r->count < UINT32_MAX) {
			r->count++;
			s->count++;
			return true;
		}
	}
	if (!c || c->nruns == PFN_CHUNK_RUNS) {
		if (!s->spare && !add_spare(s))
			return false;
		c = s->spare;
		s->spare = c->next;
		s->spares--;
		c->nruns = 0;
		c->next = s->top;
		s->top = c;
	}
	r = &c->runs[c->nruns++];
	r->first = pfn;
	r->count = 1;
	s->count++;
	return true;
}

size_t pfn_store_pop(struct pfn_store *s, uint32_t *out, size_t n)
{
	size_t got = 0;

	while (got < n && s->top) {
		struct pfn_chunk *c = s->top;
		struct pfn_run *r = &c->runs[c->nruns - 1];

		while (got < n && r->count)
			out[got++] = r->first + --r->count;
		if (r->count == 0)
			c->nruns--;
		if (c->nruns == 0) {
			/* An empty top becomes a spare: trim decides
			 * whether the page goes back. */
			s->top = c->next;
			c->next = s->spare;
			s->spare = c;
			s->spares++;
		}
	}
	s->count -= got;
	return got;
}

void pfn_store_trim(struct pfn_store *s, uint64_t keep)
{
	while (s->spare && pfn_store_room(s) - PFN_CHUNK_RUNS >= keep) {
		struct pfn_chunk *c = s->spare;

		s->spare = c->next;
		s->spares--;
		s->chunks--;
		s->free_chunk(c);
	}
}

uint64_t pfn_count_runs(const uint32_t *pfns, size_t n)
{
	uint64_t runs = n ? 1 : 0;
	size_t i;

	for (i = 1; i < n; i++)
		if (pfns[i] != pfns[i - 1] + 1)
			runs++;
	return runs;
}
