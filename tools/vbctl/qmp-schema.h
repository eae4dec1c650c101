/* SPDX-License-Identifier: MIT */
/*
 * qmp-schema.h - QEMU's QMP schema (query-qmp-schema), fetched once per
 * session on first need and indexed by name: the type of a command's
 * (dotted) argument, the event names, and a description of a command's
 * arguments for the shell's "help NAME".
 */
#ifndef VBCTL_QMP_SCHEMA_H
#define VBCTL_QMP_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct json_object;
struct vbctl;
struct schema;

/* V's connection is used to fetch (when v->q is NULL, nothing is fetched). */
struct schema *schema_new(struct vbctl *v);
void schema_free(struct schema *s);

/* Give the return value of query-qmp-schema instead of fetching it (takes
 * the reference). 0 or -ENOMEM. */
int schema_set(struct schema *s, struct json_object *schema);

/* The entry named NAME, borrowed; NULL when there is none (or no schema). */
struct json_object *schema_entry(struct schema *s, const char *name);
/*
 * Member KEY of schema entry E as a string; NULL when absent or not a
 * string (JSON null included: the schema comes from QEMU, or from
 * whatever listens on its socket).
 */
const char *schema_str(struct json_object *e, const char *key);
/* Member KEY of E when it is an array (borrowed), else NULL; *N its
 * length (0 when NULL). */
struct json_object *schema_list(struct json_object *e, const char *key,
				size_t *n);
/* Element I of array LIST as a string; NULL when it is not one. */
const char *schema_list_str(struct json_object *list, size_t i);
/* The event names, an array of strings (borrowed); NULL without a schema. */
struct json_object *schema_events(struct schema *s);

/* Calls FN for each member of object type OBJ: its own, plus those of the
 * variant that TAGVAL (the value given for its tag member, or NULL)
 * selects. */
void schema_for_each_member(struct schema *s, struct json_object *obj,
			    const char *tagval,
			    void (*fn)(void *ctx, struct json_object *m),
			    void *ctx);
/* The value given for KEY among the KEY=VALUE words WORDS, or NULL. */
const char *schema_typed_value(int nwords, char **words, const char *key);
/* The arguments type of QMP command COMMAND, or NULL. */
struct json_object *schema_command_args(struct schema *s, const char *command);
/* The action names a transaction takes (an array of strings, borrowed),
 * and the arguments type ("data") of action ACTION; NULL when unknown. */
struct json_object *schema_action_names(struct schema *s);
struct json_object *schema_action_data(struct schema *s, const char *action);
/*
 * The type of dotted key KEY (LEN bytes) in object type ROOT (the
 * arguments of a command or of a transaction action), or ROOT itself for
 * LEN 0. WORDS are the KEY=VALUE words given so far: a union's tag value
 * picks its variant.
 */
struct json_object *schema_key_type(struct schema *s, struct json_object *root,
				    int nwords, char **words, const char *key,
				    size_t len);

/* True when QEMU's schema has a command named COMMAND. */
bool schema_has_command(struct schema *s, const char *command);
/*
 * Writes what QMP command COMMAND takes (KEY=VALUE with each type, enum
 * values spelled out, optional ones marked) and returns. -ENOENT when
 * QEMU has no such command.
 */
int schema_describe(struct schema *s, const char *command, FILE *out);

#endif
