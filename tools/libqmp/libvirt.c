/* SPDX-License-Identifier: MIT */
/*
 * libvirt.c - QMP carried by libvirt instead of a socket: commands go
 * through virDomainQemuMonitorCommand(), events come from
 * virConnectDomainQemuMonitorEventRegister() on libvirt's event loop.
 * libvirt's calls block, so each channel has a worker thread; what it
 * receives (the greeting made up from the QEMU version, replies, events)
 * is queued and signalled on a pipe, which the connection polls like a
 * socket. Without libvirt at build time every entry fails with -ENOTSUP.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "libqmp-private.h"

#ifndef HAVE_LIBVIRT

int qmp_libvirt_open(const char *uri, const char *domain,
		     struct qmp_libvirt **lv, int *fd)
{
	return -ENOTSUP;
}

int qmp_libvirt_submit(struct qmp_libvirt *lv, uint64_t id,
		       struct json_object *msg)
{
	return -ENOTSUP;
}

int qmp_libvirt_take(struct qmp_libvirt *lv, struct json_object **msg,
		     char *errbuf, size_t errlen)
{
	return -ENOTSUP;
}

void qmp_libvirt_close(struct qmp_libvirt *lv)
{
}

QMP_EXPORT bool qmp_have_libvirt(void)
{
	return false;
}

QMP_EXPORT int qmp_libvirt_list_domains(struct qmp *q, const char *uri,
					bool all, char ***names)
{
	*names = NULL;
	return qmp_fail(q, -ENOTSUP, "libqmp was built without libvirt");
}

#else

#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

/* ---- process-wide: libvirt's event loop and one connection per URI ---- */

/*
 * libvirt's event loop is process state: it must be registered before the
 * first virConnectOpen() for events to flow, and someone must run it.
 * libqmp registers libvirt's default implementation and runs it in a
 * thread of its own, once. libvirt's default error handler prints to
 * stderr; a library must not, so it is silenced (messages are kept and
 * handed out with the error instead).
 */
static pthread_once_t event_loop_once = PTHREAD_ONCE_INIT;
static int event_loop_err;

static void silence(void *data, virErrorPtr err)
{
}

static void *run_event_loop(void *arg)
{
	for (;;)
		if (virEventRunDefaultImpl() < 0)
			usleep(100 * 1000);	/* do not spin on a failure */
	return NULL;
}

/* Start a detached thread with every signal blocked, so the caller's
 * signals (Ctrl-C) go to its own threads, not to libqmp's. */
static int start_thread(void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t thread;
	int r;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&thread, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/*
 * libvirt writes to its connection (a socket, or the pipe to ssh for
 * qemu+ssh://) from whichever thread calls it; when the peer is gone (ssh
 * killed by the same Ctrl-C as vbctl, say) that write raises SIGPIPE,
 * which kills the caller's process. libqmp's own threads block every
 * signal; around the calls it makes in the caller's thread (closing a
 * channel, listing domains), SIGPIPE is blocked and, if raised, taken
 * back, so the call fails with EPIPE instead. The caller's handling of
 * SIGPIPE (a closed stdout) is left as it was.
 */
static void sigpipe_hold(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static void sigpipe_release(const sigset_t *old)
{
	static const struct timespec now = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!sigismember(old, SIGPIPE))
		while (sigtimedwait(&set, NULL, &now) == SIGPIPE)
			;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

static void start_event_loop(void)
{
	virSetErrorFunc(NULL, silence);
	if (virInitialize() < 0 || virEventRegisterDefaultImpl() < 0) {
		event_loop_err = -EIO;
		return;
	}
	if (start_thread(run_event_loop, NULL))
		event_loop_err = -EAGAIN;
}

/* Connections shared by every channel on the same URI, so a fleet of
 * domains behind qemu+ssh:// is one ssh session, not one per domain. */
struct shared_conn {
	char *uri;
	virConnectPtr conn;
	int refs;
	struct shared_conn *next;
};
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_conn *conns;

static const char *last_error(void)
{
	const char *msg = virGetLastErrorMessage();

	return msg ? msg : "unknown libvirt error";
}

static virConnectPtr conn_get(const char *uri, char *errbuf, size_t errlen)
{
	struct shared_conn *c;
	virConnectPtr conn = NULL;

	pthread_mutex_lock(&conns_lock);
	for (c = conns; c; c = c->next) {
		if (strcmp(c->uri, uri) == 0) {
			c->refs++;
			conn = c->conn;
			goto out;
		}
	}
	conn = virConnectOpen(uri);
	if (!conn) {
		snprintf(errbuf, errlen, "cannot open libvirt URI %s: %s", uri,
			 last_error());
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->uri = strdup(uri))) {
		free(c);
		virConnectClose(conn);
		conn = NULL;
		snprintf(errbuf, errlen, "out of memory");
		goto out;
	}
	c->conn = conn;
	c->refs = 1;
	c->next = conns;
	conns = c;
out:
	pthread_mutex_unlock(&conns_lock);
	return conn;
}

static void conn_put(virConnectPtr conn)
{
	struct shared_conn **p, *c;

	pthread_mutex_lock(&conns_lock);
	for (p = &conns; (c = *p); p = &c->next) {
		if (c->conn != conn)
			continue;
		if (--c->refs == 0) {
			*p = c->next;
			virConnectClose(c->conn);
			free(c->uri);
			free(c);
		}
		break;
	}
	pthread_mutex_unlock(&conns_lock);
}

/* ---- one channel ----------------------------------------------------------- */

struct lv_item {
	struct lv_item *next;
	struct json_object *msg;	/* request (in) or message (out) */
	uint64_t id;			/* request: the id to answer with */
	int err;			/* out: a transport error (msg NULL) */
	char desc[256];
};

struct qmp_libvirt {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int refs;			/* qmp, worker, event callback */
	bool closing;
	int pipe_r, pipe_w;

	char *uri, *domain;
	virConnectPtr conn;
	virDomainPtr dom;
	int event_cb;			/* -1: none registered */

	struct lv_item *in, **in_tail;	/* requests, oldest first */
	struct lv_item *out, **out_tail;/* messages for the connection */
};

static void lv_unref(struct qmp_libvirt *lv)
{
	struct lv_item *it;
	bool last;

	pthread_mutex_lock(&lv->lock);
	last = --lv->refs == 0;
	pthread_mutex_unlock(&lv->lock);
	if (!last)
		return;
	while ((it = lv->in)) {
		lv->in = it->next;
		json_object_put(it->msg);
		free(it);
	}
	while ((it = lv->out)) {
		lv->out = it->next;
		json_object_put(it->msg);
		free(it);
	}
	if (lv->dom)
		virDomainFree(lv->dom);
	if (lv->conn)
		conn_put(lv->conn);
	close(lv->pipe_r);
	close(lv->pipe_w);
	pthread_mutex_destroy(&lv->lock);
	pthread_cond_destroy(&lv->wake);
	free(lv->uri);
	free(lv->domain);
	free(lv);
}

static void lv_unref_cb(void *opaque)
{
	lv_unref(opaque);
}

/* Queue MSG (consumed) or an error for the connection and wake its poll(). */
static void post(struct qmp_libvirt *lv, struct json_object *msg, int err,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void post(struct qmp_libvirt *lv, struct json_object *msg, int err,
		 const char *fmt, ...)
{
	struct lv_item *it = calloc(1, sizeof(*it));
	va_list ap;

	if (!it) {
		json_object_put(msg);
		return;		/* the caller's deadline will say so */
	}
	it->msg = msg;
	it->err = err;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(it->desc, sizeof(it->desc), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_lock(&lv->lock);
	*lv->out_tail = it;
	lv->out_tail = &it->next;
	pthread_mutex_unlock(&lv->lock);
	/* A full pipe already says "something is queued". */
	if (write(lv->pipe_w, "", 1) < 0 && errno != EAGAIN)
		return;
}

static void on_event(virConnectPtr conn, virDomainPtr dom, const char *event,
		     long long seconds, unsigned int micros,
		     const char *details, void *opaque)
{
	struct qmp_libvirt *lv = opaque;
	struct json_object *msg = json_object_new_object(), *ts, *data = NULL;

	if (!msg)
		return;
	if (details) {
		data = json_tokener_parse(details);
		if (!data)
			data = json_object_new_string(details);
	}
	ts = json_object_new_object();
	json_object_object_add(ts, "seconds", json_object_new_int64(seconds));
	json_object_object_add(ts, "microseconds", json_object_new_int64(micros));
	json_object_object_add(msg, "event", json_object_new_string(event));
	if (data)
		json_object_object_add(msg, "data", data);
	json_object_object_add(msg, "timestamp", ts);
	post(lv, msg, 0, NULL);
}

/* The greeting QEMU would have sent, with the version of the domain's own
 * QEMU (query-version through the monitor: one cheap RPC, where
 * virConnectGetVersion() reports the default binary's version and may cost
 * the daemon seconds re-checking its capabilities). libvirt negotiated
 * capabilities with QEMU long ago. It also names the domain ("libvirt":
 * uri, domain, uuid, and id, which libvirt gives anew each time the domain
 * starts), so a client can tell one run of a VM from the next. */
static struct json_object *make_greeting(struct qmp_libvirt *lv)
{
	struct json_object *msg, *qmp, *version, *reply = NULL, *ret, *qemu = NULL;
	struct json_object *who;
	char uuid[VIR_UUID_STRING_BUFLEN];
	char *result = NULL;

	if (virDomainQemuMonitorCommand(lv->dom, "{\"execute\":\"query-version\"}",
					&result, 0) == 0 && result)
		reply = json_tokener_parse(result);
	free(result);
	if (json_object_object_get_ex(reply, "return", &ret) &&
	    json_object_object_get_ex(ret, "qemu", &qemu) &&
	    json_object_is_type(qemu, json_type_object))
		json_object_get(qemu);
	else
		qemu = NULL;
	json_object_put(reply);
	if (!qemu) {	/* unknown: as QEMU 0.0.0 */
		qemu = json_object_new_object();
		json_object_object_add(qemu, "major", json_object_new_int(0));
		json_object_object_add(qemu, "minor", json_object_new_int(0));
		json_object_object_add(qemu, "micro", json_object_new_int(0));
	}
	version = json_object_new_object();
	json_object_object_add(version, "qemu", qemu);
	json_object_object_add(version, "package", json_object_new_string("(through libvirt)"));
	qmp = json_object_new_object();
	json_object_object_add(qmp, "version", version);
	json_object_object_add(qmp, "capabilities", json_object_new_array());
	who = json_object_new_object();
	json_object_object_add(who, "uri", json_object_new_string(lv->uri));
	json_object_object_add(who, "domain",
			       json_object_new_string(virDomainGetName(lv->dom)));
	if (virDomainGetUUIDString(lv->dom, uuid) == 0)
		json_object_object_add(who, "uuid", json_object_new_string(uuid));
	json_object_object_add(who, "id",
			       json_object_new_int64((int)virDomainGetID(lv->dom)));
	json_object_object_add(qmp, "libvirt", who);
	msg = json_object_new_object();
	json_object_object_add(msg, "QMP", qmp);
	return msg;
}

/* NAME as an id, a UUID, or a name, in that order (as virsh does). */
static virDomainPtr lookup(virConnectPtr conn, const char *name)
{
	virDomainPtr dom = NULL;
	char *end;
	long id;

	if (*name && strspn(name, "0123456789") == strlen(name)) {
		id = strtol(name, &end, 10);
		dom = virDomainLookupByID(conn, (int)id);
	}
	if (!dom && strlen(name) == 36 && name[8] == '-')
		dom = virDomainLookupByUUIDString(conn, name);
	if (!dom)
		dom = virDomainLookupByName(conn, name);
	return dom;
}

static bool open_domain(struct qmp_libvirt *lv)
{
	bool failed = false;
	char desc[256];
	int id;

	if (event_loop_err) {
		post(lv, NULL, event_loop_err, "cannot start libvirt's event loop");
		return false;
	}
	lv->conn = conn_get(lv->uri, desc, sizeof(desc));
	if (!lv->conn) {
		post(lv, NULL, -ECONNREFUSED, "%s", desc);
		return false;
	}
	lv->dom = lookup(lv->conn, lv->domain);
	if (!lv->dom) {
		post(lv, NULL, -ENOENT, "no domain '%s' at %s (virsh -c %s list --all lists them)",
		     lv->domain, lv->uri, lv->uri);
		return false;
	}
	if (virDomainIsActive(lv->dom) != 1) {
		post(lv, NULL, -EHOSTDOWN,
		     "domain '%s' is not running (virsh -c %s start %s starts it)",
		     lv->domain, lv->uri, lv->domain);
		return false;
	}
	pthread_mutex_lock(&lv->lock);
	if (!lv->closing) {
		lv->refs++;	/* the callback's, dropped by lv_unref_cb */
		id = virConnectDomainQemuMonitorEventRegister(lv->conn, lv->dom, NULL,
							      on_event, lv,
							      lv_unref_cb, 0);
		if (id < 0)
			lv->refs--;
		lv->event_cb = id;
		failed = id < 0;
	}
	/* Decided under the lock: qmp_libvirt_close() on the owner's thread
	 * writes closing and event_cb under it, and may do so as soon as it
	 * is released. */
	pthread_mutex_unlock(&lv->lock);
	if (failed) {
		post(lv, NULL, virGetLastErrorCode() == VIR_ERR_NO_SUPPORT ?
		     -ENOSYS : -EIO,
		     "libvirt at %s cannot pass QEMU monitor events on (no QEMU monitor passthrough: %s)",
		     lv->uri, last_error());
		return false;
	}
	post(lv, make_greeting(lv), 0, NULL);
	return true;
}

/* One request: through libvirt, and its reply back with our id. */
static bool run_request(struct qmp_libvirt *lv, struct lv_item *req)
{
	const char *text = json_object_to_json_string_ext(req->msg,
							   JSON_C_TO_STRING_PLAIN);
	struct json_object *reply;
	char *result = NULL;
	int code;

	if (virDomainQemuMonitorCommand(lv->dom, text, &result, 0) < 0) {
		code = virGetLastErrorCode();
		if (code == VIR_ERR_NO_SUPPORT)
			post(lv, NULL, -ENOSYS,
			     "libvirt at %s cannot pass QMP commands through (no QEMU monitor passthrough: %s)",
			     lv->uri, last_error());
		else if (virDomainIsActive(lv->dom) != 1)
			post(lv, NULL, -ECONNRESET,
			     "domain '%s' is no longer running", lv->domain);
		else
			post(lv, NULL, -EIO, "libvirt: %s", last_error());
		return false;
	}
	reply = result ? json_tokener_parse(result) : NULL;
	free(result);
	if (!json_object_is_type(reply, json_type_object)) {
		json_object_put(reply);
		post(lv, NULL, -EPROTO, "libvirt passed on a reply that is not a JSON object");
		return false;
	}
	/* libvirt numbered the command itself ("libvirt-N"). */
	json_object_object_del(reply, "id");
	json_object_object_add(reply, "id", json_object_new_uint64(req->id));
	post(lv, reply, 0, NULL);
	return true;
}

static void *worker(void *arg)
{
	struct qmp_libvirt *lv = arg;
	struct lv_item *req;
	bool ok = open_domain(lv);

	while (ok) {
		pthread_mutex_lock(&lv->lock);
		while (!lv->closing && !lv->in)
			pthread_cond_wait(&lv->wake, &lv->lock);
		req = lv->closing ? NULL : lv->in;
		if (req) {
			lv->in = req->next;
			if (!lv->in)
				lv->in_tail = &lv->in;
		}
		pthread_mutex_unlock(&lv->lock);
		if (!req)
			break;
		ok = run_request(lv, req);
		json_object_put(req->msg);
		free(req);
	}
	lv_unref(lv);
	return NULL;
}

int qmp_libvirt_open(const char *uri, const char *domain,
		     struct qmp_libvirt **lvp, int *fd)
{
	struct qmp_libvirt *lv;
	int p[2], r;

	pthread_once(&event_loop_once, start_event_loop);
	lv = calloc(1, sizeof(*lv));
	if (!lv)
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(lv);
		return -errno;
	}
	lv->pipe_r = p[0];
	lv->pipe_w = p[1];
	lv->uri = strdup(uri);
	lv->domain = strdup(domain);
	lv->event_cb = -1;
	lv->in_tail = &lv->in;
	lv->out_tail = &lv->out;
	lv->refs = 2;		/* the connection's and the worker's */
	pthread_mutex_init(&lv->lock, NULL);
	pthread_cond_init(&lv->wake, NULL);
	if (!lv->uri || !lv->domain) {
		lv->refs = 1;
		lv_unref(lv);
		return -ENOMEM;
	}
	r = start_thread(worker, lv);
	if (r) {
		lv->refs = 1;
		lv_unref(lv);
		return -r;
	}
	*lvp = lv;
	*fd = lv->pipe_r;
	return 0;
}

int qmp_libvirt_submit(struct qmp_libvirt *lv, uint64_t id,
		       struct json_object *msg)
{
	struct lv_item *it = calloc(1, sizeof(*it));

	if (!it)
		return -ENOMEM;
	/* A copy without "id": libvirt adds its own and refuses a second.
	 * A deep one: the worker thread drops it, and json-c's reference
	 * counts are not atomic, so it must share no object with the caller. */
	if (json_object_deep_copy(msg, &it->msg, NULL) < 0) {
		free(it);
		return -ENOMEM;
	}
	json_object_object_del(it->msg, "id");
	it->id = id;
	pthread_mutex_lock(&lv->lock);
	*lv->in_tail = it;
	lv->in_tail = &it->next;
	pthread_cond_signal(&lv->wake);
	pthread_mutex_unlock(&lv->lock);
	return 0;
}

int qmp_libvirt_take(struct qmp_libvirt *lv, struct json_object **msg,
		     char *errbuf, size_t errlen)
{
	char buf[256];
	struct lv_item *it;
	int r;

	*msg = NULL;
	while (read(lv->pipe_r, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&lv->lock);
	it = lv->out;
	if (it) {
		lv->out = it->next;
		if (!lv->out)
			lv->out_tail = &lv->out;
	}
	pthread_mutex_unlock(&lv->lock);
	if (!it)
		return 0;
	r = it->err;
	if (r)
		snprintf(errbuf, errlen, "%s", it->desc);
	else
		*msg = it->msg;
	free(it);
	return r ? r : 1;
}

void qmp_libvirt_close(struct qmp_libvirt *lv)
{
	sigset_t old;
	int cb;

	if (!lv)
		return;
	sigpipe_hold(&old);
	pthread_mutex_lock(&lv->lock);
	lv->closing = true;
	pthread_cond_signal(&lv->wake);
	cb = lv->event_cb;
	lv->event_cb = -1;
	pthread_mutex_unlock(&lv->lock);
	/* Not under the lock: libvirt may call lv_unref_cb() from here. */
	if (cb >= 0)
		virConnectDomainQemuMonitorEventDeregister(lv->conn, cb);
	lv_unref(lv);
	sigpipe_release(&old);
}

QMP_EXPORT bool qmp_have_libvirt(void)
{
	return true;
}

static int compare_names(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;

	if (!x || !y)
		return !x - !y;
	return strcmp(x, y);
}

QMP_EXPORT int qmp_libvirt_list_domains(struct qmp *q, const char *uri,
					bool all, char ***names)
{
	unsigned int flags = all ? 0 : VIR_CONNECT_LIST_DOMAINS_ACTIVE;
	virDomainPtr *doms = NULL;
	virConnectPtr conn;
	char desc[256];
	sigset_t old;
	int i, n;

	*names = NULL;
	pthread_once(&event_loop_once, start_event_loop);
	sigpipe_hold(&old);
	conn = conn_get(uri, desc, sizeof(desc));
	if (!conn) {
		sigpipe_release(&old);
		return qmp_fail(q, -ECONNREFUSED, "%s", desc);
	}
	n = virConnectListAllDomains(conn, &doms, flags);
	if (n < 0) {
		snprintf(desc, sizeof(desc), "%s", last_error());
		conn_put(conn);
		sigpipe_release(&old);
		return qmp_fail(q, -EIO, "cannot list the domains at %s: %s",
				uri, desc);
	}
	*names = calloc((size_t)n + 1, sizeof(**names));
	for (i = 0; i < n; i++) {
		if (*names)
			(*names)[i] = strdup(virDomainGetName(doms[i]));
		virDomainFree(doms[i]);
	}
	free(doms);
	conn_put(conn);
	sigpipe_release(&old);
	if (!*names)
		return -ENOMEM;
	qsort(*names, (size_t)n, sizeof(**names), compare_names);
	for (i = 0; i < n; i++) {
		if (!(*names)[i]) {
			qmp_strv_free(*names);
			*names = NULL;
			return -ENOMEM;
		}
	}
	return n;
}

#endif /* HAVE_LIBVIRT */

QMP_EXPORT void qmp_strv_free(char **strv)
{
	size_t i;

	for (i = 0; strv && strv[i]; i++)
		free(strv[i]);
	free(strv);
}
