/* SPDX-License-Identifier: MIT */
/*
 * pci.c - PCI configuration space through the legacy ports 0xCF8/0xCFC
 * (enough on pc and q35 for the first 256 bytes), bus enumeration behind
 * bridges, BAR decoding and the capability list.
 */
#include "kernel.h"
#include "init.h"
#include "io.h"
#include "pci.h"

#define PCI_CONFIG_ADDR		0xcf8
#define PCI_CONFIG_DATA		0xcfc

/* Configuration header offsets (PCI Local Bus spec 3.0, 6.1). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION		0x08
#define PCI_PROG_IF		0x09
#define PCI_SUBCLASS		0x0a
#define PCI_CLASS		0x0b
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SECONDARY_BUS	0x19	/* type 1 (bridge) header */
#define PCI_SUBSYS_VENDOR_ID	0x2c
#define PCI_SUBSYS_ID		0x2e
#define PCI_CAP_PTR		0x34

#define PCI_COMMAND_IO		0x0001
#define PCI_COMMAND_MEMORY	0x0002
#define PCI_COMMAND_MASTER	0x0004
#define PCI_STATUS_CAP_LIST	0x0010
#define PCI_HEADER_MULTIFUNC	0x80
#define PCI_HEADER_BRIDGE	0x01

#define PCI_BAR_IO		0x1
#define PCI_BAR_MEM_TYPE_64	0x4
#define PCI_BAR_MEM_TYPE_MASK	0x6

#define PCI_MAX_DEVICES		64
#define PCI_MAX_BUS_DEPTH	8	/* bridges behind bridges */

static struct pci_dev devices[PCI_MAX_DEVICES];
static int ndevices;

static void pci_select(const struct pci_dev *d, uint16_t off)
{
	outl(PCI_CONFIG_ADDR, 0x80000000u | (uint32_t)d->bus << 16 |
	     (uint32_t)d->slot << 11 | (uint32_t)d->func << 8 | (off & 0xfc));
}

uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
	pci_select(d, off);
	return inl(PCI_CONFIG_DATA);
}

uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
	pci_select(d, off);
	return inw(PCI_CONFIG_DATA + (off & 2));
}

uint8_t pci_read8(const struct pci_dev *d, uint16_t off)
{
	pci_select(d, off);
	return inb(PCI_CONFIG_DATA + (off & 3));
}

void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v)
{
	pci_select(d, off);
	outl(PCI_CONFIG_DATA, v);
}

void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
	pci_select(d, off);
	outw(PCI_CONFIG_DATA + (off & 2), v);
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t cap_id, uint8_t from)
{
	uint8_t off;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	off = from ? pci_read8(d, from + 1) : pci_read8(d, PCI_CAP_PTR);
	/* 48 entries fit in the 192 bytes after the header: a longer list
	 * is a loop. The low two bits of a pointer are reserved. */
	for (int i = 0; i < 48 && (off &= 0xfc); i++) {
		if (pci_read8(d, off) == cap_id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

bool pci_get_bar(const struct pci_dev *d, int n, struct pci_bar *bar)
{
	uint16_t off = PCI_BAR0 + 4 * n, cmd;
	uint32_t lo, size_lo, hi = 0, size_hi = ~0u;
	bool is64;

	if (n < 0 || n > 5)
		return false;
	lo = pci_read32(d, off);
	is64 = !(lo & PCI_BAR_IO) &&
	       (lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 && n < 5;

	/* Size it the standard way (write all ones, read back the mask)
	 * with decoding off, so the device never answers at a bogus address. */
	cmd = pci_read16(d, PCI_COMMAND);
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	pci_write32(d, off, ~0u);
	size_lo = pci_read32(d, off);
	pci_write32(d, off, lo);
	if (is64) {
		hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, ~0u);
		size_hi = pci_read32(d, off + 4);
		pci_write32(d, off + 4, hi);
	}
	pci_write16(d, PCI_COMMAND, cmd);

	if (lo & PCI_BAR_IO) {
		bar->is_io = true;
		bar->addr = lo & ~3u;
		bar->size = (uint16_t)(~(size_lo & ~3u) + 1);
	} else {
		uint64_t mask = (uint64_t)size_hi << 32 | (size_lo & ~0xfu);

		bar->is_io = false;
		bar->addr = (uint64_t)hi << 32 | (lo & ~0xfu);
		bar->size = ~mask + 1;
		if (!is64)
			bar->size &= 0xffffffffu;
	}
	if (!size_lo || !bar->size || !bar->addr)
		return false;	/* not implemented, or not assigned by firmware */
	if (!bar->is_io)
		paging_map_mmio(bar->addr, bar->size);
	return true;
}

void pci_enable(const struct pci_dev *d)
{
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_IO |
		    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static void pci_scan_bus(uint8_t bus, int depth);

static void pci_add_function(uint8_t bus, uint8_t slot, uint8_t func, int depth)
{
	struct pci_dev probe = { .bus = bus, .slot = slot, .func = func };
	struct pci_dev *d;

	if (pci_read16(&probe, PCI_VENDOR_ID) == 0xffff)
		return;
	if (ndevices == PCI_MAX_DEVICES) {
		printk("pci: more than %d functions, ignoring %02x:%02x.%x\n",
		       PCI_MAX_DEVICES, bus, slot, func);
		return;
	}
	d = &devices[ndevices++];
	*d = probe;
	d->vendor_id = pci_read16(d, PCI_VENDOR_ID);
	d->device_id = pci_read16(d, PCI_DEVICE_ID);
	d->revision = pci_read8(d, PCI_REVISION);
	d->prog_if = pci_read8(d, PCI_PROG_IF);
	d->subclass = pci_read8(d, PCI_SUBCLASS);
	d->class_code = pci_read8(d, PCI_CLASS);
	printk("pci: %02x:%02x.%x %04x:%04x class %02x.%02x.%02x\n", bus, slot,
	       func, d->vendor_id, d->device_id, d->class_code, d->subclass,
	       d->prog_if);

	if ((pci_read8(d, PCI_HEADER_TYPE) & 0x7f) == PCI_HEADER_BRIDGE) {
		uint8_t secondary = pci_read8(d, PCI_SECONDARY_BUS);

		if (secondary > bus && depth < PCI_MAX_BUS_DEPTH)
			pci_scan_bus(secondary, depth + 1);
		return;
	}
	d->subsys_vendor_id = pci_read16(d, PCI_SUBSYS_VENDOR_ID);
	d->subsys_id = pci_read16(d, PCI_SUBSYS_ID);
}

static void pci_scan_bus(uint8_t bus, int depth)
{
	for (uint8_t slot = 0; slot < 32; slot++) {
		struct pci_dev f0 = { .bus = bus, .slot = slot };
		int nfuncs;

		if (pci_read16(&f0, PCI_VENDOR_ID) == 0xffff)
			continue;
		nfuncs = pci_read8(&f0, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNC ? 8 : 1;
		for (uint8_t func = 0; func < nfuncs; func++)
			pci_add_function(bus, slot, func, depth);
	}
}

void pci_init(void)
{
	/* Firmware (SeaBIOS) has numbered the buses and assigned BARs;
	 * follow its bridges from bus 0. */
	pci_scan_bus(0, 0);
}

void pci_probe_driver(const struct pci_driver *drv)
{
	for (int i = 0; i < ndevices; i++)
		if (drv->match(&devices[i]))
			drv->probe(&devices[i]);
}
