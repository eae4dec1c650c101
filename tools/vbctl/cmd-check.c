/* SPDX-License-Identifier: MIT */
/*
 * cmd-check.c - "vbctl check": a conformance test of the guest's balloon
 * driver from the host, through QMP only (never the guest's console): the
 * checks are rows of a table, run in order by one runner that skips a row
 * whose prerequisite failed, and printed as a table or as JSON. Here is
 * the gathering (QMP, /proc); the judgements are check-rules.c's.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "check-rules.h"
#include "doctor.h"
#include "print.h"
#include "size.h"

#define MIB (1024ull * 1024)
/* A move must start within START_MS of the new target and may stand still
 * for STALL_MS once started; the floor counts as reached when "actual" has
 * not changed for QUIET_MS. Generous: a Linux guest under TCG on a busy
 * machine answers within a second. */
#define START_MS 10000
#define STALL_MS 5000
#define QUIET_MS 3000
/* query-balloon this often while following a move (events are rate-
 * limited by QEMU to one a second). */
#define POLL_MS 200
/* How long the final BALLOON_CHANGE may lag (QEMU's rate limit) when
 * its timestamp is wanted for the time a move took. */
#define EVENT_LAG_MS 1500
/* Stats: the polling interval used, and how far a measured interval may
 * stray from it (QEMU's last-update has one-second resolution; we time
 * the samples ourselves, to POLL granularity). */
#define STATS_INTERVAL_S 1
#define STATS_SAMPLES 3
#define STATS_SLACK_MS 1000
/* Inflating may not cost the host memory: QEMU's RSS at the floor may
 * exceed its RSS at full size by at most this. */
#define RSS_SLACK_KIB (32 * 1024)
#define WAIT_DEFAULT_MS (60 * 1000)

static const struct option check_options[] = {
	{ "pressure", required_argument, NULL, 'p' },
	{ "no-reset", no_argument, NULL, 'R' },
	{ "wait", required_argument, NULL, 'w' },
	{ NULL, 0, NULL, 0 },
};

static const struct vbctl_arg check_args[] = { { NULL } };

static int run_check(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_check = {
	.name = "check",
	.usage = "[--pressure CMD] [--no-reset] [--wait S]",
	.summary = "test the guest's balloon driver against the spec",
	.help =
	"Puts the guest's balloon driver through the virtio spec's host-visible\n"
	"rules (virtio 1.2, 5.5) using QMP only, and prints one row per check:\n"
	"result (pass, fail, n/a), a measured figure, the spec section. It\n"
	"inflates the balloon to half the boot memory and to the floor (target\n"
	"1 byte), deflates it, turns stats polling on, and resets the VM\n"
	"(system_reset): run it on a VM you can spare. Afterwards the target\n"
	"and the polling interval are set back. QEMU's RSS is read where the\n"
	"QMP socket's peer (SO_PEERCRED) is a QEMU on this host. Exit 0 when\n"
	"every applicable check passes, 1 otherwise, 3 when the connection was\n"
	"lost or QEMU broke the protocol on the way. With --json: one object,\n"
	"{\"checks\": [{\"check\", \"result\", \"figure\", \"spec\"}...], \"passed\", ...}.\n"
	"\n"
	"  -p, --pressure CMD  with the balloon at the floor, run CMD (sh -c; its\n"
	"                      output goes to stderr): something that makes the\n"
	"                      guest allocate, e.g. a command typed on its\n"
	"                      console; then check the guest took memory back\n"
	"                      (with DEFLATE_ON_OOM), or kept the balloon\n"
	"                      (without)\n"
	"  -R, --no-reset      skip the reset check (QEMU started with\n"
	"                      -no-reboot exits on system_reset)\n"
	"  -w, --wait S        bound on each balloon move (default 60)\n",
	.flags = VBCTL_NEEDS_QMP | VBCTL_STREAM,
	.shortopts = "p:Rw:",
	.longopts = check_options,
	.args = check_args,
	.min_args = 0,
	.max_args = 0,
	.run = run_check,
};


/* One stats sample, read out of libqmp's opaque one. */
struct sample {
	struct check_sample st;
	char *text;			/* QEMU's guest-stats, as JSON text */
	char unset[200];		/* keys QEMU has that the guest left unset */
};

/* What the checks share: the VM, and what earlier checks found. */
struct check_state {
	struct vbctl *v;
	const char *path;	/* the balloon's QOM path */
	char *vdev;		/* its virtio backend (x-query-virtio), or NULL */
	uint64_t boot, start_actual;
	int64_t start_interval;
	int wait_ms;
	const char *pressure;
	bool no_reset;
	/* x-query-virtio-status: features offered and accepted */
	bool features_known, legacy;
	unsigned int offered, accepted;
	/* stats */
	bool stats_on;
	struct sample full;		/* a sample at boot size */
	struct sample half;		/* one after inflating */
	bool half_valid;
	struct check_progress progress;	/* every move, for the progress check */
	uint64_t floor_actual;
	pid_t qemu_pid;
	long rss_full_kib, rss_floor_kib;
	bool vm_gone;		/* QEMU shut down or the connection broke */
	bool conn_broken;	/* the connection broke (or QEMU broke the
				 * protocol): exit 3 */
	char gone_why[160];
};

struct check_out {
	enum check_result result;
	char figure[320];
};

/* Prerequisites: a check runs only when these earlier checks did not fail. */
enum {
	NEED_DEVICE = 1u << 0,
	NEED_DRIVER = 1u << 1,
	NEED_STATS = 1u << 2,
	NEED_INFLATE = 1u << 3,
	NEED_FLOOR = 1u << 4,
};

struct check_def {
	const char *id;
	const char *spec;	/* virtio 1.2 section */
	unsigned int needs;	/* NEED_* */
	unsigned int provides;	/* the NEED_* bit this check satisfies */
	/* 0, or VBCTL_EXIT_CONN when the connection is gone. */
	int (*run)(struct check_state *s, struct check_out *o);
};

static void figure(struct check_out *o, enum check_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void figure(struct check_out *o, enum check_result r, const char *fmt, ...)
{
	va_list ap;

	o->result = r;
	va_start(ap, fmt);
	vsnprintf(o->figure, sizeof(o->figure), fmt, ap);
	va_end(ap);
}

static int64_t wall_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static const char *iec(uint64_t bytes, char *buf)
{
	return vbctl_size_iec(bytes, buf, VBCTL_SIZE_HUMAN_MAX);
}

/* A QMP failure inside a check: the connection is gone (3), or the check
 * fails with QEMU's word for why. */
static int qmp_trouble(struct check_state *s, struct check_out *o, int rc,
		       const char *what)
{
	struct qmp *q = s->v->q;
	const char *class, *desc;

	if (qmp_is_broken(q)) {
		s->vm_gone = true;
		s->conn_broken = true;
		snprintf(s->gone_why, sizeof(s->gone_why), "lost the connection to QEMU (%s)",
			 qmp_get_error_desc(q) ? qmp_get_error_desc(q) : strerror(-rc));
		figure(o, CHECK_FAIL, "%s: %s", what, s->gone_why);
		return VBCTL_EXIT_CONN;
	}
	if (rc != -EREMOTEIO) {
		figure(o, CHECK_FAIL, "%s: %s", what, strerror(-rc));
		return 0;
	}
	/* An error reply, as vbctl_qmp_failed() says it: its class and
	 * description may be missing (or JSON null). */
	class = qmp_get_error_class(q);
	desc = qmp_get_error_desc(q);
	if (class && strcmp(class, "DeviceNotActive") == 0)
		figure(o, CHECK_FAIL, "%s: no balloon device in this VM (QEMU says %s: %s)",
		       what, class, desc ? desc : "(no description)");
	else
		figure(o, CHECK_FAIL, "%s: %s: %s", what, class ? class : "QMP error",
		       desc ? desc : "(no description)");
	qmp_clear_error(q);
	return 0;
}

/* ---- observing the balloon --------------------------------------------- */

/* An event that ends the VM's run as we know it: the move cannot go on.
 * After a system_reset, more RESET events may follow (firmware resets
 * the machine again as it boots): with AFTER_RESET they do not count. */
static bool vm_event(struct check_state *s, struct json_object *ev,
		     bool after_reset)
{
	const char *name = qmp_event_name(ev);

	if (strcmp(name, "SHUTDOWN") && strcmp(name, "GUEST_PANICKED") &&
	    (strcmp(name, "RESET") || after_reset) && strcmp(name, "STOP"))
		return false;
	snprintf(s->gone_why, sizeof(s->gone_why), "QEMU reported %s", name);
	return true;
}

/* follow() flags. */
#define FOLLOW_SETTLE	(1u << 0)	/* no target to reach: until it is quiet */
#define FOLLOW_NO_SET	(1u << 1)	/* do not set the target: watch only */
#define FOLLOW_RESET	(1u << 2)	/* after system_reset: RESET is expected */

/*
 * Sets TARGET and follows "actual" (BALLOON_CHANGE events, query-balloon
 * every POLL_MS) until it reaches TARGET, or, with FOLLOW_SETTLE (the
 * floor), until it has stood still for QUIET_MS. START_MS bounds the wait
 * for the first change. Returns 0 (see m->reached and m->why) or a QMP
 * failure (negative errno).
 */
static int follow(struct check_state *s, struct check_move *m, uint64_t target,
		  unsigned int flags, int start_ms)
{
	bool settle = flags & FOLLOW_SETTLE;
	struct qmp *q = s->v->q;
	struct json_object *ev, *data, *member;
	int64_t start, last_poll = 0, reached_ms = 0;
	uint64_t actual, ev_actual;
	int rc;

	rc = qmp_balloon_query(q, &actual);
	if (rc)
		return rc;
	while ((ev = qmp_event_pop(q)))
		json_object_put(ev);
	start = vbctl_now_ms();
	check_move_begin(m, actual, target, settle, wall_us());
	if (!(flags & FOLLOW_NO_SET)) {
		rc = qmp_balloon_set_target(q, target);
		if (rc)
			return rc;
	}
	if (m->reached)		/* already there: nothing will move */
		return 0;
	for (;;) {
		int64_t now = vbctl_now_ms(), still_ms = (wall_us() - m->last_change_us) / 1000;

		if (s->v->interrupted) {
			snprintf(m->why, sizeof(m->why), "interrupted");
			return 0;
		}
		if (m->reached && !settle) {
			/* Wait a little for the event when a poll saw it. */
			if (!reached_ms)
				reached_ms = now;
			if (m->done_exact || now - reached_ms >= EVENT_LAG_MS)
				return 0;
		} else {
			reached_ms = 0;
		}
		if (settle && m->last != m->from && still_ms >= QUIET_MS)
			return 0;
		if (m->last == m->from && now - start >= start_ms) {
			snprintf(m->why, sizeof(m->why), "\"actual\" did not move within %.0f s",
				 start_ms / 1000.0);
			return 0;
		}
		if (m->last != m->from && !m->reached && !settle && still_ms >= STALL_MS) {
			snprintf(m->why, sizeof(m->why), "\"actual\" stopped moving for %d s",
				 STALL_MS / 1000);
			return 0;
		}
		if (now - start >= s->wait_ms) {
			snprintf(m->why, sizeof(m->why), "still moving after %d s (--wait)",
				 s->wait_ms / 1000);
			return 0;
		}
		rc = qmp_pump(q, 50);
		if (rc < 0)
			return rc;
		while ((ev = qmp_event_pop(q))) {
			if (vm_event(s, ev, flags & FOLLOW_RESET)) {
				json_object_put(ev);
				snprintf(m->why, sizeof(m->why), "%s", s->gone_why);
				m->reached = false;
				return 0;
			}
			data = qmp_event_data(ev);
			/* An event without a whole "actual" tells nothing:
			 * the next query-balloon does. */
			if (strcmp(qmp_event_name(ev), "BALLOON_CHANGE") == 0 &&
			    json_object_object_get_ex(data, "actual", &member) &&
			    vbctl_json_u64(member, &ev_actual))
				check_move_observe(m, ev_actual,
						   (int64_t)qmp_event_timestamp_us(ev), true);
			json_object_put(ev);
		}
		if (vbctl_now_ms() - last_poll >= POLL_MS) {
			last_poll = vbctl_now_ms();
			rc = qmp_balloon_query(q, &actual);
			if (rc)
				return rc;
			check_move_observe(m, actual, wall_us(), false);
		}
	}
}

/* ---- stats --------------------------------------------------------------- */

/* "swap-in,major-faults": the stats QEMU has keys for that the guest
 * leaves unset (2^64-1), from the guest-stats object. */
static void unset_names(struct json_object *raw, char *buf, size_t len)
{
	struct json_object *stats = NULL;
	size_t used = 0;

	buf[0] = '\0';
	if (json_object_object_get_ex(raw, "stats", &stats) &&
	    json_object_is_type(stats, json_type_object)) {
		json_object_object_foreach(stats, key, value) {
			if (json_object_get_uint64(value) != UINT64_MAX || used >= len)
				continue;
			used += snprintf(buf + used, len - used, "%s%s", used ? "," : "",
					 strncmp(key, "stat-", 5) == 0 ? key + 5 : key);
		}
	}
	if (!used)
		snprintf(buf, len, "none");
}

static int read_sample(struct check_state *s, struct sample *out)
{
	struct qmp_balloon_stats *st = NULL;
	struct json_object *raw;
	int i, rc;

	rc = qmp_balloon_get_stats(s->v->q, s->path, &st);
	if (rc)
		return rc;
	free(out->text);
	memset(out, 0, sizeof(*out));
	for (i = 0; i < QMP_STAT_COUNT; i++)
		if (qmp_balloon_stats_get(st, i, &out->st.value[i]))
			out->st.known |= 1u << i;
	out->st.last_update = qmp_balloon_stats_last_update(st);
	raw = qmp_balloon_stats_json(st);
	unset_names(raw, out->unset, sizeof(out->unset));
	out->text = strdup(json_object_to_json_string(raw));
	qmp_balloon_stats_free(st);
	return out->text ? 0 : -ENOMEM;
}

static void copy_sample(struct sample *to, const struct sample *from)
{
	free(to->text);
	*to = *from;
	to->text = from->text ? strdup(from->text) : NULL;
}

/* Waits for a stats sample other than OLD; 0, -ETIMEDOUT, or a QMP
 * failure. *ms: how long it took. */
static int next_sample(struct check_state *s, const struct sample *old,
		       struct sample *st, int limit_ms, int64_t *ms)
{
	int64_t start = vbctl_now_ms();
	int rc;

	for (;;) {
		rc = vbctl_idle(s->v, 100, "check") ? -ECONNRESET : 0;
		if (rc == 0)
			rc = read_sample(s, st);
		if (rc)
			return rc;
		/* last-update has one-second resolution: a new answer within
		 * the same second shows in the values only. */
		if (st->st.last_update && (st->st.last_update != old->st.last_update ||
		    !old->text || strcmp(st->text, old->text))) {
			if (ms)
				*ms = vbctl_now_ms() - start;
			return 0;
		}
		if (vbctl_now_ms() - start >= limit_ms || s->v->interrupted)
			return -ETIMEDOUT;
	}
}

/* A sample taken now: polling is turned off and on, which makes QEMU ask
 * the guest at once. */
static int fresh_sample(struct check_state *s, struct sample *st)
{
	struct sample old = { 0 };
	int rc;

	rc = read_sample(s, &old);
	if (rc == 0)
		rc = qmp_balloon_set_polling(s->v->q, s->path, 0);
	if (rc == 0)
		rc = qmp_balloon_set_polling(s->v->q, s->path, STATS_INTERVAL_S);
	if (rc == 0)
		rc = next_sample(s, &old, st, STATS_INTERVAL_S * 1000 + 5000, NULL);
	free(old.text);
	return rc;
}

/* ---- QEMU's view of the device (x-query-virtio-status) ------------------- */

/* The length of ARRAY, 0 when it is not one (QEMU's data is not trusted:
 * a JSON null or another type is taken for empty). */
static size_t array_length(struct json_object *array)
{
	return json_object_is_type(array, json_type_array) ?
		json_object_array_length(array) : 0;
}

/* Whether ARRAY (of "NAME: description" strings) holds NAME. */
static bool names_have(struct json_object *array, const char *name)
{
	size_t i, n = strlen(name);
	const char *s;

	for (i = 0; i < array_length(array); i++) {
		s = json_object_get_string(json_object_array_get_idx(array, i));
		if (s && strncmp(s, name, n) == 0 && (s[n] == ':' || s[n] == '\0'))
			return true;
	}
	return false;
}

static struct json_object *member_path(struct json_object *obj, const char *a,
				       const char *b)
{
	struct json_object *x = NULL, *y = NULL;

	if (!json_object_object_get_ex(obj, a, &x))
		return NULL;
	if (!b)
		return x;
	return json_object_object_get_ex(x, b, &y) ? y : NULL;
}

/* The balloon features (5.5.3) by QEMU's names, and ours for figures;
 * bits as doctor.h numbers them (the feature bit numbers). */
static const struct {
	unsigned int bit;
	const char *name, *label;
} feature_names[] = {
	{ 1u << 0, "VIRTIO_BALLOON_F_MUST_TELL_HOST", "must-tell-host" },
	{ DOCTOR_F_STATS_VQ, "VIRTIO_BALLOON_F_STATS_VQ", "stats-vq" },
	{ DOCTOR_F_DEFLATE_ON_OOM, "VIRTIO_BALLOON_F_DEFLATE_ON_OOM", "deflate-on-oom" },
	{ DOCTOR_F_FREE_PAGE_HINT, "VIRTIO_BALLOON_F_FREE_PAGE_HINT", "free-page-hint" },
	{ 1u << 4, "VIRTIO_BALLOON_F_PAGE_POISON", "page-poison" },
	{ DOCTOR_F_PAGE_REPORTING, "VIRTIO_BALLOON_F_REPORTING", "page-reporting" },
};

static unsigned int feature_mask(struct json_object *features)
{
	struct json_object *dev = member_path(features, "dev-features", NULL);
	unsigned int mask = 0;
	size_t i;

	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
		if (dev && names_have(dev, feature_names[i].name))
			mask |= feature_names[i].bit;
	return mask;
}

static void feature_list(unsigned int mask, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]) && used < len; i++)
		if (mask & feature_names[i].bit)
			used += snprintf(buf + used, len - used, "%s%s", used ? "," : "",
					 feature_names[i].label);
	if (!used)
		snprintf(buf, len, "none");
}

/* x-query-virtio-status of the balloon: *ret, or 1 when QEMU has no such
 * command (or no backend path was found), or a QMP failure. */
static int virtio_status(struct check_state *s, struct json_object **ret)
{
	struct json_object *args;
	int rc;

	*ret = NULL;
	if (!s->vdev)
		return 1;
	args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string(s->vdev));
	rc = qmp_execute(s->v->q, "x-query-virtio-status", args, ret);
	json_object_put(args);
	return rc;
}

/* The balloon's virtio backend among x-query-virtio's devices: the one
 * under the balloon's QOM path, else the only virtio-balloon. */
static void find_vdev(struct check_state *s)
{
	struct json_object *list = NULL, *e, *name, *path;
	size_t i, n = strlen(s->path);
	const char *p;

	if (qmp_execute(s->v->q, "x-query-virtio", NULL, &list)) {
		qmp_clear_error(s->v->q);
		return;
	}
	for (i = 0; i < array_length(list); i++) {
		e = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(e, "name", &name) ||
		    !json_object_object_get_ex(e, "path", &path) ||
		    !json_object_is_type(name, json_type_string) ||
		    !json_object_is_type(path, json_type_string) ||
		    strcmp(json_object_get_string(name), "virtio-balloon"))
			continue;
		p = json_object_get_string(path);
		if (!s->vdev || (strncmp(p, s->path, n) == 0 && p[n] == '/')) {
			free(s->vdev);
			s->vdev = strdup(p);
		}
	}
	json_object_put(list);
}

/* ---- the checks ------------------------------------------------------------ */

static int check_device(struct check_state *s, struct check_out *o)
{
	struct json_object *type = NULL;
	char b[VBCTL_SIZE_HUMAN_MAX];
	int rc;

	rc = qmp_balloon_find(s->v->q, &s->v->balloon_path);
	if (rc == -ENODEV) {
		figure(o, CHECK_FAIL, "no balloon device in the QOM tree (-device virtio-balloon-pci)");
		return 0;
	}
	if (rc)
		return qmp_trouble(s, o, rc, "looking for the device");
	s->path = s->v->balloon_path;
	rc = qmp_balloon_query(s->v->q, &s->start_actual);
	if (rc)
		return qmp_trouble(s, o, rc, "query-balloon");
	rc = qmp_qom_get(s->v->q, s->path, "type", &type);
	if (rc)
		return qmp_trouble(s, o, rc, "qom-get type");
	find_vdev(s);
	figure(o, CHECK_PASS, "%s at %s, guest at %s",
	       json_object_is_type(type, json_type_string) ?
	       json_object_get_string(type) : "a device of no type",
	       s->path, iec(s->start_actual, b));
	json_object_put(type);
	return 0;
}

static int check_driver(struct check_state *s, struct check_out *o)
{
	struct json_object *st, *statuses, *broken, *transports;
	unsigned int status = 0;
	char list[160];
	size_t i;
	int rc;

	rc = virtio_status(s, &st);
	if (rc == 1 || rc == -EREMOTEIO) {
		if (rc < 0)
			qmp_clear_error(s->v->q);
		figure(o, CHECK_NA, "this QEMU has no x-query-virtio-status");
		return 0;
	}
	if (rc)
		return qmp_trouble(s, o, rc, "x-query-virtio-status");
	statuses = member_path(st, "status", "statuses");
	for (i = 0; i < array_length(statuses); i++)
		status |= doctor_status_bit(json_object_get_string(
			json_object_array_get_idx(statuses, i)));
	transports = member_path(st, "guest-features", "transports");
	s->offered = feature_mask(member_path(st, "host-features", NULL));
	s->accepted = feature_mask(member_path(st, "guest-features", NULL));
	s->legacy = !transports || !names_have(transports, "VIRTIO_F_VERSION_1");
	s->features_known = true;
	feature_list(s->accepted, list, sizeof(list));
	o->result = check_judge_driver(status,
				       json_object_object_get_ex(st, "broken", &broken) &&
				       json_object_get_boolean(broken),
				       s->legacy, list, o->figure, sizeof(o->figure));
	json_object_put(st);
	return 0;
}

static int check_features(struct check_state *s, struct check_out *o)
{
	char list[160];

	if (!s->features_known) {
		figure(o, CHECK_NA, "needs x-query-virtio-status");
		return 0;
	}
	feature_list(s->offered, list, sizeof(list));
	if (s->accepted & ~s->offered) {
		char extra[160];

		feature_list(s->accepted & ~s->offered, extra, sizeof(extra));
		figure(o, CHECK_FAIL, "accepted features not offered: %s", extra);
	} else {
		figure(o, CHECK_PASS, "accepted a subset of the offered %s", list);
	}
	return 0;
}

/* deflate-on-oom and free page reporting: negotiated or not (either is
 * allowed; --pressure and the rss check look at what they do). */
static void check_negotiated(struct check_state *s, struct check_out *o,
			     unsigned int bit, const char *qemu_option)
{
	if (!s->features_known)
		figure(o, CHECK_NA, "needs x-query-virtio-status");
	else if (!(s->offered & bit))
		figure(o, CHECK_NA, "not offered (QEMU: %s=on)", qemu_option);
	else
		figure(o, CHECK_PASS, "offered, %s", s->accepted & bit ? "accepted" : "declined");
}

static int check_deflate_on_oom(struct check_state *s, struct check_out *o)
{
	check_negotiated(s, o, DOCTOR_F_DEFLATE_ON_OOM, "deflate-on-oom");
	return 0;
}

static int check_reporting(struct check_state *s, struct check_out *o)
{
	check_negotiated(s, o, DOCTOR_F_PAGE_REPORTING, "free-page-reporting");
	return 0;
}

/*
 * Brings the guest to its boot size before a measurement, and waits until
 * it is there: a check run right after another (or on a VM ballooned by
 * its user) must not sample or time a guest that is still moving.
 * 0, 1 (it did not get there: *why says so), or a QMP failure.
 */
static int to_boot_size(struct check_state *s, char *why, size_t len)
{
	char a[VBCTL_SIZE_HUMAN_MAX];
	struct check_move m;
	int rc;

	rc = follow(s, &m, s->boot, 0, START_MS);
	if (rc)
		return rc;
	if (m.reached)
		return 0;
	snprintf(why, len, "deflating to the boot size first: %s at %s", m.why, iec(m.last, a));
	return 1;
}

static int check_stats(struct check_state *s, struct check_out *o)
{
	struct sample a = { 0 }, b = { 0 };
	int64_t ms, total_ms = 0;
	int i, rc;

	if (s->features_known && !(s->accepted & DOCTOR_F_STATS_VQ)) {
		figure(o, CHECK_NA, "STATS_VQ not negotiated");
		return 0;
	}
	/* Polling changes from here on: restore() puts the user's back. */
	rc = qmp_balloon_get_polling(s->v->q, s->path, &s->start_interval);
	if (rc)
		return qmp_trouble(s, o, rc, "guest-stats-polling-interval");
	rc = to_boot_size(s, o->figure, sizeof(o->figure));
	if (rc == 1)
		o->result = CHECK_FAIL;
	if (rc)
		return rc == 1 ? 0 : qmp_trouble(s, o, rc, "deflate");
	rc = fresh_sample(s, &a);
	s->stats_on = true;
	if (rc == -ETIMEDOUT) {
		figure(o, CHECK_FAIL, "no statistics within %d s of turning polling on",
		       STATS_INTERVAL_S + 5);
		goto out;
	}
	if (rc)
		goto trouble;
	copy_sample(&s->full, &a);
	for (i = 0; i < STATS_SAMPLES; i++) {
		rc = next_sample(s, &a, &b, STATS_INTERVAL_S * 1000 * 3 + STATS_SLACK_MS, &ms);
		if (rc == -ETIMEDOUT) {
			figure(o, CHECK_FAIL, "sample %d of %d did not come within %d s (polling every %d s)",
			       i + 2, STATS_SAMPLES + 1, STATS_INTERVAL_S * 3 + 1, STATS_INTERVAL_S);
			goto out;
		}
		if (rc)
			goto trouble;
		if (b.st.known != a.st.known) {
			figure(o, CHECK_FAIL, "the set of stats changed between samples (0x%x, then 0x%x)",
			       a.st.known, b.st.known);
			goto out;
		}
		total_ms += ms;
		copy_sample(&a, &b);
	}
	ms = total_ms / STATS_SAMPLES;
	figure(o, ms <= STATS_INTERVAL_S * 1000 + STATS_SLACK_MS ? CHECK_PASS : CHECK_FAIL,
	       "every %.1f s at a %d s interval; unset: %s", ms / 1000.0, STATS_INTERVAL_S,
	       a.unset);
out:
	rc = 0;
trouble:
	free(a.text);
	free(b.text);
	return rc ? qmp_trouble(s, o, rc, "guest-stats") : 0;
}

/* Half the boot memory, in whole 2 MiB. */
static uint64_t half_target(const struct check_state *s)
{
	return s->boot / 2 / (2 * MIB) * (2 * MIB);
}

static void judge_move(struct check_state *s, struct check_out *o,
		       const struct check_move *m, const char *verb)
{
	check_progress_add(&s->progress, m);
	o->result = check_judge_move(m, verb, o->figure, sizeof(o->figure));
}

static int check_inflate(struct check_state *s, struct check_out *o)
{
	struct check_move m;
	int rc;

	rc = to_boot_size(s, o->figure, sizeof(o->figure));
	if (rc == 1)
		o->result = CHECK_FAIL;
	if (rc)
		return rc == 1 ? 0 : qmp_trouble(s, o, rc, "deflate");
	rc = follow(s, &m, half_target(s), 0, START_MS);
	if (rc)
		return qmp_trouble(s, o, rc, "inflate");
	judge_move(s, o, &m, "inflate");
	/* For stats-plausible: a sample with the balloon inflated. */
	if (o->result == CHECK_PASS && s->stats_on) {
		rc = fresh_sample(s, &s->half);
		s->half_valid = rc == 0;
		if (rc && rc != -ETIMEDOUT)
			return qmp_trouble(s, o, rc, "guest-stats");
	}
	return 0;
}

static int check_stats_plausible(struct check_state *s, struct check_out *o)
{
	if (!s->half_valid) {
		figure(o, CHECK_FAIL, "no fresh sample after inflating");
		return 0;
	}
	o->result = check_judge_stats(&s->full.st, &s->half.st, s->boot,
				      s->boot - half_target(s), o->figure, sizeof(o->figure));
	return 0;
}

static int check_deflate(struct check_state *s, struct check_out *o)
{
	struct check_move m;
	int rc;

	rc = follow(s, &m, s->boot, 0, START_MS);
	if (rc)
		return qmp_trouble(s, o, rc, "deflate");
	judge_move(s, o, &m, "deflate");
	return 0;
}

/* QEMU's resident memory in KiB, or -1. */
static long qemu_rss_kib(const struct check_state *s)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	if (s->qemu_pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)s->qemu_pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* The QMP socket's peer, when it is a QEMU process on this host. */
static void find_qemu_pid(struct check_state *s)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char path[64], comm[64] = "";
	FILE *f;

	s->qemu_pid = -1;
	if (getsockopt(qmp_get_fd(s->v->q), SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    cred.pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)cred.pid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(comm, sizeof(comm), f) && strncmp(comm, "qemu", 4) == 0)
		s->qemu_pid = cred.pid;
	fclose(f);
}

static int check_floor(struct check_state *s, struct check_out *o)
{
	char a[VBCTL_SIZE_HUMAN_MAX], b[VBCTL_SIZE_HUMAN_MAX], why[160];
	struct sample st = { 0 };
	struct check_move m;
	int rc;

	s->rss_full_kib = qemu_rss_kib(s);
	rc = follow(s, &m, 1, FOLLOW_SETTLE, START_MS);
	if (rc)
		return qmp_trouble(s, o, rc, "floor");
	check_progress_add(&s->progress, &m);
	s->floor_actual = m.last;
	s->rss_floor_kib = qemu_rss_kib(s);
	if (m.why[0] && !m.reached) {
		figure(o, CHECK_FAIL, "target 1: %s at %s", m.why, iec(m.last, a));
		return 0;
	}
	if (vbctl_not_running(s->v, why, sizeof(why))) {
		figure(o, CHECK_FAIL, "at the floor: %s", why);
		return 0;
	}
	if (s->stats_on) {
		rc = fresh_sample(s, &st);
		free(st.text);
		if (rc == -ETIMEDOUT) {
			figure(o, CHECK_FAIL, "at %s the guest stopped answering for stats",
			       iec(m.last, a));
			return 0;
		}
		if (rc)
			return qmp_trouble(s, o, rc, "guest-stats");
	}
	figure(o, CHECK_PASS, "guest keeps %s (balloon %s) after %.3f s%s", iec(m.last, a),
	       iec(s->boot - m.last, b), check_move_seconds(&m),
	       s->stats_on ? ", still reporting stats" : "");
	return 0;
}

static int check_progress(struct check_state *s, struct check_out *o)
{
	o->result = check_judge_progress(&s->progress, o->figure, sizeof(o->figure));
	return 0;
}

static int check_rss(struct check_state *s, struct check_out *o)
{
	if (s->qemu_pid <= 0 || s->rss_full_kib < 0 || s->rss_floor_kib < 0) {
		figure(o, CHECK_NA, "QEMU's process is not on this host (or not readable)");
		return 0;
	}
	figure(o, s->rss_floor_kib <= s->rss_full_kib + RSS_SLACK_KIB ? CHECK_PASS : CHECK_FAIL,
	       "QEMU pid %ld RSS %ld MiB at full size, %ld MiB at the floor",
	       (long)s->qemu_pid, s->rss_full_kib / 1024, s->rss_floor_kib / 1024);
	return 0;
}

/* Runs CMD with sh -c, its output on stderr; its exit status, or -1. */
static int run_shell(const char *cmd)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int check_pressure(struct check_state *s, struct check_out *o)
{
	bool must_deflate = s->features_known && (s->accepted & DOCTOR_F_DEFLATE_ON_OOM);
	int64_t start, changed;
	uint64_t actual = s->floor_actual, now;
	int rc, status;

	if (!s->pressure) {
		figure(o, CHECK_NA, "no --pressure CMD");
		return 0;
	}
	if (!s->features_known) {
		figure(o, CHECK_NA, "needs x-query-virtio-status (is DEFLATE_ON_OOM negotiated?)");
		return 0;
	}
	status = run_shell(s->pressure);
	if (status != 0) {
		figure(o, CHECK_FAIL, "--pressure command exited with %d", status);
		return 0;
	}
	/* With DEFLATE_ON_OOM the guest may take pages back from the balloon
	 * when it needs them (5.5.6.1); without, never. Follow it until it
	 * has stood still for a second after taking some. */
	start = changed = vbctl_now_ms();
	while (vbctl_now_ms() - start < (must_deflate ? s->wait_ms : QUIET_MS * 2) &&
	       !s->v->interrupted) {
		rc = vbctl_idle(s->v, POLL_MS, "check");
		if (rc)
			return qmp_trouble(s, o, -ECONNRESET, "pressure");
		rc = qmp_balloon_query(s->v->q, &now);
		if (rc)
			return qmp_trouble(s, o, rc, "pressure");
		if (now != actual) {
			actual = now;
			changed = vbctl_now_ms();
		}
		if (must_deflate && actual > s->floor_actual &&
		    vbctl_now_ms() - changed >= 1000)
			break;
	}
	o->result = check_judge_pressure(must_deflate, s->floor_actual, actual,
					 (changed - start) / 1000.0, o->figure,
					 sizeof(o->figure));
	return 0;
}

/* After a reset: waits until x-query-virtio-status shows DRIVER_OK again.
 * 0 (back), 1 (not within the wait), or a QMP failure. */
static int wait_driver_ok(struct check_state *s)
{
	struct json_object *st = NULL;
	int64_t start = vbctl_now_ms();
	bool ok;
	int rc;

	for (;;) {
		rc = virtio_status(s, &st);
		if (rc)
			return rc;
		ok = names_have(member_path(st, "status", "statuses"),
				"VIRTIO_CONFIG_S_DRIVER_OK");
		json_object_put(st);
		if (ok)
			return 0;
		if (vbctl_now_ms() - start >= s->wait_ms || s->v->interrupted)
			return 1;
		if (vbctl_idle(s->v, 50, "check"))
			return -ECONNRESET;
	}
}

static int check_reset(struct check_state *s, struct check_out *o)
{
	char a[VBCTL_SIZE_HUMAN_MAX], t[VBCTL_SIZE_HUMAN_MAX];
	uint64_t target = half_target(s);
	struct json_object *ev = NULL;
	struct check_move m;
	int64_t t0;
	int rc;

	if (s->no_reset) {
		figure(o, CHECK_NA, "--no-reset");
		return 0;
	}
	rc = follow(s, &m, target, 0, START_MS);
	if (rc)
		return qmp_trouble(s, o, rc, "reset");
	if (!m.reached) {
		figure(o, CHECK_FAIL, "before the reset: %s", m.why);
		return 0;
	}
	t0 = vbctl_now_ms();
	rc = qmp_execute(s->v->q, "system_reset", NULL, NULL);
	if (rc)
		return qmp_trouble(s, o, rc, "system_reset");
	/* RESET, or SHUTDOWN when QEMU runs with -no-reboot. */
	for (;;) {
		rc = qmp_wait_event(s->v->q, NULL, 10000, &ev);
		if (rc == -ETIMEDOUT) {
			figure(o, CHECK_FAIL, "no RESET event within 10 s of system_reset");
			return 0;
		}
		if (rc)
			return qmp_trouble(s, o, rc, "system_reset");
		if (strcmp(qmp_event_name(ev), "SHUTDOWN") == 0) {
			json_object_put(ev);
			s->vm_gone = true;
			snprintf(s->gone_why, sizeof(s->gone_why), "QEMU shut down on system_reset");
			figure(o, CHECK_FAIL, "QEMU shut down instead of resetting (-no-reboot? use --no-reset)");
			return 0;
		}
		if (strcmp(qmp_event_name(ev), "RESET") == 0)
			break;
		json_object_put(ev);
	}
	json_object_put(ev);
	/*
	 * The target survives a reset in the device. Once the driver is back
	 * it must follow it from what it really holds (nothing) and say so
	 * in "actual", without being told again: watch, do not set. Then a
	 * deflate to full size must work: a driver that kept the old
	 * "actual" while holding nothing has nothing to give back.
	 */
	if (s->features_known) {
		rc = wait_driver_ok(s);
		if (rc == 1) {
			figure(o, CHECK_FAIL, "the driver did not set DRIVER_OK within %d s of the reset",
			       s->wait_ms / 1000);
			return 0;
		}
		if (rc)
			return qmp_trouble(s, o, rc, "x-query-virtio-status");
	}
	rc = follow(s, &m, target, FOLLOW_SETTLE | FOLLOW_NO_SET | FOLLOW_RESET,
		    s->features_known ? QUIET_MS : START_MS);
	if (rc)
		return qmp_trouble(s, o, rc, "after the reset");
	if (m.last != target) {
		figure(o, CHECK_FAIL, "after the reset \"actual\" settled at %s, the target is %s",
		       iec(m.last, a), iec(target, t));
		return 0;
	}
	rc = follow(s, &m, s->boot, FOLLOW_RESET, START_MS);
	if (rc)
		return qmp_trouble(s, o, rc, "deflating after the reset");
	check_progress_add(&s->progress, &m);
	if (!m.reached) {
		figure(o, CHECK_FAIL, "after the reset, deflate to %s: %s at %s",
		       iec(s->boot, t), m.why, iec(m.last, a));
		return 0;
	}
	figure(o, CHECK_PASS, "back at %s after the reset, then deflated to %s; %.1f s in all",
	       iec(target, t), iec(s->boot, a), (vbctl_now_ms() - t0) / 1000.0);
	return 0;
}

/* The checks, in the order they run and print. */
static const struct check_def checks[] = {
	{ "device", "5.5", 0, NEED_DEVICE, check_device },
	{ "driver", "3.1", NEED_DEVICE, NEED_DRIVER, check_driver },
	{ "features", "2.2", NEED_DRIVER, 0, check_features },
	{ "deflate-on-oom", "5.5.3", NEED_DEVICE, 0, check_deflate_on_oom },
	{ "page-reporting", "5.5.3", NEED_DEVICE, 0, check_reporting },
	{ "stats", "5.5.6.3", NEED_DRIVER, NEED_STATS, check_stats },
	{ "inflate", "5.5.6", NEED_DRIVER, NEED_INFLATE, check_inflate },
	{ "stats-plausible", "5.5.6.3", NEED_STATS | NEED_INFLATE, 0, check_stats_plausible },
	{ "deflate", "5.5.6", NEED_INFLATE, 0, check_deflate },
	{ "floor", "5.5.6.1", NEED_INFLATE, NEED_FLOOR, check_floor },
	{ "progress", "5.5.6.1", NEED_INFLATE, 0, check_progress },
	{ "rss", "5.5.6", NEED_FLOOR, 0, check_rss },
	{ "pressure", "5.5.6.1", NEED_FLOOR, 0, check_pressure },
	{ "reset", "5.5.6", NEED_INFLATE, 0, check_reset },
};
#define NCHECKS (sizeof(checks) / sizeof(checks[0]))

/* ---- the runner ------------------------------------------------------------ */

/*
 * The first check before N that provides one of NEEDS and did not pass,
 * or -1. The driver check may be n/a (a QEMU without
 * x-query-virtio-status): the checks after it still run then.
 */
static int missing_prerequisite(unsigned int needs, const struct check_out *out,
				size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((checks[i].provides & needs) && out[i].result != CHECK_PASS &&
		    (out[i].result == CHECK_FAIL || checks[i].provides != NEED_DRIVER))
			return (int)i;
	return -1;
}

static void print_row(struct vbctl *v, const struct check_def *c,
		      const struct check_out *o)
{
	if (v->json)
		return;
	fprintf(v->out, "%-16s %-6s %-8s %s\n", c->id, check_result_name(o->result), c->spec,
		o->figure);
	fflush(v->out);
}

/* Puts the VM back as we found it: target (waiting until the guest is
 * there, so that the next user sees a settled guest) and polling
 * interval. */
static void restore(struct check_state *s)
{
	struct check_move m;

	if (s->vm_gone || !s->path || qmp_is_broken(s->v->q))
		return;
	if (follow(s, &m, s->start_actual, 0, START_MS))
		qmp_clear_error(s->v->q);
	if (s->stats_on && qmp_balloon_set_polling(s->v->q, s->path, s->start_interval))
		qmp_clear_error(s->v->q);
}

static int run_check(struct vbctl *v, int argc, char **argv)
{
	struct check_out out[NCHECKS];
	struct check_state s = { .v = v, .wait_ms = WAIT_DEFAULT_MS };
	unsigned int counts[3] = { 0 };
	struct json_object *doc = NULL, *rows = NULL, *row;
	size_t i;
	int c, rc;

	vbctl_getopt_begin();
	while ((c = vbctl_getopt(v, &vbctl_cmd_check, argc, argv)) != -1) {
		if (c == 'p')
			s.pressure = optarg;
		else if (c == 'R')
			s.no_reset = true;
		else if (c == 'w' && !vbctl_parse_seconds(v, &vbctl_cmd_check, "--wait",
							   optarg, &s.wait_ms))
			continue;
		else
			return VBCTL_EXIT_USAGE;
	}
	rc = vbctl_check_args(v, &vbctl_cmd_check, argc, argv, optind);
	if (rc)
		return rc;
	rc = vbctl_connect(v);
	if (rc)
		return rc;
	rc = qmp_memory_base_size(v->q, &s.boot);
	if (rc)
		return vbctl_qmp_failed(v, rc, "check: reading the boot memory size");
	find_qemu_pid(&s);

	if (!v->json)
		fprintf(v->out, "%-16s %-6s %-8s %s\n", "check", "result", "spec", "figure");
	for (i = 0; i < NCHECKS; i++) {
		const struct check_def *d = &checks[i];
		int missing = missing_prerequisite(d->needs, out, i);

		memset(&out[i], 0, sizeof(out[i]));
		if (s.vm_gone)
			figure(&out[i], CHECK_FAIL, "not run: %s", s.gone_why);
		else if (v->interrupted)
			figure(&out[i], CHECK_FAIL, "not run: interrupted");
		else if (missing >= 0)
			figure(&out[i], CHECK_NA, "not run: %s did not pass", checks[missing].id);
		else if (d->run(&s, &out[i]) == VBCTL_EXIT_CONN)
			s.vm_gone = true;
		counts[out[i].result]++;
		print_row(v, d, &out[i]);
	}
	restore(&s);
	free(s.vdev);
	free(s.full.text);
	free(s.half.text);

	if (v->json) {
		doc = json_object_new_object();
		rows = json_object_new_array();
		for (i = 0; i < NCHECKS; i++) {
			row = json_object_new_object();
			json_object_object_add(row, "check", json_object_new_string(checks[i].id));
			json_object_object_add(row, "result",
					       json_object_new_string(check_result_name(out[i].result)));
			json_object_object_add(row, "figure", json_object_new_string(out[i].figure));
			json_object_object_add(row, "spec", json_object_new_string(checks[i].spec));
			json_object_array_add(rows, row);
		}
		json_object_object_add(doc, "checks", rows);
		json_object_object_add(doc, "passed", json_object_new_int(counts[CHECK_PASS]));
		json_object_object_add(doc, "failed", json_object_new_int(counts[CHECK_FAIL]));
		json_object_object_add(doc, "not_applicable", json_object_new_int(counts[CHECK_NA]));
		json_object_object_add(doc, "ok", json_object_new_boolean(counts[CHECK_FAIL] == 0));
		rc = vbctl_print(v, 0, doc, NULL);
		json_object_put(doc);
	} else {
		rc = vbctl_print(v, 0, NULL, "%u passed, %u failed, %u not applicable\n",
				 counts[CHECK_PASS], counts[CHECK_FAIL], counts[CHECK_NA]);
	}
	if (rc)
		return VBCTL_EXIT_FAIL;
	/* A lost connection or a protocol fault is exit 3, whatever the
	 * checks before it said. */
	if (s.conn_broken)
		return vbctl_connection_lost(v, "check");
	if (counts[CHECK_FAIL])
		return vbctl_error(v, VBCTL_EXIT_FAIL, "check: %u of %zu checks failed",
				   counts[CHECK_FAIL], NCHECKS);
	return VBCTL_EXIT_OK;
}
