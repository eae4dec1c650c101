/* SPDX-License-Identifier: MIT */
/*
 * fuzz-parser.c - libFuzzer harness for libqmp's stream parser: the input
 * is fed in pieces whose sizes come from its first byte, as reads from a
 * socket would cut it; every message that comes out is freed, and the
 * parser's promises are checked (used never past the input, an error
 * sticks and is described).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "tools/libqmp/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qmp_parser *p;
	struct json_object *msg;
	size_t step, len, used;
	int r = 0;

	if (size < 1)
		return 0;
	step = (size_t)data[0] % 64 + 1;	/* 1..64 bytes per read */
	data++;
	size--;
	p = qmp_parser_new();
	if (!p)
		return 0;
	while (size > 0 && r >= 0) {
		len = size < step ? size : step;
		/* Parse all of this read, message by message. */
		while (len > 0) {
			r = qmp_parser_parse(p, (const char *)data, len, &used, &msg);
			if (used > len)
				abort();
			if (r < 0) {
				if (!qmp_parser_get_error(p) || msg)
					abort();
				break;
			}
			json_object_put(msg);
			data += used;
			size -= used;
			len -= used;
			if (r == 0)
				break;
		}
	}
	if (r < 0 && qmp_parser_parse(p, "{}", 2, &used, &msg) != r)
		abort();	/* the error sticks */
	qmp_parser_free(p);
	return 0;
}
