/* SPDX-License-Identifier: MIT */
/*
 * prom.h - the Prometheus text exposition format (version 0.0.4) of what
 * vbctl reads from VMs: one family per metric, one sample per VM with a
 * "domain" label. The third printer, beside the table and --json, for
 * "stats --format prometheus" and "vbctl exporter". No I/O but the FILE.
 * The metrics are listed in docs/vbctl.1 (METRICS).
 */
#ifndef VBCTL_PROM_H
#define VBCTL_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct qmp_balloon_stats;

/* What was read from one VM. A figure not read is left out of the
 * output, never written as 0. */
struct prom_vm {
	const char *domain;		/* the "domain" label */
	bool up;			/* its balloon was read (vballoon_up) */
	double read_seconds;		/* how long reading it took; < 0: unknown */
	bool has_actual;
	uint64_t actual;		/* bytes: query-balloon "actual" */
	bool has_boot;
	uint64_t boot;			/* bytes: boot memory */
	bool has_polling;
	int64_t polling_s;		/* guest-stats-polling-interval, seconds */
	const struct qmp_balloon_stats *stats;	/* latest sample; NULL: none */
};

/* The MIME type to serve the output with. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes the metrics of the N VMs in VMS to F. Returns 0, or -1 when
 * writing failed (ferror). */
int prom_write(FILE *f, const struct prom_vm *vms, size_t n);

#endif
