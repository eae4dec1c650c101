/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci_modern.c - the virtio 1.x PCI interface (4.1.4):
 * vendor capabilities locate the common config, notify, ISR and device
 * config structures inside the device's BARs.
 */
#include "virtio_pci.h"

#define PCI_CAP_ID_VNDR		0x09

/* struct virtio_pci_cap (4.1.4): offsets within the capability */
#define VP_CAP_CFG_TYPE		3
#define VP_CAP_BAR		4
#define VP_CAP_OFFSET		8
#define VP_CAP_LENGTH		12
#define VP_CAP_NOTIFY_MULT	16	/* struct virtio_pci_notify_cap only */

#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4

/* struct virtio_pci_common_cfg (4.1.4.3), all little-endian */
#define VP_DEVICE_FEATURE_SELECT	0x00	/* le32 */
#define VP_DEVICE_FEATURE		0x04	/* le32 */
#define VP_DRIVER_FEATURE_SELECT	0x08	/* le32 */
#define VP_DRIVER_FEATURE		0x0c	/* le32 */
#define VP_NUM_QUEUES			0x12	/* le16 */
#define VP_DEVICE_STATUS		0x14	/* u8 */
#define VP_QUEUE_SELECT			0x16	/* le16 */
#define VP_QUEUE_SIZE			0x18	/* le16 */
#define VP_QUEUE_ENABLE			0x1c	/* le16 */
#define VP_QUEUE_NOTIFY_OFF		0x1e	/* le16 */
#define VP_QUEUE_DESC			0x20	/* le64 */
#define VP_QUEUE_DRIVER			0x28	/* le64 */
#define VP_QUEUE_DEVICE			0x30	/* le64 */
#define VP_COMMON_CFG_LEN		0x38

static uint8_t modern_get_status(struct virtio_device *vd)
{
	return vp_read8(&to_vp(vd)->common, VP_DEVICE_STATUS);
}

static void modern_set_status(struct virtio_device *vd, uint8_t status)
{
	vp_write8(&to_vp(vd)->common, VP_DEVICE_STATUS, status);
}

static uint64_t modern_get_features(struct virtio_device *vd)
{
	struct virtio_pci_dev *vp = to_vp(vd);
	uint64_t f;

	vp_write32(&vp->common, VP_DEVICE_FEATURE_SELECT, 0);
	f = vp_read32(&vp->common, VP_DEVICE_FEATURE);
	vp_write32(&vp->common, VP_DEVICE_FEATURE_SELECT, 1);
	f |= (uint64_t)vp_read32(&vp->common, VP_DEVICE_FEATURE) << 32;
	return f;
}

static void modern_set_features(struct virtio_device *vd, uint64_t features)
{
	struct virtio_pci_dev *vp = to_vp(vd);

	vp_write32(&vp->common, VP_DRIVER_FEATURE_SELECT, 0);
	vp_write32(&vp->common, VP_DRIVER_FEATURE, (uint32_t)features);
	vp_write32(&vp->common, VP_DRIVER_FEATURE_SELECT, 1);
	vp_write32(&vp->common, VP_DRIVER_FEATURE, (uint32_t)(features >> 32));
}

static uint32_t modern_config_read32(struct virtio_device *vd, unsigned off)
{
	return vp_read32(&to_vp(vd)->device, off);
}

static void modern_config_write32(struct virtio_device *vd, unsigned off, uint32_t v)
{
	vp_write32(&to_vp(vd)->device, off, v);
}

static uint16_t modern_queue_size(struct virtio_device *vd, unsigned index)
{
	struct virtio_pci_dev *vp = to_vp(vd);

	if (index >= vp_read16(&vp->common, VP_NUM_QUEUES))
		return 0;
	vp_write16(&vp->common, VP_QUEUE_SELECT, index);
	return vp_read16(&vp->common, VP_QUEUE_SIZE);
}

/* 64-bit fields as two 32-bit writes, low half first: QEMU (and 4.1.3.1)
 * only promise 32-bit access to the common config. */
static void write_le64(const struct virtio_pci_region *r, unsigned off, uint64_t v)
{
	vp_write32(r, off, (uint32_t)v);
	vp_write32(r, off + 4, (uint32_t)(v >> 32));
}

static const char *modern_queue_enable(struct virtio_device *vd, struct virtqueue *vq)
{
	struct virtio_pci_dev *vp = to_vp(vd);
	uint64_t notify;

	/* 4.1.5.1.3: select, size, the three areas, then enable. */
	vp_write16(&vp->common, VP_QUEUE_SELECT, vq->index);
	vp_write16(&vp->common, VP_QUEUE_SIZE, vq->size);
	write_le64(&vp->common, VP_QUEUE_DESC, virt_to_phys(vq->desc));
	write_le64(&vp->common, VP_QUEUE_DRIVER, virt_to_phys(vq->avail));
	write_le64(&vp->common, VP_QUEUE_DEVICE, virt_to_phys(vq->used));
	vq->notify_off = vp_read16(&vp->common, VP_QUEUE_NOTIFY_OFF);
	/* 4.1.4.4: the notify address is cap.offset +
	 * queue_notify_off * notify_off_multiplier; it must lie inside
	 * the notify structure. */
	notify = (uint64_t)vq->notify_off * vp->notify_multiplier;
	if (notify + 2 > vp->notify.len)
		return "queue notify address outside the notify capability";
	vp_write16(&vp->common, VP_QUEUE_ENABLE, 1);
	return NULL;
}

static void modern_queue_notify(struct virtio_device *vd, struct virtqueue *vq)
{
	struct virtio_pci_dev *vp = to_vp(vd);

	vp_write16(&vp->notify, vq->notify_off * vp->notify_multiplier, vq->index);
}

static uint8_t modern_isr_ack(struct virtio_device *vd)
{
	return vp_read8(&to_vp(vd)->isr, 0);
}

static const struct virtio_transport_ops modern_ops = {
	.name = "modern",
	.version_1 = true,
	.get_status = modern_get_status,
	.set_status = modern_set_status,
	.get_features = modern_get_features,
	.set_features = modern_set_features,
	.config_read32 = modern_config_read32,
	.config_write32 = modern_config_write32,
	.queue_size = modern_queue_size,
	.queue_enable = modern_queue_enable,
	.queue_notify = modern_queue_notify,
	.isr_ack = modern_isr_ack,
};

/* Map the structure that the capability at CAP points to into R; false
 * when the driver cannot use it. */
static bool map_cap(struct virtio_pci_dev *vp, uint8_t cap,
		    struct virtio_pci_region *r)
{
	uint8_t bar_index = pci_read8(&vp->pci, cap + VP_CAP_BAR);
	uint32_t offset = pci_read32(&vp->pci, cap + VP_CAP_OFFSET);
	uint32_t length = pci_read32(&vp->pci, cap + VP_CAP_LENGTH);
	struct pci_bar bar;

	/* 4.1.4: bar values above 5 are reserved and the driver MUST ignore
	 * such a capability; so is one whose BAR firmware left unassigned
	 * or that reaches past its BAR. */
	if (bar_index > 5 || !pci_get_bar(&vp->pci, bar_index, &bar))
		return false;
	if ((uint64_t)offset + length > bar.size)
		return false;
	r->base = bar.addr + offset;
	r->len = length;
	r->is_io = bar.is_io;
	return true;
}

const char *virtio_pci_modern_setup(struct virtio_pci_dev *vp)
{
	static const char *const missing[VIRTIO_PCI_CAP_DEVICE_CFG + 1] = {
		[VIRTIO_PCI_CAP_COMMON_CFG] = "no usable common config capability",
		[VIRTIO_PCI_CAP_NOTIFY_CFG] = "no usable notify capability",
		[VIRTIO_PCI_CAP_ISR_CFG] = "no usable ISR capability",
		[VIRTIO_PCI_CAP_DEVICE_CFG] = "no usable device config capability",
	};
	bool have[VIRTIO_PCI_CAP_DEVICE_CFG + 1] = { false };
	struct virtio_pci_region *regions[VIRTIO_PCI_CAP_DEVICE_CFG + 1] = {
		[VIRTIO_PCI_CAP_COMMON_CFG] = &vp->common,
		[VIRTIO_PCI_CAP_NOTIFY_CFG] = &vp->notify,
		[VIRTIO_PCI_CAP_ISR_CFG] = &vp->isr,
		[VIRTIO_PCI_CAP_DEVICE_CFG] = &vp->device,
	};
	uint8_t cap = pci_find_cap(&vp->pci, PCI_CAP_ID_VNDR, 0);
	bool any = false;
	unsigned t;

	for (; cap; cap = pci_find_cap(&vp->pci, PCI_CAP_ID_VNDR, cap)) {
		uint8_t type = pci_read8(&vp->pci, cap + VP_CAP_CFG_TYPE);

		/* 4.1.4: skip types we do not use (PCI_CFG access, shared
		 * memory, vendor data, reserved); of each type we use, take
		 * the first instance we can map (the device lists them best
		 * first). */
		if (type < VIRTIO_PCI_CAP_COMMON_CFG || type > VIRTIO_PCI_CAP_DEVICE_CFG)
			continue;
		any = true;
		if (have[type] || !map_cap(vp, cap, regions[type]))
			continue;
		if (type == VIRTIO_PCI_CAP_COMMON_CFG && vp->common.len < VP_COMMON_CFG_LEN)
			continue;
		if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
			vp->notify_multiplier =
				pci_read32(&vp->pci, cap + VP_CAP_NOTIFY_MULT);
		have[type] = true;
	}

	if (!any)
		return "no modern virtio capabilities";
	for (t = VIRTIO_PCI_CAP_COMMON_CFG; t <= VIRTIO_PCI_CAP_DEVICE_CFG; t++)
		if (!have[t])
			return missing[t];
	vp->vd.ops = &modern_ops;
	vp->vd.config_len = vp->device.len;
	return NULL;
}
