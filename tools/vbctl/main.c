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

#include <qmp/qmp.h>

#define DEFAULT_SOCKET "./qmp-sock"
/* Long options without a short form. */
#define OPT_NO_RECONNECT 256
#define OPT_TLS_CA 257
#define OPT_TLS_CERT 258
#define OPT_TLS_KEY 259

static const struct option global_options[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "sockets", required_argument, NULL, 'S' },
	{ "connect", required_argument, NULL, 'c' },
	{ "domain", required_argument, NULL, 'd' },
	{ "all", no_argument, NULL, 'A' },
	{ "json", no_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 't' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "reconnect", no_argument, NULL, 'r' },
	{ "no-reconnect", no_argument, NULL, OPT_NO_RECONNECT },
	{ "tls-ca", required_argument, NULL, OPT_TLS_CA },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
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
	.shortopts = "+s:S:c:d:jt:vrhV",
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
			if (vbctl_add_addr(v, optarg) < 0)
				return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
			break;
		case 'S':
			v->sockets = optarg;
			break;
		case 'c':
			v->uri = optarg;
			break;
		case 'd':
			if (vbctl_add_domain(v, optarg) < 0)
				return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
			break;
		case 'A':
			v->all = true;
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
		case OPT_TLS_CA:
			v->tls_ca = optarg;
			break;
		case OPT_TLS_CERT:
			v->tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			v->tls_key = optarg;
			break;
		case 'h':
			vbctl_print_usage(v->out);
			return VBCTL_EXIT_OK;
		case 'V':
			fprintf(v->out, "vbctl (%s) %s (%s libvirt)\n", PACKAGE_NAME,
				PACKAGE_VERSION, qmp_have_libvirt() ? "with" : "without");
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

static const char *nonempty_env(const char *name)
{
	const char *value = getenv(name);

	return value && *value ? value : NULL;
}

/*
 * Targets named on the command line win; without any, the environment
 * names them ($VBCTL_URI with $VBCTL_DOMAIN, $VBCTL_SOCKETS; the single
 * socket $VBCTL_SOCKET was read before). -d and --all take their URI from
 * -c or $VBCTL_URI. Returns -1 to go on, or an exit status.
 */
static int resolve_targets(struct vbctl *v)
{
	bool named = v->naddrs || v->sockets || v->uri || v->ndomains || v->all;
	const char *domain;

	if (!named) {
		v->uri = nonempty_env("VBCTL_URI");
		domain = nonempty_env("VBCTL_DOMAIN");
		if (v->uri && domain && vbctl_add_domain(v, domain) < 0)
			return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
		v->sockets = nonempty_env("VBCTL_SOCKETS");
	} else if (!v->uri && (v->ndomains || v->all)) {
		v->uri = nonempty_env("VBCTL_URI");
		if (!v->uri)
			return vbctl_error(v, VBCTL_EXIT_USAGE,
					   "%s needs a libvirt URI: give -c URI (e.g. -c qemu:///system) or set VBCTL_URI; see 'vbctl --help'",
					   v->all ? "--all" : "-d");
	}
	if (v->uri && !qmp_have_libvirt())
		return vbctl_error(v, VBCTL_EXIT_USAGE,
				   "-c %s: this vbctl was built without libvirt (configure --with-libvirt, with libvirt-dev installed); use -s with a QMP socket instead",
				   v->uri);
	return -1;
}

int main(int argc, char **argv)
{
	const struct vbctl_cmd *cmd;
	/* Static: a Ctrl-C that comes while the process exits (after main
	 * returned) still finds it for on_sigint(). */
	static struct vbctl v;
	int rc;

	vbctl_init(&v);
	v.tls_ca = getenv("VBCTL_TLS_CA");
	v.tls_cert = getenv("VBCTL_TLS_CERT");
	v.tls_key = getenv("VBCTL_TLS_KEY");
	v.addr = getenv("VBCTL_SOCKET");
	if (!v.addr || !*v.addr)
		v.addr = DEFAULT_SOCKET;
	/* The bash completion script's entry point (not in the table, so
	 * not in help). */
	if (argc > 1 && strcmp(argv[1], "__complete") == 0) {
		rc = vbctl_complete_main(&v, &global_cmd, argc - 2, argv + 2);
		vbctl_print_flush(&v);
		vbctl_release(&v);
		return rc;
	}
	rc = parse_global_options(&v, argc, argv);
	if (rc < 0)
		rc = resolve_targets(&v);
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
