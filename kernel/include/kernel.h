/* SPDX-License-Identifier: MIT */
/*
 * kernel.h - what every kernel file needs: fixed-width types, printk,
 * panic, the string routines, and the deferred-work/timer primitives that
 * drivers use instead of doing real work in interrupt context.
 */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define KiB		1024ull
#define MiB		(1024ull * KiB)
#define GiB		(1024ull * MiB)

/* Console output on COM1 (kernel/drivers/serial.c). printf-like: %d %i
 * %u %x %p %s %c %%, with l/ll/z length modifiers and 0/width padding. */
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintk(char *buf, size_t size, const char *fmt, va_list ap);
int snprintk(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/*
 * Deferred work. Interrupt handlers only acknowledge the hardware and
 * queue work; the idle loop in main() runs queued work with interrupts
 * enabled, then halts until the next interrupt. So all driver logic runs
 * in one context and needs no locks. A work item is queued at most once
 * at a time (queueing a queued item does nothing).
 */
struct work {
	void (*fn)(void *arg);
	void *arg;
	struct work *next;	/* owned by the work queue */
	bool queued;		/* owned by the work queue */
	uint64_t due_ms;	/* owned by the timer code */
	bool timer_armed;	/* owned by the timer code */
	struct work *timer_next;	/* owned by the timer code */
};
void work_init(struct work *w, void (*fn)(void *), void *arg);
/* Safe from interrupt handlers. */
void work_queue(struct work *w);
/* Queue W after DELAY_MS milliseconds (re-arming moves the deadline). */
void work_schedule(struct work *w, uint64_t delay_ms);
void work_cancel(struct work *w);
/* Queued, or armed to be queued by a timer. */
static inline bool work_is_pending(const struct work *w)
{
	return w->queued || w->timer_armed;
}
/* Run queued and due work until none is left; called by the idle loop. */
void work_run_pending(void);

/* Milliseconds since boot (LAPIC timer). */
uint64_t time_ms(void);

/* Kernel command line (-append), parsed once at boot (kernel/cmdline.c). */
const char *cmdline_get(const char *key);	/* "balloon.min" -> "16M" or NULL */
/* Every value of a key that may repeat (virtio_mmio.device=...), first to
 * last: start with *CURSOR = 0; NULL when there are no more. */
const char *cmdline_next(const char *key, int *cursor);
/* Parse "123", "16M", "1G", "4K" (powers of 1024) into bytes; false on error. */
bool parse_size(const char *s, uint64_t *bytes);

#endif
