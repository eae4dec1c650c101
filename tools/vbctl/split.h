/* SPDX-License-Identifier: MIT */
/*
 * split.h - the shell's quote-aware line splitter (never wordexp(3): no
 * globbing, no variables, no command substitution, nothing runs).
 */
#ifndef VBCTL_SPLIT_H
#define VBCTL_SPLIT_H

#include <stdbool.h>

enum split_flags {
	/*
	 * For completion: the line is half typed. An unterminated quote or a
	 * final backslash is accepted, and when the line is empty or ends in
	 * an unquoted blank an empty word is appended, so argv[argc - 1] is
	 * always the word being typed.
	 */
	SPLIT_PARTIAL = 1 << 0,
};

struct split {
	int argc;
	char **argv;		/* argc words, then NULL; owned, see split_free */
	char error[96];		/* why split_line failed, names the culprit */
};

/*
 * Split LINE into words. Blanks (space, tab, newline) separate words.
 * Inside '...' every character stands for itself. Inside "..." a
 * backslash escapes only " and \ (anything else keeps its backslash).
 * Outside quotes a backslash makes the next character literal. Quotes
 * may join parts of one word: value='"2"' is the word value="2".
 * A JSON object or array at the start of a word or right after its first
 * '=' is kept as it is, quotes and blanks included, up to its closing
 * bracket, so qmp-shell's file={"driver": "null-co"} is one word.
 * Returns 0, or -1 with s->error set (unterminated quote or JSON value,
 * trailing backslash) and nothing to free. -1 also on allocation failure.
 */
int split_line(const char *line, unsigned flags, struct split *s);
void split_free(struct split *s);

#endif
