/* SPDX-License-Identifier: MIT */
/*
 * test-balloon-device.c - host unit tests of the balloon driver
 * (kernel/drivers/balloon.c) against devices that differ from QEMU's
 * defaults, on the fake transport of virtio-fake.h: where the optional
 * queues are (5.5.2) under each numbering in use, running without a
 * feature whose queue is missing, `actual` written at attach, the free
 * page report timer armed once however often freed memory piles up, and
 * a device lost (DEVICE_NEEDS_RESET, or broken) giving its pages back.
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
	return NULL;
}

/* Like kernel/core/work.c: re-arming moves the deadline. */
void work_schedule(struct work *w, uint64_t delay_ms)
{
	w->timer_armed = true;
	w->due_ms = fake_ms + delay_ms;
}

void work_cancel(struct work *w)
{
	w->timer_armed = false;
	w->queued = false;
}

/* --- attaching to a fake device ------------------------------------- */

#define F(bit)		(1ull << VIRTIO_BALLOON_F_##bit)

/* Forget the previous device (the driver is one static struct, as in
 * the kernel) and attach to one offering FEATURES with queues of size 64
 * at the indices in QUEUES (a bit mask). */
static bool attach(uint64_t features, unsigned queues)
{
	uint64_t min_free = balloon.min_free, threshold = balloon.threshold;

	if (balloon.vd)
		balloon_device_lost(balloon.vd, false);
	balloon_driver.attached = 0;
	balloon = (struct balloon){ .min_free = min_free, .threshold = threshold };
	fake = (struct fake){
		.vd = { .ops = &fake_ops, .config_len = BALLOON_CFG_SIZE },
		.offered = (1ull << VIRTIO_F_VERSION_1) | features,
		/* actual as a device may keep it from before a reset */
		.config = { [BALLOON_CFG_ACTUAL / 4] = 12345 },
	};
	for (unsigned i = 0; i < FAKE_QUEUES; i++)
		if (queues & (1u << i))
			fake.queue_sizes[i] = 64;
	report_hook = NULL;
	return virtio_attach(&fake.vd, &balloon_driver);
}

static int vq_index(const struct virtqueue *vq)
{
	return vq ? vq->index : -1;
}

/* 5.5.2: the queues land where the device has them. */
static void test_queue_numbering(void)
{
	/* QEMU's numbering, free-page-hint=on and free-page-reporting=on:
	 * queues for every offered feature, densely. With an 8-byte config
	 * space (no command id) the hint is declined, yet its queue holds
	 * index 3. */
	ok(attach(F(STATS_VQ) | F(FREE_PAGE_HINT) | F(PAGE_REPORTING), 0x1f),
	   "the hint offered in 8 bytes of config: attaches");
	ok(!(fake.accepted & F(FREE_PAGE_HINT)), "...FREE_PAGE_HINT declined");
	is_int(vq_index(balloon.stats_vq), 2, "...statsq at 2");
	is_int(vq_index(balloon.report_vq), 4, "...reporting_vq at 4, after the hint's queue");
	ok(fake.enabled[3] == NULL, "...the hint queue left alone");

	/* QEMU without the hint: reporting_vq right after statsq. */
	ok(attach(F(STATS_VQ) | F(PAGE_REPORTING), 0x0f), "QEMU without the hint: attaches");
	is_int(vq_index(balloon.report_vq), 3, "...reporting_vq at 3");

	/* No statsq offered; a device numbering the spec's list literally. */
	ok(attach(F(PAGE_REPORTING), 0x13), "literal numbering, no STATS_VQ: attaches");
	is_int(vq_index(balloon.report_vq), 4, "...reporting_vq at 4");
	ok(balloon.stats_vq == NULL, "...no statsq");

	/* The same features, numbered densely (QEMU's and Linux's way). */
	ok(attach(F(PAGE_REPORTING), 0x07), "dense numbering, no STATS_VQ: attaches");
	is_int(vq_index(balloon.report_vq), 2, "...reporting_vq at 2");

	/* Linux's reading with the hint offered: the negotiated queues only. */
	ok(attach(F(STATS_VQ) | F(FREE_PAGE_HINT) | F(PAGE_REPORTING), 0x0f),
	   "hint offered, queues numbered by negotiated features: attaches");
	is_int(vq_index(balloon.report_vq), 3, "...reporting_vq at 3");

	/* PAGE_REPORTING offered without any queue for it. */
	ok(attach(F(STATS_VQ) | F(PAGE_REPORTING), 0x07),
	   "PAGE_REPORTING offered, its queue missing: the device still attaches");
	ok(balloon.report_vq == NULL && !virtio_has_feature(&fake.vd, VIRTIO_BALLOON_F_PAGE_REPORTING),
	   "...and runs without free page reporting");
	ok(report_hook == NULL, "...with no report hook set");
	is_int(vq_index(balloon.stats_vq), 2, "...statsq still at 2");
	ok(fake.status & VIRTIO_STATUS_DRIVER_OK, "...and DRIVER_OK set");
}

/* 5.5.6.1: actual is written at attach, whatever the device kept. */
static void test_actual_at_attach(void)
{
	ok(attach(F(STATS_VQ), 0x07), "attach to a device that kept actual = 12345");
	is_int(fake.config[BALLOON_CFG_ACTUAL / 4], 0,
	       "...actual is 0 at attach (the balloon holds nothing)");
}

/* The report timer is armed once; more frees do not push it back. */
static void test_report_timer(void)
{
	uint64_t due;

	ok(attach(F(STATS_VQ) | F(PAGE_REPORTING), 0x0f) && report_hook,
	   "PAGE_REPORTING: the report hook is set");
	report_hook(report_arg);
	ok(balloon.report.timer_armed, "freed memory piled up: the report timer is armed");
	due = balloon.report.due_ms;
	fake_ms += 600;
	report_hook(report_arg);
	fake_ms += 600;
	report_hook(report_arg);
	is_u64(balloon.report.due_ms, due,
	       "more frees 600 and 1200 ms later do not push the report back");
}

/* The device uses every inflate and deflate buffer, and the queue
 * interrupt's work runs, until neither moves. */
static void device_settle(void)
{
	unsigned n;

	do {
		n = 0;
		for (unsigned q = BALLOON_VQ_INFLATE; q <= BALLOON_VQ_DEFLATE; q++)
			if (fake.enabled[q])
				n += device_use_all(q);
		virtio_interrupt(&fake.vd, VIRTIO_ISR_QUEUE);
		run_work(&fake.vd.queue_work);
	} while (n);
}

/* 2.1.2: DEVICE_NEEDS_RESET: the driver resets the device, takes back
 * every page it had (held and in flight) and attaches again. */
static void test_needs_reset(void)
{
	size_t free_at_1000;

	ok(attach(F(STATS_VQ) | F(DEFLATE_ON_OOM), 0x07), "attach for the reset test");
	set_target(1000);
	device_settle();
	is_u64(balloon.held.count, 1000, "inflated to 1000 pages");
	free_at_1000 = nfree;
	/* 500 more go into inflate descriptors the device never uses. */
	set_target(1500);
	is_u64(balloon.inflating, 500, "500 more pages in flight");

	fake.status |= VIRTIO_STATUS_NEEDS_RESET;
	virtio_interrupt(&fake.vd, VIRTIO_ISR_CONFIG);
	run_work(&fake.vd.config_work);
	ok(fake.status & VIRTIO_STATUS_DRIVER_OK && !(fake.status & VIRTIO_STATUS_FAILED),
	   "DEVICE_NEEDS_RESET: the device is reset and live again (status %x)", fake.status);
	is_int(balloon_driver.attached, 1, "...attached once more");
	device_settle();
	is_u64(balloon.held.count, 1500, "...and the balloon inflates afresh to the target");
	is_u64(fake.config[BALLOON_CFG_ACTUAL / 4], 1500, "...actual is 1500");
	ok(nfree + 2 >= free_at_1000 - 500 && nfree <= free_at_1000 - 500 + 2,
	   "...and no page was lost: free memory is 500 pages below what it was at 1000 "
	   "(%zu, was %zu)", nfree, free_at_1000);
}

/* A device returning a descriptor that is not in flight: no panic; the
 * device is reset and left FAILED, and every page it had comes back. */
static void test_broken_device(void)
{
	struct virtqueue *vq;
	size_t free_before;

	ok(attach(F(STATS_VQ) | F(DEFLATE_ON_OOM), 0x07), "attach a device that will misbehave");
	free_before = nfree;
	set_target(1000);
	device_settle();
	set_target(1200);	/* 200 pages in flight */
	vq = fake.enabled[BALLOON_VQ_INFLATE];
	vq->used->ring[vq->used->idx & (vq->size - 1)].id = vq->size - 1;
	vq->used->idx++;
	virtio_interrupt(&fake.vd, VIRTIO_ISR_QUEUE);
	run_work(&fake.vd.queue_work);
	ok(fake.status & VIRTIO_STATUS_FAILED, "a descriptor not in flight: the device is FAILED");
	is_int(balloon_driver.attached, 0, "...and no longer attached");
	is_u64(balloon_size_bytes(), 0, "...the balloon holds nothing");
	is_u64(nfree, free_before, "...every page it had, held or in flight, is free again");
	is_u64(balloon.held.chunks, 0, "...and the PFN store's chunks too");
}

/* 5.5.6.4: free page hinting's command-id protocol. */
static void test_free_page_hint(void)
{
	struct virtqueue *vq;
	size_t free_before;
	unsigned i, hints = 0, ids = 0;
	uint32_t first_id = 0, last_id = 1;
	uint64_t hinted_bytes = 0;
	bool ordered = true;

	ok(attach(F(STATS_VQ) | F(FREE_PAGE_HINT) | F(PAGE_REPORTING), 0x1f),
	   "hint offered, config space too small for its command id: attaches");
	ok(!(fake.accepted & F(FREE_PAGE_HINT)), "...and declines the hint");

	fake.vd.config_len = 16;
	balloon_device_lost(balloon.vd, false);
	balloon_driver.attached = 0;
	fake.status = 0;
	ok(virtio_attach(&fake.vd, &balloon_driver), "with room for the command id: attaches");
	ok(fake.accepted & F(FREE_PAGE_HINT), "...FREE_PAGE_HINT accepted");
	is_int(vq_index(balloon.hint_vq), 3, "...free_page_vq at 3");
	is_int(vq_index(balloon.report_vq), 4, "...reporting_vq at 4");

	free_before = nfree;
	fake.config[BALLOON_CFG_HINT_CMD_ID / 4] = 0x80000001u;
	virtio_interrupt(&fake.vd, VIRTIO_ISR_CONFIG);
	run_work(&fake.vd.config_work);
	/* The device reads what the driver makes available and returns it;
	 * the driver hints more each time, until it stops. */
	vq = fake.enabled[3];
	for (;;) {
		unsigned seen = fake.seen_avail[3];

		run_work(&balloon.hint);
		for (i = seen; (uint16_t)i != vq->avail->idx; i++) {
			struct vring_desc *d = &vq->desc[vq->avail->ring[i & (vq->size - 1)]];

			if (d->flags & VRING_DESC_F_WRITE) {
				hints++;
				hinted_bytes += d->len;
				if (!ids)
					ordered = false;
			} else {
				uint32_t id = *(uint32_t *)phys_to_virt(d->addr);

				if (!ids++)
					first_id = id;
				last_id = id;
			}
		}
		if (!device_use_all(3))
			break;
		virtio_interrupt(&fake.vd, VIRTIO_ISR_QUEUE);
		run_work(&fake.vd.queue_work);
	}
	is_int(first_id, 0x80000001u, "a new command id: the driver sends it first");
	ok(ordered && hints > 0, "...then hints, device-writable buffers (%u of them)", hints);
	is_u64(hinted_bytes, (free_before - nfree) * PAGE_SIZE - balloon.hinted.chunks * PAGE_SIZE,
	       "...covering the pages it took out of the allocator");
	ok(nfree * PAGE_SIZE >= balloon.threshold && nfree * PAGE_SIZE <= balloon.threshold + 64 * 1024,
	   "...down to balloon.threshold free (%zu pages)", nfree);
	is_int(last_id, BALLOON_CMD_ID_STOP, "...and with no more free memory, STOP");

	fake.config[BALLOON_CFG_HINT_CMD_ID / 4] = BALLOON_CMD_ID_DONE;
	virtio_interrupt(&fake.vd, VIRTIO_ISR_CONFIG);
	run_work(&fake.vd.config_work);
	is_u64(nfree, free_before, "DONE: every hinted page is free again");
	is_u64(balloon.hinted.count, 0, "...and none is counted as hinted");
}

int main(void)
{
	fake_ram_init();
	fake_ops.version_1 = true;
	balloon_init();

	test_queue_numbering();
	test_actual_at_attach();
	test_report_timer();
	test_needs_reset();
	test_broken_device();
	test_free_page_hint();

	free_contig_pages();
	munmap(ram, RAM_PAGES * PAGE_SIZE);
	return tap_done();
}
