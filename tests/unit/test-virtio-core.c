/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-core.c - host unit tests of the transport-neutral virtio
 * core (kernel/virtio/virtio.c, virtqueue.c): the 3.1.1 initialisation
 * sequence and feature negotiation, DEVICE_NEEDS_RESET, and the split
 * virtqueue (2.7) against a fake device that plays the other side.
 */
#include "config.h"

#include <stdlib.h>

#include "tap.h"
#include "../../kernel/virtio/virtio.c"
#include "../../kernel/virtio/virtqueue.c"
#include "virtio-fake.h"

/* --- a fake driver -------------------------------------------------- */

#define WANTED	((1ull << 0) | (1ull << 2))

static struct {
	unsigned probes, config_changes, queue_callbacks, lost, lost_reset;
	unsigned used;		/* buffers the queue callback collected */
} drv_calls;

static void fake_vq_callback(struct virtqueue *vq)
{
	drv_calls.queue_callbacks++;
	while (virtqueue_get_used(vq))
		drv_calls.used++;
}

static bool second_queue;	/* probe needs queue 1 too */

static const char *fake_probe(struct virtio_device *vd)
{
	const char *why;

	drv_calls.probes++;
	why = virtio_negotiate(vd, WANTED);
	if (why)
		return why;
	if (!virtqueue_create(vd, 0, fake_vq_callback, NULL, &why))
		return why;
	if (second_queue && !virtqueue_create(vd, 1, NULL, NULL, &why))
		return why;
	virtio_device_ready(vd);
	return NULL;
}

static void fake_config_changed(struct virtio_device *vd)
{
	drv_calls.config_changes++;
}

static void fake_device_lost(struct virtio_device *vd, bool reset)
{
	drv_calls.lost++;
	drv_calls.lost_reset += reset;
}

static struct virtio_driver fake_driver = {
	.name = "fake",
	.device_type = 5,
	.probe = fake_probe,
	.config_size = 8,
	.config_changed = fake_config_changed,
	.device_lost = fake_device_lost,
};

/* A fresh device: status left non-zero by "firmware", queue 0 of SIZE. */
static void new_device(bool version_1_interface, uint64_t offered, uint16_t size)
{
	memset(&fake, 0, sizeof(fake));
	memset(&drv_calls, 0, sizeof(drv_calls));
	fake_ops.version_1 = version_1_interface;
	fake.vd.ops = &fake_ops;
	fake.vd.config_len = 8;
	fake.status = VIRTIO_STATUS_ACKNOWLEDGE;
	fake.offered = offered;
	fake.queue_sizes[0] = size;
	last_log[0] = '\0';
}

static bool statuses_are(const uint8_t *want, unsigned n)
{
	return fake.nstatuses == n && memcmp(fake.statuses, want, n) == 0;
}

#define V1	(1ull << VIRTIO_F_VERSION_1)

static void test_initialisation(void)
{
	static const uint8_t modern_seq[] = { 0, 1, 3, 11, 15 };
	static const uint8_t legacy_seq[] = { 0, 1, 3, 7 };

	new_device(true, V1 | 0x7, 128);
	ok(virtio_attach(&fake.vd, &fake_driver), "a modern device attaches");
	ok(statuses_are(modern_seq, ARRAY_SIZE(modern_seq)),
	   "3.1.1: reset, ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK, in that order");
	is_u64(fake.accepted, V1 | WANTED, "accepted: VERSION_1 and the wanted bits the device offers");
	ok(fake.vd.driver == &fake_driver, "the driver is bound");

	new_device(false, 0x3, 128);
	ok(virtio_attach(&fake.vd, &fake_driver), "a legacy device attaches");
	ok(statuses_are(legacy_seq, ARRAY_SIZE(legacy_seq)),
	   "legacy (3.1.2): no FEATURES_OK step");
	is_u64(fake.accepted, 0x1, "never a feature the device did not offer");

	new_device(true, V1 | 0x7, 128);
	fake.refuse_features = true;
	ok(!virtio_attach(&fake.vd, &fake_driver), "a device that clears FEATURES_OK does not attach");
	ok(fake.status & VIRTIO_STATUS_FAILED, "...and is marked FAILED");
	ok(!(fake.status & VIRTIO_STATUS_DRIVER_OK), "...and never DRIVER_OK");
	ok(strstr(last_log, "fake: cannot attach: device refused our features") != NULL,
	   "...and the console says why");
	ok(fake.vd.driver == NULL, "...and no driver is bound");

	/* 6.1: over a modern (non-legacy) interface, VERSION_1 is mandatory. */
	new_device(true, 0x7, 128);
	ok(!virtio_attach(&fake.vd, &fake_driver),
	   "a modern interface without VERSION_1 is refused, not driven as legacy");
	ok(!(fake.status & VIRTIO_STATUS_DRIVER_OK), "...and never DRIVER_OK");
	ok(fake.status & VIRTIO_STATUS_FAILED, "...and marked FAILED");

	new_device(true, V1, 128);
	fake.stuck_in_reset = true;
	fake.status = VIRTIO_STATUS_DRIVER;
	ok(!virtio_attach(&fake.vd, &fake_driver), "a device that never finishes its reset does not attach");
	is_int(drv_calls.probes, 0, "...and the driver never sees it");
	ok(strstr(last_log, "did not reset") != NULL, "...and the console says so");

	/* The transport reaches only part of what the driver needs. */
	new_device(true, V1, 128);
	fake.vd.config_len = 4;
	ok(!virtio_attach(&fake.vd, &fake_driver),
	   "a device config space smaller than the driver's fields is refused");
	is_int(drv_calls.probes, 0, "...before the driver touches it");
	ok(fake.status & VIRTIO_STATUS_FAILED, "...and marked FAILED");
	ok(strstr(last_log, "fake: cannot attach: device config space is 4 bytes, "
		  "the driver needs 8") != NULL, "...and the console says so");
	ok(fake.vd.driver == NULL, "...and no driver is bound");
	new_device(true, V1, 128);
	fake.vd.config_len = 8;
	ok(virtio_attach(&fake.vd, &fake_driver), "exactly the driver's size is enough");

	new_device(true, V1, 100);
	ok(!virtio_attach(&fake.vd, &fake_driver), "a queue size that is not a power of 2 is refused");
	new_device(true, V1, 0);
	ok(!virtio_attach(&fake.vd, &fake_driver), "a queue of size 0 does not exist");
}

/* The device status went through 0 (a reset) after position FROM. */
static bool reset_since(unsigned from)
{
	for (unsigned i = from; i < fake.nstatuses; i++)
		if (fake.statuses[i] == 0)
			return true;
	return false;
}

static void test_needs_reset(void)
{
	unsigned n, round;

	new_device(true, V1 | 0x7, 128);
	virtio_attach(&fake.vd, &fake_driver);
	virtio_interrupt(&fake.vd, VIRTIO_ISR_CONFIG);
	run_work(&fake.vd.config_work);
	is_int(drv_calls.config_changes, 1, "a config interrupt reaches the driver");

	/* 2.1: the device hit an error and wants a reset (2.1.2). */
	n = fake.nstatuses;
	fake.status |= VIRTIO_STATUS_NEEDS_RESET;
	virtio_interrupt(&fake.vd, VIRTIO_ISR_CONFIG | VIRTIO_ISR_QUEUE);
	run_work(&fake.vd.config_work);
	is_int(drv_calls.config_changes, 1, "DEVICE_NEEDS_RESET: the config change is not passed on");
	ok(drv_calls.lost == 1 && drv_calls.lost_reset == 1,
	   "...the driver is told the device is lost, and was reset");
	ok(reset_since(n), "...the device is reset");
	is_int(drv_calls.probes, 2, "...and probed again");
	ok(fake.status == (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK),
	   "...and is live again (status %x)", fake.status);
	ok(fake.enabled[0] != NULL, "...with its queue set up afresh");
	virtio_interrupt(&fake.vd, VIRTIO_ISR_CONFIG);
	run_work(&fake.vd.config_work);
	is_int(drv_calls.config_changes, 2, "...and its config changes reach the driver again");

	/* A device that keeps asking: reset and reattached a few times,
	 * then given up on. */
	for (round = 2; round <= VIRTIO_MAX_RECOVERIES + 1; round++) {
		fake.status |= VIRTIO_STATUS_NEEDS_RESET;
		virtio_interrupt(&fake.vd, VIRTIO_ISR_CONFIG);
		run_work(&fake.vd.config_work);
	}
	is_int(drv_calls.probes, VIRTIO_MAX_RECOVERIES + 1,
	       "a device that keeps needing a reset is reattached %d times",
	       VIRTIO_MAX_RECOVERIES);
	ok(fake.status & VIRTIO_STATUS_FAILED, "...then reset and marked FAILED");
	ok(strstr(last_log, "device reset, giving up on it") != NULL, "...and the console says so");
	run_work(&fake.vd.queue_work);
	virtio_interrupt(&fake.vd, VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
	run_work(&fake.vd.queue_work);
	run_work(&fake.vd.config_work);
	is_int(drv_calls.config_changes, 2, "...no callback reaches the driver after that");
}

/* A device that returns a descriptor twice, or one never made available:
 * no panic; the device is reset and left FAILED, the guest goes on. */
static void test_broken_device(void)
{
	static int token;
	struct virtqueue *vq;
	unsigned n;

	new_device(true, V1, 8);
	ok(virtio_attach(&fake.vd, &fake_driver), "attach a device that will misbehave");
	vq = fake.enabled[0];
	virtqueue_add(vq, 0x1000, 4, false, &token);
	virtqueue_kick(vq);
	device_use_all(0);
	/* ...and returns descriptor 0 a second time. */
	vq->used->ring[vq->used->idx & 7].id = 0;
	vq->used->idx++;
	n = fake.nstatuses;
	virtio_interrupt(&fake.vd, VIRTIO_ISR_QUEUE);
	run_work(&fake.vd.queue_work);
	is_int(drv_calls.used, 1, "a descriptor returned twice: the driver gets it once");
	ok(strstr(last_log, "fake: device broke the queue protocol; device reset, giving up on it")
	   != NULL, "...the console says the device broke the protocol");
	ok(drv_calls.lost == 1 && drv_calls.lost_reset == 1,
	   "...the driver is told the device is lost, and was reset");
	ok(reset_since(n) && (fake.status & VIRTIO_STATUS_FAILED),
	   "...the device is reset and marked FAILED");
	is_int(drv_calls.probes, 1, "...and not probed again");

	new_device(true, V1, 8);
	virtio_attach(&fake.vd, &fake_driver);
	vq = fake.enabled[0];
	vq->used->ring[0].id = 3;	/* never made available */
	vq->used->idx = 1;
	virtio_interrupt(&fake.vd, VIRTIO_ISR_QUEUE);
	run_work(&fake.vd.queue_work);
	ok(drv_calls.used == 0 && drv_calls.lost == 1 && (fake.status & VIRTIO_STATUS_FAILED),
	   "a descriptor never made available: the same, no panic");
}

/* 3.1.1: a probe that fails after enabling queues resets the device, so
 * it forgets rings the driver does not keep, then marks it FAILED. */
static void test_failed_probe(void)
{
	/* The probe enables queue 0, then fails: the device has no queue 1. */
	new_device(true, V1, 8);
	second_queue = true;
	ok(!virtio_attach(&fake.vd, &fake_driver), "a probe that fails after enabling a queue");
	second_queue = false;
	ok(fake.nstatuses >= 2 && fake.statuses[fake.nstatuses - 2] == 0 &&
	   fake.statuses[fake.nstatuses - 1] == VIRTIO_STATUS_FAILED,
	   "...resets the device, then sets FAILED");
	ok(fake.enabled[0] == NULL, "...which forgot the queue it had enabled");
}

static void test_virtqueue(void)
{
	static int tokens[8];
	struct virtqueue *vq;
	unsigned i, cycle;
	bool order_kept = true, counts_right = true;

	new_device(true, V1, 8);
	virtio_attach(&fake.vd, &fake_driver);
	vq = fake.enabled[0];
	ok(vq && vq->size == 8, "queue 0 enabled with the device's size");
	is_int(virt_to_phys(vq->desc) % 16, 0, "2.7: descriptor table 16-byte aligned");
	is_int(virt_to_phys(vq->avail) % 2, 0, "2.7: driver area 2-byte aligned");
	is_int(virt_to_phys(vq->used) % 4096, 0,
	       "2.7.2 legacy layout: device area at the next 4096-byte boundary");
	is_int(virt_to_phys(vq->avail) - virt_to_phys(vq->desc), 16 * 8,
	       "2.7.2: the driver area follows the descriptor table");
	is_int(vq->used->flags, 0, "the used ring's flags start at 0");

	ok(virtqueue_get_used(vq) == NULL, "nothing used yet");
	for (i = 0; i < 8; i++)
		ok(virtqueue_add(vq, 0x1000 * (i + 1), 4 * i, false, &tokens[i]),
		   "add buffer %u of 8", i + 1);
	ok(!virtqueue_add(vq, 0x9000, 4, false, &tokens[0]), "a ninth buffer does not fit");
	is_int(vq->avail->idx, 0, "added buffers are not visible before the kick");
	virtqueue_kick(vq);
	is_int(vq->avail->idx, 8, "the kick publishes all eight at once");
	is_int(fake.notifies[0], 1, "...with one notification");
	is_u64(vq->desc[vq->avail->ring[3]].addr, 0x4000, "descriptor address as added");
	is_int(vq->desc[vq->avail->ring[3]].len, 12, "descriptor length as added");
	is_int(vq->desc[vq->avail->ring[3]].flags, 0, "device-readable: no WRITE flag");
	virtqueue_kick(vq);
	is_int(fake.notifies[0], 1, "a kick with nothing new does not notify");

	device_use_all(0);
	for (i = 0; i < 8; i++)
		if (virtqueue_get_used(vq) != &tokens[i])
			order_kept = false;
	ok(order_kept, "every token comes back with its buffer, in the device's order");
	ok(virtqueue_get_used(vq) == NULL, "and then nothing more");

	/* 2.7.10: the device may suppress notifications. */
	vq->used->flags = VRING_USED_F_NO_NOTIFY;
	virtqueue_add(vq, 0x1000, 4, false, &tokens[0]);
	virtqueue_kick(vq);
	is_int(fake.notifies[0], 1, "NO_NOTIFY: published without a notification");
	vq->used->flags = 0;
	device_use_all(0);
	ok(virtqueue_get_used(vq) == &tokens[0], "...and still used by the device");

	/* Free-running 16-bit indices wrap at 65536 (2.7.6, 2.7.8). */
	for (cycle = 0; cycle < 3 * 65536 / 5; cycle++) {
		for (i = 0; i < 5; i++)
			virtqueue_add(vq, 0x1000, 4, true, &tokens[i]);
		virtqueue_kick(vq);
		if (device_use_all(0) != 5)
			counts_right = false;
		for (i = 0; i < 5; i++)
			if (virtqueue_get_used(vq) != &tokens[i])
				order_kept = false;
		if (virtqueue_get_used(vq) != NULL)
			counts_right = false;
	}
	ok(counts_right && order_kept,
	   "196605 buffers through a queue of 8: indices wrap, no buffer lost or repeated");
	is_int(vq->num_free, 8, "every descriptor is free again");
	is_int(vq->desc[vq->avail->ring[(vq->avail_idx - 1) & 7]].flags, VRING_DESC_F_WRITE,
	       "device-writable buffers carry the WRITE flag");
}

int main(void)
{
#if !defined(__x86_64__)
	tap_skip_all("the kernel's io.h helpers are x86-64 only");
#endif
	virtio_register_driver(&fake_driver);
	test_initialisation();
	test_needs_reset();
	test_broken_device();
	test_failed_probe();
	test_virtqueue();
	free_contig_pages();
	return tap_done();
}
