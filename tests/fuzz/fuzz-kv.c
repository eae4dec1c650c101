/* SPDX-License-Identifier: MIT */
/*
 * fuzz-kv.c - libFuzzer harness for qmp-shell's KEY=VALUE grammar (kv.h):
 * the input is split at newlines into tokens. A parse gives an object or
 * an error message, and the object serialises.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tools/vbctl/kv.h"

#define MAX_TOKENS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *tokens[MAX_TOKENS], *p, err[VBCTL_KV_ERR_MAX];
	struct json_object *obj = NULL;
	int n = 0, is_json;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (p = text; n < MAX_TOKENS; ) {
		tokens[n++] = p;
		p = strchr(p, '\n');
		if (!p)
			break;
		*p++ = '\0';
	}
	err[0] = '\0';
	if (vbctl_kv_parse(n, tokens, &obj, err, sizeof(err)) == 0) {
		if (!json_object_to_json_string(obj))
			abort();
		json_object_put(obj);
	} else if (!err[0]) {
		abort();
	}
	/* The value grammar alone, on the first token. */
	obj = vbctl_json_parse_value(tokens[0], &is_json);
	if (obj && is_json != 1)
		abort();
	json_object_put(obj);
	free(text);
	return 0;
}
