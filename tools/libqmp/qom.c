/* SPDX-License-Identifier: MIT */
/*
 * qom.c - helpers for QEMU's object tree (QOM): qom-list, qom-get, qom-set.
 */
#include "config.h"

#include <errno.h>

#include <json-c/json.h>

#include "libqmp-private.h"

/* Execute COMMAND with {"path": PATH[, "property": PROPERTY][, "value":
 * VALUE (borrowed; NULL is JSON null) when HAS_VALUE]}. */
static int qom_execute(struct qmp *q, const char *command, const char *path,
		       const char *property, bool has_value,
		       struct json_object *value, struct json_object **ret)
{
	struct json_object *args = json_object_new_object();
	int r;

	if (ret)
		*ret = NULL;
	if (!args)
		return -ENOMEM;
	if (json_object_object_add(args, "path",
				   json_object_new_string(path)) < 0 ||
	    (property && json_object_object_add(args, "property",
				json_object_new_string(property)) < 0) ||
	    (has_value && json_object_object_add(args, "value",
					     json_object_get(value)) < 0)) {
		json_object_put(args);
		return -ENOMEM;
	}
	r = qmp_execute(q, command, args, ret);
	json_object_put(args);
	return r;
}

/* Every entry of a qom-list reply is an object with string "name" and
 * "type" members, so callers can use both without checking (a member
 * may be present and JSON null: json-c then gives true and NULL). */
static bool entries_well_formed(struct json_object *list)
{
	struct json_object *entry, *member;
	size_t i;

	for (i = 0; i < json_object_array_length(list); i++) {
		entry = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(entry, "name", &member) ||
		    !json_object_is_type(member, json_type_string) ||
		    !json_object_object_get_ex(entry, "type", &member) ||
		    !json_object_is_type(member, json_type_string))
			return false;
	}
	return true;
}

QMP_EXPORT int qmp_qom_list(struct qmp *q, const char *path,
			    struct json_object **ret)
{
	struct json_object *list;
	int r;

	if (ret)
		*ret = NULL;
	r = qom_execute(q, "qom-list", path, NULL, false, NULL, &list);
	if (r < 0)
		return r;
	if (!json_object_is_type(list, json_type_array)) {
		json_object_put(list);
		return qmp_fail(q, -EPROTO, "qom-list did not return a list");
	}
	if (!entries_well_formed(list)) {
		json_object_put(list);
		return qmp_fail(q, -EPROTO,
				"qom-list %s: an entry without a string \"name\" and \"type\"",
				path);
	}
	if (ret)
		*ret = list;
	else
		json_object_put(list);
	return 0;
}

QMP_EXPORT int qmp_qom_get(struct qmp *q, const char *path,
			   const char *property, struct json_object **ret)
{
	return qom_execute(q, "qom-get", path, property, false, NULL, ret);
}

QMP_EXPORT int qmp_qom_set(struct qmp *q, const char *path,
			   const char *property, struct json_object *value)
{
	return qom_execute(q, "qom-set", path, property, true, value, NULL);
}
