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
#include <sys/types.h>

#include "qmp/qmp.h"

/* Everything is hidden (-fvisibility=hidden) except what carries this and
 * is listed in libqmp.sym. */
#define QMP_EXPORT __attribute__((visibility("default")))

/* A deadline is a CLOCK_MONOTONIC time in milliseconds; -1 means never.
 * QMP_DEADLINE_NO_WAIT: give up on what is not done at once. */
#define QMP_DEADLINE_NO_WAIT (-2)
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

/* The same without waiting: the fd, with *PENDING true when the connect
 * is still in flight (poll for POLLOUT, then read SO_ERROR). */
int qmp_address_connect_start(const char *addr, bool *pending, char *errbuf,
			      size_t errlen);

/*
 * The libvirt channel (libvirt.c): a worker thread opens URI, finds
 * DOMAIN and passes requests through; what comes back is queued, and *FD
 * (a pipe, owned by the channel) turns readable. qmp_libvirt_take() hands
 * out one message (1, *msg a new reference), nothing (0), or the error
 * that ended the channel (a negative errno, described in ERRBUF).
 */
struct qmp_libvirt;
int qmp_libvirt_open(const char *uri, const char *domain,
		     struct qmp_libvirt **lv, int *fd);
int qmp_libvirt_submit(struct qmp_libvirt *lv, uint64_t id,
		       struct json_object *msg);
int qmp_libvirt_take(struct qmp_libvirt *lv, struct json_object **msg,
		     char *errbuf, size_t errlen);
void qmp_libvirt_close(struct qmp_libvirt *lv);

/* TLS (tls.c): the files qmp_set_tls_files() named, all borrowed. */
struct qmp_tls_files {
	const char *ca;		/* CA certificate (PEM); NULL: system trust */
	const char *cert;	/* client certificate and its key, or NULL */
	const char *key;
};
struct qmp_tls;
/*
 * A TLS client session on FD (connected, non-blocking), its handshake done
 * by DEADLINE and QEMU's certificate verified against FILES->ca and HOST.
 * Returns 0 with *tls set, or a negative errno with a description in ERR:
 * -EKEYREJECTED (certificate not trusted, or not for HOST), -ENOKEY (the
 * files), -ETIMEDOUT, -ECONNRESET, -EPROTO (not TLS).
 */
int qmp_tls_start(struct qmp_tls **tls, int fd, const char *host,
		  const struct qmp_tls_files *files, int64_t deadline,
		  char *err, size_t errlen);
/* recv()/send() through the session: bytes, 0 at the end, or -1 with
 * errno (EAGAIN when the socket has nothing now). */
ssize_t qmp_tls_recv(struct qmp_tls *tls, void *buf, size_t len);
ssize_t qmp_tls_send(struct qmp_tls *tls, const void *buf, size_t len);
/* Why the last qmp_tls_recv/send failed (not EAGAIN), borrowed. */
const char *qmp_tls_error(struct qmp_tls *tls);
/* Bytes GnuTLS holds already decrypted: poll() does not see them. */
size_t qmp_tls_pending(struct qmp_tls *tls);
void qmp_tls_free(struct qmp_tls *tls);

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
