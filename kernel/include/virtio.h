/* SPDX-License-Identifier: MIT */
/*
 * virtio.h - the transport-neutral virtio device API (kernel/virtio/).
 * Device drivers (the balloon) see only this: feature negotiation, the
 * device-specific config space, split virtqueues and a few callbacks.
 * The transports (virtio-pci and virtio-mmio, each modern and legacy)
 * implement struct virtio_transport_ops.
 *
 * The section numbers in the kernel's comments (2.7, 5.5.6.1, ...) are
 * those of the Virtual I/O Device (VIRTIO) specification, version 1.2.
 */
#ifndef KERNEL_VIRTIO_H
#define KERNEL_VIRTIO_H

#include "kernel.h"
#include "mm.h"

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

/* Reserved feature bits (section 6). */
#define VIRTIO_F_VERSION_1		32

/* ISR status bits (4.1.4.5): what an INTx interrupt was for. */
#define VIRTIO_ISR_QUEUE		0x1
#define VIRTIO_ISR_CONFIG		0x2

#define VIRTIO_MAX_QUEUES		8
/* Resets and reattaches of a device that keeps asking for one. */
#define VIRTIO_MAX_RECOVERIES		3

struct virtio_device;
struct virtqueue;

/*
 * What a transport provides. Config space offsets are relative to the
 * device-specific config structure. Every function runs in work context
 * except isr_ack, which the transport's interrupt handler calls.
 */
struct virtio_transport_ops {
	const char *name;	/* "modern", "legacy" (PCI), "modern mmio", ... */
	/* A virtio 1.x interface (modern PCI, mmio version 2): the device
	 * must offer VERSION_1 and the driver must accept it (6.1). */
	bool version_1;
	uint8_t (*get_status)(struct virtio_device *vd);
	/* Writing 0 starts a reset (virtio_attach waits for it). */
	void (*set_status)(struct virtio_device *vd, uint8_t status);
	uint64_t (*get_features)(struct virtio_device *vd);
	void (*set_features)(struct virtio_device *vd, uint64_t features);
	/* One le32 field of the device config, as a CPU value. */
	uint32_t (*config_read32)(struct virtio_device *vd, unsigned off);
	void (*config_write32)(struct virtio_device *vd, unsigned off, uint32_t v);
	/* Size of queue INDEX as the device sets it; 0 when it has none. */
	uint16_t (*queue_size)(struct virtio_device *vd, unsigned index);
	/* Tell the device where VQ's rings are and enable it; NULL or why not. */
	const char *(*queue_enable)(struct virtio_device *vd, struct virtqueue *vq);
	void (*queue_notify)(struct virtio_device *vd, struct virtqueue *vq);
	/* Read (and so clear) the ISR status: VIRTIO_ISR_* bits. */
	uint8_t (*isr_ack)(struct virtio_device *vd);
};

struct virtio_driver {
	const char *name;	/* console prefix: "balloon" */
	uint16_t device_type;	/* virtio device id: 5 for the balloon */
	/* Negotiate, set up queues, then virtio_device_ready(); return NULL
	 * or a reason for "NAME: cannot attach: REASON". */
	const char *(*probe)(struct virtio_device *vd);
	/* Bytes of device-specific config the driver reads and writes;
	 * virtio_attach refuses a device whose transport reaches fewer. */
	uint32_t config_size;
	/* The device changed its config space (work context). */
	void (*config_changed)(struct virtio_device *vd);
	/* The device is lost (it asked for a reset, 2.1, or broke the queue
	 * protocol): stop using it. RESET: the device has been reset and
	 * touches no buffer any more, so every page given to it is the
	 * driver's again; else (the reset failed) they may never be. Work
	 * context; no other callback runs for this session afterwards. When
	 * the device asked for a reset, probe runs again next. */
	void (*device_lost)(struct virtio_device *vd, bool reset);
	/* Devices it can drive at once; 0 for any number. virtio_attach
	 * refuses more, without touching them. */
	unsigned max_devices;
	unsigned found;		/* devices of this type seen (transports write) */
	unsigned attached;	/* devices attached (virtio_attach writes) */
};

typedef void (*virtqueue_callback)(struct virtqueue *vq);

struct virtio_device {
	const struct virtio_transport_ops *ops;
	void *transport;		/* the transport's own state */
	struct virtio_driver *driver;
	void *priv;			/* the driver's state */
	const char *broken;		/* why it broke the queue protocol, or NULL */
	unsigned recoveries;		/* resets after DEVICE_NEEDS_RESET */
	uint64_t features;		/* negotiated (driver writes once) */
	uint32_t config_len;		/* device config bytes (transport sets) */
	struct virtqueue *vqs[VIRTIO_MAX_QUEUES];
	struct work config_work;	/* queued by the interrupt handler */
	struct work queue_work;		/* queued by the interrupt handler */
};

static inline bool virtio_has_feature(const struct virtio_device *vd, unsigned bit)
{
	return (vd->features >> bit) & 1;
}

/* Register a device driver; the transports probe for its device type. */
void virtio_register_driver(struct virtio_driver *drv);
/* The driver for DEVICE_TYPE, or NULL. */
struct virtio_driver *virtio_find_driver(uint16_t device_type);
/*
 * A transport found a device for DRV: true if DRV can take one more.
 * Else logs "NAME: cannot attach: ..." and the transport must leave the
 * device (and its interrupt line) alone: it may be one DRV drives
 * already, seen twice (two virtio_mmio.device= entries for one window).
 */
bool virtio_driver_has_room(const struct virtio_driver *drv);
/*
 * Called by a transport that found a device of DRV's type and has filled
 * in VD's ops, transport state and config_len: refuse it without
 * touching it unless virtio_driver_has_room(DRV), else reset, ACKNOWLEDGE,
 * DRIVER, check the config space is large enough, then DRV->probe. On
 * failure logs "NAME: cannot attach: REASON", marks the
 * device FAILED and returns false.
 */
bool virtio_attach(struct virtio_device *vd, struct virtio_driver *drv);
/* The device broke the queue protocol (WHY, a constant string): stop
 * using it; from work context, reset it and take everything back
 * (device_lost), then leave it FAILED. Safe in any context but IRQs. */
void virtio_device_broken(struct virtio_device *vd, const char *why);
/* Interrupt context: the transport saw ISR bits ISR; defer the work. */
void virtio_interrupt(struct virtio_device *vd, uint8_t isr);

/*
 * Feature negotiation (3.1.1 steps 4-6): accept WANTED & offered (plus
 * VERSION_1 when offered, which a virtio 1.x interface must), write
 * them, and on a VERSION_1 device set FEATURES_OK and check the device
 * kept it. NULL or why it failed.
 */
const char *virtio_negotiate(struct virtio_device *vd, uint64_t wanted);
/* 3.1.1 step 8: the driver is live. */
void virtio_device_ready(struct virtio_device *vd);

static inline uint32_t virtio_config_read32(struct virtio_device *vd, unsigned off)
{
	return vd->ops->config_read32(vd, off);
}
static inline void virtio_config_write32(struct virtio_device *vd, unsigned off,
					 uint32_t v)
{
	vd->ops->config_write32(vd, off, v);
}

/*
 * Split virtqueues (2.7), kernel/virtio/virtqueue.c. The driver
 * adds single-buffer descriptors, publishes them all with one kick, and
 * collects them back from the used ring; each buffer carries a token
 * that comes back with it.
 */
struct virtqueue {
	struct virtio_device *vd;
	uint16_t index;			/* queue number on the device */
	uint16_t size;			/* entries, a power of 2 */
	uint16_t num_free;		/* descriptors not in flight */
	uint16_t free_head;		/* first free descriptor */
	uint16_t avail_idx;		/* next avail slot (published on kick) */
	uint16_t last_used;		/* next used slot to collect */
	struct vring_desc *desc;	/* descriptor table */
	struct vring_avail *avail;	/* driver area */
	struct vring_used *used;	/* device area */
	paddr_t ring_phys;		/* descriptor table, then the rest */
	void **tokens;			/* per head descriptor */
	virtqueue_callback callback;	/* used buffers may be ready */
	void *priv;
	uint16_t notify_off;		/* modern transport: notify offset */
};

/* Allocate and enable queue INDEX; CB runs in work context after a queue
 * interrupt. NULL with *WHY set when it cannot. */
struct virtqueue *virtqueue_create(struct virtio_device *vd, unsigned index,
				   virtqueue_callback cb, void *priv,
				   const char **why);
/* Queue one buffer (device-readable, or device-writable when WRITABLE)
 * with TOKEN (not NULL); not visible to the device before
 * virtqueue_kick(). False when full. */
bool virtqueue_add(struct virtqueue *vq, paddr_t buf, uint32_t len,
		   bool writable, void *token);
/* Publish everything added since the last kick and notify the device
 * unless it asked not to be. */
void virtqueue_kick(struct virtqueue *vq);
/* The token of the next buffer the device is done with, or NULL. (The
 * balloon device writes no data into any buffer, not even the
 * device-writable free page reports, so the length is not returned.) */
void *virtqueue_get_used(struct virtqueue *vq);

#endif
