/* SPDX-License-Identifier: MIT */
/*
 * cmd-shell.c - "vbctl shell": an interactive GNU readline front end to
 * the same command table as the one-shot CLI, plus raw QMP (qmp-shell
 * syntax or a JSON object), Tab completion and events shown as they
 * arrive; and the commands only the shell runs: quit, exit, hmp.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qmp/qmp.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "complete.h"
#include "print.h"
#include "qmp-schema.h"
#include "shell-history.h"
#include "kv.h"
#include "shell-line.h"
#include "shell-qemu.h"
#include "split.h"

#define SHELL_PROMPT "vbctl> "
#define SHELL_PROMPT_HMP "vbctl(hmp)> "
#define SHELL_PROMPT_TRANSACTION "vbctl(transaction)> "

struct shell {
	struct vbctl *v;
	struct completer *comp;
	bool interactive;	/* stdin is a terminal: readline, prompt */
	bool done;		/* quit, exit, Ctrl-D or end of input */
	bool failed;		/* a command failed: piped mode exits 1 */
	bool lost;		/* the connection is gone: exit 3 */
	struct shell_history history;
	bool reconnect;		/* a lost connection is made again */
	bool hmp;		/* --hmp: every line is an HMP command */
	/* Inside "transaction(" ... ")": the actions so far; else NULL. */
	struct json_object *transaction;
	struct shell_qemu qemu;	/* shell -- QEMU...: the QEMU started */
	sigset_t loop_mask;	/* signals held while reading a line */
	/* SIGTSTP's action outside the prompt (interactive: the prompt
	 * has its own, see suspend()). */
	struct sigaction tstp_action;
};

/* The one shell of this process, for readline's callbacks and signals. */
static struct shell *the_shell;

static int run_shell(struct vbctl *v, int argc, char **argv);

static const struct option shell_options[] = {
	{ "pretty", no_argument, NULL, 'p' },
	{ "hmp", no_argument, NULL, 'H' },
	{ "logfile", required_argument, NULL, 'l' },
	{ NULL, 0, NULL, 0 },
};

static const struct vbctl_arg shell_args[] = {
	{ "QEMU-COMMAND", VBCTL_ARG_NONE, true },
	{ NULL },
};

const struct vbctl_cmd vbctl_cmd_shell = {
	.name = "shell",
	.usage = "[-p|--pretty] [-H|--hmp] [-l|--logfile FILE] [-- QEMU-COMMAND...]",
	.summary = "interactive shell: vbctl and QMP commands, completion, events",
	.help =
	"Opens an interactive shell on one QMP connection (also what 'vbctl'\n"
	"with no command does on a terminal). Each line is one of:\n"
	"  a vbctl command          query, set 1G --wait, stats --watch, ...\n"
	"  a QMP command            query-balloon, balloon value=1073741824,\n"
	"                           qom-set path=balloon property=P value=2\n"
	"                           (values are JSON where they parse as JSON,\n"
	"                           else strings; a.b=1 nests; quote to keep a\n"
	"                           string: value='\"2\"')\n"
	"  a JSON object            {\"execute\": \"query-status\"}, sent as is\n"
	"  transaction(             the QMP actions on the lines up to ')' sent as\n"
	"                           one transaction (qmp-shell's syntax); on one\n"
	"                           line: transaction( ACTION KEY=VALUE... )\n"
	"  hmp COMMAND...           a human monitor command, e.g. hmp info balloon\n"
	"  help [COMMAND], quit, exit (or Ctrl-D)\n"
	"Tab completes command names, QMP argument names and enum values, QOM\n"
	"paths and properties. Events are printed as they arrive. Ctrl-C stops\n"
	"a running command (stats --watch, events) or clears the line.\n"
	"History: $XDG_STATE_HOME/vbctl/history, else ~/.vbctl_history.\n"
	"When QEMU goes away, the shell says so, connects again until it is\n"
	"back (Ctrl-C gives up: exit 3), and goes on; streams running in it do\n"
	"the same (vbctl --no-reconnect shell: exit 3 at once).\n"
	"When standard input is not a terminal, lines are read without prompts\n"
	"and the exit status is 1 if any command failed; a lost connection ends\n"
	"it with exit 3 unless vbctl -r shell.\n"
	"\n"
	"  -p, --pretty        indent JSON results also with --json (without it,\n"
	"                      JSON is indented already)\n"
	"  -H, --hmp           every line is a human monitor command (Tab\n"
	"                      completes their names); Ctrl-D leaves\n"
	"  -l, --logfile FILE  append every QMP message sent and received to FILE,\n"
	"                      one JSON object a line: {\"timestamp\": {\"seconds\",\n"
	"                      \"microseconds\"}, \"direction\": \"send\"|\"recv\",\n"
	"                      \"message\": {...}}\n"
	"  -- QEMU-COMMAND...  start QEMU (e.g. qemu-system-x86_64 ARGS...) with a\n"
	"                      private QMP socket, open the shell on it, and stop\n"
	"                      QEMU when the shell ends (-s is not used then)\n",
	.flags = VBCTL_NEEDS_QMP,
	.shortopts = "+pHl:",
	.longopts = shell_options,
	.args = shell_args,
	.min_args = 0,
	.max_args = -1,
	.run = run_shell,
};

static int run_quit(struct vbctl *v, int argc, char **argv);
static int run_hmp(struct vbctl *v, int argc, char **argv);

static const struct vbctl_arg no_args[] = { { NULL } };

const struct vbctl_cmd vbctl_cmd_quit = {
	.name = "quit",
	.alias = "exit",
	.usage = "",
	.summary = "leave the shell",
	.help = "Leaves the shell, as Ctrl-D does; exit is the same command.\n",
	.flags = VBCTL_SHELL_ONLY,
	.shortopts = "+",
	.args = no_args,
	.min_args = 0,
	.max_args = 0,
	.run = run_quit,
};

static const struct vbctl_arg hmp_args[] = {
	{ "COMMAND", VBCTL_ARG_HMP_COMMAND, true },
	{ NULL },
};

const struct vbctl_cmd vbctl_cmd_hmp = {
	.name = "hmp",
	.usage = "COMMAND...",
	.summary = "run a human monitor command",
	.help =
	"Runs COMMAND in QEMU's human monitor (QMP human-monitor-command) and\n"
	"prints what it says, e.g. hmp info balloon. The rest of the line goes\n"
	"to the monitor as typed, quotes included.\n",
	.flags = VBCTL_SHELL_ONLY | VBCTL_NEEDS_QMP | VBCTL_RAW_ARGS,
	.shortopts = "+",
	.args = hmp_args,
	.min_args = 1,
	.max_args = -1,
	.run = run_hmp,
};

/* ---- signals ------------------------------------------------------------- */

static volatile sig_atomic_t winch_seen, tstp_seen;

static void on_sigint(int sig)
{
	if (the_shell)
		the_shell->v->interrupted = 1;
}

static void on_sigwinch(int sig)
{
	winch_seen = 1;
}

static void on_sigtstp(int sig)
{
	tstp_seen = 1;
}

/* ---- output above the prompt ------------------------------------------ */

/*
 * Asynchronous output (events, a lost connection) must not land in the
 * middle of the line being typed: wipe the prompt and the line from the
 * screen, print, then draw them again as they were, point included
 * (readline keeps the text; only the screen is redrawn).
 */
static void async_begin(struct shell *sh)
{
	if (sh->interactive)
		rl_clear_visible_line();
}

static void async_end(struct shell *sh)
{
	fflush(sh->v->out);
	if (sh->interactive)
		rl_forced_update_display();
}

/* Prints the events queued so far; piped mode only drops them (a script
 * reads results; 'vbctl events' is there to watch events). */
static void flush_events(struct shell *sh)
{
	struct json_object *event;

	if (!sh->v->q || !qmp_event_count(sh->v->q))
		return;
	async_begin(sh);
	while ((event = qmp_event_pop(sh->v->q))) {
		if (sh->interactive)
			vbctl_print_event(sh->v, event);
		json_object_put(event);
	}
	async_end(sh);
}

/* ---- running one line --------------------------------------------------- */

/* The connection is gone: with reconnect on (the interactive default),
 * connect again until QEMU is back or Ctrl-C; else, or when interrupted,
 * say so (once) and end the shell. */
static void connection_lost(struct shell *sh, bool reported)
{
	const char *desc = qmp_get_error_desc(sh->v->q);
	sigset_t held;
	int rc;

	if (sh->reconnect) {
		/* Ctrl-C stops the waiting, as it stops a command. */
		sigprocmask(SIG_UNBLOCK, &sh->loop_mask, &held);
		rc = vbctl_reconnect(sh->v, "shell",
				     desc ? desc : "connection closed");
		sigprocmask(SIG_SETMASK, &held, NULL);
		sh->v->interrupted = 0;
		if (rc == VBCTL_REARM)
			return;
		reported = true;
	}
	if (!reported)
		vbctl_connection_lost(sh->v, NULL);
	sh->lost = true;
	sh->done = true;
}

/* A raw JSON object line: sent as it is (but for its id); the return
 * value printed. */
static int run_json(struct shell *sh, const char *line)
{
	struct vbctl *v = sh->v;
	enum json_tokener_error jerr;
	struct json_object *msg, *ret = NULL, *execute;
	struct json_tokener *tok;
	const char *rest, *what = "QMP";
	uint64_t id;
	int rc;

	tok = json_tokener_new();
	if (!tok)
		return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
	msg = json_tokener_parse_ex(tok, line, (int)strlen(line));
	jerr = json_tokener_get_error(tok);
	rest = line + json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	rest += strspn(rest, " \t\r\n");
	if (!msg) {
		return vbctl_error(v, VBCTL_EXIT_USAGE,
				   "bad JSON: %s (a raw QMP line looks like {\"execute\": \"query-status\"})",
				   jerr == json_tokener_continue ?
				   "it ends before the object does" :
				   json_tokener_error_desc(jerr));
	}
	if (*rest) {
		json_object_put(msg);
		return vbctl_error(v, VBCTL_EXIT_USAGE,
				   "bad JSON: '%s' after the object (one object a line)",
				   rest);
	}
	if (!json_object_is_type(msg, json_type_object)) {
		json_object_put(msg);
		return vbctl_error(v, VBCTL_EXIT_USAGE,
				   "a raw QMP line is a JSON object, e.g. {\"execute\": \"query-status\"}");
	}
	/* Replies are matched by id: the connection numbers its own, and a
	 * user's id (any JSON, often a string) would not fit among them.
	 * Only the return value is printed, so nothing is lost. */
	json_object_object_del(msg, "id");
	if (json_object_object_get_ex(msg, "execute", &execute) &&
	    json_object_is_type(execute, json_type_string))
		what = json_object_get_string(execute);
	rc = qmp_send_message(v->q, msg, &id);
	if (rc == 0)
		rc = qmp_recv(v->q, id, &ret);
	rc = vbctl_print_reply(v, rc, ret, what);
	json_object_put(msg);
	return rc;
}

static int run_quit(struct vbctl *v, int argc, char **argv)
{
	int rc = vbctl_parse_plain(v, &vbctl_cmd_quit, argc, argv);

	if (rc == 0)
		v->leave_shell = true;
	return rc;
}

/* "hmp REST": REST (argv[1], see VBCTL_RAW_ARGS) goes to
 * human-monitor-command exactly as typed (HMP has its own syntax). */
static int run_hmp(struct vbctl *v, int argc, char **argv)
{
	struct json_object *args, *ret = NULL;
	int rc;

	if (argc < 2 || !*argv[1])
		return vbctl_usage_error(v, &vbctl_cmd_hmp,
					 "missing the command; e.g. hmp info balloon");
	args = vbctl_json_object(v, "command-line", json_object_new_string(argv[1]));
	if (!args)
		return VBCTL_EXIT_FAIL;
	rc = qmp_execute(v->q, "human-monitor-command", args, &ret);
	json_object_put(args);
	if (rc)
		return vbctl_qmp_failed(v, rc, "hmp");
	/* An HMP command that says nothing (stop, cont) prints nothing. */
	if (v->json || json_object_get_string_len(ret))
		rc = vbctl_print(v, 0, ret, NULL);
	json_object_put(ret);
	return rc ? VBCTL_EXIT_FAIL : VBCTL_EXIT_OK;
}

/*
 * A QMP command in qmp-shell syntax, through the table's "qmp" command
 * so the KEY=VALUE rules, the path=balloon alias of the qom commands and
 * the output are the one-shot CLI's.
 */
static int run_qmp_words(struct shell *sh, int argc, char **argv)
{
	char **av = calloc((size_t)argc + 2, sizeof(*av));
	int rc;

	if (!av)
		return vbctl_error(sh->v, VBCTL_EXIT_FAIL, "out of memory");
	av[0] = (char *)vbctl_cmd_qmp.name;
	memcpy(av + 1, argv, (size_t)argc * sizeof(*av));
	rc = vbctl_run_command(sh->v, argc + 1, av);
	free(av);
	return rc;
}

/*
 * help: the table's help, plus what only the shell takes; "help NAME" for
 * a QMP command describes its arguments from QEMU's schema.
 */
static int run_help(struct shell *sh, int argc, char **argv)
{
	struct schema *schema = completer_schema(sh->comp);
	struct vbctl *v = sh->v;
	int rc;

	if (argc == 2 && !vbctl_lookup_command(v, argv[1])) {
		if (schema_describe(schema, argv[1], v->out) == 0)
			return VBCTL_EXIT_OK;
		if (v->q && qmp_is_broken(v->q))
			return VBCTL_EXIT_CONN;
		return vbctl_error(v, VBCTL_EXIT_USAGE,
				   "help: '%s' is neither a vbctl command nor a QMP command of this QEMU ('help' lists them; Tab completes)",
				   argv[1]);
	}
	rc = vbctl_run_command(v, argc, argv);
	/* qom-get and friends are QMP commands too, with other arguments. */
	if (rc == VBCTL_EXIT_OK && argc == 2 &&
	    schema_has_command(schema, argv[1])) {
		fputc('\n', v->out);
		schema_describe(schema, argv[1], v->out);
	}
	if (rc == VBCTL_EXIT_OK && argc == 1)
		fputs("\n"
		      "In this shell a line may also be a QMP command (query-balloon,\n"
		      "balloon value=BYTES), a JSON object, or hmp COMMAND...; 'help NAME'\n"
		      "describes a QMP command's arguments, 'help shell' the shell; quit,\n"
		      "exit or Ctrl-D leaves.\n", v->out);
	return rc;
}

/* Sends the transaction's actions gathered so far as one command. */
static int transaction_send(struct shell *sh)
{
	struct vbctl *v = sh->v;
	struct json_object *args, *ret = NULL;
	int rc;

	args = vbctl_json_object(v, "actions", sh->transaction);
	sh->transaction = NULL;
	if (!args)
		return VBCTL_EXIT_FAIL;
	rc = qmp_execute(v->q, "transaction", args, &ret);
	json_object_put(args);
	return vbctl_print_reply(v, rc, ret, "transaction");
}

/*
 * qmp-shell's transaction syntax: "transaction(" opens it (an action may
 * follow on the same line), each line "ACTION KEY=VALUE..." adds
 * {"type": ACTION, "data": {...}}, and ")" (alone, or as the last word of
 * an action's line) sends them all as one "transaction" command. A
 * mistake drops the transaction, so nothing half-typed is ever sent.
 */
static int transaction_line(struct shell *sh, int argc, char **argv)
{
	struct json_object *action, *data;
	char err[VBCTL_KV_ERR_MAX];
	struct vbctl *v = sh->v;
	bool close = false;
	int first = 0;

	if (!sh->transaction) {
		sh->transaction = json_object_new_array();
		if (!sh->transaction)
			return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
		first = 1;	/* "transaction(" */
	}
	if (first == argc)
		return VBCTL_EXIT_OK;
	if (!strcmp(argv[argc - 1], ")")) {
		close = true;
		argc--;
	}
	if (first == argc) {
		if (!close)
			return VBCTL_EXIT_OK;
		return transaction_send(sh);
	}
	if (!strcmp(argv[first], ")") || vbctl_kv_parse(argc - first - 1,
			argv + first + 1, &data, err, sizeof(err))) {
		sh->transaction = (json_object_put(sh->transaction), NULL);
		return vbctl_error(v, VBCTL_EXIT_USAGE,
				   "transaction: %s; the transaction is dropped",
				   !strcmp(argv[first], ")") ?
				   "nothing may follow ')'" : err);
	}
	action = vbctl_json_object(v, "type", json_object_new_string(argv[first]));
	if (!action || vbctl_json_add(v, action, "data", data) ||
	    json_object_array_add(sh->transaction, action)) {
		json_object_put(action);
		sh->transaction = (json_object_put(sh->transaction), NULL);
		return VBCTL_EXIT_FAIL;
	}
	return close ? transaction_send(sh) : VBCTL_EXIT_OK;
}

/* --hmp: the whole line goes to the human monitor, as typed. */
static int hmp_line(struct shell *sh, const char *line)
{
	char *argv[] = { (char *)vbctl_cmd_hmp.name, (char *)line, NULL };

	return vbctl_run_command(sh->v, 2, argv);
}

/* Runs one line (LINE starts at its first word); returns its
 * VBCTL_EXIT_* status. */
static int run_line(struct shell *sh, const char *line)
{
	const struct vbctl_cmd *cmd = NULL;
	struct vbctl *v = sh->v;
	const char *start, *rest = NULL;
	enum shell_line_kind kind;
	struct split s;
	int rc;

	kind = shell_line_classify(line, &start, &cmd, &rest);
	if (kind != SHELL_LINE_EMPTY && sh->hmp)
		return hmp_line(sh, start);
	switch (kind) {
	case SHELL_LINE_EMPTY:
		return VBCTL_EXIT_OK;
	case SHELL_LINE_JSON:
		return run_json(sh, start);
	case SHELL_LINE_RAW: {
		char *argv[] = { (char *)cmd->name, (char *)rest, NULL };

		return vbctl_run_command(v, 2, argv);
	}
	case SHELL_LINE_WORDS:
		break;
	}
	if (split_line(start, 0, &s))
		return vbctl_error(v, VBCTL_EXIT_USAGE, "%s", s.error);
	if (sh->transaction || !strcmp(s.argv[0], "transaction("))
		rc = transaction_line(sh, s.argc, s.argv);
	else if (!strcmp(s.argv[0], vbctl_cmd_shell.name))
		rc = vbctl_error(v, VBCTL_EXIT_USAGE,
				 "already in the shell (quit or Ctrl-D leaves it)");
	else if (!strcmp(s.argv[0], vbctl_cmd_help.name))
		rc = run_help(sh, s.argc, s.argv);
	else if (shell_line_is_qmp(s.argc, s.argv))
		rc = run_qmp_words(sh, s.argc, s.argv);
	else
		rc = vbctl_run_command(v, s.argc, s.argv);
	split_free(&s);
	return rc;
}

/* Runs LINE with Ctrl-C delivered to the command, then looks at how it
 * went: a failure is remembered, a lost connection ends the shell. */
static void execute(struct shell *sh, const char *line)
{
	const struct vbctl_cmd *cmd;
	struct sigaction prompt_tstp;
	const char *p, *rest;
	sigset_t held;
	int rc;

	/* Blank lines and # comments (handy in piped scripts) do nothing. */
	if (shell_line_classify(line, &p, &cmd, &rest) == SHELL_LINE_EMPTY)
		return;
	sh->v->interrupted = 0;
	sh->v->interrupt_echo_erased = false;
	/* A running command stops on Ctrl-Z like any program (readline
	 * has given the terminal back meanwhile). */
	sigaction(SIGTSTP, &sh->tstp_action, &prompt_tstp);
	sigprocmask(SIG_UNBLOCK, &sh->loop_mask, &held);
	rc = run_line(sh, p);
	sigprocmask(SIG_SETMASK, &held, NULL);
	sigaction(SIGTSTP, &prompt_tstp, NULL);
	/* The terminal echoed ^C where the output stood: the prompt goes on
	 * a line of its own, as after a job interrupted in bash (unless
	 * the command erased the echo with its progress line and ended
	 * its last line itself: set --wait). */
	if (sh->v->interrupted && sh->interactive &&
	    !sh->v->interrupt_echo_erased)
		fputc('\n', sh->v->out);
	sh->v->interrupted = 0;
	fflush(sh->v->out);
	if (rc != VBCTL_EXIT_OK)
		sh->failed = true;
	if (sh->v->leave_shell)
		sh->done = true;
	if ((sh->v->q && qmp_is_broken(sh->v->q)) || sh->v->protocol_fault)
		connection_lost(sh, rc == VBCTL_EXIT_CONN);
}

/* ---- readline ------------------------------------------------------------ */

/* The prompt says which mode the next line is read in. */
static const char *shell_prompt(const struct shell *sh)
{
	return sh->hmp ? SHELL_PROMPT_HMP :
	       sh->transaction ? SHELL_PROMPT_TRANSACTION : SHELL_PROMPT;
}

static void on_line(char *line)
{
	struct shell *sh = the_shell;

	if (!line) {
		/* Ctrl-D: end the prompt's line so the terminal's next
		 * prompt starts on a fresh one. */
		fputc('\n', sh->v->out);
		sh->done = true;
	} else {
		if (line[strspn(line, " \t")])
			shell_history_add(&sh->history, sh->v, line);
		execute(sh, line);
		free(line);
	}
	/* No prompt after the last line. */
	if (sh->done)
		rl_callback_handler_remove();
	else
		rl_set_prompt(shell_prompt(sh));
}

/* A backslash makes the next character part of the word (split.c). */
static int char_is_escaped(char *text, int index)
{
	int n = 0;

	while (index > n && text[index - n - 1] == '\\')
		n++;
	return n % 2;
}

/*
 * Tab: the words before the cursor give the context, the word under it
 * is completed. Never falls back to file names: nothing here is a file.
 */
static char **on_complete(const char *text, int start, int end)
{
	struct shell *sh = the_shell;
	char *before, **list, **matches, first;
	struct split s;
	size_t n, i, common;

	rl_attempted_completion_over = 1;
	before = strndup(rl_line_buffer, (size_t)end);
	if (!before)
		return NULL;
	first = before[strspn(before, " \t")];
	if (first == '{' || first == '[' ||
	    split_line(before, SPLIT_PARTIAL, &s)) {
		free(before);
		return NULL;
	}
	free(before);
	if (sh->hmp) {
		/* As if each line started with "hmp". */
		char **av = calloc((size_t)s.argc + 1, sizeof(*av));

		list = NULL;
		if (av) {
			av[0] = (char *)vbctl_cmd_hmp.name;
			memcpy(av + 1, s.argv, (size_t)s.argc * sizeof(*av));
			list = completer_complete(sh->comp, s.argc, av,
						  s.argv[s.argc - 1], &n);
			free(av);
		}
	} else if (sh->transaction) {
		list = completer_complete_action(sh->comp, s.argc - 1, s.argv,
						 s.argv[s.argc - 1], &n);
	} else {
		list = completer_complete(sh->comp, s.argc - 1, s.argv,
					  s.argv[s.argc - 1], &n);
	}
	split_free(&s);
	if (!list)
		return NULL;

	/* readline's format: [0] is what replaces the word (the longest
	 * common prefix), then the matches, then NULL. */
	matches = calloc(n + 2, sizeof(*matches));
	if (!matches) {
		completer_free_list(list);
		return NULL;
	}
	common = strlen(list[0]);
	for (i = 1; i < n; i++) {
		size_t k = 0;

		while (k < common && list[i][k] == list[0][k])
			k++;
		common = k;
	}
	matches[0] = strndup(list[0], common);
	for (i = 0; i < n; i++)
		matches[i + 1] = list[i];
	free(list);
	/* "value=", "model." and "/machine/" want more after them. */
	if (n == 1 && common && strchr("=./", matches[0][common - 1]))
		rl_completion_suppress_append = 1;
	return matches;
}

static void readline_setup(void)
{
	rl_readline_name = "vbctl";
	/* Signals are ours: Ctrl-C means "stop the command" or "clear
	 * the line", and readline must not take the terminal's state
	 * with it into a command's run. */
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_attempted_completion_function = on_complete;
	rl_completer_word_break_characters = " \t\n";
	rl_completer_quote_characters = "'\"";
	rl_char_is_quoted_p = char_is_escaped;
	/* A second Tab that cannot add anything lists the candidates
	 * rather than ringing the bell; ~/.inputrc, read when the handler
	 * is installed, may say otherwise. */
	rl_variable_bind("show-all-if-unmodified", "on");
	rl_callback_handler_install(shell_prompt(the_shell), on_line);
}

/* Ctrl-C at the prompt: like bash, drop the line and start afresh. */
static void cancel_line(void)
{
	/* Leave a search or argument first; ^C goes after the whole line,
	 * which stays on screen as it was typed. */
	rl_callback_sigcleanup();
	rl_point = rl_end;
	rl_redisplay();
	rl_free_line_state();
	rl_echo_signal_char(SIGINT);
	rl_replace_line("", 0);
	rl_crlf();
	rl_on_new_line();
	rl_redisplay();
}

/*
 * Ctrl-Z at the prompt: give the terminal back as readline found it, stop
 * as the default action would, and on fg take it again and redraw the
 * line (without this, the shell would come back to a cooked terminal).
 */
static void suspend(struct shell *sh)
{
	struct sigaction prompt_tstp;
	sigset_t tstp;

	sigemptyset(&tstp);
	sigaddset(&tstp, SIGTSTP);
	rl_deprep_terminal();
	sigaction(SIGTSTP, &sh->tstp_action, &prompt_tstp);
	sigprocmask(SIG_UNBLOCK, &tstp, NULL);
	raise(SIGTSTP);		/* returns once continued */
	sigprocmask(SIG_BLOCK, &tstp, NULL);
	sigaction(SIGTSTP, &prompt_tstp, NULL);
	rl_prep_terminal(1);
	rl_forced_update_display();
}

/* Reads the terminal and the QMP socket together until the shell ends. */
static void interactive_loop(struct shell *sh)
{
	struct vbctl *v = sh->v;
	struct pollfd pfd[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = qmp_get_fd(v->q), .events = POLLIN },
	};
	sigset_t wait_mask;
	int r;

	/* Signals are held except inside ppoll(), so one that comes while
	 * readline works is seen at the next wait, never lost. */
	sigprocmask(SIG_BLOCK, &sh->loop_mask, &wait_mask);
	readline_setup();
	while (!sh->done) {
		/* Queued events first: poll() knows only about bytes not
		 * yet read, and a command or a completion may have read
		 * events while waiting for its reply. */
		flush_events(sh);
		/* A new one after a reconnect. */
		pfd[1].fd = qmp_get_fd(v->q);
		r = ppoll(pfd, 2, NULL, &wait_mask);
		if (r < 0 && errno != EINTR)
			break;
		if (v->interrupted) {
			v->interrupted = 0;
			cancel_line();
		}
		if (winch_seen) {
			winch_seen = 0;
			rl_resize_terminal();
		}
		if (tstp_seen) {
			tstp_seen = 0;
			suspend(sh);
		}
		if (r <= 0)
			continue;
		if (pfd[1].revents) {
			if (qmp_pump(v->q, 0) < 0) {
				async_begin(sh);
				connection_lost(sh, false);
				if (sh->done)
					break;
				async_end(sh);
				continue;
			}
		}
		if (pfd[0].revents)
			rl_callback_read_char();
	}
	/* Gives the terminal back as it was (again, if a line ended it). */
	rl_callback_handler_remove();
	sigprocmask(SIG_SETMASK, &wait_mask, NULL);
}

/* Standard input is a file or a pipe: one command a line, no prompt. */
static void piped_loop(struct shell *sh)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while (!sh->done && (n = getline(&line, &cap, stdin)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		execute(sh, line);
		flush_events(sh);
	}
	free(line);
}

static int run_shell(struct vbctl *v, int argc, char **argv)
{
	struct shell sh = { .v = v };
	struct sigaction sa = { 0 }, old_int, old_winch;
	const char *logfile = NULL;
	int c, rc;

	vbctl_getopt_begin();
	while ((c = vbctl_getopt(v, &vbctl_cmd_shell, argc, argv)) != -1) {
		if (c == 'p')
			v->pretty = true;
		else if (c == 'H')
			sh.hmp = true;
		else if (c == 'l')
			logfile = optarg;
		else
			return VBCTL_EXIT_USAGE;
	}
	/* A QEMU command line comes after "--" only. */
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0)
		return vbctl_usage_error(v, &vbctl_cmd_shell,
					 "unexpected argument '%s' (a QEMU command line goes after --)",
					 argv[optind]);
	if (logfile) {
		v->traffic_log = fopen(logfile, "ae");
		if (!v->traffic_log)
			return vbctl_error(v, VBCTL_EXIT_FAIL, "shell: cannot open the log %s: %s",
					   logfile, strerror(errno));
	}
	if (optind < argc) {
		/* QEMU is the shell's: when it goes, the shell ends. */
		v->reconnect = 0;
		rc = shell_qemu_start(v, &sh.qemu, argc - optind, argv + optind);
	} else {
		rc = vbctl_connect(v);
	}
	if (rc)
		goto out;

	sh.interactive = isatty(STDIN_FILENO);
	v->in_shell = true;
	/* At a prompt, QEMU restarting is a pause; a script (piped) stops
	 * with exit 3 unless -r asks otherwise. Streams run in the shell
	 * follow the shell's choice. */
	sh.reconnect = vbctl_wants_reconnect(v, sh.interactive);
	v->reconnect = sh.reconnect;
	sh.comp = completer_new(v);
	if (!sh.comp) {
		rc = vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
		goto out;
	}
	the_shell = &sh;

	/* No SA_RESTART: a Ctrl-C must wake the poll() of a running
	 * command, which then sees v->interrupted and returns. */
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sa.sa_handler = on_sigwinch;
	sigaction(SIGWINCH, &sa, &old_winch);
	/* Ctrl-Z at the prompt: see suspend(). */
	sa.sa_handler = on_sigtstp;
	sigaction(SIGTSTP, sh.interactive ? &sa : NULL, &sh.tstp_action);
	sigemptyset(&sh.loop_mask);
	sigaddset(&sh.loop_mask, SIGINT);
	sigaddset(&sh.loop_mask, SIGWINCH);
	sigaddset(&sh.loop_mask, SIGTSTP);

	if (sh.interactive) {
		int major = 0, minor = 0, micro = 0;

		shell_history_open(&sh.history);
		qmp_get_version(v->q, &major, &minor, &micro);
		fprintf(v->out, "Connected to QEMU %d.%d.%d at %s. Type help, or press Tab; Ctrl-D leaves.\n",
			major, minor, micro, v->addr);
		interactive_loop(&sh);
	} else {
		piped_loop(&sh);
	}

	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGWINCH, &old_winch, NULL);
	sigaction(SIGTSTP, &sh.tstp_action, NULL);
	the_shell = NULL;
	if (sh.lost)
		rc = VBCTL_EXIT_CONN;
	else
		rc = sh.failed && !sh.interactive ? VBCTL_EXIT_FAIL : VBCTL_EXIT_OK;
out:
	completer_free(sh.comp);
	shell_history_close(&sh.history);
	json_object_put(sh.transaction);
	v->in_shell = false;
	if (sh.qemu.pid) {
		/* QEMU goes with the shell: asked to quit, then stopped
		 * (by a signal if it does not). */
		bool asked = v->q && !qmp_is_broken(v->q) &&
			     qmp_execute(v->q, "quit", NULL, NULL) == 0;

		v->q = qmp_unref(v->q);
		shell_qemu_stop(&sh.qemu, asked ? 5000 : 0);
	}
	if (v->traffic_log) {
		fclose(v->traffic_log);
		v->traffic_log = NULL;
	}
	return rc;
}
