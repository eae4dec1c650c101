/* SPDX-License-Identifier: MIT */
/*
 * complete.c - the shell's Tab completion: candidates from the command
 * table, query-commands, the QMP schema (qmp-schema.c) and qom-list, each
 * fetched once per session on first need (see complete.h).
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
#include "fleet.h"
#include "qmp-schema.h"
#include "shell-line.h"
#include "vbctl.h"

struct completer {
	struct vbctl *v;
	struct schema *schema;		/* argument types, event names */
	struct json_object *commands;	/* query-commands return */
	struct json_object *qom;	/* qom-list returns by path */
	bool command_line;	/* vbctl's own command line, not the shell */
	struct json_object *hmp_help;	/* HMP "help" text */
	struct json_object *hmp_info;	/* HMP "info" text */
	bool commands_tried, hmp_help_tried, hmp_info_tried;
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
	c->schema = schema_new(v);
	c->qom = json_object_new_object();
	if (!c->schema || !c->qom) {
		completer_free(c);
		return NULL;
	}
	return c;
}

void completer_set_command_line(struct completer *c)
{
	c->command_line = true;
}

void completer_free(struct completer *c)
{
	if (!c)
		return;
	schema_free(c->schema);
	json_object_put(c->commands);
	json_object_put(c->qom);
	json_object_put(c->hmp_help);
	json_object_put(c->hmp_info);
	free(c);
}

struct schema *completer_schema(struct completer *c)
{
	return c->schema;
}

int completer_set_commands(struct completer *c, struct json_object *commands)
{
	json_object_put(c->commands);
	c->commands = commands;
	c->commands_tried = true;
	return 0;
}

int completer_set_schema(struct completer *c, struct json_object *schema)
{
	return schema_set(c->schema, schema);
}

int completer_set_qom_list(struct completer *c, const char *path,
			   struct json_object *list)
{
	return json_object_object_add(c->qom, path, list) ? -ENOMEM : 0;
}

/* ---- fetching, once per session --------------------------------------- */

static struct json_object *qmp_commands(struct completer *c)
{
	if (!c->commands_tried)
		completer_set_commands(c, vbctl_fetch(c->v, "query-commands", NULL));
	return c->commands;
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
	list = vbctl_fetch(c->v, "qom-list", args);
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
	size_t lp, ln, ls;
	char *s, *o;
	const char *p;

	/* NAME comes from QEMU: NULL when it sent a JSON null or no
	 * string where a name belongs. Nothing to offer then. */
	if (!name)
		return;
	lp = strlen(prefix);
	ln = strlen(name);
	ls = strlen(suffix);
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

	/* quit, exit, hmp: only where the shell runs them. */
	for (cmd = vbctl_commands; *cmd; cmd++) {
		if (!c->v->in_shell && ((*cmd)->flags & VBCTL_SHELL_ONLY))
			continue;
		cands_add(l, (*cmd)->name);
		cands_add(l, (*cmd)->alias);	/* NULL: none */
	}
}

static void add_qmp_commands(struct completer *c, struct cands *l)
{
	struct json_object *list = qmp_commands(c);
	size_t i, n = json_object_is_type(list, json_type_array) ?
		json_object_array_length(list) : 0;

	for (i = 0; i < n; i++)
		cands_add(l, schema_str(json_object_array_get_idx(list, i), "name"));
}

/*
 * Human monitor command names, from what HMP's "help" (or "info", for
 * the names after it) prints: "name[|alias] args -- what it does", one a
 * line. Fetched once each.
 */
static void add_hmp_commands(struct completer *c, struct cands *l,
			     bool info)
{
	struct json_object **cache = info ? &c->hmp_info : &c->hmp_help;
	struct json_object *args;
	const char *text, *line, *end;
	char *name, *bar;

	if (!*cache && !(info ? c->hmp_info_tried : c->hmp_help_tried)) {
		if (info)
			c->hmp_info_tried = true;
		else
			c->hmp_help_tried = true;
		args = json_object_new_object();
		if (args && !json_object_object_add(args, "command-line",
				json_object_new_string(info ? "info" : "help")))
			*cache = vbctl_fetch(c->v, "human-monitor-command", args);
		json_object_put(args);
	}
	text = *cache ? json_object_get_string(*cache) : "";
	for (line = text; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		if (info) {	/* "info balloon  -- show ..." */
			if (strncmp(line, "info ", 5))
				continue;
			line += 5;
		}
		name = strndup(line, strcspn(line, " \t\r\n"));
		if (!name)
			return;
		/* "c|cont": both names */
		for (bar = name; bar; ) {
			char *next = strchr(bar, '|');

			if (next)
				*next++ = '\0';
			if (*bar && *bar != '-')
				cands_add(l, bar);
			bar = next;
		}
		free(name);
	}
}

static void add_events(struct completer *c, struct cands *l)
{
	struct json_object *events = schema_events(c->schema);
	size_t i, n = events ? json_object_array_length(events) : 0;

	for (i = 0; i < n; i++)
		cands_add(l, schema_list_str(events, i));
}

/* QOM children and links are where a path goes on. */
static bool qom_is_node(struct json_object *prop)
{
	const char *t = schema_str(prop, "type");

	return t && (!strncmp(t, "child<", 6) || !strncmp(t, "link<", 5));
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
		const char *name = schema_str(prop, "name");
		char *full;

		if (!qom_is_node(prop) || !name ||
		    asprintf(&full, "%s%s", dir, name) < 0)
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
	for (i = 0; i < n; i++)
		cands_add3(l, prefix, schema_str(json_object_array_get_idx(list, i),
						 "name"), "");
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
	const char *name = schema_str(m, "name");
	struct json_object *t = schema_entry(k->c->schema, schema_str(m, "type"));
	bool object = t && !strcmp(schema_str(t, "meta-type") ?: "", "object");
	char *full;

	if (!name || asprintf(&full, "%s%s", k->prefix, name) < 0)
		return;
	/* A key given already is not offered again. */
	if (!schema_typed_value(k->nwords, k->words, full))
		/* An object member is usually filled in key by key. */
		cands_add3(k->l, k->prefix, name, object ? "." : "=");
	free(full);
}

/* Argument names in object type ROOT: "key=", or "key." for an object. */
static void add_keys(struct completer *c, struct cands *l,
		     struct json_object *root, int nwords, char **words,
		     const char *typed)
{
	const char *dot = strrchr(typed, '.');
	size_t plen = dot ? (size_t)(dot - typed) + 1 : 0;
	struct key_add k = { c, l, NULL, nwords, words };
	struct json_object *t;
	const char *tagval = NULL, *tag;
	char *prefix, *tagkey;

	prefix = strndup(typed, plen);
	if (!prefix)
		return;
	t = schema_key_type(c->schema, root, nwords, words, typed, plen ? plen - 1 : 0);
	tag = schema_str(t, "tag");
	if (tag && asprintf(&tagkey, "%s%s", prefix, tag) >= 0) {
		tagval = schema_typed_value(nwords, words, tagkey);
		free(tagkey);
	}
	k.prefix = prefix;
	schema_for_each_member(c->schema, t, tagval, key_add_fn, &k);
	free(prefix);
}

/* Values for KEY=...: enum values, true/false, QOM paths and properties
 * for the qom commands. */
static void add_values(struct completer *c, struct cands *l,
		       const char *command, struct json_object *root,
		       int nwords, char **words, const char *typed)
{
	const char *eq = strchr(typed, '=');
	size_t klen = eq - typed, i, n;
	char *prefix = strndup(typed, klen + 1);
	struct json_object *t, *values;
	const char *meta;

	if (!prefix)
		return;
	for (i = 0; i < sizeof(qom_commands) / sizeof(*qom_commands); i++) {
		if (!command || strcmp(command, qom_commands[i]))
			continue;
		if (!strcmp(prefix, "path=")) {
			add_qom_paths(c, l, prefix, eq + 1);
			goto out;
		}
		if (!strcmp(prefix, "property=")) {
			add_qom_props(c, l, prefix,
				      schema_typed_value(nwords, words, "path"));
			goto out;
		}
	}
	t = schema_key_type(c->schema, root, nwords, words, typed, klen);
	meta = schema_str(t, "meta-type") ?: "";
	if (!strcmp(meta, "enum") && (values = schema_list(t, "values", &n))) {
		for (i = 0; i < n; i++)
			cands_add3(l, prefix, schema_list_str(values, i), "");
	} else if (!strcmp(meta, "builtin") &&
		   !strcmp(schema_str(t, "json-type") ?: "", "boolean")) {
		cands_add3(l, prefix, "true", "");
		cands_add3(l, prefix, "false", "");
	}
out:
	free(prefix);
}

/* KEY=VALUE words for QMP command COMMAND (NULL: a transaction action,
 * arguments type ROOT); WORDS are those typed so far. */
static void add_kv_in(struct completer *c, struct cands *l,
		      const char *command, struct json_object *root,
		      int nwords, char **words, const char *typed)
{
	if (strchr(typed, '='))
		add_values(c, l, command, root, nwords, words, typed);
	else
		add_keys(c, l, root, nwords, words, typed);
}

static void add_kv(struct completer *c, struct cands *l, const char *command,
		   int nwords, char **words, const char *typed)
{
	add_kv_in(c, l, command, schema_command_args(c->schema, command),
		  nwords, words, typed);
}

/*
 * Sizes for "set": with nothing typed, a few of each form of the grammar
 * (size.h); after a number (and part of a unit), the number with each
 * unit.
 */
static void add_sizes(struct cands *l, const char *typed)
{
	static const char *const examples[] = {
		"25%", "50%", "75%", "100%", "512M", "1G", "2G", "4G",
		"+256M", "-256M",
	};
	static const char *const units[] = {
		"K", "M", "G", "T", "KiB", "MiB", "GiB", "TiB", "KB", "MB", "GB",
		"TB", "%",
	};
	const char *p = typed;
	char number[64];
	size_t i;

	if (!*typed) {
		for (i = 0; i < sizeof(examples) / sizeof(*examples); i++)
			cands_add(l, examples[i]);
		return;
	}
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return;
	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	/* The number, then each unit (what follows it must match). */
	snprintf(number, sizeof(number), "%.*s", (int)(p - typed), typed);
	for (i = 0; i < sizeof(units) / sizeof(*units); i++)
		cands_add3(l, number, units[i], "");
}

/* "--name" for each long option of CMD. */
static void add_options(struct cands *l, const struct vbctl_cmd *cmd)
{
	const struct option *o;

	for (o = cmd->longopts; o && o->name; o++)
		cands_add3(l, "--", o->name, "");
}

/* The optvals entry of option word OPT (its first LEN characters: "--sort",
 * "-o", or the last letter of "-wo") of CMD, or NULL. */
static const struct vbctl_optval *find_optval(const struct vbctl_cmd *cmd,
					      const char *opt, size_t len)
{
	const struct vbctl_optval *ov;
	const struct option *o;
	bool longopt = len > 2 && opt[1] == '-';

	for (o = cmd->longopts; o && o->name; o++) {
		if (longopt ? strlen(o->name) != len - 2 ||
			      strncmp(o->name, opt + 2, len - 2) :
			      o->val != opt[len - 1])
			continue;
		for (ov = cmd->optvals; ov && ov->option; ov++)
			if (!strcmp(ov->option, o->name))
				return ov;
	}
	return NULL;
}

/* "VM=" for each VM of the fleet the command line names, until the '='
 * is typed. */
static void add_fleet_vms(struct completer *c, struct cands *l,
			  const char *prefix, const char *typed)
{
	char **names;
	size_t i;

	if (!c->command_line || strchr(typed + strlen(prefix), '='))
		return;
	names = fleet_names(c->v);
	for (i = 0; names && names[i]; i++)
		cands_add3(l, prefix, names[i], "=");
	qmp_strv_free(names);
}

/* The values of an option: its choices after PREFIX ("--sort=" when the
 * value is typed in the same word), sizes, or VM=. */
static void add_option_values(struct completer *c, struct cands *l,
			      const struct vbctl_optval *ov,
			      const char *prefix, const char *typed)
{
	const char *const *v;

	if (!ov)
		return;
	if (ov->kind == VBCTL_ARG_VM_KV)
		add_fleet_vms(c, l, prefix, typed);
	if (ov->kind == VBCTL_ARG_SIZE && !*prefix)
		add_sizes(l, typed);
	for (v = ov->choices; v && *v; v++)
		cands_add3(l, prefix, *v, "");
}

/* Positional arguments of a vbctl command, completed by their kind. */
static void add_vbctl_args(struct completer *c, struct cands *l,
			   const struct vbctl_cmd *cmd, int nwords,
			   char **words, const char *typed)
{
	char *pos[64];
	int npos = 0, i, nargs = 0;
	const struct vbctl_arg *arg;

	const char *eq;

	/* The value of the option before, when it takes one. */
	if (nwords > 1 && vbctl_option_takes_value(cmd, words[nwords - 1])) {
		add_option_values(c, l, find_optval(cmd, words[nwords - 1],
						 strlen(words[nwords - 1])), "", typed);
		return;
	}
	if (typed[0] == '-' && typed[1] == '-' && (eq = strchr(typed, '='))) {
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "%.*s", (int)(eq + 1 - typed), typed);
		add_option_values(c, l, find_optval(cmd, typed, eq - typed), prefix, typed);
		return;
	}
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
		if (!c->command_line)
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
	case VBCTL_ARG_HMP_COMMAND:
		/* The command's name, and what comes after "info". */
		if (npos == 0)
			add_hmp_commands(c, l, false);
		else if (npos == 1 && !strcmp(pos[0], "info"))
			add_hmp_commands(c, l, true);
		break;
	case VBCTL_ARG_EVENT:
		add_events(c, l);
		break;
	case VBCTL_ARG_SIZE:
		add_sizes(l, typed);
		break;
	case VBCTL_ARG_VM_KV:	/* option values only */
	case VBCTL_ARG_NONE:
		break;
	}
}

/* The list sorted, without duplicates, NULL-terminated; NULL when empty. */
static char **cands_finish(struct cands *l, size_t *count)
{
	size_t i, o;

	*count = 0;
	if (!l->n) {
		free(l->v);
		return NULL;
	}
	qsort(l->v, l->n, sizeof(*l->v), cmp_str);
	for (i = 1, o = 1; i < l->n; i++) {
		if (strcmp(l->v[i], l->v[o - 1]))
			l->v[o++] = l->v[i];
		else
			free(l->v[i]);
	}
	l->v[o] = NULL;
	*count = o;
	return l->v;
}

char **completer_complete(struct completer *c, int nwords, char **words,
			  const char *word, size_t *count)
{
	struct cands l = { .word = word, .word_len = strlen(word) };
	const struct vbctl_cmd *cmd;

	if (c->command_line) {
		/* vbctl COMMAND ARGS: only vbctl's commands, in their own
		 * syntax. */
		if (nwords == 0)
			add_vbctl_commands(c, &l);
		else if ((cmd = vbctl_lookup_command(c->v, words[0])))
			add_vbctl_args(c, &l, cmd, nwords, words, word);
	} else if (nwords == 0) {
		add_vbctl_commands(c, &l);
		add_qmp_commands(c, &l);
		/* qmp-shell's transaction syntax (see the shell). */
		if (c->v->in_shell)
			cands_add(&l, "transaction(");
	} else if ((cmd = vbctl_lookup_command(c->v, words[0]))) {
		/* A vbctl command that is also a QMP command (qom-get)
		 * takes either form until the line says which. */
		if (nwords == 1 || !shell_line_is_qmp(nwords, words))
			add_vbctl_args(c, &l, cmd, nwords, words, word);
		if (nwords == 1 || shell_line_is_qmp(nwords, words))
			add_kv(c, &l, words[0], nwords - 1, words + 1, word);
	} else if (!strcmp(words[0], "transaction(")) {
		return completer_complete_action(c, nwords - 1, words + 1, word,
						 count);
	} else {
		/* A QMP command: its arguments from the schema. */
		add_kv(c, &l, words[0], nwords - 1, words + 1, word);
	}
	return cands_finish(&l, count);
}

char **completer_complete_action(struct completer *c, int nwords,
				 char **words, const char *word, size_t *count)
{
	struct cands l = { .word = word, .word_len = strlen(word) };
	struct json_object *names;
	size_t i, n;

	if (nwords == 0) {
		names = schema_action_names(c->schema);
		n = names ? json_object_array_length(names) : 0;
		for (i = 0; i < n; i++)
			cands_add(&l, schema_list_str(names, i));
		if (!strcmp(word, "") || !strcmp(word, ")"))
			cands_add(&l, ")");
	} else {
		add_kv_in(c, &l, NULL, schema_action_data(c->schema, words[0]),
			  nwords - 1, words + 1, word);
	}
	return cands_finish(&l, count);
}
