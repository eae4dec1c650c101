/* SPDX-License-Identifier: MIT */
/*
 * paging.c - the identity map beyond what boot.S set up (0..4 GiB): RAM
 * above 4 GiB and device BARs wherever firmware put them, all with 2 MiB
 * pages (the default TCG CPU, qemu64, has no 1 GiB pages).
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

void paging_init(void)
{
	/* Page tables come from low RAM (page_alloc_contig carves from the
	 * lowest range), which boot.S has mapped already. */
	for (uint64_t a = 4 * GiB; a < mm_ram_end(); a += LARGE_PAGE)
		*pd_entry(a) = a | PTE_P | PTE_W | PTE_PS;
}

void paging_map_mmio(uint64_t addr, uint64_t size)
{
	uint64_t end = ALIGN_UP(addr + size, LARGE_PAGE);

	/* Uncached (PCD|PWT = UC under the power-on PAT): device registers
	 * must not be cached or have their writes combined. */
	for (uint64_t a = addr & ~(LARGE_PAGE - 1); a < end; a += LARGE_PAGE) {
		uint64_t *pde = pd_entry(a);
		uint64_t want = a | PTE_P | PTE_W | PTE_PS | PTE_PWT | PTE_PCD;

		if (*pde != want) {
			*pde = want;
			invlpg(a);	/* drop a cached (e.g. RAM-typed) translation */
		}
	}
}
