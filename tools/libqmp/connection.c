/* SPDX-License-Identifier: MIT */
/*
 * connection.c - one QMP connection: the socket, greeting and capability
 * negotiation, commands matched to replies by id, the event queue, errors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "libqmp-private.h"
#include "parser.h"

/* A command sent whose reply has not been handed to the caller yet. */
struct qmp_pending {
	uint64_t id;
	char *command;			/* for error messages */
	struct json_object *reply;	/* NULL until it arrives */
};

struct qmp {
	int refcount;
	int fd;				/* -1 until connected */
	int timeout_ms;			/* per blocking call; -1: none */
	struct qmp_parser *parser;
	struct json_object *greeting;	/* the {"QMP": ...} message */
	uint64_t next_id;

	struct qmp_pending *pending;
	size_t npending, pending_cap;

	struct json_object **events;	/* oldest first */
	size_t nevents, events_cap;

	struct qmp_libvirt *lv;		/* libvirt carries QMP; NULL: the socket */
	bool connecting;		/* a non-blocking connect() in flight */
	bool negotiated;		/* qmp_capabilities answered */
	uint64_t caps_id;		/* its id while in flight; 0: not sent */

	int err;			/* sticky transport error, or 0 */
	char err_desc[256];
	struct json_object *qmp_error;	/* last {"class", "desc"} or NULL */

	/* tls:HOST:PORT: the session over fd, and the files to set one up
	 * with (qmp_set_tls_files; copies). */
	struct qmp_tls *tls;
	char *tls_ca, *tls_cert, *tls_key;
	uint64_t received;		/* bytes read: did a drain get any? */

	qmp_log_fn log_fn;
	void *log_data;
	bool log_stderr;		/* QMP_LOG=debug and no log_fn */

	char rbuf[64 * 1024];
};

/* A non-blocking call reads for at most this long, however much is
 * ready, so that one flooding peer cannot stall a poll() loop. */
#define DRAIN_BUDGET_MS 10

/* ---- time -------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t qmp_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* True once DEADLINE (-1: none) has passed. */
static bool deadline_passed(int64_t deadline)
{
	return deadline >= 0 && now_ms() >= deadline;
}

int qmp_deadline_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	/* now_ms() truncates: add 1 so that poll() does not wake up just
	 * before the deadline and report a timeout that has not passed. */
	left = deadline - now_ms() + 1;
	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* ---- logging and errors ------------------------------------------------ */

static void qmp_log(struct qmp *q, enum qmp_log_kind kind, const char *text)
{
	static const char *const prefix[] = {
		[QMP_LOG_SEND] = "qmp: >> ",
		[QMP_LOG_RECV] = "qmp: << ",
		[QMP_LOG_DEBUG] = "qmp: ",
	};

	if (q->log_fn)
		q->log_fn(q->log_data, kind, text);
	else if (q->log_stderr)
		fprintf(stderr, "%s%s\n", prefix[kind], text);
}

static bool qmp_logging(const struct qmp *q)
{
	return q->log_fn || q->log_stderr;
}

static void qmp_debug(struct qmp *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void qmp_debug(struct qmp *q, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (!qmp_logging(q))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	qmp_log(q, QMP_LOG_DEBUG, text);
}

static const char *json_text(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

int qmp_fail(struct qmp *q, int err, const char *fmt, ...)
{
	va_list ap;

	if (q->err)	/* the first error is the one that explains */
		return q->err;
	va_start(ap, fmt);
	vsnprintf(q->err_desc, sizeof(q->err_desc), fmt, ap);
	va_end(ap);
	q->err = err;
	qmp_debug(q, "connection broken: %s", q->err_desc);
	return err;
}

QMP_EXPORT bool qmp_is_broken(const struct qmp *q)
{
	return q->err != 0;
}

QMP_EXPORT int qmp_get_error(const struct qmp *q)
{
	return q->err;
}

static const char *qmp_error_member(const struct qmp *q, const char *key)
{
	struct json_object *s;

	/* A member may be present and JSON null (json-c: true, *s NULL). */
	if (!q->qmp_error || !json_object_object_get_ex(q->qmp_error, key, &s) ||
	    !json_object_is_type(s, json_type_string))
		return NULL;
	return json_object_get_string(s);
}

QMP_EXPORT const char *qmp_get_error_class(const struct qmp *q)
{
	return qmp_error_member(q, "class");
}

QMP_EXPORT const char *qmp_get_error_desc(const struct qmp *q)
{
	if (q->err)
		return q->err_desc;
	return qmp_error_member(q, "desc");
}

QMP_EXPORT bool qmp_clear_error(struct qmp *q)
{
	json_object_put(q->qmp_error);
	q->qmp_error = NULL;
	return q->err == 0;
}

/* 0 when Q can talk: connected and not broken. */
static int qmp_usable(const struct qmp *q)
{
	if (q->err)
		return q->err;
	return q->fd < 0 ? -ENOTCONN : 0;
}

bool qmp_json_get_u64(struct json_object *obj, uint64_t *value)
{
	if (!json_object_is_type(obj, json_type_int) ||
	    json_object_get_int64(obj) < 0)
		return false;
	*value = json_object_get_uint64(obj);
	return true;
}

/* ---- object lifetime --------------------------------------------------- */

QMP_EXPORT struct qmp *qmp_new(void)
{
	struct qmp *q = calloc(1, sizeof(*q));
	const char *env;

	if (!q)
		return NULL;
	q->parser = qmp_parser_new();
	if (!q->parser) {
		free(q);
		return NULL;
	}
	q->refcount = 1;
	q->fd = -1;
	q->timeout_ms = QMP_DEFAULT_TIMEOUT_MS;
	q->next_id = 1;
	env = getenv("QMP_LOG");
	q->log_stderr = env && strcmp(env, "debug") == 0;
	return q;
}

QMP_EXPORT struct qmp *qmp_ref(struct qmp *q)
{
	if (q)
		q->refcount++;
	return q;
}

QMP_EXPORT struct qmp *qmp_unref(struct qmp *q)
{
	size_t i;

	if (!q || --q->refcount > 0)
		return NULL;
	qmp_tls_free(q->tls);
	free(q->tls_ca);
	free(q->tls_cert);
	free(q->tls_key);
	if (q->lv)
		qmp_libvirt_close(q->lv);	/* owns fd */
	else if (q->fd >= 0)
		close(q->fd);
	qmp_parser_free(q->parser);
	json_object_put(q->greeting);
	json_object_put(q->qmp_error);
	for (i = 0; i < q->npending; i++) {
		free(q->pending[i].command);
		json_object_put(q->pending[i].reply);
	}
	free(q->pending);
	for (i = 0; i < q->nevents; i++)
		json_object_put(q->events[i]);
	free(q->events);
	free(q);
	return NULL;
}

QMP_EXPORT void qmp_set_timeout(struct qmp *q, int timeout_ms)
{
	q->timeout_ms = timeout_ms < 0 ? -1 : timeout_ms;
}

QMP_EXPORT int qmp_get_timeout(const struct qmp *q)
{
	return q->timeout_ms;
}

QMP_EXPORT void qmp_set_log_fn(struct qmp *q, qmp_log_fn fn, void *userdata)
{
	q->log_fn = fn;
	q->log_data = userdata;
}

QMP_EXPORT int qmp_get_fd(const struct qmp *q)
{
	return q->fd;
}

/* ---- receiving --------------------------------------------------------- */

static struct qmp_pending *find_pending(struct qmp *q, uint64_t id)
{
	size_t i;

	for (i = 0; i < q->npending; i++)
		if (q->pending[i].id == id)
			return &q->pending[i];
	return NULL;
}

static int queue_event(struct qmp *q, struct json_object *msg)
{
	struct json_object **events;
	size_t cap;

	if (q->nevents >= QMP_MAX_QUEUED_EVENTS) {
		json_object_put(msg);
		return qmp_fail(q, -ENOBUFS, "more than %d events queued",
				QMP_MAX_QUEUED_EVENTS);
	}
	if (q->nevents == q->events_cap) {
		cap = q->events_cap ? 2 * q->events_cap : 16;
		events = realloc(q->events, cap * sizeof(*events));
		if (!events) {
			json_object_put(msg);
			return qmp_fail(q, -ENOMEM, "out of memory");
		}
		q->events = events;
		q->events_cap = cap;
	}
	q->events[q->nevents++] = msg;
	return 0;
}

/*
 * A reply goes to the command that carries its id. A reply to no pending
 * command (an id we never sent or already handed out, or none at all,
 * which QEMU only sends for input it could not parse and we never send
 * such input) is dropped with a debug note: it cannot be anybody's answer.
 */
static void store_reply(struct qmp *q, struct json_object *msg)
{
	struct json_object *idobj;
	struct qmp_pending *p = NULL;
	uint64_t id;

	if (json_object_object_get_ex(msg, "id", &idobj) &&
	    qmp_json_get_u64(idobj, &id))
		p = find_pending(q, id);
	if (!p || p->reply) {
		qmp_debug(q, "dropping a reply to no pending command");
		json_object_put(msg);
		return;
	}
	p->reply = msg;
}

/* Sort one message (new reference, consumed) into greeting, event queue
 * or reply. */
static int dispatch_message(struct qmp *q, struct json_object *msg)
{
	struct json_object *member;

	if (qmp_logging(q))
		qmp_log(q, QMP_LOG_RECV, json_text(msg));
	if (json_object_object_get_ex(msg, "event", &member) &&
	    json_object_is_type(member, json_type_string))
		return queue_event(q, msg);
	if (!q->greeting) {
		if (!json_object_object_get_ex(msg, "QMP", &member) ||
		    !json_object_is_type(member, json_type_object)) {
			json_object_put(msg);
			return qmp_fail(q, -EPROTO,
					"not a QMP server: no greeting");
		}
		q->greeting = msg;
		return 0;
	}
	if (json_object_object_get_ex(msg, "return", NULL) ||
	    json_object_object_get_ex(msg, "error", NULL)) {
		store_reply(q, msg);
		return 0;
	}
	json_object_put(msg);
	return qmp_fail(q, -EPROTO, "unexpected message from QEMU");
}

static int feed_parser(struct qmp *q, const char *buf, size_t len)
{
	struct json_object *msg;
	size_t used;
	int r;

	while (len > 0) {
		r = qmp_parser_parse(q->parser, buf, len, &used, &msg);
		if (r < 0)
			return qmp_fail(q, r, "%s%s",
					q->greeting ? "" : "not a QMP server: ",
					qmp_parser_get_error(q->parser));
		buf += used;
		len -= used;
		if (r == 0)
			break;
		r = dispatch_message(q, msg);
		if (r < 0)
			return r;
	}
	return 0;
}

/* What the libvirt channel queued: messages, or the error that ended it. */
static int drain_libvirt(struct qmp *q)
{
	struct json_object *msg;
	char desc[256];
	int r;

	while ((r = qmp_libvirt_take(q->lv, &msg, desc, sizeof(desc))) == 1) {
		r = dispatch_message(q, msg);
		if (r < 0)
			return r;
	}
	return r < 0 ? qmp_fail(q, r, "%s", desc) : 0;
}

/*
 * Read and dispatch all that is ready now, without waiting, but not past
 * DEADLINE: a peer that keeps the socket full (a flood of replies to ids
 * never sent, blank space, a huge message) is read one buffer at a time
 * with the clock checked after each; 0 then, with more to read (poll()
 * says so), and the caller, who knows what it waits for, decides.
 */
static int drain_socket(struct qmp *q, int64_t deadline)
{
	ssize_t n;
	int r;

	if (q->lv)
		return drain_libvirt(q);
	for (;;) {
		n = q->tls ? qmp_tls_recv(q->tls, q->rbuf, sizeof(q->rbuf)) :
			     recv(q->fd, q->rbuf, sizeof(q->rbuf), 0);
		if (n > 0) {
			q->received += (uint64_t)n;
			r = feed_parser(q, q->rbuf, (size_t)n);
			/* A full buffer, or records GnuTLS holds decrypted
			 * (poll() would not see them): there is more. */
			if (r < 0 || ((size_t)n < sizeof(q->rbuf) &&
				      !(q->tls && qmp_tls_pending(q->tls))))
				return r;
			/* Past the deadline, stop (more is ready: poll() says
			 * so), unless GnuTLS holds records poll() cannot see. */
			if (deadline_passed(deadline) &&
			    !(q->tls && qmp_tls_pending(q->tls)))
				return 0;
			continue;
		}
		/* A reset (QEMU closed with our request unread) is a close. */
		if (n == 0 || errno == ECONNRESET)
			return qmp_fail(q, -ECONNRESET,
					"connection closed by QEMU");
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == EINTR)
			continue;
		if (q->tls)
			return qmp_fail(q, -errno, "TLS: %s",
					qmp_tls_error(q->tls));
		return qmp_fail(q, -errno, "receive: %s", strerror(errno));
	}
}

/*
 * Wait until the socket is readable or DEADLINE passes (-ETIMEDOUT, not
 * sticky: the caller decides), then read and dispatch what is ready, up
 * to DEADLINE (drain_socket).
 */
static int read_messages(struct qmp *q, int64_t deadline)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
	uint64_t before = q->received;
	int r;

	/* GnuTLS may hold bytes it read from the socket already (records
	 * that came with the end of the handshake, or decrypted ones):
	 * poll() cannot see those, so with TLS read before waiting. */
	if (q->tls) {
		r = drain_socket(q, deadline);
		if (r < 0 || q->received != before)
			return r;
	}
	for (;;) {
		r = poll(&pfd, 1, qmp_deadline_left(deadline));
		if (r > 0)
			break;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return qmp_fail(q, -errno, "poll: %s", strerror(errno));
	}
	return drain_socket(q, deadline);
}

/* ---- sending ----------------------------------------------------------- */

static int send_all(struct qmp *q, const char *buf, size_t len,
		    int64_t deadline)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLOUT };
	ssize_t n;
	int r;

	while (len > 0) {
		/* MSG_NOSIGNAL: a closed socket is an error, not SIGPIPE
		 * (GnuTLS sends with it too) */
		n = q->tls ? qmp_tls_send(q->tls, buf, len) :
			     send(q->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			return qmp_fail(q, -ECONNRESET,
					"connection closed by QEMU");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return qmp_fail(q, -errno, "send: %s", q->tls ?
					qmp_tls_error(q->tls) : strerror(errno));
		do {
			r = poll(&pfd, 1, qmp_deadline_left(deadline));
		} while (r < 0 && errno == EINTR);
		if (r < 0)
			return qmp_fail(q, -errno, "poll: %s", strerror(errno));
		if (r == 0)
			return qmp_fail(q, -ETIMEDOUT,
					"timed out sending to QEMU");
	}
	return 0;
}

/* Send MSG (borrowed) as one line and remember that ID awaits a reply. */
static int send_json(struct qmp *q, struct json_object *msg, uint64_t id,
		     const char *command, int64_t deadline)
{
	struct qmp_pending *pending;
	const char *text;
	size_t len, cap;
	char *line;
	int r;

	if (find_pending(q, id))
		return -EINVAL;
	if (q->npending == q->pending_cap) {
		cap = q->pending_cap ? 2 * q->pending_cap : 4;
		pending = realloc(q->pending, cap * sizeof(*pending));
		if (!pending)
			return -ENOMEM;
		q->pending = pending;
		q->pending_cap = cap;
	}

	text = json_text(msg);
	if (qmp_logging(q))
		qmp_log(q, QMP_LOG_SEND, text);
	if (q->lv) {
		r = qmp_libvirt_submit(q->lv, id, msg);
		if (r < 0)
			return qmp_fail(q, r, "out of memory");
	} else {
		len = strlen(text);
		line = malloc(len + 1);
		if (!line)
			return -ENOMEM;
		memcpy(line, text, len);
		line[len] = '\n';	/* not needed by QEMU; keeps traces readable */
		/* QEMU (7.2 at least) reads a TLS monitor's input a byte
		 * at a time and only when the socket is readable, so the
		 * end of the last record would wait in its GnuTLS buffer
		 * for more bytes: the newline goes in a record of its own,
		 * which keeps the socket readable until the message is in. */
		r = send_all(q, line, q->tls ? len : len + 1, deadline);
		if (r == 0 && q->tls)
			r = send_all(q, line + len, 1, deadline);
		free(line);
		if (r < 0)
			return r;
	}

	pending = &q->pending[q->npending];
	pending->command = strdup(command);
	if (!pending->command)
		return qmp_fail(q, -ENOMEM, "out of memory");
	pending->id = id;
	pending->reply = NULL;
	q->npending++;
	if (id >= q->next_id)
		q->next_id = id + 1;
	return 0;
}

static int send_command(struct qmp *q, const char *command,
			struct json_object *args, uint64_t *id,
			int64_t deadline)
{
	struct json_object *msg;
	uint64_t new_id;
	int r;

	r = qmp_usable(q);
	if (r < 0)
		return r;
	qmp_clear_error(q);
	msg = json_object_new_object();
	if (!msg)
		return -ENOMEM;
	new_id = q->next_id;
	if (json_object_object_add(msg, "execute",
				   json_object_new_string(command)) < 0 ||
	    (args && json_object_object_add(msg, "arguments",
					    json_object_get(args)) < 0) ||
	    json_object_object_add(msg, "id",
				   json_object_new_uint64(new_id)) < 0) {
		json_object_put(msg);
		return -ENOMEM;
	}
	r = send_json(q, msg, new_id, command, deadline);
	json_object_put(msg);
	if (r == 0 && id)
		*id = new_id;
	return r;
}

QMP_EXPORT int qmp_send(struct qmp *q, const char *command,
			struct json_object *args, uint64_t *id)
{
	return send_command(q, command, args, id, qmp_deadline(q->timeout_ms));
}

QMP_EXPORT int qmp_send_message(struct qmp *q, struct json_object *msg,
				uint64_t *id)
{
	struct json_object *idobj, *execute, *copy;
	const char *command = "(no command)";
	uint64_t new_id;
	int r;

	r = qmp_usable(q);
	if (r < 0)
		return r;
	if (!json_object_is_type(msg, json_type_object))
		return -EINVAL;
	qmp_clear_error(q);
	if ((json_object_object_get_ex(msg, "execute", &execute) ||
	     json_object_object_get_ex(msg, "exec-oob", &execute)) &&
	    json_object_is_type(execute, json_type_string))
		command = json_object_get_string(execute);

	/* The caller's own id must be one we can match replies with. */
	if (json_object_object_get_ex(msg, "id", &idobj)) {
		if (!qmp_json_get_u64(idobj, &new_id))
			return -EINVAL;
		r = send_json(q, msg, new_id, command,
			      qmp_deadline(q->timeout_ms));
		goto out;
	}

	/* Otherwise send a shallow copy with our next id added. */
	copy = json_object_new_object();
	if (!copy)
		return -ENOMEM;
	json_object_object_foreach(msg, key, val) {
		if (json_object_object_add(copy, key,
					   json_object_get(val)) < 0) {
			json_object_put(copy);
			return -ENOMEM;
		}
	}
	new_id = q->next_id;
	if (json_object_object_add(copy, "id",
				   json_object_new_uint64(new_id)) < 0) {
		json_object_put(copy);
		return -ENOMEM;
	}
	r = send_json(q, copy, new_id, command, qmp_deadline(q->timeout_ms));
	json_object_put(copy);
out:
	if (r == 0 && id)
		*id = new_id;
	return r;
}

/* Hand the reply in P to the caller and forget P. */
static int take_reply(struct qmp *q, struct qmp_pending *p,
		      struct json_object **ret)
{
	struct json_object *reply = p->reply, *member;
	int r = 0;

	free(p->command);
	*p = q->pending[--q->npending];

	if (json_object_object_get_ex(reply, "return", &member)) {
		if (ret)
			*ret = json_object_get(member);
	} else if (json_object_object_get_ex(reply, "error", &member) &&
		   json_object_is_type(member, json_type_object)) {
		json_object_put(q->qmp_error);
		q->qmp_error = json_object_get(member);
		r = -EREMOTEIO;
	} else {
		r = qmp_fail(q, -EPROTO, "malformed error reply from QEMU");
	}
	json_object_put(reply);
	return r;
}

static int recv_reply(struct qmp *q, uint64_t id, struct json_object **ret,
		      int64_t deadline)
{
	struct qmp_pending *p;
	int r;

	if (ret)
		*ret = NULL;
	r = qmp_usable(q);
	if (r < 0)
		return r;
	if (!find_pending(q, id))
		return -EINVAL;
	while (!(p = find_pending(q, id))->reply) {
		/* Messages that are not our reply (events, replies to ids
		 * never sent) may keep coming: they do not extend the wait. */
		r = read_messages(q, deadline);
		if (r == 0 && !find_pending(q, id)->reply &&
		    deadline_passed(deadline))
			r = -ETIMEDOUT;
		if (r == -ETIMEDOUT)
			return qmp_fail(q, r, "no reply to %s within %d ms",
					p->command, q->timeout_ms);
		if (r < 0)
			return r;
	}
	return take_reply(q, p, ret);
}

QMP_EXPORT int qmp_recv(struct qmp *q, uint64_t id, struct json_object **ret)
{
	return recv_reply(q, id, ret, qmp_deadline(q->timeout_ms));
}

QMP_EXPORT int qmp_execute(struct qmp *q, const char *command,
			   struct json_object *args, struct json_object **ret)
{
	int64_t deadline = qmp_deadline(q->timeout_ms);
	uint64_t id;
	int r;

	if (ret)
		*ret = NULL;
	r = send_command(q, command, args, &id, deadline);
	if (r < 0)
		return r;
	return recv_reply(q, id, ret, deadline);
}

int qmp_execute_u64(struct qmp *q, const char *command,
		    struct json_object *args, const char *key,
		    uint64_t *value)
{
	struct json_object *ret, *member;
	int r;

	r = qmp_execute(q, command, args, &ret);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(ret, key, &member) ||
	    !qmp_json_get_u64(member, value))
		r = qmp_fail(q, -EPROTO, "%s returned no \"%s\"", command,
			     key);
	json_object_put(ret);
	return r;
}

/* ---- connecting -------------------------------------------------------- */

/* qmp_capabilities got an error reply: the connection is of no use. */
static int caps_failed(struct qmp *q)
{
	return qmp_fail(q, -EPROTO, "qmp_capabilities failed: %s",
			qmp_get_error_desc(q) ? qmp_get_error_desc(q) :
			"an error reply without a description");
}

/* Read the greeting and leave capabilities negotiation mode. */
static int negotiate(struct qmp *q, int64_t deadline)
{
	uint64_t id;
	int r;

	while (!q->greeting) {
		r = read_messages(q, deadline);
		if (r == 0 && !q->greeting && deadline_passed(deadline))
			r = -ETIMEDOUT;
		if (r == -ETIMEDOUT)
			return qmp_fail(q, r, q->lv ?
					"libvirt did not answer within %d ms" :
					"no QMP greeting within %d ms",
					q->timeout_ms);
		if (r < 0)
			return r;
	}
	if (q->lv) {		/* libvirt negotiated long ago */
		q->negotiated = true;
		return 0;
	}
	r = send_command(q, "qmp_capabilities", NULL, &id, deadline);
	if (r < 0)
		return r;
	r = recv_reply(q, id, NULL, deadline);
	if (r == -EREMOTEIO)
		return caps_failed(q);
	q->negotiated = r == 0;
	return r;
}

QMP_EXPORT int qmp_connect_fd(struct qmp *q, int fd)
{
	int flags;

	if (q->fd >= 0 || q->err) {
		close(fd);
		return q->err ? q->err : -EISCONN;
	}
	q->fd = fd;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return qmp_fail(q, -errno, "fcntl: %s", strerror(errno));
	return negotiate(q, qmp_deadline(q->timeout_ms));
}

QMP_EXPORT int qmp_set_tls_files(struct qmp *q, const char *ca_file,
				 const char *cert_file, const char *key_file)
{
	char *ca = ca_file ? strdup(ca_file) : NULL;
	char *cert = cert_file ? strdup(cert_file) : NULL;
	char *key = key_file ? strdup(key_file) : NULL;

	if ((ca_file && !ca) || (cert_file && !cert) || (key_file && !key)) {
		free(ca);
		free(cert);
		free(key);
		return -ENOMEM;
	}
	free(q->tls_ca);
	free(q->tls_cert);
	free(q->tls_key);
	q->tls_ca = ca;
	q->tls_cert = cert;
	q->tls_key = key;
	return 0;
}

/* "HOST:PORT" or "[V6ADDR]:PORT" -> HOST in BUF; false if malformed. */
static bool tls_host(const char *hostport, char *buf, size_t len)
{
	const char *end;

	if (*hostport == '[') {
		hostport++;
		end = strchr(hostport, ']');
	} else {
		end = strrchr(hostport, ':');
	}
	if (!end || end == hostport || (size_t)(end - hostport) >= len)
		return false;
	memcpy(buf, hostport, (size_t)(end - hostport));
	buf[end - hostport] = '\0';
	return true;
}

/* tls:HOST:PORT: TCP to HOST:PORT, then a verified TLS session, both by
 * DEADLINE (the handshake waits even for qmp_connect_start). */
static int connect_tls(struct qmp *q, const char *hostport, int64_t deadline)
{
	const struct qmp_tls_files files = {
		.ca = q->tls_ca, .cert = q->tls_cert, .key = q->tls_key,
	};
	char desc[sizeof(q->err_desc)], host[256], *tcp;
	int fd, r;

	if (!tls_host(hostport, host, sizeof(host)))
		return qmp_fail(q, -EINVAL, "bad address tls:%s (want tls:HOST:PORT)",
				hostport);
	if (asprintf(&tcp, "tcp:%s", hostport) < 0)
		return qmp_fail(q, -ENOMEM, "out of memory");
	fd = qmp_address_connect(tcp, deadline, desc, sizeof(desc));
	free(tcp);
	if (fd < 0)
		return qmp_fail(q, fd, "%s", desc);
	q->fd = fd;
	r = qmp_tls_start(&q->tls, fd, host, &files, deadline, desc, sizeof(desc));
	if (r < 0)
		return qmp_fail(q, r, "%s", desc);
	qmp_debug(q, "TLS session with %s verified", host);
	return 0;
}

QMP_EXPORT int qmp_connect(struct qmp *q, const char *addr)
{
	int64_t deadline = qmp_deadline(q->timeout_ms);
	char desc[sizeof(q->err_desc)];
	int fd, r;

	if (q->fd >= 0 || q->err)
		return q->err ? q->err : -EISCONN;
	if (strncmp(addr, "tls:", 4) == 0) {
		r = connect_tls(q, addr + 4, deadline);
		return r < 0 ? r : negotiate(q, deadline);
	}
	fd = qmp_address_connect(addr, deadline, desc, sizeof(desc));
	if (fd < 0)
		return qmp_fail(q, fd, "%s", desc);
	q->fd = fd;
	return negotiate(q, deadline);
}

/* ---- connecting without waiting ---------------------------------------- */

QMP_EXPORT int qmp_connect_start(struct qmp *q, const char *addr)
{
	char desc[sizeof(q->err_desc)];
	bool pending;
	int fd;

	if (q->fd >= 0 || q->err)
		return q->err ? q->err : -EISCONN;
	if (strncmp(addr, "tls:", 4) == 0)
		return connect_tls(q, addr + 4, qmp_deadline(q->timeout_ms));
	fd = qmp_address_connect_start(addr, &pending, desc, sizeof(desc));
	if (fd < 0)
		return qmp_fail(q, fd, "%s", desc);
	q->fd = fd;
	q->connecting = pending;
	return 0;
}

/* The connect() in flight has finished (POLLOUT): 0, -EINPROGRESS while it
 * has not, or its error. */
static int finish_connect(struct qmp *q)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (poll(&pfd, 1, 0) == 0)
		return -EINPROGRESS;
	if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err)
		return qmp_fail(q, -err, "cannot connect: %s", strerror(err));
	q->connecting = false;
	return 0;
}

QMP_EXPORT int qmp_connect_continue(struct qmp *q)
{
	struct qmp_pending *p;
	int r;

	if (q->err)
		return q->err;
	if (q->fd < 0)
		return -ENOTCONN;
	if (q->negotiated)
		return 0;
	if (q->connecting) {
		r = finish_connect(q);
		if (r < 0)
			return r;
	}
	r = drain_socket(q, qmp_deadline(DRAIN_BUDGET_MS));
	if (r < 0)
		return r;
	if (!q->greeting)
		return -EINPROGRESS;
	if (q->lv) {		/* libvirt negotiated long ago */
		q->negotiated = true;
		return 0;
	}
	if (!q->caps_id) {
		r = send_command(q, "qmp_capabilities", NULL, &q->caps_id,
				 qmp_deadline(q->timeout_ms));
		if (r < 0)
			return r;
	}
	p = find_pending(q, q->caps_id);
	if (!p || !p->reply)
		return -EINPROGRESS;
	r = take_reply(q, p, NULL);
	if (r == -EREMOTEIO)
		return caps_failed(q);
	if (r < 0)
		return r;
	q->negotiated = true;
	return 0;
}

QMP_EXPORT int qmp_connect_libvirt_start(struct qmp *q, const char *uri,
				     const char *domain)
{
	int fd, r;

	if (q->fd >= 0 || q->err)
		return q->err ? q->err : -EISCONN;
	r = qmp_libvirt_open(uri, domain, &q->lv, &fd);
	if (r == -ENOTSUP)
		return qmp_fail(q, r, "libqmp was built without libvirt (configure --with-libvirt)");
	if (r < 0)
		return qmp_fail(q, r, "cannot start a libvirt channel: %s",
				strerror(-r));
	q->fd = fd;
	return 0;
}

QMP_EXPORT int qmp_connect_libvirt(struct qmp *q, const char *uri,
			       const char *domain)
{
	int64_t deadline = qmp_deadline(q->timeout_ms);
	int r;

	r = qmp_connect_libvirt_start(q, uri, domain);
	if (r < 0)
		return r;
	r = negotiate(q, deadline);
	if (r == -ETIMEDOUT)
		return qmp_fail(q, r, "libvirt at %s did not answer within %d ms",
				uri, q->timeout_ms);
	return r;
}

QMP_EXPORT short qmp_get_poll_events(const struct qmp *q)
{
	if (q->fd < 0 || q->err)
		return 0;
	return q->connecting ? POLLOUT : POLLIN;
}

QMP_EXPORT bool qmp_is_connected(const struct qmp *q)
{
	return q->negotiated && !q->err;
}

QMP_EXPORT int qmp_recv_nowait(struct qmp *q, uint64_t id,
			       struct json_object **ret)
{
	struct qmp_pending *p;
	int r;

	if (ret)
		*ret = NULL;
	p = find_pending(q, id);
	if (!p)
		return q->err ? q->err : -EINVAL;
	if (!p->reply) {
		r = qmp_usable(q);
		if (r == 0)
			r = drain_socket(q, qmp_deadline(DRAIN_BUDGET_MS));
		if (r < 0)
			return r;
		p = find_pending(q, id);
		if (!p->reply)
			return -EAGAIN;
	}
	return take_reply(q, p, ret);
}

QMP_EXPORT struct json_object *qmp_get_greeting(const struct qmp *q)
{
	return q->greeting;
}

QMP_EXPORT int qmp_get_version(const struct qmp *q, int *major, int *minor,
			       int *micro)
{
	struct json_object *o;

	if (!q->greeting)
		return -ENOTCONN;
	if (!json_object_object_get_ex(q->greeting, "QMP", &o) ||
	    !json_object_object_get_ex(o, "version", &o) ||
	    !json_object_object_get_ex(o, "qemu", &o) ||
	    !json_object_is_type(o, json_type_object))
		return -ENODATA;
	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "major") == 0 && major)
			*major = json_object_get_int(val);
		else if (strcmp(key, "minor") == 0 && minor)
			*minor = json_object_get_int(val);
		else if (strcmp(key, "micro") == 0 && micro)
			*micro = json_object_get_int(val);
	}
	return 0;
}

/* ---- events ------------------------------------------------------------ */

QMP_EXPORT size_t qmp_event_count(const struct qmp *q)
{
	return q->nevents;
}

/* Take the event at index I out of the queue, keeping the order. */
static struct json_object *take_event(struct qmp *q, size_t i)
{
	struct json_object *event = q->events[i];

	q->nevents--;
	memmove(&q->events[i], &q->events[i + 1],
		(q->nevents - i) * sizeof(*q->events));
	return event;
}

QMP_EXPORT struct json_object *qmp_event_pop(struct qmp *q)
{
	return q->nevents ? take_event(q, 0) : NULL;
}

QMP_EXPORT int qmp_pump(struct qmp *q, int timeout_ms)
{
	int r = qmp_usable(q);

	if (r < 0)
		return r;
	r = read_messages(q, qmp_deadline(timeout_ms));
	if (r < 0 && r != -ETIMEDOUT)
		return r;
	return q->nevents > INT32_MAX ? INT32_MAX : (int)q->nevents;
}

QMP_EXPORT int qmp_wait_event(struct qmp *q, const char *name, int timeout_ms,
			      struct json_object **event)
{
	int64_t deadline = qmp_deadline(timeout_ms);
	bool timed_out = false;
	size_t i = 0;
	int r;

	*event = NULL;
	/* Events already queued count even on a broken connection: they
	 * arrived before it broke. */
	for (;;) {
		for (; i < q->nevents; i++) {
			if (!name || strcmp(qmp_event_name(q->events[i]),
					    name) == 0) {
				*event = take_event(q, i);
				return 0;
			}
		}
		/* Other messages may keep coming: they do not extend the
		 * wait. */
		if (timed_out)
			return -ETIMEDOUT;
		r = qmp_usable(q);
		if (r < 0)
			return r;
		r = read_messages(q, deadline);
		if (r < 0 && r != -ETIMEDOUT)
			return r;
		timed_out = r == -ETIMEDOUT || deadline_passed(deadline);
	}
}

QMP_EXPORT const char *qmp_event_name(struct json_object *event)
{
	struct json_object *name;

	if (!json_object_object_get_ex(event, "event", &name))
		return NULL;
	return json_object_get_string(name);
}

QMP_EXPORT struct json_object *qmp_event_data(struct json_object *event)
{
	struct json_object *data;

	if (!json_object_object_get_ex(event, "data", &data))
		return NULL;
	return data;
}

QMP_EXPORT uint64_t qmp_event_timestamp_us(struct json_object *event)
{
	struct json_object *ts, *sec, *usec;
	uint64_t s, us;

	if (!json_object_object_get_ex(event, "timestamp", &ts) ||
	    !json_object_object_get_ex(ts, "seconds", &sec) ||
	    !json_object_object_get_ex(ts, "microseconds", &usec) ||
	    !qmp_json_get_u64(sec, &s) || !qmp_json_get_u64(usec, &us))
		return 0;
	return s * 1000000 + us;
}
