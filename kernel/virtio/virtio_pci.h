/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci.h - state shared by the virtio-pci probe code (virtio_pci.c)
 * and its two register interfaces (virtio_pci_modern.c, _legacy.c).
 */
#ifndef KERNEL_VIRTIO_PCI_H
#define KERNEL_VIRTIO_PCI_H

#include "io.h"
#include "pci.h"
#include "virtio.h"

/* A register block in memory or I/O space (modern capabilities may point
 * at either; the legacy interface is always I/O). */
struct virtio_pci_region {
	uint64_t base;		/* physical address or port */
	uint32_t len;		/* bytes */
	bool is_io;
};

static inline uint8_t vp_read8(const struct virtio_pci_region *r, unsigned off)
{
	return r->is_io ? inb(r->base + off) : mmio_read8(r->base + off);
}
static inline uint16_t vp_read16(const struct virtio_pci_region *r, unsigned off)
{
	return r->is_io ? inw(r->base + off) : mmio_read16(r->base + off);
}
static inline uint32_t vp_read32(const struct virtio_pci_region *r, unsigned off)
{
	return r->is_io ? inl(r->base + off) : mmio_read32(r->base + off);
}
static inline void vp_write8(const struct virtio_pci_region *r, unsigned off, uint8_t v)
{
	if (r->is_io)
		outb(r->base + off, v);
	else
		mmio_write8(r->base + off, v);
}
static inline void vp_write16(const struct virtio_pci_region *r, unsigned off, uint16_t v)
{
	if (r->is_io)
		outw(r->base + off, v);
	else
		mmio_write16(r->base + off, v);
}
static inline void vp_write32(const struct virtio_pci_region *r, unsigned off, uint32_t v)
{
	if (r->is_io)
		outl(r->base + off, v);
	else
		mmio_write32(r->base + off, v);
}

struct virtio_pci_dev {
	struct virtio_device vd;	/* first, so &vd converts back */
	struct pci_dev pci;
	/* modern interface (4.1.4): one region per capability type */
	struct virtio_pci_region common, notify, isr, device;
	uint32_t notify_multiplier;	/* bytes per queue_notify_off */
	/* legacy interface (4.1.4.10): I/O BAR0 */
	struct virtio_pci_region legacy;
};

static inline struct virtio_pci_dev *to_vp(struct virtio_device *vd)
{
	return (struct virtio_pci_dev *)vd;
}

/* Find and map the interface, fill in vp->vd.ops; NULL or why not. */
const char *virtio_pci_modern_setup(struct virtio_pci_dev *vp);
const char *virtio_pci_legacy_setup(struct virtio_pci_dev *vp);

#endif
