/* SPDX-License-Identifier: MIT */
/*
 * irq.h - interrupt vectors (kernel/arch/x86_64/interrupts.c).
 * Handlers run with interrupts disabled and must be short: acknowledge the
 * device, then work_queue() the rest. The EOI to the LAPIC is sent by the
 * common interrupt path after the handler returns.
 */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H

#include "kernel.h"

typedef void (*irq_handler_fn)(void *arg);

/* A free vector (0x30..0xEF) now wired to FN(ARG); -1 when none is left. */
int irq_alloc_vector(irq_handler_fn fn, void *arg);
/* Route legacy ISA IRQ (e.g. 4 for COM1) through the IOAPIC to VECTOR,
 * edge-triggered, active-high, to the boot CPU. */
void ioapic_route_isa(unsigned isa_irq, uint8_t vector);

/* Route a PCI INTx line through the IOAPIC to VECTOR on the boot CPU:
 * IRQ is the number firmware (SeaBIOS) wrote to the function's Interrupt
 * Line register (config 0x3C); IOAPIC input IRQ, level-triggered,
 * active-high (how QEMU's pc and q35 chipsets drive that input). For
 * devices without MSI-X: QEMU 7.2's virtio-balloon-pci has none. The
 * handler must make the device drop the line (virtio: read ISR) before
 * it returns, since the EOI re-arms a still-asserted level input. */
void ioapic_route_pci_irq(unsigned irq, uint8_t vector);

static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
/* Save flags and disable; restore. For the few places shared with
 * interrupt handlers (the work queue). */
static inline uint64_t irq_save(void)
{
	uint64_t flags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) :: "memory");
	return flags;
}
static inline void irq_restore(uint64_t flags)
{
	__asm__ volatile("pushq %0; popfq" :: "r"(flags) : "memory", "cc");
}

#endif
