/* SPDX-License-Identifier: MIT */
/*
 * virtio_mmio_arg.h - one virtio-mmio device as the kernel command line
 * names it: virtio_mmio.device=SIZE@BASE:IRQ[:ID] (the Linux syntax that
 * QEMU's microvm appends for each device). Pure C, also built for the
 * host tests.
 */
#ifndef KERNEL_VIRTIO_MMIO_ARG_H
#define KERNEL_VIRTIO_MMIO_ARG_H

#include <stdbool.h>
#include <stdint.h>

struct virtio_mmio_arg {
	uint64_t size;		/* bytes of registers */
	uint64_t base;		/* physical address */
	uint32_t irq;		/* interrupt: the GSI on x86 */
};

/* Parse S: SIZE with an optional K/M/G suffix, numbers in C notation
 * (0x... hex, 0... octal, else decimal); the optional :ID (Linux's
 * platform device id) is accepted and ignored. False when S is not of
 * that form or names no registers. */
bool virtio_mmio_parse_arg(const char *s, struct virtio_mmio_arg *out);

#endif
