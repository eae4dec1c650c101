/* SPDX-License-Identifier: MIT */
/*
 * kv.c - qmp-shell's KEY=VALUE syntax (see kv.h): JSON where the value
 * parses as JSON, a string otherwise; dotted keys build nested objects.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "kv.h"

struct json_object *vbctl_json_parse_value(const char *text, int *is_json)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t len = strlen(text), done, piece;
	bool whole, range;

	*is_json = 0;
	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* Include the NUL so a number at the end is known to be complete.
	 * json-c saturates numbers out of range (99999999999999999999 becomes
	 * 18446744073709551615) and leaves errno at ERANGE until the next
	 * number resets it: fed in pieces that end after a run of digits,
	 * each piece completes at most one number, so errno after each one
	 * tells. Then the caller can refuse rather than send another number
	 * than the one typed. */
	range = false;
	obj = NULL;
	for (done = 0; done <= len; done += piece) {
		piece = strcspn(text + done, "0123456789");
		piece += strspn(text + done + piece, "0123456789");
		piece += !text[done + piece];	/* the NUL ends the last number */
		errno = 0;
		obj = json_tokener_parse_ex(tok, text + done, (int)piece);
		range |= errno == ERANGE;
		if (json_tokener_get_error(tok) != json_tokener_continue)
			break;
	}
	whole = json_tokener_get_error(tok) == json_tokener_success &&
		done + json_tokener_get_parse_end(tok) >= len;
	json_tokener_free(tok);
	if (whole && range) {
		json_object_put(obj);
		*is_json = -1;
		return NULL;
	}
	/* json-c takes NaN and Infinity even in strict mode; JSON has no
	 * such numbers, so those stay strings. */
	if (whole && json_object_is_type(obj, json_type_double) &&
	    !isfinite(json_object_get_double(obj)))
		whole = false;
	if (!whole) {
		json_object_put(obj);
		return NULL;
	}
	*is_json = 1;
	return obj;
}

static int kv_error(char *err, size_t errlen, const char *token,
		    const char *why)
{
	snprintf(err, errlen, "bad argument '%s': %s", token, why);
	return -EINVAL;
}

/* Checks that KEY (LEN bytes, dotted) has no empty component. */
static bool key_ok(const char *key, size_t len)
{
	size_t i;

	if (len == 0 || key[0] == '.' || key[len - 1] == '.')
		return false;
	for (i = 1; i < len; i++)
		if (key[i] == '.' && key[i - 1] == '.')
			return false;
	return true;
}

/* Adds one "KEY=VALUE" token to ROOT. */
static int kv_add(struct json_object *root, const char *token, char *err,
		  size_t errlen)
{
	const char *eq = strchr(token, '='), *key = token, *dot;
	struct json_object *parent = root, *child, *value;
	char name[256];
	size_t n;
	int is_json;

	if (!eq)
		return kv_error(err, errlen, token,
				"expected KEY=VALUE, e.g. value=1073741824");
	if (!key_ok(token, (size_t)(eq - token)))
		return kv_error(err, errlen, token,
				"empty key or key component (KEY=VALUE, KEY.SUBKEY=VALUE)");

	/* Walk or create the objects of each "component." before the last. */
	while ((dot = memchr(key, '.', (size_t)(eq - key)))) {
		n = (size_t)(dot - key);
		if (n >= sizeof(name))
			return kv_error(err, errlen, token, "key too long");
		memcpy(name, key, n);
		name[n] = '\0';
		if (json_object_object_get_ex(parent, name, &child)) {
			if (!json_object_is_type(child, json_type_object) ||
			    json_object_get_userdata(child) != root) {
				snprintf(err, errlen, "bad argument '%s': '%.*s' was already given a value",
					 token, (int)(dot - token), token);
				return -EINVAL;
			}
		} else {
			child = json_object_new_object();
			if (!child || json_object_object_add(parent, name, child)) {
				json_object_put(child);
				return kv_error(err, errlen, token, "out of memory");
			}
			/* Mark objects made from dotted keys, so a JSON
			 * object value given earlier is never merged into. */
			json_object_set_userdata(child, root, NULL);
		}
		parent = child;
		key = dot + 1;
	}

	n = (size_t)(eq - key);
	if (n >= sizeof(name))
		return kv_error(err, errlen, token, "key too long");
	memcpy(name, key, n);
	name[n] = '\0';
	if (json_object_object_get_ex(parent, name, &child)) {
		snprintf(err, errlen, "bad argument '%s': '%.*s' %s", token,
			 (int)(eq - token), token,
			 json_object_get_userdata(child) == root ?
			 "already holds dotted keys" : "is given twice");
		return -EINVAL;
	}
	value = vbctl_json_parse_value(eq + 1, &is_json);
	if (is_json < 0)
		return kv_error(err, errlen, token,
				"number out of range (QMP numbers are 64-bit: integers from -2^63 to 2^64-1); quote it to send a string");
	if (!is_json)
		value = json_object_new_string(eq + 1);
	if (json_object_object_add(parent, name, value)) {
		json_object_put(value);
		return kv_error(err, errlen, token, "out of memory");
	}
	return 0;
}

int vbctl_kv_parse(int argc, char *const *argv, struct json_object **out,
		   char *err, size_t errlen)
{
	struct json_object *root = json_object_new_object();
	int i, rc;

	if (!root) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < argc; i++) {
		rc = kv_add(root, argv[i], err, errlen);
		if (rc) {
			json_object_put(root);
			return rc;
		}
	}
	*out = root;
	return 0;
}
