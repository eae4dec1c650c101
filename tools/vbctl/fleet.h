/* SPDX-License-Identifier: MIT */
/*
 * fleet.h - many VMs at once. The targets a command names (-s repeated,
 * --sockets GLOB, $VBCTL_SOCKETS) become a fleet; a command then gives each
 * VM a small state machine (struct fleet_ops) and fleet_run() drives all
 * of them from one poll() loop: connects, QMP exchanges, events and
 * wake-ups, each VM with its own deadline, so a slow or dead VM is a row
 * that says why, never a stall for the others.
 *
 * A run: fleet_run() connects every VM that is not connected yet, calls
 * ops->start() for each one that is, and from then on ops->reply() with
 * the answer to each exchange sent with fleet_send(), ops->event() for
 * each event and ops->wake() when a wake-up set with fleet_wake() is due.
 * A VM is done when its ops call fleet_finish(), when it fails (connect,
 * timeout, lost connection: status 3, with the reason in vm->why), or when
 * it has nothing in flight and no wake-up set (status 0). Connections stay
 * open between runs, so a command can run several (sample, then restore).
 */
#ifndef VBCTL_FLEET_H
#define VBCTL_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vbctl.h"

struct fleet;
struct json_object;

/* At most this many exchanges in flight per VM. */
#define FLEET_MAX_INFLIGHT 8

struct fleet_vm {
	struct fleet *fleet;
	size_t index;		/* 0..fleet_count()-1, in target order */
	char *name;		/* the row's name: the socket's file name, or
				 * the libvirt domain's name */
	char *addr;		/* the QMP socket address, or for a libvirt
				 * domain "URI domain NAME" (for messages) */
	char *uri, *domain;	/* libvirt: its connection URI and domain */
	bool inactive;		/* libvirt: the domain is shut off */
	struct qmp *q;		/* NULL when not connected (or dropped) */

	/* The outcome of the current run. */
	bool done;
	int status;		/* VBCTL_EXIT_*, once done */
	char why[256];		/* why it failed; "" when it did not */

	void *data;		/* the command's own, per VM */

	/* Private to fleet.c. */
	int64_t deadline_ms;	/* connecting: give up then; -1: none */
	int64_t wake_ms;	/* fleet_wake() due; 0: none */
	bool restart;		/* fleet_rescan(): start it in this run */
	size_t ninflight;
	struct {
		uint64_t id;
		int tag;
		const char *command;	/* a literal: for messages */
		int64_t deadline_ms;
	} inflight[FLEET_MAX_INFLIGHT];
};

struct fleet_ops {
	/* Connected: send the first exchanges. */
	void (*start)(struct fleet_vm *vm, void *data);
	/* The answer to the exchange sent with TAG: RC 0 and RET (borrowed)
	 * its return value, or RC -EREMOTEIO for a QMP error reply
	 * (fleet_qmp_error() turns it into the row's reason). */
	void (*reply)(struct fleet_vm *vm, void *data, int tag, int rc,
		      struct json_object *ret);
	/* Optional: an event from this VM (borrowed). */
	void (*event)(struct fleet_vm *vm, void *data, struct json_object *ev);
	/* Optional: the wake-up set with fleet_wake() is due. */
	void (*wake)(struct fleet_vm *vm, void *data);
	/* Optional: called every tick_ms while the run lasts (a redraw). */
	void (*tick)(struct fleet *f, void *data);
	int tick_ms;
	/* Only VMs connected now take part (a clean-up run); the others
	 * are done at once and keep the outcome of the last run. */
	bool connected_only;
	/* Optional: whether VM takes part in this run (connecting again if
	 * its connection is gone); when not, as with connected_only. */
	bool (*join)(struct fleet_vm *vm, void *data);
	/* The run goes on when no VM is left (VMs may join or come back
	 * through a rescan, or be retried with fleet_retry()) until
	 * fleet_stop() or Ctrl-C. */
	bool until_stopped;
};

/* fleet_open() flags. */
#define FLEET_INACTIVE	(1u << 0)	/* --all lists shut-off domains too */
/* The caller watches for VMs (fleet_rescan, fleet_rescan_domains): a glob
 * that matches nothing yet, or a URI with no running domain yet, is no
 * error, and the fleet may start empty. */
#define FLEET_WATCH	(1u << 1)

/*
 * The fleet the global options name: every -s ADDR, the sockets matching
 * --sockets GLOB[:GLOB...] (or $VBCTL_SOCKETS; entries that are not
 * sockets are left out), and with -c URI each -d DOMAIN, or without -d
 * every running domain (--all with FLEET_INACTIVE: every domain; shut-off
 * ones are rows marked inactive that fail as "not running"). A glob that
 * matches no socket is reported and counts as a failure (*status 3), the
 * other targets still run (with FLEET_WATCH, it is waited for). Returns 0
 * with *fp set, or an exit status (nothing to run).
 */
int fleet_open(struct vbctl *v, unsigned int flags, struct fleet **fp,
	       int *status);
struct fleet *fleet_free(struct fleet *f);

/*
 * Reads the socket globs again: sockets that match now and are not in the
 * fleet join it, and a VM whose connection was lost is tried again when
 * its socket is there. May be called from ops->tick during a run, which
 * then starts them; fleet_vm pointers taken before are invalid after it.
 * Returns how many VMs joined or are tried again.
 */
size_t fleet_rescan(struct fleet *f);

/*
 * The same for libvirt (-c URI): NAMES, the domains running at the URI now
 * (qmp_libvirt_list_domains(), NULL-terminated), join the fleet when it
 * names no -d DOMAIN and they are not in it yet, and a domain of the fleet
 * whose connection was lost (it shut down) is tried again when it is
 * among them (it was started again). Returns how many.
 */
size_t fleet_rescan_domains(struct fleet *f, char *const *names);

/*
 * The names of the fleet's rows as fleet_open() would make them (nothing
 * is connected), for completion: NULL-terminated, free it with
 * qmp_strv_free(); NULL when there are none. fleet_open()'s errors are
 * reported on stderr.
 */
char **fleet_names(struct vbctl *v);

/* Start VM again in the current run (from ops->tick): for a VM whose
 * connection was lost, a new connect. */
void fleet_retry(struct fleet_vm *vm);

size_t fleet_count(const struct fleet *f);
struct fleet_vm *fleet_vm(struct fleet *f, size_t i);

/*
 * Run OPS on every VM (see the top of this file) until all are done, the
 * command calls fleet_stop() or Ctrl-C (v->interrupted: VMs not done end
 * "interrupted", status 1). Each exchange and each connect is bounded by
 * the -t timeout. Returns the worst status of the VMs (3 > 1 > 0).
 */
int fleet_run(struct fleet *f, const struct fleet_ops *ops, void *data);
void fleet_stop(struct fleet *f);

/* Send COMMAND (a string literal) with ARGS (borrowed, may be NULL);
 * its answer comes to ops->reply() with TAG. On failure the VM is done
 * (status 3) and this returns a negative errno. */
int fleet_send(struct fleet_vm *vm, const char *command,
	       struct json_object *args, int tag);
/* Call ops->wake() for VM in MS milliseconds (replaces an earlier one). */
void fleet_wake(struct fleet_vm *vm, int ms);
/* VM is done with STATUS; FMT (may be NULL) says why it failed. */
void fleet_finish(struct fleet_vm *vm, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* VM is done after the QMP error reply to WHAT: status 1 and the error's
 * class and description (DeviceNotActive: "no balloon device"). */
void fleet_qmp_error(struct fleet_vm *vm, const char *what);
/* VM sent GOT (borrowed; NULL: nothing), a reply of the wrong shape: like
 * every protocol fault it is status 3, said as vbctl_protocol_error()
 * says it, and the connection is dropped. */
void fleet_protocol_error(struct fleet_vm *vm, struct json_object *got,
			  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Finding the balloon device without waiting: fleet_balloon_search()
 * sends qom-list for /machine/peripheral (tag TAG) and
 * /machine/peripheral-anon (TAG + 1), where every -device lands (libvirt's
 * balloon0 too). Feed both replies to fleet_balloon_reply() (with *SEEN
 * 0 at the start): 1 and a malloc()ed *PATH when found, 0 while still
 * looking, -1 when neither holds one (the VM is done then: status 1) or
 * a listing is malformed (status 3, fleet_protocol_error()).
 */
int fleet_balloon_search(struct fleet_vm *vm, int tag);
int fleet_balloon_reply(struct fleet_vm *vm, int tag, int first_tag, int rc,
			struct json_object *ret, int *seen, char **path);

/* fleet_open(), and ROWS: a zeroed array of fleet_count() rows of
 * ROW_SIZE bytes (the command's per-VM state, by vm->index; free() it).
 * 0, or an exit status (reported; nothing to free). */
int fleet_open_rows(struct vbctl *v, unsigned int flags, size_t row_size,
		    struct fleet **fp, void **rows, int *status);

/* A whole number of a reply, KEY of OBJ (a size: not negative): true and
 * *VAL, or false when it is missing or not one. */
bool fleet_get_u64(struct json_object *obj, const char *key, uint64_t *val);

/* qom-get (VALUE NULL) or qom-set (VALUE consumed) of PATH's PROPERTY,
 * answered with TAG. */
void fleet_qom(struct fleet_vm *vm, const char *command, const char *path,
	       const char *property, struct json_object *value, int tag);

/* A --json row for VM: {"name"}, with "error" when it failed (the
 * caller adds the rest). A new object. */
struct json_object *fleet_json_row(const struct fleet_vm *vm);

/* The VBCTL_* status worse of A and B. */
int fleet_worse(int a, int b);

/* For the rows: "vbctl: NAME: WHY" on stderr for each failed VM. */
void fleet_report_failures(struct fleet *f);

#endif
