/* SPDX-License-Identifier: MIT */
/*
 * libqmp-private.h - what the files of libqmp share and do not export:
 * the export marker, deadlines, address parsing, error plumbing.
 */
#ifndef LIBQMP_PRIVATE_H
#define LIBQMP_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmp/qmp.h"

/* Everything is hidden (-fvisibility=hidden) except what carries this and
 * is listed in libqmp.sym. */
#define QMP_EXPORT __attribute__((visibility("default")))

/* A deadline is a CLOCK_MONOTONIC time in milliseconds; -1 means never. */
int64_t qmp_deadline(int timeout_ms);
/* Milliseconds left until DEADLINE as a poll() timeout: -1 (never), 0
 * (passed) or the rest, rounded up so poll() never returns early. */
int qmp_deadline_left(int64_t deadline);

/*
 * Connect a SOCK_CLOEXEC|SOCK_NONBLOCK stream socket to ADDR ("unix:PATH",
 * "tcp:HOST:PORT", "tcp:[V6ADDR]:PORT" or a bare PATH) by DEADLINE.
 * Returns the fd, or a negative errno with a description in ERRBUF.
 */
int qmp_address_connect(const char *addr, int64_t deadline, char *errbuf,
			size_t errlen);

/* Break Q with ERR (a negative errno) and a printf-style description;
 * returns ERR. Later calls return ERR again. */
int qmp_fail(struct qmp *q, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The value of a JSON integer that is >= 0, all 64 bits (json-c keeps
 * values above INT64_MAX as uint64). False for anything else. */
bool qmp_json_get_u64(struct json_object *obj, uint64_t *value);

/* qmp_execute COMMAND ARGS and read the integer member KEY of the
 * returned object into *VALUE; a reply without it breaks Q (-EPROTO). */
int qmp_execute_u64(struct qmp *q, const char *command,
		    struct json_object *args, const char *key,
		    uint64_t *value);

#endif
