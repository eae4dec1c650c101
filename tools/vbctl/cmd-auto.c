/* SPDX-License-Identifier: MIT */
/*
 * cmd-auto.c - "vbctl auto": the autopilot. From the fleet's one poll()
 * loop it samples every VM (balloon size, guest stats, run state) and the
 * host once per interval, asks the policy (autopilot-policy.c) for
 * targets and sets them; on Ctrl-C or SIGTERM it puts every balloon back
 * where it found it. Its options and this I/O loop live here; what it
 * shows (log lines, NDJSON, the live table) in auto-output.c.
 * docs/autopilot.md describes the policy.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "auto-config.h"
#include "auto-output.h"
#include "autopilot-policy.h"
#include "domain-scan.h"
#include "fleet.h"
#include "hostmem.h"
#include "size.h"
#include "targets.h"

#define MiB (UINT64_C(1) << 20)
/* A guest that took memory back by itself is probably still allocating:
 * follow its size this often, for this long, instead of waiting for the
 * next step (QEMU sends BALLOON_CHANGE at most once a second). */
#define SPIKE_POLL_MS 100
#define SPIKE_WATCH_MS 3000
/* Grown past its target by more than this: it deflated by itself. */
#define SPIKE_MARGIN (4 * MiB)
/* Between steps, look at each guest's stats this often: a new sample
 * that shows a guest below its reserve is acted on at once rather than
 * at the next step. */
#define PEEK_MS 250
/* How often the socket globs are read again for new VMs, and sockets of
 * lost VMs looked at again. */
#define RESCAN_MS 5000
/* --config has no short form. */
#define OPT_CONFIG 256

static const struct option auto_options[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "guest-reserve", required_argument, NULL, 'r' },
	{ "host-reserve", required_argument, NULL, 'R' },
	{ "host-budget", required_argument, NULL, 'B' },
	{ "host-pressure", required_argument, NULL, 'P' },
	{ "max-step", required_argument, NULL, 'm' },
	{ "hysteresis", required_argument, NULL, 'H' },
	{ "stale", required_argument, NULL, 'T' },
	{ "min", required_argument, NULL, 'f' },
	{ "weight", required_argument, NULL, 'w' },
	{ "keep", no_argument, NULL, 'k' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "no-table", no_argument, NULL, 'N' },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ NULL, 0, NULL, 0 },
};

static const struct vbctl_arg auto_args[] = { { NULL } };

/* --min and --weight name a VM of the fleet: completed from the targets
 * on the command line. */
static const struct vbctl_optval auto_optvals[] = {
	{ "min", VBCTL_ARG_VM_KV, NULL },
	{ "weight", VBCTL_ARG_VM_KV, NULL },
	{ NULL },
};

static int run_auto(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_auto = {
	.name = "auto",
	.usage = "[--host-budget SIZE | --host-reserve SIZE] [--guest-reserve SIZE|N%] [--dry-run] [--keep] [--config FILE] [OPTION...]",
	.summary = "run the autopilot: balloon every VM of the fleet to fit the host",
	.help =
	"Runs until interrupted: every interval it reads each VM's balloon size\n"
	"and guest statistics (turning stats polling on, at the interval) and\n"
	"the host's MemAvailable and memory pressure, then sets balloon targets:\n"
	"a guest below its reserve gets memory back at once; when the host is\n"
	"short, memory is reclaimed from the guests with the most to spare;\n"
	"when it has room, it is given back, shared by weight. Each change is\n"
	"one log line with its reason. Paused VMs and VMs with stale stats are\n"
	"left alone. The VMs are the fleet's (-s, repeated, --sockets GLOB or\n"
	"-c URI); each is adopted once it answers and dropped when it goes\n"
	"away, and every 5 s the globs are read again and the URI's running\n"
	"domains listed, for new VMs and VMs that came back; with every VM\n"
	"gone it waits for them (with a glob or a URI, it may start before\n"
	"any VM exists). On Ctrl-C or SIGTERM every balloon is put\n"
	"back to its size at adoption and polling to its old interval, unless\n"
	"--keep. On a terminal a live table shows every VM and the last\n"
	"decisions; with --json, one JSON object per line. docs/autopilot.md\n"
	"explains the policy.\n"
	"\n"
	"  -B, --host-budget SIZE    the guests together hold at most SIZE\n"
	"  -R, --host-reserve SIZE   keep SIZE of host MemAvailable (default 1G;\n"
	"                            not with --host-budget)\n"
	"  -r, --guest-reserve SIZE|N%  memory each guest keeps available: N% of\n"
	"                            its boot memory (at least 64M) or SIZE\n"
	"                            (default 20%)\n"
	"  -i, --interval S          seconds between steps, whole (default 1)\n"
	"  -f, --min VM=SIZE|N%      never inflate VM below SIZE (repeatable)\n"
	"  -w, --weight VM=N         VM's share when reclaiming and giving back,\n"
	"                            1-1000 (default 1; repeatable)\n"
	"  -m, --max-step SIZE       most a host-driven change moves one VM in\n"
	"                            one step (default 256M; 0: no limit)\n"
	"  -H, --hysteresis SIZE     dead band against small movements\n"
	"                            (default 32M)\n"
	"  -P, --host-pressure PCT   PSI some avg10 at which the host counts as\n"
	"                            short (default 10; 0: ignore pressure)\n"
	"  -T, --stale S             stats older than S seconds are stale\n"
	"                            (default 5)\n"
	"  -k, --keep                leave the balloons where they are on exit\n"
	"  -n, --dry-run             decide and log, but set nothing\n"
	"  -N, --no-table            log lines only, even on a terminal\n"
	"      --config FILE         options from an INI file: [auto] holds\n"
	"                            KEY = VALUE for --KEY, [vm NAME] min and\n"
	"                            weight; the command line wins\n",
	.flags = VBCTL_STREAM,
	.shortopts = "B:R:r:i:f:w:m:H:P:T:knN",
	.longopts = auto_options,
	.args = auto_args,
	.optvals = auto_optvals,
	.min_args = 0,
	.max_args = 0,
	.run = run_auto,
};

/* QMP exchanges, by tag. */
enum {
	T_FIND,			/* and T_FIND + 1: the balloon search */
	T_FIND_2,
	T_MEMSIZE,		/* query-memory-size-summary */
	T_GET_POLLING,
	T_POLLING_OFF,		/* polling 0 then on: QEMU asks at once */
	T_POLLING_ON,
	T_ADOPT_QUERY,		/* the first query-balloon */
	T_QUERY,		/* a step's query-balloon */
	T_STATS,		/* a step's qom-get guest-stats */
	T_STATUS,		/* a step's query-status */
	T_SPIKE_QUERY,		/* query-balloon while a guest spikes */
	T_PEEK,			/* qom-get guest-stats between steps */
	T_SET,			/* balloon value=... */
	T_RESTORE,		/* balloon value=... on exit */
	T_RESTORE_POLLING,
};

/* SIGTERM stops the loop like Ctrl-C does, so balloons are restored. */
static struct vbctl *term_target;

static void on_sigterm(int sig)
{
	if (term_target)
		term_target->interrupted = 1;
}

static int64_t wall_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* {"value": BYTES}: a balloon command's arguments. */
static struct json_object *balloon_args(uint64_t bytes)
{
	struct json_object *args = json_object_new_object();

	json_object_object_add(args, "value", json_object_new_uint64(bytes));
	return args;
}

/* ---- one step ----------------------------------------------------------- */

static void step(struct autopilot *ap)
{
	struct autopilot_vm *in;
	struct autopilot_decision *out;
	struct autopilot_host host = { 0 };
	size_t *idx, i, n = 0;
	int64_t now = wall_ms();

	in = calloc(ap->nvms ? ap->nvms : 1, sizeof(*in));
	out = calloc(ap->nvms ? ap->nvms : 1, sizeof(*out));
	idx = calloc(ap->nvms ? ap->nvms : 1, sizeof(*idx));
	if (!in || !out || !idx) {
		ap->status = vbctl_error(ap->v, VBCTL_EXIT_FAIL, "out of memory");
		fleet_stop(ap->f);
		goto out;
	}
	/* A host we cannot read leaves mem_known false: the policy holds. */
	if (vbctl_hostmem_read(NULL, &ap->host) < 0)
		memset(&ap->host, 0, sizeof(ap->host));
	host.mem_known = ap->host.mem_known;
	host.mem_available = ap->host.mem_available;
	host.pressure_known = ap->host.pressure_known;
	host.pressure_some10 = ap->host.some_avg10;

	for (i = 0; i < ap->nvms; i++) {
		struct fleet_vm *vm = fleet_vm(ap->f, i);
		struct auto_vm *a = &ap->vms[i];

		if (!a->adopted || a->dropped || vm->done)
			continue;
		in[n].name = vm->name;
		in[n].boot = a->boot;
		in[n].actual = a->actual;
		in[n].running = a->running;
		in[n].stats = a->st_known ? &a->st : NULL;
		in[n].floor = a->floor;
		in[n].weight = a->weight;
		in[n].prev = a->state;
		idx[n++] = i;
	}
	autopilot_decide(&ap->cfg, &host, in, n, now, out, &ap->summary);
	ap->steps++;

	for (i = 0; i < n; i++) {
		struct fleet_vm *vm = fleet_vm(ap->f, idx[i]);
		struct auto_vm *a = &ap->vms[idx[i]];
		const struct autopilot_decision *d = &out[i];

		a->last = *d;
		a->decided = true;
		auto_log_decision(ap, vm, a, d);
		if (ap->dry_run) {
			/* Nothing set: the VM keeps the target it had. */
			a->state.last_actual = d->next.last_actual;
			continue;
		}
		a->state = d->next;
		if (d->send) {
			struct json_object *args = balloon_args(d->new_target);

			if (fleet_send(vm, "balloon", args, T_SET) == 0) {
				ap->commands++;
				/* for top and list (targets.h) */
				vbctl_target_remember(ap->v, vm->q, vm->addr,
						      d->new_target);
			}
			json_object_put(args);
		}
	}
	auto_redraw(ap);
out:
	free(in);
	free(out);
	free(idx);
}

/* Every adopted VM answered this step's questions: decide now. */
static void maybe_step(struct autopilot *ap)
{
	size_t i;

	if (!ap->round_open)
		return;
	for (i = 0; i < ap->nvms; i++)
		if (ap->vms[i].adopted && !ap->vms[i].dropped &&
		    !fleet_vm(ap->f, i)->done && ap->vms[i].pending)
			return;
	ap->round_open = false;
	step(ap);
}

/* ---- per VM ------------------------------------------------------------- */

static void spike_check(struct autopilot *ap, struct fleet_vm *vm,
			struct auto_vm *a);

/* The figures the policy reads, from a qom-get guest-stats reply. */
static int stats_from_reply(struct json_object *ret,
			    struct autopilot_guest_stats *out)
{
	struct qmp_balloon_stats *st;

	if (qmp_balloon_stats_parse(ret, &st) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->last_update = qmp_balloon_stats_last_update(st);
	out->free_known = qmp_balloon_stats_get(st, QMP_STAT_FREE_MEMORY, &out->free);
	out->available_known = qmp_balloon_stats_get(st, QMP_STAT_AVAILABLE_MEMORY,
						     &out->available);
	qmp_balloon_stats_free(st);
	return 0;
}

/* A sample between steps: kept for the next step, and acted on now when
 * it is new and shows the guest below its reserve. */
static void peek_stats(struct autopilot *ap, struct auto_vm *a,
		       struct json_object *ret)
{
	struct autopilot_guest_stats st;
	uint64_t avail, used;

	if (stats_from_reply(ret, &st) < 0 || !st.last_update ||
	    (a->st_known && st.last_update == a->st.last_update))
		return;
	a->st = st;
	a->st_known = true;
	if (autopilot_guest_available(&st, &avail) == AUTOPILOT_SRC_NONE)
		return;
	used = a->actual > avail ? a->actual - avail : 0;
	if (used + autopilot_reserve(&ap->cfg, a->boot) > a->state.target &&
	    a->state.target < a->boot)
		step(ap);
}

static struct json_object *path_args(const char *path, const char *property)
{
	struct json_object *args = json_object_new_object();

	json_object_object_add(args, "path", json_object_new_string(path));
	json_object_object_add(args, "property", json_object_new_string(property));
	return args;
}

static void set_polling(struct fleet_vm *vm, struct auto_vm *a, int64_t s,
			int tag)
{
	struct json_object *args = path_args(a->path, "guest-stats-polling-interval");

	json_object_object_add(args, "value", json_object_new_int64(s));
	fleet_send(vm, "qom-set", args, tag);
	json_object_put(args);
}

/* The rules that name this VM: --min (resolved against its boot memory)
 * and --weight. */
static void apply_rules(struct autopilot *ap, struct fleet_vm *vm,
			struct auto_vm *a)
{
	char err[VBCTL_SIZE_ERR_MAX];
	size_t i;

	a->weight = 1;
	a->floor = 0;
	for (i = 0; i < ap->nrules; i++) {
		struct vm_rule *r = &ap->rules[i];

		if (strcmp(r->name, vm->name) != 0)
			continue;
		if (r->weight)
			a->weight = r->weight;
		if (r->text && vbctl_size_resolve(&r->size, r->text, a->boot,
						  a->boot, &a->floor, err,
						  sizeof(err)) < 0) {
			vbctl_error(ap->v, VBCTL_EXIT_USAGE, "--min %s=%s: %s",
				    r->name, r->text, err);
			a->floor = 0;
		}
	}
}

static void adopt(struct autopilot *ap, struct fleet_vm *vm, struct auto_vm *a)
{
	a->adopted = true;
	a->dropped = false;
	a->orig_actual = a->actual;
	a->running = true;
	autopilot_state_adopt(&a->state, a->actual);
	apply_rules(ap, vm, a);
	auto_log_adopt(ap, vm, a);
	/* Keep the VM in the loop between steps. */
	fleet_wake(vm, ap->interval_ms);
}

/* The size KEY of the reply to COMMAND, in *OUT; false when there is
 * none (a QMP error, or no KEY that is a whole number of bytes: bad data
 * from QEMU, status 3): the VM is done then, with the reason. */
static bool reply_u64(struct fleet_vm *vm, int rc, struct json_object *ret,
		      const char *command, const char *key, uint64_t *out)
{
	if (rc) {
		fleet_qmp_error(vm, command);
		return false;
	}
	if (!fleet_get_u64(ret, key, out)) {
		fleet_protocol_error(vm, ret, "%s: no \"%s\" as a whole number of bytes",
				     command, key);
		return false;
	}
	return true;
}

static void auto_start(struct fleet_vm *vm, void *data)
{
	struct autopilot *ap = data;
	struct auto_vm *a = &ap->vms[vm->index];

	if (a->adopted && !a->dropped) {
		fleet_wake(vm, ap->interval_ms);
		return;
	}
	/* New, or back after it was lost: adopted afresh. */
	a->seen = 0;
	a->pending = 0;
	a->spike_until = 0;
	a->st_known = false;
	a->decided = false;
	a->logged = false;
	a->polling_changed = false;
	free(a->path);
	a->path = NULL;
	fleet_balloon_search(vm, T_FIND);
}

static void auto_reply(struct fleet_vm *vm, void *data, int tag, int rc,
		       struct json_object *ret)
{
	struct autopilot *ap = data;
	struct auto_vm *a = &ap->vms[vm->index];
	struct json_object *val, *args;
	int64_t want = ap->interval_ms / 1000;
	int r;

	switch (tag) {
	case T_FIND:
	case T_FIND_2:
		/* Found in the first directory (libvirt's balloon0, any
		 * -device with an id): the other's answer is of no use. */
		if (a->path)
			return;
		r = fleet_balloon_reply(vm, tag, T_FIND, rc, ret, &a->seen, &a->path);
		if (r == 1)
			fleet_send(vm, "query-memory-size-summary", NULL, T_MEMSIZE);
		return;
	case T_MEMSIZE:
		if (!reply_u64(vm, rc, ret, "query-memory-size-summary",
			       "base-memory", &a->boot))
			return;
		args = path_args(a->path, "guest-stats-polling-interval");
		fleet_send(vm, "qom-get", args, T_GET_POLLING);
		json_object_put(args);
		return;
	case T_GET_POLLING:
		if (rc)
			return fleet_qmp_error(vm, "reading the stats polling interval");
		if (!json_object_is_type(ret, json_type_int) ||
		    json_object_get_int64(ret) < 0)
			return fleet_protocol_error(vm, ret, "qom-get %s: not a polling interval in seconds",
						    "guest-stats-polling-interval");
		a->orig_polling = json_object_get_int64(ret);
		if (a->orig_polling == want) {
			fleet_send(vm, "query-balloon", NULL, T_ADOPT_QUERY);
			return;
		}
		a->polling_changed = true;
		/* From 0 QEMU asks the guest at once; a changed interval
		 * would only take effect after the old one. */
		if (a->orig_polling)
			set_polling(vm, a, 0, T_POLLING_OFF);
		else
			set_polling(vm, a, want, T_POLLING_ON);
		return;
	case T_POLLING_OFF:
		if (rc)
			return fleet_qmp_error(vm, "setting the stats polling interval");
		set_polling(vm, a, want, T_POLLING_ON);
		return;
	case T_POLLING_ON:
		if (rc)
			return fleet_qmp_error(vm, "setting the stats polling interval");
		fleet_send(vm, "query-balloon", NULL, T_ADOPT_QUERY);
		return;
	case T_ADOPT_QUERY:
		if (reply_u64(vm, rc, ret, "query-balloon", "actual", &a->actual))
			adopt(ap, vm, a);
		return;
	case T_QUERY:
	case T_STATS:
	case T_STATUS:
		if (a->pending)
			a->pending--;
		if (rc) {
			/* A step's question QEMU refused: say it once, go on
			 * with what we know (the policy sees the age). */
			qmp_clear_error(vm->q);
		} else if (tag == T_QUERY) {
			reply_u64(vm, 0, ret, "query-balloon", "actual", &a->actual);
		} else if (tag == T_STATS) {
			a->st_known = stats_from_reply(ret, &a->st) == 0;
		} else if (tag == T_STATUS) {
			if (json_object_object_get_ex(ret, "running", &val) &&
			    json_object_is_type(val, json_type_boolean))
				a->running = json_object_get_boolean(val);
			else
				fleet_protocol_error(vm, ret, "query-status: no \"running\" as true or false");
		}
		maybe_step(ap);
		return;
	case T_PEEK:
		if (rc) {
			qmp_clear_error(vm->q);
			return;
		}
		peek_stats(ap, a, ret);
		return;
	case T_SPIKE_QUERY:
		if (rc) {
			qmp_clear_error(vm->q);
		} else if (reply_u64(vm, 0, ret, "query-balloon", "actual", &a->actual)) {
			spike_check(ap, vm, a);
		}
		return;
	case T_SET:
	case T_RESTORE:
	case T_RESTORE_POLLING:
		if (rc) {
			ap->status = vbctl_error(ap->v, VBCTL_EXIT_FAIL, "%s: %s: %s", vm->name,
				    tag == T_RESTORE_POLLING ? "restoring stats polling" :
				    "balloon", qmp_get_error_desc(vm->q) ?
				    qmp_get_error_desc(vm->q) : "error");
			qmp_clear_error(vm->q);
		}
		return;
	}
}

/*
 * Grown past its target by itself: the guest deflated under memory
 * pressure. Decide now rather than at the next step (the policy sees it
 * from actual alone), and follow its size closely for a while: it is
 * likely still allocating.
 */
static void spike_check(struct autopilot *ap, struct fleet_vm *vm,
			struct auto_vm *a)
{
	if (ap->dry_run || a->actual <= a->state.target + SPIKE_MARGIN ||
	    a->actual <= a->state.last_actual + SPIKE_MARGIN)
		return;
	if (!a->spike_until)
		fleet_wake(vm, SPIKE_POLL_MS);
	a->spike_until = vbctl_now_ms() + SPIKE_WATCH_MS;
	step(ap);
}

static void auto_event(struct fleet_vm *vm, void *data, struct json_object *ev)
{
	struct autopilot *ap = data;
	struct auto_vm *a = &ap->vms[vm->index];
	const char *name = qmp_event_name(ev);

	if (!a->adopted || !name)
		return;
	if (strcmp(name, "STOP") == 0) {
		a->running = false;
	} else if (strcmp(name, "RESUME") == 0) {
		a->running = true;
	} else if (strcmp(name, "BALLOON_CHANGE") == 0 &&
		   fleet_get_u64(qmp_event_data(ev), "actual", &a->actual)) {
		/* (one with no good size waits for the next query-balloon) */
		spike_check(ap, vm, a);
	}
}

static void auto_wake(struct fleet_vm *vm, void *data)
{
	struct autopilot *ap = data;
	struct auto_vm *a = &ap->vms[vm->index];

	if (a->spike_until && vbctl_now_ms() < a->spike_until) {
		fleet_send(vm, "query-balloon", NULL, T_SPIKE_QUERY);
		fleet_wake(vm, SPIKE_POLL_MS);
		return;
	}
	a->spike_until = 0;
	if (!a->pending && !ap->dry_run) {
		struct json_object *args = path_args(a->path, "guest-stats");

		fleet_send(vm, "qom-get", args, T_PEEK);
		json_object_put(args);
	}
	fleet_wake(vm, PEEK_MS);
}

/* The fleet grew (fleet_rescan): room for the new VMs. Nonzero when out
 * of memory (the loop stops). */
static int grow_vms(struct autopilot *ap)
{
	size_t n = fleet_count(ap->f);
	struct auto_vm *vms;

	if (n == ap->nvms)
		return 0;
	vms = realloc(ap->vms, n * sizeof(*vms));
	if (!vms) {
		ap->status = vbctl_error(ap->v, VBCTL_EXIT_FAIL, "out of memory");
		fleet_stop(ap->f);
		return -1;
	}
	memset(vms + ap->nvms, 0, (n - ap->nvms) * sizeof(*vms));
	ap->vms = vms;
	ap->nvms = n;
	return 0;
}

/* A VM that is gone now but may be back: one adopted before, at a socket
 * path or a domain, whose connection was lost (a rescan tries it again),
 * or any VM while new ones can join (socket globs, a URI without -d). A
 * -s or -d never reached is a mistake to report, not to wait for. */
/* VMs can join: globs are read again, a URI's domains listed again. */
static bool watching(const struct vbctl *v)
{
	return v->sockets || (v->uri && !v->ndomains);
}

static bool may_come_back(const struct autopilot *ap, const struct fleet_vm *vm)
{
	const struct vbctl *v = ap->v;

	if (watching(v))
		return true;
	return ap->vms[vm->index].adopted && vm->status == VBCTL_EXIT_CONN &&
		(vm->domain || (strncmp(vm->addr, "tcp:", 4) != 0 &&
				strncmp(vm->addr, "tls:", 4) != 0));
}

/*
 * Now and then: the socket globs read again and lost sockets that are back
 * tried again (fleet_rescan), and for a URI the running domains listed
 * (off the loop, in domain-scan's thread: the list started at one rescan
 * is picked up at a later tick). Nonzero when the loop must stop (out of
 * memory).
 */
static int rescan(struct autopilot *ap)
{
	char err[256], **names;
	size_t joined = 0;
	int r;

	if (vbctl_now_ms() >= ap->rescan_ms) {
		ap->rescan_ms = vbctl_now_ms() + RESCAN_MS;
		joined += fleet_rescan(ap->f);
		if (ap->scan && domain_scan_start(ap->scan) < 0 && !ap->scan_failed) {
			ap->scan_failed = true;
			auto_log_scan_error(ap, "cannot start a thread");
		}
	}
	r = ap->scan ? domain_scan_take(ap->scan, &names, err, sizeof(err)) : 0;
	if (r < 0 && !ap->scan_failed) {
		ap->scan_failed = true;
		auto_log_scan_error(ap, err);
	} else if (r == 1) {
		ap->scan_failed = false;
		joined += fleet_rescan_domains(ap->f, names);
		qmp_strv_free(names);
	}
	return joined ? grow_vms(ap) : 0;
}

/* Every interval: decide on what the last round brought if it is still
 * open, look for new VMs now and then, notice VMs that are gone, ask
 * every VM again. */
static void auto_tick(struct fleet *f, void *data)
{
	struct autopilot *ap = data;
	struct json_object *args;
	size_t i, alive = 0;

	if (ap->round_open) {
		/* Someone did not answer in time: decide without them (the
		 * policy sees how old their figures are). */
		ap->round_open = false;
		step(ap);
	}
	if (rescan(ap))
		return;
	for (i = 0; i < ap->nvms; i++) {
		struct fleet_vm *vm = fleet_vm(f, i);
		struct auto_vm *a = &ap->vms[i];

		/* Gone, or never adopted (no balloon, not reachable): said
		 * once, until it is adopted again. */
		if (!a->dropped && vm->done && (a->adopted || vm->status)) {
			a->dropped = true;
			auto_log_drop(ap, vm, a->adopted);
		}
		if (!vm->done || may_come_back(ap, vm))
			alive++;
		if (!a->adopted || a->dropped || vm->done || a->pending)
			continue;
		a->pending = 3;
		args = path_args(a->path, "guest-stats");
		fleet_send(vm, "query-balloon", NULL, T_QUERY);
		fleet_send(vm, "qom-get", args, T_STATS);
		fleet_send(vm, "query-status", NULL, T_STATUS);
		json_object_put(args);
		ap->round_open = true;
	}
	if (!alive && !watching(ap->v)) {
		/* Nothing to manage and nothing that can come back. */
		fleet_stop(f);
		return;
	}
	if (!ap->round_open)
		auto_redraw(ap);
}

/* ---- exit: put everything back ------------------------------------------ */

static void restore_start(struct fleet_vm *vm, void *data)
{
	struct autopilot *ap = data;
	struct auto_vm *a = &ap->vms[vm->index];
	struct json_object *args;

	if (!a->adopted || a->dropped || a->restored)
		return fleet_finish(vm, VBCTL_EXIT_OK, NULL);
	a->restored = true;
	if (!ap->keep && !ap->dry_run) {
		args = balloon_args(a->orig_actual);
		if (fleet_send(vm, "balloon", args, T_RESTORE) == 0)
			vbctl_target_remember(ap->v, vm->q, vm->addr,
					      a->orig_actual);
		json_object_put(args);
	}
	if (a->polling_changed)
		set_polling(vm, a, a->orig_polling, T_RESTORE_POLLING);
	auto_log_exit(ap, vm, a);
}

static void restore_reply(struct fleet_vm *vm, void *data, int tag, int rc,
			  struct json_object *ret)
{
	auto_reply(vm, data, tag, rc, ret);
}

/* ---- options -------------------------------------------------------------- */

static int parse_plain_size(struct vbctl *v, const char *opt, const char *text,
			    uint64_t *bytes, bool zero_ok)
{
	char err[VBCTL_SIZE_ERR_MAX];
	struct vbctl_size size;

	if (zero_ok && strcmp(text, "0") == 0) {
		*bytes = 0;
		return 0;
	}
	if (vbctl_size_parse(text, &size, err, sizeof(err)) < 0)
		return vbctl_usage_error(v, &vbctl_cmd_auto, "%s: %s", opt, err);
	if (size.sign || size.percent)
		return vbctl_usage_error(v, &vbctl_cmd_auto,
					 "%s '%s': give a size, e.g. 2G or 512M", opt, text);
	*bytes = size.bytes;
	return 0;
}

/* "VM=VALUE": the rule for VM (added when new). */
static struct vm_rule *rule_for(struct autopilot *ap, const char *opt,
				char *arg, char **value)
{
	struct vm_rule *rules;
	char *eq = strchr(arg, '=');
	size_t i;

	if (!eq || eq == arg || !eq[1]) {
		vbctl_usage_error(ap->v, &vbctl_cmd_auto,
				  "%s '%s': give VM=VALUE, the VM named as in 'vbctl list'",
				  opt, arg);
		return NULL;
	}
	*eq = '\0';
	*value = eq + 1;
	for (i = 0; i < ap->nrules; i++)
		if (strcmp(ap->rules[i].name, arg) == 0)
			return &ap->rules[i];
	rules = realloc(ap->rules, (ap->nrules + 1) * sizeof(*rules));
	if (!rules) {
		vbctl_error(ap->v, VBCTL_EXIT_FAIL, "out of memory");
		return NULL;
	}
	ap->rules = rules;
	memset(&rules[ap->nrules], 0, sizeof(rules[0]));
	rules[ap->nrules].name = arg;
	return &rules[ap->nrules++];
}

/* Where options come from: --config's file, then the command line (which
 * wins); a goal given twice in one of them is a mistake. */
struct option_source {
	struct autopilot *ap;
	bool reserve_given, budget_given;
};

/* Option C (getopt's letter) with its value ARG (kept: --min and --weight
 * borrow it). 0 or an exit status (reported). */
static int apply_option(struct option_source *ps, int c, char *arg)
{
	struct autopilot *ap = ps->ap;
	struct vbctl *v = ap->v;
	struct autopilot_config *cfg = &ap->cfg;
	char err[VBCTL_SIZE_ERR_MAX], *value, *end;
	struct vbctl_size size;
	struct vm_rule *r;
	int64_t n;
	int ms;

	switch (c) {
	case 'i':
		if (vbctl_parse_count(v, &vbctl_cmd_auto, "--interval", arg, &n))
			return VBCTL_EXIT_USAGE;
		ap->interval_ms = (int)(n > 3600 ? 3600 : n) * 1000;
		break;
	case 'r':
		if (vbctl_size_parse(arg, &size, err, sizeof(err)) < 0)
			return vbctl_usage_error(v, &vbctl_cmd_auto,
						 "--guest-reserve: %s", err);
		if (size.sign)
			return vbctl_usage_error(v, &vbctl_cmd_auto,
						 "--guest-reserve '%s': give N%% or a size",
						 arg);
		if (size.percent) {
			if (size.pct_num * 100 / size.pct_den > 90)
				return vbctl_usage_error(v, &vbctl_cmd_auto,
							 "--guest-reserve '%s': at most 90%%",
							 arg);
			cfg->reserve_pct = (unsigned int)(size.pct_num * 100 / size.pct_den);
		} else {
			cfg->reserve_pct = 0;
			cfg->reserve_min = size.bytes;
		}
		break;
	case 'R':
		if (parse_plain_size(v, "--host-reserve", arg,
				     &cfg->host_reserve, true))
			return VBCTL_EXIT_USAGE;
		ps->reserve_given = true;
		cfg->host_mode = AUTOPILOT_HOST_RESERVE;
		break;
	case 'B':
		if (parse_plain_size(v, "--host-budget", arg,
				     &cfg->host_budget, false))
			return VBCTL_EXIT_USAGE;
		cfg->host_mode = AUTOPILOT_HOST_BUDGET;
		ps->budget_given = true;
		break;
	case 'P':
		errno = 0;
		cfg->pressure_pct = strtod(arg, &end);
		if (errno || end == arg || *end || cfg->pressure_pct < 0 ||
		    cfg->pressure_pct > 100)
			return vbctl_usage_error(v, &vbctl_cmd_auto,
						 "--host-pressure '%s': give a percentage 0-100",
						 arg);
		break;
	case 'm':
		if (parse_plain_size(v, "--max-step", arg, &cfg->max_step, true))
			return VBCTL_EXIT_USAGE;
		break;
	case 'H':
		if (parse_plain_size(v, "--hysteresis", arg,
				     &cfg->hysteresis, true))
			return VBCTL_EXIT_USAGE;
		break;
	case 'T':
		if (vbctl_parse_seconds(v, &vbctl_cmd_auto, "--stale", arg, &ms))
			return VBCTL_EXIT_USAGE;
		cfg->stale_ms = ms;
		break;
	case 'f':
		r = rule_for(ap, "--min", arg, &value);
		if (!r)
			return VBCTL_EXIT_USAGE;
		if (vbctl_size_parse(value, &r->size, err, sizeof(err)) < 0)
			return vbctl_usage_error(v, &vbctl_cmd_auto, "--min %s: %s",
						 r->name, err);
		if (r->size.sign)
			return vbctl_usage_error(v, &vbctl_cmd_auto,
						 "--min %s=%s: give a size or N%%",
						 r->name, value);
		r->text = value;
		break;
	case 'w':
		r = rule_for(ap, "--weight", arg, &value);
		if (!r)
			return VBCTL_EXIT_USAGE;
		errno = 0;
		n = strtoll(value, &end, 10);
		if (errno || end == value || *end || n < 1 || n > 1000)
			return vbctl_usage_error(v, &vbctl_cmd_auto,
						 "--weight %s=%s: give a whole number 1-1000",
						 r->name, value);
		r->weight = (unsigned int)n;
		break;
	case 'k':
		ap->keep = true;
		break;
	case 'n':
		ap->dry_run = true;
		break;
	case 'N':
		ap->table = false;
		break;
	default:
		return VBCTL_EXIT_USAGE;
	}
	if (ps->reserve_given && ps->budget_given)
		return vbctl_usage_error(v, &vbctl_cmd_auto,
					 "--host-reserve and --host-budget are two goals: give one");
	return 0;
}

/* --config's file: each option as apply_option takes it. */
static int apply_config_option(void *data, const struct option *opt, char *value)
{
	return apply_option(data, opt->val, value);
}

/* --config FILE (or --config=FILE) on the command line, before "--". */
static const char *config_file(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], "--config=", 9))
			return argv[i] + 9;
	}
	return NULL;
}

static int parse_options(struct autopilot *ap, int argc, char **argv)
{
	struct option_source file = { .ap = ap }, line = { .ap = ap };
	const char *path = config_file(argc, argv);
	int c, rc;

	if (path) {
		rc = auto_config_read(ap->v, &vbctl_cmd_auto, path,
				      apply_config_option, &file, &ap->owned);
		if (rc)
			return rc;
	}
	vbctl_getopt_begin();
	while ((c = vbctl_getopt(ap->v, &vbctl_cmd_auto, argc, argv)) != -1) {
		if (c == OPT_CONFIG)
			continue;	/* read first */
		rc = apply_option(&line, c, optarg);
		if (rc)
			return rc;
	}
	return vbctl_check_args(ap->v, &vbctl_cmd_auto, argc, argv, optind);
}

static int run_auto(struct vbctl *v, int argc, char **argv)
{
	static const struct fleet_ops ops = {
		.start = auto_start,
		.reply = auto_reply,
		.event = auto_event,
		.wake = auto_wake,
		.tick = auto_tick,
		.until_stopped = true,
	};
	static const struct fleet_ops restore_ops = {
		.start = restore_start,
		.reply = restore_reply,
		.connected_only = true,
	};
	struct fleet_ops run_ops = ops;
	struct autopilot ap = { .v = v, .interval_ms = 1000 };
	struct sigaction sa, old_term;
	int rc, status;
	size_t i;

	autopilot_config_defaults(&ap.cfg);
	ap.table = !v->json && isatty(fileno(v->out));
	rc = parse_options(&ap, argc, argv);
	if (rc)
		goto out;
	/* Globs and a URI are watched: auto may start before any VM. */
	rc = fleet_open(v, FLEET_WATCH, &ap.f, &status);
	if (rc)
		goto out;
	ap.nvms = fleet_count(ap.f);
	ap.vms = calloc(ap.nvms ? ap.nvms : 1, sizeof(*ap.vms));
	if (!ap.vms) {
		rc = vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
		goto out;
	}

	if (v->uri) {
		ap.scan = domain_scan_new(v->uri, false);
		if (!ap.scan) {
			rc = vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
			goto out;
		}
	}

	term_target = v;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigterm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old_term);

	if (!ap.nvms)
		auto_log_waiting(&ap);
	run_ops.tick_ms = ap.interval_ms;
	ap.rescan_ms = vbctl_now_ms() + RESCAN_MS;
	/* Runs until interrupted: VMs that go away may come back and new
	 * ones join, so it ends by itself only when no VM is left and none
	 * can come (auto_tick stops it). */
	rc = fleet_run(ap.f, &run_ops, &ap);
	if (v->interrupted) {
		/* Put everything back, on the connections still open; the
		 * lines go to the output even when a table was shown. */
		v->interrupted = 0;
		ap.table = false;
		fleet_run(ap.f, &restore_ops, &ap);
		rc = VBCTL_EXIT_OK;
	} else if (ap.status == VBCTL_EXIT_OK) {
		rc = vbctl_error(v, VBCTL_EXIT_CONN,
				 "auto: no VM left to manage (see the reasons below)");
	}
	/* VMs that were never adopted failed; VMs dropped on the way were
	 * logged as such. Each says why. */
	for (i = 0; i < ap.nvms; i++)
		if (!ap.vms[i].adopted)
			status = fleet_worse(status, fleet_vm(ap.f, i)->status);
	fleet_report_failures(ap.f);
	rc = fleet_worse(fleet_worse(status, ap.status), rc);
	sigaction(SIGTERM, &old_term, NULL);
	term_target = NULL;
out:
	for (i = 0; ap.vms && i < ap.nvms; i++)
		free(ap.vms[i].path);
	free(ap.vms);
	free(ap.rules);
	qmp_strv_free(ap.owned);
	domain_scan_free(ap.scan);
	fleet_free(ap.f);
	return rc;
}
