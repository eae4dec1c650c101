/* SPDX-License-Identifier: MIT */
/*
 * libqmp: a small client library for the QEMU Machine Protocol, with helpers
 * for the virtio-balloon device and the QOM tree.
 *
 * Conventions (see also docs/libqmp.md):
 * - Every function that can fail returns 0 on success or a negative errno.
 *   -EREMOTEIO means QEMU answered with an error reply: its class and
 *   description are kept (qmp_get_error_class/_desc) until qmp_clear_error()
 *   or the next command. Any other error is a transport or protocol error
 *   (EOF, garbage, timeout, over-limit message): it sticks to the
 *   connection and every later call returns it again.
 * - Every blocking call is bounded by the connection's timeout
 *   (qmp_set_timeout, default QMP_DEFAULT_TIMEOUT_MS) or by an explicit one.
 *   A timeout of -1 waits forever. On timeout: -ETIMEDOUT, and the
 *   connection is broken (a late reply would otherwise be mismatched).
 * - Objects handed out as "struct json_object **" are new references the
 *   caller must json_object_put(). Pointers returned directly (strings,
 *   the greeting) are borrowed from the connection: valid until the next
 *   call on it or until it is freed.
 * - The library never prints, exits or aborts. Logging goes through the
 *   callback set with qmp_set_log_fn(); with none set and QMP_LOG=debug in
 *   the environment, traffic is written to stderr.
 * - No global state: one struct qmp per connection, not thread-safe.
 */
#ifndef QMP_QMP_H
#define QMP_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct json_object;
struct qmp;

/* Limits on hostile input: past them the connection breaks with -EMSGSIZE
 * (message too large or too deeply nested) or -ENOBUFS (event queue).
 * QEMU's largest reply, query-qmp-schema, is about 200 KiB; parsed, a
 * message of small values costs json-c some 35 bytes per byte, so the
 * message limit bounds memory to about 150 MiB. */
#define QMP_MAX_MESSAGE_BYTES	(4u * 1024 * 1024)
#define QMP_MAX_NESTING_DEPTH	64
#define QMP_MAX_QUEUED_EVENTS	4096
#define QMP_DEFAULT_TIMEOUT_MS	10000

/* ---- connection -------------------------------------------------------- */

struct qmp *qmp_new(void);
struct qmp *qmp_ref(struct qmp *q);
/* Drops a reference; closes and frees at zero. Always returns NULL. */
struct qmp *qmp_unref(struct qmp *q);

/* Timeout for every later blocking call, in milliseconds (-1: none). */
void qmp_set_timeout(struct qmp *q, int timeout_ms);
int qmp_get_timeout(const struct qmp *q);

enum qmp_log_kind {
	QMP_LOG_SEND,	/* text: one JSON message as sent */
	QMP_LOG_RECV,	/* text: one JSON message as received */
	QMP_LOG_DEBUG,	/* text: a note from the library */
};
typedef void (*qmp_log_fn)(void *userdata, enum qmp_log_kind kind,
			   const char *text);
void qmp_set_log_fn(struct qmp *q, qmp_log_fn fn, void *userdata);

/*
 * Connect to ADDR: "unix:PATH", "tcp:HOST:PORT", "tls:HOST:PORT" (see
 * qmp_set_tls_files), or a bare PATH (unix),
 * read the greeting and negotiate capabilities (qmp_capabilities).
 * The whole exchange is bounded by the connection's timeout.
 * Errors: -EINVAL (bad address), -ENOENT/-ECONNREFUSED/... from connect,
 * -ETIMEDOUT, -EPROTO (not a QMP server).
 */
int qmp_connect(struct qmp *q, const char *addr);
/*
 * For "tls:HOST:PORT" addresses (QEMU's monitor chardev with tls-creds):
 * the CA certificate QEMU's must lead to (PEM file; NULL: the system's
 * trust store) and optionally a client certificate with its key (both or
 * neither). Copied. QEMU's certificate must also name HOST (a DNS name,
 * or an IP address SAN). Failures of qmp_connect(): -EKEYREJECTED (not
 * trusted, or not for HOST), -ENOKEY (a file cannot be loaded), -EPROTO
 * (the peer does not speak TLS).
 */
int qmp_set_tls_files(struct qmp *q, const char *ca_file,
		      const char *cert_file, const char *key_file);
/* Same over an already connected stream socket; takes ownership of fd. */
int qmp_connect_fd(struct qmp *q, int fd);
/* The fd to poll() for readability; -1 when not connected. After poll()
 * says readable, call qmp_pump() to read and queue what arrived. */
int qmp_get_fd(const struct qmp *q);

/*
 * Connecting without waiting, for an event loop over many connections:
 * qmp_connect_start() starts the connect to ADDR and returns at once (0,
 * or the error when it failed at once). Then, each time poll() reports
 * qmp_get_poll_events() on qmp_get_fd() (or whenever you like), call
 * qmp_connect_continue(): -EINPROGRESS while the greeting or the answer
 * to qmp_capabilities has not come yet, 0 once connected, another
 * negative errno when it failed (the connection is broken then). It never
 * waits; the caller bounds the whole exchange with its own deadline. The
 * one exception: for "tls:HOST:PORT", qmp_connect_start() makes the TCP
 * connection and the TLS handshake before it returns, within the
 * connection's timeout.
 */
int qmp_connect_start(struct qmp *q, const char *addr);
int qmp_connect_continue(struct qmp *q);
/* The events to poll() qmp_get_fd() for: POLLOUT while a TCP connect is
 * in flight, else POLLIN; 0 when not connected or broken. */
short qmp_get_poll_events(const struct qmp *q);
/* True once connected and negotiated, and not broken. */
bool qmp_is_connected(const struct qmp *q);
/* The greeting's {"QMP": {...}} object, borrowed; NULL before connect. */
struct json_object *qmp_get_greeting(const struct qmp *q);
/* QEMU's version from the greeting, e.g. 7, 2, 0. */
int qmp_get_version(const struct qmp *q, int *major, int *minor, int *micro);

/* ---- libvirt ----------------------------------------------------------- */

/*
 * QMP through libvirt, for a domain whose monitor libvirt holds: the same
 * struct qmp, carried by virDomainQemuMonitorCommand() for commands and
 * virConnectDomainQemuMonitorEventRegister() for events instead of a
 * socket. Everything else in this header works the same on it.
 * URI: a libvirt connection URI (qemu:///system, qemu:///session,
 * qemu+ssh://host/system); DOMAIN: a name, UUID or id. The greeting is
 * made up from the QEMU version libvirt reports, and its "QMP" object
 * names the domain: "libvirt": {"uri", "domain", "uuid", "id"} (the id
 * changes each time the domain starts); no qmp_capabilities is
 * sent (libvirt did that). Each such connection runs a thread that makes
 * libvirt's blocking calls; libqmp registers and runs libvirt's default
 * event loop (process-wide, once) and keeps one libvirt connection per
 * URI for the whole process. Errors: -ENOTSUP (libqmp built without
 * libvirt), -ECONNREFUSED (URI cannot be opened), -ENOENT (no such
 * domain), -EHOSTDOWN (domain not running), -ENOSYS (this libvirt
 * cannot pass QEMU monitor commands through), -ECONNRESET (the domain
 * stopped), -ETIMEDOUT.
 */
bool qmp_have_libvirt(void);
int qmp_connect_libvirt(struct qmp *q, const char *uri, const char *domain);
/* The same without waiting: then qmp_connect_continue() as for a socket. */
int qmp_connect_libvirt_start(struct qmp *q, const char *uri,
			      const char *domain);
/*
 * The domains at URI, running ones or ALL, sorted by name: *names
 * receives a NULL-terminated array (free it with qmp_strv_free()).
 * Returns their number, or a negative errno with the description in Q
 * (an unconnected struct qmp used for its error only; it is broken then).
 */
int qmp_libvirt_list_domains(struct qmp *q, const char *uri, bool all,
			     char ***names);
void qmp_strv_free(char **strv);

/* ---- errors ------------------------------------------------------------ */

/* True once a transport/protocol error has broken the connection. */
bool qmp_is_broken(const struct qmp *q);
/* The negative errno that broke the connection (-ETIMEDOUT, -ECONNRESET,
 * -EPROTO, ...), so a caller can tell why without reading the
 * description; 0 while it is not broken. */
int qmp_get_error(const struct qmp *q);
/* The error class of the last QMP error reply ("GenericError",
 * "DeviceNotActive", ...), or NULL. Borrowed. */
const char *qmp_get_error_class(const struct qmp *q);
/* A one-line description of the last error (QMP error reply or
 * transport error), or NULL. Borrowed. */
const char *qmp_get_error_desc(const struct qmp *q);
/* Forget a QMP error reply. A broken connection stays broken: returns
 * false then. */
bool qmp_clear_error(struct qmp *q);

/* ---- commands ---------------------------------------------------------- */

/*
 * Send COMMAND with ARGS (a JSON object, borrowed; NULL for none) and a
 * fresh id; *id receives the id. Events that arrive meanwhile are queued.
 */
int qmp_send(struct qmp *q, const char *command, struct json_object *args,
	     uint64_t *id);
/*
 * Send a whole message object as it is (borrowed), e.g. a raw JSON line
 * typed in the shell. When it has no "id" member, one is added (to the
 * sent copy) so the reply can be matched; *id receives it.
 */
int qmp_send_message(struct qmp *q, struct json_object *msg, uint64_t *id);
/*
 * Wait for the reply to ID. On {"return": V}: 0 and *ret = V (new
 * reference; ret may be NULL). On {"error": ...}: -EREMOTEIO.
 */
int qmp_recv(struct qmp *q, uint64_t id, struct json_object **ret);
/*
 * qmp_recv without waiting: reads what is ready, then 0 or -EREMOTEIO as
 * qmp_recv when the reply to ID is there, -EAGAIN when it is not yet.
 */
int qmp_recv_nowait(struct qmp *q, uint64_t id, struct json_object **ret);
/* qmp_send + qmp_recv. */
int qmp_execute(struct qmp *q, const char *command, struct json_object *args,
		struct json_object **ret);

/* ---- events ------------------------------------------------------------ */

/*
 * Read whatever is available within TIMEOUT_MS (0: only what is ready
 * now) and queue the events that arrived. Returns the number of events
 * now queued, or a negative errno (connection broken, e.g. -ECONNRESET on
 * EOF).
 */
int qmp_pump(struct qmp *q, int timeout_ms);
/* Number of queued events. */
size_t qmp_event_count(const struct qmp *q);
/* The oldest queued event (new reference), or NULL when none. */
struct json_object *qmp_event_pop(struct qmp *q);
/*
 * Wait up to TIMEOUT_MS for an event named NAME (NULL: any) and return it
 * (new reference) in *event. Earlier events of other names stay queued,
 * in order. -ETIMEDOUT when none came: that does NOT break the connection.
 */
int qmp_wait_event(struct qmp *q, const char *name, int timeout_ms,
		   struct json_object **event);
/* Accessors for an event object; borrowed results. */
const char *qmp_event_name(struct json_object *event);
struct json_object *qmp_event_data(struct json_object *event);
/* Timestamp in microseconds since the epoch, or 0 if absent. */
uint64_t qmp_event_timestamp_us(struct json_object *event);

/* ---- QOM --------------------------------------------------------------- */

/* qom-list PATH: *ret = array of {"name", "type"} (new reference), each
 * member a string (-EPROTO when QEMU sends anything else). */
int qmp_qom_list(struct qmp *q, const char *path, struct json_object **ret);
/* qom-get PATH PROPERTY: *ret = the value (new reference). */
int qmp_qom_get(struct qmp *q, const char *path, const char *property,
		struct json_object **ret);
/* qom-set PATH PROPERTY VALUE (borrowed; NULL sends JSON null). */
int qmp_qom_set(struct qmp *q, const char *path, const char *property,
		struct json_object *value);

/* ---- machine ----------------------------------------------------------- */

/* Boot memory of the VM in bytes (query-memory-size-summary base-memory). */
int qmp_memory_base_size(struct qmp *q, uint64_t *bytes);

/* ---- balloon ----------------------------------------------------------- */

/* query-balloon: the guest's logical memory size in bytes ("actual").
 * -EREMOTEIO with class DeviceNotActive when there is no balloon. */
int qmp_balloon_query(struct qmp *q, uint64_t *actual);
/* balloon value=TARGET: ask for a logical size of TARGET bytes. Returns at
 * once; the guest gets there later, or not. */
int qmp_balloon_set_target(struct qmp *q, uint64_t target);
/*
 * Find the balloon device in the QOM tree by its type (virtio-balloon-pci,
 * -pci-transitional, -pci-non-transitional, virtio-balloon-device (mmio),
 * virtio-balloon-ccw), searching /machine/peripheral, then
 * /machine/peripheral-anon, then the rest of /machine. *path receives a
 * malloc()ed path the caller frees. -ENODEV when there is none.
 */
int qmp_balloon_find(struct qmp *q, char **path);
/*
 * The step of qmp_balloon_find() without I/O, for event loops: LIST is a
 * qom-list reply (borrowed) for the directory DIR (e.g.
 * "/machine/peripheral-anon"); when it holds a balloon device, *path
 * receives its malloc()ed path. -ENODEV when it does not, -EINVAL when
 * LIST is not an array.
 */
int qmp_balloon_find_in_list(struct json_object *list, const char *dir,
			     char **path);

/* Stats polling interval of the balloon at PATH, in seconds (0: off). */
int qmp_balloon_get_polling(struct qmp *q, const char *path, int64_t *seconds);
int qmp_balloon_set_polling(struct qmp *q, const char *path, int64_t seconds);

/* The guest statistics QEMU knows, in virtio tag order. QMP_STAT_COUNT
 * grows when a statistic is added: it bounds a loop, it is no array size
 * the library and its callers share. */
enum qmp_balloon_stat {
	QMP_STAT_SWAP_IN,	/* bytes swapped in */
	QMP_STAT_SWAP_OUT,	/* bytes swapped out */
	QMP_STAT_MAJOR_FAULTS,
	QMP_STAT_MINOR_FAULTS,
	QMP_STAT_FREE_MEMORY,	/* bytes */
	QMP_STAT_TOTAL_MEMORY,	/* bytes */
	QMP_STAT_AVAILABLE_MEMORY, /* bytes */
	QMP_STAT_DISK_CACHES,	/* bytes */
	QMP_STAT_HTLB_PGALLOC,
	QMP_STAT_HTLB_PGFAIL,
	QMP_STAT_OOM_KILLS,
	QMP_STAT_ALLOC_STALLS,
	QMP_STAT_ASYNC_SCANS,
	QMP_STAT_DIRECT_SCANS,
	QMP_STAT_ASYNC_RECLAIMS,
	QMP_STAT_DIRECT_RECLAIMS,
	QMP_STAT_COUNT
};

/* "stat-free-memory" etc.; NULL for an out-of-range index. */
const char *qmp_balloon_stat_key(enum qmp_balloon_stat stat);
/* True when the stat is a size in bytes (else a count). */
bool qmp_balloon_stat_is_bytes(enum qmp_balloon_stat stat);

/* One sample of the guest's statistics: opaque, read with the getters
 * below, freed with qmp_balloon_stats_free(). */
struct qmp_balloon_stats;

/*
 * qom-get PATH guest-stats into a new *st: 2^64-1 (QEMU's "unset") and
 * absent keys are left unknown; keys this library does not know are
 * ignored by the getters (qmp_balloon_stats_json() still has them).
 */
int qmp_balloon_get_stats(struct qmp *q, const char *path,
			  struct qmp_balloon_stats **st);
/* Parse a guest-stats object (as returned by qom-get) into a new *st.
 * -EINVAL when it is malformed (*st is NULL then). */
int qmp_balloon_stats_parse(struct json_object *obj,
			    struct qmp_balloon_stats **st);
void qmp_balloon_stats_free(struct qmp_balloon_stats *st);
/* True when the guest reported STAT; its value goes to *value (may be
 * NULL). False for an unknown or out-of-range STAT. */
bool qmp_balloon_stats_get(const struct qmp_balloon_stats *st,
			   enum qmp_balloon_stat stat, uint64_t *value);
/* When the guest last answered, in seconds since the epoch; 0: never. */
int64_t qmp_balloon_stats_last_update(const struct qmp_balloon_stats *st);
/* The guest-stats object as QEMU sent it, borrowed from ST. */
struct json_object *qmp_balloon_stats_json(const struct qmp_balloon_stats *st);

#ifdef __cplusplus
}
#endif

#endif
