/* SPDX-License-Identifier: MIT */
/*
 * cmd-events.c - "vbctl events [NAME...]": QMP events as they arrive.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "print.h"

/* How long one wait for an event lasts before the interrupt flag is
 * looked at again. */
#define EVENT_SLICE_MS 200

static const struct option events_options[] = {
	{ "count", required_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 },
};

static const struct vbctl_arg events_args[] = {
	{ "NAME", VBCTL_ARG_EVENT, true },
	{ NULL },
};

static int run_events(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_events = {
	.name = "events",
	.usage = "[--count N] [NAME...]",
	.summary = "print QMP events as they arrive",
	.help =
	"Prints QMP events as QEMU sends them, until interrupted: the time, the\n"
	"name and the data. With NAMEs (e.g. BALLOON_CHANGE; case does not\n"
	"matter), only those events.\n"
	"With --json: each event as QEMU sent it, one JSON object per line.\n"
	"With -r (--reconnect), goes on through QEMU restarts.\n"
	"\n"
	"  -n, --count N  stop after N events\n",
	.flags = VBCTL_NEEDS_QMP | VBCTL_STREAM,
	.shortopts = "n:",
	.longopts = events_options,
	.args = events_args,
	.min_args = 0,
	.max_args = -1,
	.run = run_events,
};

static bool wanted(const char *name, int nnames, char **names)
{
	int i;

	for (i = 0; i < nnames; i++)
		if (strcasecmp(name, names[i]) == 0)
			return true;
	return nnames == 0;
}

int vbctl_print_event(struct vbctl *v, struct json_object *event)
{
	uint64_t us = qmp_event_timestamp_us(event);
	time_t seconds = (time_t)(us / 1000000);
	struct json_object *data = qmp_event_data(event);
	char when[64];
	struct tm tm;

	/* A timestamp the C library cannot show (QEMU's are plain
	 * integers: anything may come) as the number of seconds. */
	if (!localtime_r(&seconds, &tm) ||
	    !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(when, sizeof(when), "%llu", (unsigned long long)(us / 1000000));
	return vbctl_print(v, VBCTL_PRINT_STREAM, event, "%s.%06u %s%s%s\n",
			   when, (unsigned)(us % 1000000), qmp_event_name(event),
			   data ? " " : "", data ? vbctl_json_text(data, false) : "");
}

static int run_events(struct vbctl *v, int argc, char **argv)
{
	struct json_object *event;
	int64_t count = 0, shown = 0;
	int c, rc;

	vbctl_getopt_begin();
	while ((c = vbctl_getopt(v, &vbctl_cmd_events, argc, argv)) != -1)
		if (c != 'n' || vbctl_parse_count(v, &vbctl_cmd_events, "--count",
						  optarg, &count))
			return VBCTL_EXIT_USAGE;
	rc = vbctl_connect(v);
	/* With --reconnect, QEMU going away is a pause in the stream: the
	 * new connection gets the events from then on. */
	v->rearm = vbctl_wants_reconnect(v, false);
	while (rc == 0 && !v->interrupted && (!count || shown < count)) {
		rc = qmp_wait_event(v->q, NULL, EVENT_SLICE_MS, &event);
		if (rc == -ETIMEDOUT) {
			rc = 0;
			continue;
		}
		if (rc) {
			rc = vbctl_qmp_failed(v, rc, "events");
			if (rc == VBCTL_REARM) {
				rc = 0;
				continue;
			}
			break;
		}
		if (wanted(qmp_event_name(event), argc - optind, argv + optind)) {
			shown++;
			if (vbctl_print_event(v, event))
				rc = VBCTL_EXIT_FAIL;
		}
		json_object_put(event);
	}
	v->rearm = false;
	return rc;
}
