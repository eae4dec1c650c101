/* SPDX-License-Identifier: MIT */
/*
 * vectors.S - the 256 interrupt entry stubs and the common path: save the
 * registers as a struct trapframe (interrupts.c), call trap(), restore.
 */

/* Exceptions for which the CPU pushes an error code (Intel SDM vol. 3A
 * 6.13): #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX. */
#define HAS_ERROR_CODE(n) ((n) == 8 || ((n) >= 10 && (n) <= 14) || (n) == 17 || \
			   (n) == 21 || (n) == 29 || (n) == 30)

	.text
	.p2align 4
	.globl vector_stubs
vector_stubs:
	/* Each stub is 16 bytes, so vector N's stub is vector_stubs + 16 * N;
	 * the .org fails the build if a stub ever grows past that. */
	.set vec, 0
	.rept 256
	.if !HAS_ERROR_CODE(vec)
	pushq	$0			/* uniform frame: fake error code */
	.endif
	pushq	$vec
	jmp	trap_common
	.org vector_stubs + (vec + 1) * 16, 0xcc
	.set vec, vec + 1
	.endr

trap_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	cld				/* the C ABI expects DF clear */
	movq	%rsp, %rdi		/* struct trapframe * */
	call	trap
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp		/* vector number and error code */
	iretq

	.section .note.GNU-stack, "", @progbits
