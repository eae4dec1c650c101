/* SPDX-License-Identifier: MIT */
/*
 * qmp-fake.h - fake QMP servers for libqmp's unit tests, each a thread on
 * the other end of a socketpair(): a script of steps (send these bytes,
 * expect exactly those, hang up) for the connection tests, and a
 * responder that answers every request through a callback, for tests of
 * the helpers built on commands. Include after tap.h.
 */
#ifndef VBALLOON_TESTS_QMP_FAKE_H
#define VBALLOON_TESTS_QMP_FAKE_H

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "qmp/qmp.h"
#include "tools/libqmp/parser.h"

/* Not every test uses every helper. */
#define QMP_FAKE_UNUSED __attribute__((unused))

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 1, \"minor\": 2, " \
		 "\"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define CAPS_CMD "{\"execute\":\"qmp_capabilities\",\"id\":1}\n"
#define CAPS_REPLY "{\"return\": {}, \"id\": 1}\r\n"

/* ---- the scripted server: a script of steps run by a thread ----------- */

enum step_kind { STEP_END, STEP_SEND, STEP_EXPECT, STEP_CLOSE };

struct step {
	enum step_kind kind;
	const char *text;
	size_t len;	/* of text; 0: strlen(text) */
	size_t chunk;	/* SEND: write this many bytes at a time, 1 ms apart */
};

#define SEND(t) { STEP_SEND, (t), 0, 0 }
#define SEND_SPLIT(t, n) { STEP_SEND, (t), 0, (n) }
#define EXPECT(t) { STEP_EXPECT, (t), 0, 0 }
#define CLOSE { STEP_CLOSE, NULL, 0, 0 }
#define END { STEP_END, NULL, 0, 0 }
/* The greeting and capabilities negotiation every session starts with. */
#define NEGOTIATE SEND(GREETING), EXPECT(CAPS_CMD), SEND(CAPS_REPLY)

struct fake {
	int fd;			/* server end; -1 once closed */
	int listen_fd;		/* accept on this first, unless -1 */
	const struct step *steps;
	pthread_t thread;
	char failure[512];	/* first mismatch, "" when none */
	size_t sent;		/* bytes the server managed to send */
};

QMP_FAKE_UNUSED static void fake_failf(struct fake *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fake_failf(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	if (f->failure[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->failure, sizeof(f->failure), fmt, ap);
	va_end(ap);
}

QMP_FAKE_UNUSED static bool fake_send(struct fake *f, const char *buf, size_t len,
		      size_t chunk)
{
	struct timespec ms = { 0, 1000000 };
	size_t n;
	ssize_t w;

	if (!chunk)
		chunk = len;
	while (len > 0) {
		n = len < chunk ? len : chunk;
		w = send(f->fd, buf, n, MSG_NOSIGNAL);
		if (w < 0)
			return false;	/* the client hung up: fine */
		f->sent += (size_t)w;
		buf += w;
		len -= (size_t)w;
		if (len && chunk < 4096)
			nanosleep(&ms, NULL);
	}
	return true;
}

/* Read exactly LEN bytes (5 s at most) and compare them with WANT. */
QMP_FAKE_UNUSED static bool fake_expect(struct fake *f, int i, const char *want, size_t len)
{
	char *got = calloc(1, len + 1);
	struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
	size_t have = 0;
	ssize_t n;
	bool same;

	while (have < len) {
		if (poll(&pfd, 1, 5000) <= 0)
			break;
		n = recv(f->fd, got + have, len - have, 0);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	same = have == len && memcmp(got, want, len) == 0;
	if (!same)
		fake_failf(f, "step %d: client sent \"%.*s\", want \"%s\"", i,
			   (int)have, got, want);
	free(got);
	return same;
}

QMP_FAKE_UNUSED static void *fake_run(void *arg)
{
	struct fake *f = arg;
	const struct step *s;
	int i;

	if (f->listen_fd >= 0) {
		f->fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (f->fd < 0) {
			fake_failf(f, "accept: %s", strerror(errno));
			return NULL;
		}
	}
	for (i = 0, s = f->steps; s->kind != STEP_END; i++, s++) {
		size_t len = s->len ? s->len : s->text ? strlen(s->text) : 0;

		if (s->kind == STEP_SEND && !fake_send(f, s->text, len, s->chunk))
			break;
		if (s->kind == STEP_EXPECT && !fake_expect(f, i, s->text, len))
			break;
		if (s->kind == STEP_CLOSE) {
			close(f->fd);
			f->fd = -1;
		}
	}
	return NULL;
}

/* Start a fake server running STEPS; returns the client's end. */
QMP_FAKE_UNUSED static int fake_start(struct fake *f, const struct step *steps)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->steps = steps;
	f->listen_fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		exit(1);
	}
	f->fd = sv[1];
	pthread_create(&f->thread, NULL, fake_run, f);
	return sv[0];
}

/* Wait for the script to end and check it saw what it expected. */
QMP_FAKE_UNUSED static void fake_finish(struct fake *f, const char *what)
{
	pthread_join(f->thread, NULL);
	if (!ok(f->failure[0] == '\0', "%s: server saw the expected bytes",
		what))
		tap_diag("%s", f->failure);
	if (f->fd >= 0)
		close(f->fd);
}

QMP_FAKE_UNUSED static struct qmp *client(int fd, int timeout_ms)
{
	struct qmp *q = qmp_new();

	qmp_set_timeout(q, timeout_ms);
	is_int(qmp_connect_fd(q, fd), 0, "connected");
	return q;
}

QMP_FAKE_UNUSED static const char *plain(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ---- the responder: answers every request through a callback ---------- */

/* RESPOND returns the "return" value as JSON text, or "ERROR Class" for
 * an error reply; malloc()ed, freed by the server. */
typedef char *(*qmp_fake_respond_fn)(void *ctx, struct json_object *req);

struct responder_server {
	int fd;
	qmp_fake_respond_fn respond;
	void *ctx;
	pthread_t thread;
};

/* Answer every request through respond() until the client hangs up. */
QMP_FAKE_UNUSED static void *responder_run(void *arg)
{
	struct responder_server *s = arg;
	struct qmp_parser *p = qmp_parser_new();
	struct json_object *req, *id;
	char buf[4096], *answer, line[8192];
	size_t used, off;
	ssize_t n;
	int r;

	if (send(s->fd, GREETING, strlen(GREETING), MSG_NOSIGNAL) < 0)
		goto out;
	while ((n = recv(s->fd, buf, sizeof(buf), 0)) > 0) {
		for (off = 0; off < (size_t)n; off += used) {
			r = qmp_parser_parse(p, buf + off, (size_t)n - off, &used,
					     &req);
			if (r <= 0)
				break;
			answer = s->respond(s->ctx, req);
			json_object_object_get_ex(req, "id", &id);
			if (!strncmp(answer, "ERROR ", 6))
				snprintf(line, sizeof(line),
					 "{\"error\": {\"class\": \"%s\", \"desc\": "
					 "\"fake\"}, \"id\": %s}\r\n", answer + 6,
					 plain(id));
			else
				snprintf(line, sizeof(line),
					 "{\"return\": %s, \"id\": %s}\r\n",
					 answer, plain(id));
			free(answer);
			json_object_put(req);
			if (send(s->fd, line, strlen(line), MSG_NOSIGNAL) < 0)
				goto out;
		}
	}
out:
	qmp_parser_free(p);
	return NULL;
}

QMP_FAKE_UNUSED static struct qmp *responder_start(struct responder_server *s,
						   qmp_fake_respond_fn respond, void *ctx)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	s->fd = sv[1];
	s->respond = respond;
	s->ctx = ctx;
	pthread_create(&s->thread, NULL, responder_run, s);
	return client(sv[0], 5000);
}

QMP_FAKE_UNUSED static void responder_stop(struct responder_server *s, struct qmp *q)
{
	qmp_unref(q);
	pthread_join(s->thread, NULL);
	close(s->fd);
}

#endif
