/* SPDX-License-Identifier: MIT */
/*
 * check-rules.c - the judgements of "vbctl check" (see check-rules.h):
 * pure functions over what cmd-check.c observed through QMP.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "check-rules.h"
#include "size.h"

const char *check_result_name(enum check_result r)
{
	static const char *const names[] = { "pass", "fail", "n/a" };

	return r <= CHECK_NA ? names[r] : "?";
}

static enum check_result say(char *fig, size_t len, enum check_result r,
			     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum check_result say(char *fig, size_t len, enum check_result r,
			     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fig, len, fmt, ap);
	va_end(ap);
	return r;
}

static const char *iec(uint64_t bytes, char *buf)
{
	return vbctl_size_iec(bytes, buf, VBCTL_SIZE_HUMAN_MAX);
}

/* ---- the device status ----------------------------------------------------- */

enum check_result check_judge_driver(unsigned int status, bool broken, bool legacy,
				     const char *features, char *fig, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name, *hint;
	} steps[] = {
		{ CHECK_STATUS_ACKNOWLEDGE, "ACKNOWLEDGE", "" },
		{ CHECK_STATUS_DRIVER, "DRIVER", " (no driver bound to the device)" },
		{ CHECK_STATUS_FEATURES_OK, "FEATURES_OK", " (feature negotiation not done)" },
		{ CHECK_STATUS_DRIVER_OK, "DRIVER_OK", " (the driver never finished setting up)" },
	};
	size_t i;

	if (broken)
		return say(fig, len, CHECK_FAIL, "QEMU marked the device broken");
	if (status == 0)
		return say(fig, len, CHECK_FAIL, "device status 0: no driver has touched the device");
	if (status & (CHECK_STATUS_FAILED | CHECK_STATUS_NEEDS_RESET))
		return say(fig, len, CHECK_FAIL, "device status has %s",
			   status & CHECK_STATUS_FAILED ? "FAILED" : "NEEDS_RESET");
	/* The init steps in order (3.1.1); a legacy driver has no
	 * FEATURES_OK step (3.1.2). */
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (!(status & steps[i].bit) &&
		    (steps[i].bit != CHECK_STATUS_FEATURES_OK || !legacy))
			return say(fig, len, CHECK_FAIL, "device status lacks %s%s",
				   steps[i].name, steps[i].hint);
	return say(fig, len, CHECK_PASS, "DRIVER_OK, %s interface, features %s",
		   legacy ? "legacy" : "modern", features);
}

/* ---- balloon moves ---------------------------------------------------------- */

void check_move_begin(struct check_move *m, uint64_t from, uint64_t target,
		      bool settle, int64_t now_us)
{
	memset(m, 0, sizeof(*m));
	m->from = m->last = from;
	m->target = target;
	m->reached = !settle && from == target;
	m->start_us = m->done_us = m->last_change_us = now_us;
	m->done_exact = m->reached;
}

void check_move_observe(struct check_move *m, uint64_t actual, int64_t when_us,
			bool from_event)
{
	bool inflating = m->target < m->from;

	/* The event for a value a poll saw first carries the exact time. */
	if (actual == m->last) {
		if (from_event && m->reached && !m->done_exact) {
			m->done_us = when_us;
			m->done_exact = true;
		}
		return;
	}
	m->last = actual;
	m->last_change_us = when_us;
	if (actual == m->target) {
		m->reached = true;
		m->done_us = when_us;
		m->done_exact = from_event;
		return;
	}
	m->reached = false;
	if (inflating ? actual < m->target : actual > m->target) {
		if (!m->overshoot)
			m->overshoot_value = actual;
		m->overshoot = true;
	} else if (inflating ? actual < m->from : actual > m->from) {
		m->between++;
	}
}

double check_move_seconds(const struct check_move *m)
{
	int64_t end = m->reached ? m->done_us : m->last_change_us;

	return end > m->start_us ? (end - m->start_us) / 1e6 : 0;
}

enum check_result check_judge_move(const struct check_move *m, const char *verb,
				   char *fig, size_t len)
{
	char a[VBCTL_SIZE_HUMAN_MAX], t[VBCTL_SIZE_HUMAN_MAX], f[VBCTL_SIZE_HUMAN_MAX];

	if (!m->reached)
		return say(fig, len, CHECK_FAIL, "%s %s -> %s: %s at %s", verb, iec(m->from, f),
			   iec(m->target, t), m->why[0] ? m->why : "not reached",
			   iec(m->last, a));
	if (m->overshoot)
		return say(fig, len, CHECK_FAIL, "%s %s -> %s: passed the target (%s)", verb,
			   iec(m->from, f), iec(m->target, t), iec(m->overshoot_value, a));
	return say(fig, len, CHECK_PASS, "%s -> %s exactly in %.3f s", iec(m->from, f),
		   iec(m->target, t), check_move_seconds(m));
}

void check_progress_add(struct check_progress *p, const struct check_move *m)
{
	char a[VBCTL_SIZE_HUMAN_MAX], t[VBCTL_SIZE_HUMAN_MAX];

	p->moves++;
	p->moves_between += m->between > 0;
	if (m->overshoot && !p->overshoot)
		snprintf(p->note, sizeof(p->note), "%s past a target of %s",
			 iec(m->overshoot_value, a), iec(m->target, t));
	p->overshoot |= m->overshoot;
}

enum check_result check_judge_progress(const struct check_progress *p, char *fig,
				       size_t len)
{
	if (p->overshoot)
		return say(fig, len, CHECK_FAIL, "\"actual\" went %s", p->note);
	if (p->moves_between == 0)
		return say(fig, len, CHECK_FAIL,
			   "\"actual\" jumped straight to the target in all %u moves", p->moves);
	return say(fig, len, CHECK_PASS,
		   "\"actual\" moved in steps in %u of %u moves, never past the target",
		   p->moves_between, p->moves);
}

/* ---- statistics --------------------------------------------------------------- */

static bool known(const struct check_sample *s, enum qmp_balloon_stat stat)
{
	return s->known & (1u << stat);
}

enum check_result check_judge_stats(const struct check_sample *full,
				    const struct check_sample *half, uint64_t boot,
				    uint64_t took, char *fig, size_t len)
{
	char x[VBCTL_SIZE_HUMAN_MAX], y[VBCTL_SIZE_HUMAN_MAX];
	const struct check_sample *s;
	uint64_t total, fell;
	int i;

	for (i = 0; i < 2; i++) {
		s = i ? half : full;
		if (!known(s, QMP_STAT_TOTAL_MEMORY) || !known(s, QMP_STAT_FREE_MEMORY))
			return say(fig, len, CHECK_FAIL, "total-memory or free-memory unset");
		total = s->value[QMP_STAT_TOTAL_MEMORY];
		if (total > boot)
			return say(fig, len, CHECK_FAIL,
				   "total-memory %s is more than the boot memory %s",
				   iec(total, x), iec(boot, y));
		if (s->value[QMP_STAT_FREE_MEMORY] > total)
			return say(fig, len, CHECK_FAIL, "free-memory %s is more than total-memory %s",
				   iec(s->value[QMP_STAT_FREE_MEMORY], x), iec(total, y));
		if (known(s, QMP_STAT_AVAILABLE_MEMORY) &&
		    s->value[QMP_STAT_AVAILABLE_MEMORY] > total)
			return say(fig, len, CHECK_FAIL,
				   "available-memory %s is more than total-memory %s",
				   iec(s->value[QMP_STAT_AVAILABLE_MEMORY], x), iec(total, y));
	}
	if (half->known != full->known)
		return say(fig, len, CHECK_FAIL, "the set of stats changed after inflating");
	fell = full->value[QMP_STAT_FREE_MEMORY] > half->value[QMP_STAT_FREE_MEMORY] ?
	       full->value[QMP_STAT_FREE_MEMORY] - half->value[QMP_STAT_FREE_MEMORY] : 0;
	/* Roughly: the balloon's pages are not free any more. */
	return say(fig, len, fell >= took / 2 ? CHECK_PASS : CHECK_FAIL,
		   "free-memory fell by %s as the balloon took %s", iec(fell, x), iec(took, y));
}

/* ---- pressure ------------------------------------------------------------------ */

enum check_result check_judge_pressure(bool deflate_on_oom, uint64_t floor,
				       uint64_t actual, double seconds, char *fig,
				       size_t len)
{
	char a[VBCTL_SIZE_HUMAN_MAX], b[VBCTL_SIZE_HUMAN_MAX], d[VBCTL_SIZE_HUMAN_MAX];

	if (deflate_on_oom && actual > floor)
		return say(fig, len, CHECK_PASS, "DEFLATE_ON_OOM: guest took back %s (%s -> %s) in %.1f s",
			   iec(actual - floor, d), iec(floor, b), iec(actual, a), seconds);
	if (deflate_on_oom)
		return say(fig, len, CHECK_FAIL,
			   "DEFLATE_ON_OOM: guest did not take back memory (actual %s) in %.1f s",
			   iec(actual, a), seconds);
	if (actual > floor)
		return say(fig, len, CHECK_FAIL,
			   "no DEFLATE_ON_OOM, yet the guest took back %s (%s -> %s)",
			   iec(actual - floor, d), iec(floor, b), iec(actual, a));
	return say(fig, len, CHECK_PASS, "no DEFLATE_ON_OOM: the balloon kept (actual %s)",
		   iec(actual, a));
}
