/* SPDX-License-Identifier: MIT */
/*
 * cmd-stats.c - "vbctl stats": the guest's memory statistics from the
 * balloon's stats queue (QOM guest-stats), turning polling on when it is
 * off and waiting for a fresh sample rather than printing stale or unset
 * values.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "fleet.h"
#include "print.h"
#include "prom.h"
#include "prom-read.h"
#include "size.h"

/* Polling interval set when polling is off and --interval is not given. */
#define DEFAULT_INTERVAL_S 2
/* Seconds a sample may be older than the polling interval and still be
 * current: QEMU's last-update has one-second resolution. */
#define SAMPLE_SLACK_S 2
/* How often guest-stats is read while waiting for a new sample. */
#define SAMPLE_POLL_MS 250
/* QEMU's guest-stats value for "the guest did not report this". */
#define STAT_UNSET UINT64_MAX
/* --interval: whole seconds up to a day (QEMU takes up to 2^32/1000). */
#define MAX_INTERVAL_S 86400

static const struct option stats_options[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "watch", no_argument, NULL, 'w' },
	{ "count", required_argument, NULL, 'n' },
	{ "fresh", no_argument, NULL, 'f' },
	{ "format", required_argument, NULL, 'F' },
	{ NULL, 0, NULL, 0 },
};

static const struct vbctl_arg stats_args[] = { { NULL } };

static const char *const stats_formats[] = { "text", "json", "prometheus", NULL };
static const struct vbctl_optval stats_optvals[] = {
	{ "format", VBCTL_ARG_NONE, stats_formats },
	{ NULL },
};

static int run_stats(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_stats = {
	.name = "stats",
	.usage = "[--interval S] [--watch] [--count N] [--fresh] [--format FMT]",
	.summary = "show the guest's memory statistics",
	.help =
	"Shows the memory statistics the guest's balloon driver reports:\n"
	"sizes in IEC units with exact bytes, counts as numbers, and '-' for\n"
	"values the guest does not report. Turns stats polling on (QOM\n"
	"guest-stats-polling-interval) when it is off, and waits for a fresh\n"
	"sample; when none comes within the interval plus the -t timeout, says\n"
	"that the guest driver is not reporting stats (or that the VM is\n"
	"paused) and exits 1. Polling is left on. With --json: QEMU's\n"
	"guest-stats object, one per line for several samples.\n"
	"\n"
	"  -i, --interval S  polling interval in whole seconds (default: keep the\n"
	"                    current one, or 2 when polling is off)\n"
	"  -w, --watch       print every new sample until interrupted; on a\n"
	"                    terminal the table is redrawn in place\n"
	"  -n, --count N     stop after N samples\n"
	"  -f, --fresh       ask the guest for a new sample now instead of showing\n"
	"                    the latest one (e.g. right after 'set'): polling is\n"
	"                    turned off and on again, which makes QEMU ask at once\n"
	"      --format FMT  text (the table), json (as -j) or prometheus: the\n"
	"                    Prometheus text format with the balloon's size and\n"
	"                    boot memory too, e.g. for node_exporter's textfile\n"
	"                    collector (one sample; see METRICS in vbctl(1))\n"
	"With -r (--reconnect) and several samples: goes on through QEMU\n"
	"restarts, turning polling on again at the same interval.\n"
	"\n"
	"With several VMs (-s repeated, --sockets): every VM at once, one row\n"
	"each (free, available, total, disk caches, faults, age of the sample;\n"
	"--json: {\"name\", \"stats\": guest-stats} or {\"name\", \"error\"} per\n"
	"line); the exit status is the worst. 'vbctl top' follows them live.\n",
	.flags = VBCTL_NEEDS_QMP | VBCTL_STREAM,
	.shortopts = "i:wn:f",
	.longopts = stats_options,
	.args = stats_args,
	.optvals = stats_optvals,
	.min_args = 0,
	.max_args = 0,
	.run = run_stats,
};

/* A sample worth showing: the guest answered at least once. */
static bool sample_usable(const struct qmp_balloon_stats *st)
{
	int i;

	if (qmp_balloon_stats_last_update(st) == 0)
		return false;
	for (i = 0; i < QMP_STAT_COUNT; i++)
		if (qmp_balloon_stats_get(st, i, NULL))
			return true;
	return false;
}

/* Replaces *ST with the latest sample. */
static int read_sample(struct vbctl *v, const char *path,
		       struct qmp_balloon_stats **st)
{
	int rc;

	qmp_balloon_stats_free(*st);
	rc = qmp_balloon_get_stats(v->q, path, st);
	if (rc)
		return vbctl_qmp_failed(v, rc, "stats");
	return 0;
}

/* Whether ST differs from the sample OLD (taken earlier): QEMU's
 * last-update has one-second resolution, so a new answer within the same
 * second shows only in its values. */
static bool sample_changed(const struct qmp_balloon_stats *st,
			   const struct qmp_balloon_stats *old)
{
	uint64_t a, b;
	bool ka, kb;
	int i;

	if (qmp_balloon_stats_last_update(st) !=
	    qmp_balloon_stats_last_update(old))
		return true;
	for (i = 0; i < QMP_STAT_COUNT; i++) {
		ka = qmp_balloon_stats_get(st, i, &a);
		kb = qmp_balloon_stats_get(old, i, &b);
		if (ka != kb || (ka && a != b))
			return true;
	}
	return false;
}

/* Whether ST is current for polling every INTERVAL seconds: no older
 * than one interval, give or take QEMU's one-second resolution. QEMU may
 * send anything from 0 to INT64_MAX for both (libqmp checks last-update):
 * compared without overflowing. */
static bool sample_current(const struct qmp_balloon_stats *st, int64_t interval)
{
	int64_t last = qmp_balloon_stats_last_update(st), now = time(NULL);

	return last >= now || now - last - SAMPLE_SLACK_S <= interval;
}

/* How long to wait for a new sample: one interval (at most a day, so
 * nothing overflows) and the -t timeout. */
static int64_t sample_wait_ms(int64_t interval_s, int timeout_ms)
{
	return (interval_s < MAX_INTERVAL_S ? interval_s : MAX_INTERVAL_S) * 1000 +
	       timeout_ms;
}

/* Waits for a sample other than *ST; 0, 1 (none came) or 3. */
static int wait_sample(struct vbctl *v, const char *path, int64_t interval_s,
		       struct qmp_balloon_stats **st)
{
	struct qmp_balloon_stats *old = *st;
	int64_t waited_ms = sample_wait_ms(interval_s, v->timeout_ms);
	int64_t deadline = vbctl_now_ms() + waited_ms;
	char why[128];
	int rc;

	*st = NULL;
	for (;;) {
		rc = vbctl_idle(v, SAMPLE_POLL_MS, "stats");
		if (rc || v->interrupted)
			break;
		rc = read_sample(v, path, st);
		if (rc)
			break;
		if (sample_changed(*st, old) && sample_usable(*st))
			break;
		if (vbctl_now_ms() >= deadline) {
			rc = vbctl_error(v, VBCTL_EXIT_FAIL,
					 "stats: no statistics from the guest within %.1f s: %s",
					 waited_ms / 1000.0,
					 vbctl_not_running(v, why, sizeof(why)) ? why :
					 "the guest driver is not reporting stats (no balloon driver in the guest, or it has no stats queue)");
			break;
		}
	}
	/* Never leave *ST empty: the caller frees it and reads it. */
	if (*st)
		qmp_balloon_stats_free(old);
	else
		*st = old;
	return rc;
}

/* "stat-free-memory" -> "free-memory". */
static const char *stat_label(const char *key)
{
	return strncmp(key, "stat-", 5) == 0 ? key + 5 : key;
}

/* A stat this vbctl does not know (a newer QEMU), as QEMU sent it: a
 * whole number as a number, anything else as JSON, never a guess. */
static void format_unknown_row(FILE *f, const char *key, struct json_object *value)
{
	if (json_object_is_type(value, json_type_int) &&
	    json_object_get_int64(value) >= 0 &&
	    json_object_get_uint64(value) != STAT_UNSET)
		fprintf(f, "%-18s %llu\n", stat_label(key),
			(unsigned long long)json_object_get_uint64(value));
	else if (json_object_is_type(value, json_type_int) &&
		 json_object_get_int64(value) >= 0)
		fprintf(f, "%-18s -\n", stat_label(key));
	else
		fprintf(f, "%-18s %s\n", stat_label(key), vbctl_json_text(value, false));
}

/* LAST_UPDATE (seconds since the epoch) as local time; a time the C
 * library cannot show (QEMU may send up to INT64_MAX) as the number. */
static void format_time(int64_t last_update, char *buf, size_t len)
{
	time_t t = (time_t)last_update;
	struct tm tm;

	if (localtime_r(&t, &tm) && strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		return;
	snprintf(buf, len, "%lld seconds after the epoch", (long long)last_update);
}

static void format_row(FILE *f, const char *key, uint64_t value, bool bytes)
{
	char human[VBCTL_SIZE_HUMAN_MAX];

	if (value == STAT_UNSET)
		fprintf(f, "%-18s -\n", stat_label(key));
	else if (bytes)
		fprintf(f, "%-18s %s\n", stat_label(key),
			vbctl_size_human(value, human, sizeof(human)));
	else
		fprintf(f, "%-18s %llu\n", stat_label(key), (unsigned long long)value);
}

static bool known_key(const char *key)
{
	int i;

	for (i = 0; i < QMP_STAT_COUNT; i++)
		if (strcmp(key, qmp_balloon_stat_key(i)) == 0)
			return true;
	return false;
}

/*
 * The table: the stats QEMU reports, in virtio tag order, then any this
 * vbctl does not know (a newer QEMU), as plain numbers. Returns a malloc()ed
 * string and its line count.
 */
static char *format_table(const struct qmp_balloon_stats *st, int *lines)
{
	struct json_object *stats = NULL;
	char when[64], *text = NULL;
	uint64_t n;
	size_t size = 0;
	FILE *f;
	int i;

	f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	format_time(qmp_balloon_stats_last_update(st), when, sizeof(when));
	fprintf(f, "%-18s %s\n", "updated", when);
	json_object_object_get_ex(qmp_balloon_stats_json(st), "stats", &stats);
	for (i = 0; i < QMP_STAT_COUNT; i++) {
		if (!json_object_object_get_ex(stats, qmp_balloon_stat_key(i), NULL))
			continue;
		format_row(f, qmp_balloon_stat_key(i),
			   qmp_balloon_stats_get(st, i, &n) ? n : STAT_UNSET,
			   qmp_balloon_stat_is_bytes(i));
	}
	json_object_object_foreach(stats, key, value) {
		if (!known_key(key))
			format_unknown_row(f, key, value);
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	*lines = 0;
	for (i = 0; text[i]; i++)
		*lines += text[i] == '\n';
	return text;
}

/* The sample in the Prometheus text format, with the balloon's size,
 * boot memory and polling interval read now. */
static int print_prometheus(struct vbctl *v, const char *path,
			    const struct qmp_balloon_stats *st)
{
	struct prom_vm vm = {
		.domain = vbctl_vm_name(v),
		.up = true,
		.read_seconds = -1,
		.has_actual = true,
		.stats = st,
	};
	int rc;

	rc = qmp_balloon_query(v->q, &vm.actual);
	if (rc)
		return vbctl_balloon_failed(v, rc, "stats");
	rc = qmp_memory_base_size(v->q, &vm.boot);
	if (rc == 0)
		vm.has_boot = true;
	else if (qmp_is_broken(v->q))
		return vbctl_qmp_failed(v, rc, "stats");
	qmp_clear_error(v->q);
	rc = qmp_balloon_get_polling(v->q, path, &vm.polling_s);
	if (rc)
		return vbctl_qmp_failed(v, rc, "stats");
	vm.has_polling = true;
	if (prom_write(v->out, &vm, 1))
		return vbctl_error(v, VBCTL_EXIT_FAIL, "cannot write to standard output");
	return VBCTL_EXIT_OK;
}

/* Prints a sample; on a terminal with --watch, over the previous one. */
static int print_sample(struct vbctl *v, const char *path,
			const struct qmp_balloon_stats *st, bool prometheus,
			bool stream, bool redraw, int *drawn)
{
	struct json_object *raw = qmp_balloon_stats_json(st);
	char *table;
	int lines, rc;

	if (v->json)
		return vbctl_print(v, stream ? VBCTL_PRINT_STREAM : 0, raw, NULL);
	if (prometheus)
		return print_prometheus(v, path, st);
	table = format_table(st, &lines);
	if (!table)
		return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
	if (redraw && *drawn)
		/* Cursor up over the last table, clear to the end. */
		fprintf(v->out, "\033[%dA\033[J", *drawn);
	rc = vbctl_print(v, stream ? VBCTL_PRINT_STREAM : 0, raw, "%s", table);
	*drawn = lines;
	free(table);
	return rc;
}

/*
 * Sets polling up: WANT seconds (0: keep the current interval, or 2 when
 * polling is off), restarted when FORCE asks for a sample now; reads the
 * latest sample into *ST first, so a new one can be told from it. *fresh:
 * that sample is current and can be shown at once.
 */
static int arm_polling(struct vbctl *v, int64_t want, bool force,
		       const char **path, int64_t *interval,
		       struct qmp_balloon_stats **st, bool *fresh)
{
	int64_t current;
	int rc;

	rc = vbctl_balloon_path(v, path);
	if (rc)
		return rc;
	rc = qmp_balloon_get_polling(v->q, *path, &current);
	if (rc)
		return vbctl_qmp_failed(v, rc, "stats: reading the polling interval");
	*interval = want ? want : current ? current : DEFAULT_INTERVAL_S;
	rc = read_sample(v, *path, st);
	if (rc)
		return rc;
	if (*interval != current || force) {
		/* QEMU asks the guest at once only when polling starts; a
		 * changed interval would take effect one interval later. */
		if (current)
			rc = qmp_balloon_set_polling(v->q, *path, 0);
		if (rc == 0)
			rc = qmp_balloon_set_polling(v->q, *path, *interval);
		if (rc)
			return vbctl_qmp_failed(v, rc, "stats: setting the polling interval");
	}
	/* A sample taken while polling already ran at this interval, no
	 * older than one interval, is current; after a change, when asked
	 * for a fresh one, or when the guest stopped answering (stats
	 * frozen), wait for a new one. */
	*fresh = !force && *interval == current && sample_usable(*st) &&
		 sample_current(*st, *interval);
	return 0;
}

/* ---- many VMs ------------------------------------------------------------- */

enum { FST_LIST, FST_LIST_ANON, FST_GET_POLLING, FST_SET_POLLING, FST_SAMPLE };

struct fleet_stats {
	int64_t interval;	/* --interval, 0: keep (2 when off) */
	int timeout_ms;
	struct fleet_stats_vm {
		char *path;
		int seen;
		int64_t interval;	/* in effect */
		int64_t since_ms;	/* waiting for a sample since */
		struct qmp_balloon_stats *st;	/* the latest sample */
	} *vms;
};

static void fst_start(struct fleet_vm *vm, void *data)
{
	fleet_balloon_search(vm, FST_LIST);
}

static void fst_read(struct fleet_vm *vm, struct fleet_stats_vm *s)
{
	struct json_object *args = json_object_new_object();

	json_object_object_add(args, "path", json_object_new_string(s->path));
	json_object_object_add(args, "property", json_object_new_string("guest-stats"));
	fleet_send(vm, "qom-get", args, FST_SAMPLE);
	json_object_put(args);
}

static void fst_set_polling(struct fleet_vm *vm, struct fleet_stats_vm *s)
{
	struct json_object *args = json_object_new_object();

	json_object_object_add(args, "path", json_object_new_string(s->path));
	json_object_object_add(args, "property",
			       json_object_new_string("guest-stats-polling-interval"));
	json_object_object_add(args, "value", json_object_new_int64(s->interval));
	fleet_send(vm, "qom-set", args, FST_SET_POLLING);
	json_object_put(args);
}

static void fst_wake(struct fleet_vm *vm, void *data)
{
	fst_read(vm, &((struct fleet_stats *)data)->vms[vm->index]);
}

static void fst_reply(struct fleet_vm *vm, void *data, int tag, int rc,
		      struct json_object *ret)
{
	struct fleet_stats *fs = data;
	struct fleet_stats_vm *s = &fs->vms[vm->index];
	struct json_object *args;
	int64_t current;

	if (tag == FST_LIST || tag == FST_LIST_ANON) {
		if (s->path)
			return;		/* found in the other listing */
		if (fleet_balloon_reply(vm, tag, FST_LIST, rc, ret, &s->seen,
					&s->path) != 1)
			return;
		args = json_object_new_object();
		json_object_object_add(args, "path", json_object_new_string(s->path));
		json_object_object_add(args, "property",
				       json_object_new_string("guest-stats-polling-interval"));
		fleet_send(vm, "qom-get", args, FST_GET_POLLING);
		json_object_put(args);
		return;
	}
	if (rc)
		return fleet_qmp_error(vm, tag == FST_SAMPLE ? "qom-get guest-stats" :
				       "guest-stats-polling-interval");
	switch (tag) {
	case FST_GET_POLLING:
		if (!json_object_is_type(ret, json_type_int) ||
		    json_object_get_int64(ret) < 0)
			return fleet_finish(vm, VBCTL_EXIT_CONN,
					    "guest-stats-polling-interval from QEMU is not a whole number of seconds");
		current = json_object_get_int64(ret);
		s->interval = fs->interval ? fs->interval :
			      current ? current : DEFAULT_INTERVAL_S;
		s->since_ms = vbctl_now_ms();
		/* Polling off, or another interval asked for: set it, and
		 * wait for a sample taken after that. */
		if (s->interval != current)
			return fst_set_polling(vm, s);
		return fst_read(vm, s);
	case FST_SET_POLLING:
		return fst_read(vm, s);
	case FST_SAMPLE:
		qmp_balloon_stats_free(s->st);
		if (qmp_balloon_stats_parse(ret, &s->st))
			return fleet_protocol_error(vm, ret, "malformed guest-stats");
		/* Current: the guest answered within the last interval. */
		if (sample_usable(s->st) && sample_current(s->st, s->interval))
			return fleet_finish(vm, VBCTL_EXIT_OK, NULL);
		if (vbctl_now_ms() - s->since_ms >= sample_wait_ms(s->interval, fs->timeout_ms))
			return fleet_finish(vm, VBCTL_EXIT_FAIL,
					    "no statistics from the guest within %.1f s (the guest driver is not reporting stats, or the VM is paused)",
					    sample_wait_ms(s->interval, fs->timeout_ms) / 1000.0);
		fleet_wake(vm, SAMPLE_POLL_MS);
		return;
	}
}

static uint64_t stat_or_unset(const struct qmp_balloon_stats *st,
			      enum qmp_balloon_stat i)
{
	uint64_t value;

	return qmp_balloon_stats_get(st, i, &value) ? value : STAT_UNSET;
}

static char *count_cell(uint64_t value, char *buf, size_t len)
{
	if (value == STAT_UNSET)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%llu", (unsigned long long)value);
	return buf;
}

static int fst_print(struct vbctl *v, struct fleet_stats *fs,
		     struct fleet_vm *vm)
{
	const struct qmp_balloon_stats *s = fs->vms[vm->index].st;
	char c[6][VBCTL_SIZE_HUMAN_MAX];
	struct json_object *obj;
	int rc;

	if (v->json) {
		obj = fleet_json_row(vm);
		if (!vm->status)
			json_object_object_add(obj, "stats",
					       json_object_get(qmp_balloon_stats_json(s)));
		rc = vbctl_print(v, VBCTL_PRINT_STREAM, obj, NULL);
		json_object_put(obj);
		return rc;
	}
	if (vm->status)
		return vbctl_print(v, 0, NULL, "%-20s -\n", vm->name);
	return vbctl_print(v, 0, NULL, "%-20s %11s %11s %11s %11s %8s %10s %4llds\n",
			   vm->name,
			   vbctl_size_cell(stat_or_unset(s, QMP_STAT_FREE_MEMORY), c[0], sizeof(c[0])),
			   vbctl_size_cell(stat_or_unset(s, QMP_STAT_AVAILABLE_MEMORY), c[1], sizeof(c[1])),
			   vbctl_size_cell(stat_or_unset(s, QMP_STAT_TOTAL_MEMORY), c[2], sizeof(c[2])),
			   vbctl_size_cell(stat_or_unset(s, QMP_STAT_DISK_CACHES), c[3], sizeof(c[3])),
			   count_cell(stat_or_unset(s, QMP_STAT_MAJOR_FAULTS), c[4], sizeof(c[4])),
			   count_cell(stat_or_unset(s, QMP_STAT_MINOR_FAULTS), c[5], sizeof(c[5])),
			   (long long)(time(NULL) - qmp_balloon_stats_last_update(s)));
}

static int fleet_stats(struct vbctl *v, int64_t interval)
{
	static const struct fleet_ops ops = {
		.start = fst_start,
		.reply = fst_reply,
		.wake = fst_wake,
	};
	struct fleet_stats fs = { .interval = interval };
	struct fleet *f;
	int rc, status;
	size_t i;

	rc = fleet_open_rows(v, 0, sizeof(*fs.vms), &f, (void **)&fs.vms, &status);
	if (rc)
		return rc;
	fs.timeout_ms = v->timeout_ms < 0 ? QMP_DEFAULT_TIMEOUT_MS : v->timeout_ms;
	status = fleet_worse(status, fleet_run(f, &ops, &fs));
	if (!v->json && vbctl_print(v, 0, NULL, "%-20s %11s %11s %11s %11s %8s %10s %5s\n",
				    "NAME", "FREE", "AVAILABLE", "TOTAL", "CACHES",
				    "MAJFLT", "MINFLT", "AGE"))
		status = fleet_worse(status, VBCTL_EXIT_FAIL);
	for (i = 0; i < fleet_count(f); i++) {
		if (fst_print(v, &fs, fleet_vm(f, i)))
			status = fleet_worse(status, VBCTL_EXIT_FAIL);
		free(fs.vms[i].path);
		qmp_balloon_stats_free(fs.vms[i].st);
	}
	fleet_report_failures(f);
	free(fs.vms);
	fleet_free(f);
	return status;
}

static int run_stats(struct vbctl *v, int argc, char **argv)
{
	int64_t interval = 0, count = 0, shown = 0;
	bool watch = false, want_fresh = false, prometheus = false, stream, redraw;
	struct qmp_balloon_stats *st = NULL;
	const char *path;
	int c, rc, drawn = 0;
	bool fresh;

	vbctl_getopt_begin();
	while ((c = vbctl_getopt(v, &vbctl_cmd_stats, argc, argv)) != -1) {
		if (c == 'w')
			watch = true;
		else if (c == 'f')
			want_fresh = true;
		else if (c == 'F' && !strcmp(optarg, "prometheus"))
			prometheus = true;
		else if (c == 'F' && !strcmp(optarg, "json"))
			v->json = true;
		else if (c == 'F' && !strcmp(optarg, "text"))
			v->json = false;
		else if (c == 'F')
			return vbctl_usage_error(v, &vbctl_cmd_stats,
						 "bad --format '%s': text, json or prometheus",
						 optarg);
		else if (c == 'i' && !vbctl_parse_count(v, &vbctl_cmd_stats,
							 "--interval", optarg, &interval))
			continue;
		else if (c == 'n' && !vbctl_parse_count(v, &vbctl_cmd_stats,
							 "--count", optarg, &count))
			continue;
		else
			return VBCTL_EXIT_USAGE;
	}
	rc = vbctl_check_args(v, &vbctl_cmd_stats, argc, argv, optind);
	if (rc)
		return rc;
	if (interval > MAX_INTERVAL_S)
		return vbctl_usage_error(v, &vbctl_cmd_stats,
					 "bad value '%lld' for --interval: expected whole seconds from 1 to %d",
					 (long long)interval, MAX_INTERVAL_S);
	if (prometheus && (watch || count > 1 || v->json))
		return vbctl_usage_error(v, &vbctl_cmd_stats,
					 "--format prometheus writes one sample: not with --watch, --count or -j");
	if (vbctl_is_fleet(v) && (watch || count || want_fresh))
		return vbctl_usage_error(v, &vbctl_cmd_stats,
					 "--watch, --count and --fresh take one VM; 'vbctl top' follows many");
	if (vbctl_is_fleet(v) && prometheus)
		return prom_read_write(v, v->timeout_ms < 0 ? QMP_DEFAULT_TIMEOUT_MS :
				       v->timeout_ms, interval ? interval :
				       DEFAULT_INTERVAL_S, v->out);
	if (vbctl_is_fleet(v))
		return fleet_stats(v, interval);
	if (!count && !watch)
		count = 1;
	stream = count != 1;
	redraw = watch && !v->json && isatty(fileno(v->out));

	rc = vbctl_connect(v);
	if (rc)
		return rc;
	/* With --reconnect, a QEMU that comes back gets polling turned on
	 * again at the same interval, and the stream goes on. */
	v->rearm = stream && vbctl_wants_reconnect(v, false);
	rc = arm_polling(v, interval, want_fresh, &path, &interval, &st, &fresh);
	while (rc == 0 || rc == VBCTL_REARM) {
		if (rc == VBCTL_REARM) {
			rc = arm_polling(v, interval, false, &path, &interval,
					 &st, &fresh);
			fresh = false;
			continue;
		}
		if (v->interrupted)
			break;
		if (!fresh)
			rc = wait_sample(v, path, interval, &st);
		if (rc || v->interrupted)
			continue;
		rc = print_sample(v, path, st, prometheus, stream, redraw, &drawn);
		if (rc || ++shown == count)
			break;
		fresh = false;
	}
	v->rearm = false;
	qmp_balloon_stats_free(st);
	if (rc < 0)
		return VBCTL_EXIT_FAIL;
	/* Interrupted before the first sample: nothing was shown. */
	if (rc == 0 && shown == 0)
		return vbctl_error(v, VBCTL_EXIT_FAIL, "stats: interrupted");
	return rc;
}
