/* SPDX-License-Identifier: MIT */
/*
 * ioapic.c - the I/O APIC at 0xFEC00000 (fixed on QEMU's pc, q35 and
 * microvm) for legacy ISA interrupts such as COM1's, and the 8259 PICs,
 * which are remapped and masked so they can never inject anything.
 */
#include "kernel.h"
#include "init.h"
#include "io.h"
#include "mm.h"
#include "irq.h"

#define IOAPIC_BASE		0xfec00000ull
#define IOAPIC_REGSEL		0x00
#define IOAPIC_WIN		0x10
#define IOAPIC_REG_VER		0x01
#define IOAPIC_REG_REDTBL	0x10	/* two 32-bit registers per input */
#define REDTBL_LEVEL		0x08000	/* trigger mode: level (else edge) */
#define REDTBL_MASKED		0x10000

#define PIC1_CMD		0x20
#define PIC1_DATA		0x21
#define PIC2_CMD		0xa0
#define PIC2_DATA		0xa1
#define PIC_ICW1_INIT_ICW4	0x11
#define PIC_ICW4_8086		0x01
#define PIC_VECTOR_BASE		0x20	/* 0x20..0x2f: clear of exceptions */

static uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOAPIC_WIN);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, v);
}

/* Remap the 8259s off the exception vectors (a spurious IRQ 7 would
 * otherwise look like a #DF), then mask every line. */
static void pic_disable(void)
{
	outb(PIC1_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC2_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC1_DATA, PIC_VECTOR_BASE);
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	outb(PIC1_DATA, 1 << 2);	/* slave on IRQ 2 */
	outb(PIC2_DATA, 2);		/* cascade identity */
	outb(PIC1_DATA, PIC_ICW4_8086);
	outb(PIC2_DATA, PIC_ICW4_8086);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

void ioapic_init(void)
{
	unsigned inputs;

	pic_disable();
	paging_map_mmio(IOAPIC_BASE, PAGE_SIZE);
	inputs = ((ioapic_read(IOAPIC_REG_VER) >> 16) & 0xff) + 1;
	for (unsigned i = 0; i < inputs; i++) {
		ioapic_write(IOAPIC_REG_REDTBL + 2 * i, REDTBL_MASKED);
		ioapic_write(IOAPIC_REG_REDTBL + 2 * i + 1, 0);
	}
}

/* Fixed delivery, physical destination = the boot CPU, active high. */
static void ioapic_route(unsigned gsi, uint8_t vector, uint32_t trigger)
{
	ioapic_write(IOAPIC_REG_REDTBL + 2 * gsi + 1, lapic_id() << 24);
	ioapic_write(IOAPIC_REG_REDTBL + 2 * gsi, vector | trigger);
}

void ioapic_route_isa(unsigned isa_irq, uint8_t vector)
{
	/* QEMU's ACPI tables override only IRQ 0 (to GSI 2): ISA IRQs 1-15
	 * are GSIs 1-15, edge-triggered. */
	ioapic_route(isa_irq, vector, 0);
}

void ioapic_route_pci_irq(unsigned irq, uint8_t vector)
{
	/* SeaBIOS routes each PCI interrupt link to an ISA IRQ (config 0x3C);
	 * QEMU's chipsets drive that GSI too (q35 also raises GSI 16-23,
	 * which stays masked). PCI INTx is level-triggered, active high in
	 * QEMU's model; the normal LAPIC EOI clears Remote IRR. */
	ioapic_route(irq, vector, REDTBL_LEVEL);
}
