/* SPDX-License-Identifier: MIT */
/*
 * balloon.c - the virtio memory balloon driver (5.5): moves
 * pages to and from the host towards the device's num_pages, answers the
 * host's statistics requests, and gives pages back under memory pressure.
 *
 * Command line: balloon.min=SIZE (default 16M) is the floor: the free
 * memory that inflation never goes below. With DEFLATE_ON_OOM (5.5.6.1:
 * pages back only when the guest needs them), an allocation that would
 * leave less than balloon.threshold=SIZE free (default: the floor, never
 * less) deflates first, in whole batches; after such a deflate,
 * inflation stops at the threshold until the host sets a new target (the
 * same place unless the threshold was raised). balloon.debug=1 prints a
 * line per batch. The reclaim hook says on the console when it finds
 * inflate batches in flight and when it waits for the device.
 *
 * With PAGE_REPORTING (5.5.6.7), pages freed since their last report are
 * reported BALLOON_REPORT_DELAY_MS after BALLOON_REPORT_MIN bytes of them
 * have piled up, in rounds of contiguous runs (whole 2 MiB-aligned blocks
 * first, as 5.5.6.7 asks for large pages), one device-writable buffer per
 * run; the host discards them. During a round they are out of the
 * allocator, down to balloon.threshold free at most.
 */
#include "balloon.h"
#include "balloon_pfns.h"
#include "balloon_policy.h"
#include "io.h"
#include "mm.h"
#include "virtio.h"

/* Per-batch debug lines, compiled in only with -DBALLOON_DEBUG=1
 * (configure --enable-balloon-debug). */
#ifndef BALLOON_DEBUG
#define BALLOON_DEBUG 0
#endif
#define bdbg(b, fmt, ...) do { \
	if (BALLOON_DEBUG && (b)->debug) \
		printk("balloon: " fmt "\n", ##__VA_ARGS__); \
} while (0)

#define VIRTIO_ID_BALLOON		5

/* 5.5.3 feature bits */
#define VIRTIO_BALLOON_F_MUST_TELL_HOST	0
#define VIRTIO_BALLOON_F_STATS_VQ	1
#define VIRTIO_BALLOON_F_DEFLATE_ON_OOM	2
#define VIRTIO_BALLOON_F_PAGE_REPORTING	5

#define VIRTIO_BALLOON_F_FREE_PAGE_HINT	3

/* 5.5.2 virtqueues: inflateq 0, deflateq 1, then statsq 2 (STATS_VQ),
 * free_page_vq 3 (FREE_PAGE_HINT), reporting_vq 4 (PAGE_REPORTING).
 * Devices differ on where a queue goes when an earlier feature is
 * missing; see balloon_find_queues(). */
#define BALLOON_VQ_INFLATE		0
#define BALLOON_VQ_DEFLATE		1
#define BALLOON_VQ_STATS		2
#define BALLOON_VQ_NONE			VIRTIO_MAX_QUEUES

/* 5.5.4 struct virtio_balloon_config: le32 fields, in 4 KiB pages */
#define BALLOON_CFG_NUM_PAGES		0	/* device writes */
#define BALLOON_CFG_ACTUAL		4	/* driver writes */
/* The two fields every device has; the next exists with FREE_PAGE_HINT
 * (accepted only when the config space reaches it); poison_val after it
 * with PAGE_POISON, which we decline. */
#define BALLOON_CFG_SIZE		8
#define BALLOON_CFG_HINT_CMD_ID		8	/* device writes */
#define BALLOON_CFG_HINT_SIZE		12

/* 5.5.6.4 free page hinting: free_page_hint_cmd_id values. */
#define BALLOON_CMD_ID_STOP		0
#define BALLOON_CMD_ID_DONE		1
/* Pages per hint buffer at most (4 MiB). */
#define BALLOON_HINT_RUN_PAGES		1024
/* How often the command id is re-read while hints are out. */
#define BALLOON_HINT_CHECK_MS		1000

#define BALLOON_PFN_SHIFT		12	/* 5.5.6: PFNs are 4 KiB frames */

/* 5.5.6.3 statistics: tags 0-9, always all of them, in this order */
enum {
	STAT_SWAP_IN, STAT_SWAP_OUT, STAT_MAJFLT, STAT_MINFLT, STAT_MEMFREE,
	STAT_MEMTOT, STAT_AVAIL, STAT_CACHES, STAT_HTLB_PGALLOC,
	STAT_HTLB_PGFAIL, BALLOON_NR_STATS
};

struct balloon_stat {
	uint16_t tag;			/* le16 */
	uint64_t val;			/* le64 */
} __attribute__((packed));

/* Batches in flight, inflate and deflate together (also capped by the
 * queue sizes): enough to keep the device busy between our turns. */
#define BALLOON_BATCHES			128
#define BALLOON_BATCH_BYTES		(BALLOON_BATCH_PFNS * sizeof(uint32_t))

#define BALLOON_DEFAULT_MIN		(16 * MiB)
/* Free page reporting: a round starts this long after this much freed
 * memory piled up; runs of at most BALLOON_REPORT_RUN_PAGES (4 MiB), so
 * a round takes out at most BALLOON_REPORT_RUNS of them. */
#define BALLOON_REPORT_MIN		(2 * MiB)
#define BALLOON_REPORT_DELAY_MS		1000
#define BALLOON_REPORT_RUNS		32
#define BALLOON_REPORT_RUN_PAGES	1024

/* How long to wait for the device to return a batch we depend on. */
#define BALLOON_DEVICE_TIMEOUT_MS	2000

struct balloon_batch {
	uint32_t *pfns;			/* BALLOON_BATCH_PFNS, device-readable */
	uint32_t count;
	uint32_t runs;			/* inflate: PFN-store runs it may need */
	bool give_back;			/* deflate: free the pages when used */
	bool in_flight;			/* given to the device, not returned */
	bool inflate;			/* ... on the inflate queue */
	struct balloon_batch *next;	/* free list */
};

/* All driver state; written only in work context (and by the reclaim
 * hook, which runs in the work context of whoever allocates). */
static struct balloon {
	struct virtio_device *vd;	/* NULL until attached */
	struct virtqueue *inflate_vq, *deflate_vq, *stats_vq, *report_vq;
	bool tell_host;			/* MUST_TELL_HOST negotiated */
	bool deflate_on_oom;		/* DEFLATE_ON_OOM negotiated */

	/* page counts (4 KiB) */
	uint32_t target;		/* num_pages last read from the device */
	uint32_t reported;		/* actual last written to the device */
	uint64_t inflating;		/* in inflate batches in flight */
	uint64_t inflating_runs;	/* PFN-store room reserved for them */
	uint64_t deflating;		/* in deflate batches in flight */
	uint64_t given_back;		/* deflated pages freed, ever */
	bool unresponsive;		/* a wait for the device timed out */
	struct pfn_store held;		/* in the balloon, acknowledged */

	struct balloon_batch batches[BALLOON_BATCHES];
	unsigned nbatches;		/* of batches[] in use */
	struct balloon_batch *free_batches;
	unsigned nfree_batches;
	paddr_t buffers;		/* batch and stats buffers, kept across */
	unsigned buffers_nbatches;	/* ... device resets: for this many */
	struct balloon_stat *stats;	/* the stats buffer, device-readable */

	struct mm_run report_runs[BALLOON_REPORT_RUNS];	/* out for a report */
	size_t report_nruns;		/* runs in the current round */
	size_t report_pending;		/* ... the device has not returned */
	unsigned report_max_runs;	/* also capped by the queue size */
	struct work report;		/* timer: start a round */

	/* Free page hinting (5.5.6.4): hinted pages stay out of the
	 * allocator until the device says DONE, or memory runs short. */
	struct virtqueue *hint_vq;
	uint32_t hint_cmd_id;		/* of the last round started, or 0 */
	bool hint_sending;		/* still hinting for hint_cmd_id */
	uint32_t *hint_ids;		/* [0] the round's id, [1] STOP (le32) */
	struct pfn_store hinted;	/* pages out as hints */
	struct work hint;		/* add more hints */
	struct work hint_check;		/* timer: re-read the command id */

	uint64_t min_free;		/* bytes: balloon.min */
	uint64_t threshold;		/* bytes: balloon.threshold */
	bool pressure;			/* reclaimed since the last new target */
	uint32_t retry_ms;		/* current retry delay, 0 when none */
	struct work retry;		/* timer: try the target again */
	struct work report_absent;	/* after PCI probing: say if no device */
	bool debug;			/* balloon.debug=1 */
} balloon;

static uint64_t pages(uint64_t bytes)
{
	return bytes / PAGE_SIZE;
}

static void *balloon_chunk_alloc(void)
{
	paddr_t p = page_alloc_noreclaim();

	return p ? phys_to_virt(p) : NULL;
}

static void balloon_chunk_free(void *chunk)
{
	page_free(virt_to_phys(chunk));
}

static struct balloon_batch *batch_get(struct balloon *b)
{
	struct balloon_batch *batch = b->free_batches;

	if (batch) {
		b->free_batches = batch->next;
		b->nfree_batches--;
	}
	return batch;
}

static void batch_put(struct balloon *b, struct balloon_batch *batch)
{
	batch->next = b->free_batches;
	b->free_batches = batch;
	b->nfree_batches++;
}

/* DISCARDED: the device has had the pages (no free page report needed). */
static void batch_free_pages(struct balloon_batch *batch, bool discarded)
{
	uint32_t i;

	for (i = 0; i < batch->count; i++) {
		paddr_t page = (paddr_t)batch->pfns[i] << BALLOON_PFN_SHIFT;

		if (discarded)
			page_free_discarded(page);
		else
			page_free(page);
	}
}

/* Submit BATCH (already filled) on VQ; the pool never outnumbers the
 * queue's descriptors, so there is always room. */
static void batch_submit(struct balloon *b, struct virtqueue *vq,
			 struct balloon_batch *batch)
{
	if (!virtqueue_add(vq, virt_to_phys(batch->pfns),
			   batch->count * sizeof(uint32_t), false, batch))
		panic("balloon: virtqueue %u full", vq->index);
	batch->in_flight = true;
	batch->inflate = vq == b->inflate_vq;
}

/* 5.5.6.1: tell the device how many pages the balloon holds. Pages in
 * deflate batches stay counted until the device has taken them back. */
static void balloon_update_actual(struct balloon *b)
{
	uint32_t actual = b->held.count + b->deflating;

	if (actual == b->reported)
		return;
	virtio_config_write32(b->vd, BALLOON_CFG_ACTUAL, actual);
	b->reported = actual;
}

/* Collect every batch the device has finished with. */
static void balloon_reap(struct balloon *b)
{
	struct balloon_batch *batch;
	uint32_t i;
	unsigned before = b->nfree_batches;

	while ((batch = virtqueue_get_used(b->inflate_vq))) {
		/* Room was reserved when the batch was filled. */
		for (i = 0; i < batch->count; i++)
			if (!pfn_store_push(&b->held, batch->pfns[i]))
				panic("balloon: PFN store lost its reservation");
		b->inflating -= batch->count;
		b->inflating_runs -= batch->runs;
		batch->in_flight = false;
		bdbg(b, "inflated %u pages (held %llu, in flight %llu)", batch->count,
		     (unsigned long long)b->held.count,
		     (unsigned long long)b->inflating);
		batch_put(b, batch);
	}
	while ((batch = virtqueue_get_used(b->deflate_vq))) {
		/* 5.5.6.1: with MUST_TELL_HOST, reuse only after this. */
		if (batch->give_back) {
			batch_free_pages(batch, true);
			b->given_back += batch->count;
		}
		b->deflating -= batch->count;
		batch->in_flight = false;
		bdbg(b, "deflated %u pages (held %llu, in flight %llu)", batch->count,
		     (unsigned long long)b->held.count,
		     (unsigned long long)b->deflating);
		batch_put(b, batch);
	}
	if (b->nfree_batches != before)
		b->unresponsive = false;
	balloon_update_actual(b);
}

/* Fill an inflate batch with up to N free pages; how many it took. */
static uint32_t balloon_inflate_batch(struct balloon *b, uint32_t n)
{
	struct balloon_batch *batch = batch_get(b);
	paddr_t page;
	uint32_t i;

	if (!batch)
		return 0;
	for (i = 0; i < n; i++) {
		page = page_alloc_noreclaim();
		if (!page)
			break;
		batch->pfns[i] = page >> BALLOON_PFN_SHIFT;
	}
	batch->count = i;
	/* Take the store's room (perhaps a chunk page) now, not when the
	 * batch comes back: the policy's floor check counts it now. */
	batch->runs = pfn_count_runs(batch->pfns, i);
	if (i == 0 || !pfn_store_reserve(&b->held, b->inflating_runs + batch->runs)) {
		batch_free_pages(batch, false);
		batch_put(b, batch);
		return 0;
	}
	batch->give_back = false;
	batch_submit(b, b->inflate_vq, batch);
	b->inflating += i;
	b->inflating_runs += batch->runs;
	return i;
}

/* Move up to N held pages into a deflate batch; how many it took. With
 * GIVE_BACK_NOW the pages are free for reuse at once (allowed only
 * without MUST_TELL_HOST), else when the device returns the batch. */
static uint32_t balloon_deflate_batch(struct balloon *b, uint32_t n, bool give_back_now)
{
	struct balloon_batch *batch = batch_get(b);

	if (!batch)
		return 0;
	batch->count = pfn_store_pop(&b->held, batch->pfns, n);
	if (batch->count == 0) {
		batch_put(b, batch);
		return 0;
	}
	batch->give_back = !give_back_now;
	batch_submit(b, b->deflate_vq, batch);
	b->deflating += batch->count;
	if (give_back_now) {
		batch_free_pages(batch, true);
		b->given_back += batch->count;
	}
	/* Keep only the chunks that in-flight inflates will fill. */
	pfn_store_trim(&b->held, b->inflating_runs);
	return batch->count;
}

static uint64_t balloon_floor_pages(const struct balloon *b)
{
	return pages(b->pressure ? b->threshold : b->min_free);
}

/*
 * Move towards the target: submit batches until the policy says stop,
 * then notify each queue once. When free memory is at the floor, try
 * again later with a growing delay instead of spinning.
 */
static void balloon_adjust(struct balloon *b)
{
	struct balloon_counts c;
	struct balloon_step step;
	bool inflated = false, deflated = false;
	uint32_t got;

	for (;;) {
		c.target = b->target;
		c.held = b->held.count;
		c.inflating = b->inflating;
		c.free = pages(mm_free_bytes());
		c.floor = balloon_floor_pages(b);
		c.reserve = 1;		/* one PFN-store chunk per batch at most */
		c.slots = b->nfree_batches;
		step = balloon_next_step(&c);

		if (step.action == BALLOON_INFLATE) {
			got = balloon_inflate_batch(b, step.pages);
			if (!got) {
				step.action = BALLOON_BLOCKED;
				break;
			}
			bdbg(b, "inflate batch of %u pages (target %u, held %llu, free %llu)",
			     got, b->target, (unsigned long long)b->held.count,
			     (unsigned long long)c.free);
			inflated = true;
		} else if (step.action == BALLOON_DEFLATE) {
			got = balloon_deflate_batch(b, step.pages, false);
			bdbg(b, "deflate batch of %u pages (target %u, held %llu)",
			     got, b->target, (unsigned long long)b->held.count);
			deflated = true;
		} else {
			break;
		}
	}
	/* One notification per group of batches. */
	if (inflated)
		virtqueue_kick(b->inflate_vq);
	if (deflated)
		virtqueue_kick(b->deflate_vq);

	if (step.action == BALLOON_BLOCKED) {
		if (inflated)
			b->retry_ms = 0;	/* progress: retry soon */
		b->retry_ms = balloon_retry_delay(b->retry_ms);
		bdbg(b, "at the floor (%llu pages free), retry in %u ms",
		     (unsigned long long)c.free, b->retry_ms);
		work_schedule(&b->retry, b->retry_ms);
	} else if (step.action == BALLOON_SETTLED) {
		b->retry_ms = 0;
		work_cancel(&b->retry);
	}
}

static void balloon_retry(void *arg)
{
	balloon_adjust(arg);
}

/* Hinted pages back to the allocator, up to N; how many. Their contents
 * are whatever they were: the device only skipped them (5.5.6.4). */
static uint64_t balloon_hints_return(struct balloon *b, uint64_t n)
{
	uint64_t done = 0;
	uint32_t pfn;

	while (done < n && pfn_store_pop(&b->hinted, &pfn, 1)) {
		page_free((paddr_t)pfn << BALLOON_PFN_SHIFT);
		done++;
	}
	pfn_store_trim(&b->hinted, 0);
	return done;
}

/* Queue the id buffer SLOT (0: start, 1: STOP) on the hint queue. */
static void balloon_hint_id(struct balloon *b, unsigned slot)
{
	if (!virtqueue_add(b->hint_vq, virt_to_phys(&b->hint_ids[slot]), sizeof(uint32_t),
			   false, &b->hint_ids[slot]))
		return;	/* full of hints: the device sees the new id anyway */
	virtqueue_kick(b->hint_vq);
}

static void balloon_hint_stop(struct balloon *b)
{
	if (!b->hint_sending)
		return;
	b->hint_sending = false;
	balloon_hint_id(b, 1);
	bdbg(b, "free page hints for id %u stopped (%llu pages hinted)", b->hint_cmd_id,
	     (unsigned long long)b->hinted.count);
}

/*
 * 5.5.6.4: the device's command id. A new id (>= 2): start a round (send
 * the id, then hints); STOP: stop sending; DONE: stop, and the hinted
 * pages are ours again.
 */
static void balloon_hint_command(struct balloon *b)
{
	uint32_t id = virtio_config_read32(b->vd, BALLOON_CFG_HINT_CMD_ID);

	if (id == BALLOON_CMD_ID_DONE) {
		balloon_hint_stop(b);
		balloon_hints_return(b, b->hinted.count);
		work_cancel(&b->hint_check);
		return;
	} else if (id == BALLOON_CMD_ID_STOP) {
		balloon_hint_stop(b);
	} else if (id != b->hint_cmd_id) {
		balloon_hint_stop(b);
		b->hint_cmd_id = id;
		b->hint_ids[0] = id;
		b->hint_sending = true;
		bdbg(b, "free page hints for id %u", id);
		balloon_hint_id(b, 0);
		work_queue(&b->hint);
	}
	/* While pages are out, look again now and then: the config
	 * interrupt that says DONE comes while the VM is stopped at the end
	 * of a migration, and a missed one would keep them out for good. */
	if (!work_is_pending(&b->hint_check))
		work_schedule(&b->hint_check, BALLOON_HINT_CHECK_MS);
}

static void balloon_hint_recheck(void *arg)
{
	struct balloon *b = arg;

	if (b->vd && (b->hinted.count || b->hint_sending))
		balloon_hint_command(b);
}

/* Hint free memory, down to balloon.threshold, in runs of contiguous
 * pages, while the queue has room; the queue's callback comes back. */
static void balloon_hint_more(void *arg)
{
	struct balloon *b = arg;
	paddr_t start = 0, page;
	uint64_t n = 0, i;
	bool added = false, floor = false;

	while (b->vd && b->hint_sending && b->hint_vq->num_free) {
		page = 0;
		if (mm_free_bytes() > b->threshold + PAGE_SIZE &&
		    pfn_store_reserve(&b->hinted, 1))
			page = page_alloc_noreclaim();
		if (page && n && n < BALLOON_HINT_RUN_PAGES && page == start + n * PAGE_SIZE) {
			n++;
			continue;
		}
		if (n) {	/* the run so far goes out */
			for (i = 0; i < n; i++)
				pfn_store_push(&b->hinted, (start >> BALLOON_PFN_SHIFT) + i);
			virtqueue_add(b->hint_vq, start, n * PAGE_SIZE, true, &b->hinted);
			added = true;
		}
		start = page;
		n = page ? 1 : 0;
		if (!page) {
			floor = true;
			break;
		}
	}
	for (i = 0; i < n; i++)		/* no room for it: back */
		page_free(start + i * PAGE_SIZE);
	if (added)
		virtqueue_kick(b->hint_vq);
	if (floor)
		balloon_hint_stop(b);	/* all free memory is hinted */
}

/* The device has read some hints (it writes nothing into them). */
static void balloon_hint_done(struct virtqueue *vq)
{
	struct balloon *b = vq->priv;

	while (virtqueue_get_used(vq))
		;
	if (b->hint_sending)
		work_queue(&b->hint);
}

static void balloon_config_changed(struct virtio_device *vd)
{
	struct balloon *b = vd->priv;
	uint32_t target = virtio_config_read32(vd, BALLOON_CFG_NUM_PAGES);

	if (b->hint_vq)
		balloon_hint_command(b);

	if (target != b->target) {
		bdbg(b, "target %u pages (was %u)", target, b->target);
		b->target = target;
		/* A new target from the host: inflate to balloon.min again,
		 * and start the retry delays over. */
		b->pressure = false;
		b->retry_ms = 0;
	}
	balloon_adjust(b);
}

/* The inflate queue's callback reaps both queues (on INTx every queue
 * callback runs for any queue interrupt anyway), then refills. */
static void balloon_queue_done(struct virtqueue *vq)
{
	struct balloon *b = vq->priv;

	balloon_reap(b);
	balloon_adjust(b);
}

static void balloon_fill_stats(struct balloon_stat *s)
{
	uint64_t free = mm_free_bytes();
	unsigned i;

	for (i = 0; i < BALLOON_NR_STATS; i++) {
		s[i].tag = i;
		s[i].val = 0;	/* no swap, no hugetlb, no page cache */
	}
	s[STAT_MINFLT].val = mm_minor_faults();
	s[STAT_MEMFREE].val = free;
	s[STAT_MEMTOT].val = mm_total_bytes();
	/* Nothing here is reclaimable short of the balloon itself. */
	s[STAT_AVAIL].val = free;
}

/* 5.5.6.3: the device returning the stats buffer is a request for fresh
 * values; refill it and hand it back. */
static void balloon_stats_done(struct virtqueue *vq)
{
	struct balloon *b = vq->priv;

	while (virtqueue_get_used(vq)) {
		balloon_fill_stats(b->stats);
		virtqueue_add(vq, virt_to_phys(b->stats),
			      sizeof(struct balloon_stat) * BALLOON_NR_STATS,
			      false, b->stats);
		virtqueue_kick(vq);
	}
}

/* 5.5.6.7: start a round of free page reporting unless one is out. */
static void balloon_report_start(void *arg)
{
	struct balloon *b = arg;
	size_t i;

	if (!b->vd || b->report_nruns)
		return;
	b->report_nruns = mm_report_take(b->report_runs, b->report_max_runs,
					 BALLOON_REPORT_RUN_PAGES, b->threshold);
	for (i = 0; i < b->report_nruns; i++) {
		struct mm_run *r = &b->report_runs[i];

		if (!virtqueue_add(b->report_vq, r->start, r->npages * PAGE_SIZE,
				   true, r))
			panic("balloon: virtqueue %u full", b->report_vq->index);
	}
	b->report_pending = b->report_nruns;
	if (b->report_nruns) {
		bdbg(b, "reporting %zu free runs", b->report_nruns);
		virtqueue_kick(b->report_vq);
	}
}

/* The device has discarded a round's runs: they are free again, and the
 * next round starts at once if enough freed memory is waiting. */
static void balloon_report_done(struct virtqueue *vq)
{
	struct balloon *b = vq->priv;

	while (virtqueue_get_used(vq))
		b->report_pending--;
	if (b->report_pending || !b->report_nruns)
		return;
	mm_report_return(b->report_runs, b->report_nruns);
	b->report_nruns = 0;
	if (mm_unreported_bytes() >= BALLOON_REPORT_MIN)
		work_queue(&b->report);
}

/* From page_free(): freed memory piled up; report it a little later, so
 * a burst of frees goes out in few rounds. */
static void balloon_report_nudge(void *arg)
{
	struct balloon *b = arg;

	/* Armed once: re-arming would push the round back each time churn
	 * crosses BALLOON_REPORT_MIN again, perhaps forever. */
	if (!b->report_nruns && !work_is_pending(&b->report))
		work_schedule(&b->report, BALLOON_REPORT_DELAY_MS);
}

/* Poll until the device returns some batch (reclaim cannot wait for the
 * interrupt: it runs inside an allocation). False after a timeout, and
 * at once after one, until the device returns a batch again: a stuck
 * device must not cost every later allocation the timeout. */
static bool balloon_wait_device(struct balloon *b, uint64_t deadline)
{
	unsigned before = b->nfree_batches;

	if (b->unresponsive || b->vd->broken)
		return false;
	while (b->nfree_batches == before) {
		if (b->vd->broken)
			return false;
		if (time_ms() > deadline) {
			b->unresponsive = true;
			return false;
		}
		cpu_relax();
		balloon_reap(b);
	}
	return true;
}

/*
 * mm reclaim hook (DEFLATE_ON_OOM only, 5.5.6.1): an allocation would
 * leave less than balloon.threshold free. Deflate at least WANT_BYTES
 * synchronously; with MUST_TELL_HOST the pages are reused only after the
 * device has acknowledged them. Returns the bytes actually freed (mm.h):
 * with MUST_TELL_HOST and a device that does not acknowledge in time,
 * fewer than were deflated, perhaps none (the rest are freed when the
 * device returns their batches).
 *
 * Only pages the device has acknowledged can be deflated: a page in an
 * inflate descriptor is the device's from the moment it is available,
 * and the device may use the queues in any order, so deflating it first
 * could have it discarded after we reuse it. The allocation may come in
 * the middle of a long inflation (it runs before the queue interrupt's
 * work), with most of the balloon still in flight: count those pages
 * too, and wait (bounded) for the device to return their batches.
 */
static uint64_t balloon_reclaim(uint64_t want_bytes, void *arg)
{
	struct balloon *b = arg;
	uint64_t deadline = time_ms() + BALLOON_DEVICE_TIMEOUT_MS;
	uint64_t given_back = b->given_back;
	uint64_t in_flight = b->inflating;
	uint64_t n, freed = 0;
	unsigned waits = 0;
	uint32_t got;

	/* Hinted pages first: they are ours, the device only skips them. */
	if (b->hinted.count) {
		freed = balloon_hints_return(b, pages(want_bytes + PAGE_SIZE - 1));
		if (freed * PAGE_SIZE >= want_bytes || !b->deflate_on_oom)
			return freed * PAGE_SIZE;
		given_back -= freed;	/* counted in the bytes returned */
		freed = 0;
	}
	if (!b->deflate_on_oom)
		return 0;
	/* Batches the device is done with, whose interrupt's work has not
	 * run yet, are held pages already. */
	balloon_reap(b);
	if (in_flight)
		printk("balloon: reclaim: %llu pages in inflate batches in flight, "
		       "%llu returned\n", (unsigned long long)in_flight,
		       (unsigned long long)(in_flight - b->inflating));
	n = balloon_reclaim_pages(pages(want_bytes + PAGE_SIZE - 1),
				  b->held.count + b->inflating);
	if (n == 0)
		return 0;
	/* Do not inflate below the threshold again until a new target. */
	b->pressure = true;
	while (freed < n) {
		got = balloon_deflate_batch(b, MIN(n - freed, BALLOON_BATCH_PFNS),
					    !b->tell_host);
		if (got) {
			freed += got;
			continue;
		}
		if (b->held.count + b->inflating == 0)
			break;
		/* Every batch, or every page, is in flight: let the device
		 * return a batch. */
		virtqueue_kick(b->deflate_vq);
		waits++;
		if (!balloon_wait_device(b, deadline))
			break;
	}
	if (waits)
		printk("balloon: reclaim: %u waits for the device to return a batch\n",
		       waits);
	virtqueue_kick(b->deflate_vq);
	if (b->tell_host)
		while (b->deflating && balloon_wait_device(b, deadline))
			;
	balloon_reap(b);
	bdbg(b, "deflated %llu pages under memory pressure, %llu free again (held %llu)",
	     (unsigned long long)freed, (unsigned long long)(b->given_back - given_back),
	     (unsigned long long)b->held.count);
	return (b->given_back - given_back) * PAGE_SIZE;
}

static void balloon_print_ready(struct balloon *b)
{
	static const char *const names[] = {
		[VIRTIO_BALLOON_F_MUST_TELL_HOST] = "must-tell-host",
		[VIRTIO_BALLOON_F_STATS_VQ] = "stats-vq",
		[VIRTIO_BALLOON_F_DEFLATE_ON_OOM] = "deflate-on-oom",
		[VIRTIO_BALLOON_F_FREE_PAGE_HINT] = "free-page-hint",
		[VIRTIO_BALLOON_F_PAGE_REPORTING] = "page-reporting",
	};
	char list[80];
	size_t len = 0;
	unsigned i;

	list[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i] && virtio_has_feature(b->vd, i))
			len += snprintk(list + len, sizeof(list) - len, "%s%s",
					len ? " " : "", names[i]);
	if (virtio_has_feature(b->vd, VIRTIO_F_VERSION_1))
		len += snprintk(list + len, sizeof(list) - len, "%sversion-1",
				len ? " " : "");
	printk("balloon: ready (%s, features: %s)\n", b->vd->ops->name,
	       len ? list : "none");
}

/* Batch buffers and the stats buffer, in pages that stay ours. */
static const char *balloon_alloc_buffers(struct balloon *b)
{
	unsigned nbatches = MIN(BALLOON_BATCHES,
				MIN(b->inflate_vq->size, b->deflate_vq->size));
	size_t bytes = nbatches * BALLOON_BATCH_BYTES +
		       sizeof(struct balloon_stat) * BALLOON_NR_STATS + 2 * sizeof(uint32_t);
	paddr_t mem = b->buffers;
	unsigned i;

	/* Reattached after a reset: the same buffers do, if they fit. */
	if (!mem || b->buffers_nbatches < nbatches) {
		mem = page_alloc_contig(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
		if (!mem)
			return "out of memory for batch buffers";
		b->buffers = mem;
		b->buffers_nbatches = nbatches;
	}
	b->nbatches = nbatches;
	b->free_batches = NULL;
	b->nfree_batches = 0;
	for (i = 0; i < nbatches; i++) {
		b->batches[i].in_flight = false;
		b->batches[i].pfns = phys_to_virt(mem + i * BALLOON_BATCH_BYTES);
		batch_put(b, &b->batches[i]);
	}
	b->stats = phys_to_virt(mem + nbatches * BALLOON_BATCH_BYTES);
	b->hint_ids = (uint32_t *)(b->stats + BALLOON_NR_STATS);
	b->hint_ids[1] = BALLOON_CMD_ID_STOP;
	return NULL;
}

/* The optional queues, in 5.5.2's order, and the feature each needs. */
static const unsigned balloon_queue_features[] = {
	VIRTIO_BALLOON_F_STATS_VQ, VIRTIO_BALLOON_F_FREE_PAGE_HINT,
	VIRTIO_BALLOON_F_PAGE_REPORTING,
};
#define BALLOON_OPTIONAL_QUEUES	ARRAY_SIZE(balloon_queue_features)

/* Three numberings of the optional queues are in use: QEMU numbers the
 * queues of the features it *offers* densely from 2 (a declined
 * FREE_PAGE_HINT still holds index 3); 5.5.2's list read literally
 * gives each its own index (2, 3, 4); Linux numbers the *negotiated*
 * ones densely. */
enum { BALLOON_QN_OFFERED, BALLOON_QN_LITERAL, BALLOON_QN_NEGOTIATED, BALLOON_QN_COUNT };

/* The index of optional queue I under numbering SCHEME. */
static unsigned balloon_queue_index(const struct virtio_device *vd, uint64_t offered,
				    unsigned scheme, unsigned i)
{
	unsigned j, n = BALLOON_VQ_STATS;

	for (j = 0; j < i; j++) {
		unsigned bit = balloon_queue_features[j];

		if (scheme == BALLOON_QN_LITERAL ||
		    (scheme == BALLOON_QN_OFFERED ? (offered >> bit) & 1 :
		     virtio_has_feature(vd, bit)))
			n++;
	}
	return n;
}

/*
 * Where each optional queue is: under the first numbering in which
 * every negotiated feature's queue exists; failing that, each where any
 * numbering finds it. BALLOON_VQ_NONE: not negotiated, or the device has
 * no such queue (the driver then runs without the feature).
 */
static void balloon_find_queues(struct virtio_device *vd, uint64_t offered,
				unsigned idx[BALLOON_OPTIONAL_QUEUES])
{
	unsigned scheme, i;
	bool all = false;

	for (scheme = 0; scheme < BALLOON_QN_COUNT && !all; scheme++) {
		all = true;
		for (i = 0; i < BALLOON_OPTIONAL_QUEUES; i++) {
			idx[i] = BALLOON_VQ_NONE;
			if (!virtio_has_feature(vd, balloon_queue_features[i]))
				continue;
			idx[i] = balloon_queue_index(vd, offered, scheme, i);
			if (!vd->ops->queue_size(vd, idx[i]))
				all = false;
		}
	}
	if (all)
		return;
	for (i = 0; i < BALLOON_OPTIONAL_QUEUES; i++) {
		idx[i] = BALLOON_VQ_NONE;
		if (!virtio_has_feature(vd, balloon_queue_features[i]))
			continue;
		for (scheme = 0; scheme < BALLOON_QN_COUNT; scheme++) {
			unsigned n = balloon_queue_index(vd, offered, scheme, i);

			if (vd->ops->queue_size(vd, n)) {
				idx[i] = n;
				break;
			}
		}
	}
}

/* Optional queue INDEX for feature BIT (named NAME), if negotiated; when
 * the device has no such queue, or it cannot be set up, say so and run
 * without the feature (it stays off the ready line). */
static struct virtqueue *balloon_optional_vq(struct virtio_device *vd, unsigned index,
					     unsigned bit, const char *name,
					     virtqueue_callback cb, struct balloon *b)
{
	struct virtqueue *vq;
	const char *why = "device has no such queue";

	if (!virtio_has_feature(vd, bit))
		return NULL;
	vq = index == BALLOON_VQ_NONE ? NULL : virtqueue_create(vd, index, cb, b, &why);
	if (!vq) {
		printk("balloon: running without %s: its queue: %s\n", name, why);
		vd->features &= ~(1ull << bit);
	}
	return vq;
}

static const char *balloon_probe(struct virtio_device *vd)
{
	struct balloon *b = &balloon;
	unsigned qidx[BALLOON_OPTIONAL_QUEUES];
	uint64_t offered;
	const char *why;

	vd->priv = b;
	b->vd = vd;
	/* A fresh session (also after a device reset): nothing held. */
	b->target = b->reported = 0;
	b->inflating = b->inflating_runs = b->deflating = 0;
	b->unresponsive = b->pressure = false;
	b->retry_ms = 0;
	b->report_nruns = b->report_pending = 0;
	b->stats_vq = b->report_vq = b->hint_vq = NULL;
	b->hint_cmd_id = 0;
	b->hint_sending = false;
	offered = vd->ops->get_features(vd);
	/* 3.1.1 steps 4-6, 5.5.3: whichever of these the device offers;
	 * FREE_PAGE_HINT only if the config space reaches its command id. */
	why = virtio_negotiate(vd, (1ull << VIRTIO_BALLOON_F_MUST_TELL_HOST) |
				   (1ull << VIRTIO_BALLOON_F_STATS_VQ) |
				   (1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM) |
				   (vd->config_len >= BALLOON_CFG_HINT_SIZE ?
				    1ull << VIRTIO_BALLOON_F_FREE_PAGE_HINT : 0) |
				   (1ull << VIRTIO_BALLOON_F_PAGE_REPORTING));
	if (why)
		goto fail;
	b->tell_host = virtio_has_feature(vd, VIRTIO_BALLOON_F_MUST_TELL_HOST);
	b->deflate_on_oom = virtio_has_feature(vd, VIRTIO_BALLOON_F_DEFLATE_ON_OOM);

	/* 3.1.1 step 7, 5.5.5 steps 1-2: the queues. */
	b->inflate_vq = virtqueue_create(vd, BALLOON_VQ_INFLATE, balloon_queue_done,
					 b, &why);
	if (!b->inflate_vq)
		goto fail;
	/* Deflate completions are reaped from the inflate queue's callback:
	 * on INTx every queue callback runs anyway. */
	b->deflate_vq = virtqueue_create(vd, BALLOON_VQ_DEFLATE, NULL, b, &why);
	if (!b->deflate_vq)
		goto fail;
	balloon_find_queues(vd, offered, qidx);
	b->stats_vq = balloon_optional_vq(vd, qidx[0], VIRTIO_BALLOON_F_STATS_VQ,
					  "stats-vq", balloon_stats_done, b);
	b->hint_vq = balloon_optional_vq(vd, qidx[1], VIRTIO_BALLOON_F_FREE_PAGE_HINT,
					 "free-page-hint", balloon_hint_done, b);
	b->report_vq = balloon_optional_vq(vd, qidx[2], VIRTIO_BALLOON_F_PAGE_REPORTING,
					   "page-reporting", balloon_report_done, b);
	if (b->report_vq) {
		b->report_max_runs = MIN(BALLOON_REPORT_RUNS, b->report_vq->size);
		work_init(&b->report, balloon_report_start, b);
	}
	why = balloon_alloc_buffers(b);
	if (why)
		goto fail;
	pfn_store_init(&b->held, balloon_chunk_alloc, balloon_chunk_free);
	work_init(&b->retry, balloon_retry, b);
	if (b->hint_vq) {
		/* Hints from a lost session are all back (device_lost). */
		pfn_store_init(&b->hinted, balloon_chunk_alloc, balloon_chunk_free);
		work_init(&b->hint, balloon_hint_more, b);
		work_init(&b->hint_check, balloon_hint_recheck, b);
	}

	/* 5.5.5 step 2: the first stats buffer, already filled, so the
	 * host's first look at the stats is real data. */
	if (b->stats_vq) {
		balloon_fill_stats(b->stats);
		virtqueue_add(b->stats_vq, virt_to_phys(b->stats),
			      sizeof(struct balloon_stat) * BALLOON_NR_STATS,
			      false, b->stats);
	}
	/* 5.5.6.1: the balloon holds nothing yet. The device keeps
	 * actual across a reset (QEMU does across system_reset), so a value
	 * from before a reboot would stand until our first batch. */
	virtio_config_write32(vd, BALLOON_CFG_ACTUAL, 0);
	b->reported = 0;
	/* 5.5.5 step 3: DRIVER_OK; step 4: then tell the device about the
	 * stats buffer. */
	virtio_device_ready(vd);
	if (b->stats_vq)
		virtqueue_kick(b->stats_vq);
	/* 5.5.6.1: taking pages back on our own is allowed only with
	 * DEFLATE_ON_OOM; hinted pages are ours at any time. */
	if (b->deflate_on_oom || b->hint_vq)
		mm_set_reclaim_hook(balloon_reclaim, b, b->threshold);
	if (b->report_vq) {
		mm_set_report_hook(balloon_report_nudge, b, BALLOON_REPORT_MIN);
		/* What was freed before we were live. */
		if (mm_unreported_bytes() >= BALLOON_REPORT_MIN)
			work_schedule(&b->report, BALLOON_REPORT_DELAY_MS);
	}

	balloon_print_ready(b);
	/* The host may have set a target before we were live. */
	balloon_config_changed(vd);
	return NULL;
fail:
	b->vd = NULL;
	return why;
}

/*
 * The device is lost (it asked for a reset, or broke the queue protocol;
 * the core may attach it again next). Stop moving pages and stop waiting
 * on it under pressure. When it has been reset, every page it had is
 * ours again: held pages, both kinds of batches in flight, and pages out
 * for a free page report (their contents are undefined, 5.5.6.1, and
 * none is needed). Without a reset they stay with the host.
 */
static void balloon_device_lost(struct virtio_device *vd, bool reset)
{
	struct balloon *b = vd->priv;
	uint64_t back = 0;
	uint32_t pfn;
	unsigned i;

	if (b->deflate_on_oom || b->hint_vq)
		mm_set_reclaim_hook(NULL, NULL, 0);
	if (b->report_vq) {
		mm_set_report_hook(NULL, NULL, 0);
		work_cancel(&b->report);
	}
	if (b->hint_vq) {
		/* Hinted pages never left us: back now, reset or not. */
		work_cancel(&b->hint);
		work_cancel(&b->hint_check);
		b->hint_sending = false;
		balloon_hints_return(b, b->hinted.count);
	}
	work_cancel(&b->retry);
	b->vd = NULL;
	if (!reset)
		return;
	while (pfn_store_pop(&b->held, &pfn, 1)) {
		page_free_discarded((paddr_t)pfn << BALLOON_PFN_SHIFT);
		back++;
	}
	for (i = 0; i < b->nbatches; i++) {
		struct balloon_batch *batch = &b->batches[i];

		if (!batch->in_flight)
			continue;
		/* A deflate that is not give_back freed its pages already. */
		if (batch->inflate || batch->give_back) {
			batch_free_pages(batch, true);
			back += batch->count;
		}
		batch->in_flight = false;
	}
	pfn_store_trim(&b->held, 0);
	if (b->report_nruns)
		mm_report_return(b->report_runs, b->report_nruns);
	b->report_nruns = b->report_pending = 0;
	b->inflating = b->inflating_runs = b->deflating = 0;
	printk("balloon: took back %llu pages from the reset device\n",
	       (unsigned long long)back);
}

static struct virtio_driver balloon_driver = {
	.name = "balloon",
	.device_type = VIRTIO_ID_BALLOON,
	/* All driver state is one static struct; the host has one
	 * balloon per VM anyway (QEMU refuses a second). */
	.max_devices = 1,
	.probe = balloon_probe,
	.config_size = BALLOON_CFG_SIZE,
	.config_changed = balloon_config_changed,
	.device_lost = balloon_device_lost,
};

/* SIZE option KEY into *BYTES (left alone when absent or bad). */
static void balloon_size_option(const char *key, uint64_t *bytes)
{
	const char *s = cmdline_get(key);

	if (s && !parse_size(s, bytes))
		printk("balloon: ignoring bad %s=%s\n", key, s);
}

/* Runs from the idle loop, so after the transports have offered us every
 * device, and before the console's first prompt (queued after us). */
static void balloon_report_absent(void *arg)
{
	if (!balloon_driver.found)
		printk("balloon: no virtio-balloon device found\n");
}

void balloon_init(void)
{
	struct balloon *b = &balloon;
	const char *debug = cmdline_get("balloon.debug");

	b->min_free = BALLOON_DEFAULT_MIN;
	balloon_size_option("balloon.min", &b->min_free);
	b->threshold = b->min_free;
	balloon_size_option("balloon.threshold", &b->threshold);
	/* Below min, the reclaim hook would fire before inflation stops. */
	b->threshold = MAX(b->threshold, b->min_free);
	b->debug = debug && strcmp(debug, "0") != 0;
	if (b->debug && !BALLOON_DEBUG)
		printk("balloon: ignoring balloon.debug=%s: built without --enable-balloon-debug\n",
		       debug);
	virtio_register_driver(&balloon_driver);
	work_init(&b->report_absent, balloon_report_absent, NULL);
	work_queue(&b->report_absent);
}

uint64_t balloon_size_bytes(void)
{
	const struct balloon *b = &balloon;

	return (b->held.count + b->inflating + b->deflating) * PAGE_SIZE;
}
