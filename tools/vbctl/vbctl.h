/* SPDX-License-Identifier: MIT */
/*
 * vbctl.h - shared state, the command table and the helpers every vbctl
 * command uses. The one-shot CLI (main.c) and the interactive shell are two
 * front ends to the same table.
 */
#ifndef VBCTL_VBCTL_H
#define VBCTL_VBCTL_H

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct json_object;
struct qmp;

/* Exit statuses, as DESIGN.md "vbctl command line" defines them. */
enum {
	VBCTL_EXIT_OK = 0,
	VBCTL_EXIT_FAIL = 1,	/* QMP error, no balloon device, not settled */
	VBCTL_EXIT_USAGE = 2,	/* bad command line: nothing was sent */
	VBCTL_EXIT_CONN = 3,	/* cannot connect, or the connection was lost */
	/* Not an exit status: a stream's connection was lost and made
	 * again (--reconnect); the stream re-arms what it set up and goes
	 * on. Never returned from a command. */
	VBCTL_REARM = 4,
};

/* Everything a command needs; one per process (or per shell session). */
struct vbctl {
	struct qmp *q;		/* NULL until vbctl_connect() */
	const char *addr;	/* QMP address, as given (-s, $VBCTL_SOCKET) */
	/* Many VMs (fleet.h): every -s given, --sockets or $VBCTL_SOCKETS
	 * (colon-separated globs). */
	const char **addrs;
	size_t naddrs;
	const char *sockets;
	/* libvirt: -c URI ($VBCTL_URI), each -d DOMAIN ($VBCTL_DOMAIN),
	 * --all (every domain, not only those named). */
	const char *uri;
	const char **domains;
	size_t ndomains;
	bool all;
	char *addr_buf;		/* v->addr for one libvirt domain */
	FILE *out;		/* where results go (stdout); errors: stderr */
	bool json;		/* -j: machine output */
	bool pretty;		/* indent JSON even in --json mode */
	int verbose;		/* -v: 1 shows QMP traffic, 2 adds libqmp notes */
	int timeout_ms;		/* -t: bound on every QMP exchange; -1 none */
	/* Set from a SIGINT handler: streams (events, stats --watch, set
	 * --wait) stop at the next check and return. */
	volatile sig_atomic_t interrupted;
	char *balloon_path;	/* cached qmp_balloon_find() result */
	/* --reconnect: 1 on, 0 off (--no-reconnect), -1 not given (the
	 * shell's default is on, the other commands' off). */
	int reconnect;
	/* Set by a stream while it can re-arm: a lost connection is then
	 * made again (vbctl_qmp_failed returns VBCTL_REARM). */
	bool rearm;
	/* tls:HOST:PORT: --tls-ca/--tls-cert/--tls-key, else $VBCTL_TLS_*
	 * (borrowed from argv or the environment). */
	const char *tls_ca, *tls_cert, *tls_key;
	bool tcp_warned;	/* the non-loopback TCP warning was given */
	/* A progress line (set --wait) is on stderr, cursor at its end:
	 * vbctl_progress_clear() erases it before anything else is shown. */
	bool progress_shown;
	/* vbctl_progress_clear() after a Ctrl-C: the line it erased held
	 * the terminal's ^C echo too. */
	bool interrupt_echo_erased;
	bool in_shell;		/* run by the shell: shell-only commands too */
	bool leave_shell;	/* set by quit/exit: the shell ends */
	/* shell --logfile: every QMP message sent and received, one JSON
	 * object a line with a timestamp; NULL: none. */
	FILE *traffic_log;
	/* vbctl_protocol_error() dropped the connection (the shell ends as
	 * when it is lost). */
	bool protocol_fault;
};

/* What a positional argument is, so the shell can complete it. */
enum vbctl_arg_kind {
	VBCTL_ARG_NONE,		/* free text: nothing to complete */
	VBCTL_ARG_SIZE,		/* the size grammar of size.h */
	VBCTL_ARG_QOM_PATH,	/* a QOM path, or the alias "balloon" */
	VBCTL_ARG_QOM_PROP,	/* a property of the preceding QOM path */
	VBCTL_ARG_COMMAND,	/* a vbctl command name */
	VBCTL_ARG_QMP_COMMAND,	/* a QMP command name (query-commands) */
	VBCTL_ARG_QMP_KV,	/* KEY=VALUE for the preceding QMP command */
	VBCTL_ARG_EVENT,	/* a QMP event name */
	VBCTL_ARG_HMP_COMMAND,	/* a human monitor command (its help) */
	VBCTL_ARG_VM_KV,	/* VM=VALUE, VM one of the fleet the command
				 * line names (vbctl's command line only) */
};

struct vbctl_arg {
	const char *name;	/* as shown in usage, e.g. "SIZE" */
	enum vbctl_arg_kind kind;
	bool repeat;		/* last argument only: may appear 0+ times */
};

/* Command flags. */
#define VBCTL_NEEDS_QMP	(1u << 0)	/* talks to QEMU (not help): refused
					 * once the connection is lost */
#define VBCTL_STREAM	(1u << 1)	/* may run until interrupted */
#define VBCTL_SHELL_ONLY (1u << 2)	/* quit, exit, hmp: the shell runs
					 * them; elsewhere they are unknown */
#define VBCTL_RAW_ARGS	(1u << 3)	/* in the shell: argv[1] is the rest
					 * of the line as typed (hmp) */

/* What an option's value is, so completion can offer it: by the long
 * option's name. */
struct vbctl_optval {
	const char *option;		/* "sort" for --sort (and its short form) */
	enum vbctl_arg_kind kind;	/* VBCTL_ARG_SIZE, or VBCTL_ARG_NONE and: */
	const char *const *choices;	/* the words it takes, NULL-terminated */
};

struct vbctl_cmd {
	const char *name;
	/* Another name it answers to, completed as the name is ("exit" for
	 * quit); NULL: none. */
	const char *alias;
	const char *usage;	/* after the name: "SIZE [--wait] [--timeout S]" */
	const char *summary;	/* one line, for "vbctl help" */
	const char *help;	/* the long help: what it does, each option */
	unsigned int flags;	/* VBCTL_NEEDS_QMP, VBCTL_STREAM */
	const char *shortopts;	/* for getopt_long, without the leading ':' */
	const struct option *longopts;	/* NULL-terminated; may be NULL */
	const struct vbctl_arg *args;	/* positional; NULL-name terminated */
	const struct vbctl_optval *optvals;	/* NULL-option terminated; may
						 * be NULL */
	int min_args;		/* positional arguments required */
	int max_args;		/* -1: unlimited */
	/* Returns a VBCTL_EXIT_* status. argv[0] is the command name. Never
	 * exits; may be called many times in one process. */
	int (*run)(struct vbctl *v, int argc, char **argv);
};

/* One per command file (cmd-*.c). */
extern const struct vbctl_cmd vbctl_cmd_list, vbctl_cmd_top, vbctl_cmd_auto;
extern const struct vbctl_cmd vbctl_cmd_query, vbctl_cmd_set, vbctl_cmd_stats,
	vbctl_cmd_qom_list, vbctl_cmd_qom_get, vbctl_cmd_qom_set,
	vbctl_cmd_events, vbctl_cmd_qmp, vbctl_cmd_check, vbctl_cmd_help,
	vbctl_cmd_shell, vbctl_cmd_quit, vbctl_cmd_hmp,
	vbctl_cmd_doctor, vbctl_cmd_exporter;

/* The table, NULL-terminated, in the order "vbctl help" lists it. */
extern const struct vbctl_cmd *const vbctl_commands[];
/* The row named NAME (or with the alias NAME), or NULL. */
const struct vbctl_cmd *vbctl_find_command(const char *name);
/* The same, but a VBCTL_SHELL_ONLY row only when V runs in the shell:
 * what V may run. */
const struct vbctl_cmd *vbctl_lookup_command(const struct vbctl *v,
					     const char *name);
/* Run argv[0] from the table (unknown: usage error; a VBCTL_NEEDS_QMP
 * command on a lost connection: exit 3). */
int vbctl_run_command(struct vbctl *v, int argc, char **argv);

/*
 * "vbctl __complete [--] WORD...": prints the candidates for the last WORD
 * of a command line (global options GLOBAL, a command, its arguments), one
 * per line, for the bash completion script. Returns an exit status.
 */
int vbctl_complete_main(struct vbctl *v, const struct vbctl_cmd *global,
			int argc, char **argv);

/* "vbctl --help": global options and the commands. */
void vbctl_print_usage(FILE *f);
/* "vbctl help CMD": its usage line and long help. */
void vbctl_print_command_help(FILE *f, const struct vbctl_cmd *cmd);

/* ---- state ---------------------------------------------------------------- */

void vbctl_init(struct vbctl *v);
/* Disconnects and frees what v holds (v itself is the caller's). */
void vbctl_release(struct vbctl *v);
/* Adds ADDR (borrowed) as a target (-s); -ENOMEM on failure. */
int vbctl_add_addr(struct vbctl *v, const char *addr);
/* Adds DOMAIN (borrowed) as a libvirt target (-d); -ENOMEM on failure. */
int vbctl_add_domain(struct vbctl *v, const char *domain);
/* Whether the targets are many VMs (more than one -s or -d, --sockets,
 * -c without -d, --all), so query, set, stats run as fleet commands
 * (fleet.h). */
bool vbctl_is_fleet(const struct vbctl *v);

/* ---- errors: every message is one line "vbctl: ..." on stderr ------------ */

/* Erases the progress line, if one is shown (every error does this). */
void vbctl_progress_clear(struct vbctl *v);

/* Prints "vbctl: FMT\n" and returns CODE. */
int vbctl_error(struct vbctl *v, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A usage error for CMD (name "": the global options): the message, then
 * the usage line. Returns 2. */
int vbctl_usage_error(struct vbctl *v, const struct vbctl_cmd *cmd,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Reports a failed libqmp call (RC < 0) made for WHAT and returns the exit
 * status: 1 for a QMP error reply (class and description shown; the error
 * is cleared so the connection goes on), 3 when the connection is gone.
 * In a stream that can re-arm (v->rearm), QEMU going away is said, the
 * connection is made again (vbctl_reconnect) and VBCTL_REARM returned.
 */
int vbctl_qmp_failed(struct vbctl *v, int rc, const char *what);

/* The one report of a lost connection: "WHAT: lost the connection to QEMU
 * at ADDR: why (did QEMU exit?)" when it closed, that QEMU did not answer
 * within -t, or "bad data from QEMU" (garbage, an oversize message, an
 * event flood). WHAT may be NULL. Returns 3. */
int vbctl_connection_lost(struct vbctl *v, const char *what);
/* The same report, of the broken connection Q to ADDR (-t TIMEOUT_MS),
 * into BUF: for the fleet commands, which report it per VM. */
void vbctl_describe_lost(struct qmp *q, const char *addr, int timeout_ms,
			 char *buf, size_t len);

/*
 * Says that QEMU at v->addr went away (REASON), drops the connection and
 * connects again with a growing pause (0.1 s doubling to 5 s) until it
 * answers or Ctrl-C, then says that it is back. VBCTL_REARM, or 3 when
 * interrupted first. WHAT names the command in the messages.
 */
int vbctl_reconnect(struct vbctl *v, const char *what, const char *reason);
/* Whether the stream command CMD should reconnect (--reconnect, or the
 * default given). */
static inline bool vbctl_wants_reconnect(const struct vbctl *v, bool dflt)
{
	return v->reconnect < 0 ? dflt : v->reconnect;
}

/*
 * A reply of the wrong shape (GOT, borrowed; NULL: none), reported for
 * WHAT as "bad data from QEMU" with the reason FMT and the start of GOT.
 * Like every protocol fault it returns 3, and the connection is dropped.
 */
int vbctl_protocol_error(struct vbctl *v, const char *what,
			 struct json_object *got, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Its wording, "bad data from QEMU at ADDR: <FMT, AP>, got ..." into
 * BUF: the fleet commands report it per VM (fleet_protocol_error). */
void vbctl_describe_bad_data(char *buf, size_t len, const char *addr,
			     struct json_object *got, const char *fmt,
			     va_list ap);
/* OBJ as a whole number of bytes (an integer >= 0, up to 2^64-1): true
 * and *VALUE, or false (null, negative, a string, a fraction...). */
bool vbctl_json_u64(struct json_object *obj, uint64_t *value);

/* Like vbctl_qmp_failed(), but DeviceNotActive (from query-balloon or
 * balloon) is reported as "no balloon device in this VM". */
int vbctl_balloon_failed(struct vbctl *v, int rc, const char *what);

/* ---- options and arguments ----------------------------------------------- */

/*
 * getopt_long over CMD's options, restarted on the first call for a new
 * argv (optind must be 0 then: vbctl_getopt_begin()). Returns the option,
 * -1 at the end, or '?' after printing a usage error naming the token.
 */
void vbctl_getopt_begin(void);
int vbctl_getopt(struct vbctl *v, const struct vbctl_cmd *cmd, int argc,
		 char **argv);
/* After options: checks the number of positional arguments (usage error
 * naming the extra or missing one). Returns 0 or 2. */
int vbctl_check_args(struct vbctl *v, const struct vbctl_cmd *cmd, int argc,
		     char **argv, int first);
/* For commands without options: getopt (stopping at the first argument,
 * so "-1" can be a value; a later "--" is dropped) and the argument
 * count. 0 or 2; the positional arguments start at optind. */
int vbctl_parse_plain(struct vbctl *v, const struct vbctl_cmd *cmd, int argc,
		      char **argv);
/* True when WORD, an option of CMD ("-t", "--timeout", "-wt"), takes the
 * next word as its value (not when the value is attached: "--timeout=5",
 * "-t5"). */
bool vbctl_option_takes_value(const struct vbctl_cmd *cmd, const char *word);
/* Parses SECONDS (decimal, > 0) for option OPT into milliseconds. */
int vbctl_parse_seconds(struct vbctl *v, const struct vbctl_cmd *cmd,
			const char *opt, const char *text, int *ms);
/* Parses a positive decimal integer for option OPT. */
int vbctl_parse_count(struct vbctl *v, const struct vbctl_cmd *cmd,
		      const char *opt, const char *text, int64_t *n);

/* ---- QEMU ------------------------------------------------------------------ */

/* Connects once (lazily): greeting and capabilities only. 0, 2 (a
 * malformed address) or 3. */
int vbctl_connect(struct vbctl *v);
/* The same without a word: 0, or qmp_connect()'s negative errno with the
 * reason in DESC (v->q stays NULL then). */
int vbctl_try_connect(struct vbctl *v, char *desc, size_t len);
/* Whether SA (a connected peer) is this host's loopback (or a unix
 * socket): plain tcp: elsewhere gets a warning. */
struct sockaddr;
bool vbctl_sockaddr_is_loopback(const struct sockaddr *sa);
/* The balloon's QOM path (found once, cached in v). 0, 1 (none) or 3. */
int vbctl_balloon_path(struct vbctl *v, const char **path);
/* ARG as a QOM path: "balloon" is the balloon device. 0, 1 or 3. */
int vbctl_qom_path(struct vbctl *v, const char *arg, const char **path);
/*
 * Waits MS milliseconds (or until interrupted) while reading the socket,
 * so a dead QEMU is noticed at once; queued events are dropped. Returns 0,
 * or 3 when the connection is lost (reported for WHAT, e.g. "stats").
 */
int vbctl_idle(struct vbctl *v, int ms, const char *what);
/* A VM that is not running (paused, say) cannot move its balloon or
 * answer for stats: say so rather than guess. True, with the reason in
 * WHY, when it is not running; false when it runs, or when asking fails
 * (the guess stands). */
bool vbctl_not_running(struct vbctl *v, char *why, size_t len);
/* The "actual" member of a BALLOON_CHANGE event's data (bytes). 0, or 3
 * (a protocol fault, reported; the connection is dropped) when it is
 * missing or not a whole number of bytes. */
int vbctl_actual_from_event(struct vbctl *v, struct json_object *event,
			    uint64_t *actual);
/* ---- JSON that vbctl builds -------------------------------------------------
 * The one policy for json-c allocation failures: every object vbctl builds
 * itself goes through these; a failed allocation is reported as "vbctl: out
 * of memory" and the command returns VBCTL_EXIT_FAIL. A json-c constructor
 * that failed returns NULL: pass it straight in, it is checked here. */

/* Adds KEY: VALUE to OBJ, taking VALUE over. 0, or 1 (reported). */
int vbctl_json_add(struct vbctl *v, struct json_object *obj, const char *key,
		   struct json_object *value);
/* A new object {KEY: VALUE} ({} when KEY is NULL), taking VALUE over; NULL
 * (reported) when out of memory. */
struct json_object *vbctl_json_object(struct vbctl *v, const char *key,
				      struct json_object *value);

/* COMMAND's return value (new reference), or NULL when it fails: for what
 * is only nice to have (completion data, the schema), so a QMP error is
 * forgotten and nothing is printed; a broken connection is noticed later
 * by whoever needs it. */
struct json_object *vbctl_fetch(struct vbctl *v, const char *command,
				struct json_object *args);
/* The one VM V names, as metrics name it (the "domain" label): the
 * libvirt domain (-d) as given, a socket's file name, or a tcp: address.
 * Borrowed from V. */
const char *vbctl_vm_name(const struct vbctl *v);
/* Milliseconds on a monotonic clock. */
int64_t vbctl_now_ms(void);

#endif
