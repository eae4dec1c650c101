/* SPDX-License-Identifier: MIT */
/*
 * init.h - the boot-time entry points main() calls, one per subsystem, and
 * the few core-internal hooks between them. Drivers use kernel.h, mm.h,
 * pci.h and irq.h instead.
 */
#ifndef KERNEL_INIT_H
#define KERNEL_INIT_H

#include "kernel.h"

/* kernel/drivers/serial.c: COM1. */
void serial_init(void);
void serial_enable_rx_irq(void (*on_input)(void));
void serial_write(const char *s, size_t n);	/* "\n" -> "\r\n" */
int serial_getc(void);				/* buffered input or -1 */

/* kernel/arch/x86_64/pvh.c: the PVH start_info (memory map, command line). */
void pvh_read_boot_info(uint32_t start_info_paddr);

/* kernel/mm/page_alloc.c: boot-time setup, before the first allocation. */
void mm_add_ram(uint64_t start, uint64_t len);	/* trimmed to whole pages */
void mm_reserve(uint64_t start, uint64_t len);	/* never hand these out */
uint64_t mm_ram_end(void);			/* end of the highest RAM page */
uint64_t mm_ram_end_below_4g(void);	/* ... below 4 GiB: the MMIO hole starts there */
void mm_init(void);	/* after the above: sets up the free-page stack */

/* kernel/arch/x86_64/paging.c: identity map of RAM above 4 GiB, MMIO. */
void paging_init(void);
void paging_map_mmio(uint64_t addr, uint64_t size);

/* kernel/arch/x86_64/interrupts.c, lapic.c, ioapic.c, clock.c. Fixed
 * vectors sit above the ones irq_alloc_vector() hands out (0x30..0xEF). */
#define LAPIC_TIMER_VECTOR	0xf0
#define LAPIC_SPURIOUS_VECTOR	0xff
void interrupts_init(void);
void irq_set_handler(uint8_t vector, void (*fn)(void *), void *arg);
void lapic_init(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
void lapic_timer_oneshot(uint32_t ticks);	/* 0 stops the timer */
uint32_t lapic_timer_current(void);
void ioapic_init(void);
void clock_init(void);
uint64_t clock_ms_since_reset(void);	/* includes firmware and loading */
/* Make the timer interrupt fire at DEADLINE_MS (time_ms()) or earlier; 0
 * for none. The interrupt only wakes the idle loop. */
void clock_set_deadline(uint64_t deadline_ms);

/* kernel/core/work.c: true when work is queued or a timer is due. */
bool work_pending(void);
/* Earliest armed timer deadline (ms), or 0 when none is armed. */
uint64_t work_next_deadline(void);

/* kernel/lib/cmdline.c: parse the -append string once (copies it). */
void cmdline_parse(const char *s);

/* kernel/bus/pci.c: enumerate PCI (pci.h), before any transport probes. */
void pci_init(void);

/* The virtio transports, after the device drivers registered with the
 * virtio core: each finds its devices and attaches the matching drivers.
 * kernel/virtio/virtio_pci.c: the virtio functions pci_init() found;
 * kernel/virtio/virtio_mmio.c: the virtio-mmio devices the command line
 * names (virtio_mmio.device=, e.g. from QEMU's microvm). */
void virtio_pci_probe_all(void);
void virtio_mmio_probe_all(void);

/* kernel/console.c: the command prompt on COM1. */
void console_init(void);

#endif
