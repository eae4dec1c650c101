/* SPDX-License-Identifier: MIT */
/*
 * prom-read.h - the figures of every VM the global options name, read at
 * once from fleet.h's poll() loop, written in the Prometheus format
 * (prom.h): what "vbctl exporter" serves on each scrape and "vbctl stats
 * --format prometheus" prints for several VMs.
 */
#ifndef VBCTL_PROM_READ_H
#define VBCTL_PROM_READ_H

#include <stdint.h>
#include <stdio.h>

struct vbctl;

/*
 * Reads every VM (connect, query-balloon, boot memory, the balloon's
 * polling interval, turned on at INTERVAL_S where it is off, and its
 * latest statistics), each within TIMEOUT_MS, and writes their metrics to
 * OUT; a VM that could not be read is vballoon_up 0. Returns the worst
 * VBCTL_EXIT_* of the VMs, or 1 when OUT could not be written.
 */
int prom_read_write(struct vbctl *v, int timeout_ms, int64_t interval_s,
		    FILE *out);

#endif
