/* SPDX-License-Identifier: MIT */
/*
 * cmd-list.c - "vbctl list": every VM the targets name, asked at once:
 * its run state, whether it has a balloon, its current and boot memory.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "fleet.h"
#include "print.h"
#include "size.h"
#include "targets.h"

static const struct vbctl_arg list_args[] = { { NULL } };

static int run_list(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_list = {
	.name = "list",
	.usage = "",
	.summary = "list the VMs the targets name, with their memory",
	.help =
	"Asks every VM named by the global options (-s repeated, --sockets GLOB,\n"
	"$VBCTL_SOCKETS; -c URI with each -d DOMAIN, or every running domain,\n"
	"with --all the shut-off ones too) at once and prints one row each: its\n"
	"name, run state\n"
	"(QMP query-status), whether it has a balloon device, its current\n"
	"logical memory size (actual), the balloon TARGET vbctl last set on it\n"
	"('-' when unknown: QEMU does not report it, see FILES in vbctl(1)) and\n"
	"its boot memory. A VM that cannot be\n"
	"reached is a row too, with the reason on stderr; the exit status is the\n"
	"worst of them. With --json: one object per VM per line, {\"name\",\n"
	"\"socket\" (or \"uri\" and \"domain\"), \"state\", \"balloon\", \"actual\",\n"
	"\"target\", \"boot\"} (or \"error\").\n",
	.flags = VBCTL_NEEDS_QMP,
	.shortopts = "+",
	.args = list_args,
	.min_args = 0,
	.max_args = 0,
	.run = run_list,
};

enum { LIST_STATUS, LIST_BALLOON, LIST_MEMORY };

struct list_row {
	char state[32];		/* "" until QEMU said */
	bool balloon, have_target;
	uint64_t actual, target, boot;
};

static void list_start(struct fleet_vm *vm, void *data)
{
	if (fleet_send(vm, "query-status", NULL, LIST_STATUS) == 0 &&
	    fleet_send(vm, "query-balloon", NULL, LIST_BALLOON) == 0)
		fleet_send(vm, "query-memory-size-summary", NULL, LIST_MEMORY);
}

static void list_reply(struct fleet_vm *vm, void *data, int tag, int rc,
		       struct json_object *ret)
{
	struct list_row *row = &((struct list_row *)data)[vm->index];
	struct json_object *m;
	const char *class;

	if (tag == LIST_BALLOON && rc == -EREMOTEIO) {
		class = qmp_get_error_class(vm->q);
		if (class && strcmp(class, "DeviceNotActive") == 0) {
			qmp_clear_error(vm->q);
			row->balloon = false;	/* a fact, not a failure */
			return;
		}
	}
	if (rc) {
		fleet_qmp_error(vm, tag == LIST_STATUS ? "query-status" :
				tag == LIST_BALLOON ? "query-balloon" :
				"query-memory-size-summary");
		return;
	}
	switch (tag) {
	case LIST_STATUS:
		/* A status that is no string (null) is left unknown. */
		if (json_object_object_get_ex(ret, "status", &m) &&
		    json_object_is_type(m, json_type_string))
			snprintf(row->state, sizeof(row->state), "%s",
				 json_object_get_string(m));
		break;
	/* A size of the wrong shape is a protocol fault (status 3). */
	case LIST_BALLOON:
		row->balloon = fleet_get_u64(ret, "actual", &row->actual);
		if (!row->balloon)
			return fleet_protocol_error(vm, ret, "query-balloon returned no \"actual\" in bytes");
		/* The target vbctl last gave this run of the VM (targets.h). */
		row->have_target = vbctl_target_recall(vm->q, vm->addr, &row->target) == 0;
		break;
	case LIST_MEMORY:
		if (!fleet_get_u64(ret, "base-memory", &row->boot))
			return fleet_protocol_error(vm, ret,
						    "query-memory-size-summary returned no \"base-memory\" in bytes");
		break;
	}
}

#define ROW_FORMAT "%-20s %-12s %-7s %12s %12s %12s\n"

static int print_text_row(struct vbctl *v, struct fleet_vm *vm,
			  const struct list_row *row)
{
	char actual[VBCTL_SIZE_HUMAN_MAX], target[VBCTL_SIZE_HUMAN_MAX];
	char boot[VBCTL_SIZE_HUMAN_MAX];
	const char *state = row->state[0] ? row->state : "-";

	if (vm->status)
		state = vm->status == VBCTL_EXIT_CONN ? "unreachable" : "error";
	if (vm->status || vm->inactive)
		return vbctl_print(v, 0, NULL, ROW_FORMAT, vm->name, state,
				   "-", "-", "-", "-");
	return vbctl_print(v, 0, NULL, ROW_FORMAT, vm->name, state,
			   row->balloon ? "yes" : "no",
			   row->balloon ? vbctl_size_iec(row->actual, actual, sizeof(actual)) : "-",
			   row->have_target ? vbctl_size_iec(row->target, target, sizeof(target)) : "-",
			   vbctl_size_iec(row->boot, boot, sizeof(boot)));
}

static int print_row(struct vbctl *v, struct fleet_vm *vm,
		     const struct list_row *row)
{
	struct json_object *obj;
	int rc;

	if (!v->json)
		return print_text_row(v, vm, row);
	obj = json_object_new_object();
	json_object_object_add(obj, "name", json_object_new_string(vm->name));
	if (vm->domain) {
		json_object_object_add(obj, "uri", json_object_new_string(vm->uri));
		json_object_object_add(obj, "domain", json_object_new_string(vm->domain));
	} else {
		json_object_object_add(obj, "socket", json_object_new_string(vm->addr));
	}
	if (vm->status) {
		json_object_object_add(obj, "error", json_object_new_string(vm->why));
	} else {
		json_object_object_add(obj, "state", row->state[0] ?
				       json_object_new_string(row->state) : NULL);
	}
	if (!vm->status && !vm->inactive) {
		json_object_object_add(obj, "balloon", json_object_new_boolean(row->balloon));
		json_object_object_add(obj, "actual", row->balloon ?
				       json_object_new_uint64(row->actual) : NULL);
		json_object_object_add(obj, "target", row->have_target ?
				       json_object_new_uint64(row->target) : NULL);
		json_object_object_add(obj, "boot", json_object_new_uint64(row->boot));
	}
	rc = vbctl_print(v, VBCTL_PRINT_STREAM, obj, NULL);
	json_object_put(obj);
	return rc;
}

static int run_list(struct vbctl *v, int argc, char **argv)
{
	static const struct fleet_ops ops = {
		.start = list_start,
		.reply = list_reply,
	};
	struct list_row *rows;
	struct fleet *f;
	int rc, status, open_status;
	size_t i;

	rc = vbctl_parse_plain(v, &vbctl_cmd_list, argc, argv);
	if (rc)
		return rc;
	rc = fleet_open_rows(v, FLEET_INACTIVE, sizeof(*rows), &f, (void **)&rows,
			     &open_status);
	if (rc)
		return rc;
	fleet_run(f, &ops, rows);
	/* The worst VM, where a shut-off domain (-c with --all) is a fact,
	 * not a failure. */
	status = VBCTL_EXIT_OK;
	for (i = 0; i < fleet_count(f); i++) {
		struct fleet_vm *vm = fleet_vm(f, i);

		if (vm->inactive) {
			vm->status = VBCTL_EXIT_OK;
			vm->why[0] = '\0';
			snprintf(rows[i].state, sizeof(rows[i].state), "shut-off");
		}
		status = fleet_worse(status, vm->status);
	}
	status = fleet_worse(status, open_status);
	if (!v->json && vbctl_print(v, 0, NULL, ROW_FORMAT, "NAME", "STATE",
				    "BALLOON", "ACTUAL", "TARGET", "BOOT"))
		status = fleet_worse(status, VBCTL_EXIT_FAIL);
	for (i = 0; i < fleet_count(f); i++)
		if (print_row(v, fleet_vm(f, i), &rows[i]))
			status = fleet_worse(status, VBCTL_EXIT_FAIL);
	fleet_report_failures(f);
	free(rows);
	fleet_free(f);
	return status;
}
