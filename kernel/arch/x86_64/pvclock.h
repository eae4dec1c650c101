/* SPDX-License-Identifier: MIT */
/*
 * pvclock.h - KVM's paravirtual clock (kvmclock): the hypervisor
 * publishes the TSC's exact rate (a 32.32 multiplier and a shift) and the
 * nanoseconds since the VM started. clock.c prefers it to timing the PIT,
 * whose every port access is a VM exit under KVM. Pure arithmetic here,
 * also built for the host tests.
 */
#ifndef KERNEL_PVCLOCK_H
#define KERNEL_PVCLOCK_H

#include <stdint.h>

/* Linux's struct pvclock_vcpu_time_info (KVM ABI), 32 bytes. */
struct pvclock_time_info {
	uint32_t version;	/* odd while the hypervisor updates it */
	uint32_t pad0;
	uint64_t tsc_timestamp;	/* TSC when system_time was taken */
	uint64_t system_time;	/* ns since the VM started */
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

#define KVM_CPUID_SIGNATURE		0x40000000
#define KVM_CPUID_FEATURES		0x40000001
#define KVM_FEATURE_CLOCKSOURCE2	3
#define MSR_KVM_SYSTEM_TIME_NEW		0x4b564d01

/* TSC ticks to nanoseconds: shift, then multiply by MUL / 2^32. */
static inline uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

/* The TSC's rate in kHz (ticks per ms) that MUL and SHIFT describe. */
static inline uint64_t pvclock_tsc_khz(uint32_t mul, int8_t shift)
{
	uint64_t khz = (1000000ull << 32) / mul;

	if (shift < 0)
		khz <<= -shift;
	else
		khz >>= shift;
	return khz;
}

#endif
