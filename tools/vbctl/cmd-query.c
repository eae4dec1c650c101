/* SPDX-License-Identifier: MIT */
/*
 * cmd-query.c - "vbctl query": the guest's current logical memory size,
 * QEMU's query-balloon "actual".
 */
#include "config.h"

#include <stdlib.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "fleet.h"
#include "print.h"
#include "size.h"

static const struct vbctl_arg query_args[] = { { NULL } };

static int run_query(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_query = {
	.name = "query",
	.usage = "",
	.summary = "show the guest's current memory size",
	.help =
	"Shows the guest's current logical memory size: its boot memory minus\n"
	"what the balloon holds (QMP query-balloon \"actual\"), in IEC units and\n"
	"exact bytes. With --json: QEMU's return value, {\"actual\": BYTES}.\n"
	"With several VMs (-s repeated, --sockets): all at once, one line each,\n"
	"NAME and its size (--json: {\"name\", \"actual\"} or {\"name\", \"error\"}\n"
	"per line); the exit status is the worst of them.\n",
	.flags = VBCTL_NEEDS_QMP,
	.shortopts = "+",
	.args = query_args,
	.min_args = 0,
	.max_args = 0,
	.run = run_query,
};

static void fleet_query_start(struct fleet_vm *vm, void *data)
{
	fleet_send(vm, "query-balloon", NULL, 0);
}

static void fleet_query_reply(struct fleet_vm *vm, void *data, int tag,
			      int rc, struct json_object *ret)
{
	uint64_t *actual = data;

	if (rc)
		fleet_qmp_error(vm, "query-balloon");
	else if (!fleet_get_u64(ret, "actual", &actual[vm->index]))
		fleet_protocol_error(vm, ret, "query-balloon returned no \"actual\" in bytes");
}

static int fleet_query(struct vbctl *v)
{
	static const struct fleet_ops ops = {
		.start = fleet_query_start,
		.reply = fleet_query_reply,
	};
	char human[VBCTL_SIZE_HUMAN_MAX];
	struct json_object *obj;
	struct fleet_vm *vm;
	uint64_t *actual;
	struct fleet *f;
	int rc, status;
	size_t i;

	rc = fleet_open_rows(v, 0, sizeof(*actual), &f, (void **)&actual, &status);
	if (rc)
		return rc;
	status = fleet_worse(status, fleet_run(f, &ops, actual));
	for (i = 0; i < fleet_count(f); i++) {
		vm = fleet_vm(f, i);
		if (v->json) {
			obj = fleet_json_row(vm);
			if (!vm->status)
				json_object_object_add(obj, "actual", json_object_new_uint64(actual[i]));
			rc = vbctl_print(v, VBCTL_PRINT_STREAM, obj, NULL);
			json_object_put(obj);
		} else if (vm->status) {
			rc = vbctl_print(v, 0, NULL, "%-20s -\n", vm->name);
		} else {
			rc = vbctl_print(v, 0, NULL, "%-20s %s\n", vm->name,
					 vbctl_size_human(actual[i], human, sizeof(human)));
		}
		if (rc)
			status = fleet_worse(status, VBCTL_EXIT_FAIL);
	}
	fleet_report_failures(f);
	free(actual);
	fleet_free(f);
	return status;
}

static int run_query(struct vbctl *v, int argc, char **argv)
{
	char human[VBCTL_SIZE_HUMAN_MAX];
	struct json_object *ret;
	uint64_t actual;
	int rc;

	rc = vbctl_parse_plain(v, &vbctl_cmd_query, argc, argv);
	if (rc)
		return rc;
	if (vbctl_is_fleet(v))
		return fleet_query(v);
	rc = vbctl_connect(v);
	if (rc)
		return rc;
	rc = qmp_balloon_query(v->q, &actual);
	if (rc)
		return vbctl_balloon_failed(v, rc, "query");
	/* --json: query-balloon's return value, {"actual": BYTES}. */
	ret = vbctl_json_object(v, "actual", json_object_new_uint64(actual));
	if (!ret)
		return VBCTL_EXIT_FAIL;
	if (vbctl_print(v, 0, ret, "actual: %s\n",
			vbctl_size_human(actual, human, sizeof(human))))
		rc = VBCTL_EXIT_FAIL;
	json_object_put(ret);
	return rc;
}
