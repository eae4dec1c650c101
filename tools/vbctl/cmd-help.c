/* SPDX-License-Identifier: MIT */
/*
 * cmd-help.c - "vbctl help [COMMAND]" and the usage text of --help, both
 * made from the command table.
 */
#include "config.h"

#include "vbctl.h"

static const struct vbctl_arg help_args[] = {
	{ "COMMAND", VBCTL_ARG_COMMAND, false },
	{ NULL },
};

static int run_help(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_help = {
	.name = "help",
	.usage = "[COMMAND]",
	.summary = "show this help, or a command's",
	.help =
	"Without COMMAND: the global options and the list of commands. With\n"
	"COMMAND: what it does and its options.\n",
	.flags = 0,
	.shortopts = "+",
	.args = help_args,
	.min_args = 0,
	.max_args = 1,
	.run = run_help,
};

void vbctl_print_usage(FILE *f)
{
	const struct vbctl_cmd *const *cmd;

	fputs("Usage: vbctl [-s|--socket ADDR]... [--sockets GLOB] [-c|--connect URI [-d|--domain DOMAIN]... [--all]]\n"
	      "             [-j|--json] [-t|--timeout SECONDS] [-v|--verbose] [-r|--reconnect|--no-reconnect]\n"
	      "             [--tls-ca FILE] [--tls-cert FILE --tls-key FILE] COMMAND [ARGS...]\n"
	      "\n"
	      "Controls the virtio-balloon device of QEMU VMs over QMP.\n"
	      "\n"
	      "Options:\n"
	      "  -s, --socket ADDR      QMP socket: PATH, unix:PATH, tcp:HOST:PORT or\n"
	      "                         tls:HOST:PORT (default: $VBCTL_SOCKET, else\n"
	      "                         ./qmp-sock);\n"
	      "                         repeat it to name several VMs\n"
	      "      --sockets GLOB     every QMP socket matching GLOB (several:\n"
	      "                         GLOB:GLOB; default: $VBCTL_SOCKETS)\n"
	      "  -c, --connect URI      reach VMs through libvirt at URI, e.g.\n"
	      "                         qemu:///system (default: $VBCTL_URI)\n"
	      "  -d, --domain DOMAIN    a libvirt domain: name, UUID or id (default:\n"
	      "                         $VBCTL_DOMAIN); repeat it for several; without\n"
	      "                         -d, every running domain at URI\n"
	      "      --all              every domain at URI (list: shut-off ones too)\n"
	      "  -j, --json             machine output: QEMU's return value as one JSON\n"
	      "                         document; streams: one JSON object per line\n"
	      "  -t, --timeout SECONDS  bound on connecting and on each QMP exchange\n"
	      "                         (default 10)\n"
	      "  -v, --verbose          show the QMP traffic on stderr (twice: also\n"
	      "                         libqmp's notes)\n"
	      "  -r, --reconnect        streams (events, stats --watch, set --wait):\n"
	      "                         when QEMU goes away, say so, connect again\n"
	      "                         until it is back, re-arm and go on (the shell\n"
	      "                         does this unless --no-reconnect)\n"
	      "      --tls-ca FILE      tls: QEMU's certificate must lead to this CA\n"
	      "                         (PEM; default $VBCTL_TLS_CA, else the system's)\n"
	      "      --tls-cert FILE    tls: a client certificate, when QEMU asks for\n"
	      "                         one (default $VBCTL_TLS_CERT)\n"
	      "      --tls-key FILE     its key (default $VBCTL_TLS_KEY)\n"
	      "  -h, --help             show this help\n"
	      "  -V, --version          show the version\n"
	      "\n"
	      "Commands:\n", f);
	/* The shell's own commands are listed by the shell's help. */
	for (cmd = vbctl_commands; *cmd; cmd++)
		if (!((*cmd)->flags & VBCTL_SHELL_ONLY))
			fprintf(f, "  %-10s %s\n", (*cmd)->name, (*cmd)->summary);
	fputs("\n"
	      "With several VMs (-s or -d repeated, --sockets, -c without -d,\n"
	      "--all), list, top, query, set and stats run\n"
	      "on all of them at once: one line per VM, the exit status the worst.\n"
	      "'vbctl help COMMAND' shows a command's arguments and options.\n"
	      "Exit status: 0 ok, 1 the command failed, 2 usage error,\n"
	      "3 cannot connect or the connection was lost.\n", f);
}

void vbctl_print_command_help(FILE *f, const struct vbctl_cmd *cmd)
{
	fprintf(f, "Usage: vbctl %s%s%s\n\n%s", cmd->name,
		*cmd->usage ? " " : "", cmd->usage, cmd->help);
}

static int run_help(struct vbctl *v, int argc, char **argv)
{
	const struct vbctl_cmd *cmd;
	int rc;

	rc = vbctl_parse_plain(v, &vbctl_cmd_help, argc, argv);
	if (rc)
		return rc;
	if (optind == argc) {
		vbctl_print_usage(v->out);
		return VBCTL_EXIT_OK;
	}
	cmd = vbctl_lookup_command(v, argv[optind]);
	if (!cmd)
		return vbctl_usage_error(v, &vbctl_cmd_help,
					 "unknown command '%s' ('vbctl help' lists them)",
					 argv[optind]);
	vbctl_print_command_help(v->out, cmd);
	return VBCTL_EXIT_OK;
}
