/* SPDX-License-Identifier: MIT */
/*
 * main.c - the one-shot front end: global options, then one command from
 * the table, then a check that everything written reached stdout.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "print.h"

#define DEFAULT_SOCKET "./qmp-sock"
/* Long options without a short form. */
#define OPT_NO_RECONNECT 256

static const struct option global_options[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 't' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "reconnect", no_argument, NULL, 'r' },
	{ "no-reconnect", no_argument, NULL, OPT_NO_RECONNECT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The command that may be interrupted; see on_sigint(). */
static struct vbctl *running;
/* The terminal, where Ctrl-C echoes ^C; -1 when neither output is one. */
static int echo_fd = -1;

/* Ctrl-C ends a stream (events, stats --watch, set --wait) cleanly: the
 * command sees the flag, stops and reports. */
static void on_sigint(int sig)
{
	running->interrupted = 1;
	/* The terminal echoed ^C where the output stood: what comes next
	 * (a last message, the shell's prompt) starts a line of its own.
	 * A failed write leaves it where it was: nothing else to do. */
	if (echo_fd >= 0 && write(echo_fd, "\n", 1) < 0)
		return;
}

static void catch_sigint(struct vbctl *v)
{
	struct sigaction sa;

	running = v;
	echo_fd = isatty(STDERR_FILENO) ? STDERR_FILENO :
		  isatty(STDOUT_FILENO) ? STDOUT_FILENO : -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

/* The global options, described to vbctl_getopt() like a command's. */
static const struct vbctl_cmd global_cmd = {
	.name = "",
	/* '+': stop at the command; its options are its own. */
	.shortopts = "+s:jt:vrhV",
	.longopts = global_options,
};

/* Global options; returns -1 to go on to the command, else an exit code. */
static int parse_global_options(struct vbctl *v, int argc, char **argv)
{
	int c;

	vbctl_getopt_begin();
	while ((c = vbctl_getopt(v, &global_cmd, argc, argv)) != -1) {
		switch (c) {
		case 's':
			v->addr = optarg;
			break;
		case 'j':
			v->json = true;
			break;
		case 't':
			if (vbctl_parse_seconds(v, &global_cmd, "--timeout", optarg,
						&v->timeout_ms))
				return VBCTL_EXIT_USAGE;
			break;
		case 'v':
			v->verbose++;
			break;
		case 'r':
			v->reconnect = 1;
			break;
		case OPT_NO_RECONNECT:
			v->reconnect = 0;
			break;
		case 'h':
			vbctl_print_usage(v->out);
			return VBCTL_EXIT_OK;
		case 'V':
			fprintf(v->out, "vbctl (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return VBCTL_EXIT_OK;
		default:
			return VBCTL_EXIT_USAGE;
		}
	}
	/* No command on a terminal: the interactive shell (see main). */
	if (optind == argc && !isatty(STDIN_FILENO))
		return vbctl_error(v, VBCTL_EXIT_USAGE,
				   "no command given: 'vbctl help' lists them; 'vbctl shell' reads them from standard input");
	return -1;
}

int main(int argc, char **argv)
{
	const struct vbctl_cmd *cmd;
	struct vbctl v;
	int rc;

	vbctl_init(&v);
	v.addr = getenv("VBCTL_SOCKET");
	if (!v.addr || !*v.addr)
		v.addr = DEFAULT_SOCKET;
	rc = parse_global_options(&v, argc, argv);
	if (rc < 0 && optind == argc) {
		char *shell_argv[] = { (char *)vbctl_cmd_shell.name, NULL };

		rc = vbctl_run_command(&v, 1, shell_argv);
	} else if (rc < 0) {
		cmd = vbctl_find_command(argv[optind]);
		if (cmd && (cmd->flags & VBCTL_STREAM))
			catch_sigint(&v);
		rc = vbctl_run_command(&v, argc - optind, argv + optind);
	}

	if (vbctl_print_flush(&v)) {
		vbctl_error(&v, VBCTL_EXIT_FAIL, "cannot write to standard output");
		if (rc == VBCTL_EXIT_OK)
			rc = VBCTL_EXIT_FAIL;
	}
	vbctl_release(&v);
	return rc;
}
