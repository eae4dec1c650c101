/* SPDX-License-Identifier: MIT */
/*
 * cmd-qom.c - "vbctl qom-list", "qom-get" and "qom-set": the QOM tree,
 * with "balloon" standing for the balloon device's path, and qom-set
 * converting its VALUE to the property's type.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "kv.h"
#include "print.h"

static const struct vbctl_arg qom_list_args[] = {
	{ "PATH", VBCTL_ARG_QOM_PATH, false },
	{ NULL },
};

static const struct vbctl_arg qom_get_args[] = {
	{ "PATH", VBCTL_ARG_QOM_PATH, false },
	{ "PROP", VBCTL_ARG_QOM_PROP, false },
	{ NULL },
};

static const struct vbctl_arg qom_set_args[] = {
	{ "PATH", VBCTL_ARG_QOM_PATH, false },
	{ "PROP", VBCTL_ARG_QOM_PROP, false },
	{ "VALUE", VBCTL_ARG_NONE, false },
	{ NULL },
};

static int run_qom_list(struct vbctl *v, int argc, char **argv);
static int run_qom_get(struct vbctl *v, int argc, char **argv);
static int run_qom_set(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_qom_list = {
	.name = "qom-list",
	.usage = "PATH",
	.summary = "list the properties and children of a QOM object",
	.help =
	"Lists the properties of the QOM object at PATH, with their types;\n"
	"children are the properties of type child<...>. PATH \"balloon\" is the\n"
	"balloon device, wherever it is. With --json: QEMU's return value.\n",
	.flags = VBCTL_NEEDS_QMP,
	.shortopts = "+",
	.args = qom_list_args,
	.min_args = 1,
	.max_args = 1,
	.run = run_qom_list,
};

const struct vbctl_cmd vbctl_cmd_qom_get = {
	.name = "qom-get",
	.usage = "PATH PROP",
	.summary = "show a QOM property",
	.help =
	"Shows property PROP of the QOM object at PATH (\"balloon\": the balloon\n"
	"device): a string as its text, anything else as JSON. With --json:\n"
	"QEMU's return value.\n",
	.flags = VBCTL_NEEDS_QMP,
	.shortopts = "+",
	.args = qom_get_args,
	.min_args = 2,
	.max_args = 2,
	.run = run_qom_get,
};

const struct vbctl_cmd vbctl_cmd_qom_set = {
	.name = "qom-set",
	.usage = "PATH PROP VALUE",
	.summary = "change a QOM property",
	.help =
	"Sets property PROP of the QOM object at PATH (\"balloon\": the balloon\n"
	"device) to VALUE, converted to the property's type as qom-list reports\n"
	"it: integer types take a decimal integer, bool takes true/false\n"
	"(on/off, yes/no), str takes the text as it is; other types take VALUE\n"
	"as JSON when it parses as JSON, else as a string. Prints nothing; with\n"
	"--json, QEMU's return value. Put -- before a VALUE that starts with '-'.\n",
	.flags = VBCTL_NEEDS_QMP,
	.shortopts = "+",
	.args = qom_set_args,
	.min_args = 3,
	.max_args = 3,
	.run = run_qom_set,
};

static int run_qom_list(struct vbctl *v, int argc, char **argv)
{
	struct json_object *ret = NULL, *name, *type;
	const char *path;
	int rc, width = 0;
	size_t i, n;
	FILE *text;
	char *buf = NULL;
	size_t len = 0;

	rc = vbctl_parse_plain(v, &vbctl_cmd_qom_list, argc, argv);
	if (rc == 0)
		rc = vbctl_qom_path(v, argv[optind], &path);
	if (rc)
		return rc;
	rc = qmp_qom_list(v->q, path, &ret);
	if (rc)
		return vbctl_qmp_failed(v, rc, "qom-list");

	/* Two aligned columns: name, type. */
	n = json_object_array_length(ret);
	for (i = 0; i < n; i++)
		if (json_object_object_get_ex(json_object_array_get_idx(ret, i),
					      "name", &name) &&
		    json_object_get_string_len(name) > width)
			width = json_object_get_string_len(name);
	text = open_memstream(&buf, &len);
	if (!text) {
		json_object_put(ret);
		return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
	}
	for (i = 0; i < n; i++) {
		struct json_object *prop = json_object_array_get_idx(ret, i);

		json_object_object_get_ex(prop, "name", &name);
		json_object_object_get_ex(prop, "type", &type);
		fprintf(text, "%-*s  %s\n", width, json_object_get_string(name),
			json_object_get_string(type));
	}
	fclose(text);
	rc = vbctl_print(v, 0, ret, "%s", buf ? buf : "");
	free(buf);
	json_object_put(ret);
	return rc ? VBCTL_EXIT_FAIL : VBCTL_EXIT_OK;
}

static int run_qom_get(struct vbctl *v, int argc, char **argv)
{
	struct json_object *ret = NULL;
	const char *path;
	int rc;

	rc = vbctl_parse_plain(v, &vbctl_cmd_qom_get, argc, argv);
	if (rc == 0)
		rc = vbctl_qom_path(v, argv[optind], &path);
	if (rc)
		return rc;
	rc = qmp_qom_get(v->q, path, argv[optind + 1], &ret);
	if (rc)
		return vbctl_qmp_failed(v, rc, "qom-get");
	rc = vbctl_print(v, 0, ret, NULL);
	json_object_put(ret);
	return rc ? VBCTL_EXIT_FAIL : VBCTL_EXIT_OK;
}

/* The type qom-list gives PROP at PATH; NULL when it is not listed. */
static char *property_type(struct vbctl *v, const char *path, const char *prop,
			   int *rc)
{
	struct json_object *list = NULL, *name, *type;
	char *found = NULL;
	size_t i;

	*rc = qmp_qom_list(v->q, path, &list);
	if (*rc) {
		*rc = vbctl_qmp_failed(v, *rc, "qom-set: listing the properties");
		return NULL;
	}
	for (i = 0; i < json_object_array_length(list); i++) {
		struct json_object *entry = json_object_array_get_idx(list, i);

		if (json_object_object_get_ex(entry, "name", &name) &&
		    strcmp(json_object_get_string(name), prop) == 0 &&
		    json_object_object_get_ex(entry, "type", &type)) {
			found = strdup(json_object_get_string(type));
			break;
		}
	}
	json_object_put(list);
	return found;
}

static bool is_integer_type(const char *type)
{
	static const char *const names[] = {
		"int", "int8", "int16", "int32", "int64", "uint8", "uint16",
		"uint32", "uint64", "size",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(type, names[i]) == 0)
			return true;
	return false;
}

/* TEXT as a decimal integer: int64 when signed, else uint64. NULL when
 * it is not one, or (*range set) when it is one out of 64-bit range. */
static struct json_object *integer_value(const char *text, bool *range)
{
	char *end;

	*range = false;
	errno = 0;
	if (text[0] == '-') {
		long long x = strtoll(text, &end, 10);

		if (end != text && !*end && errno == ERANGE)
			*range = true;
		else if (!errno && end != text && !*end)
			return json_object_new_int64(x);
	} else if (text[0] >= '0' && text[0] <= '9') {
		unsigned long long x = strtoull(text, &end, 10);

		if (!*end && errno == ERANGE)
			*range = true;
		else if (!errno && !*end)
			return json_object_new_uint64(x);
	}
	return NULL;
}

static struct json_object *bool_value(const char *text)
{
	if (!strcmp(text, "true") || !strcmp(text, "on") || !strcmp(text, "yes"))
		return json_object_new_boolean(1);
	if (!strcmp(text, "false") || !strcmp(text, "off") || !strcmp(text, "no"))
		return json_object_new_boolean(0);
	return NULL;
}

/* VALUE converted for a property of TYPE (NULL: unknown); NULL + *rc = 2
 * when VALUE does not fit the type. */
static struct json_object *convert_value(struct vbctl *v, const char *prop,
					 const char *type, const char *text,
					 int *rc)
{
	struct json_object *value;
	bool range;
	int is_json;

	*rc = 0;
	if (type && is_integer_type(type)) {
		value = integer_value(text, &range);
		if (!value && range)
			*rc = vbctl_usage_error(v, &vbctl_cmd_qom_set,
						"value '%s' for %s: out of range (the property's type is %s; QMP integers are from -2^63 to 2^64-1)",
						text, prop, type);
		else if (!value)
			*rc = vbctl_usage_error(v, &vbctl_cmd_qom_set,
						"value '%s' for %s: expected a whole number (the property's type is %s)",
						text, prop, type);
		return value;
	}
	if (type && strcmp(type, "bool") == 0) {
		value = bool_value(text);
		if (!value)
			*rc = vbctl_usage_error(v, &vbctl_cmd_qom_set,
						"value '%s' for %s: expected true or false (the property's type is bool)",
						text, prop);
		return value;
	}
	if (type && (!strcmp(type, "str") || !strcmp(type, "string")))
		return json_object_new_string(text);
	value = vbctl_json_parse_value(text, &is_json);
	if (is_json < 0)
		*rc = vbctl_usage_error(v, &vbctl_cmd_qom_set,
					"value '%s' for %s: number out of range (QMP integers are from -2^63 to 2^64-1); quote it for a string",
					text, prop);
	return is_json ? value : json_object_new_string(text);
}

static int run_qom_set(struct vbctl *v, int argc, char **argv)
{
	struct json_object *value, *ret;
	const char *path, *prop, *text;
	char *type;
	int rc;

	rc = vbctl_parse_plain(v, &vbctl_cmd_qom_set, argc, argv);
	if (rc == 0)
		rc = vbctl_qom_path(v, argv[optind], &path);
	if (rc)
		return rc;
	prop = argv[optind + 1];
	text = argv[optind + 2];
	/* Unlisted property: convert by guessing and let QEMU say what is
	 * wrong with it. */
	type = property_type(v, path, prop, &rc);
	if (rc)
		return rc;
	value = convert_value(v, prop, type, text, &rc);
	free(type);
	if (rc)
		return rc;

	rc = qmp_qom_set(v->q, path, prop, value);
	json_object_put(value);
	if (rc)
		return vbctl_qmp_failed(v, rc, "qom-set");
	/* --json: qom-set's return value, {}. */
	if (v->json) {
		ret = vbctl_json_object(v, NULL, NULL);
		if (!ret)
			return VBCTL_EXIT_FAIL;
		rc = vbctl_print(v, 0, ret, NULL);
		json_object_put(ret);
	}
	return rc ? VBCTL_EXIT_FAIL : VBCTL_EXIT_OK;
}
