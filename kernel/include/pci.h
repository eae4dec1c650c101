/* SPDX-License-Identifier: MIT */
/*
 * pci.h - PCI configuration access, BARs and capabilities
 * (kernel/bus/pci.c). Config space through ports 0xCF8/0xCFC.
 */
#ifndef KERNEL_PCI_H
#define KERNEL_PCI_H

#include "kernel.h"

struct pci_dev {
	uint8_t bus, slot, func;
	uint16_t vendor_id, device_id;
	uint16_t subsys_vendor_id, subsys_id;
	uint8_t class_code, subclass, prog_if, revision;
};

uint8_t pci_read8(const struct pci_dev *d, uint16_t off);
uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);

/* Offset of the first capability with CAP_ID after the capability at
 * offset FROM (0: from the start of the list), or 0 when there is none;
 * pass the previous result as FROM to iterate. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t cap_id, uint8_t from);

struct pci_bar {
	uint64_t addr;	/* physical address (memory) or port (I/O) */
	uint64_t size;
	bool is_io;
};
/* Decode BAR n (0..5); false when it is not implemented. Memory BARs are
 * identity-mapped, uncached. */
bool pci_get_bar(const struct pci_dev *d, int n, struct pci_bar *bar);
/* Enable memory and I/O decoding and bus mastering. */
void pci_enable(const struct pci_dev *d);

/* pci_init() (init.h) enumerates bus 0 and the buses behind its bridges
 * once at boot; pci_probe_driver() then offers every function found to
 * DRV, which probes those it matches. */
struct pci_driver {
	const char *name;
	/* true when this driver takes the device */
	bool (*match)(const struct pci_dev *d);
	/* attach; returns 0 or a negative value after logging why it failed */
	int (*probe)(struct pci_dev *d);
};
void pci_probe_driver(const struct pci_driver *drv);

#endif
