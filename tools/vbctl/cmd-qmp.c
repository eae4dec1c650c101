/* SPDX-License-Identifier: MIT */
/*
 * cmd-qmp.c - "vbctl qmp COMMAND [KEY=VALUE...]": any QMP command, with
 * arguments in qmp-shell syntax (kv.h).
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "kv.h"
#include "print.h"

static const struct vbctl_arg qmp_args[] = {
	{ "COMMAND", VBCTL_ARG_QMP_COMMAND, false },
	{ "KEY=VALUE", VBCTL_ARG_QMP_KV, true },
	{ NULL },
};

static int run_qmp(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_qmp = {
	.name = "qmp",
	.usage = "COMMAND [KEY=VALUE...]",
	.summary = "run any QMP command",
	.help =
	"Runs the QMP command COMMAND and prints QEMU's return value as JSON\n"
	"(a string return value, e.g. of human-monitor-command, as its text).\n"
	"Arguments are KEY=VALUE as in qmp-shell: a VALUE that parses as JSON\n"
	"is JSON (numbers, true, false, null, objects, arrays, \"strings\"),\n"
	"anything else a string; dotted keys nest (a.b=1 c=2 sends\n"
	"{\"a\": {\"b\": 1}, \"c\": 2}). For the qom-* commands, path=balloon is\n"
	"the balloon device. A QMP error prints its class and description and\n"
	"exits 1.\n",
	.flags = VBCTL_NEEDS_QMP,
	.shortopts = "+",
	.args = qmp_args,
	.min_args = 1,
	.max_args = -1,
	.run = run_qmp,
};

/* For the qom-* commands, path=balloon names the balloon device, as
 * PATH "balloon" does for vbctl's own qom-get. 0, 1 or 3. */
static int resolve_balloon_alias(struct vbctl *v, const char *command,
				 struct json_object *args)
{
	struct json_object *value;
	const char *path;
	int rc;

	if (strncmp(command, "qom-", 4) != 0 ||
	    !json_object_object_get_ex(args, "path", &value) ||
	    !json_object_is_type(value, json_type_string) ||
	    strcmp(json_object_get_string(value), "balloon") != 0)
		return 0;
	rc = vbctl_balloon_path(v, &path);
	if (rc == 0)
		json_object_object_add(args, "path", json_object_new_string(path));
	return rc;
}

static int run_qmp(struct vbctl *v, int argc, char **argv)
{
	struct json_object *args = NULL, *ret = NULL;
	char err[VBCTL_KV_ERR_MAX];
	const char *command;
	int rc;

	rc = vbctl_parse_plain(v, &vbctl_cmd_qmp, argc, argv);
	if (rc)
		return rc;
	command = argv[optind];
	if (!*command)
		return vbctl_usage_error(v, &vbctl_cmd_qmp,
					 "empty COMMAND: name a QMP command, e.g. query-status");
	if (vbctl_kv_parse(argc - optind - 1, argv + optind + 1, &args, err,
			   sizeof(err)))
		return vbctl_usage_error(v, &vbctl_cmd_qmp, "%s", err);
	rc = vbctl_connect(v);
	if (rc == 0)
		rc = resolve_balloon_alias(v, command, args);
	if (rc == 0) {
		rc = qmp_execute(v->q, command, args, &ret);
		rc = vbctl_print_reply(v, rc, ret, command);
	}
	json_object_put(args);
	return rc;
}
