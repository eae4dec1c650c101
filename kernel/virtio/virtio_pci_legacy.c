/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci_legacy.c - the legacy (virtio 0.9.5) PCI interface of
 * transitional devices (4.1.4.10): fixed registers in I/O BAR0.
 */
#include "virtio_pci.h"

/* 4.1.4.10 "Legacy Interfaces: A Note on PCI Device Layout" */
#define VPL_HOST_FEATURES	0x00	/* 32, device features 0..31 */
#define VPL_GUEST_FEATURES	0x04	/* 32 */
#define VPL_QUEUE_PFN		0x08	/* 32, queue address >> 12 */
#define VPL_QUEUE_SIZE		0x0c	/* 16, read-only */
#define VPL_QUEUE_SELECT	0x0e	/* 16 */
#define VPL_QUEUE_NOTIFY	0x10	/* 16 */
#define VPL_STATUS		0x12	/* 8 */
#define VPL_ISR			0x13	/* 8 */
/*
 * The device-specific config follows at 0x14, or at 0x18 when MSI-X is
 * enabled (two more 16-bit vector registers come first). We use INTx, so
 * MSI-X stays disabled and the config is at 0x14.
 */
#define VPL_CONFIG		0x14
#define VPL_QUEUE_ADDR_SHIFT	12

static uint8_t legacy_get_status(struct virtio_device *vd)
{
	return vp_read8(&to_vp(vd)->legacy, VPL_STATUS);
}

static void legacy_set_status(struct virtio_device *vd, uint8_t status)
{
	vp_write8(&to_vp(vd)->legacy, VPL_STATUS, status);
}

static uint64_t legacy_get_features(struct virtio_device *vd)
{
	/* Legacy devices have only 32 feature bits (so never VERSION_1). */
	return vp_read32(&to_vp(vd)->legacy, VPL_HOST_FEATURES);
}

static void legacy_set_features(struct virtio_device *vd, uint64_t features)
{
	vp_write32(&to_vp(vd)->legacy, VPL_GUEST_FEATURES, (uint32_t)features);
}

/*
 * Legacy config space is in the guest's native byte order for most
 * devices, but the balloon's is little-endian (5.5.4 legacy note). On x86
 * both are the same, so a plain 32-bit port access is right for either.
 */
static uint32_t legacy_config_read32(struct virtio_device *vd, unsigned off)
{
	return vp_read32(&to_vp(vd)->legacy, VPL_CONFIG + off);
}

static void legacy_config_write32(struct virtio_device *vd, unsigned off, uint32_t v)
{
	vp_write32(&to_vp(vd)->legacy, VPL_CONFIG + off, v);
}

static uint16_t legacy_queue_size(struct virtio_device *vd, unsigned index)
{
	struct virtio_pci_dev *vp = to_vp(vd);

	vp_write16(&vp->legacy, VPL_QUEUE_SELECT, index);
	return vp_read16(&vp->legacy, VPL_QUEUE_SIZE);
}

static const char *legacy_queue_enable(struct virtio_device *vd, struct virtqueue *vq)
{
	struct virtio_pci_dev *vp = to_vp(vd);
	uint64_t pfn = vq->ring_phys >> VPL_QUEUE_ADDR_SHIFT;

	/* The device computes every ring address from this one 32-bit
	 * page number (2.7.2 legacy layout; virtqueue.c allocates it so). */
	if (pfn >> 32)
		return "virtqueue above the legacy interface's 16 TiB limit";
	vp_write16(&vp->legacy, VPL_QUEUE_SELECT, vq->index);
	vp_write32(&vp->legacy, VPL_QUEUE_PFN, (uint32_t)pfn);
	return NULL;
}

static void legacy_queue_notify(struct virtio_device *vd, struct virtqueue *vq)
{
	vp_write16(&to_vp(vd)->legacy, VPL_QUEUE_NOTIFY, vq->index);
}

static uint8_t legacy_isr_ack(struct virtio_device *vd)
{
	return vp_read8(&to_vp(vd)->legacy, VPL_ISR);
}

static const struct virtio_transport_ops legacy_ops = {
	.name = "legacy",
	.get_status = legacy_get_status,
	.set_status = legacy_set_status,
	.get_features = legacy_get_features,
	.set_features = legacy_set_features,
	.config_read32 = legacy_config_read32,
	.config_write32 = legacy_config_write32,
	.queue_size = legacy_queue_size,
	.queue_enable = legacy_queue_enable,
	.queue_notify = legacy_queue_notify,
	.isr_ack = legacy_isr_ack,
};

const char *virtio_pci_legacy_setup(struct virtio_pci_dev *vp)
{
	struct pci_bar bar;

	if (!pci_get_bar(&vp->pci, 0, &bar) || !bar.is_io)
		return "no legacy I/O BAR0";
	if (bar.size < VPL_CONFIG)
		return "legacy I/O BAR0 too small";
	vp->legacy.base = bar.addr;
	vp->legacy.len = bar.size;
	vp->legacy.is_io = true;
	vp->vd.ops = &legacy_ops;
	/* The device config is whatever of BAR0 follows the registers. */
	vp->vd.config_len = bar.size - VPL_CONFIG;
	return NULL;
}
