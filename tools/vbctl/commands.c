/* SPDX-License-Identifier: MIT */
/*
 * commands.c - the command table: dispatch, help and (in the shell)
 * completion all read it. Each command lives in its own cmd-*.c.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <qmp/qmp.h>

#include "vbctl.h"

const struct vbctl_cmd *const vbctl_commands[] = {
	&vbctl_cmd_query,
	&vbctl_cmd_set,
	&vbctl_cmd_list,
	&vbctl_cmd_top,
	&vbctl_cmd_auto,
	&vbctl_cmd_stats,
	&vbctl_cmd_qom_list,
	&vbctl_cmd_qom_get,
	&vbctl_cmd_qom_set,
	&vbctl_cmd_events,
	&vbctl_cmd_doctor,
	&vbctl_cmd_check,
	&vbctl_cmd_exporter,
	&vbctl_cmd_qmp,
	&vbctl_cmd_shell,
	&vbctl_cmd_help,
	&vbctl_cmd_hmp,
	&vbctl_cmd_quit,	/* and exit */
	NULL,
};

const struct vbctl_cmd *vbctl_find_command(const char *name)
{
	const struct vbctl_cmd *const *cmd;

	for (cmd = vbctl_commands; *cmd; cmd++)
		if (strcmp((*cmd)->name, name) == 0 ||
		    ((*cmd)->alias && strcmp((*cmd)->alias, name) == 0))
			return *cmd;
	return NULL;
}

const struct vbctl_cmd *vbctl_lookup_command(const struct vbctl *v,
					     const char *name)
{
	const struct vbctl_cmd *cmd = vbctl_find_command(name);

	if (cmd && (cmd->flags & VBCTL_SHELL_ONLY) && !v->in_shell)
		return NULL;
	return cmd;
}

/* "CMD --help" or "CMD -h" anywhere before a "--": show CMD's help
 * instead of running it. No command takes "-h" or "--help" as a value. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

int vbctl_run_command(struct vbctl *v, int argc, char **argv)
{
	const struct vbctl_cmd *cmd = vbctl_lookup_command(v, argv[0]);

	if (!cmd)
		return vbctl_error(v, VBCTL_EXIT_USAGE,
				   "unknown command '%s'; 'vbctl help' lists the commands",
				   argv[0]);
	if (wants_help(argc, argv)) {
		vbctl_print_command_help(v->out, cmd);
		return fflush(v->out) == 0 ? VBCTL_EXIT_OK :
			vbctl_error(v, VBCTL_EXIT_FAIL, "cannot write to standard output");
	}
	/* A lost connection stays lost (libqmp's errors stick): in a shell,
	 * say so at once rather than let the command fail in its own way.
	 * help needs no connection and still works. */
	if ((cmd->flags & VBCTL_NEEDS_QMP) && v->q && qmp_is_broken(v->q))
		return vbctl_connection_lost(v, cmd->name);
	return cmd->run(v, argc, argv);
}
