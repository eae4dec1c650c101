/* SPDX-License-Identifier: MIT */
/*
 * parser.c - splits the QMP byte stream into messages with json-c's
 * incremental tokener, enforcing the size and nesting limits of qmp.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "qmp/qmp.h"
#include "parser.h"

struct qmp_parser {
	struct json_tokener *tok;
	size_t msg_bytes;	/* bytes fed to tok since the message began */
	int err;		/* sticky: 0 or a negative errno */
	char err_desc[128];
};

struct qmp_parser *qmp_parser_new(void)
{
	struct qmp_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	/* json-c's depth counts every value, scalars too: one more than
	 * the limit allows QMP_MAX_NESTING_DEPTH levels of objects and
	 * arrays with values inside. */
	p->tok = json_tokener_new_ex(QMP_MAX_NESTING_DEPTH + 1);
	if (!p->tok) {
		free(p);
		return NULL;
	}
	/* RFC 8259 only (no NaN, comments, single quotes, trailing commas),
	 * valid UTF-8 only; the rest of the buffer is the next message. */
	json_tokener_set_flags(p->tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_ALLOW_TRAILING_CHARS |
			       JSON_TOKENER_VALIDATE_UTF8);
	return p;
}

void qmp_parser_free(struct qmp_parser *p)
{
	if (!p)
		return;
	json_tokener_free(p->tok);
	free(p);
}

const char *qmp_parser_get_error(const struct qmp_parser *p)
{
	return p->err ? p->err_desc : NULL;
}

static int parser_fail(struct qmp_parser *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int parser_fail(struct qmp_parser *p, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err_desc, sizeof(p->err_desc), fmt, ap);
	va_end(ap);
	p->err = err;
	return err;
}

/* JSON whitespace (RFC 8259 section 2): what may separate messages. */
static bool is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Bytes of BUF (LEN > 0) up to the end of its first run of digits, or
 * LEN: only the byte after a digit can complete a number, and in such a
 * piece only its first byte follows a digit. */
static size_t up_to_digits(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && !is_digit(buf[i]))
		i++;
	while (i < len && is_digit(buf[i]))
		i++;
	return i;
}

int qmp_parser_parse(struct qmp_parser *p, const char *buf, size_t len,
		     size_t *used, struct json_object **msg)
{
	size_t skip = 0, n, end, done, piece;
	struct json_object *obj;
	enum json_tokener_error jerr;
	const char *nul;
	bool range;

	*used = 0;
	*msg = NULL;
	if (p->err)
		return p->err;

	/* Between messages, skip separators ourselves so that a message's
	 * byte count starts at its first byte. */
	if (p->msg_bytes == 0)
		while (skip < len && is_json_space(buf[skip]))
			skip++;
	buf += skip;
	len -= skip;
	if (len == 0) {
		*used = skip;
		return 0;
	}

	/* Never feed json-c more than the limit allows, so an endless
	 * message fails after QMP_MAX_MESSAGE_BYTES, not when memory ends. */
	n = QMP_MAX_MESSAGE_BYTES - p->msg_bytes;
	if (n > len)
		n = len;
	if (n == 0)
		goto too_big;

	/* json-c stops at a NUL byte as at the end of its input and calls
	 * it "unexpected end of data"; JSON allows none, not even inside a
	 * string (control characters must be escaped). */
	nul = memchr(buf, '\0', n);
	if (nul)
		return parser_fail(p, -EPROTO,
				   "invalid JSON: a NUL byte at offset %zu of the message",
				   p->msg_bytes + (size_t)(nul - buf));

	/* json-c converts numbers with strtoll/strtoull/strtod and keeps
	 * their saturated result without a word (99999999999999999999
	 * becomes 18446744073709551615), but leaves errno at ERANGE, until
	 * the next number resets it. So feed it pieces that each end after
	 * a run of digits: a piece then completes at most one number, and
	 * errno after it tells an out-of-range number from the largest one. */
	done = 0;
	for (;;) {
		piece = up_to_digits(buf + done, n - done);
		errno = 0;
		obj = json_tokener_parse_ex(p->tok, buf + done, (int)piece);
		range = errno == ERANGE;
		jerr = json_tokener_get_error(p->tok);
		if (range && (jerr == json_tokener_continue ||
			      jerr == json_tokener_success)) {
			json_object_put(obj);
			return parser_fail(p, -EPROTO,
					   "invalid message: a number out of the 64-bit range");
		}
		if (jerr != json_tokener_continue || done + piece == n)
			break;
		done += piece;
	}
	if (jerr == json_tokener_continue) {
		p->msg_bytes += n;
		if (n < len)
			goto too_big;
		*used = skip + n;
		return 0;
	}
	if (jerr != json_tokener_success) {
		if (jerr == json_tokener_error_depth)
			return parser_fail(p, -EMSGSIZE,
					   "message nested deeper than %d levels",
					   QMP_MAX_NESTING_DEPTH);
		return parser_fail(p, -EPROTO, "invalid JSON: %s",
				   json_tokener_error_desc(jerr));
	}

	end = done + json_tokener_get_parse_end(p->tok);
	json_tokener_reset(p->tok);
	p->msg_bytes = 0;
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return parser_fail(p, -EPROTO,
				   "invalid message: not a JSON object");
	}
	*used = skip + end;
	*msg = obj;
	return 1;

too_big:
	return parser_fail(p, -EMSGSIZE, "message larger than %u bytes",
			   QMP_MAX_MESSAGE_BYTES);
}
