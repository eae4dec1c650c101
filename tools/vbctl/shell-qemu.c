/* SPDX-License-Identifier: MIT */
/*
 * shell-qemu.c - the shell as qmp-shell-wrap: QEMU started for the shell
 * with a private QMP socket, stopped when the shell ends.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shell-qemu.h"
#include "vbctl.h"

/* How long QEMU has to go after SIGTERM before SIGKILL. */
#define QEMU_STOP_MS 5000
#define QEMU_POLL_MS 20

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int shell_qemu_start(struct vbctl *v, struct shell_qemu *sq, int argc,
		     char **argv)
{
	int64_t deadline = vbctl_now_ms() +
			   (v->timeout_ms > 0 ? v->timeout_ms : 10000);
	char tmpl[] = "/tmp/vbctl-shell-XXXXXX", *qmp_arg = NULL, **av;
	const char *tmp = getenv("TMPDIR");
	char why[256];
	int status, fd;

	memset(sq, 0, sizeof(*sq));
	if (tmp && *tmp && asprintf(&sq->dir, "%s/vbctl-shell-XXXXXX", tmp) >= 0) {
		if (!mkdtemp(sq->dir)) {
			free(sq->dir);
			sq->dir = NULL;
		}
	}
	if (!sq->dir && mkdtemp(tmpl))
		sq->dir = strdup(tmpl);
	if (!sq->dir)
		return vbctl_error(v, VBCTL_EXIT_FAIL, "shell: cannot make a directory for the QMP socket: %s",
				   strerror(errno));
	av = calloc((size_t)argc + 3, sizeof(*av));
	if (!av || asprintf(&sq->sock, "%s/qmp-sock", sq->dir) < 0 ||
	    asprintf(&qmp_arg, "unix:%s,server=on,wait=off", sq->sock) < 0) {
		free(av);
		shell_qemu_stop(sq, 0);
		return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
	}
	memcpy(av, argv, (size_t)argc * sizeof(*av));
	av[argc] = "-qmp";
	av[argc + 1] = qmp_arg;
	fflush(NULL);
	sq->pid = fork();
	if (sq->pid == 0) {
		/* Its own process group: the shell's Ctrl-C is the shell's.
		 * The terminal is the shell's too: QEMU reads nothing. */
		setpgid(0, 0);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, STDIN_FILENO);
		execvp(av[0], av);
		fprintf(stderr, "vbctl: shell: cannot run %s: %s\n", av[0],
			strerror(errno));
		_exit(127);
	}
	free(av);
	free(qmp_arg);
	if (sq->pid < 0) {
		sq->pid = 0;
		shell_qemu_stop(sq, 0);
		return vbctl_error(v, VBCTL_EXIT_FAIL, "shell: cannot start QEMU: %s",
				   strerror(errno));
	}
	/* QEMU makes the socket once it has set the machine up: connect
	 * as soon as it is there and listening. */
	v->addr = sq->sock;
	while (vbctl_try_connect(v, why, sizeof(why)) != 0) {
		if (waitpid(sq->pid, &status, WNOHANG) == sq->pid) {
			sq->pid = 0;
			shell_qemu_stop(sq, 0);
			return vbctl_error(v, VBCTL_EXIT_CONN,
					   "shell: QEMU exited before opening its QMP socket (status %d); its messages are above",
					   WIFEXITED(status) ? WEXITSTATUS(status) :
					   128 + WTERMSIG(status));
		}
		if (vbctl_now_ms() >= deadline) {
			shell_qemu_stop(sq, 0);
			return vbctl_error(v, VBCTL_EXIT_CONN,
					   "shell: QEMU did not open its QMP socket within %g s (try a longer -t)",
					   (v->timeout_ms > 0 ? v->timeout_ms : 10000) / 1000.0);
		}
		sleep_ms(QEMU_POLL_MS);
	}
	return 0;
}

/* Waits up to MS for QEMU to end; true when it has. */
static bool reaped(struct shell_qemu *sq, int ms)
{
	int waited = 0, status;

	while (waitpid(sq->pid, &status, WNOHANG) == 0) {
		if (waited >= ms)
			return false;
		sleep_ms(QEMU_POLL_MS);
		waited += QEMU_POLL_MS;
	}
	return true;
}

void shell_qemu_stop(struct shell_qemu *sq, int grace_ms)
{
	if (sq->pid > 0 && !reaped(sq, grace_ms)) {
		kill(sq->pid, SIGTERM);
		if (!reaped(sq, QEMU_STOP_MS)) {
			kill(sq->pid, SIGKILL);
			waitpid(sq->pid, NULL, 0);
		}
	}
	sq->pid = 0;
	if (sq->sock)
		unlink(sq->sock);
	if (sq->dir)
		rmdir(sq->dir);
	free(sq->sock);
	free(sq->dir);
	sq->sock = sq->dir = NULL;
}
