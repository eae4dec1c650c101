/* SPDX-License-Identifier: MIT */
/*
 * test-connection.c - libqmp against a fake QMP server on the other end of
 * a socketpair(): the exact bytes sent, replies split and interleaved
 * with events, errors that clear and errors that stick, limits, addresses,
 * and libvirt's test driver. The fake server is qmp-fake.h's; the balloon
 * helpers are tested in test-qmp-balloon.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tap.h"
#include "qmp-fake.h"
#include "qmp/qmp.h"
#include "tools/libqmp/parser.h"
#include "tools/libqmp/libqmp-private.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Pop an event and check its name; false when it is not NAME. */
static void pop_is(struct qmp *q, const char *name, const char *what)
{
	struct json_object *ev = qmp_event_pop(q);

	is_str(ev ? qmp_event_name(ev) : NULL, name, "%s", what);
	json_object_put(ev);
}

/* ---- tests ------------------------------------------------------------- */

static void test_negotiate_and_execute(void)
{
	static const struct step steps[] = {
		SEND_SPLIT(GREETING, 7),
		SEND("{\"event\": \"A\", \"data\": {}}\r\n"),
		EXPECT(CAPS_CMD),
		SEND("{\"event\": \"B\"}\r\n"),
		SEND(CAPS_REPLY),
		EXPECT("{\"execute\":\"query-balloon\",\"id\":2}\n"),
		SEND_SPLIT("{\"event\": \"C\"}\r\n{\"return\": {\"actual\": "
			   "1073741824}, \"id\": 2}\r\n", 3),
		EXPECT("{\"execute\":\"balloon\",\"arguments\":{\"value\":"
		       "536870912},\"id\":3}\n"),
		SEND("{\"return\": {}, \"id\": 3}\r\n"),
		EXPECT("{\"execute\":\"qom-get\",\"arguments\":{\"path\":"
		       "\"/machine/peripheral/b\",\"property\":\"x\"},\"id\":4}\n"),
		SEND("{\"return\": 18446744073709551615, \"id\": 4}\r\n"),
		END,
	};
	struct json_object *v = NULL;
	struct fake f;
	struct qmp *q;
	int major = 0, minor = 0, micro = 0;
	uint64_t actual = 0;

	q = client(fake_start(&f, steps), 5000);
	ok(qmp_get_greeting(q) != NULL, "greeting kept");
	is_int(qmp_get_version(q, &major, &minor, &micro), 0, "version read");
	ok(major == 7 && minor == 2 && micro == 1, "version 7.2.1 (got %d.%d.%d)",
	   major, minor, micro);
	ok(qmp_get_fd(q) >= 0, "fd exposed for poll()");
	is_int(qmp_event_count(q), 2, "events during negotiation queued");

	is_int(qmp_balloon_query(q, &actual), 0, "query-balloon");
	is_u64(actual, 1073741824, "actual from a reply split in 3-byte pieces");
	is_int(qmp_event_count(q), 3, "event before the reply queued");
	is_int(qmp_balloon_set_target(q, 512 << 20), 0, "balloon value=512M");
	is_int(qmp_qom_get(q, "/machine/peripheral/b", "x", &v), 0, "qom-get");
	is_u64(json_object_get_uint64(v), UINT64_MAX, "2^64-1 returned whole");
	json_object_put(v);

	pop_is(q, "A", "first event: A");
	pop_is(q, "B", "second event: B");
	pop_is(q, "C", "third event: C");
	ok(qmp_event_pop(q) == NULL, "queue empty");
	ok(!qmp_is_broken(q), "not broken");
	qmp_unref(q);
	fake_finish(&f, "negotiate and execute");
}

static void test_error_reply(void)
{
	static const struct step steps[] = {
		NEGOTIATE,
		EXPECT("{\"execute\":\"query-balloon\",\"id\":2}\n"),
		SEND("{\"id\": 2, \"error\": {\"class\": \"DeviceNotActive\", "
		     "\"desc\": \"No balloon device has been activated\"}}\r\n"),
		EXPECT("{\"execute\":\"query-balloon\",\"id\":3}\n"),
		SEND("{\"return\": {\"actual\": 5}, \"id\": 3}\r\n"),
		EXPECT("{\"execute\":\"stop\",\"id\":4}\n"),
		SEND("{\"id\": 4, \"error\": {\"class\": \"GenericError\", "
		     "\"desc\": \"x\"}}\r\n"),
		EXPECT("{\"execute\":\"cont\",\"id\":5}\n"),
		SEND("{\"return\": {}, \"id\": 5}\r\n"),
		END,
	};
	struct fake f;
	struct qmp *q;
	uint64_t actual = 0;

	q = client(fake_start(&f, steps), 5000);
	is_int(qmp_balloon_query(q, &actual), -EREMOTEIO,
	       "QMP error reply: -EREMOTEIO");
	is_str(qmp_get_error_class(q), "DeviceNotActive", "error class kept");
	is_str(qmp_get_error_desc(q), "No balloon device has been activated",
	       "error description kept");
	ok(!qmp_is_broken(q), "a QMP error does not break the connection");
	is_int(qmp_get_error(q), 0, "no error code while not broken");
	ok(qmp_clear_error(q), "qmp_clear_error: true (connection fine)");
	ok(qmp_get_error_class(q) == NULL && qmp_get_error_desc(q) == NULL,
	   "error cleared");
	is_int(qmp_balloon_query(q, &actual), 0, "next command works");
	is_u64(actual, 5, "and gets its own reply");
	is_int(qmp_execute(q, "stop", NULL, NULL), -EREMOTEIO, "another error");
	is_int(qmp_execute(q, "cont", NULL, NULL), 0,
	       "the next command succeeds");
	ok(qmp_get_error_class(q) == NULL,
	   "and clears the previous error without qmp_clear_error");
	qmp_unref(q);
	fake_finish(&f, "error reply");
}

static void test_eof_mid_reply(void)
{
	static const struct step steps[] = {
		NEGOTIATE,
		EXPECT("{\"execute\":\"query-balloon\",\"id\":2}\n"),
		SEND("{\"event\": \"SHUTDOWN\"}{\"return\": {\"act"),
		CLOSE, END,
	};
	struct json_object *ev;
	struct fake f;
	struct qmp *q;
	uint64_t actual;

	q = client(fake_start(&f, steps), 5000);
	is_int(qmp_balloon_query(q, &actual), -ECONNRESET,
	       "EOF in the middle of a reply: -ECONNRESET");
	is_str(qmp_get_error_desc(q), "connection closed by QEMU",
	       "described as closed by QEMU");
	ok(qmp_is_broken(q), "connection broken");
	is_int(qmp_balloon_query(q, &actual), -ECONNRESET, "sticks: query");
	is_int(qmp_execute(q, "cont", NULL, NULL), -ECONNRESET,
	       "sticks: execute");
	is_int(qmp_pump(q, 0), -ECONNRESET, "sticks: pump");
	ok(!qmp_clear_error(q), "qmp_clear_error: false on a broken connection");
	is_int(qmp_wait_event(q, "SHUTDOWN", 0, &ev), 0,
	       "an event that came before EOF can still be read");
	json_object_put(ev);
	is_int(qmp_wait_event(q, "SHUTDOWN", 0, &ev), -ECONNRESET,
	       "sticks: wait_event once the queue is empty");
	qmp_unref(q);
	fake_finish(&f, "EOF mid-reply");
}

static void test_hangup_before_send(void)
{
	static const struct step steps[] = {
		NEGOTIATE, CLOSE, END,
	};
	struct fake f;
	struct qmp *q;

	q = client(fake_start(&f, steps), 5000);
	fake_finish(&f, "hangup");	/* the server end is closed now */
	is_int(qmp_execute(q, "cont", NULL, NULL), -ECONNRESET,
	       "sending to a closed socket: -ECONNRESET, no SIGPIPE");
	ok(qmp_is_broken(q), "connection broken");
	qmp_unref(q);
}

static void test_timeout(void)
{
	static const struct step steps[] = {
		NEGOTIATE,
		EXPECT("{\"execute\":\"query-balloon\",\"id\":2}\n"),
		END,	/* then silence */
	};
	struct fake f;
	struct qmp *q;
	uint64_t actual;
	int64_t t0, ms;

	q = client(fake_start(&f, steps), 5000);
	qmp_set_timeout(q, 300);
	is_int(qmp_get_timeout(q), 300, "timeout set");
	t0 = now_ms();
	is_int(qmp_balloon_query(q, &actual), -ETIMEDOUT,
	       "silent server: -ETIMEDOUT");
	ms = now_ms() - t0;
	ok(ms >= 300 && ms < 3000, "after the 300 ms timeout (%lld ms)",
	   (long long)ms);
	ok(qmp_is_broken(q), "a timed-out command breaks the connection");
	is_int(qmp_get_error(q), -ETIMEDOUT, "the error that broke it");
	ok(strstr(qmp_get_error_desc(q), "query-balloon") != NULL,
	   "description names the command: %s", qmp_get_error_desc(q));
	t0 = now_ms();
	is_int(qmp_execute(q, "cont", NULL, NULL), -ETIMEDOUT,
	       "sticks: next command fails at once");
	ok(now_ms() - t0 < 100, "without waiting again");
	qmp_unref(q);
	fake_finish(&f, "timeout");
}

static void test_wait_event(void)
{
	static const struct step steps[] = {
		SEND(GREETING), EXPECT(CAPS_CMD),
		SEND(CAPS_REPLY "{\"event\": \"A\", \"data\": {\"n\": 1}}\r\n"
		     "{\"event\": \"B\"}\r\n"),
		SEND_SPLIT("{\"event\": \"C\"}\r\n", 5),
		SEND("{\"event\": \"D\", \"data\": {\"actual\": 5}, \"timestamp\": "
		     "{\"seconds\": 1700000000, \"microseconds\": 250}}\r\n"),
		END,
	};
	struct json_object *ev = NULL, *data;
	struct fake f;
	struct qmp *q;
	int64_t t0;

	q = client(fake_start(&f, steps), 5000);
	is_int(qmp_wait_event(q, "D", 5000, &ev), 0, "wait for D");
	is_str(qmp_event_name(ev), "D", "got D");
	data = qmp_event_data(ev);
	is_str(data ? plain(data) : NULL, "{\"actual\":5}", "D's data");
	is_u64(qmp_event_timestamp_us(ev), 1700000000000250ull,
	       "D's timestamp in microseconds");
	json_object_put(ev);
	is_int(qmp_event_count(q), 3, "A, B, C still queued");

	t0 = now_ms();
	is_int(qmp_wait_event(q, "Z", 100, &ev), -ETIMEDOUT,
	       "no Z within 100 ms: -ETIMEDOUT");
	ok(now_ms() - t0 >= 100, "waited the 100 ms");
	ok(ev == NULL, "no event returned");
	ok(!qmp_is_broken(q), "waiting for an event does not break");
	is_int(qmp_wait_event(q, "B", 0, &ev), 0, "B from the queue");
	is_str(qmp_event_name(ev), "B", "got B");
	ok(qmp_event_data(ev) == NULL && qmp_event_timestamp_us(ev) == 0,
	   "B has no data and no timestamp");
	json_object_put(ev);
	is_int(qmp_wait_event(q, NULL, 0, &ev), 0, "any event: the oldest");
	is_str(qmp_event_name(ev), "A", "got A");
	json_object_put(ev);
	pop_is(q, "C", "then C");
	is_int(qmp_pump(q, 0), 0, "pump with nothing new: 0 queued");
	qmp_unref(q);
	fake_finish(&f, "wait_event");
}

struct log_record {
	int sends, recvs;
	bool dropped_note;
	char first_send[128];
};

static void log_collect(void *userdata, enum qmp_log_kind kind,
			const char *text)
{
	struct log_record *log = userdata;

	if (kind == QMP_LOG_SEND && log->sends++ == 0)
		snprintf(log->first_send, sizeof(log->first_send), "%s", text);
	if (kind == QMP_LOG_RECV)
		log->recvs++;
	if (kind == QMP_LOG_DEBUG && strstr(text, "dropping a reply"))
		log->dropped_note = true;
}

static void test_pipelined(void)
{
	static const struct step steps[] = {
		NEGOTIATE,
		EXPECT("{\"execute\":\"a\",\"id\":2}\n"
		       "{\"execute\":\"b\",\"arguments\":{\"k\":\"/v\"},\"id\":3}\n"
		       "{\"execute\":\"c\",\"id\":4}\n"
		       "{\"execute\":\"d\",\"id\":100}\n"),
		SEND("{\"return\": 9, \"id\": 999}\r\n"
		     "{\"return\": \"b\", \"id\": 3}\r\n"
		     "{\"return\": \"d\", \"id\": 100}\r\n"
		     "{\"return\": \"a\", \"id\": 2}\r\n"
		     "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"c\"}, "
		     "\"id\": 4}\r\n"),
		EXPECT("{\"execute\":\"e\",\"id\":101}\n"),
		SEND("{\"return\": {}, \"id\": 101}\r\n"),
		END,
	};
	struct json_object *args, *msg, *v;
	struct log_record log = { 0 };
	struct fake f;
	struct qmp *q;
	uint64_t a = 0, b = 0, c = 0, d = 0, dummy;

	q = qmp_new();
	qmp_set_log_fn(q, log_collect, &log);
	is_int(qmp_connect_fd(q, fake_start(&f, steps)), 0, "connected");
	is_int(qmp_send(q, "a", NULL, &a), 0, "send a");
	args = json_tokener_parse("{\"k\": \"/v\"}");
	is_int(qmp_send(q, "b", args, &b), 0, "send b with arguments");
	json_object_put(args);
	msg = json_tokener_parse("{\"execute\": \"c\"}");
	is_int(qmp_send_message(q, msg, &c), 0, "send raw c without id");
	ok(!json_object_object_get_ex(msg, "id", NULL),
	   "the caller's message is left alone");
	json_object_put(msg);
	msg = json_tokener_parse("{\"execute\": \"d\", \"id\": 100}");
	is_int(qmp_send_message(q, msg, &d), 0, "send raw d with id 100");
	json_object_put(msg);
	msg = json_tokener_parse("{\"execute\": \"x\", \"id\": \"s\"}");
	is_int(qmp_send_message(q, msg, &dummy), -EINVAL,
	       "a string id is refused (nothing sent)");
	json_object_put(msg);
	ok(a == 2 && b == 3 && c == 4 && d == 100, "ids 2, 3, 4, 100");

	is_int(qmp_recv(q, a, &v), 0, "recv a (replies came b, d, a, c)");
	is_str(json_object_get_string(v), "a", "a's reply");
	json_object_put(v);
	is_int(qmp_recv(q, b, &v), 0, "recv b");
	is_str(json_object_get_string(v), "b", "b's reply");
	json_object_put(v);
	is_int(qmp_recv(q, d, NULL), 0, "recv d, value ignored");
	is_int(qmp_recv(q, c, &v), -EREMOTEIO, "recv c: its error");
	ok(v == NULL, "no value on error");
	is_str(qmp_get_error_class(q), "CommandNotFound", "c's error class");
	is_int(qmp_recv(q, c, NULL), -EINVAL, "c again: not pending, -EINVAL");
	is_int(qmp_recv(q, 999, NULL), -EINVAL, "id never sent: -EINVAL");
	is_int(qmp_execute(q, "e", NULL, NULL), 0,
	       "next id follows the caller's 100");
	ok(log.dropped_note, "the reply to unknown id 999 dropped, with a note");
	is_str(log.first_send, "{\"execute\":\"qmp_capabilities\",\"id\":1}",
	       "log callback sees what is sent");
	is_int(log.sends, 6, "6 messages logged as sent");
	ok(log.recvs >= 8, "every message logged as received (%d)", log.recvs);
	qmp_unref(q);
	fake_finish(&f, "pipelined");
}

/* Run a negotiation and a failing command with stderr captured; returns
 * what the library wrote there (malloc()ed). */
static char *stderr_of_session(const char *qmp_log, bool with_callback)
{
	static const struct step steps[] = {
		NEGOTIATE,
		EXPECT("{\"execute\":\"cont\",\"id\":2}\n"), CLOSE, END,
	};
	struct log_record log = { 0 };
	FILE *capture = tmpfile();
	char *text = calloc(1, 4096);
	struct fake f;
	struct qmp *q;
	int saved;

	fflush(stderr);
	saved = dup(2);
	dup2(fileno(capture), 2);
	if (qmp_log)
		setenv("QMP_LOG", qmp_log, 1);
	else
		unsetenv("QMP_LOG");
	q = qmp_new();
	if (with_callback)
		qmp_set_log_fn(q, log_collect, &log);
	qmp_connect_fd(q, fake_start(&f, steps));
	qmp_execute(q, "cont", NULL, NULL);
	qmp_unref(q);
	unsetenv("QMP_LOG");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fake_finish(&f, "logging session");
	rewind(capture);
	if (fread(text, 1, 4095, capture) == 0)
		text[0] = '\0';
	fclose(capture);
	return text;
}

static void test_log_env(void)
{
	char *text;

	text = stderr_of_session(NULL, false);
	is_str(text, "", "silent by default, even when the connection breaks");
	free(text);
	text = stderr_of_session("debug", false);
	ok(strstr(text, "qmp: << {\"QMP\":{") != NULL, "QMP_LOG=debug: greeting");
	ok(strstr(text, "qmp: >> {\"execute\":\"qmp_capabilities\",\"id\":1}\n"),
	   "QMP_LOG=debug: what is sent");
	ok(strstr(text, "qmp: connection broken: connection closed by QEMU\n"),
	   "QMP_LOG=debug: library notes");
	free(text);
	text = stderr_of_session("debug", true);
	is_str(text, "", "with a log callback, nothing on stderr");
	free(text);
}

static void check_not_qmp(const char *what, const struct step *steps,
			  int want, const char *desc_prefix)
{
	struct fake f;
	struct qmp *q = qmp_new();
	const char *desc;

	qmp_set_timeout(q, 300);
	is_int(qmp_connect_fd(q, fake_start(&f, steps)), want,
	       "%s: connect fails", what);
	desc = qmp_get_error_desc(q);
	ok(desc && strncmp(desc, desc_prefix, strlen(desc_prefix)) == 0,
	   "%s: \"%s\"", what, desc ? desc : "(none)");
	is_int(qmp_execute(q, "cont", NULL, NULL), want, "%s: sticks", what);
	qmp_unref(q);
	fake_finish(&f, what);
}

static void test_not_qmp(void)
{
	static const struct step hmp[] = {
		SEND("QEMU 7.2.0 monitor - type 'help' for more information\r\n"
		     "(qemu) "), END,
	};
	static const struct step no_greeting[] = {
		SEND("{\"return\": {}}\r\n"), END,
	};
	static const struct step silent[] = { END };
	static const struct step hangup[] = { CLOSE, END };
	static const struct step refused[] = {
		SEND(GREETING), EXPECT(CAPS_CMD),
		SEND("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
		     "\"Capabilities negotiation is already complete\"}, "
		     "\"id\": 1}\r\n"),
		END,
	};

	check_not_qmp("HMP monitor", hmp, -EPROTO, "not a QMP server");
	check_not_qmp("JSON without greeting", no_greeting, -EPROTO,
		      "not a QMP server");
	check_not_qmp("silent server", silent, -ETIMEDOUT, "no QMP greeting");
	check_not_qmp("server hangs up", hangup, -ECONNRESET,
		      "connection closed by QEMU");
	check_not_qmp("capabilities refused", refused, -EPROTO,
		      "qmp_capabilities failed");
}

static void test_message_too_big(void)
{
	static const char head[] = "{\"event\": \"X\", \"data\": \"";
	size_t total = 2 * (size_t)QMP_MAX_MESSAGE_BYTES;
	char *huge = malloc(total);
	struct step steps[] = {
		NEGOTIATE,
		EXPECT("{\"execute\":\"query-status\",\"id\":2}\n"),
		{ STEP_SEND, huge, total, 64 * 1024 },
		END,
	};
	struct fake f;
	struct qmp *q;

	memcpy(huge, head, sizeof(head) - 1);
	memset(huge + sizeof(head) - 1, 'a', total - (sizeof(head) - 1));
	q = client(fake_start(&f, steps), 20000);
	is_int(qmp_execute(q, "query-status", NULL, NULL), -EMSGSIZE,
	       "a message over %u bytes: -EMSGSIZE", QMP_MAX_MESSAGE_BYTES);
	ok(qmp_is_broken(q), "connection broken");
	ok(qmp_get_error_desc(q) && strstr(qmp_get_error_desc(q), "larger than"),
	   "described: %s", qmp_get_error_desc(q));
	qmp_unref(q);	/* the server's writes now fail */
	fake_finish(&f, "message too big");
	ok(f.sent < total, "client gave up before reading all %zu bytes", total);
	free(huge);
}

static void test_event_flood(void)
{
	static const char event[] = "{\"event\": \"E\"}\r\n";
	size_t n = QMP_MAX_QUEUED_EVENTS + 1, len = n * (sizeof(event) - 1), i;
	char *flood = malloc(len);
	struct step steps[] = {
		NEGOTIATE,
		EXPECT("{\"execute\":\"query-status\",\"id\":2}\n"),
		{ STEP_SEND, flood, len, 64 * 1024 },
		END,
	};
	struct fake f;
	struct qmp *q;

	for (i = 0; i < n; i++)
		memcpy(flood + i * (sizeof(event) - 1), event, sizeof(event) - 1);
	q = client(fake_start(&f, steps), 10000);
	is_int(qmp_execute(q, "query-status", NULL, NULL), -ENOBUFS,
	       "%d events instead of a reply: -ENOBUFS",
	       QMP_MAX_QUEUED_EVENTS + 1);
	is_int(qmp_event_count(q), QMP_MAX_QUEUED_EVENTS,
	       "the queued events stay readable");
	is_int(qmp_pump(q, 0), -ENOBUFS, "sticks");
	qmp_unref(q);
	fake_finish(&f, "event flood");
	free(flood);
}

static void test_refcount(void)
{
	struct qmp *q = qmp_new();

	ok(qmp_ref(q) == q, "qmp_ref returns its argument");
	ok(qmp_unref(q) == NULL, "qmp_unref returns NULL");
	is_int(qmp_get_fd(q), -1, "still alive after one unref; no fd yet");
	ok(qmp_get_greeting(q) == NULL, "no greeting before connect");
	is_int(qmp_execute(q, "x", NULL, NULL), -ENOTCONN,
	       "command before connect: -ENOTCONN");
	ok(!qmp_is_broken(q), "which does not break it");
	qmp_unref(q);
	ok(qmp_unref(NULL) == NULL, "qmp_unref(NULL) is harmless");
}

/* ---- addresses --------------------------------------------------------- */

static const struct step serve_one[] = {
	NEGOTIATE, END,
};

/* qmp_connect(ADDR) to a fake server accepting on LISTEN_FD. */
static void check_connect_ok(const char *addr, int listen_fd)
{
	struct fake f;
	struct qmp *q = qmp_new();

	memset(&f, 0, sizeof(f));
	f.steps = serve_one;
	f.listen_fd = listen_fd;
	f.fd = -1;
	pthread_create(&f.thread, NULL, fake_run, &f);
	qmp_set_timeout(q, 5000);
	if (!ok(qmp_connect(q, addr) == 0, "connect %s", addr))
		tap_diag("%s", qmp_get_error_desc(q));
	if (qmp_get_fd(q) >= 0)
		ok(fcntl(qmp_get_fd(q), F_GETFD) & FD_CLOEXEC,
		   "%s: close-on-exec", addr);
	qmp_unref(q);
	fake_finish(&f, addr);
}

static void check_connect_fails(const char *addr, int want)
{
	struct qmp *q = qmp_new();

	qmp_set_timeout(q, 2000);
	is_int(qmp_connect(q, addr), want, "connect \"%.40s\" fails: %s", addr,
	       strerror(-want));
	ok(qmp_get_error_desc(q) != NULL, "  described: %.80s",
	   qmp_get_error_desc(q) ? qmp_get_error_desc(q) : "(none)");
	is_int(qmp_connect(q, addr), want, "  and the failure sticks");
	qmp_unref(q);
}

static int listen_tcp(int family, const char *ip, char *addr, size_t len)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = sizeof(ss);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port;

	if (fd < 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		sl = sizeof(*in6);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		close(fd);
		return -1;
	}
	port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
			: ((struct sockaddr_in6 *)&ss)->sin6_port);
	snprintf(addr, len, family == AF_INET ? "tcp:%s:%d" : "tcp:[%s]:%d",
		 ip, port);
	return fd;
}

static void test_addresses(void)
{
	char dir[] = "/tmp/test-connection-XXXXXX", path[100], addr[160];
	char longpath[200];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, fd6;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/qmp-sock", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 4) < 0) {
		ok(0, "listen on %s: %s", path, strerror(errno));
		return;
	}
	snprintf(addr, sizeof(addr), "unix:%s", path);
	check_connect_ok(addr, fd);
	check_connect_ok(path, fd);
	close(fd);
	unlink(path);
	check_connect_fails(path, -ENOENT);

	fd = listen_tcp(AF_INET, "127.0.0.1", addr, sizeof(addr));
	if (ok(fd >= 0, "listening on %s", addr)) {
		check_connect_ok(addr, fd);
		close(fd);
		/* Nobody listens there any more. */
		check_connect_fails(addr, -ECONNREFUSED);
	}
	fd6 = listen_tcp(AF_INET6, "::1", addr, sizeof(addr));
	if (fd6 >= 0) {
		check_connect_ok(addr, fd6);
		close(fd6);
	} else {
		tap_diag("no IPv6 loopback here: tcp:[::1]:PORT not tried");
	}

	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	check_connect_fails("unix:", -EINVAL);
	check_connect_fails("", -EINVAL);
	check_connect_fails(longpath, -EINVAL);
	check_connect_fails("tcp:localhost", -EINVAL);
	check_connect_fails("tcp:localhost:", -EINVAL);
	check_connect_fails("tcp::4444", -EINVAL);
	check_connect_fails("tcp:[::1]4444", -EINVAL);
	check_connect_fails("tcp:127.0.0.1:99999", -EINVAL);
	check_connect_fails("tcp:127.0.0.1:44x", -EINVAL);
	rmdir(dir);
}

/* ---- without waiting: one poll() loop's view --------------------------- */

/* Poll Q's fd for what it asks, up to MS milliseconds. */
static void poll_for(struct qmp *q, int ms)
{
	struct pollfd pfd = { .fd = qmp_get_fd(q),
			      .events = qmp_get_poll_events(q) };

	poll(&pfd, 1, ms);
}

static void test_nonblocking(void)
{
	static const struct step steps[] = {
		SEND_SPLIT(GREETING, 16), EXPECT(CAPS_CMD), SEND(CAPS_REPLY),
		/* Two commands in, then both answers and an event: so the
		 * first one is surely unanswered when the client looks. */
		EXPECT("{\"execute\":\"query-balloon\",\"id\":2}\n"),
		EXPECT("{\"execute\":\"query-status\",\"id\":3}\n"),
		SEND("{\"event\": \"BALLOON_CHANGE\", \"data\": {\"actual\": 5}}\r\n"
		     "{\"return\": {\"status\": \"running\"}, \"id\": 3}\r\n"
		     "{\"error\": {\"class\": \"DeviceNotActive\", \"desc\": \"no\"}, \"id\": 2}\r\n"),
		END,
	};
	struct json_object *ret = NULL, *ev;
	int64_t deadline = now_ms() + 5000;
	uint64_t id1, id2;
	char addr[64];
	struct fake f;
	struct qmp *q = qmp_new();
	int r, waits = 0, listen_fd;

	listen_fd = listen_tcp(AF_INET, "127.0.0.1", addr, sizeof(addr));
	memset(&f, 0, sizeof(f));
	f.steps = steps;
	f.listen_fd = listen_fd;
	f.fd = -1;
	pthread_create(&f.thread, NULL, fake_run, &f);

	is_int(qmp_connect_start(q, addr), 0, "connect_start returns at once");
	ok(!qmp_is_connected(q), "not connected yet");
	ok(qmp_get_poll_events(q) == POLLIN || qmp_get_poll_events(q) == POLLOUT,
	   "asks for POLLIN or POLLOUT");
	while ((r = qmp_connect_continue(q)) == -EINPROGRESS && now_ms() < deadline) {
		waits++;
		poll_for(q, 100);
	}
	is_int(r, 0, "connect_continue ends in 0 (after %d waits)", waits);
	ok(waits > 0, "and said -EINPROGRESS while the greeting came in pieces");
	ok(qmp_is_connected(q), "connected");
	is_int(qmp_get_poll_events(q), POLLIN, "then asks for POLLIN");
	is_int(qmp_connect_continue(q), 0, "connect_continue stays 0");

	is_int(qmp_send(q, "query-balloon", NULL, &id1), 0, "send one");
	is_int(qmp_recv_nowait(q, id1, &ret), -EAGAIN, "recv_nowait: not yet (-EAGAIN)");
	ok(!qmp_is_broken(q), "which does not break the connection");
	is_int(qmp_send(q, "query-status", NULL, &id2), 0, "send another");
	while ((r = qmp_recv_nowait(q, id2, &ret)) == -EAGAIN && now_ms() < deadline)
		poll_for(q, 100);
	is_int(r, 0, "recv_nowait: the second reply");
	is_str(plain(ret), "{\"status\":\"running\"}", "  its value");
	json_object_put(ret);
	is_int(qmp_recv_nowait(q, id1, &ret), -EREMOTEIO,
	       "recv_nowait: the first, an error reply, already read");
	is_str(qmp_get_error_class(q), "DeviceNotActive", "  its class");
	ev = qmp_event_pop(q);
	is_str(ev ? qmp_event_name(ev) : NULL, "BALLOON_CHANGE", "the event was queued");
	json_object_put(ev);
	is_int(qmp_recv_nowait(q, 99, &ret), -EINVAL, "recv_nowait: an unknown id");
	qmp_unref(q);
	fake_finish(&f, "non-blocking session");
	close(listen_fd);

	q = qmp_new();
	is_int(qmp_connect_start(q, "/nonexistent/qmp-sock"), -ENOENT,
	       "connect_start: a missing socket fails at once");
	is_int(qmp_connect_continue(q), -ENOENT, "  and the failure sticks");
	qmp_unref(q);
}


/* A request queued for the libvirt worker thread shares nothing with the
 * caller: json-c's reference counts are not atomic, so an object both
 * threads drop is a data race. The caller's last put frees its objects. */
static void test_libvirt_request_copy(void)
{
	struct json_object *msg = json_object_new_object();
	struct json_object *args = json_object_new_object();
	struct qmp_libvirt *lv;
	int fd;

	json_object_object_add(args, "path", json_object_new_string("/machine"));
	json_object_object_add(msg, "execute", json_object_new_string("qom-list"));
	json_object_object_add(msg, "arguments", json_object_get(args));
	json_object_object_add(msg, "id", json_object_new_int(7));
	is_int(qmp_libvirt_open("test:///default", "test", &lv, &fd), 0,
	       "libvirt: a channel opens");
	is_int(qmp_libvirt_submit(lv, 7, msg), 0, "libvirt: a request queued");
	json_object_put(msg);
	is_int(json_object_put(args), 1,
	       "libvirt: the queued request holds no reference to the caller's arguments");
	qmp_libvirt_close(lv);
}

/* libvirt: the test:/// driver is real libvirt without a daemon, and
 * without QEMU monitor passthrough. */
static void test_libvirt(void)
{
	struct qmp *q = qmp_new();
	char **names = NULL;
	int n;

	qmp_set_timeout(q, 10000);
	if (!qmp_have_libvirt()) {
		is_int(qmp_connect_libvirt(q, "test:///default", "test"), -ENOTSUP,
		       "libvirt: -ENOTSUP in a build without it");
		ok(strstr(qmp_get_error_desc(q), "without libvirt") != NULL,
		   "  and says so: %s", qmp_get_error_desc(q));
		qmp_unref(q);
		return;
	}
	is_int(qmp_connect_libvirt(q, "test:///default", "test"), -ENOSYS,
	       "libvirt: a driver without QEMU monitor passthrough");
	ok(strstr(qmp_get_error_desc(q), "no QEMU monitor passthrough") != NULL,
	   "  described: %s", qmp_get_error_desc(q));
	qmp_unref(q);
	q = qmp_new();
	is_int(qmp_connect_libvirt(q, "test:///default", "nosuch"), -ENOENT,
	       "libvirt: an unknown domain");
	ok(strstr(qmp_get_error_desc(q), "no domain 'nosuch'") != NULL,
	   "  named: %s", qmp_get_error_desc(q));
	qmp_unref(q);
	q = qmp_new();
	n = qmp_libvirt_list_domains(q, "test:///default", true, &names);
	ok(n == 1 && names && strcmp(names[0], "test") == 0 && !names[1],
	   "libvirt: list_domains finds the test driver's one domain");
	qmp_strv_free(names);
	qmp_unref(q);
	test_libvirt_request_copy();
}

int main(void)
{
	/* A library that died of SIGPIPE would kill this test: keep the
	 * default disposition so that MSG_NOSIGNAL is what is tested. */
	signal(SIGPIPE, SIG_DFL);
	test_negotiate_and_execute();
	test_error_reply();
	test_eof_mid_reply();
	test_hangup_before_send();
	test_timeout();
	test_wait_event();
	test_pipelined();
	test_log_env();
	test_not_qmp();
	test_message_too_big();
	test_event_flood();
	test_refcount();
	test_addresses();
	test_nonblocking();
	test_libvirt();
	return tap_done();
}
