/* SPDX-License-Identifier: MIT */
/*
 * check-rules.h - the judgements of "vbctl check" as pure functions: what
 * was observed (balloon moves, stats samples, the device status) goes in,
 * a result and the figure to print come out. No I/O, so every rule is
 * tested on the host without QEMU; cmd-check.c gathers and prints.
 */
#ifndef VBCTL_CHECK_RULES_H
#define VBCTL_CHECK_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qmp/qmp.h>

#include "doctor.h"

enum check_result { CHECK_PASS, CHECK_FAIL, CHECK_NA };

/* "pass", "fail", "n/a". */
const char *check_result_name(enum check_result r);

/* Virtio device status bits (virtio 1.2, 2.1): the ones doctor reads
 * (doctor_status_bit() turns QEMU's names into them). */
#define CHECK_STATUS_ACKNOWLEDGE	DOCTOR_STATUS_ACKNOWLEDGE
#define CHECK_STATUS_DRIVER		DOCTOR_STATUS_DRIVER
#define CHECK_STATUS_DRIVER_OK		DOCTOR_STATUS_DRIVER_OK
#define CHECK_STATUS_FEATURES_OK	DOCTOR_STATUS_FEATURES_OK
#define CHECK_STATUS_NEEDS_RESET	DOCTOR_STATUS_NEEDS_RESET
#define CHECK_STATUS_FAILED		DOCTOR_STATUS_FAILED

/*
 * The driver check: STATUS (CHECK_STATUS_*) as x-query-virtio-status
 * shows it, BROKEN its "broken" flag, LEGACY when the driver did not
 * accept VERSION_1 (a legacy driver has no FEATURES_OK step, 3.1.2),
 * FEATURES the accepted features as text for the figure.
 */
enum check_result check_judge_driver(unsigned int status, bool broken, bool legacy,
				     const char *features, char *fig, size_t len);

/* One move of the balloon toward a target, as observed. */
struct check_move {
	uint64_t from, target, last;	/* bytes of "actual" */
	int64_t start_us;	/* wall clock when the target was set */
	int64_t done_us;	/* when "actual" reached the target */
	int64_t last_change_us;	/* when "actual" last changed */
	unsigned int between;	/* changes to values strictly between */
	bool reached;		/* "actual" is at the target now */
	bool done_exact;	/* done_us is an event's timestamp, not a poll's */
	bool overshoot;		/* "actual" went past the target */
	uint64_t overshoot_value;
	char why[160];		/* why it ended short of the target */
};

/* A move from FROM toward TARGET, started at NOW_US. SETTLE: there is no
 * target to reach (the floor), only a place where it stops. */
void check_move_begin(struct check_move *m, uint64_t from, uint64_t target,
		      bool settle, int64_t now_us);
/* "actual" seen at WHEN_US: from a BALLOON_CHANGE event (its timestamp,
 * exact) or from query-balloon (the time of the poll, an upper bound). */
void check_move_observe(struct check_move *m, uint64_t actual, int64_t when_us,
			bool from_event);
/* Seconds from the start to reaching the target (or the last change). */
double check_move_seconds(const struct check_move *m);
/* inflate/deflate: reached exactly, never past the target. VERB names
 * the move in a failure ("inflate"). */
enum check_result check_judge_move(const struct check_move *m, const char *verb,
				   char *fig, size_t len);

/* What the moves of one run showed, for the progress check. */
struct check_progress {
	unsigned int moves, moves_between;
	bool overshoot;
	char note[96];		/* the first overshoot */
};
void check_progress_add(struct check_progress *p, const struct check_move *m);
/* "actual" moved in steps (in some move) and never past a target. */
enum check_result check_judge_progress(const struct check_progress *p, char *fig,
				       size_t len);

/* One stats sample (QOM guest-stats). */
struct check_sample {
	uint64_t value[QMP_STAT_COUNT];	/* valid where known */
	uint32_t known;			/* bit (1u << stat): reported */
	int64_t last_update;		/* seconds since the epoch; 0: never */
};

/* FULL at the boot size BOOT, HALF after the balloon took TOOK bytes:
 * total at most BOOT, free and available at most total, the same tags,
 * and free fell by at least half of TOOK. */
enum check_result check_judge_stats(const struct check_sample *full,
				    const struct check_sample *half, uint64_t boot,
				    uint64_t took, char *fig, size_t len);

/* --pressure: with the balloon at FLOOR bytes of "actual", the guest was
 * made to allocate; "actual" is now ACTUAL, SECONDS after. With
 * DEFLATE_ON_OOM it must have risen (5.5.6.1: it may take pages back
 * when it needs them); without, it must not. */
enum check_result check_judge_pressure(bool deflate_on_oom, uint64_t floor,
				       uint64_t actual, double seconds, char *fig,
				       size_t len);

#endif
