/* SPDX-License-Identifier: MIT */
/*
 * test-virtio-mmio-arg.c - host unit tests of the virtio_mmio.device=
 * parser (kernel/virtio/virtio_mmio_arg.c) on what QEMU's microvm puts on
 * the command line and what people type.
 */
#include "config.h"

#include "tap.h"
#include "virtio_mmio_arg.h"

static void parses(const char *s, uint64_t size, uint64_t base, uint32_t irq)
{
	struct virtio_mmio_arg a = { 0, 0, 0 };
	bool parsed = virtio_mmio_parse_arg(s, &a);

	ok(parsed && a.size == size && a.base == base && a.irq == irq,
	   "\"%s\" is %" PRIu64 " bytes at 0x%" PRIx64 ", IRQ %u", s, size, base, irq);
	if (!parsed)
		tap_diag("rejected");
	else if (a.size != size || a.base != base || a.irq != irq)
		tap_diag("got %" PRIu64 " bytes at 0x%" PRIx64 ", IRQ %u", a.size, a.base, a.irq);
}

static void rejected(const char *s, const char *why)
{
	struct virtio_mmio_arg a = { 1, 2, 3 };

	ok(!virtio_mmio_parse_arg(s, &a) && a.size == 1 && a.base == 2 && a.irq == 3,
	   "rejects %s (\"%s\")", why, s);
}

int main(void)
{
	/* QEMU 7.2 microvm,acpi=off: " virtio_mmio.device=512@0x%lx:%ld" */
	parses("512@0xfeb00e00:12", 512, 0xfeb00e00, 12);
	parses("512@0xfeb00000:5", 512, 0xfeb00000, 5);
	/* Linux's syntax: memparse size, %lli base and irq, optional :id */
	parses("4K@0x10001000:48", 4096, 0x10001000, 48);
	parses("1k@0xFEB00200:6:3", 1024, 0xfeb00200, 6);
	parses("0x200@4273995264:7", 512, 4273995264u, 7);
	parses("1M@0x100000000:10", 1 << 20, 0x100000000ull, 10);
	parses("512@010:011", 512, 8, 9);

	rejected("", "an empty value");
	rejected("512", "a size alone");
	rejected("512@0xfeb00000", "no IRQ");
	rejected("512@0xfeb00000:", "an empty IRQ");
	rejected("@0xfeb00000:5", "no size");
	rejected("0@0xfeb00000:5", "a zero size");
	rejected("512@0x:5", "a base of just 0x");
	rejected("512@0xfeb00000:5:", "an empty id");
	rejected("512@0xfeb00000:5 ", "trailing text");
	rejected("512@0xfeb00000:5:1:2", "two ids");
	rejected("512#0xfeb00000:5", "a wrong separator");
	rejected("512@0xfeb00000:4294967296", "an IRQ beyond 32 bits");
	rejected("512@0x10000000000000000:5", "a base beyond 64 bits");
	rejected("16G@0xfffffffff0000000:5", "registers that wrap past 2^64");
	rejected("512@09:5", "an octal number with a digit 9");
	ok(!virtio_mmio_parse_arg(NULL, &(struct virtio_mmio_arg){ 0 }), "rejects NULL");
	return tap_done();
}
