/* SPDX-License-Identifier: MIT */
/*
 * kv.h - qmp-shell's KEY=VALUE argument syntax, turned into a JSON object.
 */
#ifndef VBCTL_KV_H
#define VBCTL_KV_H

#include <stddef.h>

struct json_object;

#define VBCTL_KV_ERR_MAX 256

/*
 * Builds the arguments object of a QMP command from ARGC tokens
 * "KEY=VALUE". A VALUE that parses as JSON (numbers, true/false/null,
 * objects, arrays, "quoted strings") is that JSON value; anything else is
 * a string. Dotted keys nest: "a.b=1 c=2" gives {"a":{"b":1},"c":2}.
 * A duplicate key, or a key that is both a value and an object
 * ("a=1 a.b=2"), is an error.
 * Returns 0 and *out (new reference; an empty object for ARGC 0), or
 * -EINVAL with a message naming the bad token in ERR.
 */
int vbctl_kv_parse(int argc, char *const *argv, struct json_object **out,
		   char *err, size_t errlen);

/*
 * TEXT as a JSON value if all of it parses as one (strict JSON: NaN and
 * Infinity are not numbers), else NULL. *is_json tells which: JSON null
 * is also NULL. *is_json is -1 (and NULL returned) for a number beyond
 * what JSON numbers can carry here (integers outside -2^63..2^64-1, or
 * beyond a double): it cannot be sent as typed.
 */
struct json_object *vbctl_json_parse_value(const char *text, int *is_json);

#endif
