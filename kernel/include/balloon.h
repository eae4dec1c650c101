/* SPDX-License-Identifier: MIT */
/*
 * balloon.h - what the rest of the kernel sees of the virtio-balloon
 * driver (kernel/drivers/balloon.c).
 */
#ifndef KERNEL_BALLOON_H
#define KERNEL_BALLOON_H

#include "kernel.h"

/* Register the driver with the virtio core; call before the transports
 * probe (virtio_pci_probe_all(), virtio_mmio_probe_all()). Reads
 * balloon.min, balloon.threshold, balloon.debug. */
void balloon_init(void);
/* Bytes currently held by the balloon (given to the host). */
uint64_t balloon_size_bytes(void);

#endif
