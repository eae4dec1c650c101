/* SPDX-License-Identifier: MIT */
/*
 * cmd-top.c - "vbctl top": a live table of the fleet's memory (boot,
 * actual, target, guest free/available, stats age, swap, last event),
 * redrawn in place on a terminal. Stats polling is turned on where it is
 * off and set back on exit; a VM whose QEMU goes away is retried with a
 * growing pause and followed again when it is back.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "fleet.h"
#include "print.h"
#include "size.h"
#include "targets.h"

#define DEFAULT_INTERVAL_S 2
/* A live table looks at lost VMs this often; it retries one after a pause
 * that starts at RETRY_FIRST_MS and doubles up to RETRY_MAX_MS (as
 * vbctl_reconnect() does for one VM). */
#define TICK_MS 100
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 5000
#define POLLING_PROPERTY "guest-stats-polling-interval"
/* QEMU's guest-stats value for "the guest did not report this". */
#define STAT_UNSET UINT64_MAX

static const struct option top_options[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "sort", required_argument, NULL, 'o' },
	{ "once", no_argument, NULL, '1' },
	{ NULL, 0, NULL, 0 },
};

static const struct vbctl_arg top_args[] = { { NULL } };

enum top_column { COL_NAME, COL_BOOT, COL_ACTUAL, COL_TARGET, COL_FREE,
		  COL_AVAILABLE, COL_AGE, COL_SWAP, COL_EVENT, COL_COUNT };

/* --sort's values; completion offers them too. */
static const char *const column_names[COL_COUNT + 1] = {
	"name", "boot", "actual", "target", "free", "available", "age",
	"swap", "event", NULL,
};

static const struct vbctl_optval top_optvals[] = {
	{ "sort", VBCTL_ARG_NONE, column_names },
	{ NULL },
};

static int run_top(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_top = {
	.name = "top",
	.usage = "[--interval S] [--sort COLUMN] [--once]",
	.summary = "a live table of the VMs' memory",
	.help =
	"Follows every VM the targets name (-s repeated, --sockets GLOB,\n"
	"$VBCTL_SOCKETS, -c URI with -d or --all) and shows one row each: NAME,\n"
	"BOOT memory, ACTUAL (current logical size), TARGET (the balloon target\n"
	"vbctl last set on this run of the VM, '-' when unknown: QEMU reports\n"
	"none; see FILES in vbctl(1)), the guest's\n"
	"FREE and AVAILABLE memory, the AGE of that sample, SWAP (bytes swapped\n"
	"in plus out) and the last EVENT. On a terminal the table is\n"
	"redrawn in place every interval until Ctrl-C, cut to its width, the\n"
	"rows that do not fit in its height counted; otherwise frames are\n"
	"appended. Stats polling is turned on where it is off, and set back as\n"
	"it was on exit, on every VM where it was changed (connecting again if\n"
	"need be, within -t; stderr names a VM where that failed). A VM that\n"
	"cannot be reached is a row saying why; in a live table, a VM whose QEMU\n"
	"goes away is a row saying so, tried again with a growing pause (0.1 s\n"
	"doubling to 5 s) and followed again, polling re-armed, once QEMU is\n"
	"back on the same address (--no-reconnect: not tried again; the table\n"
	"ends when no VM is left).\n"
	"With --json: each frame as one object per VM per line (NDJSON).\n"
	"\n"
	"  -i, --interval S   refresh (and stats polling) interval in whole seconds\n"
	"                     (default 2)\n"
	"  -o, --sort COLUMN  sort by name, boot, actual, target, free, available,\n"
	"                     age, swap or event (sizes largest first)\n"
	"  -1, --once         one frame, once every VM has a sample, then exit\n",
	.flags = VBCTL_NEEDS_QMP | VBCTL_STREAM,
	.shortopts = "i:o:1",
	.longopts = top_options,
	.args = top_args,
	.optvals = top_optvals,
	.min_args = 0,
	.max_args = 0,
	.run = run_top,
};

enum { TOP_LIST, TOP_LIST_ANON, TOP_BOOT, TOP_GET_POLLING, TOP_SET_POLLING,
       TOP_ACTUAL, TOP_STATS, TOP_RESTORE };


struct top_row {
	char *path;		/* the balloon's QOM path */
	int seen;		/* balloon listings answered */
	int64_t polling_was;	/* -1: not changed by us */
	/* Which run of the VM polling was changed on (targets.h): "" when
	 * it cannot be told. */
	char ident[VBCTL_TARGET_KEY_MAX];
	bool restored;		/* polling set back on exit */
	bool sampled;		/* a first round of answers came */
	bool have_actual, have_stats;
	uint64_t boot, actual, target;	/* target: 0 unknown */
	int64_t retry_ms;	/* lost: when to try again; 0: not set */
	int64_t backoff_ms;	/* the pause before that try; 0: not lost */
	char lost_why[256];	/* why it was lost, while it is */
	struct qmp_balloon_stats *st;	/* NULL until a sample came */
	char event[64];		/* "NAME HH:MM:SS" */
	int64_t event_us;
	int status;		/* the VM's outcome before the clean-up run */
	char why[256];
};

struct top {
	struct vbctl *v;
	struct fleet *f;
	struct top_row *rows;
	int64_t interval;
	enum top_column sort;
	bool once, redraw;
	bool reconnect;		/* live: lost VMs are tried again */
	int64_t next_frame_ms;
	int frames;
	int rc;			/* a failed write */
	/* Redrawn in place: the terminal's width, read for each frame, the
	 * lines of this frame that fit, and those written and left out. */
	size_t cols, room, line, left_out;
};

static void first_frame(struct top *t);

/* ---- per VM ---------------------------------------------------------------- */

static void top_sample(struct fleet_vm *vm, struct top_row *row)
{
	if (fleet_send(vm, "query-balloon", NULL, TOP_ACTUAL) == 0)
		fleet_qom(vm, "qom-get", row->path, "guest-stats", NULL,
			  TOP_STATS);
}

static void top_start(struct fleet_vm *vm, void *data)
{
	struct top *t = data;
	struct top_row *row = &t->rows[vm->index];
	char place[VBCTL_TARGET_KEY_MAX], ident[VBCTL_TARGET_KEY_MAX];

	/* Connected, maybe again to a QEMU started anew: everything is
	 * found and read afresh (the last event stays). What polling was
	 * before we changed it is kept while it is the same run of the VM
	 * (a connection dropped on a timeout), forgotten with a new one. */
	free(row->path);
	row->path = NULL;
	row->seen = 0;
	if (!row->ident[0] ||
	    vbctl_target_key(vm->q, vm->addr, place, ident, sizeof(ident)) ||
	    strcmp(ident, row->ident) != 0)
		row->polling_was = -1;
	row->sampled = false;
	row->have_actual = false;
	row->have_stats = false;
	qmp_balloon_stats_free(row->st);
	row->st = NULL;
	row->retry_ms = 0;
	if (fleet_send(vm, "query-memory-size-summary", NULL, TOP_BOOT) == 0)
		fleet_balloon_search(vm, TOP_LIST);
}

static void top_wake(struct fleet_vm *vm, void *data)
{
	struct top *t = data;

	top_sample(vm, &t->rows[vm->index]);
}

static void top_reply(struct fleet_vm *vm, void *data, int tag, int rc,
		      struct json_object *ret)
{
	struct top *t = data;
	struct top_row *row = &t->rows[vm->index];
	char place[VBCTL_TARGET_KEY_MAX];
	int64_t current;

	if (tag == TOP_LIST || tag == TOP_LIST_ANON) {
		if (row->path || fleet_balloon_reply(vm, tag, TOP_LIST, rc, ret,
						     &row->seen, &row->path) != 1)
			return;
		fleet_qom(vm, "qom-get", row->path, POLLING_PROPERTY, NULL,
			  TOP_GET_POLLING);
		return;
	}
	if (rc)
		return fleet_qmp_error(vm, tag == TOP_BOOT ? "query-memory-size-summary" :
				       tag == TOP_ACTUAL ? "query-balloon" :
				       tag == TOP_STATS ? "qom-get guest-stats" :
				       POLLING_PROPERTY);
	/* A reply of the wrong shape is a protocol fault (status 3). */
	switch (tag) {
	case TOP_BOOT:
		if (!fleet_get_u64(ret, "base-memory", &row->boot))
			return fleet_protocol_error(vm, ret,
						    "query-memory-size-summary returned no \"base-memory\" in bytes");
		return;
	case TOP_GET_POLLING:
		current = json_object_get_int64(ret);
		if (!json_object_is_type(ret, json_type_int) || current < 0)
			return fleet_protocol_error(vm, ret, POLLING_PROPERTY
						    " is not a whole number of seconds");
		if (current == t->interval)
			return top_sample(vm, row);
		row->polling_was = current;
		row->restored = false;
		if (vbctl_target_key(vm->q, vm->addr, place, row->ident,
				     sizeof(row->ident)))
			row->ident[0] = '\0';
		fleet_qom(vm, "qom-set", row->path, POLLING_PROPERTY,
			  json_object_new_int64(t->interval), TOP_SET_POLLING);
		return;
	case TOP_SET_POLLING:
		return top_sample(vm, row);
	case TOP_ACTUAL:
		row->have_actual = fleet_get_u64(ret, "actual", &row->actual);
		if (!row->have_actual)
			return fleet_protocol_error(vm, ret, "query-balloon returned no \"actual\" in bytes");
		/* The target vbctl last gave this run of the VM; re-read each
		 * time, as another vbctl may have set one meanwhile. */
		if (vbctl_target_recall(vm->q, vm->addr, &row->target))
			row->target = 0;
		return;
	case TOP_STATS:
		qmp_balloon_stats_free(row->st);
		row->have_stats = qmp_balloon_stats_parse(ret, &row->st) == 0;
		if (!row->have_stats)
			return fleet_protocol_error(vm, ret, "malformed guest-stats");
		/* The guest answers QEMU's first poll within milliseconds of
		 * polling starting; until then, ask again soon. */
		if (!row->have_stats ||
		    (!qmp_balloon_stats_last_update(row->st) && !row->sampled)) {
			fleet_wake(vm, 250);
			return;
		}
		row->sampled = true;
		row->backoff_ms = 0;	/* back, or never gone */
		if (!t->once)
			fleet_wake(vm, (int)t->interval * 1000);
		first_frame(t);
		return;
	}
}

static void top_event(struct fleet_vm *vm, void *data, struct json_object *ev)
{
	struct top *t = data;
	struct top_row *row = &t->rows[vm->index];
	uint64_t us = qmp_event_timestamp_us(ev);
	time_t secs = (time_t)(us / 1000000);
	char when[16];
	struct tm tm;

	if (strcmp(qmp_event_name(ev), "BALLOON_CHANGE") == 0 &&
	    fleet_get_u64(qmp_event_data(ev), "actual", &row->actual))
		row->have_actual = true;
	strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&secs, &tm));
	snprintf(row->event, sizeof(row->event), "%s %s", qmp_event_name(ev),
		 when);
	row->event_us = (int64_t)us;
}

/* ---- the table ------------------------------------------------------------- */

static uint64_t stat_of(const struct top_row *row, enum qmp_balloon_stat s)
{
	uint64_t value;

	return row->have_stats && qmp_balloon_stats_get(row->st, s, &value) ?
	       value : STAT_UNSET;
}

static int64_t age_of(const struct top_row *row)
{
	int64_t last = row->have_stats ? qmp_balloon_stats_last_update(row->st) : 0;

	return last ? (int64_t)time(NULL) - last : -1;
}

static uint64_t swap_of(const struct top_row *row)
{
	uint64_t in = stat_of(row, QMP_STAT_SWAP_IN);
	uint64_t out = stat_of(row, QMP_STAT_SWAP_OUT);

	if (in == STAT_UNSET && out == STAT_UNSET)
		return STAT_UNSET;
	return (in == STAT_UNSET ? 0 : in) + (out == STAT_UNSET ? 0 : out);
}

/* The sort key of a numeric column: unknown sorts last. */
static int64_t sort_key(const struct top *t, size_t i)
{
	const struct top_row *row = &t->rows[i];
	uint64_t x = STAT_UNSET;

	if (fleet_vm(t->f, i)->status)
		return INT64_MIN;
	switch (t->sort) {
	case COL_BOOT: x = row->boot; break;
	case COL_ACTUAL: x = row->have_actual ? row->actual : STAT_UNSET; break;
	case COL_TARGET: x = row->target ? row->target : STAT_UNSET; break;
	case COL_FREE: x = stat_of(row, QMP_STAT_FREE_MEMORY); break;
	case COL_AVAILABLE: x = stat_of(row, QMP_STAT_AVAILABLE_MEMORY); break;
	case COL_SWAP: x = swap_of(row); break;
	case COL_AGE: return age_of(row);
	case COL_EVENT: return row->event_us;
	default: break;
	}
	return x == STAT_UNSET ? INT64_MIN + 1 : (int64_t)(x >> 1);
}

static const struct top *sorting;

static int compare_rows(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int64_t ki, kj;

	if (sorting->sort != COL_NAME) {
		ki = sort_key(sorting, i);
		kj = sort_key(sorting, j);
		if (ki != kj)
			return ki > kj ? -1 : 1;	/* largest first */
	}
	return strcmp(fleet_vm(sorting->f, i)->name,
		      fleet_vm(sorting->f, j)->name);
}

static struct json_object *u64_or_null(uint64_t value)
{
	return value == STAT_UNSET ? NULL : json_object_new_uint64(value);
}

/* A live table's row for a VM it lost and is trying again: true and
 * STATE ("gone, retrying in 1.6 s", "gone, connecting again"). */
static bool lost_state(const struct top *t, const struct fleet_vm *vm,
		       const struct top_row *row, char *state, size_t len)
{
	if (!t->reconnect || !row->backoff_ms || row->sampled)
		return false;
	if (vm->done && vm->status == VBCTL_EXIT_CONN && row->retry_ms)
		snprintf(state, len, "gone, retrying in %.1f s",
			 (row->retry_ms - vbctl_now_ms()) / 1000.0);
	else if (!vm->done)
		snprintf(state, len, "gone, connecting again");
	else
		return false;
	return true;
}

static void print_json_row(struct top *t, struct fleet_vm *vm,
			   const struct top_row *row)
{
	struct json_object *obj = json_object_new_object();
	int64_t age = age_of(row);
	char state[64];

	json_object_object_add(obj, "name", json_object_new_string(vm->name));
	if (lost_state(t, vm, row, state, sizeof(state))) {
		json_object_object_add(obj, "error", json_object_new_string(row->lost_why));
		json_object_object_add(obj, "reconnecting", json_object_new_string(state));
	} else if (vm->status && vm->why[0]) {
		json_object_object_add(obj, "error", json_object_new_string(vm->why));
	} else {
		json_object_object_add(obj, "boot", json_object_new_uint64(row->boot));
		json_object_object_add(obj, "actual", row->have_actual ?
				       json_object_new_uint64(row->actual) : NULL);
		json_object_object_add(obj, "target", row->target ?
				       json_object_new_uint64(row->target) : NULL);
		json_object_object_add(obj, "free",
				       u64_or_null(stat_of(row, QMP_STAT_FREE_MEMORY)));
		json_object_object_add(obj, "available",
				       u64_or_null(stat_of(row, QMP_STAT_AVAILABLE_MEMORY)));
		json_object_object_add(obj, "age", age < 0 ? NULL : json_object_new_int64(age));
		json_object_object_add(obj, "swap-in",
				       u64_or_null(stat_of(row, QMP_STAT_SWAP_IN)));
		json_object_object_add(obj, "swap-out",
				       u64_or_null(stat_of(row, QMP_STAT_SWAP_OUT)));
		json_object_object_add(obj, "last-event", row->event[0] ?
				       json_object_new_string(row->event) : NULL);
	}
	if (vbctl_print(t->v, VBCTL_PRINT_STREAM, obj, NULL))
		t->rc = VBCTL_EXIT_FAIL;
	json_object_put(obj);
}

#define ROW_FORMAT "%-20s %11s %11s %11s %11s %11s %5s %11s  %s"

/* One line of a frame. Redrawn in place, it is cut to the terminal's
 * width (a wrapped line would push the frame down), and the lines past its
 * height are left out and counted, as top(1) does. */
static void __attribute__((format(printf, 2, 3)))
frame_line(struct top *t, const char *fmt, ...)
{
	char buf[1024];
	size_t len;
	va_list ap;

	if (t->line >= t->room) {
		t->left_out++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	len = strlen(buf);
	if (len > t->cols) {
		len = t->cols;
		/* Not in the middle of a UTF-8 character. */
		while (len > 0 && ((unsigned char)buf[len] & 0xc0) == 0x80)
			len--;
	}
	fwrite(buf, 1, len, t->v->out);
	fputs(t->redraw ? "\033[K\n" : "\n", t->v->out);
	t->line++;
}

/* A frame of LINES lines: on a terminal, what fits in it, with the
 * last line (the cursor's) kept free and, when some must be left out,
 * one line to say so. */
static void frame_begin(struct top *t, size_t lines)
{
	struct winsize ws;

	t->line = t->left_out = 0;
	t->cols = t->room = SIZE_MAX;
	if (t->redraw && ioctl(fileno(t->v->out), TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_row > 2 && ws.ws_col > 0) {
		t->cols = ws.ws_col;
		t->room = ws.ws_row - 1;
		if (lines > t->room)
			t->room--;
	}
}

static void frame_end(struct top *t)
{
	if (t->left_out) {
		t->room = SIZE_MAX;
		frame_line(t, "(%zu more VM%s below: a taller terminal shows %s)",
			   t->left_out, t->left_out == 1 ? "" : "s",
			   t->left_out == 1 ? "it" : "them");
	}
}

static void print_frame(struct top *t)
{
	char c[6][VBCTL_SIZE_HUMAN_MAX], age[16], state[64];
	size_t i, n = fleet_count(t->f), *order;
	const struct top_row *row;
	struct fleet_vm *vm;
	FILE *out = t->v->out;
	/* Redrawn in place: over the last frame, each line cleared to its
	 * end (frame_line), and what is left below cleared at the end.
	 * (Clearing the whole screen first would flicker, and terminals like
	 * tmux keep every cleared screen in their scrollback.) */

	order = calloc(n, sizeof(*order));
	if (!order) {
		t->rc = vbctl_error(t->v, VBCTL_EXIT_FAIL, "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		order[i] = i;
	sorting = t;
	qsort(order, n, sizeof(*order), compare_rows);

	if (!t->v->json) {
		if (t->redraw)
			fputs(t->frames ? "\033[H" : "\033[H\033[2J", out);
		else if (t->frames)
			fputc('\n', out);
		frame_begin(t, n + 1);
		frame_line(t, ROW_FORMAT, "NAME", "BOOT", "ACTUAL", "TARGET", "FREE",
			   "AVAILABLE", "AGE", "SWAP", "EVENT");
	}
	for (i = 0; i < n; i++) {
		vm = fleet_vm(t->f, order[i]);
		row = &t->rows[order[i]];
		if (t->v->json) {
			print_json_row(t, vm, row);
			continue;
		}
		if (lost_state(t, vm, row, state, sizeof(state))) {
			frame_line(t, "%-20s %s: %s", vm->name, state,
				   row->lost_why);
			continue;
		}
		if (vm->status && vm->why[0]) {
			frame_line(t, "%-20s %s", vm->name, vm->why);
			continue;
		}
		if (age_of(row) < 0)
			snprintf(age, sizeof(age), "-");
		else
			snprintf(age, sizeof(age), "%llds", (long long)age_of(row));
		frame_line(t, ROW_FORMAT, vm->name,
			vbctl_size_cell(row->boot ? row->boot : STAT_UNSET, c[0], sizeof(c[0])),
			vbctl_size_cell(row->have_actual ? row->actual : STAT_UNSET, c[1], sizeof(c[1])),
			vbctl_size_cell(row->target ? row->target : STAT_UNSET, c[2], sizeof(c[2])),
			vbctl_size_cell(stat_of(row, QMP_STAT_FREE_MEMORY), c[3], sizeof(c[3])),
			vbctl_size_cell(stat_of(row, QMP_STAT_AVAILABLE_MEMORY), c[4], sizeof(c[4])),
			age, vbctl_size_cell(swap_of(row), c[5], sizeof(c[5])),
			   row->event[0] ? row->event : "-");
	}
	if (!t->v->json)
		frame_end(t);
	if (t->redraw && !t->v->json)
		fputs("\033[J", out);
	if (vbctl_print_flush(t->v))
		t->rc = VBCTL_EXIT_FAIL;
	t->frames++;
	free(order);
}

/* Lost VMs, tried again with a growing pause; and a frame each interval. */
static void top_tick(struct fleet *f, void *data)
{
	struct top *t = data;
	int64_t now = vbctl_now_ms();
	size_t i;

	for (i = 0; t->reconnect && i < fleet_count(f); i++) {
		struct fleet_vm *vm = fleet_vm(f, i);
		struct top_row *row = &t->rows[i];

		if (!vm->done || vm->status != VBCTL_EXIT_CONN)
			continue;
		if (!row->retry_ms) {
			snprintf(row->lost_why, sizeof(row->lost_why), "%s", vm->why);
			row->sampled = false;
			row->backoff_ms = row->backoff_ms ?
				2 * row->backoff_ms : RETRY_FIRST_MS;
			if (row->backoff_ms > RETRY_MAX_MS)
				row->backoff_ms = RETRY_MAX_MS;
			row->retry_ms = now + row->backoff_ms;
		} else if (now >= row->retry_ms) {
			/* A failure schedules the next try, twice as far. */
			row->retry_ms = 0;
			fleet_retry(vm);
		}
	}
	if (now >= t->next_frame_ms) {
		print_frame(t);
		t->next_frame_ms = now + t->interval * 1000;
	}
}

/* The first frame comes as soon as every VM has answered or failed, not
 * one interval later. */
static void first_frame(struct top *t)
{
	size_t i;

	if (t->once || t->frames)
		return;
	for (i = 0; i < fleet_count(t->f); i++)
		if (!t->rows[i].sampled && !fleet_vm(t->f, i)->done)
			return;
	print_frame(t);
}

/* ---- leaving: polling as it was -------------------------------------------- */

/* The clean-up run starts each VM afresh: a VM it has nothing to report
 * on keeps the outcome of the run before (a VM without a balloon stays a
 * failure, and is reported). */
static void keep_outcome(struct fleet_vm *vm, const struct top_row *row)
{
	fleet_finish(vm, row->status, row->why[0] ? "%s" : NULL, row->why);
}

/* Every VM whose polling top changed, connected again if need be. */
static bool restore_join(struct fleet_vm *vm, void *data)
{
	const struct top_row *row = &((struct top *)data)->rows[vm->index];

	return row->path && row->polling_was >= 0;
}

static void restore_start(struct fleet_vm *vm, void *data)
{
	struct top *t = data;
	struct top_row *row = &t->rows[vm->index];
	char place[VBCTL_TARGET_KEY_MAX], ident[VBCTL_TARGET_KEY_MAX];

	/* A QEMU started anew since has its own polling: what we changed
	 * went with the old one. */
	if (row->ident[0] &&
	    vbctl_target_key(vm->q, vm->addr, place, ident, sizeof(ident)) == 0 &&
	    strcmp(ident, row->ident) != 0) {
		row->restored = true;
		keep_outcome(vm, row);
		return;
	}
	fleet_qom(vm, "qom-set", row->path, POLLING_PROPERTY,
		  json_object_new_int64(row->polling_was), TOP_RESTORE);
}

static void restore_reply(struct fleet_vm *vm, void *data, int tag, int rc,
			  struct json_object *ret)
{
	struct top_row *row = &((struct top *)data)->rows[vm->index];

	if (rc) {
		fleet_qmp_error(vm, "setting " POLLING_PROPERTY " back");
		return;
	}
	row->restored = true;
	keep_outcome(vm, row);
}

/* After the clean-up run: say where polling could not be set back, then
 * give each VM the outcome it had (for fleet_report_failures()). */
static void report_restore(struct top *t)
{
	size_t i;

	for (i = 0; i < fleet_count(t->f); i++) {
		struct fleet_vm *vm = fleet_vm(t->f, i);
		struct top_row *row = &t->rows[i];

		if (restore_join(vm, t) && !row->restored)
			vbctl_error(t->v, vm->status,
				    "%s: stats polling not set back to %lld s (top set it to %lld s): %s",
				    vm->name, (long long)row->polling_was,
				    (long long)t->interval,
				    vm->why[0] ? vm->why : "interrupted");
		vm->status = row->status;
		snprintf(vm->why, sizeof(vm->why), "%s", row->why);
	}
}

static int parse_sort(struct vbctl *v, const char *text, enum top_column *col)
{
	int i;

	for (i = 0; i < COL_COUNT; i++) {
		if (strcmp(text, column_names[i]) == 0) {
			*col = i;
			return 0;
		}
	}
	return vbctl_usage_error(v, &vbctl_cmd_top,
				 "bad value '%s' for --sort: expected name, boot, actual, target, free, available, age, swap or event",
				 text);
}

static int run_top(struct vbctl *v, int argc, char **argv)
{
	static const struct fleet_ops restore_ops = {
		.start = restore_start,
		.reply = restore_reply,
		.join = restore_join,
	};
	struct fleet_ops ops = {
		.start = top_start,
		.reply = top_reply,
		.event = top_event,
		.wake = top_wake,
	};
	struct top t = { .v = v, .interval = DEFAULT_INTERVAL_S };
	bool live_ended = false;
	int c, rc, status;
	size_t i;

	vbctl_getopt_begin();
	while ((c = vbctl_getopt(v, &vbctl_cmd_top, argc, argv)) != -1) {
		if (c == '1')
			t.once = true;
		else if (c == 'i' && !vbctl_parse_count(v, &vbctl_cmd_top, "--interval",
							 optarg, &t.interval))
			continue;
		else if (c == 'o' && !parse_sort(v, optarg, &t.sort))
			continue;
		else
			return VBCTL_EXIT_USAGE;
	}
	rc = vbctl_check_args(v, &vbctl_cmd_top, argc, argv, optind);
	if (rc)
		return rc;
	rc = fleet_open_rows(v, 0, sizeof(*t.rows), &t.f, (void **)&t.rows,
			     &status);
	if (rc)
		return rc;
	t.redraw = !t.once && !v->json && isatty(fileno(v->out));
	/* A live table goes on through QEMU restarts unless told not to;
	 * it then ends only with Ctrl-C. */
	t.reconnect = !t.once && vbctl_wants_reconnect(v, true);
	if (!t.once) {
		ops.tick = top_tick;
		ops.tick_ms = TICK_MS;
		ops.until_stopped = t.reconnect;
		t.next_frame_ms = vbctl_now_ms() + t.interval * 1000;
	}

	rc = fleet_run(t.f, &ops, &t);
	if (t.once) {
		status = fleet_worse(status, rc);
		print_frame(&t);
	} else if (v->interrupted) {
		/* Ctrl-C is how a live top ends. */
		v->interrupted = 0;
		live_ended = true;
	} else {
		/* Every VM failed: show why, once. */
		status = fleet_worse(status, rc);
		print_frame(&t);
	}
	for (i = 0; i < fleet_count(t.f); i++) {
		struct fleet_vm *vm = fleet_vm(t.f, i);

		/* The VMs a live table was still following when Ctrl-C
		 * ended it were fine. */
		if (live_ended && strcmp(vm->why, "interrupted") == 0) {
			vm->status = VBCTL_EXIT_OK;
			vm->why[0] = '\0';
		}
		t.rows[i].status = vm->status;
		snprintf(t.rows[i].why, sizeof(t.rows[i].why), "%s", vm->why);
	}
	status = fleet_worse(status, fleet_run(t.f, &restore_ops, &t));
	report_restore(&t);
	if (t.once || !t.redraw)
		fleet_report_failures(t.f);
	for (i = 0; i < fleet_count(t.f); i++) {
		free(t.rows[i].path);
		qmp_balloon_stats_free(t.rows[i].st);
	}
	free(t.rows);
	fleet_free(t.f);
	return fleet_worse(status, t.rc);
}
