/* SPDX-License-Identifier: MIT */
/*
 * cmd-set.c - "vbctl set SIZE": give the balloon a new target, and with
 * --wait follow the guest until it gets there or stops short.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "fleet.h"
#include "print.h"
#include "size.h"
#include "targets.h"

/* QEMU moves the balloon in whole 4 KiB pages (the virtio PFN unit), so a
 * target that is not page-aligned is met to within one page. */
#define BALLOON_PAGE_BYTES 4096
/* --wait: default bound; how long "actual" may stand still after it moved
 * before we call it stalled (the guest is holding back), and how long the
 * guest may take to start moving at all. A live driver answers a new
 * target within milliseconds; these allow for QEMU's one-second event
 * rate limit and a busy guest. */
#define WAIT_DEFAULT_MS (60 * 1000)
#define WAIT_STALL_MS (3 * 1000)
#define WAIT_START_MS (5 * 1000)
/* QEMU rate-limits BALLOON_CHANGE to about one a second; ask this often
 * when no event comes. */
#define WAIT_POLL_MS 1000
/* How often --wait looks at Ctrl-C and the clock, and redraws progress. */
#define WAIT_SLICE_MS 200

static const struct option set_options[] = {
	{ "wait", no_argument, NULL, 'w' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

static const struct vbctl_arg set_args[] = {
	{ "SIZE", VBCTL_ARG_SIZE, false },
	{ NULL },
};

static int run_set(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_set = {
	.name = "set",
	.usage = "SIZE [--wait] [--timeout S]",
	.summary = "set the guest's target memory size",
	.help =
	"Asks the guest to reach a logical memory size of SIZE (QMP balloon).\n"
	"SIZE is bytes, or a number with a unit: K M G T or KiB MiB GiB TiB\n"
	"(powers of 1024), KB MB GB TB (powers of 1000); case does not matter;\n"
	"decimals are fine when the result is whole bytes (1.5G). N% is a share\n"
	"of the VM's boot memory (rounded down to bytes); +SIZE and -SIZE are\n"
	"relative to the current size. The target must be above 0 and at most\n"
	"the boot memory.\n"
	"\n"
	"  -w, --wait       follow the guest (BALLOON_CHANGE events, query-balloon\n"
	"                   every second) until it reaches the target; progress on\n"
	"                   a terminal; exit 1 if it stops short (no movement for\n"
	"                   3 s, or none within 5 s of the new target)\n"
	"  -t, --timeout S  with --wait: give up after S seconds (default 60)\n"
	"With -r (--reconnect) and --wait: goes on through QEMU restarts,\n"
	"sending the target again to the new QEMU.\n"
	"\n"
	"With several VMs (-s repeated, --sockets): every VM at once, SIZE\n"
	"worked out for each one; with --wait on a terminal, a progress line per\n"
	"VM on stderr meanwhile; one line each when it is done (--json: one\n"
	"object per VM with \"name\", \"target\" and, with --wait, \"actual\",\n"
	"\"settled\" and \"reason\"; or \"error\"); the exit status is the worst.\n",
	.flags = VBCTL_NEEDS_QMP | VBCTL_STREAM,
	.shortopts = "wt:",
	.longopts = set_options,
	.args = set_args,
	.min_args = 1,
	.max_args = 1,
	.run = run_set,
};

struct set_wait {
	uint64_t target, actual;
	int64_t start_ms, moved_ms;	/* moved_ms: last change; 0: none */
	int64_t armed_ms;		/* target last sent (start, reconnect) */
	bool progress;			/* redraw a line on stderr */
};

/* One observation of "actual": a JSON line with --json, else the
 * progress line on a terminal. */
static int report_actual(struct vbctl *v, struct set_wait *w)
{
	char a[VBCTL_SIZE_HUMAN_MAX], t[VBCTL_SIZE_HUMAN_MAX];
	struct json_object *obj;
	int rc = 0;

	if (v->json) {
		obj = vbctl_json_object(v, "actual", json_object_new_uint64(w->actual));
		if (!obj || vbctl_json_add(v, obj, "target",
					   json_object_new_uint64(w->target))) {
			json_object_put(obj);
			return VBCTL_EXIT_FAIL;
		}
		rc = vbctl_print(v, VBCTL_PRINT_STREAM, obj, NULL);
		json_object_put(obj);
	} else if (w->progress) {
		vbctl_progress_clear(v);
		fprintf(stderr, "actual %s, target %s, %llds",
			vbctl_size_iec(w->actual, a, sizeof(a)),
			vbctl_size_iec(w->target, t, sizeof(t)),
			(long long)(vbctl_now_ms() - w->start_ms) / 1000);
		v->progress_shown = true;
	}
	return rc;
}

static bool reached(const struct set_wait *w)
{
	uint64_t gap = w->actual > w->target ? w->actual - w->target :
					      w->target - w->actual;

	return gap < BALLOON_PAGE_BYTES;
}

/* The final word: where the guest is, and why if short. */
static int report_end(struct vbctl *v, struct set_wait *w, const char *why)
{
	char a[VBCTL_SIZE_HUMAN_MAX], t[VBCTL_SIZE_HUMAN_MAX], status[128];
	bool settled = reached(w);
	struct json_object *obj;
	int rc;

	if (!settled && !v->interrupted &&
	    vbctl_not_running(v, status, sizeof(status)))
		why = status;

	vbctl_progress_clear(v);
	vbctl_size_human(w->actual, a, sizeof(a));
	vbctl_size_human(w->target, t, sizeof(t));
	if (v->json) {
		obj = vbctl_json_object(v, "actual", json_object_new_uint64(w->actual));
		if (!obj ||
		    vbctl_json_add(v, obj, "target", json_object_new_uint64(w->target)) ||
		    vbctl_json_add(v, obj, "settled", json_object_new_boolean(settled)) ||
		    (!settled && vbctl_json_add(v, obj, "reason",
						json_object_new_string(why)))) {
			json_object_put(obj);
			return VBCTL_EXIT_FAIL;
		}
		rc = vbctl_print(v, VBCTL_PRINT_STREAM, obj, NULL);
		json_object_put(obj);
	} else {
		rc = vbctl_print(v, 0, NULL, "%s at %s\n",
				 settled ? "settled" : "stopped", a);
	}
	if (rc)
		return VBCTL_EXIT_FAIL;
	if (settled)
		return VBCTL_EXIT_OK;
	return vbctl_error(v, VBCTL_EXIT_FAIL, "set: not settled: actual %s, target %s: %s",
			   a, t, why);
}

/* After a reconnect (--reconnect): the new QEMU knows nothing of the
 * target, so send it again and give the guest time to start moving. */
static int rearm_target(struct vbctl *v, struct set_wait *w)
{
	int rc = VBCTL_REARM;

	while (rc == VBCTL_REARM) {
		rc = qmp_balloon_set_target(v->q, w->target);
		if (rc)
			rc = vbctl_balloon_failed(v, rc, "set");
		else
			vbctl_target_remember(v, v->q, v->addr, w->target);
	}
	w->armed_ms = vbctl_now_ms();
	w->moved_ms = 0;
	return rc;
}

/* Follows the guest until it reaches the target, stalls, or time runs out. */
static int follow(struct vbctl *v, struct set_wait *w, int timeout_ms)
{
	struct json_object *event;
	int64_t now, asked_ms;
	uint64_t previous;
	int rc;

	w->start_ms = w->armed_ms = asked_ms = vbctl_now_ms();
	w->progress = !v->json && isatty(STDERR_FILENO);
	rc = report_actual(v, w);
	while (rc == 0 && !reached(w)) {
		now = vbctl_now_ms();
		if (v->interrupted)
			return report_end(v, w, "interrupted");
		if (now - w->start_ms >= timeout_ms)
			return report_end(v, w, w->moved_ms ?
				"the guest was still moving when the time ran out (try a longer --timeout)" :
				"the guest did not move at all (no balloon driver in the guest, or it is not running)");
		if (!w->moved_ms && now - w->armed_ms >= WAIT_START_MS)
			return report_end(v, w,
				"the guest did not move at all (no balloon driver in the guest, it is not running, or it cannot give more memory)");
		if (w->moved_ms && now - w->moved_ms >= WAIT_STALL_MS)
			return report_end(v, w,
				"the guest stopped moving (it may be keeping a minimum of free memory, or be short of memory to give back)");

		previous = w->actual;
		event = NULL;
		rc = qmp_wait_event(v->q, "BALLOON_CHANGE", WAIT_SLICE_MS, &event);
		if (rc == -ETIMEDOUT && vbctl_now_ms() - asked_ms < WAIT_POLL_MS) {
			rc = 0;
		} else if (rc == -ETIMEDOUT) {
			/* No event for a while: either nothing moved or the
			 * event is being held back by QEMU's rate limit. Ask. */
			asked_ms = vbctl_now_ms();
			rc = qmp_balloon_query(v->q, &w->actual);
			if (rc)
				rc = vbctl_balloon_failed(v, rc, "set");
		} else if (rc == 0) {
			asked_ms = vbctl_now_ms();
			rc = vbctl_actual_from_event(v, event, &w->actual);
		} else {
			rc = vbctl_qmp_failed(v, rc, "set");
		}
		if (rc == VBCTL_REARM)
			rc = rearm_target(v, w);
		if (rc) {
			json_object_put(event);
			break;
		}
		json_object_put(event);
		if (rc)		/* reported; the connection is gone */
			return rc;
		/* Events we do not follow must not pile up. */
		while ((event = qmp_event_pop(v->q)))
			json_object_put(event);
		if (rc == 0 && w->actual != previous) {
			w->moved_ms = vbctl_now_ms();
			rc = report_actual(v, w);
		} else if (rc == 0 && w->progress) {
			/* Still waiting: the seconds go on. */
			rc = report_actual(v, w);
		}
	}
	if (rc == VBCTL_EXIT_CONN || rc == VBCTL_EXIT_FAIL)
		return rc;
	return rc ? VBCTL_EXIT_FAIL : report_end(v, w, NULL);
}

/* follow(), going on through QEMU restarts with --reconnect. */
static int wait_settled(struct vbctl *v, struct set_wait *w, int timeout_ms)
{
	int rc;

	v->rearm = vbctl_wants_reconnect(v, false);
	rc = follow(v, w, timeout_ms);
	v->rearm = false;
	return rc;
}

/*
 * "-512M" looks like an option to getopt. Take the first argument that is
 * '-' and a digit or '.', and not an option's value, out of ARGV as SIZE
 * before getopt sees it.
 */
static char *take_negative_size(int *argc, char **argv)
{
	char *size;
	int i;

	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
		if (vbctl_option_takes_value(&vbctl_cmd_set, argv[i])) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' &&
		    (isdigit((unsigned char)argv[i][1]) || argv[i][1] == '.')) {
			size = argv[i];
			memmove(&argv[i], &argv[i + 1],
				(size_t)(*argc - i) * sizeof(argv[0]));
			(*argc)--;
			return size;
		}
	}
	return NULL;
}

/* Reads what the target depends on (the current size only for relative
 * sizes and --wait) and works it out; 0, 2 or 1/3. */
static int resolve_target(struct vbctl *v, const struct vbctl_size *size,
			  const char *text, bool need_actual,
			  struct set_wait *w)
{
	char err[VBCTL_SIZE_ERR_MAX];
	uint64_t boot;
	int rc;

	rc = qmp_memory_base_size(v->q, &boot);
	if (rc)
		return vbctl_qmp_failed(v, rc, "set: reading the boot memory size");
	if (need_actual || vbctl_size_is_relative(size)) {
		rc = qmp_balloon_query(v->q, &w->actual);
		if (rc)
			return vbctl_balloon_failed(v, rc, "set");
	}
	if (vbctl_size_resolve(size, text, boot, w->actual, &w->target, err,
			       sizeof(err)))
		return vbctl_error(v, VBCTL_EXIT_USAGE, "set: %s", err);
	return 0;
}

/* ---- many VMs ------------------------------------------------------------- */

enum { FSET_BOOT, FSET_ACTUAL, FSET_BALLOON, FSET_POLL, FSET_STATUS };

struct fleet_set {
	struct vbctl *v;
	const struct vbctl_size *size;
	const char *text;
	bool wait;
	int timeout_ms;
	size_t progress_lines;	/* on stderr now, cursor below them */
	struct fleet_set_vm {
		uint64_t boot, target;
		bool have_boot, have_actual, sent, settled;
		struct set_wait w;
		char reason[160];	/* why it stopped short, once known */
	} *vms;
};

static void fset_start(struct fleet_vm *vm, void *data)
{
	struct fleet_set *fs = data;

	if (fleet_send(vm, "query-memory-size-summary", NULL, FSET_BOOT) == 0 &&
	    (fs->wait || vbctl_size_is_relative(fs->size)))
		fleet_send(vm, "query-balloon", NULL, FSET_ACTUAL);
}

/* Stop following VM short of its target: ask whether it runs first, since
 * a paused VM explains it best. */
static void fset_stop_short(struct fleet_vm *vm, struct fleet_set_vm *s,
			    const char *why)
{
	snprintf(s->reason, sizeof(s->reason), "%s", why);
	vm->wake_ms = 0;
	fleet_send(vm, "query-status", NULL, FSET_STATUS);
}

static void fset_observe(struct fleet_vm *vm, struct fleet_set *fs,
			 struct fleet_set_vm *s, uint64_t actual)
{
	if (actual != s->w.actual) {
		s->w.actual = actual;
		s->w.moved_ms = vbctl_now_ms();
	}
	if (reached(&s->w)) {
		s->settled = true;
		fleet_finish(vm, VBCTL_EXIT_OK, NULL);
	}
}

/* The clock: deadlines as in wait_settled(), and a query-balloon each
 * second since QEMU rate-limits BALLOON_CHANGE. */
static void fset_wake(struct fleet_vm *vm, void *data)
{
	struct fleet_set *fs = data;
	struct fleet_set_vm *s = &fs->vms[vm->index];
	int64_t now = vbctl_now_ms();

	if (now - s->w.start_ms >= fs->timeout_ms)
		return fset_stop_short(vm, s, s->w.moved_ms ?
			"the guest was still moving when the time ran out (try a longer --timeout)" :
			"the guest did not move at all (no balloon driver in the guest, or it is not running)");
	if (!s->w.moved_ms && now - s->w.start_ms >= WAIT_START_MS)
		return fset_stop_short(vm, s,
			"the guest did not move at all (no balloon driver in the guest, it is not running, or it cannot give more memory)");
	if (s->w.moved_ms && now - s->w.moved_ms >= WAIT_STALL_MS)
		return fset_stop_short(vm, s,
			"the guest stopped moving (it may be keeping a minimum of free memory, or be short of memory to give back)");
	if (fleet_send(vm, "query-balloon", NULL, FSET_POLL) == 0)
		fleet_wake(vm, WAIT_POLL_MS);
}

static void fset_send_target(struct fleet_vm *vm, struct fleet_set *fs,
			     struct fleet_set_vm *s)
{
	char err[VBCTL_SIZE_ERR_MAX];
	struct json_object *args;

	if (vbctl_size_resolve(fs->size, fs->text, s->boot, s->w.actual,
			       &s->target, err, sizeof(err))) {
		fleet_finish(vm, VBCTL_EXIT_USAGE, "%s", err);
		return;
	}
	s->w.target = s->target;
	s->sent = true;
	args = json_object_new_object();
	json_object_object_add(args, "value", json_object_new_uint64(s->target));
	fleet_send(vm, "balloon", args, FSET_BALLOON);
	json_object_put(args);
}

static void fset_reply(struct fleet_vm *vm, void *data, int tag, int rc,
		       struct json_object *ret)
{
	struct fleet_set *fs = data;
	struct fleet_set_vm *s = &fs->vms[vm->index];
	struct json_object *m, *running;
	uint64_t actual;

	if (rc) {
		fleet_qmp_error(vm, tag == FSET_BOOT ? "query-memory-size-summary" :
				tag == FSET_BALLOON ? "balloon" :
				tag == FSET_STATUS ? "query-status" : "query-balloon");
		return;
	}
	switch (tag) {
	case FSET_BOOT:
		s->have_boot = fleet_get_u64(ret, "base-memory", &s->boot);
		if (!s->have_boot)
			return fleet_protocol_error(vm, ret,
						    "query-memory-size-summary returned no \"base-memory\" in bytes");
		break;
	case FSET_ACTUAL:
	case FSET_POLL:
		if (!fleet_get_u64(ret, "actual", &actual))
			return fleet_protocol_error(vm, ret,
						    "query-balloon returned no \"actual\" in bytes");
		if (tag == FSET_POLL)
			return fset_observe(vm, fs, s, actual);
		s->w.actual = actual;
		s->have_actual = true;
		break;
	case FSET_BALLOON:
		vbctl_target_remember(fs->v, vm->q, vm->addr, s->target);
		if (!fs->wait)
			return fleet_finish(vm, VBCTL_EXIT_OK, NULL);
		s->w.start_ms = vbctl_now_ms();
		if (reached(&s->w)) {
			s->settled = true;
			return fleet_finish(vm, VBCTL_EXIT_OK, NULL);
		}
		fleet_wake(vm, WAIT_POLL_MS);
		return;
	case FSET_STATUS:
		/* Said only when QEMU says it plainly (null is no answer). */
		if (json_object_object_get_ex(ret, "running", &running) &&
		    json_object_is_type(running, json_type_boolean) &&
		    !json_object_get_boolean(running) &&
		    json_object_object_get_ex(ret, "status", &m) &&
		    json_object_is_type(m, json_type_string))
			snprintf(s->reason, sizeof(s->reason),
				 "the VM is not running (QEMU status '%s'; 'vbctl qmp cont' resumes a paused VM)",
				 json_object_get_string(m));
		return fleet_finish(vm, VBCTL_EXIT_FAIL, "not settled: %s",
				    s->reason);
	}
	/* Boot memory and, when needed, the current size are in. */
	if (!s->sent && s->have_boot &&
	    (s->have_actual || !(fs->wait || vbctl_size_is_relative(fs->size))))
		fset_send_target(vm, fs, s);
}

static void fset_event(struct fleet_vm *vm, void *data, struct json_object *ev)
{
	struct fleet_set *fs = data;
	struct fleet_set_vm *s = &fs->vms[vm->index];
	uint64_t actual;

	if (!fs->wait || !s->sent || s->reason[0] ||
	    strcmp(qmp_event_name(ev), "BALLOON_CHANGE") != 0 ||
	    !fleet_get_u64(qmp_event_data(ev), "actual", &actual))
		return;
	fset_observe(vm, fs, s, actual);
}

/* --wait on a terminal: one line per VM on stderr, redrawn in place,
 * where it is against its target and for how long; erased at the end,
 * when the results come. */
static void fset_progress(struct fleet *f, void *data)
{
	char a[VBCTL_SIZE_HUMAN_MAX], t[VBCTL_SIZE_HUMAN_MAX];
	struct fleet_set *fs = data;
	size_t i, n = fleet_count(f);

	if (fs->progress_lines)
		fprintf(stderr, "\033[%zuA", fs->progress_lines);
	for (i = 0; i < n; i++) {
		struct fleet_vm *vm = fleet_vm(f, i);
		struct fleet_set_vm *s = &fs->vms[i];

		fprintf(stderr, "\r%-20s ", vm->name);
		if (vm->done && vm->status && !s->reason[0])
			fputs("failed", stderr);
		else if (!s->sent)
			fputs("connecting", stderr);
		else if (vm->done)
			fprintf(stderr, "%s at %s", s->settled ? "settled" : "stopped",
				vbctl_size_iec(s->w.actual, a, sizeof(a)));
		else
			fprintf(stderr, "actual %s, target %s, %llds",
				vbctl_size_iec(s->w.actual, a, sizeof(a)),
				vbctl_size_iec(s->w.target, t, sizeof(t)),
				(long long)(vbctl_now_ms() - s->w.start_ms) / 1000);
		fputs("\033[K\n", stderr);
	}
	fs->progress_lines = n;
	fflush(stderr);
}

static int fset_print(struct vbctl *v, struct fleet_set *fs,
		      struct fleet_vm *vm)
{
	struct fleet_set_vm *s = &fs->vms[vm->index];
	char a[VBCTL_SIZE_HUMAN_MAX], t[VBCTL_SIZE_HUMAN_MAX];
	struct json_object *obj;
	int rc;

	if (v->json) {
		obj = json_object_new_object();
		json_object_object_add(obj, "name", json_object_new_string(vm->name));
		if (s->sent)
			json_object_object_add(obj, "target", json_object_new_uint64(s->target));
		if (s->sent && fs->wait) {
			json_object_object_add(obj, "actual", json_object_new_uint64(s->w.actual));
			json_object_object_add(obj, "settled", json_object_new_boolean(s->settled));
			if (!s->settled && s->reason[0])
				json_object_object_add(obj, "reason", json_object_new_string(s->reason));
		}
		if (vm->status && !(s->sent && s->reason[0]))
			json_object_object_add(obj, "error", json_object_new_string(vm->why));
		rc = vbctl_print(v, VBCTL_PRINT_STREAM, obj, NULL);
		json_object_put(obj);
		return rc;
	}
	vbctl_size_human(s->target, t, sizeof(t));
	vbctl_size_human(s->w.actual, a, sizeof(a));
	if (!s->sent)
		return vbctl_print(v, 0, NULL, "%-20s -\n", vm->name);
	if (!fs->wait)
		return vbctl_print(v, 0, NULL, "%-20s target: %s\n", vm->name,
				   vm->status ? "-" : t);
	if (s->settled)
		return vbctl_print(v, 0, NULL, "%-20s settled at %s\n", vm->name, a);
	return vbctl_print(v, 0, NULL, "%-20s stopped at %s, target %s\n",
			   vm->name, a, t);
}

static int fleet_set(struct vbctl *v, const struct vbctl_size *size,
		     const char *text, bool wait, int timeout_ms)
{
	struct fleet_ops ops = {
		.start = fset_start,
		.reply = fset_reply,
		.event = fset_event,
		.wake = fset_wake,
	};
	struct fleet_set fs = {
		.v = v, .size = size, .text = text, .wait = wait,
		.timeout_ms = timeout_ms,
	};
	struct fleet *f;
	int rc, status;
	size_t i;

	rc = fleet_open_rows(v, 0, sizeof(*fs.vms), &f, (void **)&fs.vms, &status);
	if (rc)
		return rc;
	if (wait && !v->json && isatty(STDERR_FILENO)) {
		ops.tick = fset_progress;
		ops.tick_ms = WAIT_SLICE_MS;
	}
	status = fleet_worse(status, fleet_run(f, &ops, &fs));
	/* Line by line: a terminal may keep a screen cleared from its top
	 * (ESC [ J) in its scrollback, as tmux does. */
	if (fs.progress_lines) {
		fprintf(stderr, "\033[%zuA", fs.progress_lines);
		for (i = 0; i < fs.progress_lines; i++)
			fputs("\r\033[K\n", stderr);
		fprintf(stderr, "\033[%zuA", fs.progress_lines);
		fflush(stderr);
	}
	for (i = 0; i < fleet_count(f); i++)
		if (fset_print(v, &fs, fleet_vm(f, i)))
			status = fleet_worse(status, VBCTL_EXIT_FAIL);
	fleet_report_failures(f);
	free(fs.vms);
	fleet_free(f);
	return status;
}

static int run_set(struct vbctl *v, int argc, char **argv)
{
	char err[VBCTL_SIZE_ERR_MAX], human[VBCTL_SIZE_HUMAN_MAX];
	int c, rc, timeout_ms = WAIT_DEFAULT_MS;
	struct json_object *ret;
	bool wait = false, timeout_given = false;
	struct set_wait w = { 0 };
	struct vbctl_size size;
	char **av, *text;

	/* A private copy of argv: take_negative_size() reorders it. */
	av = calloc((size_t)argc + 1, sizeof(*av));
	if (!av)
		return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
	memcpy(av, argv, (size_t)argc * sizeof(*av));
	text = take_negative_size(&argc, av);

	vbctl_getopt_begin();
	while ((c = vbctl_getopt(v, &vbctl_cmd_set, argc, av)) != -1) {
		if (c == 'w') {
			wait = true;
		} else if (c == 't') {
			timeout_given = true;
			if (vbctl_parse_seconds(v, &vbctl_cmd_set, "--timeout",
						optarg, &timeout_ms))
				goto usage;
		} else {
			goto usage;
		}
	}
	if (vbctl_check_args(v, &vbctl_cmd_set, argc, av, optind - !!text))
		goto usage;
	if (!text)
		text = av[optind];
	free(av);
	av = NULL;
	if (timeout_given && !wait)
		return vbctl_usage_error(v, &vbctl_cmd_set, "--timeout only applies with --wait");
	/* Syntax first: a bad SIZE is reported before connecting. */
	if (vbctl_size_parse(text, &size, err, sizeof(err)))
		return vbctl_usage_error(v, &vbctl_cmd_set, "%s", err);

	if (vbctl_is_fleet(v))
		return fleet_set(v, &size, text, wait, timeout_ms);
	rc = vbctl_connect(v);
	if (rc == 0)
		rc = resolve_target(v, &size, text, wait, &w);
	if (rc)
		return rc;

	rc = qmp_balloon_set_target(v->q, w.target);
	if (rc)
		return vbctl_balloon_failed(v, rc, "set");
	vbctl_target_remember(v, v->q, v->addr, w.target);
	if (wait)
		return wait_settled(v, &w, timeout_ms);
	/* --json: balloon's return value, {}. */
	ret = vbctl_json_object(v, NULL, NULL);
	if (!ret)
		return VBCTL_EXIT_FAIL;
	rc = vbctl_print(v, 0, ret, "target: %s\n",
			 vbctl_size_human(w.target, human, sizeof(human)));
	json_object_put(ret);
	return rc ? VBCTL_EXIT_FAIL : VBCTL_EXIT_OK;

usage:
	free(av);
	return VBCTL_EXIT_USAGE;
}
