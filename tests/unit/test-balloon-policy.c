/* SPDX-License-Identifier: MIT */
/*
 * test-balloon-policy.c - host tests of the balloon's inflate/deflate
 * decisions (kernel/drivers/balloon_policy.c), single steps and whole
 * simulated runs against a model of the guest's free memory.
 */
#include "config.h"

#include "balloon_policy.h"
#include "tap.h"

static struct balloon_step step(uint64_t target, uint64_t held, uint64_t inflating,
				uint64_t free, uint64_t floor, unsigned slots)
{
	struct balloon_counts c = {
		.target = target, .held = held, .inflating = inflating,
		.free = free, .floor = floor, .reserve = 1, .slots = slots,
	};

	return balloon_next_step(&c);
}

static void test_single_steps(void)
{
	struct balloon_step s;

	s = step(0, 0, 0, 1000000, 4096, 128);
	is_int(s.action, BALLOON_SETTLED, "empty balloon, target 0: settled");

	s = step(1000, 0, 0, 1000000, 4096, 128);
	is_int(s.action, BALLOON_INFLATE, "below target: inflate");
	/* 256, not the header's constant: a changed constant must fail. */
	is_int(s.pages, 256, "a full batch is 256 pages (PFN arrays of at most 256 entries)");

	s = step(300, 256, 0, 1000000, 4096, 128);
	is_int(s.pages, 44, "the last batch takes only what is missing");

	s = step(300, 200, 100, 1000000, 4096, 128);
	is_int(s.action, BALLOON_SETTLED, "in-flight inflates count towards the target");

	s = step(1000, 0, 0, 4096 + 1 + 10, 4096, 128);
	is_int(s.action, BALLOON_INFLATE, "10 pages above the floor: inflate");
	is_int(s.pages, 10, "...by exactly those 10 pages");

	s = step(1000, 0, 0, 4096 + 1, 4096, 128);
	is_int(s.action, BALLOON_BLOCKED, "at the floor (plus reserve): blocked");

	s = step(1000, 0, 0, 100, 4096, 128);
	is_int(s.action, BALLOON_BLOCKED, "below the floor: blocked, no underflow");

	s = step(1000, 0, 0, 1000000, 4096, 0);
	is_int(s.action, BALLOON_WAIT, "no free batch: wait for the device");

	s = step(0, 100, 0, 1000000, 4096, 128);
	is_int(s.action, BALLOON_DEFLATE, "above target: deflate");
	is_int(s.pages, 100, "deflate no more than held");

	s = step(0, 1000, 0, 1000000, 4096, 128);
	is_int(s.pages, 256, "deflate batches are at most 256 pages");

	s = step(100, 0, 512, 1000000, 4096, 128);
	is_int(s.action, BALLOON_WAIT,
	       "target dropped below pages still inflating: wait for them");

	s = step(100, 300, 512, 1000000, 4096, 128);
	is_int(s.action, BALLOON_DEFLATE, "target dropped mid-flight: deflate held pages");
	is_int(s.pages, 256, "...a full batch of them");

	s = step(0, 5, 0, 1000000, 4096, 0);
	is_int(s.action, BALLOON_WAIT, "deflate without a free batch: wait");

	s = step(0, 0, 0, 0, 4096, 128);
	is_int(s.action, BALLOON_SETTLED, "nothing held, nothing wanted, no free memory: settled");
}

static void test_reclaim(void)
{
	is_u64(balloon_reclaim_pages(0, 10000), BALLOON_BATCH_PFNS,
	       "reclaim of nothing still frees one batch");
	is_u64(balloon_reclaim_pages(1, 10000), BALLOON_BATCH_PFNS,
	       "reclaim of one page frees a whole batch");
	is_u64(balloon_reclaim_pages(257, 10000), 2 * BALLOON_BATCH_PFNS,
	       "reclaim rounds up to whole batches");
	is_u64(balloon_reclaim_pages(5000, 100), 100,
	       "reclaim of more than held frees what is held");
	is_u64(balloon_reclaim_pages(5000, 0), 0, "reclaim from an empty balloon frees nothing");
}

static void test_retry(void)
{
	uint32_t d = 0, prev = 0;
	bool grows = true;
	int i;

	is_int(balloon_retry_delay(0), BALLOON_RETRY_MIN_MS, "first retry after %d ms",
	       BALLOON_RETRY_MIN_MS);
	for (i = 0; i < 40; i++) {
		d = balloon_retry_delay(d);
		if (d < prev || d > BALLOON_RETRY_MAX_MS)
			grows = false;
		prev = d;
	}
	ok(grows, "retry delays never shrink and never exceed %d ms", BALLOON_RETRY_MAX_MS);
	is_int(d, BALLOON_RETRY_MAX_MS, "retry delays settle at the maximum");
	is_int(balloon_retry_delay(60), 120, "retry delays double");
}

/*
 * A model guest: TOTAL pages, of which the balloon may take some. Batches
 * go into a FIFO "device" that completes them a few at a time, the way
 * interrupts interleave with the driver's work.
 */
struct model {
	uint64_t free, floor, target, held, inflating, deflating;
	uint64_t queue[64];
	bool queue_inflate[64];
	unsigned head, tail;
	uint64_t min_free_seen;
	bool batch_too_big, deflated_unheld;
	unsigned steps;
};

static unsigned model_in_flight(const struct model *m)
{
	return m->tail - m->head;
}

static void model_complete(struct model *m, unsigned n)
{
	while (n-- && model_in_flight(m)) {
		unsigned i = m->head++ % 64;

		if (m->queue_inflate[i]) {
			m->inflating -= m->queue[i];
			m->held += m->queue[i];
		} else {
			m->deflating -= m->queue[i];
			m->free += m->queue[i];
		}
	}
}

/* Run the driver's loop (as balloon_adjust does) until it stops. */
static enum balloon_action model_adjust(struct model *m)
{
	for (;;) {
		struct balloon_counts c = {
			.target = m->target, .held = m->held, .inflating = m->inflating,
			.free = m->free, .floor = m->floor, .reserve = 0,
			.slots = 64 - model_in_flight(m),
		};
		struct balloon_step s = balloon_next_step(&c);
		unsigned i = m->tail % 64;

		m->steps++;
		if (s.action != BALLOON_INFLATE && s.action != BALLOON_DEFLATE)
			return s.action;
		if (s.pages == 0 || s.pages > BALLOON_BATCH_PFNS)
			m->batch_too_big = true;
		if (s.action == BALLOON_INFLATE) {
			m->free -= s.pages;
			m->inflating += s.pages;
		} else {
			if (s.pages > m->held)
				m->deflated_unheld = true;
			m->held -= s.pages;
			m->deflating += s.pages;
		}
		m->queue[i] = s.pages;
		m->queue_inflate[i] = s.action == BALLOON_INFLATE;
		m->tail++;
		if (m->free < m->min_free_seen)
			m->min_free_seen = m->free;
	}
}

/* Drive the model to rest; returns the last action. */
static enum balloon_action model_run(struct model *m, unsigned per_interrupt)
{
	enum balloon_action a;

	do {
		a = model_adjust(m);
		model_complete(m, per_interrupt);
	} while (model_in_flight(m) || a == BALLOON_INFLATE || a == BALLOON_DEFLATE ||
		 (a == BALLOON_WAIT && model_in_flight(m)));
	return model_adjust(m);
}

static void test_simulation(void)
{
	/* A 2 GiB guest: 524288 pages, 500000 free, floor 16 MiB. */
	struct model m = { .free = 500000, .floor = 4096, .min_free_seen = UINT64_MAX };
	enum balloon_action a;
	uint64_t free0 = m.free;
	uint32_t seed = 12345;
	bool ok_all = true;
	int i;

	m.target = 280140;	/* QEMU's num_pages for "balloon 1000000000" */
	a = model_run(&m, 3);
	is_int(a, BALLOON_SETTLED, "inflate to 280140 pages settles");
	is_u64(m.held, 280140, "the balloon holds exactly the target");
	is_u64(m.free, free0 - 280140, "free memory shrank by the balloon size");

	m.target = 0;
	a = model_run(&m, 5);
	is_int(a, BALLOON_SETTLED, "deflate to 0 settles");
	is_u64(m.held, 0, "the balloon is empty again");
	is_u64(m.free, free0, "free memory is back where it was");

	m.target = 524287;	/* "balloon 1": more than the guest has */
	a = model_run(&m, 2);
	is_int(a, BALLOON_BLOCKED, "an unreachable target ends blocked (retry later)");
	is_u64(m.free, m.floor, "inflation stops exactly at the floor");
	ok(m.min_free_seen >= m.floor, "free memory never went below the floor");

	/* Memory comes free (a workload exits): the retry moves on. */
	m.free += 1000;
	a = model_run(&m, 2);
	is_u64(m.free, m.floor, "a retry takes newly freed memory down to the floor again");

	/* Targets changing while batches are in flight, many times. */
	m.target = 0;
	model_run(&m, 1);
	for (i = 0; i < 2000 && ok_all; i++) {
		unsigned k;

		seed = seed * 1103515245 + 12345;
		m.target = (seed >> 8) % 600000;
		for (k = 0; k < (seed & 7); k++) {
			model_adjust(&m);
			model_complete(&m, (seed >> 4) & 3);
		}
		if (m.free < m.floor && m.min_free_seen < m.floor)
			ok_all = false;
	}
	a = model_run(&m, 4);
	ok(ok_all && m.min_free_seen >= m.floor,
	   "2000 random mid-flight target changes never go below the floor");
	ok(!m.batch_too_big, "every batch had 1..%d pages", BALLOON_BATCH_PFNS);
	ok(!m.deflated_unheld, "never deflated pages the balloon did not hold");
	ok(a == BALLOON_SETTLED ? m.held == m.target
				: a == BALLOON_BLOCKED && m.free == m.floor,
	   "after the storm it settles at the last target or the floor");
	is_u64(m.held + m.free, free0 + 1000, "no page was lost or made up");
}

int main(void)
{
	test_single_steps();
	test_reclaim();
	test_retry();
	test_simulation();
	return tap_done();
}
