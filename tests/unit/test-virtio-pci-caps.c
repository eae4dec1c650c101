/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-pci-caps.c - host unit tests of the modern virtio-pci
 * capability walk (kernel/virtio/virtio_pci_modern.c, virtio 4.1.4):
 * which capability of each type is used, and which are ignored; and the
 * device config length both PCI interfaces report (legacy: what BAR0 has
 * after its registers). The PCI configuration space and the BARs are a
 * fake in this file.
 */
#include "config.h"

#include "tap.h"
#include "../../kernel/virtio/virtio_pci_modern.c"
#include "../../kernel/virtio/virtio_pci_legacy.c"

#define CAP_VNDR	0x09
#define STATUS_CAP_LIST	0x10

static uint8_t cfg[256];		/* the function's configuration space */
static uint8_t next_cap;		/* where the next capability goes */
static uint8_t *last_link;		/* the pointer that links it in */
static struct {
	uint64_t addr, size;
	bool assigned, is_io;
} bars[6];

uint8_t pci_read8(const struct pci_dev *d, uint16_t off)
{
	return cfg[off];
}

uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
	uint32_t v;

	memcpy(&v, &cfg[off], 4);
	return v;
}

/* Same contract as kernel/bus/pci.c: FROM 0 starts the list. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t cap_id, uint8_t from)
{
	uint8_t off = from ? cfg[from + 1] : cfg[0x34];

	if (!(cfg[0x06] & STATUS_CAP_LIST))
		return 0;
	for (; off; off = cfg[off + 1])
		if (cfg[off] == cap_id)
			return off;
	return 0;
}

bool pci_get_bar(const struct pci_dev *d, int n, struct pci_bar *bar)
{
	if (n < 0 || n > 5 || !bars[n].assigned)
		return false;
	bar->addr = bars[n].addr;
	bar->size = bars[n].size;
	bar->is_io = bars[n].is_io;
	return true;
}

static void reset(void)
{
	memset(cfg, 0, sizeof(cfg));
	memset(bars, 0, sizeof(bars));
	cfg[0x06] = STATUS_CAP_LIST;
	next_cap = 0x40;
	last_link = &cfg[0x34];
	/* BAR 4: QEMU's modern BAR (16 KiB of 64-bit memory). */
	bars[4].addr = 0xfe000000;
	bars[4].size = 0x4000;
	bars[4].assigned = true;
}

/* Append a struct virtio_pci_cap (plus notify_off_multiplier for the
 * notify type) to the capability list. */
static void add_cap(uint8_t type, uint8_t bar, uint32_t offset, uint32_t length)
{
	uint8_t *c = &cfg[next_cap];
	uint8_t len = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 20 : 16;

	c[0] = CAP_VNDR;
	c[1] = 0;
	c[2] = len;
	c[3] = type;
	c[4] = bar;
	memcpy(&c[8], &offset, 4);
	memcpy(&c[12], &length, 4);
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
		uint32_t mult = 4;

		memcpy(&c[16], &mult, 4);
	}
	*last_link = next_cap;
	last_link = &c[1];
	next_cap += len;
}

/* The four structures QEMU puts in BAR 4. */
static void add_qemu_caps(void)
{
	add_cap(VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0000, 0x1000);
	add_cap(VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
	add_cap(VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 0x1000);
	add_cap(VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000);
}

static const char *setup(struct virtio_pci_dev *vp)
{
	memset(vp, 0, sizeof(*vp));
	return virtio_pci_modern_setup(vp);
}

int main(void)
{
	struct virtio_pci_dev vp;
	const char *why;

	reset();
	add_qemu_caps();
	why = setup(&vp);
	ok(why == NULL, "QEMU's four capabilities: modern interface found (%s)",
	   why ? why : "ok");
	ok(vp.vd.ops == &modern_ops, "the modern register interface is used");
	is_u64(vp.common.base, 0xfe000000, "common config at BAR 4 + 0");
	is_u64(vp.isr.base, 0xfe001000, "ISR at BAR 4 + 0x1000");
	is_u64(vp.device.base, 0xfe002000, "device config at BAR 4 + 0x2000");
	is_u64(vp.notify.base, 0xfe003000, "notify at BAR 4 + 0x3000");
	is_int(vp.notify_multiplier, 4, "notify_off_multiplier read from the notify capability");
	is_int(vp.vd.config_len, 0x1000, "device config length is the capability's length");

	/* The length is reported, not judged: virtio_attach compares it
	 * with what the driver needs. */
	reset();
	add_cap(VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0000, 0x1000);
	add_cap(VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
	add_cap(VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 4);
	add_cap(VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000);
	why = setup(&vp);
	ok(why == NULL, "a 4-byte device config capability is usable by the transport");
	is_int(vp.vd.config_len, 4, "...and reported as 4 bytes");

	/* 4.1.4: "The driver MUST ignore any vendor-specific capability
	 * structure which has a reserved bar value." */
	reset();
	add_cap(VIRTIO_PCI_CAP_COMMON_CFG, 7, 0, 0x1000);
	add_qemu_caps();
	why = setup(&vp);
	ok(why == NULL, "a capability with a reserved bar value (7) is ignored, not fatal (%s)",
	   why ? why : "ok");
	is_u64(vp.common.base, 0xfe000000, "...and the next common config capability is used");

	/* "The driver SHOULD use the first instance of each virtio structure
	 * type they can support": skip one in a BAR firmware left unassigned. */
	reset();
	add_cap(VIRTIO_PCI_CAP_NOTIFY_CFG, 2, 0, 0x1000);
	add_qemu_caps();
	why = setup(&vp);
	ok(why == NULL, "a notify capability in an unassigned BAR is skipped (%s)",
	   why ? why : "ok");
	is_u64(vp.notify.base, 0xfe003000, "...for the next one, in BAR 4");

	reset();
	add_cap(VIRTIO_PCI_CAP_ISR_CFG, 4, 0x3f00, 0x1000);
	add_qemu_caps();
	why = setup(&vp);
	ok(why == NULL, "a capability reaching past its BAR is skipped (%s)", why ? why : "ok");
	is_u64(vp.isr.base, 0xfe001000, "...for the next one that fits");

	reset();
	add_cap(VIRTIO_PCI_CAP_COMMON_CFG, 4, 0, 0x10);
	add_qemu_caps();
	why = setup(&vp);
	ok(why == NULL, "a common config capability too short for its fields is skipped");
	is_u64(vp.common.len, 0x1000, "...for the full-length one");

	reset();
	add_cap(5, 4, 0, 4);		/* PCI configuration access */
	add_cap(8, 4, 0, 0x100);	/* shared memory */
	add_cap(42, 4, 0, 0x100);	/* reserved type */
	add_qemu_caps();
	why = setup(&vp);
	ok(why == NULL, "PCI_CFG, shared memory and reserved cfg_types are ignored");
	is_u64(vp.common.base, 0xfe000000, "...and do not displace the common config");

	reset();
	add_cap(VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0000, 0x1000);
	add_cap(VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 0x1000);
	add_cap(VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000);
	why = setup(&vp);
	is_str(why, "no usable ISR capability", "a missing ISR capability is named");

	reset();
	add_cap(VIRTIO_PCI_CAP_NOTIFY_CFG, 9, 0, 0x1000);
	add_cap(VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0000, 0x1000);
	add_cap(VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
	add_cap(VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 0x1000);
	why = setup(&vp);
	is_str(why, "no usable notify capability",
	       "a notify capability that exists only with a reserved bar is not usable");

	reset();
	why = setup(&vp);
	is_str(why, "no modern virtio capabilities",
	       "no vendor capabilities at all: a legacy device");

	/* Legacy (4.1.4.10): registers up to 0x14, then the device config. */
	reset();
	bars[0].addr = 0xc000;
	bars[0].size = 0x20;
	bars[0].assigned = bars[0].is_io = true;
	memset(&vp, 0, sizeof(vp));
	why = virtio_pci_legacy_setup(&vp);
	ok(why == NULL && vp.vd.ops == &legacy_ops, "legacy: I/O BAR0 of 32 bytes is used");
	is_int(vp.vd.config_len, 0x20 - 0x14, "legacy: device config is BAR0 after 0x14 (12 bytes)");
	bars[0].size = 0x18;
	memset(&vp, 0, sizeof(vp));
	virtio_pci_legacy_setup(&vp);
	is_int(vp.vd.config_len, 4, "legacy: a 24-byte BAR0 leaves 4 bytes of device config");
	bars[0].size = 0x10;
	memset(&vp, 0, sizeof(vp));
	is_str(virtio_pci_legacy_setup(&vp), "legacy I/O BAR0 too small",
	       "legacy: a BAR0 shorter than the registers is refused");
	bars[0].is_io = false;
	bars[0].size = 0x20;
	memset(&vp, 0, sizeof(vp));
	is_str(virtio_pci_legacy_setup(&vp), "no legacy I/O BAR0",
	       "legacy: a memory BAR0 is not the legacy interface");
	return tap_done();
}
