/* SPDX-License-Identifier: MIT */
/*
 * fuzz-split.c - libFuzzer harness for the shell's quote-aware line
 * splitter (split.h), whole lines and half-typed ones (SPLIT_PARTIAL):
 * words come back NULL-terminated, or an error that says why.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/vbctl/split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned flags;
	struct split s;
	char *line;
	int i;

	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	for (flags = 0; flags <= SPLIT_PARTIAL; flags += SPLIT_PARTIAL) {
		memset(&s, 0, sizeof(s));
		if (split_line(line, flags, &s) == 0) {
			for (i = 0; i < s.argc; i++)
				if (!s.argv[i] || strlen(s.argv[i]) > size)
					abort();
			if (s.argv[s.argc])
				abort();
			if ((flags & SPLIT_PARTIAL) && s.argc < 1)
				abort();	/* the word being typed is always there */
		} else if (!s.error[0]) {
			abort();
		}
		split_free(&s);
	}
	free(line);
	return 0;
}
