/* SPDX-License-Identifier: MIT */
/*
 * parser.h - the QMP stream parser (private): turns a byte stream into JSON
 * objects, one per QMP message. No I/O, so it is tested on byte strings.
 */
#ifndef LIBQMP_PARSER_H
#define LIBQMP_PARSER_H

#include <stddef.h>

struct json_object;
struct qmp_parser;

struct qmp_parser *qmp_parser_new(void);
void qmp_parser_free(struct qmp_parser *p);

/*
 * Parse from BUF (LEN bytes). Returns 1 when a message is complete: *msg
 * receives it (new reference) and *used the bytes consumed up to its end;
 * call again with the rest. Returns 0 when all LEN bytes were consumed
 * (*used = LEN) without completing a message: the partial message is kept
 * for the next call. Returns -EPROTO (not JSON, or not a JSON object) or
 * -EMSGSIZE (over QMP_MAX_MESSAGE_BYTES or QMP_MAX_NESTING_DEPTH); the
 * error sticks, see qmp_parser_get_error().
 */
int qmp_parser_parse(struct qmp_parser *p, const char *buf, size_t len,
		     size_t *used, struct json_object **msg);

/* Description of the sticky error, or NULL. Borrowed. */
const char *qmp_parser_get_error(const struct qmp_parser *p);

#endif
