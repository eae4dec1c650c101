/* SPDX-License-Identifier: MIT */
/*
 * shell-history.c - the shell's history file (see shell-history.h),
 * through readline's history library.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <readline/history.h>

#include "shell-history.h"
#include "vbctl.h"

/* Lines kept in the history file. */
#define SHELL_HISTORY_MAX 1000

/* $XDG_STATE_HOME/vbctl/history (directory made if missing), else
 * ~/.vbctl_history; NULL when neither can be had. */
static char *history_path(void)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char *path = NULL;

	if (state && *state) {
		if (asprintf(&path, "%s/vbctl", state) < 0)
			return NULL;
		/* mkdir -p, one level at a time; 0700: the history is
		 * private (it may hold QOM paths, HMP commands). */
		for (char *p = path + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			mkdir(path, 0700);
			*p = '/';
		}
		mkdir(path, 0700);
		free(path);
		if (asprintf(&path, "%s/vbctl/history", state) < 0)
			return NULL;
		return path;
	}
	if (home && *home && asprintf(&path, "%s/.vbctl_history", home) >= 0)
		return path;
	return NULL;
}

void shell_history_open(struct shell_history *h)
{
	int fd;

	h->path = history_path();
	if (!h->path)
		return;
	stifle_history(SHELL_HISTORY_MAX);
	/* Create it 0600 whatever the umask grants; an existing file keeps
	 * its mode (readline rewrites it through a 0600 temporary). */
	fd = open(h->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	read_history(h->path);
	history_set_pos(history_length);
}

/*
 * Adds LINE, dropping older copies of it (bash's erasedups), so Up walks
 * through distinct commands; then saves the file right away, so no
 * history is lost when the shell is killed or QEMU goes away.
 */
void shell_history_add(struct shell_history *h, struct vbctl *v,
		       const char *line)
{
	int i, err;

	if (!h->path)
		return;
	for (i = history_length - 1; i >= 0; i--) {
		HIST_ENTRY *he = history_get(history_base + i);

		if (he && strcmp(he->line, line) == 0)
			free_history_entry(remove_history(i));
	}
	add_history(line);
	err = write_history(h->path);
	/* Said once: the line was entered, so this starts a line of its own. */
	if (err && !h->warned) {
		h->warned = true;
		vbctl_error(v, 0, "cannot save the history in %s: %s",
			    h->path, strerror(err));
	}
}


void shell_history_close(struct shell_history *h)
{
	free(h->path);
	h->path = NULL;
}
