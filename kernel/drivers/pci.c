/* SPDX-License-Identifier: MIT */
/*
 * pci.c - PCI configuration space through the legacy ports 0xCF8/0xCFC
 * (enough on pc and q35 for the first 256 bytes), bus enumeration behind
 * bridges, BAR decoding, the capability list, and MSI-X routing.
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

/* MSI-X capability (PCI 3.0, 6.8.2). */
#define PCI_CAP_ID_MSIX		0x11
#define MSIX_CTRL		2	/* message control, from the cap */
#define MSIX_TABLE		4	/* table offset | BAR indicator */
#define MSIX_CTRL_SIZE_MASK	0x07ff	/* table size - 1 */
#define MSIX_CTRL_MASKALL	0x4000
#define MSIX_CTRL_ENABLE	0x8000
#define MSIX_ENTRY_SIZE		16
#define MSIX_ENTRY_ADDR_LO	0
#define MSIX_ENTRY_ADDR_HI	4
#define MSIX_ENTRY_DATA		8
#define MSIX_ENTRY_CTRL		12
#define MSIX_ENTRY_MASKED	1
#define MSI_ADDR_BASE		0xfee00000u	/* x86: LAPIC, dest ID in 19:12 */

#define PCI_MAX_DEVICES		64
#define PCI_MAX_DRIVERS		8
#define PCI_MAX_BUS_DEPTH	8	/* bridges behind bridges */

static struct pci_dev devices[PCI_MAX_DEVICES];
static int ndevices;
static const struct pci_driver *drivers[PCI_MAX_DRIVERS];
static int ndrivers;

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

void pci_write8(const struct pci_dev *d, uint16_t off, uint8_t v)
{
	pci_select(d, off);
	outb(PCI_CONFIG_DATA + (off & 3), v);
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

/* A BAR's base address without sizing it (no config writes). */
static uint64_t pci_bar_addr(const struct pci_dev *d, int n)
{
	uint32_t lo = pci_read32(d, PCI_BAR0 + 4 * n);

	if (lo & PCI_BAR_IO)
		return lo & ~3u;
	if ((lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 && n < 5)
		return (lo & ~0xfu) | (uint64_t)pci_read32(d, PCI_BAR0 + 4 * n + 4) << 32;
	return lo & ~0xfu;
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

/* Address of the MSI-X table, or 0; *SIZE gets the number of entries. */
static uint64_t msix_table(const struct pci_dev *d, uint8_t cap, unsigned *size)
{
	uint32_t table = pci_read32(d, cap + MSIX_TABLE);

	*size = (pci_read16(d, cap + MSIX_CTRL) & MSIX_CTRL_SIZE_MASK) + 1;
	return pci_bar_addr(d, table & 7) + (table & ~7u);
}

int pci_msix_enable(const struct pci_dev *d)
{
	uint8_t cap = pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
	uint32_t bir;
	struct pci_bar bar;
	uint16_t ctrl;
	uint64_t table;
	unsigned size;

	if (!cap)
		return -1;
	bir = pci_read32(d, cap + MSIX_TABLE) & 7;
	if (!pci_get_bar(d, bir, &bar) || bar.is_io)	/* maps the table */
		return -1;
	pci_enable(d);	/* table access needs memory decoding, MSI bus mastering */

	/* Enable with the whole function masked, mask every entry, then lift
	 * the function mask: no entry can fire before it is routed. */
	ctrl = pci_read16(d, cap + MSIX_CTRL);
	pci_write16(d, cap + MSIX_CTRL, ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	table = msix_table(d, cap, &size);
	for (unsigned i = 0; i < size; i++)
		mmio_write32(table + i * MSIX_ENTRY_SIZE + MSIX_ENTRY_CTRL,
			     MSIX_ENTRY_MASKED);
	pci_write16(d, cap + MSIX_CTRL, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASKALL);
	return size;
}

int pci_msix_route(const struct pci_dev *d, unsigned entry, uint8_t vector)
{
	uint8_t cap = pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
	uint64_t table, e;
	unsigned size;

	if (!cap)
		return -1;
	table = msix_table(d, cap, &size);
	if (entry >= size)
		return -1;
	e = table + entry * MSIX_ENTRY_SIZE;
	/* An entry is rewritten only while masked (PCI 3.0, 6.8.2.9). */
	mmio_write32(e + MSIX_ENTRY_CTRL, MSIX_ENTRY_MASKED);
	/* Fixed delivery, edge, physical destination = our LAPIC. */
	mmio_write32(e + MSIX_ENTRY_ADDR_LO, MSI_ADDR_BASE | lapic_id() << 12);
	mmio_write32(e + MSIX_ENTRY_ADDR_HI, 0);
	mmio_write32(e + MSIX_ENTRY_DATA, vector);
	mmio_write32(e + MSIX_ENTRY_CTRL, 0);
	return 0;
}

void pci_register_driver(const struct pci_driver *drv)
{
	if (ndrivers == PCI_MAX_DRIVERS)
		panic("pci: too many drivers");
	drivers[ndrivers++] = drv;
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

void pci_probe_all(void)
{
	int n;

	/* Firmware (SeaBIOS) has numbered the buses and assigned BARs;
	 * follow its bridges from bus 0. */
	pci_scan_bus(0, 0);
	n = ndevices;	/* bridges were scanned recursively: all are in */
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < ndrivers; j++) {
			if (!drivers[j]->match(&devices[i]))
				continue;
			drivers[j]->probe(&devices[i]);
			break;
		}
	}
}
