/* SPDX-License-Identifier: MIT */
/*
 * lapic.c - the boot CPU's local APIC (xAPIC MMIO at 0xFEE00000): enable
 * it, EOI, and its timer, which clock.c runs in one-shot mode.
 */
#include "kernel.h"
#include "init.h"
#include "io.h"
#include "mm.h"
#include "x86.h"

#define MSR_APIC_BASE		0x1b
#define APIC_BASE_ENABLE	(1u << 11)
#define APIC_BASE_ADDR_MASK	0xffffff000ull

/* Register offsets (Intel SDM vol. 3A, table 11-1). */
#define LAPIC_ID		0x020
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_LVT_LINT0		0x350
#define LAPIC_LVT_LINT1		0x360
#define LAPIC_LVT_ERROR		0x370
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_CURRENT	0x390
#define LAPIC_TIMER_DIVIDE	0x3e0

#define SVR_ENABLE		0x100
#define LVT_MASKED		0x10000
#define LVT_NMI			0x400	/* delivery mode NMI */
#define TIMER_DIVIDE_BY_16	0x3

static uint64_t lapic_base;

static uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(lapic_base + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(lapic_base + reg, v);
}

void lapic_init(void)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE);

	lapic_base = msr & APIC_BASE_ADDR_MASK;
	paging_map_mmio(lapic_base, PAGE_SIZE);
	wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE);
	/* Software-enable, with the spurious vector that trap() ignores. */
	lapic_write(LAPIC_SVR, SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
	/* The 8259s are masked and unused: LINT0 (their ExtINT) stays off;
	 * LINT1 is the NMI line. */
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_NMI);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_DIVIDE, TIMER_DIVIDE_BY_16);
	lapic_write(LAPIC_TPR, 0);	/* accept every priority */
	lapic_eoi();			/* nothing stale in service */
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

void lapic_timer_oneshot(uint32_t ticks)
{
	/* One-shot is LVT mode 0: unmasked with just the vector; writing the
	 * initial count starts it, 0 stops it. */
	lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INIT, ticks);
}

uint32_t lapic_timer_current(void)
{
	return lapic_read(LAPIC_TIMER_CURRENT);
}
