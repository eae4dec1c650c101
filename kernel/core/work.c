/* SPDX-License-Identifier: MIT */
/*
 * work.c - deferred work and timers: interrupt handlers queue work, the
 * idle loop runs it with interrupts enabled; timers are work items queued
 * when their deadline passes (the clock fires once at the earliest one).
 */
#include "kernel.h"
#include "init.h"
#include "irq.h"

/*
 * The queue is shared with interrupt handlers (work_queue), so every
 * change to it is made with interrupts disabled. Timers are armed from
 * work context but also checked by the idle loop with interrupts off, so
 * they get the same treatment.
 */
static struct {
	struct work *head, *tail;	/* FIFO of queued work */
	struct work *timers;		/* armed timers, unordered */
} wq;

void work_init(struct work *w, void (*fn)(void *), void *arg)
{
	*w = (struct work){ .fn = fn, .arg = arg };
}

void work_queue(struct work *w)
{
	uint64_t flags = irq_save();

	if (!w->queued) {
		w->queued = true;
		w->next = NULL;
		if (wq.tail)
			wq.tail->next = w;
		else
			wq.head = w;
		wq.tail = w;
	}
	irq_restore(flags);
}

static void timer_unlink(struct work *w)
{
	for (struct work **p = &wq.timers; *p; p = &(*p)->timer_next) {
		if (*p == w) {
			*p = w->timer_next;
			break;
		}
	}
	w->timer_armed = false;
}

void work_schedule(struct work *w, uint64_t delay_ms)
{
	uint64_t flags = irq_save();

	if (!w->timer_armed) {
		w->timer_armed = true;
		w->timer_next = wq.timers;
		wq.timers = w;
	}
	w->due_ms = time_ms() + delay_ms;
	irq_restore(flags);
}

void work_cancel(struct work *w)
{
	uint64_t flags = irq_save();

	if (w->timer_armed)
		timer_unlink(w);
	if (w->queued) {
		struct work *prev = NULL;

		for (struct work *q = wq.head; q; prev = q, q = q->next) {
			if (q != w)
				continue;
			if (prev)
				prev->next = w->next;
			else
				wq.head = w->next;
			if (wq.tail == w)
				wq.tail = prev;
			break;
		}
		w->queued = false;
	}
	irq_restore(flags);
}

/* Queue every timer whose deadline has passed. Interrupts disabled. */
static void timers_expire(void)
{
	uint64_t now = time_ms();
	struct work *w = wq.timers, *next;

	for (; w; w = next) {
		next = w->timer_next;
		if (w->due_ms <= now) {
			timer_unlink(w);
			work_queue(w);
		}
	}
}

bool work_pending(void)
{
	uint64_t flags = irq_save();
	bool pending;

	timers_expire();
	pending = wq.head != NULL;
	irq_restore(flags);
	return pending;
}

uint64_t work_next_deadline(void)
{
	uint64_t flags = irq_save(), next = 0;

	for (struct work *w = wq.timers; w; w = w->timer_next)
		if (!next || w->due_ms < next)
			next = w->due_ms;
	irq_restore(flags);
	return next;
}

void work_run_pending(void)
{
	for (;;) {
		uint64_t flags = irq_save();
		struct work *w;

		timers_expire();
		w = wq.head;
		if (w) {
			wq.head = w->next;
			if (!wq.head)
				wq.tail = NULL;
			w->queued = false;	/* it may queue itself again */
		}
		irq_restore(flags);
		if (!w)
			return;
		w->fn(w->arg);
	}
}
