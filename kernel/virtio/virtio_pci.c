/* SPDX-License-Identifier: MIT */
/*
 * virtio_pci.c - the virtio-pci transport's PCI driver (4.1):
 * matches virtio functions whose device type has a driver, picks the
 * modern interface when offered, else the legacy one, wires up the
 * interrupt, and hands over to the transport-neutral virtio_attach().
 */
#include "irq.h"
#include "virtio_pci.h"
#include "init.h"

#define VIRTIO_PCI_VENDOR		0x1af4
/* 4.1.2: 0x1000-0x103f transitional (device type in the subsystem id),
 * 0x1040 + type for modern-only devices. */
#define VIRTIO_PCI_TRANSITIONAL_FIRST	0x1000
#define VIRTIO_PCI_TRANSITIONAL_LAST	0x103f
#define VIRTIO_PCI_MODERN_FIRST		0x1040
#define VIRTIO_PCI_MODERN_LAST		0x107f

#define PCI_INTERRUPT_LINE		0x3c
#define PCI_INTERRUPT_PIN		0x3d
#define IOAPIC_INPUTS			24

#define MAX_VIRTIO_PCI_DEVICES		4

static struct virtio_pci_dev devices[MAX_VIRTIO_PCI_DEVICES];
static unsigned ndevices;

static bool is_transitional(const struct pci_dev *d)
{
	return d->device_id >= VIRTIO_PCI_TRANSITIONAL_FIRST &&
	       d->device_id <= VIRTIO_PCI_TRANSITIONAL_LAST;
}

/* The virtio device type (5.x), or 0 (reserved) when D is not virtio. */
static uint16_t virtio_pci_device_type(const struct pci_dev *d)
{
	if (d->vendor_id != VIRTIO_PCI_VENDOR)
		return 0;
	if (is_transitional(d))
		return d->subsys_id;
	if (d->device_id >= VIRTIO_PCI_MODERN_FIRST &&
	    d->device_id <= VIRTIO_PCI_MODERN_LAST)
		return d->device_id - VIRTIO_PCI_MODERN_FIRST;
	return 0;
}

static bool virtio_pci_match(const struct pci_dev *d)
{
	uint16_t type = virtio_pci_device_type(d);

	return type && virtio_find_driver(type);
}

/*
 * INTx handler. Reading the ISR both tells us why and makes the device
 * drop its level-triggered line (4.1.4.5), which must happen before the
 * EOI re-arms the IOAPIC input.
 */
static void virtio_pci_intx(void *arg)
{
	struct virtio_device *vd = arg;

	virtio_interrupt(vd, vd->ops->isr_ack(vd));
}

/*
 * QEMU's virtio-balloon-pci has no MSI-X capability, so interrupts come
 * as INTx: firmware (SeaBIOS, which runs before our PVH entry) routed the
 * pin and wrote the IOAPIC input number to the Interrupt Line register.
 */
static const char *virtio_pci_setup_intx(struct virtio_pci_dev *vp)
{
	uint8_t pin = pci_read8(&vp->pci, PCI_INTERRUPT_PIN);
	uint8_t line = pci_read8(&vp->pci, PCI_INTERRUPT_LINE);
	int vector;

	if (pin == 0)
		return "device has no interrupt pin";
	if (line == 0 || line >= IOAPIC_INPUTS)
		return "firmware assigned no interrupt line";
	vector = irq_alloc_vector(virtio_pci_intx, &vp->vd);
	if (vector < 0)
		return "no free interrupt vector";
	ioapic_route_pci_irq(line, (uint8_t)vector);
	return NULL;
}

static int virtio_pci_probe(struct pci_dev *d)
{
	struct virtio_driver *drv = virtio_find_driver(virtio_pci_device_type(d));
	struct virtio_pci_dev *vp;
	const char *why;

	drv->found++;
	if (!virtio_driver_has_room(drv))
		return -1;
	if (ndevices == MAX_VIRTIO_PCI_DEVICES) {
		printk("%s: cannot attach: too many virtio-pci devices\n", drv->name);
		return -1;
	}
	vp = &devices[ndevices++];
	vp->pci = *d;
	pci_enable(d);

	/* 4.1.2: prefer the modern interface when the device has both;
	 * fall back to legacy only on a transitional device. */
	why = virtio_pci_modern_setup(vp);
	if (why && is_transitional(d))
		why = virtio_pci_legacy_setup(vp);
	if (!why)
		why = virtio_pci_setup_intx(vp);
	if (why) {
		printk("%s: cannot attach: %s\n", drv->name, why);
		return -1;
	}
	return virtio_attach(&vp->vd, drv) ? 0 : -1;
}

static const struct pci_driver virtio_pci_driver = {
	.name = "virtio-pci",
	.match = virtio_pci_match,
	.probe = virtio_pci_probe,
};

void virtio_pci_probe_all(void)
{
	pci_probe_driver(&virtio_pci_driver);
}
