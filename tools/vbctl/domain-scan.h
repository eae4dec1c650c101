/* SPDX-License-Identifier: MIT */
/*
 * domain-scan.h - the running domains of a libvirt URI (or all of them),
 * listed in a thread of their own, so that a slow or hung libvirtd never holds a
 * poll() loop: start a listing, pick its result up on a later turn.
 */
#ifndef VBCTL_DOMAIN_SCAN_H
#define VBCTL_DOMAIN_SCAN_H

#include <stdbool.h>
#include <stddef.h>

struct domain_scan;

/* A lister for URI (copied), of its running domains or, with INACTIVE,
 * of all of them; NULL when out of memory. */
struct domain_scan *domain_scan_new(const char *uri, bool inactive);
/* Starts a listing unless one is under way. 0 or a negative errno. */
int domain_scan_start(struct domain_scan *s);
/*
 * The listing started last, once it is done: 1 and *NAMES (the domains,
 * NULL-terminated, the caller frees it with qmp_strv_free()),
 * or a negative errno with what libvirt said in ERR; 0 while it runs or
 * when none was started.
 */
int domain_scan_take(struct domain_scan *s, char ***names, char *err,
		     size_t errlen);
/* Frees S; a listing under way finishes on its own and is dropped. */
struct domain_scan *domain_scan_free(struct domain_scan *s);

#endif
