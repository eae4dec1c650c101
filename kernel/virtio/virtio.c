/* SPDX-License-Identifier: MIT */
/*
 * virtio.c - the transport-neutral part of device initialisation
 * (3.1.1), feature negotiation, and interrupt-to-work dispatch.
 */
#include "io.h"
#include "virtio.h"

#define MAX_DRIVERS	4
/* How long a device may take to reset before we call it dead. */
#define RESET_TIMEOUT_MS	1000

static struct virtio_driver *drivers[MAX_DRIVERS];
static unsigned ndrivers;

void virtio_register_driver(struct virtio_driver *drv)
{
	if (ndrivers == MAX_DRIVERS)
		panic("virtio: too many drivers (%s)", drv->name);
	drivers[ndrivers++] = drv;
}

struct virtio_driver *virtio_find_driver(uint16_t device_type)
{
	unsigned i;

	for (i = 0; i < ndrivers; i++)
		if (drivers[i]->device_type == device_type)
			return drivers[i];
	return NULL;
}

static const char *virtio_reset(struct virtio_device *vd);

/*
 * Give up on VD's current session: reset the device (after which it
 * touches none of the memory we gave it), let the driver take everything
 * back, and attach again when REATTACH, at most VIRTIO_MAX_RECOVERIES
 * times per device. Else, or when the reset fails, the device is FAILED
 * and left alone. Work context only.
 */
static void virtio_recover(struct virtio_device *vd, const char *why, bool reattach)
{
	struct virtio_driver *drv = vd->driver;
	const char *err;
	unsigned i;

	vd->driver = NULL;	/* no driver callback runs for it meanwhile */
	drv->attached--;
	err = virtio_reset(vd);
	reattach = reattach && !err && vd->recoveries < VIRTIO_MAX_RECOVERIES;
	printk("%s: %s; %s\n", drv->name, why,
	       err ? err : reattach ? "device reset, attaching again" :
	       "device reset, giving up on it");
	if (drv->device_lost)
		drv->device_lost(vd, !err);
	for (i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vd->vqs[i] = NULL;
	vd->broken = NULL;
	if (!reattach) {
		vd->ops->set_status(vd, vd->ops->get_status(vd) | VIRTIO_STATUS_FAILED);
		return;
	}
	vd->recoveries++;
	virtio_attach(vd, drv);
}

/*
 * 2.1: a device that has hit an error it cannot recover from sets
 * DEVICE_NEEDS_RESET and sends a config change notification; nothing in
 * flight can be relied on any more (2.1.2: the driver resets it).
 */
static bool virtio_device_needs_reset(struct virtio_device *vd)
{
	static char why[48];
	uint8_t status;

	if (!virtio_has_feature(vd, VIRTIO_F_VERSION_1))
		return false;	/* legacy devices have no such bit */
	status = vd->ops->get_status(vd);
	if (!(status & VIRTIO_STATUS_NEEDS_RESET))
		return false;
	snprintk(why, sizeof(why), "device needs a reset (status %x)", status);
	virtio_recover(vd, why, true);
	return true;
}

static void virtio_config_work(void *arg)
{
	struct virtio_device *vd = arg;

	if (!vd->driver || virtio_device_needs_reset(vd))
		return;
	vd->driver->config_changed(vd);
}

static void virtio_queue_work(void *arg)
{
	struct virtio_device *vd = arg;
	unsigned i;

	if (!vd->driver)
		return;
	/* An INTx interrupt does not say which queue: ask them all. */
	for (i = 0; i < VIRTIO_MAX_QUEUES && !vd->broken; i++)
		if (vd->vqs[i] && vd->vqs[i]->callback)
			vd->vqs[i]->callback(vd->vqs[i]);
	/* A device that broke the queue protocol is not reattached: it
	 * would likely do it again. */
	if (vd->broken)
		virtio_recover(vd, vd->broken, false);
}

void virtio_device_broken(struct virtio_device *vd, const char *why)
{
	if (vd->broken)
		return;
	vd->broken = why;
	/* Recovery needs work context, not (say) an allocation's reclaim. */
	work_queue(&vd->queue_work);
}

void virtio_interrupt(struct virtio_device *vd, uint8_t isr)
{
	if (!vd->driver)
		return;
	if (isr & VIRTIO_ISR_QUEUE)
		work_queue(&vd->queue_work);
	if (isr & VIRTIO_ISR_CONFIG)
		work_queue(&vd->config_work);
}

/*
 * 3.1.1 step 1. A modern device may take a while: the driver waits until
 * the status reads back 0 (4.1.4.3.2). A register block that reads all
 * ones instead is not there at all (e.g. a BAR behind a bridge window
 * firmware left closed).
 */
static const char *virtio_reset(struct virtio_device *vd)
{
	uint64_t deadline = time_ms() + RESET_TIMEOUT_MS;
	uint8_t status;

	vd->ops->set_status(vd, 0);
	while ((status = vd->ops->get_status(vd)) != 0) {
		/* No device sets every status bit at once. */
		if (status == 0xff)
			return "device registers do not respond (BAR not reachable)";
		if (time_ms() > deadline)
			return "device did not reset";
		cpu_relax();
	}
	return NULL;
}

/*
 * The driver reads and writes its config fields at fixed offsets; a
 * transport that maps less (a short device-config capability, a small
 * legacy BAR0 or virtio-mmio window) would send those accesses past the
 * end of the device's registers.
 */
static const char *virtio_check_config_len(const struct virtio_device *vd,
					   const struct virtio_driver *drv)
{
	static char why[80];

	if (vd->config_len >= drv->config_size)
		return NULL;
	snprintk(why, sizeof(why), "device config space is %u bytes, the driver needs %u",
		 vd->config_len, drv->config_size);
	return why;
}

bool virtio_driver_has_room(const struct virtio_driver *drv)
{
	if (!drv->max_devices || drv->attached < drv->max_devices)
		return true;
	printk("%s: cannot attach: already driving %u device%s, ignoring this one\n",
	       drv->name, drv->attached, drv->attached == 1 ? "" : "s");
	return false;
}

bool virtio_attach(struct virtio_device *vd, struct virtio_driver *drv)
{
	const char *why;

	if (!virtio_driver_has_room(drv))
		return false;
	/* Once per device: on a reattach one of them may be queued (or
	 * running); with no driver set they do nothing meanwhile. */
	if (!vd->config_work.fn) {
		work_init(&vd->config_work, virtio_config_work, vd);
		work_init(&vd->queue_work, virtio_queue_work, vd);
	}

	/* 3.1.1 step 1: reset the device. */
	why = virtio_reset(vd);
	if (why) {
		printk("%s: cannot attach: %s\n", drv->name, why);
		return false;
	}
	/* Step 2: we have noticed the device. */
	vd->ops->set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE);
	/* Step 3: we know how to drive it. */
	vd->ops->set_status(vd, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);

	/* Steps 4-8 are the driver's: features, queues, DRIVER_OK. Set
	 * vd->driver only now, so that interrupts before this point (there
	 * should be none) are ignored. */
	vd->driver = drv;
	why = virtio_check_config_len(vd, drv);
	if (!why)
		why = drv->probe(vd);
	if (why) {
		printk("%s: cannot attach: %s\n", drv->name, why);
		vd->driver = NULL;
		/* The probe may have enabled queues whose memory the driver
		 * does not keep: reset the device so that it forgets them,
		 * then (3.1.1) set FAILED and give up on it. */
		if (virtio_reset(vd))
			vd->ops->set_status(vd, vd->ops->get_status(vd) | VIRTIO_STATUS_FAILED);
		else
			vd->ops->set_status(vd, VIRTIO_STATUS_FAILED);
		return false;
	}
	drv->attached++;
	return true;
}

const char *virtio_negotiate(struct virtio_device *vd, uint64_t wanted)
{
	uint64_t offered = vd->ops->get_features(vd);
	uint8_t status;

	/* 6.1: a modern device offers VERSION_1 and a driver that speaks
	 * the 1.x interface must accept it; over a 1.x-only interface, a
	 * device without it is not one we can drive. */
	if (vd->ops->version_1 && !(offered & (1ull << VIRTIO_F_VERSION_1)))
		return "device does not offer VERSION_1 on its virtio 1.x interface";
	vd->features = offered & (wanted | (1ull << VIRTIO_F_VERSION_1));
	/* Step 4: write the subset we understand. */
	vd->ops->set_features(vd, vd->features);
	if (!virtio_has_feature(vd, VIRTIO_F_VERSION_1))
		return NULL;	/* legacy devices have no FEATURES_OK */

	/* Step 5: no more feature changes. */
	status = vd->ops->get_status(vd);
	vd->ops->set_status(vd, status | VIRTIO_STATUS_FEATURES_OK);
	/* Step 6: the device may refuse the subset by clearing the bit. */
	if (!(vd->ops->get_status(vd) & VIRTIO_STATUS_FEATURES_OK))
		return "device refused our features";
	return NULL;
}

void virtio_device_ready(struct virtio_device *vd)
{
	/* 3.1.1 step 8: the driver is live; the device may now use the
	 * queues and raise interrupts. */
	vd->ops->set_status(vd, vd->ops->get_status(vd) | VIRTIO_STATUS_DRIVER_OK);
}
