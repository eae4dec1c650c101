/* SPDX-License-Identifier: MIT */
/*
 * autopilot-policy.c - the decisions of "vbctl auto": from per-VM stats,
 * host figures and each VM's previous state to balloon targets with their
 * reasons. Pure: no I/O, no clock; tests/unit/test-autopilot-policy.c
 * drives it through every case docs/autopilot.md describes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "autopilot-policy.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* actual may differ from a target by this much and still be "at" it:
 * the driver moves in 1 MiB batches and keeps a few MiB free. */
#define AUTOPILOT_TOLERANCE	(4 * MiB)
/* Rounds of bisection for the water level: far finer than a byte. */
#define LEVEL_ROUNDS		100

void autopilot_config_defaults(struct autopilot_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->reserve_pct = 20;
	cfg->reserve_min = 64 * MiB;
	cfg->host_mode = AUTOPILOT_HOST_RESERVE;
	cfg->host_reserve = 1 * GiB;
	cfg->max_step = 256 * MiB;
	cfg->hysteresis = 32 * MiB;
	cfg->pressure_pct = 10.0;
	cfg->stale_ms = 5000;
}

void autopilot_state_adopt(struct autopilot_vm_state *st, uint64_t actual)
{
	st->target = actual;
	st->last_actual = actual;
	st->changed_ms = 0;
	st->lowered = false;
	st->used = 0;
}

enum autopilot_source autopilot_guest_available(const struct autopilot_guest_stats *st,
						uint64_t *bytes)
{
	*bytes = 0;
	if (!st)
		return AUTOPILOT_SRC_NONE;
	/* Linux's MemAvailable counts page cache and reclaimable slab it
	 * can drop; MemFree does not, and would make a guest with a warm
	 * cache look full. */
	if (st->available_known) {
		*bytes = st->available;
		return AUTOPILOT_SRC_AVAILABLE;
	}
	if (st->free_known) {
		*bytes = st->free;
		return AUTOPILOT_SRC_FREE;
	}
	return AUTOPILOT_SRC_NONE;
}

const char *autopilot_source_name(enum autopilot_source src)
{
	switch (src) {
	case AUTOPILOT_SRC_AVAILABLE:
		return "available";
	case AUTOPILOT_SRC_FREE:
		return "free";
	case AUTOPILOT_SRC_NONE:
		break;
	}
	return "none";
}

const char *autopilot_action_name(enum autopilot_action action)
{
	static const char *const names[] = {
		[AUTOPILOT_KEEP] = "keep",
		[AUTOPILOT_GROW] = "grow",
		[AUTOPILOT_RECLAIM] = "reclaim",
		[AUTOPILOT_GIVE_BACK] = "give-back",
		[AUTOPILOT_SKIP_PAUSED] = "paused",
		[AUTOPILOT_SKIP_STALE] = "stale",
		[AUTOPILOT_SKIP_NO_STATS] = "no-stats",
	};

	if ((unsigned int)action < sizeof(names) / sizeof(names[0]))
		return names[action];
	return "?";
}

uint64_t autopilot_reserve(const struct autopilot_config *cfg, uint64_t boot)
{
	uint64_t r = boot / 100 * cfg->reserve_pct +
		     boot % 100 * cfg->reserve_pct / 100;

	if (r < cfg->reserve_min)
		r = cfg->reserve_min;
	return r < boot ? r : boot;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t align_up(uint64_t x)
{
	return (x + AUTOPILOT_GRANULE - 1) / AUTOPILOT_GRANULE * AUTOPILOT_GRANULE;
}

static uint64_t align_down(uint64_t x)
{
	return x / AUTOPILOT_GRANULE * AUTOPILOT_GRANULE;
}

/* Sizes in reasons: whole MiB, rounded to nearest. */
static unsigned long long mib(uint64_t bytes)
{
	return (unsigned long long)((bytes + MiB / 2) / MiB);
}


/* What a levelled move works with for one VM: its cap, and the level
 * per unit of weight at which it moves nothing (taking) or all of its cap
 * (giving): above it the level makes no difference. */
static uint64_t level_cap(const struct autopilot_decision *d, bool take)
{
	return take ? d->work.take_cap : d->work.give_cap;
}

static double level_top(const struct autopilot_decision *d, bool take)
{
	return (double)(take ? d->work.desired - d->work.lo : d->work.give_cap) /
		d->work.weight;
}

/* What VM D moves at water LEVEL: taking, what its reclaimable memory has
 * above LEVEL * weight; giving, LEVEL * weight; either at most its cap. */
static uint64_t level_amount(const struct autopilot_decision *d, bool take,
			     double level)
{
	double keep = level * d->work.weight;
	double r = (double)(d->work.desired - d->work.lo);

	if (!take)
		return min_u64((uint64_t)keep, d->work.give_cap);
	if (!d->work.take_cap || r <= keep)
		return 0;
	return min_u64((uint64_t)(r - keep), d->work.take_cap);
}

/*
 * Move T bytes by a water level L found by bisection, so each VM's part
 * follows its weight.
 * Reclaim (TAKE): each VM keeps a share of its reclaimable memory in
 * proportion to its weight (VM i keeps min(r_i, L * w_i)) and gives at
 * most its cap; the VMs with the most reclaimable memory per unit of
 * weight give first. Taken(L) falls as L rises: the highest L that takes
 * >= T.
 * Give back: VM i gets min(L * w_i, its cap), so room is shared in
 * proportion to the weights and what one VM cannot take goes to the
 * others. Given(L) rises with L: the level just below T, never more
 * than there is room for.
 * Either way lo is the level used. Returns what was moved in all.
 */
static uint64_t move_levelled(struct autopilot_decision *d, size_t n,
			      uint64_t t, bool take)
{
	double lo = 0, hi = 0, level;
	uint64_t total = 0, cap_total = 0;
	size_t i;
	int round;

	for (i = 0; i < n; i++) {
		d[i].work.amount = 0;
		if (!level_cap(&d[i], take))
			continue;
		cap_total += level_cap(&d[i], take);
		if (level_top(&d[i], take) > hi)
			hi = level_top(&d[i], take);
	}
	if (!cap_total)
		return 0;
	t = min_u64(t, cap_total);
	for (round = 0; round < LEVEL_ROUNDS; round++) {
		uint64_t sum = 0;

		level = (lo + hi) / 2;
		for (i = 0; i < n; i++)
			sum += level_amount(&d[i], take, level);
		if ((sum >= t) == take)
			lo = level;
		else
			hi = level;
	}
	for (i = 0; i < n; i++) {
		d[i].work.amount = level_amount(&d[i], take, lo);
		total += d[i].work.amount;
	}
	/* Floating point may leave a reclaim a few bytes short: take them
	 * in VM order. */
	for (i = 0; take && i < n && total < t; i++) {
		uint64_t more = min_u64(d[i].work.take_cap - d[i].work.amount, t - total);

		d[i].work.amount += more;
		total += more;
	}
	return total;
}

/* The host's side in words, and how short it is (<0: room). */
static int64_t host_short_by(const struct autopilot_config *cfg,
			     const struct autopilot_host *host,
			     const struct autopilot_vm *vms,
			     const struct autopilot_decision *d, size_t n,
			     struct autopilot_summary *sum, bool *may_give)
{
	int64_t short_by = 0;
	size_t i;

	*may_give = true;
	if (cfg->host_mode == AUTOPILOT_HOST_BUDGET) {
		uint64_t held = 0;

		/* Paused and stale VMs hold what they hold: the budget
		 * counts them; the VMs we may move share what is left. */
		for (i = 0; i < n; i++)
			held += d[i].work.eligible ? d[i].work.desired : d[i].work.held;
		short_by = (int64_t)held - (int64_t)cfg->host_budget;
		if (short_by > 0)
			snprintf(sum->reason, sizeof(sum->reason),
				 "guests over budget by %llu MiB", mib((uint64_t)short_by));
		else
			snprintf(sum->reason, sizeof(sum->reason),
				 "budget has %llu MiB room", mib((uint64_t)-short_by));
		/* Room smaller than the dead band is not worth a command. */
		if (short_by < 0 && (uint64_t)-short_by < cfg->hysteresis)
			*may_give = false;
	} else if (!host->mem_known) {
		snprintf(sum->reason, sizeof(sum->reason),
			 "host memory unknown: holding");
		*may_give = false;
	} else if (host->mem_available < cfg->host_reserve) {
		uint64_t gap = cfg->host_reserve - host->mem_available;
		uint64_t in_flight = 0;

		/* Balloons still inflating toward lower targets will free
		 * memory the host does not see yet: do not ask twice. */
		for (i = 0; i < n; i++)
			if (d[i].work.eligible && !d[i].spiked &&
			    vms[i].actual > vms[i].prev.target)
				in_flight += vms[i].actual - vms[i].prev.target;
		short_by = gap > in_flight ? (int64_t)(gap - in_flight) : 0;
		snprintf(sum->reason, sizeof(sum->reason),
			 "host short by %llu MiB", mib(gap));
		*may_give = false;
	} else {
		uint64_t gap = host->mem_available - cfg->host_reserve;

		if (gap > cfg->hysteresis) {
			short_by = -(int64_t)(gap - cfg->hysteresis);
			snprintf(sum->reason, sizeof(sum->reason),
				 "host has %llu MiB room", mib(gap - cfg->hysteresis));
		} else {
			snprintf(sum->reason, sizeof(sum->reason),
				 "host within %llu MiB of its reserve",
				 mib(cfg->hysteresis));
			*may_give = false;
		}
	}

	if (cfg->pressure_pct > 0 && host->pressure_known) {
		if (host->pressure_some10 >= cfg->pressure_pct) {
			uint64_t at_least = cfg->hysteresis;

			sum->pressure = true;
			if (short_by < (int64_t)at_least)
				short_by = (int64_t)at_least;
			snprintf(sum->reason, sizeof(sum->reason),
				 "host under memory pressure (some avg10 %.1f%%)",
				 host->pressure_some10);
			*may_give = false;
		} else if (host->pressure_some10 >= cfg->pressure_pct / 2) {
			/* Between half the threshold and the threshold:
			 * hold, so pressure going up and down a little does
			 * not swing the balloons. */
			*may_give = false;
		}
	}
	return short_by;
}

void autopilot_decide(const struct autopilot_config *cfg,
		      const struct autopilot_host *host,
		      const struct autopilot_vm *vms, size_t n, int64_t now_ms,
		      struct autopilot_decision *out,
		      struct autopilot_summary *summary)
{
	struct autopilot_summary local;
	struct autopilot_summary *sum = summary ? summary : &local;
	int64_t short_by;
	bool may_give;
	size_t i;

	memset(sum, 0, sizeof(*sum));

	/* 1. The guest side: what each VM needs, on its own. */
	for (i = 0; i < n; i++) {
		const struct autopilot_vm *vm = &vms[i];
		struct autopilot_decision *d = &out[i];
		uint64_t floor = min_u64(vm->floor, vm->boot);
		uint64_t used, start, avail;

		memset(d, 0, sizeof(*d));
		d->old_target = vm->prev.target;
		d->new_target = vm->prev.target;
		d->next = vm->prev;
		d->next.last_actual = vm->actual;
		d->reserve = autopilot_reserve(cfg, vm->boot);
		d->work.weight = vm->weight ? vm->weight : 1;
		d->work.held = max_u64(vm->actual, vm->prev.target);
		d->source = autopilot_guest_available(vm->stats, &avail);
		d->available = avail;

		if (!vm->running) {
			d->action = AUTOPILOT_SKIP_PAUSED;
			snprintf(d->reason, sizeof(d->reason),
				 "VM is not running: left alone");
			continue;
		}
		/*
		 * A guest whose size grew past the target we gave it took
		 * memory back by itself (deflate on OOM): it is at the end of
		 * its memory now, whatever its last sample said, and however
		 * old (a guest busy allocating may not answer for a while).
		 */
		if (vm->actual > vm->prev.last_actual + AUTOPILOT_TOLERANCE &&
		    vm->actual > vm->prev.target + AUTOPILOT_TOLERANCE) {
			d->spiked = true;
			avail = 0;
		}
		if (!d->spiked &&
		    (d->source == AUTOPILOT_SRC_NONE || !vm->stats->last_update)) {
			d->action = AUTOPILOT_SKIP_NO_STATS;
			snprintf(d->reason, sizeof(d->reason),
				 "no memory stats from the guest yet: left alone");
			continue;
		}
		if (!d->spiked && now_ms - vm->stats->last_update * 1000 > cfg->stale_ms) {
			d->action = AUTOPILOT_SKIP_STALE;
			snprintf(d->reason, sizeof(d->reason),
				 "stats are %lld s old: left alone",
				 (long long)((now_ms - vm->stats->last_update * 1000) / 1000));
			continue;
		}
		d->work.eligible = true;

		used = vm->actual > avail ? vm->actual - avail : 0;
		/*
		 * After a change, until the balloon got there and a sample
		 * taken after it arrived, the sample describes the old size,
		 * so size minus available is off by what the balloon moved
		 * since: too low after a reclaim, too high after a grow. Use
		 * the figure the change was made with: after a reclaim when
		 * it is higher (never take twice), after a grow as it is
		 * (never grow twice for one need; a guest that goes on
		 * allocating shows it by deflating past the target).
		 */
		d->settling = vm->prev.changed_ms &&
			      (!vm->stats ||
			       vm->stats->last_update * 1000 <= vm->prev.changed_ms ||
			       vm->actual > vm->prev.target + AUTOPILOT_TOLERANCE ||
			       vm->actual + AUTOPILOT_TOLERANCE < vm->prev.target);
		if (d->settling && !d->spiked)
			used = vm->prev.lowered ? max_u64(used, vm->prev.used) :
				vm->prev.used;
		d->next.used = used;
		d->need = align_up(used + d->reserve);
		d->need = min_u64(max_u64(d->need, floor), vm->boot);
		/* Reclaim keeps the dead band above the need, so a guest's
		 * small ups and downs never bounce between grow and reclaim. */
		d->work.lo = min_u64(d->need + cfg->hysteresis, vm->boot);
		start = min_u64(max_u64(vm->prev.target, floor), vm->boot);

		if (start < d->need || vm->prev.target < floor) {
			/* Below the reserve: all of it back in one step. */
			d->work.desired = max_u64(d->work.lo, start);
			d->action = AUTOPILOT_GROW;
			if (d->spiked)
				snprintf(d->reason, sizeof(d->reason),
					 "guest took %llu MiB back by itself under memory pressure, reserve %llu MiB",
					 mib(vm->actual - vm->prev.target), mib(d->reserve));
			else if (start < d->need)
				snprintf(d->reason, sizeof(d->reason),
					 "guest has %llu MiB %s, below its reserve of %llu MiB",
					 mib(d->available), autopilot_source_name(d->source),
					 mib(d->reserve));
			else
				snprintf(d->reason, sizeof(d->reason),
					 "below its floor of %llu MiB", mib(floor));
			continue;
		}
		d->work.desired = start;

		if (d->work.desired > d->work.lo)
			d->work.take_cap = d->work.desired - d->work.lo;
		if (cfg->max_step && d->work.take_cap > cfg->max_step)
			d->work.take_cap = cfg->max_step;
		if (vm->boot > d->work.desired)
			d->work.give_cap = vm->boot - d->work.desired;
		if (cfg->max_step && d->work.give_cap > cfg->max_step)
			d->work.give_cap = cfg->max_step;
		if (d->settling)
			snprintf(d->reason, sizeof(d->reason),
				 "balloon settling after a change");
	}

	/* 2. The host side: how much it needs back, or can give. */
	short_by = host_short_by(cfg, host, vms, out, n, sum, &may_give);
	sum->short_by = short_by;

	if (short_by > 0) {
		uint64_t got = move_levelled(out, n, (uint64_t)short_by, true);

		for (i = 0; i < n; i++) {
			struct autopilot_decision *d = &out[i];
			uint64_t t;

			if (!d->work.amount)
				continue;
			/* Whole MiB, rounding toward taking a little more, so
			 * the sum stays within what the host asked for. */
			t = max_u64(align_down(d->work.desired - d->work.amount),
				    d->work.lo);
			if (t >= d->work.desired)
				continue;
			snprintf(d->reason, sizeof(d->reason),
				 "guest has %llu MiB reclaimable, %.120s",
				 mib(d->work.desired - d->work.lo), sum->reason);
			d->work.desired = t;
			d->action = AUTOPILOT_RECLAIM;
		}
		if (got < (uint64_t)short_by) {
			size_t len = strlen(sum->reason);

			snprintf(sum->reason + len, sizeof(sum->reason) - len,
				 "; %llu MiB of it not reclaimable now",
				 mib((uint64_t)short_by - got));
		}
	} else if (short_by < 0 && may_give) {
		uint64_t room = (uint64_t)-short_by, given = 0;

		move_levelled(out, n, room, false);
		/* Whole MiB (or up to boot memory exactly)... */
		for (i = 0; i < n; i++) {
			struct autopilot_decision *d = &out[i];
			uint64_t t = d->work.desired + d->work.amount;

			t = t >= vms[i].boot ? vms[i].boot : align_down(t);
			d->work.amount = t > d->work.desired ? t - d->work.desired : 0;
			given += d->work.amount;
		}
		/* ...and what rounding left over, a MiB at a time to whoever
		 * got least for its weight. */
		while (room - given >= AUTOPILOT_GRANULE) {
			size_t best = n;

			for (i = 0; i < n; i++) {
				if (out[i].work.give_cap < out[i].work.amount +
							   AUTOPILOT_GRANULE)
					continue;
				if (best == n ||
				    out[i].work.amount / out[i].work.weight <
				    out[best].work.amount / out[best].work.weight)
					best = i;
			}
			if (best == n)
				break;
			out[best].work.amount += AUTOPILOT_GRANULE;
			given += AUTOPILOT_GRANULE;
		}
		for (i = 0; i < n; i++) {
			struct autopilot_decision *d = &out[i];

			if (!d->work.amount)
				continue;
			snprintf(d->reason, sizeof(d->reason),
				 "%.120s, guest is %llu MiB below its boot memory",
				 sum->reason, mib(vms[i].boot - d->work.desired));
			d->work.desired += d->work.amount;
			d->action = AUTOPILOT_GIVE_BACK;
		}
	}

	/* 3. Results, and the state each VM carries to the next step. */
	for (i = 0; i < n; i++) {
		struct autopilot_decision *d = &out[i];

		if (d->work.eligible) {
			d->new_target = d->work.desired;
			d->reclaimable = d->new_target > d->work.lo ?
					 d->new_target - d->work.lo : 0;
			sum->sum_need += d->need;
		}
		d->send = d->new_target != d->old_target;
		d->next.target = d->new_target;
		if (d->send) {
			d->next.changed_ms = now_ms;
			d->next.lowered = d->new_target < d->old_target;
		}
		if (d->send)
			sum->sent++;
		sum->sum_targets += d->new_target;
		if (d->action == AUTOPILOT_KEEP && !d->reason[0])
			snprintf(d->reason, sizeof(d->reason),
				 "%llu MiB %s, %llu MiB reclaimable",
				 mib(d->available), autopilot_source_name(d->source),
				 mib(d->reclaimable));
	}
}
