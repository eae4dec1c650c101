/* SPDX-License-Identifier: MIT */
/*
 * split.c - splits a shell line into words the way a person expects from
 * a shell: blanks separate, quotes group, backslashes escape. See split.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "split.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Copies the JSON object or array at P (P[0] is '{' or '[') to *OUT as it
 * is, quotes and blanks included, up to its closing bracket. Returns
 * where it ends, or NULL when the line ends first (*OUT holds the rest).
 */
static const char *copy_json(const char *p, char **out)
{
	bool in_string = false;
	int depth = 0;

	for (; *p; p++) {
		*(*out)++ = *p;
		if (in_string) {
			if (*p == '\\' && p[1])
				*(*out)++ = *++p;
			else if (*p == '"')
				in_string = false;
		} else if (*p == '"') {
			in_string = true;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if ((*p == '}' || *p == ']') && --depth == 0) {
			return p + 1;
		}
	}
	return NULL;
}

/* May a JSON value start at OUT, in the word that starts at WORD? Yes at
 * the start of the word and right after its first '=' (KEY=VALUE), as
 * long as nothing before was quoted. */
static bool json_may_start(const char *word, const char *out, bool quoted)
{
	return out == word ||
	       (!quoted && out[-1] == '=' && !memchr(word, '=', out - word - 1));
}

int split_line(const char *line, unsigned flags, struct split *s)
{
	size_t len = strlen(line);
	char *buf, *out;
	const char *p = line;
	bool partial = flags & SPLIT_PARTIAL;
	bool in_word = false, quoted = false;

	memset(s, 0, sizeof(*s));
	/*
	 * Words only ever shrink (quotes and backslashes are dropped), so one
	 * buffer of the line's size holds them all, each NUL-terminated; a
	 * line of LEN characters has at most LEN / 2 + 1 words, plus the
	 * empty word SPLIT_PARTIAL may add and the NULL.
	 */
	buf = malloc(len + 2);
	s->argv = calloc(len / 2 + 3, sizeof(*s->argv));
	if (!buf || !s->argv) {
		free(buf);
		free(s->argv);
		s->argv = NULL;
		snprintf(s->error, sizeof(s->error), "out of memory");
		return -1;
	}
	out = buf;

	while (*p) {
		const char *start;
		char quote;

		if (is_blank(*p)) {
			if (in_word) {
				*out++ = '\0';
				in_word = false;
			}
			p++;
			continue;
		}
		if (!in_word) {
			s->argv[s->argc++] = out;
			in_word = true;
			quoted = false;
		}
		if ((*p == '{' || *p == '[') &&
		    json_may_start(s->argv[s->argc - 1], out, quoted)) {
			start = p;
			p = copy_json(p, &out);
			if (p)
				continue;
			if (partial)
				break;
			snprintf(s->error, sizeof(s->error),
				 "unterminated JSON %s starting at column %zu: close it with %c",
				 *start == '{' ? "object" : "array",
				 (size_t)(start - line) + 1,
				 *start == '{' ? '}' : ']');
			goto fail;
		}
		if (*p == '\\' || *p == '\'' || *p == '"')
			quoted = true;
		switch (*p) {
		case '\\':
			if (!p[1]) {
				if (partial) {
					p++;
					break;
				}
				snprintf(s->error, sizeof(s->error),
					 "the line ends with a backslash: "
					 "write \\\\ for a backslash");
				goto fail;
			}
			*out++ = p[1];
			p += 2;
			break;
		case '\'':
		case '"':
			quote = *p;
			start = p++;
			while (*p && *p != quote) {
				if (quote == '"' && *p == '\\' &&
				    (p[1] == '"' || p[1] == '\\'))
					p++;
				*out++ = *p++;
			}
			if (!*p) {
				if (partial)
					break;
				snprintf(s->error, sizeof(s->error),
					 "unterminated %c quote starting at "
					 "column %zu: close it with %c",
					 quote, (size_t)(start - line) + 1,
					 quote);
				goto fail;
			}
			p++;
			break;
		default:
			*out++ = *p++;
		}
	}
	if (in_word)
		*out++ = '\0';
	else if (partial) {
		*out++ = '\0';
		s->argv[s->argc++] = out - 1;
	}
	s->argv[s->argc] = NULL;
	if (!s->argc)
		free(buf);
	return 0;

fail:
	free(buf);
	free(s->argv);
	s->argv = NULL;
	s->argc = 0;
	return -1;
}

void split_free(struct split *s)
{
	if (s->argv) {
		/* All words live in one buffer, which starts with the first. */
		if (s->argc)
			free(s->argv[0]);
		free(s->argv);
	}
	s->argv = NULL;
	s->argc = 0;
}
