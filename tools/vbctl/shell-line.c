/* SPDX-License-Identifier: MIT */
/*
 * shell-line.c - the shell's line classification (see shell-line.h): one
 * place decides what a line is, for running it and for completing it.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "shell-line.h"
#include "vbctl.h"

enum shell_line_kind shell_line_classify(const char *line, const char **start,
					 const struct vbctl_cmd **cmd,
					 const char **rest)
{
	const struct vbctl_cmd *const *c;
	size_t len;

	line += strspn(line, " \t\r\n");
	*start = line;
	if (!*line || *line == '#')
		return SHELL_LINE_EMPTY;
	if (*line == '{' || *line == '[')
		return SHELL_LINE_JSON;
	len = strcspn(line, " \t");
	for (c = vbctl_commands; *c; c++) {
		if (((*c)->flags & VBCTL_RAW_ARGS) &&
		    strlen((*c)->name) == len &&
		    strncmp(line, (*c)->name, len) == 0) {
			*cmd = *c;
			*rest = line + len + strspn(line + len, " \t");
			return SHELL_LINE_RAW;
		}
	}
	return SHELL_LINE_WORDS;
}

static bool looks_like_kv(const char *w)
{
	const char *p = w;

	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' ||
	       *p == '.')
		p++;
	return *p == '=';
}

bool shell_line_is_qmp(int argc, char **argv)
{
	int i;

	if (!vbctl_find_command(argv[0]))
		return true;
	if (argc < 2)
		return false;
	for (i = 1; i < argc; i++)
		if (!looks_like_kv(argv[i]))
			return false;
	return true;
}
