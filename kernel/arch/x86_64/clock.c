/* SPDX-License-Identifier: MIT */
/*
 * clock.c - time: time_ms() from the TSC, and a tickless timer that fires
 * the LAPIC timer once at the next work deadline, so an idle guest takes
 * no interrupts at all. Both are calibrated against the PIT at boot;
 * under KVM the TSC's rate and the time since the VM started come from
 * kvmclock instead (timing the PIT there measures VM exits, not time).
 */
#include "kernel.h"
#include "init.h"
#include "io.h"
#include "mm.h"
#include "pvclock.h"
#include "x86.h"

/* PIT (Intel 8254): channel 2's gate and output are on port 0x61, so it
 * can be timed by polling without an interrupt. */
#define PIT_HZ			1193182
#define PIT_CH2_DATA		0x42
#define PIT_MODE		0x43
#define PIT_CH2_ONESHOT		0xb0	/* channel 2, lo/hi byte, mode 0, binary */
#define PORT_B			0x61
#define PORT_B_GATE2		0x01
#define PORT_B_SPEAKER		0x02
#define PORT_B_OUT2		0x20
#define CALIBRATE_MS		10

/* What QEMU emulates: a 1 GHz APIC bus, divided by 16 in lapic.c. Used
 * only if the PIT cannot be read (e.g. a machine without one). */
#define LAPIC_FALLBACK_PER_MS	(1000000000ull / 16 / 1000)

static struct {
	uint64_t tsc_at_boot;
	uint64_t tsc_per_ms;		/* TSC ticks per millisecond */
	uint64_t lapic_per_ms;		/* LAPIC timer ticks per millisecond */
	uint64_t ms_at_boot;		/* since reset, at tsc_at_boot; or ~0 */
} clock;

static void timer_irq(void *arg)
{
	/* Nothing to do: the interrupt has woken the idle loop, which runs
	 * whatever work came due. */
}

/* Time CALIBRATE_MS of PIT channel 2 with the TSC and the LAPIC timer.
 * Returns false when the PIT output never rose (no PIT). */
static bool calibrate(void)
{
	uint32_t count = PIT_HZ * CALIBRATE_MS / 1000;
	uint64_t tsc0, tsc1, spins = 0;
	uint32_t lapic1;
	uint8_t b = inb(PORT_B);

	outb(PORT_B, b & ~(PORT_B_GATE2 | PORT_B_SPEAKER));
	outb(PIT_MODE, PIT_CH2_ONESHOT);
	outb(PIT_CH2_DATA, count & 0xff);
	outb(PIT_CH2_DATA, count >> 8);
	lapic_timer_oneshot(0xffffffff);
	tsc0 = rdtsc();
	outb(PORT_B, (b & ~PORT_B_SPEAKER) | PORT_B_GATE2);	/* go */
	while (!(inb(PORT_B) & PORT_B_OUT2)) {
		if (++spins > 100000000)
			return false;
	}
	tsc1 = rdtsc();
	lapic1 = lapic_timer_current();
	lapic_timer_oneshot(0);
	outb(PORT_B, b & ~(PORT_B_GATE2 | PORT_B_SPEAKER));
	if (spins < 10)		/* output high at once: not a real PIT */
		return false;
	clock.tsc_per_ms = (tsc1 - tsc0) / CALIBRATE_MS;
	clock.lapic_per_ms = (0xffffffffull - lapic1) / CALIBRATE_MS;
	return clock.tsc_per_ms && clock.lapic_per_ms;
}

/*
 * Under KVM with kvmclock: the TSC rate (kHz) and the ms since the VM
 * started, read once; the hypervisor stops writing the structure when we
 * turn it off again. False elsewhere (TCG has no such leaf).
 */
static bool kvmclock_read(uint64_t *tsc_khz, uint64_t *ms_since_start, uint64_t *tsc)
{
	static struct pvclock_time_info ti __attribute__((aligned(32)));
	volatile struct pvclock_time_info *v = &ti;
	uint32_t a, b, c, d, version;
	uint64_t ns;

	cpuid(KVM_CPUID_SIGNATURE, &a, &b, &c, &d);
	if (b != 0x4b4d564b || c != 0x564b4d56 || d != 0x4d)	/* "KVMKVMKVM\0\0\0" */
		return false;
	cpuid(KVM_CPUID_FEATURES, &a, &b, &c, &d);
	if (!(a & (1u << KVM_FEATURE_CLOCKSOURCE2)))
		return false;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, virt_to_phys(&ti) | 1);
	do {
		version = v->version;
		__asm__ volatile("" ::: "memory");
		*tsc = rdtsc();
		ns = v->system_time + pvclock_scale(*tsc - v->tsc_timestamp,
						    v->tsc_to_system_mul, v->tsc_shift);
		*tsc_khz = v->tsc_to_system_mul ?
			   pvclock_tsc_khz(v->tsc_to_system_mul, v->tsc_shift) : 0;
		__asm__ volatile("" ::: "memory");
	} while ((version & 1) || version != v->version);
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
	*ms_since_start = ns / 1000000;
	return *tsc_khz != 0;
}

void clock_init(void)
{
	uint64_t khz, ms, tsc;
	bool pit;

	irq_set_handler(LAPIC_TIMER_VECTOR, timer_irq, NULL);
	clock.ms_at_boot = ~0ull;
	pit = calibrate();	/* the LAPIC timer's rate, in any case */
	if (kvmclock_read(&khz, &ms, &tsc)) {
		clock.tsc_per_ms = khz;
		clock.tsc_at_boot = tsc;
		clock.ms_at_boot = ms;
		/* The LAPIC timer measured against a PIT that is as slow to
		 * read is off too; KVM's runs at QEMU's nominal rate. */
		clock.lapic_per_ms = LAPIC_FALLBACK_PER_MS;
		pit = true;
	}
	if (!pit) {
		/* Without a PIT, measure the TSC against the LAPIC timer at
		 * QEMU's nominal rate instead. */
		uint64_t t0 = rdtsc();

		printk("clock: no PIT, assuming a 1 GHz APIC bus\n");
		clock.lapic_per_ms = LAPIC_FALLBACK_PER_MS;
		lapic_timer_oneshot(clock.lapic_per_ms * CALIBRATE_MS);
		while (lapic_timer_current())
			cpu_relax();
		clock.tsc_per_ms = (rdtsc() - t0) / CALIBRATE_MS;
	}
	if (clock.ms_at_boot == ~0ull)
		clock.tsc_at_boot = rdtsc();
	printk("clock: TSC %lu kHz, LAPIC timer %lu kHz%s\n", clock.tsc_per_ms,
	       clock.lapic_per_ms, clock.ms_at_boot != ~0ull ? " (kvmclock)" : "");
}

uint64_t clock_ms_since_reset(void)
{
	/* kvmclock counts from the VM's start; else the TSC, which starts
	 * at 0 at reset on QEMU's TCG (not under every hypervisor). */
	if (clock.ms_at_boot != ~0ull)
		return clock.ms_at_boot + time_ms();
	return rdtsc() / clock.tsc_per_ms;
}

uint64_t time_ms(void)
{
	return (rdtsc() - clock.tsc_at_boot) / clock.tsc_per_ms;
}

void clock_set_deadline(uint64_t deadline_ms)
{
	uint64_t now = time_ms(), ticks;

	if (!deadline_ms) {
		lapic_timer_oneshot(0);
		return;
	}
	/* +1 ms: time_ms() truncates, so a deadline "now" may still be in the
	 * future by a fraction of a millisecond. A long wait is capped at
	 * the 32-bit counter; waking early just re-arms. */
	ticks = deadline_ms > now ? (deadline_ms - now + 1) * clock.lapic_per_ms : 1;
	lapic_timer_oneshot(MIN(ticks, 0xffffffffull));
}
