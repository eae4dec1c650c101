/* SPDX-License-Identifier: MIT */
/*
 * qmp-schema.c - QEMU's QMP schema for the shell: fetched once, indexed by
 * name, asked for the type of a command's argument (completion) and for a
 * description of a command's arguments (help NAME). Nothing in it is
 * trusted: every member is read through schema_str()/schema_list(), which
 * take a JSON null or a wrong type for absent.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "qmp-schema.h"
#include "vbctl.h"

struct schema {
	struct vbctl *v;
	struct json_object *schema;	/* query-qmp-schema return */
	struct json_object *by_name;	/* its entries by name */
	struct json_object *events;	/* event names */
	bool tried;			/* fetched (or given) once */
};

struct schema *schema_new(struct vbctl *v)
{
	struct schema *s = calloc(1, sizeof(*s));

	if (s)
		s->v = v;
	return s;
}

void schema_free(struct schema *s)
{
	if (!s)
		return;
	json_object_put(s->schema);
	json_object_put(s->by_name);
	json_object_put(s->events);
	free(s);
}

/* Indexes the schema by entry name, and lists the event names. */
int schema_set(struct schema *s, struct json_object *schema)
{
	size_t i, n;

	json_object_put(s->schema);
	json_object_put(s->by_name);
	json_object_put(s->events);
	s->schema = schema;
	s->tried = true;
	s->by_name = json_object_new_object();
	s->events = json_object_new_array();
	if (!s->by_name || !s->events)
		return -ENOMEM;
	n = json_object_is_type(schema, json_type_array) ?
		json_object_array_length(schema) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(schema, i);
		struct json_object *name;

		if (!json_object_object_get_ex(e, "name", &name) ||
		    !json_object_is_type(name, json_type_string))
			continue;
		if (json_object_object_add(s->by_name, json_object_get_string(name),
					   json_object_get(e)))
			return -ENOMEM;
		if (!strcmp(schema_str(e, "meta-type") ?: "", "event") &&
		    json_object_array_add(s->events, json_object_get(name)))
			return -ENOMEM;
	}
	return 0;
}

/* The index, fetched on first need. */
static struct json_object *schema_index(struct schema *s)
{
	if (!s->tried)
		schema_set(s, vbctl_fetch(s->v, "query-qmp-schema", NULL));
	return s->by_name;
}

struct json_object *schema_entry(struct schema *s, const char *name)
{
	struct json_object *e;

	if (!name || !schema_index(s) ||
	    !json_object_object_get_ex(s->by_name, name, &e))
		return NULL;
	return e;
}

const char *schema_str(struct json_object *e, const char *key)
{
	struct json_object *str;

	return json_object_object_get_ex(e, key, &str) &&
	       json_object_is_type(str, json_type_string) ?
		json_object_get_string(str) : NULL;
}

struct json_object *schema_list(struct json_object *e, const char *key,
				size_t *n)
{
	struct json_object *list;

	*n = 0;
	if (!json_object_object_get_ex(e, key, &list) ||
	    !json_object_is_type(list, json_type_array))
		return NULL;
	*n = json_object_array_length(list);
	return list;
}

const char *schema_list_str(struct json_object *list, size_t i)
{
	struct json_object *str = json_object_array_get_idx(list, i);

	return json_object_is_type(str, json_type_string) ?
		json_object_get_string(str) : NULL;
}

struct json_object *schema_events(struct schema *s)
{
	return schema_index(s) ? s->events : NULL;
}

/*
 * Members of the object type OBJ: its own, plus those of the variant that
 * TAGVAL (the value typed for the tag member, or NULL) selects.
 * Calls FN for each.
 */
void schema_for_each_member(struct schema *s, struct json_object *obj,
			    const char *tagval,
			    void (*fn)(void *ctx, struct json_object *m),
			    void *ctx)
{
	struct json_object *members, *variants;
	size_t i, n;

	if (!obj || strcmp(schema_str(obj, "meta-type") ?: "", "object"))
		return;
	members = schema_list(obj, "members", &n);
	for (i = 0; i < n; i++)
		fn(ctx, json_object_array_get_idx(members, i));
	variants = tagval ? schema_list(obj, "variants", &n) : NULL;
	for (i = 0; variants && i < n; i++) {
		struct json_object *var = json_object_array_get_idx(variants, i);

		if (!strcmp(schema_str(var, "case") ?: "", tagval)) {
			schema_for_each_member(s, schema_entry(s, schema_str(var, "type")),
					NULL, fn, ctx);
			break;
		}
	}
}

struct member_find {
	const char *name;
	struct json_object *found;
};

static void member_find_fn(void *ctx, struct json_object *m)
{
	struct member_find *f = ctx;

	if (!f->found && !strcmp(schema_str(m, "name") ?: "", f->name))
		f->found = m;
}

/* The value typed for KEY among the KEY=VALUE words, or NULL. */
const char *schema_typed_value(int nwords, char **words, const char *key)
{
	size_t len = strlen(key);
	int i;

	for (i = 0; i < nwords; i++)
		if (!strncmp(words[i], key, len) && words[i][len] == '=')
			return words[i] + len + 1;
	return NULL;
}

/*
 * The schema type of dotted key KEY (LEN bytes) in the arguments of
 * COMMAND, or the arguments type itself for LEN 0. WORDS are the
 * KEY=VALUE words typed so far: a union's tag value picks its variant.
 */
struct json_object *schema_command_args(struct schema *s, const char *command)
{
	struct json_object *t = schema_entry(s, command);

	if (!t || strcmp(schema_str(t, "meta-type") ?: "", "command"))
		return NULL;
	return schema_entry(s, schema_str(t, "arg-type"));
}

/* The TransactionAction union: the element type of transaction's
 * "actions" array. */
static struct json_object *transaction_action(struct schema *s)
{
	struct json_object *args = schema_command_args(s, "transaction");
	struct json_object *members, *m;
	size_t i, n;

	members = schema_list(args, "members", &n);
	for (i = 0; i < n; i++) {
		m = json_object_array_get_idx(members, i);
		if (!strcmp(schema_str(m, "name") ?: "", "actions"))
			return schema_entry(s, schema_str(schema_entry(s,
					schema_str(m, "type")), "element-type"));
	}
	return NULL;
}

struct json_object *schema_action_names(struct schema *s)
{
	struct json_object *action = transaction_action(s), *members, *values;
	struct json_object *tag;
	size_t i, n, nvalues;

	members = schema_list(action, "members", &n);
	for (i = 0; i < n; i++) {
		tag = json_object_array_get_idx(members, i);
		if (!strcmp(schema_str(tag, "name") ?: "", schema_str(action, "tag") ?: "") &&
		    (values = schema_list(schema_entry(s, schema_str(tag, "type")),
					  "values", &nvalues)))
			return values;
	}
	return NULL;
}

struct json_object *schema_action_data(struct schema *s, const char *action)
{
	struct json_object *union_t = transaction_action(s), *variants, *var;
	struct json_object *wrapper, *members, *m;
	size_t i, n;

	variants = schema_list(union_t, "variants", &n);
	for (i = 0; i < n; i++) {
		var = json_object_array_get_idx(variants, i);
		if (strcmp(schema_str(var, "case") ?: "", action))
			continue;
		/* The variant wraps the action's arguments as "data". */
		wrapper = schema_entry(s, schema_str(var, "type"));
		members = schema_list(wrapper, "members", &n);
		for (i = 0; i < n; i++) {
			m = json_object_array_get_idx(members, i);
			if (!strcmp(schema_str(m, "name") ?: "", "data"))
				return schema_entry(s, schema_str(m, "type"));
		}
		return NULL;
	}
	return NULL;
}

struct json_object *schema_key_type(struct schema *s, struct json_object *root,
				    int nwords, char **words, const char *key,
				    size_t len)
{
	struct json_object *t = root;
	const char *p = key, *end = key + len;

	while (t && p < end) {
		const char *dot = memchr(p, '.', end - p);
		struct member_find f = { 0 };
		const char *tag = schema_str(t, "tag");
		char *name, *tagkey;
		const char *tagval = NULL;

		name = strndup(p, (dot ? dot : end) - p);
		if (!name)
			return NULL;
		/* The tag's value is typed at this level's dotted prefix. */
		if (tag && asprintf(&tagkey, "%.*s%s", (int)(p - key), key, tag) >= 0) {
			tagval = schema_typed_value(nwords, words, tagkey);
			free(tagkey);
		}
		f.name = name;
		schema_for_each_member(s, t, tagval, member_find_fn, &f);
		free(name);
		t = f.found ? schema_entry(s, schema_str(f.found, "type")) : NULL;
		p = dot ? dot + 1 : end;
	}
	return t;
}

/* How deep describe_type() goes: a schema may make a type its own
 * element (QEMU's never does; a hostile one might). */
#define DESCRIBE_DEPTH_MAX 8

/* A short name for schema type T: builtins by name, enums by their values,
 * objects by their members, arrays by their element. */
static void describe_type(struct schema *s, FILE *out,
			  struct json_object *t, int depth)
{
	const char *meta = schema_str(t, "meta-type") ?: "";
	struct json_object *list;
	size_t i, n;

	if (depth > DESCRIBE_DEPTH_MAX) {
		fputs("...", out);
	} else if (!strcmp(meta, "builtin")) {
		fputs(schema_str(t, "name") ?: "?", out);
	} else if (!strcmp(meta, "enum") &&
		   (list = schema_list(t, "values", &n))) {
		for (i = 0; i < n; i++)
			fprintf(out, "%s%s", i ? "|" : "",
				schema_list_str(list, i) ?: "?");
	} else if (!strcmp(meta, "array")) {
		fputs("array of ", out);
		describe_type(s, out, schema_entry(s, schema_str(t, "element-type")),
			      depth + 1);
	} else if (!strcmp(meta, "alternate") &&
		   (list = schema_list(t, "members", &n))) {
		for (i = 0; i < n; i++) {
			fputs(i ? " or " : "", out);
			describe_type(s, out, schema_entry(s, schema_str(
				json_object_array_get_idx(list, i), "type")), depth + 1);
		}
	} else if (!strcmp(meta, "object") &&
		   (list = schema_list(t, "members", &n))) {
		/* Member names only: they are typed as dotted keys. */
		fputs("object {", out);
		for (i = 0; i < n; i++) {
			struct json_object *m = json_object_array_get_idx(list, i);

			fprintf(out, "%s%s%s", i ? ", " : "", schema_str(m, "name") ?: "?",
				json_object_object_get_ex(m, "default", NULL) ?
					"?" : "");
		}
		fputs("}", out);
	} else {
		fputs(meta[0] ? meta : "?", out);
	}
}

static void describe_members(struct schema *s, FILE *out,
			     struct json_object *obj, const char *indent)
{
	size_t i, n;
	struct json_object *list = schema_list(obj, "members", &n);

	for (i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(list, i);

		fprintf(out, "%s%s=", indent, schema_str(m, "name") ?: "?");
		describe_type(s, out, schema_entry(s, schema_str(m, "type")), 0);
		fputs(json_object_object_get_ex(m, "default", NULL) ?
		      "  (optional)\n" : "\n", out);
	}
}

bool schema_has_command(struct schema *s, const char *command)
{
	struct json_object *cmd = schema_entry(s, command);

	return cmd && !strcmp(schema_str(cmd, "meta-type") ?: "", "command");
}

int schema_describe(struct schema *s, const char *command, FILE *out)
{
	struct json_object *cmd = schema_entry(s, command), *args, *variants;
	size_t i, n, nmembers;

	if (!schema_has_command(s, command))
		return -ENOENT;
	args = schema_entry(s, schema_str(cmd, "arg-type"));
	schema_list(args, "members", &nmembers);
	if (nmembers)
		fprintf(out, "QMP command %s KEY=VALUE...:\n", command);
	else
		fprintf(out, "QMP command %s, no arguments\n", command);
	describe_members(s, out, args, "  ");
	variants = schema_list(args, "variants", &n);
	for (i = 0; i < n; i++) {
		struct json_object *var = json_object_array_get_idx(variants, i);
		struct json_object *t = schema_entry(s, schema_str(var, "type"));

		schema_list(t, "members", &nmembers);
		if (!nmembers)
			continue;
		fprintf(out, "  with %s=%s:\n", schema_str(args, "tag") ?: "?",
			schema_str(var, "case") ?: "?");
		describe_members(s, out, t, "    ");
	}
	fprintf(out, "Returns: ");
	describe_type(s, out, schema_entry(s, schema_str(cmd, "ret-type")), 0);
	fputc('\n', out);
	return 0;
}
