/* SPDX-License-Identifier: MIT */
/*
 * pvh.c - reads the PVH boot information QEMU hands over in %ebx (Xen
 * public/arch-x86/hvm/start_info.h): the memory map feeds the page
 * allocator, the command line is parsed for cmdline_get().
 */
#include "kernel.h"
#include "init.h"
#include "mm.h"

#define HVM_START_MAGIC		0x336ec578
#define HVM_MEMMAP_TYPE_RAM	1

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;	/* memmap_* exist from version 1 */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;	/* NUL-terminated, or 0 */
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;	/* struct hvm_memmap_table_entry[] */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;		/* bytes */
	uint64_t size;		/* bytes */
	uint32_t type;		/* E820 type: 1 = RAM */
	uint32_t reserved;
};

/* Linker-script symbols: the loaded image, including .bss (the boot page
 * tables and stack live there). */
extern char kernel_start[], kernel_end[];

void pvh_read_boot_info(uint32_t start_info_paddr)
{
	const struct hvm_start_info *si = phys_to_virt(start_info_paddr);
	const struct hvm_memmap_table_entry *map;
	const char *cmdline;

	if (si->magic != HVM_START_MAGIC)
		panic("pvh: bad start_info magic %x at %x (not booted via PVH?)",
		      si->magic, start_info_paddr);
	if (si->version < 1 || !si->memmap_entries)
		panic("pvh: start_info version %u has no memory map", si->version);

	/* The command line is copied before anything is allocated, so its
	 * page need not be reserved. */
	cmdline = si->cmdline_paddr ? phys_to_virt(si->cmdline_paddr) : "";
	printk("cmdline: %s\n", cmdline);
	cmdline_parse(cmdline);

	map = phys_to_virt(si->memmap_paddr);
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		/* QEMU's microvm lists an empty entry (addr 0, size 0): it
		 * describes nothing, and addr + size - 1 would print as a
		 * range over all of memory. */
		if (!map[i].size)
			continue;
		printk("memmap: %016lx-%016lx %s\n", map[i].addr,
		       map[i].addr + map[i].size - 1,
		       map[i].type == HVM_MEMMAP_TYPE_RAM ? "ram" : "reserved");
		if (map[i].type == HVM_MEMMAP_TYPE_RAM)
			mm_add_ram(map[i].addr, map[i].size);
	}
	/*
	 * Below 1 MiB live the BIOS data, the option ROM that booted us and
	 * the start_info and memory map themselves: leave all of it alone.
	 */
	mm_reserve(0, 1 * MiB);
	mm_reserve(virt_to_phys(kernel_start), kernel_end - kernel_start);
}
