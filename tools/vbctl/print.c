/* SPDX-License-Identifier: MIT */
/*
 * print.c - the printer (see print.h). JSON is written with json-c, never
 * by hand, and without json-c's "\/" escaping so QOM paths stay readable.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <json-c/json.h>

#include "print.h"

const char *vbctl_json_text(struct json_object *value, bool pretty)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	flags |= pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
			  JSON_C_TO_STRING_PLAIN;
	return json_object_to_json_string_ext(value, flags);
}

/*
 * Writes VALUE as JSON and a newline, indented when PRETTY. json-c indents
 * an empty object or array as "{\n}"; it is written as {} or []. (A JSON
 * string never holds a raw newline, so a bracket before one is structure.)
 */
static void put_json(FILE *f, struct json_object *value, bool pretty)
{
	const char *p, *close;

	for (p = vbctl_json_text(value, pretty); *p; p++) {
		fputc(*p, f);
		if ((*p == '{' || *p == '[') && p[1] == '\n') {
			close = p + 2 + strspn(p + 2, " ");
			if (*close == (*p == '{' ? '}' : ']')) {
				fputc(*close, f);
				p = close;
			}
		}
	}
	fputc('\n', f);
}

/* A string value as its text: HMP's CRLF line ends as plain ones, and a
 * newline at the end unless it ends its own line. */
static void put_text(FILE *f, const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (text[i] != '\r' || text[i + 1] != '\n')
			fputc(text[i], f);
	if (!len || text[len - 1] != '\n')
		fputc('\n', f);
}

int vbctl_print_flush(struct vbctl *v)
{
	if (fflush(v->out) == EOF || ferror(v->out))
		return -EIO;
	return 0;
}

int vbctl_print(struct vbctl *v, unsigned int flags, struct json_object *value,
		const char *fmt, ...)
{
	bool stream = flags & VBCTL_PRINT_STREAM;
	va_list ap;

	if (v->json) {
		put_json(v->out, value, v->pretty && !stream);
	} else if (fmt) {
		va_start(ap, fmt);
		vfprintf(v->out, fmt, ap);
		va_end(ap);
	} else if (json_object_is_type(value, json_type_string)) {
		put_text(v->out, json_object_get_string(value),
			 (size_t)json_object_get_string_len(value));
	} else {
		put_json(v->out, value, !stream);
	}
	if (stream)
		return vbctl_print_flush(v);
	return ferror(v->out) ? -EIO : 0;
}

int vbctl_print_reply(struct vbctl *v, int rc, struct json_object *ret,
		      const char *what)
{
	if (rc)
		rc = vbctl_qmp_failed(v, rc, what);
	else if (vbctl_print(v, 0, ret, NULL))
		rc = VBCTL_EXIT_FAIL;
	json_object_put(ret);
	return rc;
}
