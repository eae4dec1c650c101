/* SPDX-License-Identifier: MIT */
/*
 * shell-history.h - the interactive shell's history file:
 * $XDG_STATE_HOME/vbctl/history, else ~/.vbctl_history, private (0600),
 * without duplicates, saved after every line.
 */
#ifndef VBCTL_SHELL_HISTORY_H
#define VBCTL_SHELL_HISTORY_H

#include <stdbool.h>

struct vbctl;

struct shell_history {
	char *path;	/* NULL: no history */
	bool warned;	/* a failed save was reported */
};

/* Finds the file (making its directory) and loads it into readline. */
void shell_history_open(struct shell_history *h);
/* Adds LINE, dropping older copies, and saves the file; a failure to
 * save is reported once through V. */
void shell_history_add(struct shell_history *h, struct vbctl *v,
		       const char *line);
void shell_history_close(struct shell_history *h);

#endif
