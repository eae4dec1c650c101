/* SPDX-License-Identifier: MIT */
/*
 * auto-config.c - "vbctl auto --config FILE": an INI file (inih parses it)
 * whose [auto] keys are auto's long options and whose [vm NAME] sections
 * hold one VM's --min and --weight. docs/autopilot.md shows the format.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>
#include <qmp/qmp.h>

#include "auto-config.h"

struct reader {
	struct vbctl *v;
	const struct vbctl_cmd *cmd;
	const char *path;
	int (*apply)(void *data, const struct option *opt, char *value);
	void *data;
	char ***owned;
	size_t nowned;
	int status;		/* the first failure's exit status */
	char why[256];		/* what was wrong with the line, if not apply's */
};

/* A, SEP and B joined, kept in the list the caller frees; NULL when out
 * of memory. */
static char *keep(struct reader *r, const char *a, const char *sep,
		  const char *b)
{
	char **owned = realloc(*r->owned, (r->nowned + 2) * sizeof(*owned));
	char *copy;

	if (!owned)
		return NULL;
	*r->owned = owned;
	if (asprintf(&copy, "%s%s%s", a, sep, b) < 0)
		return NULL;
	owned[r->nowned++] = copy;
	owned[r->nowned] = NULL;
	return copy;
}

static const struct option *find_option(const struct vbctl_cmd *cmd,
					const char *name)
{
	const struct option *o;

	for (o = cmd->longopts; o && o->name; o++)
		if (!strcmp(o->name, name) && strcmp(name, "config"))
			return o;
	return NULL;
}

/* inih's callback, once per KEY = VALUE: nonzero to go on. */
static int on_entry(void *user, const char *section, const char *name,
		    const char *value)
{
	struct reader *r = user;
	const struct option *o;
	char *arg;

	if (!strcmp(section, "auto")) {
		o = find_option(r->cmd, name);
		if (!o) {
			snprintf(r->why, sizeof(r->why),
				 "'%s' is not an option of auto (see vbctl help auto)", name);
			return 0;
		}
		if (o->has_arg == no_argument) {
			if (!strcasecmp(value, "no") || !strcasecmp(value, "false") ||
			    !strcmp(value, "0"))
				return 1;
			if (strcasecmp(value, "yes") && strcasecmp(value, "true") &&
			    strcmp(value, "1")) {
				snprintf(r->why, sizeof(r->why),
					 "%s = '%s': give yes or no", name, value);
				return 0;
			}
			arg = NULL;
		} else {
			arg = keep(r, value, "", "");
		}
	} else if (!strncmp(section, "vm ", 3) && section[3]) {
		o = find_option(r->cmd, name);
		if (!o || (strcmp(name, "min") && strcmp(name, "weight"))) {
			snprintf(r->why, sizeof(r->why),
				 "'%s' in [%s]: a VM's section holds min and weight", name,
				 section);
			return 0;
		}
		arg = keep(r, section + 3, "=", value);
	} else {
		snprintf(r->why, sizeof(r->why),
			 "[%s]: the sections are [auto] and [vm NAME]", section);
		return 0;
	}
	if (o->has_arg != no_argument && !arg) {
		r->status = vbctl_error(r->v, VBCTL_EXIT_FAIL, "out of memory");
		return 0;
	}
	r->status = r->apply(r->data, o, arg);
	return r->status == 0;
}

int auto_config_read(struct vbctl *v, const struct vbctl_cmd *cmd,
		     const char *path,
		     int (*apply)(void *data, const struct option *opt, char *value),
		     void *data, char ***owned)
{
	struct reader r = {
		.v = v, .cmd = cmd, .path = path, .apply = apply, .data = data,
		.owned = owned,
	};
	FILE *f;
	int line;

	for (r.nowned = 0; *owned && (*owned)[r.nowned]; r.nowned++)
		;
	f = fopen(path, "r");
	if (!f)
		return vbctl_usage_error(v, cmd, "--config %s: %s", path,
					 strerror(errno));
	line = ini_parse_file(f, on_entry, &r);
	fclose(f);
	if (line == 0)
		return 0;
	if (r.status)
		return r.status;	/* apply said why */
	if (line < 0)
		return vbctl_usage_error(v, cmd, "--config %s: cannot read it", path);
	return vbctl_usage_error(v, cmd, "--config %s, line %d: %s", path, line,
				 r.why[0] ? r.why : "not KEY = VALUE or [SECTION]");
}
