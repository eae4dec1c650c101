/* SPDX-License-Identifier: MIT */
/*
 * complete.h - what the shell offers on Tab: vbctl and QMP command names,
 * a QMP command's argument names and enum values (query-qmp-schema), QOM
 * paths and property names (qom-list). Data is fetched from QEMU on first
 * need and kept for the session, so later completions answer at once.
 * No readline here: the shell turns the candidates into matches.
 */
#ifndef VBCTL_COMPLETE_H
#define VBCTL_COMPLETE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct json_object;
struct vbctl;
struct completer;

/* V's connection is used to fetch (when v->q is NULL, nothing is fetched). */
struct completer *completer_new(struct vbctl *v);
void completer_free(struct completer *c);
/* Complete vbctl's own command line ("vbctl __complete") rather than a
 * shell line: vbctl commands only, no QMP commands or KEY=VALUE forms. */
void completer_set_command_line(struct completer *c);

/* The QMP schema the completer reads (the shell's help describes QMP
 * commands from it). Borrowed. */
struct schema *completer_schema(struct completer *c);

/*
 * Give data instead of fetching it (each takes over the reference):
 * the return value of query-commands, of query-qmp-schema, and of
 * qom-list PATH. Returns 0 or -ENOMEM.
 */
int completer_set_commands(struct completer *c, struct json_object *commands);
int completer_set_schema(struct completer *c, struct json_object *schema);
int completer_set_qom_list(struct completer *c, const char *path,
			   struct json_object *list);

/*
 * Candidates for WORD, the word being typed after the NWORDS complete
 * words WORDS (the first is the command). WORD is as the user means it
 * (unquoted); candidates are whole words that start with it, sorted,
 * without duplicates, each with a blank, quote or backslash escaped with
 * a backslash so the shell's splitter reads it back as one word. A
 * candidate ending in '=', '.' or '/' expects more to be typed after it.
 * Returns a NULL-terminated array of *COUNT malloc()ed strings (free with
 * completer_free_list), or NULL when there is nothing to offer. Needs no
 * readline: any front end can call it with the words of a line.
 */
char **completer_complete(struct completer *c, int nwords, char **words,
			  const char *word, size_t *count);
/* The same for the words of a transaction action (after "transaction(",
 * or a line inside one): WORDS[0] is the action's name. */
char **completer_complete_action(struct completer *c, int nwords,
				 char **words, const char *word, size_t *count);
void completer_free_list(char **list);

#endif
