/* SPDX-License-Identifier: MIT */
/*
 * cmd-query.c - "vbctl query": the guest's current logical memory size,
 * QEMU's query-balloon "actual".
 */
#include "config.h"

#include <json-c/json.h>
#include <qmp/qmp.h>

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
	"exact bytes. With --json: QEMU's return value, {\"actual\": BYTES}.\n",
	.flags = VBCTL_NEEDS_QMP,
	.shortopts = "+",
	.args = query_args,
	.min_args = 0,
	.max_args = 0,
	.run = run_query,
};

static int run_query(struct vbctl *v, int argc, char **argv)
{
	char human[VBCTL_SIZE_HUMAN_MAX];
	struct json_object *ret;
	uint64_t actual;
	int rc;

	rc = vbctl_parse_plain(v, &vbctl_cmd_query, argc, argv);
	if (rc)
		return rc;
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
