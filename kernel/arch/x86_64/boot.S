/* SPDX-License-Identifier: MIT */
/*
 * boot.S - the PVH entry: QEMU (-kernel) jumps here in 32-bit protected mode
 * with paging off and %ebx = physical address of struct hvm_start_info. We
 * identity-map the low 4 GiB with 2 MiB pages, switch to long mode and call
 * main(start_info). paging.c makes the MMIO hole uncached once the memory
 * map says where it starts, and maps everything above 4 GiB.
 */
#include "x86_asm.h"

/*
 * The PVH entry point note (Xen public/elfnote.h: XEN_ELFNOTE_PHYS32_ENTRY
 * = 18, owner "Xen"). Its presence makes QEMU boot an ELF64 image through
 * its PVH option ROM instead of refusing it as 64-bit multiboot.
 */
	.section .note.Xen, "a"
	.p2align 2
	.long 4			/* namesz: "Xen\0" */
	.long 4			/* descsz */
	.long 18		/* type: XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start		/* desc: 32-bit physical entry address */

	.section .text.boot, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	movl	%ebx, boot_start_info	/* keep it: %ebx is needed as a scratch */
	movl	$boot_stack_top, %esp

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
	movl	$boot_pdpt, %eax
	orl	$(PTE_P | PTE_W), %eax
	movl	%eax, boot_pml4
	xorl	%ecx, %ecx
1:	movl	%ecx, %eax
	shll	$12, %eax
	addl	$boot_pd, %eax
	orl	$(PTE_P | PTE_W), %eax
	movl	%eax, boot_pdpt(, %ecx, 8)
	incl	%ecx
	cmpl	$4, %ecx
	jne	1b

	/*
	 * 2048 large pages of 2 MiB cover 0..4 GiB, all write-back: how much
	 * of it is RAM (pc: up to 3.5 GiB) is known only from the memory
	 * map, so paging_init() makes the MMIO hole above it uncached. Until
	 * then nothing touches a device register (COM1 is port I/O).
	 */
	xorl	%ecx, %ecx
2:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$(PTE_P | PTE_W | PTE_PS), %eax
	movl	%eax, boot_pd(, %ecx, 8)
	movl	$0, boot_pd + 4(, %ecx, 8)
	incl	%ecx
	cmpl	$2048, %ecx
	jne	2b

	/* Long mode (Intel SDM vol. 3A 9.8.5): PAE, CR3, EFER.LME, paging. */
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$boot_pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_PE), %eax
	movl	%eax, %cr0

	lgdt	boot_gdt_desc
	ljmp	$GDT_KCODE, $long_mode

	.code64
long_mode:
	movw	$GDT_KDATA, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	xorw	%ax, %ax
	movw	%ax, %fs
	movw	%ax, %gs
	movq	$boot_stack_top, %rsp
	xorl	%ebp, %ebp		/* ends backtraces */
	movl	boot_start_info, %edi
	call	main
4:	cli
	hlt
	jmp	4b

	.section .rodata
	.p2align 3
boot_gdt:
	.quad 0				/* null */
	.quad 0x00af9a000000ffff	/* GDT_KCODE: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff	/* GDT_KDATA: data, DPL 0 */
boot_gdt_end:
boot_gdt_desc:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.section .bss
	.p2align 12
	.globl boot_pml4, boot_pdpt
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.p2align 4
boot_stack:
	.skip BOOT_STACK_SIZE
	.globl boot_stack_top
boot_stack_top:
	.p2align 2
boot_start_info:
	.skip 4

	.section .note.GNU-stack, "", @progbits
