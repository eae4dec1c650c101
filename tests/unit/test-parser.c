/* SPDX-License-Identifier: MIT */
/*
 * test-parser.c - libqmp's stream parser fed byte strings: messages split
 * anywhere, batched, huge integers, garbage and over-limit input.
 */
#include "config.h"

#include <errno.h>

#include <json-c/json.h>

#include "tap.h"
#include "qmp/qmp.h"
#include "tools/libqmp/parser.h"

#define MAX_MSGS 16

struct parsed {
	struct json_object *msg[MAX_MSGS];
	int count;
	int err;		/* 0 or the parser's negative errno */
	size_t consumed;	/* bytes the parser took */
};

static void parsed_clear(struct parsed *out)
{
	int i;

	for (i = 0; i < out->count; i++)
		json_object_put(out->msg[i]);
	memset(out, 0, sizeof(*out));
}

/* Feed BUF to P as the connection does, collecting messages into OUT. */
static void feed(struct qmp_parser *p, const char *buf, size_t len,
		 struct parsed *out)
{
	struct json_object *msg;
	size_t used;
	int r;

	while (len > 0 && !out->err) {
		r = qmp_parser_parse(p, buf, len, &used, &msg);
		if (r < 0) {
			out->err = r;
			return;
		}
		out->consumed += used;
		buf += used;
		len -= used;
		if (r == 0)
			return;
		if (out->count < MAX_MSGS)
			out->msg[out->count++] = msg;
		else
			json_object_put(msg);
	}
}

/* Parse all of TEXT in one feed. */
static void parse_all(const char *text, size_t len, struct parsed *out)
{
	struct qmp_parser *p = qmp_parser_new();

	memset(out, 0, sizeof(*out));
	feed(p, text, len, out);
	qmp_parser_free(p);
}

static const char *plain(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Parsing TEXT gives messages that re-serialize to WANT[0..n). */
static void check_messages(const char *what, const char *text, size_t len,
			   const char *const *want, int n)
{
	struct parsed out;
	int i;

	parse_all(text, len, &out);
	is_int(out.err, 0, "%s: no error", what);
	is_int(out.count, n, "%s: %d messages", what, n);
	for (i = 0; i < n && i < out.count; i++)
		is_str(plain(out.msg[i]), want[i], "%s: message %d", what, i);
	parsed_clear(&out);
}

static void test_split_everywhere(void)
{
	/* An event, then the reply: one read may end anywhere. */
	static const char stream[] =
		"{\"event\": \"BALLOON_CHANGE\", \"data\": {\"actual\": 1073741824}, "
		"\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 5}}\r\n"
		"{\"return\": {\"actual\": 18446744073709551615, \"s\": \"a\\\"}\\u00e9\"}, \"id\": 7}\r\n";
	static const char *const want[] = {
		"{\"event\":\"BALLOON_CHANGE\",\"data\":{\"actual\":1073741824},"
		"\"timestamp\":{\"seconds\":1700000000,\"microseconds\":5}}",
		"{\"return\":{\"actual\":18446744073709551615,\"s\":\"a\\\"}\xc3\xa9\"},\"id\":7}",
	};
	size_t len = sizeof(stream) - 1, cut, bad = 0, i;
	struct parsed out;

	/* Two pieces, cut at every byte. */
	for (cut = 0; cut <= len; cut++) {
		struct qmp_parser *p = qmp_parser_new();

		memset(&out, 0, sizeof(out));
		feed(p, stream, cut, &out);
		feed(p, stream + cut, len - cut, &out);
		if (out.err || out.count != 2 || out.consumed != len ||
		    strcmp(plain(out.msg[0]), want[0]) ||
		    strcmp(plain(out.msg[1]), want[1])) {
			if (!bad)
				tap_diag("first failing cut at byte %zu", cut);
			bad++;
		}
		parsed_clear(&out);
		qmp_parser_free(p);
	}
	is_int(bad, 0, "split in two at each of %zu positions: same 2 messages",
	       len + 1);

	/* One byte per feed. */
	{
		struct qmp_parser *p = qmp_parser_new();

		memset(&out, 0, sizeof(out));
		for (i = 0; i < len; i++)
			feed(p, stream + i, 1, &out);
		is_int(out.count, 2, "byte by byte: 2 messages");
		ok(out.count == 2 && !strcmp(plain(out.msg[1]), want[1]),
		   "byte by byte: reply intact");
		parsed_clear(&out);
		qmp_parser_free(p);
	}
}

static void test_batched(void)
{
	static const char batch[] =
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, \"capabilities\": [\"oob\"]}}\r\n"
		"{\"event\": \"A\"}{\"event\": \"B\"}\n"
		"  \t{\"return\": {}, \"id\": 1}\r\n\r\n"
		"{\"id\": 2, \"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}}";
	static const char *const want[] = {
		"{\"QMP\":{\"version\":{\"qemu\":{\"micro\":0,\"minor\":2,\"major\":7}},\"capabilities\":[\"oob\"]}}",
		"{\"event\":\"A\"}",
		"{\"event\":\"B\"}",
		"{\"return\":{},\"id\":1}",
		"{\"id\":2,\"error\":{\"class\":\"GenericError\",\"desc\":\"no\"}}",
	};

	check_messages("batch with CRLF, LF, no separator, blanks", batch,
		       sizeof(batch) - 1, want, 5);
}

static void test_separators_only(void)
{
	struct qmp_parser *p = qmp_parser_new();
	struct parsed out = { 0 };

	feed(p, "\r\n \t\r\n", 6, &out);
	ok(out.err == 0 && out.count == 0 && out.consumed == 6,
	   "whitespace alone: consumed, no message, no error");
	feed(p, "{\"event\":\"X\"}", 13, &out);
	is_int(out.count, 1, "message after whitespace-only feed");
	parsed_clear(&out);
	qmp_parser_free(p);
}

static void test_integers(void)
{
	static const char text[] =
		"{\"max\": 18446744073709551615, \"min\": -9223372036854775808, "
		"\"big\": 9223372036854775808, \"i64max\": 9223372036854775807}";
	struct json_object *v;
	struct parsed out;

	parse_all(text, sizeof(text) - 1, &out);
	if (!ok(out.count == 1, "integers: parsed")) {
		parsed_clear(&out);
		return;
	}
	json_object_object_get_ex(out.msg[0], "max", &v);
	is_u64(json_object_get_uint64(v), UINT64_MAX, "2^64-1 kept as uint64");
	json_object_object_get_ex(out.msg[0], "min", &v);
	is_int(json_object_get_int64(v), INT64_MIN, "-2^63 kept as int64");
	json_object_object_get_ex(out.msg[0], "big", &v);
	is_u64(json_object_get_uint64(v), (uint64_t)1 << 63, "2^63 kept");
	json_object_object_get_ex(out.msg[0], "i64max", &v);
	is_int(json_object_get_int64(v), INT64_MAX, "2^63-1 kept");
	is_str(plain(out.msg[0]),
	       "{\"max\":18446744073709551615,\"min\":-9223372036854775808,"
	       "\"big\":9223372036854775808,\"i64max\":9223372036854775807}",
	       "all four re-serialize digit for digit");
	parsed_clear(&out);
}

/* TEXT must fail with ERR, and so must anything fed afterwards. */
static void check_garbage(const char *what, const char *text, size_t len,
			  int err)
{
	struct qmp_parser *p = qmp_parser_new();
	struct parsed out = { 0 };

	feed(p, text, len, &out);
	is_int(out.err, err, "%s: %s", what, err == -EPROTO ? "-EPROTO" : "-EMSGSIZE");
	ok(qmp_parser_get_error(p) != NULL, "%s: described: %s", what,
	   qmp_parser_get_error(p) ? qmp_parser_get_error(p) : "(none)");
	out.err = 0;
	feed(p, "{}", 2, &out);
	is_int(out.err, err, "%s: error sticks", what);
	parsed_clear(&out);
	qmp_parser_free(p);
}

#define CHECK_GARBAGE(what, lit, err) \
	check_garbage(what, lit, sizeof(lit) - 1, err)

static void test_garbage(void)
{
	CHECK_GARBAGE("closing brace first", "}{", -EPROTO);
	CHECK_GARBAGE("bare word", "xyz", -EPROTO);
	CHECK_GARBAGE("HMP banner", "QEMU 7.2.0 monitor - type 'help'\r\n",
		      -EPROTO);
	CHECK_GARBAGE("invalid UTF-8 in a string", "{\"a\": \"\xff\xfe\"}",
		      -EPROTO);
	CHECK_GARBAGE("NUL byte", "{\"a\":\0}", -EPROTO);
	CHECK_GARBAGE("missing colon", "{\"a\" 1}", -EPROTO);
	CHECK_GARBAGE("mismatched bracket", "{\"a\": [1}", -EPROTO);
	CHECK_GARBAGE("bad escape", "{\"a\": \"\\q\"}", -EPROTO);
	CHECK_GARBAGE("single-quoted string", "{\"a\": 'x'}", -EPROTO);
	CHECK_GARBAGE("trailing comma", "{\"a\": 1,}", -EPROTO);
	CHECK_GARBAGE("top level array", "[1, 2]", -EPROTO);
	CHECK_GARBAGE("top level number", "42\n", -EPROTO);
	CHECK_GARBAGE("garbage after a good message", "{}}", -EPROTO);
	/* json-c saturates these silently; QEMU's integers are 64-bit, so
	 * a larger one is garbage, not 2^64-1 (or -2^63). */
	CHECK_GARBAGE("integer above 2^64-1",
		      "{\"actual\": 99999999999999999999999999}", -EPROTO);
	CHECK_GARBAGE("integer below -2^63",
		      "{\"actual\": -9223372036854775809}", -EPROTO);
	CHECK_GARBAGE("number beyond a double", "{\"a\": 1e999}", -EPROTO);
	CHECK_GARBAGE("out-of-range number, message not yet complete",
		      "{\"a\": [1, 18446744073709551616]", -EPROTO);
}

/* LEVELS objects and arrays nested, a number inside: {"a":[[...[1]...]]} */
static char *nested(int levels)
{
	char *s = malloc(2 * (size_t)levels + 8);
	size_t n = 0;
	int i;

	n += (size_t)sprintf(s, "{\"a\":");
	for (i = 1; i < levels; i++)
		s[n++] = '[';
	s[n++] = '1';
	for (i = 1; i < levels; i++)
		s[n++] = ']';
	s[n++] = '}';
	s[n] = '\0';
	return s;
}

static void test_nesting(void)
{
	char *ok_text = nested(QMP_MAX_NESTING_DEPTH);
	char *deep = nested(QMP_MAX_NESTING_DEPTH + 1);
	struct parsed out;

	parse_all(ok_text, strlen(ok_text), &out);
	ok(out.err == 0 && out.count == 1, "%d levels of nesting: accepted",
	   QMP_MAX_NESTING_DEPTH);
	parsed_clear(&out);
	check_garbage("one level deeper than the limit", deep, strlen(deep),
		      -EMSGSIZE);
	free(ok_text);
	free(deep);
}

static void test_size_limit(void)
{
	static char chunk[64 * 1024];
	static const char head[] = "{\"event\": \"X\", \"data\": \"";
	struct qmp_parser *p = qmp_parser_new();
	struct parsed out = { 0 };
	size_t fed = 0;
	char *exact;

	/* Stream a string message that never ends, 64 KiB at a time, as
	 * a hostile server would: it must fail at the limit. */
	memset(chunk, 'a', sizeof(chunk));
	feed(p, head, sizeof(head) - 1, &out);
	fed += sizeof(head) - 1;
	while (!out.err && fed < 4 * (size_t)QMP_MAX_MESSAGE_BYTES) {
		feed(p, chunk, sizeof(chunk), &out);
		fed += sizeof(chunk);
	}
	is_int(out.err, -EMSGSIZE, "endless message: -EMSGSIZE");
	ok(fed <= QMP_MAX_MESSAGE_BYTES + sizeof(chunk),
	   "failed within one chunk of the limit (%zu bytes fed)", fed);
	is_int(out.count, 0, "no message came out of it");
	qmp_parser_free(p);

	/* A message of exactly the limit is fine, after a small one and
	 * separators (which do not count). */
	exact = malloc(QMP_MAX_MESSAGE_BYTES + 64);
	strcpy(exact, "{\"event\":\"S\"}\r\n");
	memcpy(exact + 15, head, sizeof(head) - 1);
	memset(exact + 15 + sizeof(head) - 1, 'b',
	       QMP_MAX_MESSAGE_BYTES - (sizeof(head) - 1) - 2);
	memcpy(exact + 15 + QMP_MAX_MESSAGE_BYTES - 2, "\"}", 2);
	memcpy(exact + 15 + QMP_MAX_MESSAGE_BYTES, "\r\n{}", 4);
	parse_all(exact, 15 + QMP_MAX_MESSAGE_BYTES + 4, &out);
	ok(out.err == 0 && out.count == 3,
	   "a message of exactly %u bytes passes, and the next one too",
	   QMP_MAX_MESSAGE_BYTES);
	parsed_clear(&out);

	/* One byte more fails. */
	memcpy(exact + 15 + QMP_MAX_MESSAGE_BYTES - 2, "b\"}", 3);
	parse_all(exact + 15, QMP_MAX_MESSAGE_BYTES + 1, &out);
	is_int(out.err, -EMSGSIZE, "a message of limit + 1 bytes: -EMSGSIZE");
	parsed_clear(&out);
	free(exact);
}

int main(void)
{
	test_split_everywhere();
	test_batched();
	test_separators_only();
	test_integers();
	test_garbage();
	test_nesting();
	test_size_limit();
	return tap_done();
}
