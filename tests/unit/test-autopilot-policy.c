/* SPDX-License-Identifier: MIT */
/*
 * test-autopilot-policy.c - the decisions of "vbctl auto", case by case:
 * guest reserve and spikes, host reserve and budget, floors and ceilings,
 * the step limit, stale, paused and vanished VMs, weights and fairness,
 * available versus free memory; and a small simulated fleet run for many
 * steps to show the targets settle and stop moving.
 */
#include "config.h"

#include "../tap.h"
#include "../../tools/vbctl/autopilot-policy.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define NOW_MS INT64_C(1700000000000)	/* a wall clock, ms */
/* What our guest keeps free however hard it is inflated (balloon.min). */
#define GUEST_MIN_FREE (16 * MiB)

/* A guest as the tests model it. */
struct guest {
	const char *name;
	uint64_t boot;
	uint64_t actual;
	uint64_t used;		/* memory the guest's programs hold */
	uint64_t cache;		/* droppable page cache (counted in used) */
	bool running;
	bool free_only;		/* reports free memory but not available */
	int64_t stats_age_ms;	/* how old its last sample is */
	uint64_t floor;
	unsigned int weight;
	struct autopilot_guest_stats st;
	struct autopilot_vm_state state;
};

static void guest_init(struct guest *g, const char *name, uint64_t boot,
		       uint64_t used)
{
	memset(g, 0, sizeof(*g));
	g->name = name;
	g->boot = boot;
	g->actual = boot;
	g->used = used;
	g->running = true;
	g->weight = 1;
	autopilot_state_adopt(&g->state, boot);
}

/* The guest's sample, taken stats_age_ms before NOW. */
static void guest_sample(struct guest *g, int64_t now_ms)
{
	uint64_t free = g->actual > g->used ? g->actual - g->used : 0;

	memset(&g->st, 0, sizeof(g->st));
	g->st.free = free;
	g->st.free_known = true;
	if (!g->free_only) {
		g->st.available = free + g->cache;
		g->st.available_known = true;
	}
	g->st.last_update = (now_ms - g->stats_age_ms) / 1000;
}

static void guest_to_vm(struct guest *g, struct autopilot_vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->name = g->name;
	vm->boot = g->boot;
	vm->actual = g->actual;
	vm->running = g->running;
	vm->stats = &g->st;
	vm->floor = g->floor;
	vm->weight = g->weight;
	vm->prev = g->state;
}

/* One step over N guests: sample, decide; no balloon moves. */
static void step(const struct autopilot_config *cfg,
		 const struct autopilot_host *host, struct guest *g, size_t n,
		 int64_t now_ms, struct autopilot_decision *d,
		 struct autopilot_summary *sum)
{
	struct autopilot_vm vms[16];
	size_t i;

	for (i = 0; i < n; i++) {
		guest_sample(&g[i], now_ms);
		guest_to_vm(&g[i], &vms[i]);
	}
	autopilot_decide(cfg, host, vms, n, now_ms, d, sum);
}

/* The balloons follow the targets at once (as far as the guest can
 * inflate), and each guest keeps the policy's new state. */
static void apply(struct guest *g, size_t n, const struct autopilot_decision *d)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t lowest = g[i].used + GUEST_MIN_FREE;

		g[i].state = d[i].next;
		if (!d[i].work.eligible)
			continue;
		g[i].actual = d[i].new_target > lowest ? d[i].new_target : lowest;
		if (g[i].actual > g[i].boot)
			g[i].actual = g[i].boot;
	}
}

/*
 * Runs STEPS one-second steps and returns the balloon commands sent in
 * the last QUIET of them. The budget (if any) must hold after each.
 */
static unsigned int run(const struct autopilot_config *cfg,
			const struct autopilot_host *host, struct guest *g,
			size_t n, int steps, int quiet, int64_t *now_ms,
			uint64_t *max_sum)
{
	struct autopilot_decision d[16];
	struct autopilot_summary sum;
	unsigned int sent = 0;
	int s;

	*max_sum = 0;
	for (s = 0; s < steps; s++) {
		*now_ms += 1000;
		step(cfg, host, g, n, *now_ms, d, &sum);
		apply(g, n, d);
		if (s >= steps - quiet)
			sent += sum.sent;
		if (s >= steps / 2 && sum.sum_targets > *max_sum)
			*max_sum = sum.sum_targets;
	}
	return sent;
}

static struct autopilot_config budget_config(uint64_t budget)
{
	struct autopilot_config cfg;

	autopilot_config_defaults(&cfg);
	cfg.host_mode = AUTOPILOT_HOST_BUDGET;
	cfg.host_budget = budget;
	cfg.pressure_pct = 0;
	return cfg;
}

static const struct autopilot_host no_host = { 0 };

static uint64_t sum_targets(const struct autopilot_decision *d, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += d[i].new_target;
	return s;
}

static void test_available_or_free(void)
{
	struct autopilot_guest_stats st;
	uint64_t v;

	memset(&st, 0, sizeof(st));
	is_int(autopilot_guest_available(NULL, &v), AUTOPILOT_SRC_NONE,
	       "no stats: no source");
	is_int(autopilot_guest_available(&st, &v), AUTOPILOT_SRC_NONE,
	       "neither stat known: no source");
	st.free = 100 * MiB;
	st.free_known = true;
	is_int(autopilot_guest_available(&st, &v), AUTOPILOT_SRC_FREE,
	       "free only: free is used");
	is_u64(v, 100 * MiB, "... and its value");
	/* A Linux guest with a warm page cache: little free, much available. */
	st.available = 900 * MiB;
	st.available_known = true;
	is_int(autopilot_guest_available(&st, &v), AUTOPILOT_SRC_AVAILABLE,
	       "available known: available wins over free");
	is_u64(v, 900 * MiB, "... and its value");
	is_str(autopilot_source_name(AUTOPILOT_SRC_AVAILABLE), "available",
	       "source names: available");
	is_str(autopilot_source_name(AUTOPILOT_SRC_FREE), "free",
	       "source names: free");
}

/* The choice decides what a guest with page cache gives up. */
static void test_page_cache_guest(void)
{
	struct autopilot_config cfg = budget_config(1 * GiB);
	struct autopilot_decision d[1];
	struct guest g[1];

	/* 1 GiB guest: 100 MiB of programs, 800 MiB of droppable cache. */
	guest_init(&g[0], "cache", 1 * GiB, 900 * MiB);
	g[0].cache = 800 * MiB;
	cfg.host_budget = 512 * MiB;
	cfg.max_step = 0;
	step(&cfg, &no_host, g, 1, NOW_MS, d, NULL);
	is_int(d[0].source, AUTOPILOT_SRC_AVAILABLE, "cache guest: available used");
	is_u64(d[0].available, 924 * MiB, "available counts the cache");
	is_int(d[0].action, AUTOPILOT_RECLAIM,
	       "cache guest: its cache is reclaimable");
	ok(d[0].new_target <= 512 * MiB, "... down to the budget (%llu MiB)",
	   (unsigned long long)(d[0].new_target / MiB));

	/* The same guest reporting free memory only looks nearly full. */
	guest_init(&g[0], "cache", 1 * GiB, 900 * MiB);
	g[0].cache = 800 * MiB;
	g[0].free_only = true;
	step(&cfg, &no_host, g, 1, NOW_MS, d, NULL);
	is_int(d[0].source, AUTOPILOT_SRC_FREE, "free-only guest: free used");
	is_int(d[0].action, AUTOPILOT_KEEP,
	       "free-only guest: nothing reclaimable (boot is its ceiling)");
	ok(strstr(d[0].reason, "free") != NULL, "the reason names free: %s",
	   d[0].reason);
}

static void test_reserve(void)
{
	struct autopilot_config cfg;

	autopilot_config_defaults(&cfg);
	is_u64(autopilot_reserve(&cfg, 1 * GiB), 1 * GiB / 5,
	       "20%% of 1 GiB");
	is_u64(autopilot_reserve(&cfg, 128 * MiB), 64 * MiB,
	       "at least 64 MiB");
	cfg.reserve_pct = 0;
	cfg.reserve_min = 300 * MiB;
	is_u64(autopilot_reserve(&cfg, 1 * GiB), 300 * MiB,
	       "a size: exactly that");
	is_u64(autopilot_reserve(&cfg, 256 * MiB), 256 * MiB,
	       "never more than boot memory");
}

static void test_idle_fleet_converges(void)
{
	struct autopilot_config cfg = budget_config(2560 * MiB);
	struct autopilot_decision d[4];
	struct autopilot_summary sum;
	struct guest g[4];
	int64_t now = NOW_MS;
	uint64_t max_sum, biggest_step = 0;
	unsigned int sent;
	int i, s;

	for (i = 0; i < 4; i++)
		guest_init(&g[i], "idle", 1 * GiB, 40 * MiB);
	/* The first steps: over budget by 1.5 GiB, reclaimed in steps. */
	for (s = 0; s < 8; s++) {
		now += 1000;
		step(&cfg, &no_host, g, 4, now, d, &sum);
		for (i = 0; i < 4; i++)
			if (d[i].old_target > d[i].new_target &&
			    d[i].old_target - d[i].new_target > biggest_step)
				biggest_step = d[i].old_target - d[i].new_target;
		apply(g, 4, d);
	}
	ok(sum.sum_targets <= cfg.host_budget,
	   "idle fleet: within the budget after 8 steps (%llu MiB)",
	   (unsigned long long)(sum.sum_targets / MiB));
	ok(biggest_step <= cfg.max_step,
	   "no reclaim step larger than --max-step (%llu MiB)",
	   (unsigned long long)(biggest_step / MiB));
	for (i = 1; i < 4; i++)
		if (g[i].actual != g[0].actual)
			break;
	is_int(i, 4, "equal guests end with equal sizes");
	sent = run(&cfg, &no_host, g, 4, 30, 20, &now, &max_sum);
	is_int(sent, 0, "then no balloon command for 20 steps");
	ok(max_sum <= cfg.host_budget, "and the budget holds");
}

/* Usage wobbling by a few MiB each step: no commands (hysteresis). */
static void test_jitter_no_oscillation(void)
{
	struct autopilot_config cfg = budget_config(2 * GiB);
	struct autopilot_decision d[4];
	struct autopilot_summary sum;
	struct guest g[4];
	int64_t now = NOW_MS;
	unsigned int sent = 0;
	uint64_t max_sum;
	int i, s;

	for (i = 0; i < 4; i++)
		guest_init(&g[i], "jitter", 1 * GiB, 200 * MiB);
	run(&cfg, &no_host, g, 4, 20, 0, &now, &max_sum);
	for (s = 0; s < 40; s++) {
		for (i = 0; i < 4; i++)
			g[i].used = 200 * MiB + (((s + i) % 3) * 7 * MiB);
		now += 1000;
		step(&cfg, &no_host, g, 4, now, d, &sum);
		apply(g, 4, d);
		sent += sum.sent;
		if (sum.sum_targets > cfg.host_budget)
			break;
	}
	is_int(s, 40, "40 steps of jitter within the budget");
	is_int(sent, 0, "usage wobbling by up to 14 MiB: no balloon commands");
}

/* A tight budget with one guest growing slowly: it is fed, the others pay,
 * and nobody ping-pongs. */
static void test_slow_growth_no_pingpong(void)
{
	struct autopilot_config cfg = budget_config(2 * GiB);
	struct autopilot_decision d[3];
	struct autopilot_summary sum;
	struct guest g[3];
	int64_t now = NOW_MS;
	unsigned int down_after_up = 0;
	uint64_t max_sum;
	int i, s;

	for (i = 0; i < 3; i++)
		guest_init(&g[i], "slow", 1 * GiB, 100 * MiB);
	run(&cfg, &no_host, g, 3, 20, 0, &now, &max_sum);
	for (s = 0; s < 30; s++) {
		bool grew;

		g[0].used += 10 * MiB;
		now += 1000;
		step(&cfg, &no_host, g, 3, now, d, &sum);
		grew = d[0].new_target > d[0].old_target;
		apply(g, 3, d);
		now += 1000;
		step(&cfg, &no_host, g, 3, now, d, &sum);
		if (grew && d[0].new_target < d[0].old_target)
			down_after_up++;
		apply(g, 3, d);
	}
	is_int(down_after_up, 0, "a growing guest is never reclaimed right after it grew");
	ok(g[0].actual >= g[0].used + autopilot_reserve(&cfg, g[0].boot),
	   "the growing guest kept its reserve");
	ok(sum.sum_targets <= cfg.host_budget, "the budget holds");
}

static void test_spike(void)
{
	struct autopilot_config cfg = budget_config(2560 * MiB);
	struct autopilot_decision d[4];
	struct autopilot_summary sum;
	struct guest g[4];
	int64_t now = NOW_MS;
	uint64_t max_sum, reserve;
	int i;

	cfg.max_step = 64 * MiB;	/* grows must ignore it */
	for (i = 0; i < 4; i++)
		guest_init(&g[i], "spike", 1 * GiB, 50 * MiB);
	run(&cfg, &no_host, g, 4, 40, 0, &now, &max_sum);
	ok(g[0].actual <= 700 * MiB, "before the spike: guest 0 at %llu MiB",
	   (unsigned long long)(g[0].actual / MiB));

	/* Guest 0 allocates 700 MiB: its driver deflates on OOM, so its
	 * size rises past our target before any sample shows it. */
	g[0].used = 750 * MiB;
	g[0].actual = 770 * MiB;
	g[0].stats_age_ms = 900;	/* the last sample predates the spike */
	g[0].st.last_update = 0;
	now += 1000;
	{
		struct autopilot_vm vms[4];

		for (i = 0; i < 4; i++) {
			guest_sample(&g[i], now);
			guest_to_vm(&g[i], &vms[i]);
		}
		/* The stale-ish sample still says the guest was idle. */
		g[0].st.available = 500 * MiB;
		autopilot_decide(&cfg, &no_host, vms, 4, now, d, &sum);
	}
	reserve = autopilot_reserve(&cfg, 1 * GiB);
	is_int(d[0].action, AUTOPILOT_GROW, "spike: the guest grows");
	ok(d[0].spiked, "... seen as taking memory back by itself");
	ok(d[0].new_target >= 770 * MiB + reserve ||
	   d[0].new_target == 1 * GiB,
	   "... in one step to its size plus its reserve (%llu MiB), max-step or not",
	   (unsigned long long)(d[0].new_target / MiB));
	ok(strstr(d[0].reason, "by itself") != NULL, "reason: %s", d[0].reason);
	for (i = 1; i < 4; i++)
		if (d[i].action != AUTOPILOT_RECLAIM)
			break;
	is_int(i, 4, "the other guests are reclaimed in the same step");
	ok(strstr(d[1].reason, "reclaimable") && strstr(d[1].reason, "over budget"),
	   "reason: %s", d[1].reason);
	apply(g, 4, d);
	run(&cfg, &no_host, g, 4, 20, 10, &now, &max_sum);
	ok(max_sum <= cfg.host_budget, "budget honoured again after the spike");
	ok(g[0].actual >= g[0].used + reserve || g[0].actual == g[0].boot,
	   "and the spiking guest keeps its reserve");
}

/* Available memory drops below the reserve without the guest deflating. */
static void test_below_reserve(void)
{
	struct autopilot_config cfg = budget_config(4 * GiB);
	struct autopilot_decision d[1];
	struct guest g[1];

	guest_init(&g[0], "low", 1 * GiB, 100 * MiB);
	g[0].actual = 400 * MiB;
	autopilot_state_adopt(&g[0].state, 400 * MiB);
	g[0].used = 350 * MiB;	/* 50 MiB left, reserve 205 */
	step(&cfg, &no_host, g, 1, NOW_MS, d, NULL);
	is_int(d[0].action, AUTOPILOT_GROW, "below the reserve: grow");
	ok(!d[0].spiked, "... not a spike");
	is_u64(d[0].new_target, 350 * MiB + 205 * MiB + cfg.hysteresis,
	       "... to in use + reserve + hysteresis, in whole MiB");
	ok(strstr(d[0].reason, "50 MiB available, below its reserve of 205 MiB"),
	   "reason: %s", d[0].reason);
	ok(d[0].send, "a command is due");
}

static void test_stale_paused_nostats(void)
{
	struct autopilot_config cfg = budget_config(1 * GiB);
	struct autopilot_decision d[3];
	struct autopilot_summary sum;
	struct autopilot_vm vms[3];
	struct guest g[3];
	int i;

	for (i = 0; i < 3; i++)
		guest_init(&g[i], "x", 1 * GiB, 50 * MiB);
	g[0].stats_age_ms = 10000;
	g[1].running = false;
	for (i = 0; i < 3; i++) {
		guest_sample(&g[i], NOW_MS);
		guest_to_vm(&g[i], &vms[i]);
	}
	vms[2].stats = NULL;
	autopilot_decide(&cfg, &no_host, vms, 3, NOW_MS, d, &sum);
	is_int(d[0].action, AUTOPILOT_SKIP_STALE, "stale stats: left alone");
	ok(strstr(d[0].reason, "10 s old"), "reason: %s", d[0].reason);
	is_int(d[1].action, AUTOPILOT_SKIP_PAUSED, "paused: left alone");
	is_int(d[2].action, AUTOPILOT_SKIP_NO_STATS, "no stats: left alone");
	for (i = 0; i < 3; i++)
		if (d[i].send || d[i].new_target != 1 * GiB)
			break;
	is_int(i, 3, "none of them gets a command");
	ok(sum.short_by > 0, "their memory still counts against the budget");
	ok(strstr(sum.reason, "not reclaimable"), "summary: %s", sum.reason);

	/* A guest that grows past its target by itself is acted on even
	 * with old stats or none: its size says it all. */
	for (i = 0; i < 2; i++) {
		guest_to_vm(&g[0], &vms[0]);
		vms[0].actual = 1 * GiB;
		vms[0].prev.target = vms[0].prev.last_actual = 512 * MiB;
		if (i)
			vms[0].stats = NULL;
		autopilot_decide(&cfg, &no_host, vms, 1, NOW_MS, d, &sum);
		is_int(d[0].action, AUTOPILOT_GROW, "%s stats, but it deflated by itself: grow",
		       i ? "no" : "stale");
	}

	/* A sample just inside the limit is fresh. */
	cfg.host_budget = 512 * MiB;
	g[0].stats_age_ms = 4000;
	guest_sample(&g[0], NOW_MS);
	guest_to_vm(&g[0], &vms[0]);
	autopilot_decide(&cfg, &no_host, vms, 1, NOW_MS, d, &sum);
	is_int(d[0].action, AUTOPILOT_RECLAIM, "4 s old stats: acted on");
}

static void test_floor_and_ceiling(void)
{
	struct autopilot_config cfg = budget_config(1 * GiB);
	struct autopilot_decision d[2];
	struct guest g[2];
	int64_t now = NOW_MS;
	uint64_t max_sum;

	guest_init(&g[0], "floored", 1 * GiB, 30 * MiB);
	guest_init(&g[1], "free", 1 * GiB, 30 * MiB);
	g[0].floor = 900 * MiB;
	cfg.host_budget = 1280 * MiB;
	run(&cfg, &no_host, g, 2, 30, 0, &now, &max_sum);
	step(&cfg, &no_host, g, 2, now, d, NULL);
	ok(g[0].actual >= 900 * MiB, "floor: never inflated below --min (%llu MiB)",
	   (unsigned long long)(g[0].actual / MiB));
	ok(g[1].actual <= 380 * MiB,
	   "the other guest pays for it (%llu MiB)",
	   (unsigned long long)(g[1].actual / MiB));

	/* A VM adopted below its floor is raised to it. */
	guest_init(&g[0], "under", 1 * GiB, 30 * MiB);
	g[0].actual = 200 * MiB;
	autopilot_state_adopt(&g[0].state, 200 * MiB);
	g[0].floor = 512 * MiB;
	cfg.host_budget = 4 * GiB;
	step(&cfg, &no_host, g, 1, now, d, NULL);
	is_int(d[0].action, AUTOPILOT_GROW, "below its floor: raised");
	ok(d[0].new_target >= 512 * MiB, "... to at least the floor");

	/* Lots of room: never above boot memory. */
	guest_init(&g[0], "ceiling", 1 * GiB, 30 * MiB);
	g[0].actual = 300 * MiB;
	autopilot_state_adopt(&g[0].state, 300 * MiB);
	cfg.host_budget = 64 * GiB;
	cfg.max_step = 0;
	step(&cfg, &no_host, g, 1, now, d, NULL);
	is_int(d[0].action, AUTOPILOT_GIVE_BACK, "room: give back");
	is_u64(d[0].new_target, 1 * GiB, "... up to boot memory, not beyond");
}

static void test_max_step(void)
{
	struct autopilot_config cfg = budget_config(64 * GiB);
	struct autopilot_decision d[1];
	struct guest g[1];

	cfg.max_step = 100 * MiB;
	guest_init(&g[0], "step", 1 * GiB, 30 * MiB);
	g[0].actual = 300 * MiB;
	autopilot_state_adopt(&g[0].state, 300 * MiB);
	step(&cfg, &no_host, g, 1, NOW_MS, d, NULL);
	is_u64(d[0].new_target, 400 * MiB, "give back limited to --max-step");

	cfg.host_budget = 200 * MiB;
	guest_init(&g[0], "step", 1 * GiB, 30 * MiB);
	step(&cfg, &no_host, g, 1, NOW_MS, d, NULL);
	is_u64(d[0].new_target, 1 * GiB - 100 * MiB, "reclaim limited to --max-step");
}

static void test_vm_vanishes(void)
{
	struct autopilot_config cfg = budget_config(2 * GiB);
	struct autopilot_decision d[3];
	struct guest g[3];
	int64_t now = NOW_MS;
	uint64_t max_sum, before[2];
	int i;

	for (i = 0; i < 3; i++)
		guest_init(&g[i], "v", 1 * GiB, 50 * MiB);
	run(&cfg, &no_host, g, 3, 30, 0, &now, &max_sum);
	before[0] = g[0].actual;
	before[1] = g[1].actual;
	/* Guest 2 is gone: only two are passed in. */
	now += 1000;
	step(&cfg, &no_host, g, 2, now, d, NULL);
	is_int(d[0].action, AUTOPILOT_GIVE_BACK, "a VM gone: its share is given back");
	is_int(d[1].action, AUTOPILOT_GIVE_BACK, "... to both others");
	is_u64(d[0].new_target - before[0], d[1].new_target - before[1],
	       "... in equal parts");
	apply(g, 2, d);
	run(&cfg, &no_host, g, 2, 10, 5, &now, &max_sum);
	is_u64(g[0].actual + g[1].actual, 2 * GiB, "then they have the whole budget");
}

static void test_host_reserve_and_recovery(void)
{
	struct autopilot_config cfg;
	struct autopilot_host host = { .mem_known = true };
	struct autopilot_decision d[2];
	struct autopilot_summary sum;
	struct guest g[2];
	int i;

	autopilot_config_defaults(&cfg);
	cfg.host_reserve = 2 * GiB;
	cfg.max_step = 0;
	for (i = 0; i < 2; i++)
		guest_init(&g[i], "h", 2 * GiB, 200 * MiB);

	host.mem_available = 1536 * MiB;	/* 512 MiB short */
	step(&cfg, &host, g, 2, NOW_MS, d, &sum);
	is_int(sum.short_by, 512 * MiB, "host short by 512 MiB");
	is_int(d[0].action, AUTOPILOT_RECLAIM, "host short: reclaim");
	is_u64(d[0].old_target - d[0].new_target + d[1].old_target - d[1].new_target,
	       512 * MiB, "... exactly what it is short of");
	ok(strstr(d[0].reason, "reclaimable, host short by 512 MiB"),
	   "reason: %s", d[0].reason);

	/* The balloons are still inflating: the host does not see it yet;
	 * what is in flight is not asked for twice. */
	for (i = 0; i < 2; i++) {
		g[i].state = d[i].next;
		g[i].actual = d[i].new_target + 100 * MiB;
	}
	step(&cfg, &host, g, 2, NOW_MS + 1000, d, &sum);
	is_int(sum.short_by, 312 * MiB, "in-flight inflation counts (312 MiB still short)");
	ok(!d[0].spiked && !d[1].spiked, "inflating is not a spike");

	/* Within the dead band: nothing either way. */
	for (i = 0; i < 2; i++)
		g[i].actual = g[i].state.target;
	host.mem_available = 2 * GiB + 16 * MiB;
	step(&cfg, &host, g, 2, NOW_MS + 3000, d, &sum);
	ok(!d[0].send && !d[1].send, "host just above its reserve: hold");

	/* The host recovers: the guests get their memory back, fairly. */
	host.mem_available = 3 * GiB;
	step(&cfg, &host, g, 2, NOW_MS + 4000, d, &sum);
	is_int(d[0].action, AUTOPILOT_GIVE_BACK, "host recovered: give back");
	is_u64(d[0].new_target - d[0].old_target, d[1].new_target - d[1].old_target,
	       "... equal amounts to equal guests");
	ok(d[0].new_target - d[0].old_target + d[1].new_target - d[1].old_target <=
	   1 * GiB - cfg.hysteresis, "... no more than the room beyond the dead band");
	ok(strstr(d[0].reason, "host has") && strstr(d[0].reason, "below its boot memory"),
	   "reason: %s", d[0].reason);

	/* Unknown host memory: hold. */
	host.mem_known = false;
	step(&cfg, &host, g, 2, NOW_MS + 5000, d, &sum);
	ok(!d[0].send && !d[1].send, "host memory unknown: hold");
}

static void test_pressure(void)
{
	struct autopilot_config cfg;
	struct autopilot_host host = { .mem_known = true, .pressure_known = true };
	struct autopilot_decision d[1];
	struct autopilot_summary sum;
	struct guest g[1];

	autopilot_config_defaults(&cfg);
	cfg.host_reserve = 1 * GiB;
	guest_init(&g[0], "p", 2 * GiB, 100 * MiB);
	g[0].actual = 1 * GiB;
	autopilot_state_adopt(&g[0].state, 1 * GiB);
	host.mem_available = 8 * GiB;	/* plenty, by MemAvailable */

	host.pressure_some10 = 25.0;
	step(&cfg, &host, g, 1, NOW_MS, d, &sum);
	ok(sum.pressure, "some avg10 25%%: pressure");
	is_int(d[0].action, AUTOPILOT_RECLAIM, "pressure: reclaim despite MemAvailable");
	ok(strstr(d[0].reason, "memory pressure"), "reason: %s", d[0].reason);

	host.pressure_some10 = 6.0;	/* between half and the threshold */
	step(&cfg, &host, g, 1, NOW_MS, d, &sum);
	ok(!d[0].send, "pressure easing: hold, neither reclaim nor give back");

	host.pressure_some10 = 1.0;
	step(&cfg, &host, g, 1, NOW_MS, d, &sum);
	is_int(d[0].action, AUTOPILOT_GIVE_BACK, "pressure gone: give back");
}

static void test_most_reclaimable_first(void)
{
	struct autopilot_config cfg = budget_config(0);
	struct autopilot_decision d[2];
	struct guest g[2];

	cfg.max_step = 0;
	cfg.hysteresis = 0;
	cfg.reserve_pct = 0;
	cfg.reserve_min = 64 * MiB;
	/* Reclaimable: A 600 MiB, B 100 MiB. */
	guest_init(&g[0], "a", 1 * GiB, 1 * GiB - 664 * MiB);
	guest_init(&g[1], "b", 1 * GiB, 1 * GiB - 164 * MiB);
	cfg.host_budget = 2 * GiB - 300 * MiB;
	step(&cfg, &no_host, g, 2, NOW_MS, d, NULL);
	is_u64(d[0].old_target - d[0].new_target, 300 * MiB,
	       "the guest with the most reclaimable pays first");
	is_int(d[1].action, AUTOPILOT_KEEP, "the other keeps its memory");

	/* Short by 600: A down to B's level, then both. */
	cfg.host_budget = 2 * GiB - 600 * MiB;
	step(&cfg, &no_host, g, 2, NOW_MS, d, NULL);
	is_u64(d[0].old_target - d[0].new_target, 550 * MiB, "A gives 550 MiB");
	is_u64(d[1].old_target - d[1].new_target, 50 * MiB,
	       "B gives 50 MiB: both keep 50 MiB reclaimable");
}

static void test_weights(void)
{
	struct autopilot_config cfg = budget_config(0);
	struct autopilot_decision d[2];
	struct guest g[2];
	uint64_t keep0, keep1;

	cfg.max_step = 0;
	cfg.hysteresis = 0;
	guest_init(&g[0], "w1", 1 * GiB, 100 * MiB);
	guest_init(&g[1], "w3", 1 * GiB, 100 * MiB);
	g[1].weight = 3;
	cfg.host_budget = 2 * GiB - 800 * MiB;
	step(&cfg, &no_host, g, 2, NOW_MS, d, NULL);
	keep0 = d[0].reclaimable;
	keep1 = d[1].reclaimable;
	ok(keep1 > 2 * keep0 && keep1 < 4 * keep0,
	   "weight 3 keeps about three times the spare memory of weight 1 (%llu vs %llu MiB)",
	   (unsigned long long)(keep1 / MiB), (unsigned long long)(keep0 / MiB));
	ok(sum_targets(d, 2) <= cfg.host_budget, "and the budget holds");

	/* Give back in proportion to weight, too. */
	g[0].actual = g[1].actual = 512 * MiB;
	autopilot_state_adopt(&g[0].state, 512 * MiB);
	autopilot_state_adopt(&g[1].state, 512 * MiB);
	cfg.host_budget = 1 * GiB + 400 * MiB;
	step(&cfg, &no_host, g, 2, NOW_MS, d, NULL);
	is_u64(d[0].new_target - d[0].old_target, 100 * MiB, "weight 1 gets 1/4 of the room");
	is_u64(d[1].new_target - d[1].old_target, 300 * MiB, "weight 3 gets 3/4");
}

static void test_fair_give_back_with_caps(void)
{
	struct autopilot_config cfg = budget_config(0);
	struct autopilot_decision d[3];
	struct guest g[3];
	int i;

	cfg.max_step = 0;
	cfg.hysteresis = 0;
	for (i = 0; i < 3; i++) {
		guest_init(&g[i], "f", 1 * GiB, 50 * MiB);
		g[i].actual = 512 * MiB;
		autopilot_state_adopt(&g[i].state, 512 * MiB);
	}
	g[2].actual = 1 * GiB - 50 * MiB;	/* only 50 MiB below boot */
	autopilot_state_adopt(&g[2].state, g[2].actual);
	cfg.host_budget = 2 * 512 * MiB + g[2].actual + 300 * MiB;
	step(&cfg, &no_host, g, 3, NOW_MS, d, NULL);
	is_u64(d[2].new_target, 1 * GiB, "a guest near boot gets what it lacks");
	is_u64(d[0].new_target - d[0].old_target, 125 * MiB,
	       "the rest is shared equally (125 MiB)");
	is_u64(d[1].new_target - d[1].old_target, 125 * MiB, "... by both");
}

static void test_settling(void)
{
	struct autopilot_config cfg = budget_config(400 * MiB);
	struct autopilot_decision d[1];
	struct autopilot_vm vm;
	struct guest g[1];
	uint64_t reserve = 205 * MiB;

	cfg.max_step = 200 * MiB;
	guest_init(&g[0], "settle", 1 * GiB, 300 * MiB);
	step(&cfg, &no_host, g, 1, NOW_MS, d, NULL);
	is_int(d[0].action, AUTOPILOT_RECLAIM, "first reclaim");
	is_u64(d[0].new_target, 824 * MiB, "... by one step");
	g[0].state = d[0].next;

	/* The balloon is on its way (at 900 MiB), and the only sample is
	 * from before the reclaim (1 GiB, 724 MiB available): size minus
	 * available says 176 MiB in use, which is wrong. */
	cfg.max_step = 0;
	guest_to_vm(&g[0], &vm);
	vm.actual = 900 * MiB;
	autopilot_decide(&cfg, &no_host, &vm, 1, NOW_MS + 500, d, NULL);
	ok(d[0].settling, "balloon not there, sample older: settling");
	ok(d[0].new_target >= 300 * MiB + reserve + cfg.hysteresis,
	   "settling: what it used before the reclaim still counts (target %llu MiB)",
	   (unsigned long long)(d[0].new_target / MiB));

	/* Settled, with a sample taken after it: its own figures again. */
	g[0].state = d[0].next;
	g[0].actual = g[0].state.target;
	g[0].used = 100 * MiB;
	step(&cfg, &no_host, g, 1, NOW_MS + 2000, d, NULL);
	ok(!d[0].settling, "settled");
	is_u64(d[0].need, 100 * MiB + reserve, "... its need from the new sample");

	/* After a grow: the balloon is still deflating (at 700 of 900 MiB)
	 * and the sample predates the grow; size minus available would
	 * overstate the use by 200 MiB and grow again. */
	cfg.host_budget = 4 * GiB;
	guest_init(&g[0], "grown", 1 * GiB, 550 * MiB);
	g[0].actual = 600 * MiB;
	autopilot_state_adopt(&g[0].state, 600 * MiB);
	step(&cfg, &no_host, g, 1, NOW_MS, d, NULL);
	is_int(d[0].action, AUTOPILOT_GROW, "below its reserve: grow");
	g[0].state = d[0].next;
	cfg.host_budget = d[0].new_target;	/* no room to give back */
	guest_to_vm(&g[0], &vm);
	vm.actual = 700 * MiB;
	autopilot_decide(&cfg, &no_host, &vm, 1, NOW_MS + 500, d, NULL);
	ok(d[0].settling && !d[0].send,
	   "deflating after a grow, old sample: no second grow (%llu -> %llu MiB)",
	   (unsigned long long)(d[0].old_target / MiB),
	   (unsigned long long)(d[0].new_target / MiB));
}

static void test_infeasible_budget(void)
{
	struct autopilot_config cfg = budget_config(512 * MiB);
	struct autopilot_decision d[2];
	struct autopilot_summary sum;
	struct guest g[2];
	int64_t now = NOW_MS;
	uint64_t max_sum;
	int i;

	for (i = 0; i < 2; i++)
		guest_init(&g[i], "busy", 1 * GiB, 500 * MiB);
	run(&cfg, &no_host, g, 2, 20, 0, &now, &max_sum);
	step(&cfg, &no_host, g, 2, now, d, &sum);
	for (i = 0; i < 2; i++)
		ok(g[i].actual >= g[i].used + autopilot_reserve(&cfg, g[i].boot),
		   "budget too small: guest %d still keeps its reserve", i);
	ok(strstr(sum.reason, "not reclaimable"), "summary: %s", sum.reason);
}

static void test_pure(void)
{
	struct autopilot_config cfg = budget_config(2 * GiB);
	struct autopilot_decision d1[3], d2[3];
	struct autopilot_summary s1, s2;
	struct guest g[3];
	int i;

	for (i = 0; i < 3; i++)
		guest_init(&g[i], "pure", 1 * GiB, (uint64_t)(100 + 200 * i) * MiB);
	step(&cfg, &no_host, g, 3, NOW_MS, d1, &s1);
	step(&cfg, &no_host, g, 3, NOW_MS, d2, &s2);
	ok(memcmp(d1, d2, sizeof(d1)) == 0 && memcmp(&s1, &s2, sizeof(s1)) == 0,
	   "same inputs, same decisions");
	for (i = 0; i < 3; i++)
		if (d1[i].new_target % AUTOPILOT_GRANULE &&
		    d1[i].new_target != g[i].boot)
			break;
	is_int(i, 3, "targets are whole MiB (or boot memory)");
	is_str(autopilot_action_name(AUTOPILOT_GIVE_BACK), "give-back", "action names");
}

int main(void)
{
	test_available_or_free();
	test_page_cache_guest();
	test_reserve();
	test_idle_fleet_converges();
	test_jitter_no_oscillation();
	test_slow_growth_no_pingpong();
	test_spike();
	test_below_reserve();
	test_stale_paused_nostats();
	test_floor_and_ceiling();
	test_max_step();
	test_vm_vanishes();
	test_host_reserve_and_recovery();
	test_pressure();
	test_most_reclaimable_first();
	test_weights();
	test_fair_give_back_with_caps();
	test_settling();
	test_infeasible_budget();
	test_pure();
	return tap_done();
}
