/* SPDX-License-Identifier: MIT */
/*
 * paging.c - the identity map beyond what boot.S set up (0..4 GiB, all
 * write-back): the MMIO hole below 4 GiB made uncached once the memory
 * map says where RAM ends, RAM above 4 GiB, and device BARs wherever
 * firmware put them, all with 2 MiB pages (the default TCG CPU, qemu64,
 * has no 1 GiB pages).
 */
#include "kernel.h"
#include "init.h"
#include "mm.h"
#include "x86.h"

#define PT_ENTRIES	512
#define LARGE_PAGE	(2 * MiB)
#define PTE_ADDR_MASK	0x000ffffffffff000ull

extern uint64_t boot_pml4[PT_ENTRIES];	/* boot.S */

/* The next-level table that ENTRY points to, allocated if absent. */
static uint64_t *next_table(uint64_t *entry)
{
	paddr_t page;

	if (*entry & PTE_P)
		return phys_to_virt(*entry & PTE_ADDR_MASK);
	page = page_alloc_contig(1);	/* zeroed: all entries not present */
	if (!page)
		panic("paging: no memory for a page table");
	*entry = page | PTE_P | PTE_W;
	return phys_to_virt(page);
}

/* The page-directory entry that maps the 2 MiB page holding ADDR. */
static uint64_t *pd_entry(uint64_t addr)
{
	uint64_t *pdpt = next_table(&boot_pml4[(addr >> 39) % PT_ENTRIES]);
	uint64_t *pd = next_table(&pdpt[(addr >> 30) % PT_ENTRIES]);

	return &pd[(addr >> 21) % PT_ENTRIES];
}

/* Identity-map the 2 MiB page at ADDR with the extra bits FLAGS. */
static void map_large_page(uint64_t addr, uint64_t flags)
{
	uint64_t *pde = pd_entry(addr);
	uint64_t want = addr | PTE_P | PTE_W | PTE_PS | flags;

	if (*pde != want) {
		*pde = want;
		invlpg(addr);	/* drop a translation with the old memory type */
	}
}

/* The uncached stretches below 4 GiB, as the page tables have them. */
static void paging_log_uncached(void)
{
	uint64_t start = 0;
	bool prev = false;

	for (uint64_t a = 0; a <= 4 * GiB; a += LARGE_PAGE) {
		bool uc = a < 4 * GiB && (*pd_entry(a) & PTE_PCD);

		if (uc && !prev)
			start = a;
		else if (!uc && prev)
			printk("paging: %016lx-%016lx uncached\n", start, a - 1);
		prev = uc;
	}
}

void paging_init(void)
{
	/*
	 * From the end of RAM below 4 GiB up is the MMIO hole: PCI BARs,
	 * MMCONFIG, IOAPIC, LAPIC, firmware. Where it starts depends on the
	 * machine and -m (pc keeps up to 3.5 GiB of RAM below 4 GiB, q35 up
	 * to 2.75 GiB), so boot.S left it write-back and it becomes
	 * uncached here (PCD|PWT = UC under the power-on PAT), before any
	 * device is touched. The 2 MiB page that holds the last RAM stays
	 * write-back: a BAR in it (none on QEMU) gets uncached by
	 * paging_map_mmio like any other.
	 */
	for (uint64_t a = ALIGN_UP(mm_ram_end_below_4g(), LARGE_PAGE); a < 4 * GiB;
	     a += LARGE_PAGE)
		map_large_page(a, PTE_PWT | PTE_PCD);
	paging_log_uncached();
	/* Page tables come from low RAM (page_alloc_contig carves from the
	 * lowest range), which boot.S has mapped already. */
	for (uint64_t a = 4 * GiB; a < mm_ram_end(); a += LARGE_PAGE)
		map_large_page(a, 0);
}

void paging_map_mmio(uint64_t addr, uint64_t size)
{
	uint64_t end = ALIGN_UP(addr + size, LARGE_PAGE);

	/* Uncached: device registers must not be cached or have their
	 * writes combined. */
	for (uint64_t a = addr & ~(LARGE_PAGE - 1); a < end; a += LARGE_PAGE)
		map_large_page(a, PTE_PWT | PTE_PCD);
}
