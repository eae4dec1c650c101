/* SPDX-License-Identifier: MIT */
/*
 * cmdline.c - the kernel command line (-append): whitespace-separated
 * "key=value" or bare "key" words, values optionally in double quotes,
 * parsed once at boot; the last occurrence of a key wins, and keys that
 * name one thing each time (virtio_mmio.device=) can be walked in order.
 */
#include "kernel.h"
#include "init.h"

#define CMDLINE_MAX	1024	/* bytes kept; the rest is ignored */
#define CMDLINE_KEYS	32	/* words kept; the rest are ignored */

static struct {
	char buf[CMDLINE_MAX];	/* the words, NUL-terminated in place */
	struct {
		const char *key;
		const char *value;	/* "" for a bare key */
	} words[CMDLINE_KEYS];
	int nwords;
} cmdline;

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void cmdline_parse(const char *s)
{
	size_t n = MIN(strlen(s), sizeof(cmdline.buf) - 1);
	char *p = cmdline.buf;

	memcpy(cmdline.buf, s, n);
	cmdline.buf[n] = '\0';
	cmdline.nwords = 0;

	for (;;) {
		char *key, *value = NULL;

		while (is_space(*p))
			p++;
		if (!*p)
			break;
		key = p;
		while (*p && !is_space(*p) && *p != '=')
			p++;
		if (*p == '=') {
			*p++ = '\0';
			if (*p == '"') {	/* quoted: spaces allowed */
				value = ++p;
				while (*p && *p != '"')
					p++;
			} else {
				value = p;
				while (*p && !is_space(*p))
					p++;
			}
		}
		if (*p)
			*p++ = '\0';
		if (cmdline.nwords < CMDLINE_KEYS) {
			cmdline.words[cmdline.nwords].key = key;
			cmdline.words[cmdline.nwords].value = value ? value : "";
			cmdline.nwords++;
		}
	}
}

const char *cmdline_get(const char *key)
{
	for (int i = cmdline.nwords - 1; i >= 0; i--)
		if (strcmp(cmdline.words[i].key, key) == 0)
			return cmdline.words[i].value;
	return NULL;
}

const char *cmdline_next(const char *key, int *cursor)
{
	for (; *cursor < cmdline.nwords; (*cursor)++)
		if (strcmp(cmdline.words[*cursor].key, key) == 0)
			return cmdline.words[(*cursor)++].value;
	return NULL;
}
