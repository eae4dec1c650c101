/* SPDX-License-Identifier: MIT */
/*
 * cmd-complete.c - "vbctl __complete WORD...": the candidates for the last
 * word of a vbctl command line, one per line, for the bash completion
 * script. It asks the shell's completer (complete.h), so Tab offers the
 * same in bash as in "vbctl shell". Hidden: not a row of the table.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qmp/qmp.h>

#include "complete.h"
#include "vbctl.h"

/* A Tab must not hang on a busy or dead QEMU: at most this long to read
 * QOM properties and the like. */
#define COMPLETE_TIMEOUT_MS 2000

/* Arguments of these kinds are QEMU's data: connect to complete them. */
static bool needs_qemu(const struct vbctl_cmd *cmd)
{
	const struct vbctl_arg *a;

	for (a = cmd->args; a && a->name; a++)
		if (a->kind != VBCTL_ARG_NONE && a->kind != VBCTL_ARG_SIZE &&
		    a->kind != VBCTL_ARG_COMMAND)
			return true;
	return false;
}

/* "--name" for each global option that starts with WORD. */
static void print_global_options(const struct vbctl_cmd *global,
				 const char *word)
{
	const struct option *o;
	char name[64];

	for (o = global->longopts; o && o->name; o++) {
		snprintf(name, sizeof(name), "--%s", o->name);
		if (strncmp(name, word, strlen(word)) == 0)
			printf("%s\n", name);
	}
}

/* Prints NAMES (NULL-terminated) that start with WORD. */
static void print_matching(const char *const *names, const char *word)
{
	for (; names && *names; names++)
		if (strncmp(*names, word, strlen(word)) == 0)
			printf("%s\n", *names);
}

/*
 * WORD is the value of global option OPT: -c offers the local libvirt
 * URIs, -d the domains at URI (every one, running or not). Sockets (-s)
 * are files: the shell completes those.
 */
static int complete_global_value(struct vbctl *v, const char *opt,
				 const char *uri, const char *word)
{
	static const char *const uris[] = {
		"qemu:///system", "qemu:///session", NULL,
	};
	struct qmp *q;
	char **names = NULL;

	if (!strcmp(opt, "-c") || !strcmp(opt, "--connect")) {
		print_matching(uris, word);
	} else if ((!strcmp(opt, "-d") || !strcmp(opt, "--domain")) && uri &&
		   (q = qmp_new())) {
		if (qmp_libvirt_list_domains(q, uri, true, &names) >= 0)
			print_matching((const char *const *)names, word);
		qmp_strv_free(names);
		qmp_unref(q);
	}
	return VBCTL_EXIT_OK;
}

/* A value as bash passes it, quotes and all ('/run/vms/x*.qmp' with its
 * quotes): the quotes dropped, in place. */
static char *unquote(char *word)
{
	size_t n = strlen(word);

	if (n >= 2 && (word[0] == '\'' || word[0] == '"') && word[n - 1] == word[0]) {
		word[n - 1] = '\0';
		return word + 1;
	}
	return word;
}

/* A target option OPT ("-s" or "--socket", ...) with VALUE: -s says which
 * VM to ask; all of them name the fleet (auto --weight VM=). */
static void note_target(struct vbctl *v, const char *opt, const char *value,
			const char **uri, bool *named)
{
	if (!strcmp(opt, "-s") || !strcmp(opt, "--socket")) {
		v->addr = value;
		vbctl_add_addr(v, value);
	} else if (!strcmp(opt, "-S") || !strcmp(opt, "--sockets")) {
		v->sockets = value;
	} else if (!strcmp(opt, "-c") || !strcmp(opt, "--connect")) {
		*uri = value;
	} else if (!strcmp(opt, "-d") || !strcmp(opt, "--domain")) {
		vbctl_add_domain(v, value);
	} else {
		return;
	}
	*named = true;
}

int vbctl_complete_main(struct vbctl *v, const struct vbctl_cmd *global,
			int argc, char **argv)
{
	const struct vbctl_cmd *cmd = NULL;
	struct completer *c;
	const char *word, *uri, *env_uri;
	bool named = false;
	char **list;
	size_t n, k;
	int i;

	/* Nothing but candidates may reach the terminal. */
	if (!freopen("/dev/null", "w", stderr))
		return VBCTL_EXIT_FAIL;
	if (argc > 0 && strcmp(argv[0], "--") == 0) {
		argc--;
		argv++;
	}
	if (argc == 0)
		return VBCTL_EXIT_USAGE;
	word = argv[argc - 1];

	/* Global options up to the command: -s ADDR says which VM to ask,
	 * -c URI which libvirt. */
	uri = env_uri = getenv("VBCTL_URI");
	for (i = 0; i < argc - 1; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (argv[i][0] != '-' || !argv[i][1])
			break;
		if (vbctl_option_takes_value(global, argv[i])) {
			/* The word being typed is this option's value. */
			if (i + 1 == argc - 1)
				return complete_global_value(v, argv[i], uri, word);
			note_target(v, argv[i], unquote(argv[i + 1]), &uri, &named);
			i++;
		} else if (!strncmp(argv[i], "--", 2) && strchr(argv[i], '=')) {
			char *eq = strchr(argv[i], '=');

			*eq = '\0';
			note_target(v, argv[i], unquote(eq + 1), &uri, &named);
		} else if ((!strncmp(argv[i], "-s", 2) || !strncmp(argv[i], "-c", 2) ||
			    !strncmp(argv[i], "-d", 2)) && argv[i][2]) {
			char opt[3] = { '-', argv[i][1], '\0' };

			note_target(v, opt, unquote(argv[i] + 2), &uri, &named);
		}
	}
	/* The fleet's targets for completing VM names (auto --weight VM=):
	 * as vbctl takes them, the environment's when none is named. */
	if (!named) {
		v->sockets = getenv("VBCTL_SOCKETS");
		if (uri && getenv("VBCTL_DOMAIN"))
			vbctl_add_domain(v, getenv("VBCTL_DOMAIN"));
	}
	/* $VBCTL_URI serves -d, or names the fleet when nothing else does. */
	v->uri = uri != env_uri || v->ndomains || !named ? uri : NULL;
	if (i == argc - 1 && word[0] == '-') {
		print_global_options(global, word);
		return VBCTL_EXIT_OK;
	}
	if (i < argc - 1)
		cmd = vbctl_lookup_command(v, argv[i]);

	c = completer_new(v);
	if (!c)
		return VBCTL_EXIT_FAIL;
	completer_set_command_line(c);
	if (cmd && word[0] != '-' && needs_qemu(cmd)) {
		if (v->timeout_ms < 0 || v->timeout_ms > COMPLETE_TIMEOUT_MS)
			v->timeout_ms = COMPLETE_TIMEOUT_MS;
		/* Without QEMU there is just nothing live to offer. */
		vbctl_connect(v);
	}
	list = completer_complete(c, i < argc - 1 ? argc - 1 - i : 0,
				  argv + i, word, &n);
	for (k = 0; k < n; k++)
		printf("%s\n", list[k]);
	completer_free_list(list);
	completer_free(c);
	return VBCTL_EXIT_OK;
}
