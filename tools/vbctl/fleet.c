/* SPDX-License-Identifier: MIT */
/*
 * fleet.c - many VMs from one poll() loop: target resolution (-s, socket
 * globs) and the loop that drives each VM's connect, exchanges, events and
 * wake-ups against its own deadline.
 */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "domain-scan.h"
#include "fleet.h"

struct fleet {
	struct vbctl *v;
	struct fleet_vm *vms;
	size_t nvms, cap;
	bool stopped;
};

int fleet_open_rows(struct vbctl *v, unsigned int flags, size_t row_size,
		    struct fleet **fp, void **rows, int *status)
{
	int rc = fleet_open(v, flags, fp, status);

	*rows = NULL;
	if (rc)
		return rc;
	*rows = calloc(fleet_count(*fp), row_size);
	if (!*rows) {
		*fp = fleet_free(*fp);
		return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
	}
	return 0;
}

bool fleet_get_u64(struct json_object *obj, const char *key, uint64_t *val)
{
	struct json_object *m;

	return json_object_object_get_ex(obj, key, &m) && vbctl_json_u64(m, val);
}

void fleet_qom(struct fleet_vm *vm, const char *command, const char *path,
	       const char *property, struct json_object *value, int tag)
{
	struct json_object *args = json_object_new_object();

	if (!args) {
		json_object_put(value);
		fleet_finish(vm, VBCTL_EXIT_FAIL, "out of memory");
		return;
	}
	json_object_object_add(args, "path", json_object_new_string(path));
	json_object_object_add(args, "property", json_object_new_string(property));
	if (value)
		json_object_object_add(args, "value", value);
	fleet_send(vm, command, args, tag);
	json_object_put(args);
}

struct json_object *fleet_json_row(const struct fleet_vm *vm)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "name", json_object_new_string(vm->name));
	if (vm->status)
		json_object_object_add(obj, "error", json_object_new_string(vm->why));
	return obj;
}

int fleet_worse(int a, int b)
{
	/* 3 (cannot reach) is worse than 1 (failed), which is worse than 0;
	 * 2 (usage) never comes from a VM. */
	return a > b ? a : b;
}

/* ---- targets ------------------------------------------------------------- */

static struct fleet_vm *new_vm(struct fleet *f, const char *addr)
{
	struct fleet_vm *vm, *vms;
	size_t i, cap;

	/* The same socket twice (-s and a glob) is one VM. */
	for (i = 0; i < f->nvms; i++)
		if (strcmp(f->vms[i].addr, addr) == 0)
			return &f->vms[i];
	if (f->nvms == f->cap) {
		cap = f->cap ? 2 * f->cap : 16;
		vms = realloc(f->vms, cap * sizeof(*vms));
		if (!vms)
			return NULL;
		f->vms = vms;
		f->cap = cap;
	}
	vm = &f->vms[f->nvms];
	memset(vm, 0, sizeof(*vm));
	vm->fleet = f;
	vm->index = f->nvms;
	vm->addr = strdup(addr);
	if (!vm->addr)
		return NULL;
	f->nvms++;
	return vm;
}

static int add_vm(struct fleet *f, const char *addr)
{
	struct fleet_vm *vm = new_vm(f, addr);
	const char *path, *base;

	if (!vm)
		return -ENOMEM;
	if (vm->name)
		return 0;
	/* The row's name: the socket's file name (a tcp address as is). */
	path = strncmp(addr, "unix:", 5) == 0 ? addr + 5 : addr;
	base = strncmp(addr, "tcp:", 4) == 0 ? NULL : strrchr(path, '/');
	vm->name = strdup(base && base[1] ? base + 1 : path);
	return vm->name ? 0 : -ENOMEM;
}

static int add_domain(struct fleet *f, const char *uri, const char *domain,
		      bool inactive)
{
	struct fleet_vm *vm;
	char *addr;

	if (asprintf(&addr, "%s domain %s", uri, domain) < 0)
		return -ENOMEM;
	vm = new_vm(f, addr);
	free(addr);
	if (!vm)
		return -ENOMEM;
	if (vm->name)
		return 0;
	vm->inactive = inactive;
	vm->name = strdup(domain);
	vm->uri = strdup(uri);
	vm->domain = strdup(domain);
	return vm->name && vm->uri && vm->domain ? 0 : -ENOMEM;
}

/* The running domains at v->uri (all of them with INACTIVE), listed in a
 * thread (domain-scan.h) and waited for until DEADLINE (ms, -1: none): a
 * libvirtd that does not answer must not hold up the other targets (the
 * thread is left to finish on its own). The count with *NAMES, or a
 * negative errno with ERR said. */
static int list_domains(struct vbctl *v, bool inactive, int64_t deadline,
			char ***names, char *err, size_t len)
{
	struct domain_scan *s = domain_scan_new(v->uri, inactive);
	int r, n = 0;

	*names = NULL;
	if (!s) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	r = domain_scan_start(s);
	if (r < 0)
		snprintf(err, len, "%s", strerror(-r));
	while (r == 0) {
		r = domain_scan_take(s, names, err, len);
		if (r)
			break;
		if (v->interrupted) {
			r = -EINTR;
			snprintf(err, len, "interrupted");
		} else if (deadline >= 0 && vbctl_now_ms() >= deadline) {
			r = -ETIMEDOUT;
			snprintf(err, len, "libvirt did not list its domains within %g s (is libvirtd answering? try a longer -t)",
				 v->timeout_ms / 1000.0);
		} else {
			poll(NULL, 0, 10);	/* the listing thread is at work */
		}
	}
	domain_scan_free(s);
	while (r == 1 && (*names)[n])
		n++;
	return r == 1 ? n : r;
}

/* With -c and no -d: the domains at the URI (shut-off ones too with
 * FLEET_INACTIVE and --all). 0 or an exit status (reported). */
static int add_all_domains(struct fleet *f, unsigned int flags)
{
	struct vbctl *v = f->v;
	bool inactive_too = v->all && (flags & FLEET_INACTIVE);
	char **all = NULL, **running = NULL, err[256] = "";
	int64_t deadline = v->timeout_ms < 0 ? -1 : vbctl_now_ms() + v->timeout_ms;
	int n, m = 0, i, j, rc = 0;

	if (!qmp_have_libvirt()) {
		n = -ENOTSUP;
	} else {
		/* list --all: which of them run, within the same -t */
		n = list_domains(v, inactive_too, deadline, &all, err, sizeof(err));
		if (n >= 0 && inactive_too)
			m = list_domains(v, false, deadline, &running, err, sizeof(err));
	}
	if (n == -ENOTSUP)
		rc = vbctl_error(v, VBCTL_EXIT_USAGE,
				 "-c %s: this vbctl was built without libvirt (configure --with-libvirt, with libvirt-dev installed)",
				 v->uri);
	else if (n < 0 || m < 0)
		rc = vbctl_error(v, VBCTL_EXIT_CONN, "-c %s: %s", v->uri, err);
	for (i = 0; rc == 0 && i < n; i++) {
		bool active = !inactive_too;

		for (j = 0; !active && j < m; j++)
			active = strcmp(all[i], running[j]) == 0;
		if (add_domain(f, v->uri, all[i], !active) < 0)
			rc = vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
	}
	qmp_strv_free(all);
	qmp_strv_free(running);
	return rc;
}

/* Names of the same file in two directories would make two rows look
 * alike: those rows show the whole path. */
static void disambiguate_names(struct fleet *f)
{
	size_t i, j;
	bool dup;

	for (i = 0; i < f->nvms; i++) {
		dup = false;
		for (j = 0; j < f->nvms; j++)
			if (i != j && strcmp(f->vms[i].name, f->vms[j].name) == 0)
				dup = true;
		if (dup) {
			char *full = strdup(f->vms[i].addr);

			if (full) {
				free(f->vms[i].name);
				f->vms[i].name = full;
			}
		}
	}
}

/* Add the sockets matching PATTERN; 0, or 3 when none does (reported
 * unless QUIET). */
static int add_glob(struct fleet *f, const char *pattern, bool quiet)
{
	struct stat st;
	glob_t g;
	size_t i, found = 0;
	int r;

	r = glob(pattern, 0, NULL, &g);
	if (r == GLOB_NOSPACE)
		return vbctl_error(f->v, VBCTL_EXIT_FAIL, "out of memory");
	for (i = 0; r == 0 && i < g.gl_pathc; i++) {
		/* Console logs and pid files may sit beside the sockets. */
		if (stat(g.gl_pathv[i], &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (add_vm(f, g.gl_pathv[i]) < 0) {
			globfree(&g);
			return vbctl_error(f->v, VBCTL_EXIT_FAIL, "out of memory");
		}
		found++;
	}
	globfree(&g);
	if (!found && quiet)
		return VBCTL_EXIT_CONN;
	if (!found)
		return vbctl_error(f->v, VBCTL_EXIT_CONN,
				   "--sockets '%s': no socket matches it (is the pattern right? quote it so the shell does not expand it)",
				   pattern);
	return 0;
}

int fleet_open(struct vbctl *v, unsigned int flags, struct fleet **fp,
	       int *status)
{
	struct fleet *f;
	char *globs, *pattern, *save;
	size_t i;
	int r;

	*fp = NULL;
	*status = VBCTL_EXIT_OK;
	f = calloc(1, sizeof(*f));
	if (!f)
		return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
	f->v = v;
	for (i = 0; i < v->naddrs; i++) {
		if (add_vm(f, v->addrs[i]) < 0)
			goto nomem;
	}
	if (v->sockets) {
		globs = strdup(v->sockets);
		if (!globs)
			goto nomem;
		for (pattern = strtok_r(globs, ":", &save); pattern;
		     pattern = strtok_r(NULL, ":", &save)) {
			r = add_glob(f, pattern, flags & FLEET_WATCH);
			if (r == VBCTL_EXIT_FAIL) {
				free(globs);
				fleet_free(f);
				return r;
			}
			if (!(flags & FLEET_WATCH))
				*status = fleet_worse(*status, r);
		}
		free(globs);
	}
	for (i = 0; v->uri && i < v->ndomains; i++) {
		if (add_domain(f, v->uri, v->domains[i], false) < 0)
			goto nomem;
	}
	if (v->uri && !v->ndomains) {
		r = add_all_domains(f, flags);
		/* A URI that cannot be opened is one line (reported), as a
		 * glob that matches nothing is: the other targets run. */
		if (r == VBCTL_EXIT_CONN && (v->naddrs || v->sockets)) {
			*status = fleet_worse(*status, r);
		} else if (r) {
			fleet_free(f);
			return r;
		}
		if (!f->nvms && !v->naddrs && !v->sockets && !(flags & FLEET_WATCH)) {
			fleet_free(f);
			return vbctl_error(v, VBCTL_EXIT_CONN,
					   "-c %s: no %sdomains there (virsh -c %s list --all lists them)",
					   v->uri, v->all && (flags & FLEET_INACTIVE) ? "" : "running ",
					   v->uri);
		}
	}
	if (!v->naddrs && !v->sockets && !v->uri && v->addr &&
	    add_vm(f, v->addr) < 0)
		goto nomem;
	if (f->nvms == 0 && !((flags & FLEET_WATCH) && (v->sockets || v->uri) &&
			      !v->naddrs && !v->ndomains && *status == VBCTL_EXIT_OK)) {
		fleet_free(f);
		return *status ? *status :
			vbctl_error(v, VBCTL_EXIT_USAGE,
				    "no VMs named: give -s ADDR (repeatable), --sockets GLOB or -c URI; see 'vbctl --help'");
	}
	disambiguate_names(f);
	*fp = f;
	return 0;

nomem:
	fleet_free(f);
	return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
}

size_t fleet_rescan(struct fleet *f)
{
	char *globs, *pattern, *save;
	size_t before = f->nvms, changed = 0, i;
	struct stat st;

	if (f->v->sockets) {
		globs = strdup(f->v->sockets);
		for (pattern = globs ? strtok_r(globs, ":", &save) : NULL; pattern;
		     pattern = strtok_r(NULL, ":", &save))
			add_glob(f, pattern, true);
		free(globs);
	}
	for (i = 0; i < f->nvms; i++) {
		struct fleet_vm *vm = &f->vms[i];

		/* New, or lost (dropped: no connection) with its socket
		 * back, e.g. QEMU started again. */
		if (i >= before ||
		    (vm->done && !vm->q && !vm->domain && vm->status == VBCTL_EXIT_CONN &&
		     stat(strncmp(vm->addr, "unix:", 5) == 0 ? vm->addr + 5 : vm->addr,
			  &st) == 0 && S_ISSOCK(st.st_mode))) {
			vm->restart = true;
			changed++;
		}
	}
	return changed;
}

size_t fleet_rescan_domains(struct fleet *f, char *const *names)
{
	size_t changed = 0, i, n;

	for (n = 0; f->v->uri && names && names[n]; n++) {
		struct fleet_vm *vm = NULL;

		for (i = 0; i < f->nvms && !vm; i++)
			if (f->vms[i].domain && (strcmp(f->vms[i].domain, names[n]) == 0 ||
						 strcmp(f->vms[i].name, names[n]) == 0))
				vm = &f->vms[i];
		if (!vm && !f->v->ndomains) {
			if (add_domain(f, f->v->uri, names[n], false) < 0)
				break;	/* out of memory: the next rescan tries */
			vm = &f->vms[f->nvms - 1];
		} else if (!vm || !(vm->done && !vm->q && vm->status == VBCTL_EXIT_CONN)) {
			continue;
		}
		vm->restart = true;
		changed++;
	}
	return changed;
}

struct fleet *fleet_free(struct fleet *f)
{
	size_t i;

	if (!f)
		return NULL;
	for (i = 0; i < f->nvms; i++) {
		qmp_unref(f->vms[i].q);
		free(f->vms[i].name);
		free(f->vms[i].addr);
		free(f->vms[i].uri);
		free(f->vms[i].domain);
	}
	free(f->vms);
	free(f);
	return NULL;
}

char **fleet_names(struct vbctl *v)
{
	struct fleet *f;
	char **names;
	size_t i;
	int status;

	if (fleet_open(v, 0, &f, &status))
		return NULL;
	names = calloc(f->nvms + 1, sizeof(*names));
	for (i = 0; names && i < f->nvms; i++) {
		names[i] = strdup(f->vms[i].name);
		if (!names[i]) {
			qmp_strv_free(names);
			names = NULL;
		}
	}
	fleet_free(f);
	return names;
}

size_t fleet_count(const struct fleet *f)
{
	return f->nvms;
}

struct fleet_vm *fleet_vm(struct fleet *f, size_t i)
{
	return i < f->nvms ? &f->vms[i] : NULL;
}

void fleet_retry(struct fleet_vm *vm)
{
	vm->restart = true;
}

void fleet_stop(struct fleet *f)
{
	f->stopped = true;
}

/* ---- one VM's outcome ------------------------------------------------------ */

static void vfinish(struct fleet_vm *vm, int status, const char *fmt,
		    va_list ap)
{
	if (vm->done)
		return;
	vm->done = true;
	vm->status = status;
	vm->why[0] = '\0';
	if (fmt)
		vsnprintf(vm->why, sizeof(vm->why), fmt, ap);
	vm->ninflight = 0;
	vm->wake_ms = 0;
}

void fleet_finish(struct fleet_vm *vm, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfinish(vm, status, fmt, ap);
	va_end(ap);
}

/* The connection is of no more use: it broke, or a reply is overdue and
 * would come late. Drop it (a later run connects again) and say why. */
static void drop(struct fleet_vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void drop(struct fleet_vm *vm, const char *fmt, ...)
{
	va_list ap;

	/* The arguments may point into the connection: format first. */
	va_start(ap, fmt);
	vfinish(vm, VBCTL_EXIT_CONN, fmt, ap);
	va_end(ap);
	vm->q = qmp_unref(vm->q);
}

/* The connection broke: closed, timed out, or bad data (as a single VM's
 * command says it, vbctl_describe_lost). */
static void drop_lost(struct fleet_vm *vm)
{
	char why[512];

	vbctl_describe_lost(vm->q, vm->addr, vm->fleet->v->timeout_ms, why,
			    sizeof(why));
	drop(vm, "%s", why);
}

void fleet_protocol_error(struct fleet_vm *vm, struct json_object *got,
			  const char *fmt, ...)
{
	char said[512];
	va_list ap;

	va_start(ap, fmt);
	vbctl_describe_bad_data(said, sizeof(said), vm->addr, got, fmt, ap);
	va_end(ap);
	drop(vm, "%s", said);
}

void fleet_qmp_error(struct fleet_vm *vm, const char *what)
{
	const char *class = qmp_get_error_class(vm->q);
	const char *desc = qmp_get_error_desc(vm->q);

	if (class && strcmp(class, "DeviceNotActive") == 0)
		fleet_finish(vm, VBCTL_EXIT_FAIL,
			     "no balloon device in this VM (QEMU says %s: %s)",
			     class, desc ? desc : "");
	else
		fleet_finish(vm, VBCTL_EXIT_FAIL, "%s: %s: %s", what,
			     class ? class : "error",
			     desc ? desc : "(no description)");
	qmp_clear_error(vm->q);
}

void fleet_report_failures(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->nvms; i++)
		if (f->vms[i].status && f->vms[i].why[0])
			vbctl_error(f->v, f->vms[i].status, "%s: %s",
				    f->vms[i].name, f->vms[i].why);
}

/* ---- exchanges ------------------------------------------------------------- */

int fleet_send(struct fleet_vm *vm, const char *command,
	       struct json_object *args, int tag)
{
	struct fleet *f = vm->fleet;
	uint64_t id;
	int r;

	if (vm->done)
		return -ECANCELED;
	if (vm->ninflight == FLEET_MAX_INFLIGHT) {
		fleet_finish(vm, VBCTL_EXIT_FAIL, "%s: too many commands in flight",
			     command);
		return -ENOBUFS;
	}
	r = qmp_send(vm->q, command, args, &id);
	if (r < 0) {
		drop(vm, "lost the connection to QEMU at %s: %s", vm->addr,
		     qmp_get_error_desc(vm->q) ? qmp_get_error_desc(vm->q) :
		     strerror(-r));
		return r;
	}
	vm->inflight[vm->ninflight].id = id;
	vm->inflight[vm->ninflight].tag = tag;
	vm->inflight[vm->ninflight].command = command;
	vm->inflight[vm->ninflight].deadline_ms =
		f->v->timeout_ms < 0 ? -1 : vbctl_now_ms() + f->v->timeout_ms;
	vm->ninflight++;
	return 0;
}

void fleet_wake(struct fleet_vm *vm, int ms)
{
	if (!vm->done)
		vm->wake_ms = vbctl_now_ms() + (ms > 0 ? ms : 0) + !ms;
}

/* ---- the loop -------------------------------------------------------------- */

static void start_vm(struct fleet_vm *vm, const struct fleet_ops *ops,
		     void *data)
{
	struct fleet *f = vm->fleet;
	int r;

	vm->done = false;
	vm->status = VBCTL_EXIT_OK;
	vm->why[0] = '\0';
	vm->ninflight = 0;
	vm->wake_ms = 0;
	vm->deadline_ms = -1;
	if (vm->q && qmp_is_connected(vm->q)) {
		ops->start(vm, data);
		return;
	}
	vm->q = qmp_unref(vm->q);
	vm->q = qmp_new();
	if (!vm->q) {
		fleet_finish(vm, VBCTL_EXIT_FAIL, "out of memory");
		return;
	}
	qmp_set_timeout(vm->q, f->v->timeout_ms);
	if (vm->inactive) {
		drop(vm, "domain '%s' is not running (virsh -c %s start %s starts it)",
		     vm->domain, vm->uri, vm->domain);
		return;
	}
	if (vm->domain) {
		r = qmp_connect_libvirt_start(vm->q, vm->uri, vm->domain);
		if (r < 0)
			drop(vm, "%s", qmp_get_error_desc(vm->q));
		else if (f->v->timeout_ms >= 0)
			vm->deadline_ms = vbctl_now_ms() + f->v->timeout_ms;
		return;
	}
	/* tls: the handshake is done here, within -t (see qmp.h). */
	if (strncmp(vm->addr, "tls:", 4) == 0 &&
	    qmp_set_tls_files(vm->q, f->v->tls_ca, f->v->tls_cert,
			      f->v->tls_key) < 0) {
		fleet_finish(vm, VBCTL_EXIT_FAIL, "out of memory");
		return;
	}
	r = qmp_connect_start(vm->q, vm->addr);
	if (r < 0) {
		const char *desc = qmp_get_error_desc(vm->q);

		drop(vm, "%s%s", desc ? desc : strerror(-r),
		     r == -ECONNREFUSED || r == -ENOENT ?
		     " (is QEMU running with this -qmp socket?)" :
		     r == -EAGAIN ? " (QEMU serves one QMP client at a time: is another one connected?)" : "");
		return;
	}
	if (f->v->timeout_ms >= 0)
		vm->deadline_ms = vbctl_now_ms() + f->v->timeout_ms;
}

/* Take the replies that arrived and the events; call the ops. */
static void service_vm(struct fleet_vm *vm, const struct fleet_ops *ops,
		       void *data)
{
	struct json_object *ret, *ev;
	size_t i;
	int r, tag;

	if (!qmp_is_connected(vm->q)) {
		r = qmp_connect_continue(vm->q);
		if (r == -EINPROGRESS)
			return;
		if (r < 0 && vm->domain) {
			/* libvirt's messages name the URI and domain */
			drop(vm, "%s", qmp_get_error_desc(vm->q) ?
			     qmp_get_error_desc(vm->q) : strerror(-r));
			return;
		}
		if (r < 0) {
			drop(vm, "cannot connect to %s: %s", vm->addr,
			     qmp_get_error_desc(vm->q) ? qmp_get_error_desc(vm->q) :
			     strerror(-r));
			return;
		}
		vm->deadline_ms = -1;
		ops->start(vm, data);
		return;
	}
	r = qmp_pump(vm->q, 0);
	for (i = 0; i < vm->ninflight && !vm->done;) {
		ret = NULL;
		r = qmp_recv_nowait(vm->q, vm->inflight[i].id, &ret);
		if (r == -EAGAIN) {
			i++;
			continue;
		}
		if (r < 0 && r != -EREMOTEIO) {
			drop_lost(vm);
			return;
		}
		tag = vm->inflight[i].tag;
		vm->inflight[i] = vm->inflight[--vm->ninflight];
		ops->reply(vm, data, tag, r, ret);
		json_object_put(ret);
		i = 0;	/* the callback may have sent more */
	}
	while (!vm->done && vm->q && (ev = qmp_event_pop(vm->q))) {
		if (ops->event)
			ops->event(vm, data, ev);
		json_object_put(ev);
	}
	if (!vm->done && vm->q && qmp_is_broken(vm->q))
		drop_lost(vm);
}

/* Deadlines and wake-ups that are due. */
static void check_time(struct fleet_vm *vm, const struct fleet_ops *ops,
		       void *data, int64_t now)
{
	size_t i;

	if (vm->deadline_ms >= 0 && now >= vm->deadline_ms && vm->domain) {
		drop(vm, "libvirt at %s did not answer within %g s",
		     vm->uri, vm->fleet->v->timeout_ms / 1000.0);
		return;
	}
	if (vm->deadline_ms >= 0 && now >= vm->deadline_ms) {
		drop(vm, "no QMP greeting from %s within %g s (QEMU serves one QMP client at a time: is another one connected?)",
		     vm->addr, vm->fleet->v->timeout_ms / 1000.0);
		return;
	}
	for (i = 0; i < vm->ninflight; i++) {
		if (vm->inflight[i].deadline_ms >= 0 &&
		    now >= vm->inflight[i].deadline_ms) {
			drop(vm, "QEMU did not answer %s within %g s (busy or stopped? try a longer -t)",
			     vm->inflight[i].command,
			     vm->fleet->v->timeout_ms / 1000.0);
			return;
		}
	}
	if (vm->wake_ms && now >= vm->wake_ms) {
		vm->wake_ms = 0;
		if (ops->wake)
			ops->wake(vm, data);
	}
}

static int64_t earliest(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int fleet_run(struct fleet *f, const struct fleet_ops *ops, void *data)
{
	struct pollfd *pfds;
	size_t *which, i, n, left, cap;
	int64_t next, now, next_tick = -1;
	int timeout, status = VBCTL_EXIT_OK;

	cap = f->nvms;
	pfds = calloc(cap, sizeof(*pfds));
	which = calloc(cap, sizeof(*which));
	if (!pfds || !which) {
		free(pfds);
		free(which);
		return vbctl_error(f->v, VBCTL_EXIT_FAIL, "out of memory");
	}
	f->stopped = false;
	for (i = 0; i < f->nvms; i++) {
		if ((ops->connected_only &&
		     !(f->vms[i].q && qmp_is_connected(f->vms[i].q))) ||
		    (ops->join && !ops->join(&f->vms[i], data)))
			f->vms[i].done = true;
		else
			start_vm(&f->vms[i], ops, data);
	}
	if (ops->tick && ops->tick_ms > 0)
		next_tick = vbctl_now_ms() + ops->tick_ms;

	for (;;) {
		now = vbctl_now_ms();
		if (next_tick >= 0 && now >= next_tick) {
			ops->tick(f, data);
			next_tick = now + ops->tick_ms;
		}
		/* VMs fleet_rescan() added or wants tried again. */
		if (f->nvms > cap) {
			struct pollfd *p2 = realloc(pfds, f->nvms * sizeof(*pfds));
			size_t *w2 = p2 ? realloc(which, f->nvms * sizeof(*which)) : NULL;

			if (p2)
				pfds = p2;
			if (!p2 || !w2) {
				status = vbctl_error(f->v, VBCTL_EXIT_FAIL, "out of memory");
				break;
			}
			which = w2;
			cap = f->nvms;
		}
		for (i = 0; i < f->nvms; i++) {
			if (!f->vms[i].restart)
				continue;
			f->vms[i].restart = false;
			start_vm(&f->vms[i], ops, data);
		}
		/* A VM with nothing in flight and nothing to wait for is
		 * done: its ops had nothing more to say. */
		left = 0;
		for (i = 0; i < f->nvms; i++) {
			struct fleet_vm *vm = &f->vms[i];

			if (!vm->done && vm->q && qmp_is_connected(vm->q) &&
			    !vm->ninflight && !vm->wake_ms)
				fleet_finish(vm, VBCTL_EXIT_OK, NULL);
			left += !vm->done;
		}
		if ((!left && !ops->until_stopped) || f->stopped || f->v->interrupted)
			break;

		next = next_tick;
		for (i = n = 0; i < f->nvms; i++) {
			struct fleet_vm *vm = &f->vms[i];
			size_t k;

			if (vm->done || !vm->q)
				continue;
			pfds[n].fd = qmp_get_fd(vm->q);
			pfds[n].events = qmp_get_poll_events(vm->q);
			pfds[n].revents = 0;
			which[n++] = i;
			next = earliest(next, vm->deadline_ms);
			next = earliest(next, vm->wake_ms ? vm->wake_ms : -1);
			for (k = 0; k < vm->ninflight; k++)
				next = earliest(next, vm->inflight[k].deadline_ms);
		}
		/* Short slices: a SIGINT need not interrupt poll(). */
		timeout = 200;
		if (next >= 0 && next - now < timeout)
			timeout = next > now ? (int)(next - now) : 0;
		if (poll(pfds, n, timeout) < 0 && errno != EINTR) {
			status = vbctl_error(f->v, VBCTL_EXIT_FAIL, "poll: %s",
					     strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			if (pfds[i].revents && !f->vms[which[i]].done)
				service_vm(&f->vms[which[i]], ops, data);
		now = vbctl_now_ms();
		for (i = 0; i < f->nvms; i++)
			if (!f->vms[i].done)
				check_time(&f->vms[i], ops, data, now);
	}

	for (i = 0; i < f->nvms; i++) {
		if (!f->vms[i].done)
			fleet_finish(&f->vms[i], VBCTL_EXIT_FAIL, "interrupted");
		status = fleet_worse(status, f->vms[i].status);
	}
	free(pfds);
	free(which);
	return status;
}

/* ---- the balloon device ---------------------------------------------------- */

static const char *const balloon_dirs[] = {
	"/machine/peripheral", "/machine/peripheral-anon",
};

int fleet_balloon_search(struct fleet_vm *vm, int tag)
{
	struct json_object *args;
	int i, r = 0;

	for (i = 0; i < 2 && r == 0; i++) {
		args = json_object_new_object();
		json_object_object_add(args, "path",
				       json_object_new_string(balloon_dirs[i]));
		r = fleet_send(vm, "qom-list", args, tag + i);
		json_object_put(args);
	}
	return r;
}

/* Whether LIST is a qom-list reply: an array of objects with a string
 * "name" and "type", as qmp_balloon_find() insists (the find_in_list step
 * skips what is not). */
static bool qom_list_well_formed(struct json_object *list)
{
	struct json_object *entry, *name, *type;
	size_t i, n;

	if (!json_object_is_type(list, json_type_array))
		return false;
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		entry = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(entry, "name", &name) ||
		    !json_object_object_get_ex(entry, "type", &type) ||
		    !json_object_is_type(name, json_type_string) ||
		    !json_object_is_type(type, json_type_string))
			return false;
	}
	return true;
}

int fleet_balloon_reply(struct fleet_vm *vm, int tag, int first_tag, int rc,
			struct json_object *ret, int *seen, char **path)
{
	*path = NULL;
	/* A directory that does not exist (no -device at all) holds none. */
	if (rc == -EREMOTEIO) {
		qmp_clear_error(vm->q);
	} else if (!qom_list_well_formed(ret)) {
		fleet_protocol_error(vm, ret, "qom-list %s: not a list of entries with a string \"name\" and \"type\"",
				     balloon_dirs[tag - first_tag]);
		return -1;
	} else if (qmp_balloon_find_in_list(ret, balloon_dirs[tag - first_tag],
					    path) == 0) {
		return 1;
	}
	if (++*seen < 2)
		return 0;
	fleet_finish(vm, VBCTL_EXIT_FAIL,
		     "no balloon device in this VM (none in /machine/peripheral or /machine/peripheral-anon; start QEMU with -device virtio-balloon-pci)");
	return -1;
}
