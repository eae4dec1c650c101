/* SPDX-License-Identifier: MIT */
/*
 * cmd-doctor.c - "vbctl doctor": gathers what QMP shows about a VM's
 * balloon (without changing anything), hands it to the rules in doctor.c
 * and prints their findings, each with what to do.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "doctor.h"
#include "print.h"
#include "size.h"

/* How often the watch re-reads guest-stats and query-balloon. */
#define WATCH_POLL_MS 250
/* How long actual is watched for movement when only --target asks. */
#define WATCH_TARGET_MS 3000

static const struct option doctor_options[] = {
	{ "target", required_argument, NULL, 'T' },
	{ NULL, 0, NULL, 0 },
};

static const struct vbctl_arg doctor_args[] = { { NULL } };
static const struct vbctl_optval doctor_optvals[] = {
	{ "target", VBCTL_ARG_SIZE, NULL },
	{ NULL },
};

static int run_doctor(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_doctor = {
	.name = "doctor",
	.usage = "[--target SIZE]",
	.summary = "explain why ballooning does not work on this VM",
	.help =
	"Looks at the VM through QMP, changing nothing, and prints one line per\n"
	"finding: 'problem:' (ballooning does not work), 'warning:' (it works\n"
	"in part) or 'note:', what is wrong with its figures, then what to do.\n"
	"It checks: that QEMU answers (not another client on the monitor),\n"
	"the VM's run state, the balloon device, the guest driver's device\n"
	"status and features (x-query-virtio-status), stats polling and\n"
	"whether the guest still answers (waiting one polling interval when\n"
	"the latest sample is old), deflate-on-oom and free page reporting,\n"
	"and what this QEMU version cannot do. Ends with 'ok:' when nothing\n"
	"stops ballooning. With --json: {\"findings\": [{\"severity\", \"id\",\n"
	"\"what\", \"todo\"}...] and the figures read}. Exit 0 when no\n"
	"problem was found, 1 when one was, 3 when QEMU cannot be reached.\n"
	"\n"
	"  -T, --target SIZE  the target last set (QMP does not show it): say\n"
	"                     whether actual is there, moving, or stuck short\n",
	.flags = VBCTL_NEEDS_QMP,
	.shortopts = "T:",
	.longopts = doctor_options,
	.args = doctor_args,
	.optvals = doctor_optvals,
	.min_args = 0,
	.max_args = 0,
	.run = run_doctor,
};

/* Whether QEMU knows COMMAND (query-commands). */
static int has_command(struct vbctl *v, const char *command, bool *has)
{
	struct json_object *ret = NULL, *name;
	size_t i, n;
	int rc;

	*has = false;
	rc = qmp_execute(v->q, "query-commands", NULL, &ret);
	if (rc)
		return rc;
	n = json_object_is_type(ret, json_type_array) ?
		json_object_array_length(ret) : 0;
	for (i = 0; i < n && !*has; i++)
		*has = json_object_object_get_ex(json_object_array_get_idx(ret, i),
						 "name", &name) &&
		       json_object_is_type(name, json_type_string) &&
		       strcmp(json_object_get_string(name), command) == 0;
	json_object_put(ret);
	return 0;
}

static int read_run_state(struct vbctl *v, struct doctor_facts *f,
			  char *state, size_t len)
{
	struct json_object *ret = NULL, *member;
	int rc;

	rc = qmp_execute(v->q, "query-status", NULL, &ret);
	if (rc)
		return rc;
	if (json_object_object_get_ex(ret, "status", &member) &&
	    json_object_is_type(member, json_type_string)) {
		snprintf(state, len, "%s", json_object_get_string(member));
		f->run_state = state;
	}
	f->running = json_object_object_get_ex(ret, "running", &member) &&
		     json_object_get_boolean(member);
	json_object_put(ret);
	return 0;
}

/* A QOM bool property of the balloon: 1, 0, or -1 when QEMU has none. */
static int read_bool_property(struct vbctl *v, const char *path,
			      const char *name, int *value)
{
	struct json_object *ret = NULL;
	int rc;

	*value = -1;
	rc = qmp_qom_get(v->q, path, name, &ret);
	if (rc == -EREMOTEIO) {
		qmp_clear_error(v->q);
		return 0;
	}
	if (rc)
		return rc;
	if (json_object_is_type(ret, json_type_boolean))
		*value = json_object_get_boolean(ret);
	json_object_put(ret);
	return 0;
}

/* The DOCTOR_F_* bits named in a {"dev-features": [...]} object. */
static uint32_t feature_bits(struct json_object *features)
{
	struct json_object *list;
	uint32_t bits = 0;
	size_t i, n;

	if (!json_object_object_get_ex(features, "dev-features", &list) ||
	    !json_object_is_type(list, json_type_array))
		return 0;
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(list, i);

		if (json_object_is_type(s, json_type_string))
			bits |= doctor_feature_bit(json_object_get_string(s));
	}
	return bits;
}

/* x-query-virtio's path of the balloon's virtio device: the one under
 * BALLOON (a virtio-pci proxy's "virtio-backend" child, or BALLOON itself
 * on virtio-mmio), else the first balloon listed. NULL when none. */
static char *virtio_device_path(struct json_object *list, const char *balloon)
{
	struct json_object *name, *path;
	const char *first = NULL, *p;
	size_t i, n, len = strlen(balloon);

	n = json_object_is_type(list, json_type_array) ?
		json_object_array_length(list) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *dev = json_object_array_get_idx(list, i);

		if (!json_object_object_get_ex(dev, "name", &name) ||
		    !json_object_is_type(name, json_type_string) ||
		    strcmp(json_object_get_string(name), "virtio-balloon") != 0 ||
		    !json_object_object_get_ex(dev, "path", &path) ||
		    !json_object_is_type(path, json_type_string))
			continue;
		p = json_object_get_string(path);
		if (strncmp(p, balloon, len) == 0 && (p[len] == '/' || !p[len]))
			return strdup(p);
		if (!first)
			first = p;
	}
	return first ? strdup(first) : NULL;
}

/* The guest driver's view of the device, from x-query-virtio-status. */
static int read_device_status(struct vbctl *v, const char *balloon,
			      struct doctor_facts *f)
{
	struct json_object *list = NULL, *st = NULL, *args, *member, *statuses;
	char *path;
	size_t i, n;
	int rc;

	rc = qmp_execute(v->q, "x-query-virtio", NULL, &list);
	if (rc)
		return rc;
	path = virtio_device_path(list, balloon);
	json_object_put(list);
	if (!path)
		return 0;
	args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string(path));
	rc = qmp_execute(v->q, "x-query-virtio-status", args, &st);
	json_object_put(args);
	free(path);
	if (rc)
		return rc;
	f->device_status_known = true;
	if (json_object_object_get_ex(st, "status", &member) &&
	    json_object_object_get_ex(member, "statuses", &statuses) &&
	    json_object_is_type(statuses, json_type_array)) {
		n = json_object_array_length(statuses);
		for (i = 0; i < n; i++) {
			struct json_object *s = json_object_array_get_idx(statuses, i);

			if (json_object_is_type(s, json_type_string))
				f->device_status |= doctor_status_bit(json_object_get_string(s));
		}
	}
	f->device_broken = json_object_object_get_ex(st, "broken", &member) &&
			   json_object_get_boolean(member);
	if (json_object_object_get_ex(st, "host-features", &member))
		f->host_features = feature_bits(member);
	if (json_object_object_get_ex(st, "guest-features", &member))
		f->guest_features = feature_bits(member);
	json_object_put(st);
	return 0;
}

/*
 * Watches the guest for a while when a sample is too old to tell whether
 * it still answers, or when actual is short of --target: re-reads stats
 * and actual until both questions have an answer or the time is up.
 */
static int watch(struct vbctl *v, const char *path, struct doctor_facts *f)
{
	bool want_stats = doctor_stats_stale(f);
	bool want_move = f->target_given && f->running && f->actual != f->target;
	int64_t limit, start = vbctl_now_ms(), last_update;
	struct qmp_balloon_stats *st;
	int rc;

	f->actual_before = f->actual;
	if (!want_stats && !want_move)
		return 0;
	/* One polling interval and the slack; the interval may be anything
	 * up to INT64_MAX seconds: no overflow. */
	if (!want_stats)
		limit = WATCH_TARGET_MS;
	else if (f->polling_interval > INT64_MAX / 1000 - DOCTOR_STATS_SLACK_S)
		limit = INT64_MAX;
	else
		limit = (f->polling_interval + DOCTOR_STATS_SLACK_S) * 1000;
	if (v->timeout_ms >= 0 && limit > v->timeout_ms)
		limit = v->timeout_ms;
	while ((want_stats || want_move) && !v->interrupted &&
	       vbctl_now_ms() - start < limit) {
		rc = vbctl_idle(v, WATCH_POLL_MS, "doctor");
		if (rc)
			return rc;
		/* Also while only the target is watched: the sample's age
		 * is judged at the end of the watch, so it must be the
		 * latest one then, not the one from before it. */
		rc = qmp_balloon_get_stats(v->q, path, &st);
		if (rc)
			return vbctl_qmp_failed(v, rc, "doctor: reading guest-stats");
		last_update = qmp_balloon_stats_last_update(st);
		qmp_balloon_stats_free(st);
		if (last_update != f->last_update) {
			f->last_update = last_update;
			f->stats_moved = true;
			want_stats = false;
		}
		rc = qmp_balloon_query(v->q, &f->actual);
		if (rc)
			return vbctl_balloon_failed(v, rc, "doctor");
		if (f->actual != f->actual_before) {
			f->actual_moved = true;
			want_move = false;
		}
	}
	f->watched_ms = vbctl_now_ms() - start;
	f->now = time(NULL);
	return 0;
}

/* Everything the rules need, read without changing the VM. */
static int gather(struct vbctl *v, struct doctor_facts *f, char *state,
		  size_t state_len)
{
	struct qmp_balloon_stats *st;
	const char *path;
	int rc;

	qmp_get_version(v->q, &f->qemu_major, &f->qemu_minor, &f->qemu_micro);
	rc = has_command(v, "x-query-virtio-status", &f->has_virtio_status);
	if (rc == 0)
		rc = read_run_state(v, f, state, state_len);
	if (rc)
		return vbctl_qmp_failed(v, rc, "doctor");
	rc = qmp_memory_base_size(v->q, &f->base_memory);
	if (rc && qmp_is_broken(v->q))	/* a protocol fault: exit 3 */
		return vbctl_qmp_failed(v, rc, "doctor: query-memory-size-summary");
	if (rc)
		qmp_clear_error(v->q);	/* only the figures lose it */
	rc = qmp_balloon_query(v->q, &f->actual);
	if (rc == -EREMOTEIO &&
	    strcmp(qmp_get_error_class(v->q) ? qmp_get_error_class(v->q) : "",
		   "DeviceNotActive") == 0) {
		qmp_clear_error(v->q);
		return 0;
	}
	if (rc)
		return vbctl_qmp_failed(v, rc, "doctor: query-balloon");
	f->balloon = true;
	rc = vbctl_balloon_path(v, &path);
	if (rc)
		return rc;
	if (f->has_virtio_status) {
		rc = read_device_status(v, path, f);
		if (rc)
			return vbctl_qmp_failed(v, rc, "doctor: x-query-virtio-status");
	}
	rc = read_bool_property(v, path, "deflate-on-oom", &f->deflate_on_oom);
	if (rc == 0)
		rc = read_bool_property(v, path, "free-page-reporting",
					&f->free_page_reporting);
	if (rc == 0)
		rc = qmp_balloon_get_polling(v->q, path, &f->polling_interval);
	if (rc == 0)
		rc = qmp_balloon_get_stats(v->q, path, &st);
	if (rc)
		return vbctl_qmp_failed(v, rc, "doctor");
	f->last_update = qmp_balloon_stats_last_update(st);
	qmp_balloon_stats_free(st);
	f->now = time(NULL);
	return watch(v, path, f);
}

static struct json_object *json_int_or_null(bool known, int64_t value)
{
	return known ? json_object_new_int64(value) : NULL;
}

static int print_json(struct vbctl *v, const struct doctor_facts *f,
		      const struct doctor_finding *fs, size_t n)
{
	struct json_object *doc = json_object_new_object(), *list, *o;
	char version[48];
	size_t i;
	int rc;

	list = json_object_new_array();
	for (i = 0; i < n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "severity",
			json_object_new_string(doctor_severity_name(fs[i].severity)));
		json_object_object_add(o, "id", json_object_new_string(fs[i].id));
		json_object_object_add(o, "what", json_object_new_string(fs[i].what));
		json_object_object_add(o, "todo", json_object_new_string(fs[i].todo));
		json_object_array_add(list, o);
	}
	json_object_object_add(doc, "findings", list);
	if (!f->connect_err) {
		snprintf(version, sizeof(version), "%d.%d.%d", f->qemu_major,
			 f->qemu_minor, f->qemu_micro);
		json_object_object_add(doc, "qemu", json_object_new_string(version));
		json_object_object_add(doc, "status", f->run_state ?
				       json_object_new_string(f->run_state) : NULL);
		json_object_object_add(doc, "balloon", json_object_new_boolean(f->balloon));
		json_object_object_add(doc, "actual",
				       json_int_or_null(f->balloon, (int64_t)f->actual));
		json_object_object_add(doc, "base-memory",
				       json_int_or_null(f->base_memory, (int64_t)f->base_memory));
		json_object_object_add(doc, "polling-interval",
				       json_int_or_null(f->balloon, f->polling_interval));
		json_object_object_add(doc, "last-update",
				       json_int_or_null(f->balloon, f->last_update));
	}
	rc = vbctl_print(v, 0, doc, NULL);
	json_object_put(doc);
	return rc;
}

static int print_text(struct vbctl *v, const struct doctor_finding *fs,
		      size_t n)
{
	bool fine = true;
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		fine = fine && fs[i].severity == DOCTOR_NOTE;
		rc = vbctl_print(v, 0, NULL, "%s: %s; %s\n",
				 doctor_severity_name(fs[i].severity),
				 fs[i].what, fs[i].todo);
	}
	if (rc == 0 && fine)
		rc = vbctl_print(v, 0, NULL, "ok: nothing found that stops ballooning on this VM\n");
	return rc;
}

static int run_doctor(struct vbctl *v, int argc, char **argv)
{
	char err[VBCTL_SIZE_ERR_MAX], desc[256], state[64];
	struct doctor_finding fs[DOCTOR_MAX_FINDINGS];
	struct doctor_facts f = {
		.qemu_major = -1, .qemu_minor = -1, .qemu_micro = -1,
		.deflate_on_oom = -1, .free_page_reporting = -1,
		.polling_interval = -1,
	};
	const char *target_text = NULL;
	struct vbctl_size size;
	bool problem = false;
	size_t i, n;
	int c, rc;

	vbctl_getopt_begin();
	while ((c = vbctl_getopt(v, &vbctl_cmd_doctor, argc, argv)) != -1) {
		if (c != 'T')
			return VBCTL_EXIT_USAGE;
		target_text = optarg;
	}
	rc = vbctl_check_args(v, &vbctl_cmd_doctor, argc, argv, optind);
	if (rc)
		return rc;
	if (target_text && vbctl_size_parse(target_text, &size, err, sizeof(err)))
		return vbctl_usage_error(v, &vbctl_cmd_doctor, "%s", err);

	f.addr = v->addr;
	rc = vbctl_try_connect(v, desc, sizeof(desc));
	if (rc == -EINVAL || rc == -ENOMEM)
		return vbctl_connect(v);	/* says what is wrong */
	if (rc) {
		f.connect_err = rc;
		f.connect_desc = desc;
	} else {
		if (target_text) {
			rc = qmp_memory_base_size(v->q, &f.base_memory);
			if (rc)
				return vbctl_qmp_failed(v, rc, "doctor: reading the boot memory size");
			rc = qmp_balloon_query(v->q, &f.actual);
			if (rc && rc != -EREMOTEIO)
				return vbctl_balloon_failed(v, rc, "doctor");
			qmp_clear_error(v->q);
			if (vbctl_size_resolve(&size, target_text, f.base_memory,
					       f.actual, &f.target, err, sizeof(err)))
				return vbctl_error(v, VBCTL_EXIT_USAGE, "doctor: %s", err);
			f.target_given = true;
		}
		rc = gather(v, &f, state, sizeof(state));
		if (rc)
			return rc;
	}

	n = doctor_diagnose(&f, fs, DOCTOR_MAX_FINDINGS);
	for (i = 0; i < n; i++)
		problem = problem || fs[i].severity == DOCTOR_PROBLEM;
	rc = v->json ? print_json(v, &f, fs, n) : print_text(v, fs, n);
	if (rc)
		return VBCTL_EXIT_FAIL;
	if (f.connect_err)
		return VBCTL_EXIT_CONN;
	return problem ? VBCTL_EXIT_FAIL : VBCTL_EXIT_OK;
}
