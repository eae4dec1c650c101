/* SPDX-License-Identifier: MIT */
/*
 * x86.h - tiny inline helpers for the x86-64 instructions the kernel uses
 * (CPUID, MSRs, TSC, control registers, halting).
 */
#ifndef KERNEL_X86_H
#define KERNEL_X86_H

#include <stdint.h>
#include "x86_asm.h"

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline void invlpg(uint64_t addr)
{
	__asm__ volatile("invlpg (%0)" :: "r"(addr) : "memory");
}

/* Enable interrupts and halt as one step: STI takes effect only after the
 * next instruction, so an interrupt pending at STI wakes the HLT instead
 * of being taken before it (and then sleeping through it). */
static inline void sti_hlt(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}

static inline void __attribute__((noreturn)) halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif
