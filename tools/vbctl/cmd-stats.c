/* SPDX-License-Identifier: MIT */
/*
 * cmd-stats.c - "vbctl stats": the guest's memory statistics from the
 * balloon's stats queue (QOM guest-stats), turning polling on when it is
 * off and waiting for a fresh sample rather than printing stale or unset
 * values.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "print.h"
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

static const struct option stats_options[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "watch", no_argument, NULL, 'w' },
	{ "count", required_argument, NULL, 'n' },
	{ "fresh", no_argument, NULL, 'f' },
	{ NULL, 0, NULL, 0 },
};

static const struct vbctl_arg stats_args[] = { { NULL } };

static int run_stats(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_stats = {
	.name = "stats",
	.usage = "[--interval S] [--watch] [--count N] [--fresh]",
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
	"With -r (--reconnect) and several samples: goes on through QEMU\n"
	"restarts, turning polling on again at the same interval.\n",
	.flags = VBCTL_NEEDS_QMP | VBCTL_STREAM,
	.shortopts = "i:wn:f",
	.longopts = stats_options,
	.args = stats_args,
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

/* Waits for a sample other than *ST; 0, 1 (none came) or 3. */
static int wait_sample(struct vbctl *v, const char *path, int64_t interval_s,
		       struct qmp_balloon_stats **st)
{
	struct qmp_balloon_stats *old = *st;
	int64_t waited_ms = interval_s * 1000 + v->timeout_ms;
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
	time_t t = (time_t)qmp_balloon_stats_last_update(st);
	uint64_t n;
	size_t size = 0;
	struct tm tm;
	FILE *f;
	int i;

	f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
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
			format_row(f, key, json_object_get_uint64(value), false);
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

/* Prints a sample; on a terminal with --watch, over the previous one. */
static int print_sample(struct vbctl *v, const struct qmp_balloon_stats *st,
			bool stream, bool redraw, int *drawn)
{
	struct json_object *raw = qmp_balloon_stats_json(st);
	char *table;
	int lines, rc;

	if (v->json)
		return vbctl_print(v, stream ? VBCTL_PRINT_STREAM : 0, raw, NULL);
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
		 time(NULL) - qmp_balloon_stats_last_update(*st) <=
		 *interval + SAMPLE_SLACK_S;
	return 0;
}

static int run_stats(struct vbctl *v, int argc, char **argv)
{
	int64_t interval = 0, count = 0, shown = 0;
	bool watch = false, want_fresh = false, stream, redraw;
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
		rc = print_sample(v, st, stream, redraw, &drawn);
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
