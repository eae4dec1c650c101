/* SPDX-License-Identifier: MIT */
/*
 * print.h - the one printer: each call writes a result either as text or,
 * with --json, as JSON, so both forms always come from the same data.
 */
#ifndef VBCTL_PRINT_H
#define VBCTL_PRINT_H

#include "vbctl.h"

/* Flags for vbctl_print(). */
#define VBCTL_PRINT_STREAM (1u << 0)	/* one of many: one line, flushed */

/*
 * With --json: VALUE (borrowed; NULL prints JSON null) as one JSON
 * document, indented when v->pretty unless STREAM, then a newline.
 * Otherwise: FMT when given (no newline added), else VALUE for a human:
 * a string as its text (CRLF line ends as LF), anything else as indented
 * JSON.
 * Returns 0, or -EIO when the output cannot be written.
 */
int vbctl_print(struct vbctl *v, unsigned int flags, struct json_object *value,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The end of a raw QMP exchange for WHAT (qmp, a JSON line): RC < 0 is
 * reported (vbctl_qmp_failed), else RET is printed. Takes RET (may be
 * NULL). Returns the exit status. */
int vbctl_print_reply(struct vbctl *v, int rc, struct json_object *ret,
		      const char *what);

/* One QMP event as one line: local time, name and data (cmd-events.c;
 * the shell prints events the same way). */
int vbctl_print_event(struct vbctl *v, struct json_object *event);

/* VALUE as JSON text for a human: indented; borrowed from VALUE. */
const char *vbctl_json_text(struct json_object *value, bool pretty);

/* Checks and flushes v->out: 0, or -EIO after an error was seen. */
int vbctl_print_flush(struct vbctl *v);

#endif
