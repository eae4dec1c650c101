/* SPDX-License-Identifier: MIT */
/*
 * shell-line.h - what a line typed in the shell is: a JSON object sent as
 * it is, a command that takes the rest of the line as it was typed (hmp),
 * a QMP command in qmp-shell syntax, or a vbctl command of the table.
 * The shell runs lines by this, and the completer completes by it.
 */
#ifndef VBCTL_SHELL_LINE_H
#define VBCTL_SHELL_LINE_H

#include <stdbool.h>

struct vbctl_cmd;

enum shell_line_kind {
	SHELL_LINE_EMPTY,	/* blank, or a # comment */
	SHELL_LINE_JSON,	/* starts with '{' or '[' */
	SHELL_LINE_RAW,		/* a VBCTL_RAW_ARGS command: hmp ... */
	SHELL_LINE_WORDS,	/* anything else: split into words */
};

/*
 * The kind of LINE. For SHELL_LINE_RAW, *cmd is the command and *rest
 * the text after its name, as typed (the splitter would eat HMP's
 * quotes). LINE's leading blanks are skipped: *start is where it begins.
 */
enum shell_line_kind shell_line_classify(const char *line, const char **start,
					 const struct vbctl_cmd **cmd,
					 const char **rest);

/*
 * True when the words of a line are a QMP command in qmp-shell syntax
 * rather than the vbctl command of that name: the name is not a vbctl
 * command, or every argument after it is KEY=VALUE (qom-get path=...
 * property=...), which no vbctl command takes.
 */
bool shell_line_is_qmp(int argc, char **argv);

#endif
