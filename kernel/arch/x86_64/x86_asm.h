/* SPDX-License-Identifier: MIT */
/*
 * x86_asm.h - architectural constants shared by assembly and C: page-table
 * bits, control-register and MSR bits, GDT selectors.
 */
#ifndef KERNEL_X86_ASM_H
#define KERNEL_X86_ASM_H

/* Page-table entry bits (Intel SDM vol. 3A 4.5). */
#define PTE_P		0x001	/* present */
#define PTE_W		0x002	/* writable */
#define PTE_PWT		0x008	/* write-through */
#define PTE_PCD		0x010	/* cache disable: with PWT, UC under the default PAT */
#define PTE_PS		0x080	/* large page (2 MiB in a PD) */

#define CR0_PE		0x00000001
#define CR0_PG		0x80000000
#define CR4_PAE		0x00000020

#define MSR_EFER	0xc0000080
#define EFER_LME	0x00000100

/* Selectors into boot.S's GDT. */
#define GDT_KCODE	0x08
#define GDT_KDATA	0x10

#define BOOT_STACK_SIZE	(32 * 1024)

#endif
