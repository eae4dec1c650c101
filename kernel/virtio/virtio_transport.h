/* SPDX-License-Identifier: MIT */
/*
 * virtio_transport.h - how the transport-neutral core reaches the
 * transports (kernel/virtio/): each registers with its bus on first use.
 */
#ifndef KERNEL_VIRTIO_TRANSPORT_H
#define KERNEL_VIRTIO_TRANSPORT_H

/* virtio-pci (virtio_pci.c): register the PCI driver for 0x1af4 devices. */
void virtio_pci_register(void);

#endif
