/* SPDX-License-Identifier: MIT */
/*
 * prom-read.c - every VM's balloon figures for Prometheus, read at once:
 * one small state machine per VM (fleet_ops) driven by fleet.h's poll()
 * loop, with one deadline per VM, then written by prom.c.
 */
#include "config.h"

#include <stdlib.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "fleet.h"
#include "prom.h"
#include "prom-read.h"

enum {
	PR_LIST,		/* qom-list /machine/peripheral */
	PR_LIST_ANON,		/* qom-list /machine/peripheral-anon */
	PR_ACTUAL,		/* query-balloon */
	PR_BOOT,		/* query-memory-size-summary */
	PR_GET_POLLING,		/* qom-get guest-stats-polling-interval */
	PR_SET_POLLING,		/* qom-set guest-stats-polling-interval */
	PR_SAMPLE,		/* qom-get guest-stats */
};

struct prom_read {
	int timeout_ms;		/* per VM, for its whole read */
	int64_t interval_s;	/* polling interval set where it is off */
	struct prom_read_vm {
		char *path;	/* the balloon's QOM path */
		int seen;	/* for fleet_balloon_reply() */
		int64_t start_ms, end_ms;
		struct prom_vm vm;
		struct qmp_balloon_stats *st;
	} *vms;
};

static void pr_start(struct fleet_vm *vm, void *data)
{
	struct prom_read *pr = data;

	pr->vms[vm->index].start_ms = vbctl_now_ms();
	/* One deadline for the whole read (pr_wake): a slow VM is down for
	 * this scrape, the others are not held. */
	fleet_wake(vm, pr->timeout_ms);
	if (fleet_send(vm, "query-balloon", NULL, PR_ACTUAL) < 0 ||
	    fleet_send(vm, "query-memory-size-summary", NULL, PR_BOOT) < 0)
		return;
	fleet_balloon_search(vm, PR_LIST);
}

static void pr_wake(struct fleet_vm *vm, void *data)
{
	struct prom_read *pr = data;

	fleet_finish(vm, VBCTL_EXIT_CONN,
		     "QEMU at %s did not answer within %g s (busy or stopped? try a longer -t)",
		     vm->addr, pr->timeout_ms / 1000.0);
}

static void pr_reply(struct fleet_vm *vm, void *data, int tag, int rc,
		     struct json_object *ret)
{
	struct prom_read *pr = data;
	struct prom_read_vm *s = &pr->vms[vm->index];

	s->end_ms = vbctl_now_ms();
	switch (tag) {
	case PR_LIST:
	case PR_LIST_ANON:
		if (s->path)
			return;		/* found in the other listing */
		if (fleet_balloon_reply(vm, tag, PR_LIST, rc, ret, &s->seen,
					&s->path) != 1)
			return;
		fleet_qom(vm, "qom-get", s->path,
			  "guest-stats-polling-interval", NULL, PR_GET_POLLING);
		return;
	/* A reply of the wrong shape is a protocol fault: no made-up
	 * figure is exported (vballoon_up 0, exit 3). */
	case PR_ACTUAL:
		if (rc)
			return fleet_qmp_error(vm, "query-balloon");
		if (!fleet_get_u64(ret, "actual", &s->vm.actual))
			return fleet_protocol_error(vm, ret,
						    "query-balloon returned no \"actual\" in bytes");
		s->vm.has_actual = true;
		break;
	case PR_BOOT:
		/* Nice to have: without it the balloon still has its figures. */
		if (rc)
			break;
		if (!fleet_get_u64(ret, "base-memory", &s->vm.boot))
			return fleet_protocol_error(vm, ret,
						    "query-memory-size-summary returned no \"base-memory\" in bytes");
		s->vm.has_boot = true;
		break;
	case PR_GET_POLLING:
		if (rc)
			return fleet_qmp_error(vm, "guest-stats-polling-interval");
		s->vm.polling_s = json_object_get_int64(ret);
		if (!json_object_is_type(ret, json_type_int) || s->vm.polling_s < 0)
			return fleet_protocol_error(vm, ret,
						    "guest-stats-polling-interval is not a whole number of seconds");
		s->vm.has_polling = true;
		if (s->vm.polling_s == 0 && pr->interval_s > 0)
			return fleet_qom(vm, "qom-set", s->path,
					 "guest-stats-polling-interval",
					 json_object_new_int64(pr->interval_s),
					 PR_SET_POLLING);
		return fleet_qom(vm, "qom-get", s->path, "guest-stats",
				 NULL, PR_SAMPLE);
	case PR_SET_POLLING:
		if (rc == 0)
			s->vm.polling_s = pr->interval_s;
		return fleet_qom(vm, "qom-get", s->path, "guest-stats",
				 NULL, PR_SAMPLE);
	case PR_SAMPLE:
		if (rc == 0 && qmp_balloon_stats_parse(ret, &s->st))
			return fleet_protocol_error(vm, ret, "malformed guest-stats");
		s->vm.stats = s->st;
		break;
	}
	/* Every answer is in (the deadline's wake-up would keep it open). */
	if (!vm->ninflight)
		fleet_finish(vm, VBCTL_EXIT_OK, NULL);
}

int prom_read_write(struct vbctl *v, int timeout_ms, int64_t interval_s,
		    FILE *out)
{
	static const struct fleet_ops ops = {
		.start = pr_start,
		.reply = pr_reply,
		.wake = pr_wake,
	};
	struct prom_read pr = { .timeout_ms = timeout_ms, .interval_s = interval_s };
	struct prom_vm *vms = NULL;
	int64_t now;
	struct fleet *f;
	size_t i, n = 0;
	int rc, status;

	rc = fleet_open(v, 0, &f, &status);
	if (rc)
		/* Nothing to read (a glob matching nothing, say): still the
		 * build info, so the scrape itself succeeds. */
		return prom_write(out, NULL, 0) ? VBCTL_EXIT_FAIL : rc;
	n = fleet_count(f);
	pr.vms = calloc(n, sizeof(*pr.vms));
	vms = calloc(n, sizeof(*vms));
	if (!pr.vms || !vms) {
		free(pr.vms);
		free(vms);
		fleet_free(f);
		return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
	}
	status = fleet_worse(status, fleet_run(f, &ops, &pr));
	now = vbctl_now_ms();
	for (i = 0; i < n; i++) {
		struct fleet_vm *vm = fleet_vm(f, i);
		struct prom_read_vm *s = &pr.vms[i];

		vms[i] = s->vm;
		vms[i].domain = vm->name;
		vms[i].up = vm->status == VBCTL_EXIT_OK && s->vm.has_actual;
		/* Connected or not, as long as it took. */
		vms[i].read_seconds = s->start_ms ?
			((vm->status ? now : s->end_ms) - s->start_ms) / 1000.0 : -1;
	}
	if (prom_write(out, vms, n))
		status = VBCTL_EXIT_FAIL;
	/* stats --format prometheus says why a VM is down, as every fleet
	 * command does; the exporter's scrapes leave its log alone. */
	if (out == v->out)
		fleet_report_failures(f);
	for (i = 0; i < n; i++) {
		free(pr.vms[i].path);
		qmp_balloon_stats_free(pr.vms[i].st);
	}
	free(pr.vms);
	free(vms);
	fleet_free(f);
	return status;
}
