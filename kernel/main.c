/* SPDX-License-Identifier: MIT */
/*
 * main.c - the boot sequence, one step per call, then the idle loop that
 * runs deferred work and halts the CPU until the next interrupt.
 */
#include "kernel.h"
#include "init.h"
#include "mm.h"
#include "irq.h"
#include "pci.h"
#include "balloon.h"
#include "x86.h"

static void idle_loop(void) __attribute__((noreturn));

/* boot.S calls this in long mode on the boot stack, interrupts off. */
void main(uint32_t start_info_paddr);
void main(uint32_t start_info_paddr)
{
	serial_init();			/* COM1 output: printk works from here */
	printk("\nvballoon guest kernel\n");
	interrupts_init();		/* IDT: exceptions panic with registers */
	pvh_read_boot_info(start_info_paddr); /* memory map, command line */
	mm_init();			/* page allocator ready */
	paging_init();			/* MMIO hole uncached, RAM above 4 GiB */
	lapic_init();			/* local APIC on, 8259 LINT0 off */
	ioapic_init();			/* 8259s masked, IOAPIC inputs masked */
	clock_init();			/* TSC and LAPIC timer against the PIT */
	printk("mm: %lu KiB total, %lu KiB free\n", mm_total_bytes() >> 10,
	       mm_free_bytes() >> 10);
	balloon_init();			/* register the driver before probing */
	pci_init();			/* enumerate PCI behind its bridges */
	virtio_pci_probe_all();		/* virtio-pci devices found there */
	virtio_mmio_probe_all();	/* virtio-mmio devices named on the command line */
	console_init();			/* COM1 input interrupt, first prompt */
	printk("boot: done %lu ms after reset\n", clock_ms_since_reset());
	idle_loop();
}

/*
 * Run queued work; when there is none, halt until an interrupt. The check
 * and the halt happen with interrupts off, and "sti; hlt" re-enables them
 * only as the CPU halts, so work queued by an interrupt in between is
 * never slept through.
 */
static void idle_loop(void)
{
	for (;;) {
		irq_disable();
		if (work_pending()) {
			irq_enable();
			work_run_pending();
			continue;
		}
		clock_set_deadline(work_next_deadline());
		sti_hlt();
	}
}
