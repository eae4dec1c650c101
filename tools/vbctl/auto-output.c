/* SPDX-License-Identifier: MIT */
/*
 * auto-output.c - what "vbctl auto" shows: one log line per event, as
 * text (with the time) or as one JSON object per line (--json), and on a
 * terminal a live table like top's with the latest lines under it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <json-c/json.h>

#include "auto-output.h"
#include "print.h"

#define MiB (UINT64_C(1) << 20)

static unsigned long long mib(uint64_t bytes)
{
	return (unsigned long long)((bytes + MiB / 2) / MiB);
}

/* "23:10:01.250" */
static void clock_text(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (int)(tv.tv_usec / 1000));
}

static double epoch_seconds(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* A log line: printed (or kept under the table), or one JSON object. */
static void log_line(struct autopilot *ap, struct json_object *obj,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void log_line(struct autopilot *ap, struct json_object *obj,
		     const char *fmt, ...)
{
	char text[AUTO_LOG_LINE_MAX - 16], line[AUTO_LOG_LINE_MAX], now[32];
	va_list va;

	if (ap->v->json) {
		json_object_object_add(obj, "time",
				       json_object_new_double(epoch_seconds()));
		if (vbctl_print(ap->v, VBCTL_PRINT_STREAM, obj, NULL))
			ap->status = VBCTL_EXIT_FAIL;
		json_object_put(obj);
		return;
	}
	json_object_put(obj);
	va_start(va, fmt);
	vsnprintf(text, sizeof(text), fmt, va);
	va_end(va);
	clock_text(now, sizeof(now));
	snprintf(line, sizeof(line), "%.12s %s", now, text);
	if (ap->table) {
		if (ap->nlog == AUTO_TABLE_LOG_LINES) {
			memmove(ap->log[0], ap->log[1],
				sizeof(ap->log[0]) * (AUTO_TABLE_LOG_LINES - 1));
			ap->nlog--;
		}
		snprintf(ap->log[ap->nlog++], AUTO_LOG_LINE_MAX, "%s", line);
		return;
	}
	if (vbctl_print(ap->v, VBCTL_PRINT_STREAM, NULL, "%s\n", line))
		ap->status = VBCTL_EXIT_FAIL;
}

static struct json_object *log_object(const char *event, const char *vm)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "event", json_object_new_string(event));
	if (vm)
		json_object_object_add(obj, "vm", json_object_new_string(vm));
	return obj;
}

static void add_u64(struct json_object *obj, const char *key, uint64_t value)
{
	json_object_object_add(obj, key, json_object_new_uint64(value));
}

/* One decision worth a line: a change, or a new reason to stand still. */
void auto_log_decision(struct autopilot *ap, struct fleet_vm *vm,
		       struct auto_vm *a, const struct autopilot_decision *d)
{
	bool change = d->send;
	struct json_object *obj;

	if (!change) {
		/* Skips are logged when they start, not every step; a KEEP
		 * is the steady state and not logged at all. */
		if (d->action == AUTOPILOT_KEEP ||
		    (a->logged && a->logged_action == d->action))
			return;
	} else if (ap->dry_run && a->logged && a->logged_action == d->action &&
		   a->logged_target == d->new_target) {
		return;		/* the same advice as last step */
	}
	a->logged = true;
	a->logged_action = d->action;
	a->logged_target = d->new_target;

	obj = log_object(change ? "target" : "skip", vm->name);
	json_object_object_add(obj, "action",
			       json_object_new_string(autopilot_action_name(d->action)));
	add_u64(obj, "old", d->old_target);
	add_u64(obj, "new", d->new_target);
	json_object_object_add(obj, "reason", json_object_new_string(d->reason));
	json_object_object_add(obj, "source",
			       json_object_new_string(autopilot_source_name(d->source)));
	add_u64(obj, "available", d->available);
	add_u64(obj, "reserve", d->reserve);
	add_u64(obj, "need", d->need);
	add_u64(obj, "actual", a->actual);
	json_object_object_add(obj, "dry_run", json_object_new_boolean(ap->dry_run));
	if (change)
		log_line(ap, obj, "%s %llu MiB -> %llu MiB %s%s: %s", vm->name,
			 mib(d->old_target), mib(d->new_target),
			 autopilot_action_name(d->action),
			 ap->dry_run ? " (dry run)" : "", d->reason);
	else
		log_line(ap, obj, "%s %s: %s", vm->name,
			 autopilot_action_name(d->action), d->reason);
}

void auto_redraw(struct autopilot *ap)
{
	const struct autopilot_summary *s = &ap->summary;
	FILE *out = ap->v->out;
	size_t i;

	if (!ap->table)
		return;
	/* Like top: home, clear, the whole frame. */
	fputs("\033[H\033[J", out);
	fprintf(out, "vbctl auto%s: step %llu, %llu balloon commands; ",
		ap->dry_run ? " (dry run)" : "",
		(unsigned long long)ap->steps, (unsigned long long)ap->commands);
	if (ap->cfg.host_mode == AUTOPILOT_HOST_BUDGET)
		fprintf(out, "budget %llu MiB, targets %llu MiB\n",
			mib(ap->cfg.host_budget), mib(s->sum_targets));
	else
		fprintf(out, "host reserve %llu MiB, targets %llu MiB\n",
			mib(ap->cfg.host_reserve), mib(s->sum_targets));
	if (ap->host.mem_known)
		fprintf(out, "host: %llu MiB available of %llu MiB",
			mib(ap->host.mem_available), mib(ap->host.mem_total));
	else
		fprintf(out, "host: memory unknown");
	if (ap->host.pressure_known)
		fprintf(out, ", pressure %.1f%%", ap->host.some_avg10);
	fprintf(out, "; %s\n\n", s->reason);
	fprintf(out, "%-16s %7s %7s %7s %9s %7s %7s  %-9s %s\n", "VM", "BOOT",
		"ACTUAL", "TARGET", "AVAIL", "RESERVE", "NEED", "ACTION", "REASON");
	for (i = 0; i < ap->nvms; i++) {
		struct fleet_vm *vm = fleet_vm(ap->f, i);
		struct auto_vm *a = &ap->vms[i];
		const struct autopilot_decision *d = &a->last;
		char avail[24];

		if (!a->adopted || a->dropped) {
			fprintf(out, "%-16.16s %s\n", vm->name,
				vm->why[0] ? vm->why : a->dropped ? "gone" : "adopting");
			continue;
		}
		if (!a->decided) {
			fprintf(out, "%-16.16s %6lluM %6lluM\n", vm->name,
				mib(a->boot), mib(a->actual));
			continue;
		}
		snprintf(avail, sizeof(avail), "%lluM%s", mib(d->available),
			 d->source == AUTOPILOT_SRC_FREE ? "(f)" : "");
		fprintf(out, "%-16.16s %6lluM %6lluM %6lluM %9s %6lluM %6lluM  %-9s %.60s\n",
			vm->name, mib(a->boot), mib(a->actual), mib(a->state.target),
			avail, mib(d->reserve), mib(d->need),
			autopilot_action_name(d->action), d->reason);
	}
	fputc('\n', out);
	for (i = 0; i < ap->nlog; i++)
		fprintf(out, "%s\n", ap->log[i]);
	if (vbctl_print_flush(ap->v))
		ap->status = VBCTL_EXIT_FAIL;
}

void auto_log_adopt(struct autopilot *ap, struct fleet_vm *vm,
		    const struct auto_vm *a)
{
	struct json_object *obj = log_object("adopt", vm->name);

	add_u64(obj, "boot", a->boot);
	add_u64(obj, "actual", a->actual);
	add_u64(obj, "floor", a->floor);
	json_object_object_add(obj, "weight", json_object_new_int(a->weight));
	json_object_object_add(obj, "polling_was", json_object_new_int64(a->orig_polling));
	log_line(ap, obj, "%s adopted: boot %llu MiB, balloon at %llu MiB, stats polling %s%lld s",
		 vm->name, mib(a->boot), mib(a->actual),
		 a->polling_changed ? "set to " : "at ",
		 (long long)(ap->interval_ms / 1000));
}

void auto_log_drop(struct autopilot *ap, struct fleet_vm *vm, bool adopted)
{
	struct json_object *obj = log_object("drop", vm->name);

	json_object_object_add(obj, "why", json_object_new_string(vm->why));
	json_object_object_add(obj, "adopted", json_object_new_boolean(adopted));
	log_line(ap, obj, "%s %s: %s", vm->name,
		 adopted ? "dropped" : "not adopted", vm->why);
}

void auto_log_scan_error(struct autopilot *ap, const char *why)
{
	struct json_object *obj = log_object("scan-error", NULL);

	json_object_object_add(obj, "why", json_object_new_string(why));
	log_line(ap, obj, "cannot list the domains at %s (tried again every few seconds): %s",
		 ap->v->uri, why);
}

void auto_log_waiting(struct autopilot *ap)
{
	const struct vbctl *v = ap->v;
	struct json_object *obj = log_object("waiting", NULL);

	log_line(ap, obj, "no VM yet: waiting for %s%s%s%s%s to show one",
		 v->sockets ? "a socket matching '" : "",
		 v->sockets ? v->sockets : "", v->sockets ? "'" : "",
		 v->sockets && v->uri ? " or " : "",
		 v->uri ? "a running domain at the URI" : "");
}

void auto_log_exit(struct autopilot *ap, struct fleet_vm *vm,
		   const struct auto_vm *a)
{
	bool leave = ap->keep || ap->dry_run;
	struct json_object *obj = log_object(leave ? "leave" : "restore", vm->name);

	add_u64(obj, "target", leave ? a->state.target : a->orig_actual);
	json_object_object_add(obj, "polling", json_object_new_int64(a->orig_polling));
	if (leave)
		log_line(ap, obj, "%s left at %llu MiB (%s)", vm->name,
			 mib(ap->dry_run ? a->actual : a->state.target),
			 ap->dry_run ? "dry run" : "--keep");
	else
		log_line(ap, obj, "%s restored to %llu MiB", vm->name,
			 mib(a->orig_actual));
}
