/* SPDX-License-Identifier: MIT */
/*
 * shell-qemu.h - "vbctl shell -- qemu-system-x86_64 ARGS...": start QEMU
 * with a private QMP socket for the shell, and stop it when the shell ends
 * (what qmp-shell-wrap does).
 */
#ifndef VBCTL_SHELL_QEMU_H
#define VBCTL_SHELL_QEMU_H

#include <sys/types.h>

struct vbctl;

struct shell_qemu {
	pid_t pid;		/* 0: not started */
	char *dir;		/* private directory of the socket */
	char *sock;		/* the QMP socket: v->addr while it runs */
};

/*
 * Starts ARGV (a QEMU command line) with "-qmp unix:SOCK,server=on,
 * wait=off" added, SOCK in a new private directory, and connects V to it
 * as soon as it answers (waiting up to the -t timeout, default 10 s).
 * Sets v->addr.
 * Returns 0, or a VBCTL_EXIT_* status after saying what went wrong (QEMU
 * is stopped then).
 */
int shell_qemu_start(struct vbctl *v, struct shell_qemu *sq, int argc,
		     char **argv);
/* Gives QEMU GRACE_MS to end on its own (after a QMP quit), then stops
 * it (SIGTERM, SIGKILL after 5 s), and removes the socket's directory. */
void shell_qemu_stop(struct shell_qemu *sq, int grace_ms);

#endif
