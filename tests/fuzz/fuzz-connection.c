/* SPDX-License-Identifier: MIT */
/*
 * fuzz-connection.c - libFuzzer harness for a whole libqmp connection
 * against a scripted peer on the other end of a socketpair(). The input
 * is the peer's script: segments separated by the byte 0x01. The first
 * is sent on connect (the greeting); each next one answers the client's
 * next request, with every "@ID" replaced by that request's id, so
 * replies follow the requests; when no request comes within a moment the
 * next segment goes out anyway (events, floods, junk between replies).
 * When the script ends the peer hangs up. The client connects and runs
 * every balloon, QOM and event helper, whatever broke before.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#define SEPARATOR	0x01
#define UNASKED_MS	2	/* send the next segment unasked after this */
#define CLIENT_TIMEOUT_MS 30

struct peer {
	int fd;
	const uint8_t *script;
	size_t len;
};

/* The id of the last request in BUF (LEN bytes), as its digits. */
static void last_id(const char *buf, size_t len, char *id, size_t idlen)
{
	const char *p = NULL, *q;
	size_t i, n = 0;

	for (i = 0; i + 5 <= len; i++)
		if (memcmp(buf + i, "\"id\":", 5) == 0)
			p = buf + i + 5;
	if (p)
		for (q = p; q < buf + len && *q >= '0' && *q <= '9' && n + 1 < idlen; q++)
			id[n++] = *q;
	id[n] = '\0';
}

/* Writes SEG (LEN bytes) with "@ID" replaced by ID; false once the
 * client is gone. */
static int send_segment(int fd, const uint8_t *seg, size_t len, const char *id)
{
	size_t i, start = 0;

	for (i = 0; i + 3 <= len; i++) {
		if (memcmp(seg + i, "@ID", 3) != 0)
			continue;
		if (send(fd, seg + start, i - start, MSG_NOSIGNAL) < 0 ||
		    send(fd, id, strlen(id), MSG_NOSIGNAL) < 0)
			return 0;
		start = i + 3;
		i += 2;
	}
	return send(fd, seg + start, len - start, MSG_NOSIGNAL) >= 0;
}

static void *run_peer(void *arg)
{
	struct peer *peer = arg;
	const uint8_t *seg = peer->script, *end = peer->script + peer->len, *sep;
	struct pollfd pfd = { .fd = peer->fd, .events = POLLIN };
	char buf[4096], id[24] = "0";
	bool first = true;
	ssize_t n;

	while (seg <= end) {
		if (!first) {
			/* Wait for a request, or not for long. */
			if (poll(&pfd, 1, UNASKED_MS) > 0) {
				n = recv(peer->fd, buf, sizeof(buf), 0);
				if (n <= 0)
					break;
				last_id(buf, (size_t)n, id, sizeof(id));
			}
		}
		first = false;
		sep = memchr(seg, SEPARATOR, (size_t)(end - seg));
		if (!sep)
			sep = end;
		if (!send_segment(peer->fd, seg, (size_t)(sep - seg), id))
			break;
		seg = sep + 1;
	}
	shutdown(peer->fd, SHUT_WR);
	/* Drain until the client hangs up, so its sends never block. */
	while (recv(peer->fd, buf, sizeof(buf), 0) > 0)
		;
	close(peer->fd);
	return NULL;
}

static void read_events(struct qmp *q)
{
	struct json_object *ev;

	if (qmp_wait_event(q, NULL, 0, &ev) == 0) {
		qmp_event_name(ev);
		qmp_event_data(ev);
		qmp_event_timestamp_us(ev);
		json_object_put(ev);
	}
	while ((ev = qmp_event_pop(q))) {
		qmp_event_name(ev);
		qmp_event_data(ev);
		qmp_event_timestamp_us(ev);
		json_object_put(ev);
	}
}

static void run_client(int fd)
{
	struct qmp *q = qmp_new();
	struct qmp_balloon_stats *st = NULL;
	struct json_object *ret;
	int64_t seconds;
	uint64_t value;
	char *path = NULL;
	int a, b, c;

	if (!q) {
		close(fd);
		return;
	}
	qmp_set_timeout(q, CLIENT_TIMEOUT_MS);
	if (qmp_connect_fd(q, fd) == 0) {
		qmp_get_version(q, &a, &b, &c);
		qmp_get_greeting(q);
	}
	qmp_balloon_query(q, &value);
	qmp_get_error_class(q);
	qmp_get_error_desc(q);
	qmp_memory_base_size(q, &value);
	if (qmp_balloon_find(q, &path) == 0) {
		qmp_balloon_get_polling(q, path, &seconds);
		if (qmp_balloon_get_stats(q, path, &st) == 0) {
			for (a = 0; a < QMP_STAT_COUNT; a++)
				qmp_balloon_stats_get(st, a, &value);
			qmp_balloon_stats_last_update(st);
			qmp_balloon_stats_free(st);
		}
		qmp_balloon_set_polling(q, path, 2);
		if (qmp_qom_list(q, path, &ret) == 0)
			json_object_put(ret);
		free(path);
	}
	qmp_balloon_set_target(q, 1 << 30);
	if (qmp_execute(q, "query-status", NULL, &ret) == 0)
		json_object_put(ret);
	qmp_get_error_desc(q);
	read_events(q);
	qmp_pump(q, 0);
	read_events(q);
	qmp_unref(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peer peer = { .script = data, .len = size };
	pthread_t thread;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	peer.fd = sv[1];
	if (pthread_create(&thread, NULL, run_peer, &peer)) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	run_client(sv[0]);
	pthread_join(thread, NULL);
	return 0;
}
