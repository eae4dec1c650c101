/* SPDX-License-Identifier: MIT */
/*
 * test-kernel-pvclock.c - host unit tests of kvmclock's arithmetic
 * (kernel/arch/x86_64/pvclock.h): the TSC rate and nanoseconds from the
 * hypervisor's multiplier and shift, with KVM's own way of choosing them.
 */
#include "config.h"

#include "tap.h"
#include "pvclock.h"

/* KVM's kvm_get_time_scale(NSEC_PER_SEC, TSC_HZ): the shift and the
 * 32.32 multiplier it publishes for a TSC of TSC_HZ. */
static void kvm_time_scale(uint64_t tsc_hz, int8_t *shift, uint32_t *mul)
{
	uint64_t scaled = 1000000000ull, tps64 = tsc_hz;
	uint32_t tps32;
	int s = 0;

	while (tps64 > scaled * 2 || tps64 & 0xffffffff00000000ull) {
		tps64 >>= 1;
		s--;
	}
	tps32 = (uint32_t)tps64;
	while (tps32 <= scaled || scaled & 0xffffffff00000000ull) {
		if (scaled & 0xffffffff00000000ull || tps32 & 0x80000000u)
			scaled >>= 1;
		else
			tps32 <<= 1;
		s++;
	}
	*shift = (int8_t)s;
	*mul = (uint32_t)((scaled << 32) / tps32);
}

int main(void)
{
	static const uint64_t rates_khz[] = { 1000000, 2596144, 3078524, 4971785, 800000 };
	uint32_t mul;
	int8_t shift;

	is_u64(pvclock_tsc_khz(0x80000000u, 0), 2000000, "mul 1/2, shift 0: 2 GHz");
	is_u64(pvclock_tsc_khz(0x80000000u, 1), 1000000, "mul 1/2, shift 1: 1 GHz");
	is_u64(pvclock_tsc_khz(0x80000000u, -1), 4000000, "mul 1/2, shift -1: 4 GHz");
	is_u64(pvclock_scale(1000, 0x80000000u, 0), 500, "1000 ticks at 2 GHz: 500 ns");
	is_u64(pvclock_scale(1000, 0x80000000u, -1), 250, "1000 ticks at 4 GHz: 250 ns");
	for (size_t i = 0; i < sizeof(rates_khz) / sizeof(rates_khz[0]); i++) {
		uint64_t khz = rates_khz[i], got, ns;

		kvm_time_scale(khz * 1000, &shift, &mul);
		got = pvclock_tsc_khz(mul, shift);
		ok(got + 1 >= khz && got <= khz + 1,
		   "a %lu kHz TSC as KVM publishes it reads back as %lu kHz",
		   (unsigned long)khz, (unsigned long)got);
		/* 10 s of ticks: nanoseconds within 1 ppm */
		ns = pvclock_scale(khz * 10000, mul, shift);
		ok(ns >= 10000000000ull - 10000 && ns <= 10000000000ull + 10000,
		   "...and 10 s of its ticks scale to %lu ns", (unsigned long)ns);
	}
	return tap_done();
}
