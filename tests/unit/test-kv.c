/* SPDX-License-Identifier: MIT */
/*
 * test-kv.c - the KEY=VALUE syntax of "vbctl qmp" (qmp-shell's): which
 * values become JSON and which stay strings, how dotted keys nest, and
 * that every malformed or conflicting argument is refused by name.
 */
#include "config.h"

#include <errno.h>

#include <json-c/json.h>

#include "../tap.h"
#include "../../tools/vbctl/kv.h"

#define MAX_TOKENS 8

/* Splits LINE at spaces (the tests need no quoting) and parses it. */
static int parse(const char *line, struct json_object **out, char *err)
{
	char buf[512], *argv[MAX_TOKENS], *tok, *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " ", &save); tok && argc < MAX_TOKENS;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	return vbctl_kv_parse(argc, argv, out, err, VBCTL_KV_ERR_MAX);
}

/* LINE gives the JSON object WANT (compared as parsed JSON). */
static void good(const char *line, const char *want)
{
	struct json_object *got = NULL, *expect = json_tokener_parse(want);
	char err[VBCTL_KV_ERR_MAX] = "";
	int rc = parse(line, &got, err);

	if (!ok(rc == 0 && json_object_equal(got, expect), "%s -> %s", line, want))
		tap_diag("rc %d, got %s, error: %s", rc,
			 got ? json_object_to_json_string(got) : "(none)", err);
	json_object_put(got);
	json_object_put(expect);
}

/* LINE is refused with a message naming TOKEN and containing WHY. */
static void bad(const char *line, const char *token, const char *why)
{
	struct json_object *got = NULL;
	char err[VBCTL_KV_ERR_MAX] = "", quoted[128];
	int rc = parse(line, &got, err);

	snprintf(quoted, sizeof(quoted), "'%s'", token);
	if (!ok(rc == -EINVAL && !got && strstr(err, quoted) && strstr(err, why),
		"%s refused naming %s: %s", line, quoted, why))
		tap_diag("rc %d, message: %s", rc, err);
	json_object_put(got);
}

/* The exact type a single value becomes. */
static void value_type(const char *value, enum json_type want)
{
	struct json_object *got = NULL, *v = NULL;
	char line[256], err[VBCTL_KV_ERR_MAX] = "";

	snprintf(line, sizeof(line), "k=%s", value);
	parse(line, &got, err);
	json_object_object_get_ex(got, "k", &v);
	is_str(json_type_to_name(json_object_get_type(v)), json_type_to_name(want),
	       "k=%s is a %s", value, json_type_to_name(want));
	json_object_put(got);
}

int main(void)
{
	struct json_object *big = NULL, *v;
	char err[VBCTL_KV_ERR_MAX];

	good("", "{}");
	good("value=1073741824", "{\"value\": 1073741824}");
	good("path=/machine/peripheral-anon/device[0] property=guest-stats",
	     "{\"path\": \"/machine/peripheral-anon/device[0]\", \"property\": \"guest-stats\"}");
	good("a=true b=false c=null", "{\"a\": true, \"b\": false, \"c\": null}");
	good("n=-5 f=1.5 e=1e3", "{\"n\": -5, \"f\": 1.5, \"e\": 1e3}");
	good("s=\"123\"", "{\"s\": \"123\"}");
	good("s=\"\"", "{\"s\": \"\"}");
	good("o={\"x\":[1,2]}", "{\"o\": {\"x\": [1, 2]}}");
	good("l=[1,\"a\",null]", "{\"l\": [1, \"a\", null]}");
	good("s=", "{\"s\": \"\"}");
	good("s=hello", "{\"s\": \"hello\"}");
	good("s=True", "{\"s\": \"True\"}");
	good("s=NaN t=Infinity u=-Infinity", "{\"s\": \"NaN\", \"t\": \"Infinity\", \"u\": \"-Infinity\"}");
	good("s=1abc", "{\"s\": \"1abc\"}");
	good("s=[1,2", "{\"s\": \"[1,2\"}");
	good("s='x'", "{\"s\": \"'x'\"}");
	good("s=a=b", "{\"s\": \"a=b\"}");
	good("s=0x10", "{\"s\": \"0x10\"}");
	good("s=01", "{\"s\": \"01\"}");
	/* Dotted keys nest; a later plain key stays at the top. */
	good("a.b=1 c=2", "{\"a\": {\"b\": 1}, \"c\": 2}");
	good("a.b=1 a.c=2", "{\"a\": {\"b\": 1, \"c\": 2}}");
	good("a.b.c=1 a.b.d=x a.e=[]", "{\"a\": {\"b\": {\"c\": 1, \"d\": \"x\"}, \"e\": []}}");
	good("a.b=1 b=2", "{\"a\": {\"b\": 1}, \"b\": 2}");
	good("x.a=1 y.a=2", "{\"x\": {\"a\": 1}, \"y\": {\"a\": 2}}");

	value_type("1", json_type_int);
	value_type("1.0", json_type_double);
	value_type("true", json_type_boolean);
	value_type("null", json_type_null);
	value_type("\"1\"", json_type_string);
	value_type("abc", json_type_string);
	value_type("{}", json_type_object);
	value_type("[]", json_type_array);

	/* 2^64-1 keeps all its bits. */
	ok(parse("v=18446744073709551615", &big, err) == 0 &&
	   json_object_object_get_ex(big, "v", &v) &&
	   json_object_get_uint64(v) == UINT64_MAX,
	   "v=18446744073709551615 keeps 64 bits");
	json_object_put(big);

	bad("value", "value", "expected KEY=VALUE");
	bad("a=1 b", "b", "expected KEY=VALUE");
	bad("=1", "=1", "empty key");
	bad(".a=1", ".a=1", "empty key");
	bad("a.=1", "a.=1", "empty key");
	bad("a..b=1", "a..b=1", "empty key");
	bad("a=1 a=2", "a=2", "'a' is given twice");
	bad("a.b=1 a.b=2", "a.b=2", "'a.b' is given twice");
	bad("a=1 a.b=2", "a.b=2", "'a' was already given a value");
	bad("a.b=1 a=2", "a=2", "'a' already holds dotted keys");
	bad("a.b=1 a.b.c=2", "a.b.c=2", "'a.b' was already given a value");
	bad("a={} a.b=2", "a.b=2", "'a' was already given a value");
	bad("a.b.c=1 a.b=2", "a.b=2", "'a.b' already holds dotted keys");
	return tap_done();
}
