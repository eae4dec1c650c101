/* SPDX-License-Identifier: MIT */
/*
 * test-balloon-reclaim.c - host unit tests of the balloon driver's
 * deflate-on-OOM (kernel/drivers/balloon.c) in the middle of a long
 * inflation: the allocator's reclaim hook runs while the balloon's pages
 * are still in inflate descriptors the device has not used. The driver
 * must wait for them (bounded) and deflate only pages the device has
 * acknowledged. A fake device (virtio-fake.h) works only when told to.
 * Then MUST_TELL_HOST (5.5.6.1), which QEMU never offers: deflated pages
 * are reused only once the device has used their deflate descriptor.
 */
#include "config.h"

#include "tap.h"
#include "../../kernel/virtio/virtio.c"
#include "../../kernel/virtio/virtqueue.c"
#include "../../kernel/drivers/balloon.c"
#include "virtio-fake.h"

/* --- the rest of the kernel services the balloon uses --------------- */

const char *cmdline_get(const char *key)
{
	if (strcmp(key, "balloon.min") == 0)
		return "1M";
	if (strcmp(key, "balloon.threshold") == 0)
		return "2M";
	return NULL;
}

/* The delays the driver asked of its retry timer, in order. */
static uint64_t retry_delays[64];
static size_t nretry_delays;

void work_schedule(struct work *w, uint64_t delay_ms)
{
	w->timer_armed = true;
	if (w == &balloon.retry && nretry_delays < 64)
		retry_delays[nretry_delays++] = delay_ms;
}

void work_cancel(struct work *w)
{
	w->timer_armed = false;
	w->queued = false;
}

/* --- the device's side of the balloon queues (5.5.6) ---------------- */

static struct {
	uint64_t busy_until;	/* fake_ms before which it does nothing */
	bool inflated[RAM_PAGES];	/* the device has the page */
	unsigned early_deflates;	/* pages deflated before inflated */
	unsigned double_inflates;	/* pages inflated twice */
	bool deflated[RAM_PAGES];	/* used in a deflate, not yet freed */
	unsigned reused_held;		/* freed while the device had them */
	unsigned reused_deflated;	/* freed after their deflate was used */
} dev;

static size_t ram_index(uint32_t pfn)
{
	return (((paddr_t)pfn << BALLOON_PFN_SHIFT) - virt_to_phys(ram)) / PAGE_SIZE;
}

/* The allocator gets PAGE back: is the device done with it? */
static void note_reuse(paddr_t page)
{
	size_t i = ram_index(page >> BALLOON_PFN_SHIFT);

	if (dev.inflated[i])
		dev.reused_held++;
	else if (dev.deflated[i])
		dev.reused_deflated++;
	dev.deflated[i] = false;
}

/* Use every available descriptor of queue INDEX, one PFN array each. */
static void device_take(unsigned index)
{
	struct virtqueue *vq = fake.enabled[index];
	uint16_t avail = fake.seen_avail[index];

	if (!vq)
		return;		/* not set up yet */
	for (; avail != vq->avail->idx; avail++) {
		struct vring_desc *d = &vq->desc[vq->avail->ring[avail & (vq->size - 1)]];
		const uint32_t *pfns = phys_to_virt(d->addr);

		for (uint32_t i = 0; i < d->len / 4; i++) {
			bool *in = &dev.inflated[ram_index(pfns[i])];

			if (index == BALLOON_VQ_INFLATE && *in)
				dev.double_inflates++;
			if (index == BALLOON_VQ_DEFLATE && !*in)
				dev.early_deflates++;
			/* Only a page the device had is the driver's again. */
			dev.deflated[ram_index(pfns[i])] = index == BALLOON_VQ_DEFLATE && *in;
			*in = index == BALLOON_VQ_INFLATE;
		}
	}
	device_use_all(index);
}

/* The device works while the driver polls the clock. Queues are not
 * ordered against each other: it takes the deflate queue first, so a
 * page deflated while its inflate is still pending shows up. */
static void device_tick(void)
{
	if (fake_ms < dev.busy_until)
		return;
	device_take(BALLOON_VQ_DEFLATE);
	device_take(BALLOON_VQ_INFLATE);
}

/* A workload's pages, taken to bring free memory down to the threshold. */
static paddr_t workload[RAM_PAGES];
static size_t nworkload;

/* The kernel's page_alloc() of one page once a workload has used free
 * memory down to the threshold: the hook runs first, asked for a page. */
static uint64_t reclaim_for_one_page(void)
{
	while (mm_free_bytes() > reclaim_threshold)
		workload[nworkload++] = page_alloc_noreclaim();
	return reclaim_hook(reclaim_threshold - (nfree - 1) * PAGE_SIZE, reclaim_arg);
}

static void workload_exit(void)
{
	while (nworkload)
		page_free(workload[--nworkload]);
}

/* The device and the queue interrupt's work, until neither moves. */
static void settle(void)
{
	unsigned before;

	dev.busy_until = 0;
	do {
		before = fake.seen_avail[BALLOON_VQ_INFLATE] + fake.seen_avail[BALLOON_VQ_DEFLATE];
		device_tick();
		virtio_interrupt(&fake.vd, VIRTIO_ISR_QUEUE);
		run_work(&fake.vd.queue_work);
	} while (before != fake.seen_avail[BALLOON_VQ_INFLATE] +
			  fake.seen_avail[BALLOON_VQ_DEFLATE]);
}

#define NEVER		UINT64_MAX
#define TARGET		3000		/* pages: most of RAM */
#define HELD		1000		/* pages: the MUST_TELL_HOST tests' balloon */
#define LOWER		600		/* pages: their lower target */

/* Empty the balloon, then attach it afresh to a fake device offering
 * FEATURES (the driver's state is one static struct, as in the kernel). */
static void reattach(uint64_t features)
{
	uint64_t min_free = balloon.min_free, threshold = balloon.threshold;

	workload_exit();
	set_target(0);
	settle();
	if (balloon_size_bytes() != 0)
		panic("reattach: the balloon still holds pages\n");
	balloon_device_lost(&fake.vd, false);
	balloon_driver.attached = 0;	/* the driver takes one device */
	balloon = (struct balloon){ .min_free = min_free, .threshold = threshold };
	fake = (struct fake){
		.vd = { .ops = &fake_ops, .config_len = BALLOON_CFG_SIZE },
		.offered = (1ull << VIRTIO_F_VERSION_1) | features,
		.queue_sizes = { [BALLOON_VQ_INFLATE] = 64, [BALLOON_VQ_DEFLATE] = 64 },
	};
	memset(&dev, 0, sizeof(dev));
	if (!virtio_attach(&fake.vd, virtio_find_driver(VIRTIO_ID_BALLOON)))
		panic("reattach: the balloon does not attach\n");
}

/* The host lowers the target while the device is busy: the config path
 * puts HELD - LOWER pages in deflate descriptors the device has not used. */
static void lower_target_device_busy(void)
{
	set_target(HELD);
	settle();
	is_u64(balloon.held.count, HELD, "inflated to %d pages, all acknowledged", HELD);
	dev.busy_until = NEVER;
	set_target(LOWER);
	is_u64(balloon.deflating, HELD - LOWER,
	       "target %d with the device busy: %d pages in deflate descriptors", LOWER,
	       HELD - LOWER);
}

/* 5.5.6.1 with MUST_TELL_HOST: a deflated page goes back to the
 * allocator only after the device has used its descriptor. */
static void test_tell_host(void)
{
	uint64_t got, t0;
	paddr_t page;

	reattach((1ull << VIRTIO_BALLOON_F_MUST_TELL_HOST) |
		 (1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	ok(balloon.tell_host && (fake.accepted & (1ull << VIRTIO_BALLOON_F_MUST_TELL_HOST)),
	   "MUST_TELL_HOST offered: negotiated");

	lower_target_device_busy();
	is_int(dev.reused_held + dev.reused_deflated, 0,
	       "MUST_TELL_HOST, config path: none of them is free before the device used "
	       "the descriptor");
	is_u64(fake.config[BALLOON_CFG_ACTUAL / 4], HELD, "...and actual still counts them");
	settle();
	is_int(dev.reused_held, 0, "device used the deflate: no page was freed before that");
	is_int(dev.reused_deflated, HELD - LOWER, "...and all %d are free again", HELD - LOWER);
	is_u64(fake.config[BALLOON_CFG_ACTUAL / 4], LOWER, "...and actual is %d", LOWER);

	/* The reclaim hook: the device acknowledges only after a while,
	 * which the hook waits for (every page_free meanwhile is seen). */
	dev.reused_deflated = 0;
	dev.busy_until = fake_ms + 50;
	got = reclaim_for_one_page();
	page = page_alloc_noreclaim();
	is_int(dev.reused_held, 0,
	       "MUST_TELL_HOST, reclaim hook: no page was freed before the device used its "
	       "deflate");
	is_int(dev.reused_deflated, BALLOON_BATCH_PFNS,
	       "...the hook waited for the device and freed a batch of %d pages",
	       BALLOON_BATCH_PFNS);
	is_u64(got, BALLOON_BATCH_PFNS * PAGE_SIZE, "...and reports their bytes");
	ok(page != 0, "...and the allocation gets its page");
	page_free(page);

	/* 3: the device never acknowledges: the hook gives up after the
	 * timeout and reuses nothing; the allocation takes what is free
	 * below the threshold, and the pages follow when the device does. */
	reattach((1ull << VIRTIO_BALLOON_F_MUST_TELL_HOST) |
		 (1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	set_target(HELD);
	settle();
	dev.busy_until = NEVER;
	t0 = fake_ms;
	got = reclaim_for_one_page();
	ok(fake_ms - t0 >= BALLOON_DEVICE_TIMEOUT_MS && fake_ms - t0 < 2 * BALLOON_DEVICE_TIMEOUT_MS,
	   "MUST_TELL_HOST, device never acknowledges: the hook gives up after about the "
	   "%d ms timeout (%" PRIu64 " ms)", BALLOON_DEVICE_TIMEOUT_MS, fake_ms - t0);
	is_u64(balloon.deflating, BALLOON_BATCH_PFNS, "...with a batch of %d pages deflated",
	       BALLOON_BATCH_PFNS);
	is_int(dev.reused_held + dev.reused_deflated, 0, "...none of which is reused");
	is_u64(got, 0, "...so the hook reports 0 bytes freed (mm.h: bytes it freed)");
	page = page_alloc_noreclaim();
	ok(page != 0, "...the allocation still gets a page from below the threshold");
	workload[nworkload++] = page;
	t0 = fake_ms;
	is_u64(reclaim_for_one_page(), 0, "...the next allocation gets nothing from the hook");
	ok(fake_ms - t0 < 10, "...without waiting again (%" PRIu64 " ms)", fake_ms - t0);
	/* It still deflates a batch: the device gets it when it recovers. */
	is_u64(balloon.deflating, 2 * BALLOON_BATCH_PFNS,
	       "...though it puts another batch in a deflate descriptor");
	is_int(dev.reused_held, 0, "...and reuses no page the device still has");
	settle();
	is_int(dev.reused_held, 0, "device back: still no page freed before its deflate was used");
	is_int(dev.reused_deflated, 2 * BALLOON_BATCH_PFNS,
	       "...and both deflated batches, %d pages, are free now", 2 * BALLOON_BATCH_PFNS);
	is_int(dev.early_deflates + dev.double_inflates, 0,
	       "...and the device saw every page inflated once before its deflate");
}

/* Without MUST_TELL_HOST a deflated page may be reused at once (5.5.6.1).
 * The reclaim hook does so; the config path still waits for the device
 * (it runs in work context, where nothing needs the page at once). */
static void test_no_tell_host(void)
{
	uint64_t got, t0;

	reattach(1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	ok(!balloon.tell_host && !(fake.accepted & (1ull << VIRTIO_BALLOON_F_MUST_TELL_HOST)),
	   "MUST_TELL_HOST not offered: not negotiated");
	lower_target_device_busy();
	is_int(dev.reused_held + dev.reused_deflated, 0,
	       "no MUST_TELL_HOST, config path: the pages still wait for the device");
	settle();
	is_int(dev.reused_deflated, HELD - LOWER, "...and are free once it used the deflate");

	dev.busy_until = NEVER;
	t0 = fake_ms;
	got = reclaim_for_one_page();
	is_int(dev.reused_held, BALLOON_BATCH_PFNS,
	       "no MUST_TELL_HOST, reclaim hook: a batch of %d pages is free before the "
	       "device used the deflate", BALLOON_BATCH_PFNS);
	is_u64(got, BALLOON_BATCH_PFNS * PAGE_SIZE, "...the hook reports their bytes");
	ok(fake_ms - t0 < 10, "...without waiting for the device (%" PRIu64 " ms)", fake_ms - t0);
	settle();
	is_int(dev.early_deflates, 0, "...and the device had every page it was told of");
}

/*
 * The driver's back-off when the target cannot be met (free memory at
 * balloon.min): the retry timer's delays double from BALLOON_RETRY_MIN_MS
 * up to BALLOON_RETRY_MAX_MS while nothing moves, and start over with a
 * new target. A driver that retried every 50 ms forever would spin.
 */
static void test_retry_backoff(void)
{
	static const uint64_t want[] = { 50, 100, 200, 400, 800, 1600, 2000, 2000 };
	size_t i;
	bool same = true;

	reattach(0);
	dev.busy_until = 0;
	set_target(RAM_PAGES);		/* more than there is */
	settle();
	ok(balloon.retry.timer_armed, "target above what can be given: the retry timer is set");
	/* A new target (still out of reach) starts a back-off; then the
	 * timer fires, and the balloon is still at the floor each time. */
	nretry_delays = 0;
	set_target(RAM_PAGES - 1);
	for (i = 1; i < sizeof(want) / sizeof(want[0]); i++)
		balloon_retry(&balloon);
	is_int((int)nretry_delays, (int)(sizeof(want) / sizeof(want[0])),
	       "each retry that got nowhere set the timer again");
	for (i = 0; i < nretry_delays; i++)
		same = same && retry_delays[i] == want[i];
	if (!ok(same, "retry delays 50, 100, 200 ... 1600, then 2000 ms: a doubling back-off"))
		for (i = 0; i < nretry_delays; i++)
			tap_diag("retry %zu: %" PRIu64 " ms", i + 1, retry_delays[i]);
	nretry_delays = 0;
	set_target(RAM_PAGES - 2);
	ok(nretry_delays == 1 && retry_delays[0] == BALLOON_RETRY_MIN_MS,
	   "a new target starts the back-off over at %d ms", BALLOON_RETRY_MIN_MS);
	set_target(0);
	settle();
	ok(!balloon.retry.timer_armed, "settled: no retry pending");
}

int main(void)
{
	struct virtio_driver *drv;
	uint64_t t0, got, free_before;

	fake_page_freed = note_reuse;
	fake_ram_init();

	balloon_init();
	drv = virtio_find_driver(VIRTIO_ID_BALLOON);
	fake.vd.ops = &fake_ops;
	fake_ops.version_1 = true;
	fake.vd.config_len = BALLOON_CFG_SIZE;
	fake.offered = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	fake.queue_sizes[BALLOON_VQ_INFLATE] = fake.queue_sizes[BALLOON_VQ_DEFLATE] = 64;
	fake_tick = device_tick;
	ok(drv && virtio_attach(&fake.vd, drv), "the balloon attaches to the fake device");
	ok(reclaim_hook != NULL, "DEFLATE_ON_OOM: the reclaim hook is set");

	/* The host asks for most of RAM; the device is busy, so every
	 * inflate batch is still in flight when an allocation needs memory. */
	dev.busy_until = NEVER;
	set_target(TARGET);
	is_u64(balloon.inflating, TARGET, "%d pages in inflate batches the device has not used",
	       TARGET);
	is_u64(balloon.held.count, 0, "...none of them acknowledged yet");
	dev.busy_until = fake_ms + 50;
	free_before = reclaim_threshold;
	got = reclaim_for_one_page();
	is_u64(got, BALLOON_BATCH_PFNS * PAGE_SIZE,
	       "allocation during the inflation: the hook waits for the device and deflates "
	       "a batch of %d pages", BALLOON_BATCH_PFNS);
	is_str(last_log, "balloon: reclaim: 1 waits for the device to return a batch\n",
	       "...and says on the console that it waited");
	is_u64(mm_free_bytes(), free_before + got, "...which are free for the allocation");
	is_int(dev.early_deflates, 0, "...each acknowledged by the device before its deflate");
	settle();
	is_u64(fake.config[BALLOON_CFG_ACTUAL / 4], balloon.held.count,
	       "once the device has the deflate, actual is what the balloon holds");
	ok(mm_free_bytes() >= reclaim_threshold,
	   "...and inflating on towards the target stops at balloon.threshold free");

	/* Empty the balloon, then inflate again into a device that is stuck. */
	workload_exit();
	set_target(0);
	settle();
	is_u64(balloon_size_bytes(), 0, "target 0: the balloon is empty again");
	dev.busy_until = NEVER;
	set_target(TARGET);
	free_before = reclaim_threshold;
	t0 = fake_ms;
	is_u64(reclaim_for_one_page(), 0, "device stuck: nothing can be deflated");
	ok(fake_ms - t0 >= BALLOON_DEVICE_TIMEOUT_MS && fake_ms - t0 < 2 * BALLOON_DEVICE_TIMEOUT_MS,
	   "...after waiting about the %d ms timeout (%" PRIu64 " ms)",
	   BALLOON_DEVICE_TIMEOUT_MS, fake_ms - t0);
	t0 = fake_ms;
	reclaim_for_one_page();
	ok(fake_ms - t0 < 10, "...and the next allocation does not wait again (%" PRIu64 " ms)",
	   fake_ms - t0);
	is_int(dev.early_deflates, 0, "...and no page still in flight was deflated");
	is_u64(mm_free_bytes(), free_before, "...nor reused");

	/* The device recovers; the next allocation finds its inflates done. */
	dev.busy_until = 0;
	is_u64(reclaim_for_one_page(), BALLOON_BATCH_PFNS * PAGE_SIZE,
	       "device back: the next allocation gets a batch deflated");
	settle();
	is_int(dev.early_deflates, 0, "no page was ever deflated before the device had it");
	is_int(dev.double_inflates, 0, "no page was inflated twice");

	test_tell_host();
	test_no_tell_host();
	test_retry_backoff();

	fake_tick = NULL;
	workload_exit();
	free_contig_pages();
	munmap(ram, RAM_PAGES * PAGE_SIZE);
	return tap_done();
}
