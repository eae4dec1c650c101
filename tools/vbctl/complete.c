/* SPDX-License-Identifier: MIT */
/*
 * complete.c - the shell's Tab completion: candidates from the command
 * table, query-commands, query-qmp-schema and qom-list, each fetched once
 * per session on first need (see complete.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <qmp/qmp.h>

#include "complete.h"
#include "vbctl.h"

struct completer {
	struct vbctl *v;
	const char **builtins;		/* borrowed names */
	size_t nbuiltins;
	struct json_object *commands;	/* query-commands return */
	struct json_object *schema;	/* query-qmp-schema return */
	struct json_object *by_name;	/* schema entries by name */
	struct json_object *events;	/* event names */
	struct json_object *qom;	/* qom-list returns by path */
	bool commands_tried, schema_tried;
};

/* A growing, NULL-terminated list of candidates. */
struct cands {
	char **v;
	size_t n, cap;
	const char *word;	/* only strings starting with this are kept */
	size_t word_len;
};

static const char *const qom_commands[] = { "qom-list", "qom-get", "qom-set" };

struct completer *completer_new(struct vbctl *v)
{
	struct completer *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->v = v;
	c->qom = json_object_new_object();
	if (!c->qom) {
		free(c);
		return NULL;
	}
	return c;
}

void completer_free(struct completer *c)
{
	if (!c)
		return;
	free(c->builtins);
	json_object_put(c->commands);
	json_object_put(c->schema);
	json_object_put(c->by_name);
	json_object_put(c->events);
	json_object_put(c->qom);
	free(c);
}

int completer_add_builtin(struct completer *c, const char *name)
{
	const char **b = realloc(c->builtins,
				 (c->nbuiltins + 1) * sizeof(*b));

	if (!b)
		return -ENOMEM;
	b[c->nbuiltins++] = name;
	c->builtins = b;
	return 0;
}

int completer_set_commands(struct completer *c, struct json_object *commands)
{
	json_object_put(c->commands);
	c->commands = commands;
	c->commands_tried = true;
	return 0;
}

/* Indexes the schema by entry name, and lists the event names. */
int completer_set_schema(struct completer *c, struct json_object *schema)
{
	size_t i, n;

	json_object_put(c->schema);
	json_object_put(c->by_name);
	json_object_put(c->events);
	c->schema = schema;
	c->schema_tried = true;
	c->by_name = json_object_new_object();
	c->events = json_object_new_array();
	if (!c->by_name || !c->events)
		return -ENOMEM;
	n = json_object_is_type(schema, json_type_array) ?
		json_object_array_length(schema) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(schema, i);
		struct json_object *name, *meta;

		if (!json_object_object_get_ex(e, "name", &name) ||
		    !json_object_is_type(name, json_type_string))
			continue;
		json_object_object_add(c->by_name, json_object_get_string(name),
				       json_object_get(e));
		if (json_object_object_get_ex(e, "meta-type", &meta) &&
		    !strcmp(json_object_get_string(meta), "event"))
			json_object_array_add(c->events, json_object_get(name));
	}
	return 0;
}

int completer_set_qom_list(struct completer *c, const char *path,
			   struct json_object *list)
{
	return json_object_object_add(c->qom, path, list) ? -ENOMEM : 0;
}

/* ---- fetching, once per session --------------------------------------- */

static struct json_object *fetch(struct completer *c, const char *command,
				 struct json_object *args)
{
	struct json_object *ret = NULL;

	if (!c->v->q || qmp_is_broken(c->v->q))
		return NULL;
	/* A QMP error only means "nothing to offer"; forget it so the
	 * next command does not see it. A broken connection is noticed by
	 * the shell's loop. */
	if (qmp_execute(c->v->q, command, args, &ret) < 0) {
		qmp_clear_error(c->v->q);
		return NULL;
	}
	return ret;
}

static struct json_object *qmp_commands(struct completer *c)
{
	if (!c->commands_tried)
		completer_set_commands(c, fetch(c, "query-commands", NULL));
	return c->commands;
}

static struct json_object *schema_index(struct completer *c)
{
	if (!c->schema_tried)
		completer_set_schema(c, fetch(c, "query-qmp-schema", NULL));
	return c->by_name;
}

static struct json_object *qom_list(struct completer *c, const char *path)
{
	struct json_object *list, *args;

	if (json_object_object_get_ex(c->qom, path, &list))
		return list;
	args = json_object_new_object();
	if (!args)
		return NULL;
	json_object_object_add(args, "path", json_object_new_string(path));
	list = fetch(c, "qom-list", args);
	json_object_put(args);
	/* Cache failures too (as null): asking again would fail again. */
	if (completer_set_qom_list(c, path, list) < 0) {
		json_object_put(list);
		return NULL;
	}
	return list;
}

/* PATH with the "balloon" alias resolved (found once, cached in v). */
static const char *qom_resolve(struct completer *c, const char *path)
{
	if (strcmp(path, "balloon"))
		return path;
	/* qmp_balloon_find rather than vbctl_balloon_path: completion must
	 * not print an error over the line being typed. */
	if (!c->v->balloon_path && c->v->q && !qmp_is_broken(c->v->q) &&
	    qmp_balloon_find(c->v->q, &c->v->balloon_path) < 0)
		qmp_clear_error(c->v->q);
	return c->v->balloon_path;
}

/* ---- candidate lists --------------------------------------------------- */

/*
 * Adds PREFIX + NAME + SUFFIX if it starts with the word being typed,
 * with NAME's blanks, quotes and backslashes escaped so the splitter
 * reads the candidate back as the word it names.
 */
static void cands_add3(struct cands *l, const char *prefix, const char *name,
		       const char *suffix)
{
	size_t lp = strlen(prefix), ln = strlen(name), ls = strlen(suffix);
	char *s, *o;
	const char *p;

	if (asprintf(&s, "%s%s%s", prefix, name, suffix) < 0)
		return;
	if (strncmp(s, l->word, l->word_len)) {
		free(s);
		return;
	}
	free(s);
	if (l->n + 2 > l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	s = malloc(lp + 2 * ln + ls + 1);
	if (!s)
		return;
	o = stpcpy(s, prefix);
	for (p = name; *p; p++) {
		if (strchr(" \t\n'\"\\", *p))
			*o++ = '\\';
		*o++ = *p;
	}
	strcpy(o, suffix);
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

static void cands_add(struct cands *l, const char *name)
{
	cands_add3(l, "", name, "");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void completer_free_list(char **list)
{
	char **p;

	if (!list)
		return;
	for (p = list; *p; p++)
		free(*p);
	free(list);
}

/* ---- what to offer ----------------------------------------------------- */

static void add_vbctl_commands(struct completer *c, struct cands *l)
{
	const struct vbctl_cmd *const *cmd;
	size_t i;

	for (cmd = vbctl_commands; *cmd; cmd++)
		cands_add(l, (*cmd)->name);
	for (i = 0; i < c->nbuiltins; i++)
		cands_add(l, c->builtins[i]);
}

static void add_qmp_commands(struct completer *c, struct cands *l)
{
	struct json_object *list = qmp_commands(c);
	size_t i, n = list ? json_object_array_length(list) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *name;

		if (json_object_object_get_ex(json_object_array_get_idx(list, i),
					      "name", &name))
			cands_add(l, json_object_get_string(name));
	}
}

static void add_events(struct completer *c, struct cands *l)
{
	size_t i, n;

	if (!schema_index(c))
		return;
	n = json_object_array_length(c->events);
	for (i = 0; i < n; i++)
		cands_add(l, json_object_get_string(
				     json_object_array_get_idx(c->events, i)));
}

/* QOM children and links are where a path goes on. */
static bool qom_is_node(struct json_object *prop)
{
	struct json_object *type;
	const char *t;

	if (!json_object_object_get_ex(prop, "type", &type))
		return false;
	t = json_object_get_string(type);
	return !strncmp(t, "child<", 6) || !strncmp(t, "link<", 5);
}

/*
 * QOM paths: "/" and the "balloon" alias to start with, then the
 * children and links of the directory typed so far, each ending in '/'
 * (QEMU accepts the trailing slash) so Tab can go on down the tree.
 * PREFIX ("path=" or "") is kept in front of every candidate.
 */
static void add_qom_paths(struct completer *c, struct cands *l,
			  const char *prefix, const char *typed)
{
	const char *slash = strrchr(typed, '/');
	struct json_object *list;
	char *dir;
	size_t i, n;

	if (!slash) {
		cands_add3(l, prefix, "/", "");
		cands_add3(l, prefix, "balloon", "");
		return;
	}
	dir = strndup(typed, slash - typed + 1);	/* keeps the '/' */
	if (!dir)
		return;
	list = qom_list(c, dir);
	n = json_object_is_type(list, json_type_array) ?
		json_object_array_length(list) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *prop = json_object_array_get_idx(list, i);
		struct json_object *name;
		char *full;

		if (!qom_is_node(prop) ||
		    !json_object_object_get_ex(prop, "name", &name))
			continue;
		if (asprintf(&full, "%s%s", dir,
			     json_object_get_string(name)) < 0)
			continue;
		cands_add3(l, prefix, full, "/");
		free(full);
	}
	free(dir);
}

/* Property names of the object at PATH ("balloon" allowed). */
static void add_qom_props(struct completer *c, struct cands *l,
			  const char *prefix, const char *path)
{
	struct json_object *list;
	size_t i, n;

	path = path ? qom_resolve(c, path) : NULL;
	if (!path)
		return;
	list = qom_list(c, path);
	n = json_object_is_type(list, json_type_array) ?
		json_object_array_length(list) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *name;

		if (json_object_object_get_ex(json_object_array_get_idx(list, i),
					      "name", &name))
			cands_add3(l, prefix, json_object_get_string(name), "");
	}
}

/* The schema entry named NAME, or NULL. */
static struct json_object *schema_entry(struct completer *c, const char *name)
{
	struct json_object *e;

	if (!name || !schema_index(c) ||
	    !json_object_object_get_ex(c->by_name, name, &e))
		return NULL;
	return e;
}

static const char *entry_str(struct json_object *e, const char *key)
{
	struct json_object *s;

	return json_object_object_get_ex(e, key, &s) ?
		json_object_get_string(s) : NULL;
}

/*
 * Members of the object type OBJ: its own, plus those of the variant that
 * TAGVAL (the value typed for the tag member, or NULL) selects.
 * Calls FN for each.
 */
static void for_each_member(struct completer *c, struct json_object *obj,
			    const char *tagval,
			    void (*fn)(void *ctx, struct json_object *m),
			    void *ctx)
{
	struct json_object *members, *variants;
	size_t i, n;

	if (!obj || strcmp(entry_str(obj, "meta-type") ?: "", "object"))
		return;
	if (json_object_object_get_ex(obj, "members", &members)) {
		n = json_object_array_length(members);
		for (i = 0; i < n; i++)
			fn(ctx, json_object_array_get_idx(members, i));
	}
	if (!tagval || !json_object_object_get_ex(obj, "variants", &variants))
		return;
	n = json_object_array_length(variants);
	for (i = 0; i < n; i++) {
		struct json_object *var = json_object_array_get_idx(variants, i);

		if (!strcmp(entry_str(var, "case") ?: "", tagval)) {
			for_each_member(c, schema_entry(c, entry_str(var, "type")),
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

	if (!f->found && !strcmp(entry_str(m, "name") ?: "", f->name))
		f->found = m;
}

/* The value typed for KEY among the KEY=VALUE words, or NULL. */
static const char *typed_value(int nwords, char **words, const char *key)
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
static struct json_object *key_type(struct completer *c, const char *command,
				    int nwords, char **words, const char *key,
				    size_t len)
{
	struct json_object *t = schema_entry(c, command);
	const char *p = key, *end = key + len;

	if (!t || strcmp(entry_str(t, "meta-type") ?: "", "command"))
		return NULL;
	t = schema_entry(c, entry_str(t, "arg-type"));
	while (t && p < end) {
		const char *dot = memchr(p, '.', end - p);
		struct member_find f = { 0 };
		struct json_object *tag;
		char *name, *tagkey;
		const char *tagval = NULL;

		name = strndup(p, (dot ? dot : end) - p);
		if (!name)
			return NULL;
		/* The tag's value is typed at this level's dotted prefix. */
		if (json_object_object_get_ex(t, "tag", &tag) &&
		    asprintf(&tagkey, "%.*s%s", (int)(p - key), key,
			     json_object_get_string(tag)) >= 0) {
			tagval = typed_value(nwords, words, tagkey);
			free(tagkey);
		}
		f.name = name;
		for_each_member(c, t, tagval, member_find_fn, &f);
		free(name);
		t = f.found ? schema_entry(c, entry_str(f.found, "type")) : NULL;
		p = dot ? dot + 1 : end;
	}
	return t;
}

struct key_add {
	struct completer *c;
	struct cands *l;
	const char *prefix;	/* "a.b." for nested members, else "" */
	int nwords;
	char **words;
};

static void key_add_fn(void *ctx, struct json_object *m)
{
	struct key_add *k = ctx;
	const char *name = entry_str(m, "name");
	struct json_object *t = schema_entry(k->c, entry_str(m, "type"));
	bool object = t && !strcmp(entry_str(t, "meta-type") ?: "", "object");
	char *full;

	if (!name || asprintf(&full, "%s%s", k->prefix, name) < 0)
		return;
	/* A key given already is not offered again. */
	if (!typed_value(k->nwords, k->words, full))
		/* An object member is usually filled in key by key. */
		cands_add3(k->l, k->prefix, name, object ? "." : "=");
	free(full);
}

/* Argument names of COMMAND: "key=", or "key." for an object. */
static void add_keys(struct completer *c, struct cands *l, const char *command,
		     int nwords, char **words, const char *typed)
{
	const char *dot = strrchr(typed, '.');
	size_t plen = dot ? (size_t)(dot - typed) + 1 : 0;
	struct key_add k = { c, l, NULL, nwords, words };
	struct json_object *t;
	const char *tagval = NULL;
	struct json_object *tag;
	char *prefix, *tagkey;

	prefix = strndup(typed, plen);
	if (!prefix)
		return;
	t = key_type(c, command, nwords, words, typed, plen ? plen - 1 : 0);
	if (json_object_object_get_ex(t, "tag", &tag) &&
	    asprintf(&tagkey, "%s%s", prefix, json_object_get_string(tag)) >= 0) {
		tagval = typed_value(nwords, words, tagkey);
		free(tagkey);
	}
	k.prefix = prefix;
	for_each_member(c, t, tagval, key_add_fn, &k);
	free(prefix);
}

/* Values for KEY=...: enum values, true/false, QOM paths and properties
 * for the qom commands. */
static void add_values(struct completer *c, struct cands *l,
		       const char *command, int nwords, char **words,
		       const char *typed)
{
	const char *eq = strchr(typed, '=');
	size_t klen = eq - typed, i, n;
	char *prefix = strndup(typed, klen + 1);
	struct json_object *t, *values;
	const char *meta;

	if (!prefix)
		return;
	for (i = 0; i < sizeof(qom_commands) / sizeof(*qom_commands); i++) {
		if (strcmp(command, qom_commands[i]))
			continue;
		if (!strcmp(prefix, "path=")) {
			add_qom_paths(c, l, prefix, eq + 1);
			goto out;
		}
		if (!strcmp(prefix, "property=")) {
			add_qom_props(c, l, prefix,
				      typed_value(nwords, words, "path"));
			goto out;
		}
	}
	t = key_type(c, command, nwords, words, typed, klen);
	meta = entry_str(t, "meta-type") ?: "";
	if (!strcmp(meta, "enum") &&
	    json_object_object_get_ex(t, "values", &values)) {
		n = json_object_array_length(values);
		for (i = 0; i < n; i++)
			cands_add3(l, prefix, json_object_get_string(
					   json_object_array_get_idx(values, i)), "");
	} else if (!strcmp(meta, "builtin") &&
		   !strcmp(entry_str(t, "json-type") ?: "", "boolean")) {
		cands_add3(l, prefix, "true", "");
		cands_add3(l, prefix, "false", "");
	}
out:
	free(prefix);
}

/* KEY=VALUE words for QMP command COMMAND; WORDS are those typed so far. */
static void add_kv(struct completer *c, struct cands *l, const char *command,
		   int nwords, char **words, const char *typed)
{
	if (strchr(typed, '='))
		add_values(c, l, command, nwords, words, typed);
	else
		add_keys(c, l, command, nwords, words, typed);
}

/* "--name" for each long option of CMD. */
static void add_options(struct cands *l, const struct vbctl_cmd *cmd)
{
	const struct option *o;

	for (o = cmd->longopts; o && o->name; o++)
		cands_add3(l, "--", o->name, "");
}

/* Positional arguments of a vbctl command, completed by their kind. */
static void add_vbctl_args(struct completer *c, struct cands *l,
			   const struct vbctl_cmd *cmd, int nwords,
			   char **words, const char *typed)
{
	char *pos[64];
	int npos = 0, i, nargs = 0;
	const struct vbctl_arg *arg;

	if (typed[0] == '-') {
		add_options(l, cmd);
		return;
	}
	for (i = 1; i < nwords && npos < 64; i++) {
		if (words[i][0] == '-' && words[i][1]) {
			if (vbctl_option_takes_value(cmd, words[i]))
				i++;
			continue;
		}
		pos[npos++] = words[i];
	}
	for (arg = cmd->args; arg && arg->name; arg++)
		nargs++;
	if (!nargs)
		return;
	arg = &cmd->args[npos < nargs ? npos : nargs - 1];
	if (npos >= nargs && !arg->repeat)
		return;

	switch (arg->kind) {
	case VBCTL_ARG_QOM_PATH:
		add_qom_paths(c, l, "", typed);
		break;
	case VBCTL_ARG_QOM_PROP:
		add_qom_props(c, l, "", npos ? pos[npos - 1] : NULL);
		break;
	case VBCTL_ARG_COMMAND:
		/* The shell's help describes QMP commands too. */
		add_vbctl_commands(c, l);
		add_qmp_commands(c, l);
		break;
	case VBCTL_ARG_QMP_COMMAND:
		add_qmp_commands(c, l);
		break;
	case VBCTL_ARG_QMP_KV:
		/* The QMP command is the first positional argument. */
		if (npos)
			add_kv(c, l, pos[0], npos - 1, pos + 1, typed);
		break;
	case VBCTL_ARG_EVENT:
		add_events(c, l);
		break;
	case VBCTL_ARG_NONE:
	case VBCTL_ARG_SIZE:
		break;
	}
}

static bool looks_like_kv(const char *w)
{
	const char *p = w;

	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' ||
	       *p == '.')
		p++;
	return *p == '=';
}

bool shell_line_is_qmp(int argc, char **argv)
{
	int i;

	if (!vbctl_find_command(argv[0]))
		return true;
	if (argc < 2)
		return false;
	for (i = 1; i < argc; i++)
		if (!looks_like_kv(argv[i]))
			return false;
	return true;
}

char **completer_complete(struct completer *c, int nwords, char **words,
			  const char *word, size_t *count)
{
	struct cands l = { .word = word, .word_len = strlen(word) };
	const struct vbctl_cmd *cmd;
	size_t i, o;

	*count = 0;
	if (nwords == 0) {
		add_vbctl_commands(c, &l);
		add_qmp_commands(c, &l);
	} else if ((cmd = vbctl_find_command(words[0]))) {
		/* A vbctl command that is also a QMP command (qom-get)
		 * takes either form until the line says which. */
		if (nwords == 1 || !shell_line_is_qmp(nwords, words))
			add_vbctl_args(c, &l, cmd, nwords, words, word);
		if (nwords == 1 || shell_line_is_qmp(nwords, words))
			add_kv(c, &l, words[0], nwords - 1, words + 1, word);
	} else {
		/* hmp and the other builtins have no schema entry, so
		 * this offers nothing for them. */
		add_kv(c, &l, words[0], nwords - 1, words + 1, word);
	}
	if (!l.n) {
		free(l.v);
		return NULL;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_str);
	for (i = 1, o = 1; i < l.n; i++) {
		if (strcmp(l.v[i], l.v[o - 1]))
			l.v[o++] = l.v[i];
		else
			free(l.v[i]);
	}
	l.v[o] = NULL;
	*count = o;
	return l.v;
}

/* ---- describing a QMP command (help in the shell) ---------------------- */

/* A short name for schema type T: builtins by name, enums by their values,
 * objects by their members, arrays by their element. */
static void describe_type(struct completer *c, FILE *out,
			  struct json_object *t)
{
	const char *meta = entry_str(t, "meta-type") ?: "";
	struct json_object *list;
	size_t i, n;

	if (!strcmp(meta, "builtin")) {
		fputs(entry_str(t, "name"), out);
	} else if (!strcmp(meta, "enum") &&
		   json_object_object_get_ex(t, "values", &list)) {
		n = json_object_array_length(list);
		for (i = 0; i < n; i++)
			fprintf(out, "%s%s", i ? "|" : "", json_object_get_string(
					json_object_array_get_idx(list, i)));
	} else if (!strcmp(meta, "array")) {
		fputs("array of ", out);
		describe_type(c, out, schema_entry(c, entry_str(t, "element-type")));
	} else if (!strcmp(meta, "alternate") &&
		   json_object_object_get_ex(t, "members", &list)) {
		n = json_object_array_length(list);
		for (i = 0; i < n; i++) {
			fputs(i ? " or " : "", out);
			describe_type(c, out, schema_entry(c, entry_str(
				json_object_array_get_idx(list, i), "type")));
		}
	} else if (!strcmp(meta, "object") &&
		   json_object_object_get_ex(t, "members", &list)) {
		/* Member names only: they are typed as dotted keys. */
		n = json_object_array_length(list);
		fputs("object {", out);
		for (i = 0; i < n; i++) {
			struct json_object *m = json_object_array_get_idx(list, i);

			fprintf(out, "%s%s%s", i ? ", " : "", entry_str(m, "name"),
				json_object_object_get_ex(m, "default", NULL) ?
					"?" : "");
		}
		fputs("}", out);
	} else {
		fputs(meta[0] ? meta : "?", out);
	}
}

static void describe_members(struct completer *c, FILE *out,
			     struct json_object *obj, const char *indent)
{
	struct json_object *list;
	size_t i, n;

	if (!json_object_object_get_ex(obj, "members", &list))
		return;
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(list, i);

		fprintf(out, "%s%s=", indent, entry_str(m, "name"));
		describe_type(c, out, schema_entry(c, entry_str(m, "type")));
		fputs(json_object_object_get_ex(m, "default", NULL) ?
		      "  (optional)\n" : "\n", out);
	}
}

bool completer_has_qmp_command(struct completer *c, const char *command)
{
	struct json_object *cmd = schema_entry(c, command);

	return cmd && !strcmp(entry_str(cmd, "meta-type") ?: "", "command");
}

int completer_describe(struct completer *c, const char *command, FILE *out)
{
	struct json_object *cmd = schema_entry(c, command), *args, *variants;
	struct json_object *members;
	size_t i, n;

	if (!completer_has_qmp_command(c, command))
		return -ENOENT;
	args = schema_entry(c, entry_str(cmd, "arg-type"));
	if (json_object_object_get_ex(args, "members", &members) &&
	    json_object_array_length(members))
		fprintf(out, "QMP command %s KEY=VALUE...:\n", command);
	else
		fprintf(out, "QMP command %s, no arguments\n", command);
	describe_members(c, out, args, "  ");
	if (json_object_object_get_ex(args, "variants", &variants)) {
		n = json_object_array_length(variants);
		for (i = 0; i < n; i++) {
			struct json_object *var = json_object_array_get_idx(variants, i);
			struct json_object *t = schema_entry(c, entry_str(var, "type"));
			struct json_object *vmembers;

			if (!json_object_object_get_ex(t, "members", &vmembers) ||
			    !json_object_array_length(vmembers))
				continue;
			fprintf(out, "  with %s=%s:\n", entry_str(args, "tag"),
				entry_str(var, "case"));
			describe_members(c, out, t, "    ");
		}
	}
	fprintf(out, "Returns: ");
	describe_type(c, out, schema_entry(c, entry_str(cmd, "ret-type")));
	fputc('\n', out);
	return 0;
}
