/* SPDX-License-Identifier: MIT */
/*
 * test-check-rules.c - the judgements of "vbctl check" on made-up
 * observations: a driver's status, balloon moves (steps, overshoot, exact
 * times from events), stats samples and the pressure rule, each passing
 * exactly when the rule holds, with the figure a user reads.
 */
#include "config.h"

#include "../tap.h"
#include "../../tools/vbctl/check-rules.h"

#define MiB (1024ull * 1024)
#define GiB (1024 * MiB)

static char fig[320];

static void result(enum check_result got, enum check_result want, const char *text,
		   const char *desc)
{
	if (!ok(got == want && strstr(fig, text), "%s: %s, '%s'", desc,
		check_result_name(want), text))
		tap_diag("got %s: '%s'", check_result_name(got), fig);
}

static void driver(void)
{
	const unsigned int all = CHECK_STATUS_ACKNOWLEDGE | CHECK_STATUS_DRIVER |
				 CHECK_STATUS_FEATURES_OK | CHECK_STATUS_DRIVER_OK;

	result(check_judge_driver(all, false, false, "stats-vq", fig, sizeof(fig)),
	       CHECK_PASS, "DRIVER_OK, modern interface, features stats-vq", "modern, all steps");
	result(check_judge_driver(all & ~CHECK_STATUS_FEATURES_OK, false, true, "none",
				  fig, sizeof(fig)),
	       CHECK_PASS, "legacy interface", "legacy needs no FEATURES_OK");
	result(check_judge_driver(all & ~CHECK_STATUS_FEATURES_OK, false, false, "none",
				  fig, sizeof(fig)),
	       CHECK_FAIL, "lacks FEATURES_OK", "modern without FEATURES_OK");
	result(check_judge_driver(0, false, false, "none", fig, sizeof(fig)),
	       CHECK_FAIL, "device status 0: no driver", "no driver at all");
	result(check_judge_driver(CHECK_STATUS_ACKNOWLEDGE, false, false, "none", fig, sizeof(fig)),
	       CHECK_FAIL, "lacks DRIVER (no driver bound", "a bus driver only");
	result(check_judge_driver(all & ~CHECK_STATUS_DRIVER_OK, false, false, "none",
				  fig, sizeof(fig)),
	       CHECK_FAIL, "lacks DRIVER_OK (the driver never finished", "no DRIVER_OK");
	result(check_judge_driver(all | CHECK_STATUS_FAILED, false, false, "none", fig, sizeof(fig)),
	       CHECK_FAIL, "has FAILED", "FAILED");
	result(check_judge_driver(all | CHECK_STATUS_NEEDS_RESET, false, false, "none",
				  fig, sizeof(fig)),
	       CHECK_FAIL, "has NEEDS_RESET", "NEEDS_RESET");
	result(check_judge_driver(all, true, false, "none", fig, sizeof(fig)),
	       CHECK_FAIL, "broken", "a broken device");
}

static void moves(void)
{
	struct check_progress p = { 0 };
	struct check_move m;

	/* Inflate 2 GiB -> 1 GiB in steps; a poll sees the end first, the
	 * event (with the exact time) comes later. */
	check_move_begin(&m, 2 * GiB, GiB, false, 1000000);
	check_move_observe(&m, 1536 * MiB, 1100000, true);
	check_move_observe(&m, 1200 * MiB, 1150000, false);
	ok(!m.reached && m.between == 2, "inflate: two steps between, not there yet");
	check_move_observe(&m, GiB, 1400000, false);
	ok(m.reached && !m.done_exact, "a poll sees the target: reached, time not exact");
	check_move_observe(&m, GiB, 1250000, true);
	ok(m.done_exact && m.done_us == 1250000, "the event's timestamp replaces the poll's");
	result(check_judge_move(&m, "inflate", fig, sizeof(fig)), CHECK_PASS,
	       "2.00 GiB -> 1.00 GiB exactly in 0.250 s", "inflate judged");
	check_progress_add(&p, &m);

	/* Deflate that jumps straight to the target. */
	check_move_begin(&m, GiB, 2 * GiB, false, 0);
	check_move_observe(&m, 2 * GiB, 500000, true);
	result(check_judge_move(&m, "deflate", fig, sizeof(fig)), CHECK_PASS,
	       "exactly in 0.500 s", "deflate in one write");
	ok(m.between == 0, "no step between");
	check_progress_add(&p, &m);
	result(check_judge_progress(&p, fig, sizeof(fig)), CHECK_PASS,
	       "in steps in 1 of 2 moves", "progress: one move in steps is enough");

	/* An inflate past its target, then back. */
	check_move_begin(&m, 2 * GiB, GiB, false, 0);
	check_move_observe(&m, 900 * MiB, 100, true);
	check_move_observe(&m, GiB, 200, true);
	ok(m.reached && m.overshoot, "reached, but went past the target first");
	result(check_judge_move(&m, "inflate", fig, sizeof(fig)), CHECK_FAIL,
	       "passed the target (900.00 MiB)", "overshoot fails the move");
	check_progress_add(&p, &m);
	result(check_judge_progress(&p, fig, sizeof(fig)), CHECK_FAIL,
	       "went 900.00 MiB past a target of 1.00 GiB", "and the progress check");

	/* A deflate past its target (above it). */
	check_move_begin(&m, GiB, 1536 * MiB, false, 0);
	check_move_observe(&m, 1600 * MiB, 100, false);
	ok(m.overshoot && !m.reached, "deflate past the target");

	/* Stopped short. */
	check_move_begin(&m, 2 * GiB, GiB, false, 0);
	check_move_observe(&m, 1800 * MiB, 100, true);
	snprintf(m.why, sizeof(m.why), "\"actual\" stopped moving for 5 s");
	result(check_judge_move(&m, "inflate", fig, sizeof(fig)), CHECK_FAIL,
	       "inflate 2.00 GiB -> 1.00 GiB: \"actual\" stopped moving for 5 s at 1.76 GiB",
	       "stopped short");

	/* Already there: done at once, exactly. */
	check_move_begin(&m, GiB, GiB, false, 7);
	ok(m.reached && m.done_exact && check_move_seconds(&m) == 0, "already at the target");
	/* The floor has no target to reach. */
	check_move_begin(&m, GiB, 1, true, 0);
	ok(!m.reached, "settle: not reached at the start");

	/* Every move in one write. */
	memset(&p, 0, sizeof(p));
	check_move_begin(&m, 2 * GiB, GiB, false, 0);
	check_move_observe(&m, GiB, 10, true);
	check_progress_add(&p, &m);
	check_progress_add(&p, &m);
	result(check_judge_progress(&p, fig, sizeof(fig)), CHECK_FAIL,
	       "jumped straight to the target in all 2 moves", "no progress");
}

static struct check_sample sample(uint64_t total, uint64_t free_, uint64_t avail)
{
	struct check_sample s = { .last_update = 1 };

	s.value[QMP_STAT_TOTAL_MEMORY] = total;
	s.value[QMP_STAT_FREE_MEMORY] = free_;
	s.known = 1u << QMP_STAT_TOTAL_MEMORY | 1u << QMP_STAT_FREE_MEMORY;
	if (avail) {
		s.value[QMP_STAT_AVAILABLE_MEMORY] = avail;
		s.known |= 1u << QMP_STAT_AVAILABLE_MEMORY;
	}
	return s;
}

static void stats(void)
{
	struct check_sample full = sample(2 * GiB - 16 * MiB, 2 * GiB - 40 * MiB, 0);
	struct check_sample half = sample(2 * GiB - 16 * MiB, GiB - 40 * MiB, 0);

	result(check_judge_stats(&full, &half, 2 * GiB, GiB, fig, sizeof(fig)), CHECK_PASS,
	       "free-memory fell by 1.00 GiB as the balloon took 1.00 GiB", "plausible");
	half = sample(2 * GiB - 16 * MiB, 2 * GiB - 400 * MiB, 0);
	result(check_judge_stats(&full, &half, 2 * GiB, GiB, fig, sizeof(fig)), CHECK_FAIL,
	       "fell by 360.00 MiB", "free fell by less than half the balloon");
	half = sample(2 * GiB - 16 * MiB, 2 * GiB - 552 * MiB, 0);
	result(check_judge_stats(&full, &half, 2 * GiB, GiB, fig, sizeof(fig)), CHECK_PASS,
	       "fell by 512.00 MiB", "exactly half is enough");
	half = sample(3 * GiB, GiB, 0);
	result(check_judge_stats(&full, &half, 2 * GiB, GiB, fig, sizeof(fig)), CHECK_FAIL,
	       "total-memory 3.00 GiB is more than the boot memory 2.00 GiB", "total > boot");
	half = sample(GiB, 2 * GiB, 0);
	result(check_judge_stats(&full, &half, 2 * GiB, GiB, fig, sizeof(fig)), CHECK_FAIL,
	       "free-memory 2.00 GiB is more than total-memory 1.00 GiB", "free > total");
	full = sample(GiB, GiB, 2 * GiB);
	result(check_judge_stats(&full, &half, 2 * GiB, GiB, fig, sizeof(fig)), CHECK_FAIL,
	       "available-memory 2.00 GiB is more than total-memory", "available > total");
	full = sample(2 * GiB, 2 * GiB, GiB);
	half = sample(2 * GiB, GiB, 0);
	result(check_judge_stats(&full, &half, 2 * GiB, GiB, fig, sizeof(fig)), CHECK_FAIL,
	       "the set of stats changed", "a tag went missing");
	half.known = 0;
	result(check_judge_stats(&full, &half, 2 * GiB, GiB, fig, sizeof(fig)), CHECK_FAIL,
	       "total-memory or free-memory unset", "no total or free");
}

static void pressure(void)
{
	result(check_judge_pressure(true, 20 * MiB, 84 * MiB, 0.5, fig, sizeof(fig)), CHECK_PASS,
	       "DEFLATE_ON_OOM: guest took back 64.00 MiB (20.00 MiB -> 84.00 MiB) in 0.5 s",
	       "deflate-on-oom: took memory back");
	result(check_judge_pressure(true, 20 * MiB, 20 * MiB, 60, fig, sizeof(fig)), CHECK_FAIL,
	       "did not take back memory", "deflate-on-oom: kept the balloon");
	result(check_judge_pressure(false, 20 * MiB, 20 * MiB, 6, fig, sizeof(fig)), CHECK_PASS,
	       "no DEFLATE_ON_OOM: the balloon kept", "without it: kept");
	result(check_judge_pressure(false, 20 * MiB, 30 * MiB, 6, fig, sizeof(fig)), CHECK_FAIL,
	       "yet the guest took back 10.00 MiB", "without it: took pages back anyway");
}

int main(void)
{
	driver();
	moves();
	stats();
	pressure();
	is_str(check_result_name(CHECK_NA), "n/a", "n/a is spelt n/a");
	return tap_done();
}
