/* SPDX-License-Identifier: MIT */
/*
 * io.h - tiny helpers for port I/O, MMIO and memory barriers on x86-64.
 */
#ifndef KERNEL_IO_H
#define KERNEL_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint8_t mmio_read8(uint64_t a) { return *(volatile uint8_t *)(uintptr_t)a; }
static inline uint16_t mmio_read16(uint64_t a) { return *(volatile uint16_t *)(uintptr_t)a; }
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)(uintptr_t)a; }
static inline void mmio_write8(uint64_t a, uint8_t v) { *(volatile uint8_t *)(uintptr_t)a = v; }
static inline void mmio_write16(uint64_t a, uint16_t v) { *(volatile uint16_t *)(uintptr_t)a = v; }
static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)(uintptr_t)a = v; }

/*
 * Barriers. x86 keeps stores ordered with stores and loads with loads, so
 * the virtqueue's "publish descriptor, then index" and "read index, then
 * descriptor" orderings need only a compiler barrier; a store followed by
 * a load of another location (index update, then reading the device's
 * notification suppression flags) needs a full fence.
 */
#define barrier()	__asm__ volatile("" ::: "memory")
#define smp_wmb()	barrier()
#define smp_rmb()	barrier()
#define smp_mb()	__asm__ volatile("mfence" ::: "memory")

static inline void cpu_relax(void) { __asm__ volatile("pause"); }

#endif
