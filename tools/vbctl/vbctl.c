/* SPDX-License-Identifier: MIT */
/*
 * vbctl.c - what every command shares: error reporting, option and
 * argument checking, the lazy QMP connection, the balloon path cache and
 * waiting while watching the socket.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "print.h"
#include "vbctl.h"

void vbctl_init(struct vbctl *v)
{
	memset(v, 0, sizeof(*v));
	v->out = stdout;
	v->timeout_ms = QMP_DEFAULT_TIMEOUT_MS;
	v->reconnect = -1;
}

void vbctl_release(struct vbctl *v)
{
	v->q = qmp_unref(v->q);
	free(v->balloon_path);
	v->balloon_path = NULL;
	free(v->addrs);
	v->addrs = NULL;
	v->naddrs = 0;
	free(v->domains);
	v->domains = NULL;
	v->ndomains = 0;
	free(v->addr_buf);
	v->addr_buf = NULL;
}

int vbctl_add_domain(struct vbctl *v, const char *domain)
{
	const char **domains = realloc(v->domains,
				       (v->ndomains + 1) * sizeof(*domains));

	if (!domains)
		return -ENOMEM;
	v->domains = domains;
	v->domains[v->ndomains++] = domain;
	return 0;
}

int vbctl_add_addr(struct vbctl *v, const char *addr)
{
	const char **addrs = realloc(v->addrs, (v->naddrs + 1) * sizeof(*addrs));

	if (!addrs)
		return -ENOMEM;
	v->addrs = addrs;
	v->addrs[v->naddrs++] = addr;
	v->addr = addr;
	return 0;
}

bool vbctl_is_fleet(const struct vbctl *v)
{
	size_t n = v->naddrs + (v->uri ? v->ndomains : 0);

	return n > 1 || v->sockets || v->all || (v->uri && !v->ndomains);
}

void vbctl_progress_clear(struct vbctl *v)
{
	if (v->progress_shown) {
		fputs("\r\033[K", stderr);
		if (v->interrupted)
			v->interrupt_echo_erased = true;
	}
	v->progress_shown = false;
}

static void vbctl_verror(struct vbctl *v, const char *fmt, va_list ap)
{
	/* Results written so far come first, so the order on a terminal
	 * matches the order things happened in. */
	fflush(v->out);
	vbctl_progress_clear(v);
	fputs("vbctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int vbctl_error(struct vbctl *v, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vbctl_verror(v, fmt, ap);
	va_end(ap);
	return code;
}

int vbctl_usage_error(struct vbctl *v, const struct vbctl_cmd *cmd,
		      const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!*cmd->name)	/* the global options */
		return vbctl_error(v, VBCTL_EXIT_USAGE, "%s; see 'vbctl --help'",
				   why);
	return vbctl_error(v, VBCTL_EXIT_USAGE, "%s: %s; usage: vbctl %s%s%s",
			   cmd->name, why, cmd->name, *cmd->usage ? " " : "",
			   cmd->usage);
}

/* Reconnect pauses: the first, and the most it grows to. */
#define RECONNECT_FIRST_MS 100
#define RECONNECT_MAX_MS 5000

/* Whether RC (on a broken connection) is QEMU going away, worth waiting
 * for, rather than a peer that breaks the protocol (that one would do it
 * again). */
static bool went_away(int rc)
{
	switch (rc) {
	case -EPROTO:
	case -EMSGSIZE:
	case -ENOBUFS:
	case -ENOMEM:
	case -EINVAL:
		return false;
	default:
		return true;
	}
}

/* Sleeps MS milliseconds in short slices; false when interrupted. */
static bool pause_ms(struct vbctl *v, int64_t ms)
{
	int64_t end = vbctl_now_ms() + ms, left;
	struct timespec ts;

	while (!v->interrupted && (left = end - vbctl_now_ms()) > 0) {
		if (left > 100)
			left = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000;
		nanosleep(&ts, NULL);
	}
	return !v->interrupted;
}

int vbctl_reconnect(struct vbctl *v, const char *what, const char *reason)
{
	int64_t delay = RECONNECT_FIRST_MS;
	char desc[256];
	int rc;

	vbctl_error(v, 0, "%s: QEMU at %s went away (%s); reconnecting (Ctrl-C to stop)",
		    what, v->addr, reason);
	v->q = qmp_unref(v->q);
	free(v->balloon_path);
	v->balloon_path = NULL;
	for (;;) {
		if (!pause_ms(v, delay))
			return vbctl_error(v, VBCTL_EXIT_CONN,
					   "%s: interrupted while waiting for QEMU at %s to come back",
					   what, v->addr);
		rc = vbctl_try_connect(v, desc, sizeof(desc));
		if (rc == 0)
			break;
		if (v->verbose)
			vbctl_error(v, 0, "%s: not yet: %s", what, desc);
		delay = delay * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : delay * 2;
	}
	vbctl_error(v, 0, "%s: QEMU at %s is back", what, v->addr);
	return VBCTL_REARM;
}

/* An error reply may lack its class or description (or hold JSON null):
 * libqmp then gives NULL, which is never passed to printf. */
static const char *error_class(const struct vbctl *v)
{
	const char *class = v->q ? qmp_get_error_class(v->q) : NULL;

	return class ? class : "QMP error";
}

static const char *error_desc(const struct vbctl *v)
{
	const char *desc = v->q ? qmp_get_error_desc(v->q) : NULL;

	return desc ? desc : "(no description)";
}

int vbctl_qmp_failed(struct vbctl *v, int rc, const char *what)
{
	const char *desc = v->q ? qmp_get_error_desc(v->q) : NULL;

	if (rc == -EREMOTEIO) {
		vbctl_error(v, VBCTL_EXIT_FAIL, "%s: %s: %s", what,
			    error_class(v), error_desc(v));
		qmp_clear_error(v->q);
		return VBCTL_EXIT_FAIL;
	}
	if (!desc)
		desc = strerror(-rc);
	if (!v->q || !qmp_is_broken(v->q))
		return vbctl_error(v, VBCTL_EXIT_FAIL, "%s: %s", what, desc);
	if (v->rearm && went_away(rc))
		return vbctl_reconnect(v, what, desc);
	return vbctl_connection_lost(v, what);
}

void vbctl_describe_lost(struct qmp *q, const char *addr, int timeout_ms,
			 char *buf, size_t len)
{
	const char *desc = q ? qmp_get_error_desc(q) : NULL;
	int err = q && qmp_is_broken(q) ? qmp_get_error(q) : -ECONNRESET;

	if (err == -ETIMEDOUT)
		snprintf(buf, len, "QEMU at %s did not answer within %g s (busy or stopped? try a longer -t)",
			 addr, timeout_ms / 1000.0);
	else if (err == -ECONNRESET || err == -EPIPE)
		snprintf(buf, len, "lost the connection to QEMU at %s: %s (did QEMU exit?)",
			 addr, desc ? desc : "connection closed");
	else	/* Garbage, an oversize message, an event flood: QEMU (or
		 * whatever listens there) broke the protocol; the
		 * connection is useless. */
		snprintf(buf, len, "bad data from QEMU at %s: %s (is it a QMP monitor? -v shows the traffic)",
			 addr, desc ? desc : strerror(-err));
}

int vbctl_connection_lost(struct vbctl *v, const char *what)
{
	char why[512];

	vbctl_describe_lost(v->q, v->addr, v->timeout_ms, why, sizeof(why));
	if (what)
		return vbctl_error(v, VBCTL_EXIT_CONN, "%s: %s", what, why);
	return vbctl_error(v, VBCTL_EXIT_CONN, "%s", why);
}

void vbctl_describe_bad_data(char *buf, size_t len, const char *addr,
			     struct json_object *got, const char *fmt,
			     va_list ap)
{
	char why[256], shown[128];
	const char *text;

	vsnprintf(why, sizeof(why), fmt, ap);
	/* A reply may be megabytes long: show its start. */
	text = got ? vbctl_json_text(got, false) : "nothing";
	snprintf(shown, sizeof(shown), "%s", text);
	if (strlen(text) >= sizeof(shown))
		memcpy(shown + sizeof(shown) - 4, "...", 4);
	snprintf(buf, len, "bad data from QEMU at %s: %s, got %s (is it a QMP monitor? -v shows the traffic)",
		 addr, why, shown);
}

bool vbctl_json_u64(struct json_object *obj, uint64_t *value)
{
	/* json-c keeps a number above INT64_MAX as a uint64; its int64
	 * view is then INT64_MAX, not negative. */
	if (!json_object_is_type(obj, json_type_int) ||
	    json_object_get_int64(obj) < 0)
		return false;
	*value = json_object_get_uint64(obj);
	return true;
}

int vbctl_protocol_error(struct vbctl *v, const char *what,
			 struct json_object *got, const char *fmt, ...)
{
	char said[512];
	va_list ap;

	va_start(ap, fmt);
	vbctl_describe_bad_data(said, sizeof(said), v->addr, got, fmt, ap);
	va_end(ap);
	vbctl_error(v, VBCTL_EXIT_CONN, "%s: %s", what, said);
	/* Out of step with what it sent, the connection is not used again. */
	v->q = qmp_unref(v->q);
	free(v->balloon_path);
	v->balloon_path = NULL;
	v->protocol_fault = true;
	return VBCTL_EXIT_CONN;
}

int vbctl_balloon_failed(struct vbctl *v, int rc, const char *what)
{
	const char *class = v->q ? qmp_get_error_class(v->q) : NULL;

	if (rc == -EREMOTEIO && class && strcmp(class, "DeviceNotActive") == 0) {
		vbctl_error(v, VBCTL_EXIT_FAIL,
			    "%s: no balloon device in this VM (QEMU says %s: %s); start QEMU with -device virtio-balloon-pci",
			    what, class, error_desc(v));
		qmp_clear_error(v->q);
		return VBCTL_EXIT_FAIL;
	}
	return vbctl_qmp_failed(v, rc, what);
}

/* ---- options and arguments ----------------------------------------------- */

void vbctl_getopt_begin(void)
{
	/* glibc: 0 (not 1) also resets getopt's internal state, so a
	 * command can be parsed many times in one process (the shell). */
	optind = 0;
	opterr = 0;
}

static const struct option no_options[] = { { NULL, 0, NULL, 0 } };

int vbctl_getopt(struct vbctl *v, const struct vbctl_cmd *cmd, int argc,
		 char **argv)
{
	const char *shortopts = cmd->shortopts ? cmd->shortopts : "";
	char optstring[64];
	const char *token;
	int c;

	/* A leading ':' makes getopt tell a missing value from an unknown
	 * option; a leading '+' (stop at the first argument) goes first. */
	if (*shortopts == '+')
		snprintf(optstring, sizeof(optstring), "+:%s", shortopts + 1);
	else
		snprintf(optstring, sizeof(optstring), ":%s", shortopts);
	/* An empty table still makes "--x" a long option, not "-" "-x". */
	c = getopt_long(argc, argv, optstring,
			cmd->longopts ? cmd->longopts : no_options, NULL);
	if (c != '?' && c != ':')
		return c;
	/* After a long option or a missing value, optind is past the
	 * token; within a cluster of short ones ("-wx") it may not be. */
	token = argv[optind - 1];
	if (c == ':')
		vbctl_usage_error(v, cmd, "option '%s' needs a value", token);
	else if (strncmp(token, "--", 2) == 0)
		vbctl_usage_error(v, cmd, "bad option '%s'", token);
	else
		vbctl_usage_error(v, cmd, "unknown option '-%c'", optopt);
	return '?';
}

int vbctl_check_args(struct vbctl *v, const struct vbctl_cmd *cmd, int argc,
		     char **argv, int first)
{
	int n = argc - first;

	if (n < cmd->min_args)
		return vbctl_usage_error(v, cmd, "missing %s", cmd->args[n].name);
	if (cmd->max_args >= 0 && n > cmd->max_args)
		return vbctl_usage_error(v, cmd, "unexpected argument '%s'",
					 argv[first + cmd->max_args]);
	return 0;
}

int vbctl_parse_plain(struct vbctl *v, const struct vbctl_cmd *cmd, int argc,
		      char **argv)
{
	int i;

	vbctl_getopt_begin();
	if (vbctl_getopt(v, cmd, argc, argv) != -1)
		return VBCTL_EXIT_USAGE;
	/* Options end at the first argument, so a "--" after it (put
	 * before a VALUE that starts with '-', as the help says) is
	 * dropped: the arguments before it move up one place. */
	for (i = optind; i < argc && strcmp(argv[i], "--") != 0; i++)
		;
	if (i < argc) {
		memmove(&argv[optind + 1], &argv[optind],
			(size_t)(i - optind) * sizeof(*argv));
		optind++;
	}
	return vbctl_check_args(v, cmd, argc, argv, optind);
}

bool vbctl_option_takes_value(const struct vbctl_cmd *cmd, const char *word)
{
	const struct option *o;
	const char *s;

	if (word[0] != '-' || !word[1])
		return false;
	if (word[1] == '-') {
		if (strchr(word, '='))
			return false;
		for (o = cmd->longopts; o && o->name; o++)
			if (!strcmp(o->name, word + 2))
				return o->has_arg == required_argument;
		return false;
	}
	/* -abc: the first letter that takes an argument takes the rest, or
	 * the next word when it is last. */
	for (word++; *word; word++) {
		s = cmd->shortopts && *word != '+' && *word != ':' ?
			strchr(cmd->shortopts, *word) : NULL;
		if (s && s[1] == ':')
			return !word[1];
	}
	return false;
}

int vbctl_parse_seconds(struct vbctl *v, const struct vbctl_cmd *cmd,
			const char *opt, const char *text, int *ms)
{
	char *end;
	double s;

	errno = 0;
	s = strtod(text, &end);
	/* Up to a day: longer is surely a typo, and fits in an int of ms. */
	if (errno || end == text || *end || !isfinite(s) || s <= 0 ||
	    s > 86400)
		return vbctl_usage_error(v, cmd, "bad value '%s' for %s: expected seconds between 0 and 86400, e.g. 5 or 0.5",
					 text, opt);
	*ms = (int)ceil(s * 1000);
	return 0;
}

int vbctl_parse_count(struct vbctl *v, const struct vbctl_cmd *cmd,
		      const char *opt, const char *text, int64_t *n)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(text, &end, 10);
	if (errno || end == text || *end || x <= 0 || *text == '+')
		return vbctl_usage_error(v, cmd, "bad value '%s' for %s: expected a whole number of 1 or more",
					 text, opt);
	*n = x;
	return 0;
}

/* ---- QEMU ------------------------------------------------------------------ */

/*
 * One line of the --logfile: {"timestamp": {"seconds": S, "microseconds":
 * US}, "direction": "send"|"recv", "message": {...}}, the timestamp in
 * QMP's own form. Flushed at once: the log is there for when things go
 * wrong.
 */
static void log_to_file(struct vbctl *v, const char *direction,
			const char *text)
{
	struct json_object *line, *stamp, *msg;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	msg = json_tokener_parse(text);
	stamp = json_object_new_object();
	line = json_object_new_object();
	if (!msg || !stamp || !line ||
	    json_object_object_add(stamp, "seconds", json_object_new_int64(ts.tv_sec)) ||
	    json_object_object_add(stamp, "microseconds",
				   json_object_new_int64(ts.tv_nsec / 1000)) ||
	    json_object_object_add(line, "timestamp", json_object_get(stamp)) ||
	    json_object_object_add(line, "direction", json_object_new_string(direction)) ||
	    json_object_object_add(line, "message", json_object_get(msg))) {
		/* The log is a record, not the work: a line that cannot be
		 * built is left out, and the session goes on. */
		goto out;
	}
	fprintf(v->traffic_log, "%s\n", json_object_to_json_string_ext(line,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(v->traffic_log);
out:
	json_object_put(line);
	json_object_put(stamp);
	json_object_put(msg);
}

static void log_traffic(void *userdata, enum qmp_log_kind kind,
			const char *text)
{
	struct vbctl *v = userdata;

	if (v->traffic_log && kind != QMP_LOG_DEBUG)
		log_to_file(v, kind == QMP_LOG_SEND ? "send" : "recv", text);
	if (!v->verbose)
		return;
	switch (kind) {
	case QMP_LOG_SEND:
		fprintf(stderr, "-> %s\n", text);
		break;
	case QMP_LOG_RECV:
		fprintf(stderr, "<- %s\n", text);
		break;
	case QMP_LOG_DEBUG:
		if (v->verbose > 1)
			fprintf(stderr, "## %s\n", text);
		break;
	}
}

/*
 * Why connecting failed, from the error code: a system error from
 * connect() is its strerror; a timeout is said in -t's seconds; what only
 * libqmp can tell (not a QMP server, an oversize or too deep message, an
 * event flood, a host that does not resolve, QEMU closing during the
 * greeting) is its description.
 */
static void connect_reason(struct vbctl *v, int rc, char *desc, size_t len)
{
	const char *d = qmp_get_error_desc(v->q);

	switch (rc) {
	case -ETIMEDOUT:
		snprintf(desc, len, "no answer within %g s", v->timeout_ms / 1000.0);
		break;
	case -EPROTO:
	case -EMSGSIZE:		/* a message over the limit, or too deep */
	case -ENOBUFS:		/* an event flood */
	case -EHOSTUNREACH:
	case -ECONNRESET:
	case -EKEYREJECTED:
	case -ENOKEY:
		snprintf(desc, len, "%s", d ? d : strerror(-rc));
		break;
	default:
		snprintf(desc, len, "%s", strerror(-rc));
		break;
	}
}

/* One libvirt domain (-c, -d): libvirt's own message names what is wrong. */
static int try_connect_libvirt(struct vbctl *v, char *desc, size_t len)
{
	const char *domain;
	int rc;

	if (v->ndomains != 1) {
		snprintf(desc, len, "-c %s: name one domain with -d DOMAIN (several -d, or -c without -d, work with list, top, query, set and stats)",
			 v->uri);
		v->q = qmp_unref(v->q);
		return -EINVAL;
	}
	domain = v->domains[0];
	free(v->addr_buf);
	if (asprintf(&v->addr_buf, "%s domain %s", v->uri, domain) < 0)
		v->addr_buf = NULL;
	v->addr = v->addr_buf ? v->addr_buf : domain;
	rc = qmp_connect_libvirt(v->q, v->uri, domain);
	if (rc == 0)
		return 0;
	snprintf(desc, len, "%s", qmp_get_error_desc(v->q) ?
		 qmp_get_error_desc(v->q) : strerror(-rc));
	v->q = qmp_unref(v->q);
	return rc;
}

bool vbctl_sockaddr_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
	const uint8_t *b = in6->sin6_addr.s6_addr;

	if (sa->sa_family == AF_UNIX)
		return true;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
		return true;
	/* ::ffff:127.x.y.z */
	return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127;
}

/*
 * QMP over plain TCP has no authentication or encryption: whoever reaches
 * the port owns the VM. Said once per process when the peer (as connected,
 * so a name that resolves to 127.0.0.1 counts as loopback) is not this
 * host's loopback.
 */
static void warn_plain_tcp(struct vbctl *v)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (v->tcp_warned || strncmp(v->addr, "tcp:", 4) != 0)
		return;
	if (getpeername(qmp_get_fd(v->q), (struct sockaddr *)&ss, &len) < 0 ||
	    vbctl_sockaddr_is_loopback((struct sockaddr *)&ss))
		return;
	v->tcp_warned = true;
	vbctl_error(v, 0, "warning: %s is not a loopback address: QMP over TCP has no authentication or encryption, so anyone who can reach it controls the VM; use tls:HOST:PORT (QEMU's tls-creds-x509) or a unix socket",
		    v->addr);
}

int vbctl_try_connect(struct vbctl *v, char *desc, size_t len)
{
	int rc;

	if (v->q)
		return 0;
	v->q = qmp_new();
	if (!v->q) {
		snprintf(desc, len, "out of memory");
		return -ENOMEM;
	}
	qmp_set_timeout(v->q, v->timeout_ms);
	if (v->verbose || v->traffic_log)
		qmp_set_log_fn(v->q, log_traffic, v);
	if (v->uri && !v->naddrs)
		return try_connect_libvirt(v, desc, len);
	if (strncmp(v->addr, "tls:", 4) == 0 &&
	    qmp_set_tls_files(v->q, v->tls_ca, v->tls_cert, v->tls_key) < 0) {
		v->q = qmp_unref(v->q);
		snprintf(desc, len, "out of memory");
		return -ENOMEM;
	}
	rc = qmp_connect(v->q, v->addr);
	if (rc == 0) {
		warn_plain_tcp(v);
		return 0;
	}
	connect_reason(v, rc, desc, len);
	v->q = qmp_unref(v->q);
	return rc;
}

int vbctl_connect(struct vbctl *v)
{
	char desc[256], hint[512];
	const char *path;
	struct stat st;
	bool tcp;
	int rc;

	if (v->q)
		return 0;
	if (vbctl_is_fleet(v))
		return vbctl_error(v, VBCTL_EXIT_USAGE,
				   "this command takes one VM (one -s ADDR, or -c URI -d DOMAIN); list, top, query, set and stats take many");
	rc = vbctl_try_connect(v, desc, sizeof(desc));
	if (rc == 0)
		return 0;
	if (rc == -ENOMEM)
		return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
	if (v->uri && !v->naddrs && rc == -EINVAL)
		return vbctl_error(v, VBCTL_EXIT_USAGE, "%s", desc);
	if (v->uri && !v->naddrs)
		return vbctl_error(v, rc == -ENOTSUP ? VBCTL_EXIT_USAGE : VBCTL_EXIT_CONN,
				   "%s: %s", v->domains[0], desc);
	tcp = strncmp(v->addr, "tcp:", 4) == 0 || strncmp(v->addr, "tls:", 4) == 0;
	path = strncmp(v->addr, "unix:", 5) == 0 ? v->addr + 5 : v->addr;
	if (rc == -EINVAL) {
		/* A malformed address is a bad command line, not QEMU's
		 * absence. */
		vbctl_error(v, VBCTL_EXIT_USAGE, "bad socket address '%s': %s; see 'vbctl --help'",
			    v->addr, tcp ? "expected tcp:HOST:PORT or tls:HOST:PORT with a port number 1-65535" :
			    !*path ? "the path is empty" :
			    "the path is too long for a unix socket (use a shorter or a relative one)");
		return VBCTL_EXIT_USAGE;
	}
	if (rc == -ENOKEY)
		/* --tls-ca and the like name files that are no use. */
		return vbctl_error(v, VBCTL_EXIT_USAGE, "cannot connect to %s: %s; see --tls-ca, --tls-cert, --tls-key",
				   v->addr, desc);
	if (rc == -EKEYREJECTED)
		snprintf(hint, sizeof(hint), "give the CA that signed QEMU's certificate with --tls-ca or $VBCTL_TLS_CA, and connect by a name the certificate carries");
	else if (strncmp(v->addr, "tls:", 4) == 0 && rc == -EPROTO)
		snprintf(hint, sizeof(hint), "is the monitor's chardev given tls-creds=...?");
	else if (strncmp(v->addr, "tls:", 4) == 0 &&
		 rc == -ECONNRESET)
		snprintf(hint, sizeof(hint), "QEMU ended the TLS session: with verify-peer=on it wants a client certificate its CA signed: --tls-cert and --tls-key");
	else if (rc == -EPROTO || rc == -EMSGSIZE || rc == -ENOBUFS)
		/* Something answered, but not as QEMU does. */
		snprintf(hint, sizeof(hint), "is it a QEMU QMP monitor? -v shows what it sent");
	else if (rc == -ETIMEDOUT || rc == -EAGAIN)
		/* Connected but no greeting, or not even queued (its
		 * listen backlog is full): the monitor is busy. */
		snprintf(hint, sizeof(hint), "QEMU serves one QMP client at a time: is another one connected?");
	else if (!tcp && (rc == -ECONNREFUSED || rc == -ENOTSOCK) &&
		 stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		/* connect() says "refused" for any file that is no socket. */
		snprintf(hint, sizeof(hint), "%s is %s, not a socket: is the path right?",
			 path, S_ISDIR(st.st_mode) ? "a directory" : "a file");
	else if (strncmp(v->addr, "tls:", 4) == 0)
		snprintf(hint, sizeof(hint), "is QEMU's monitor there: -chardev socket,host=HOST,port=PORT,server=on,wait=off,tls-creds=ID with -mon ...,mode=control?");
	else
		snprintf(hint, sizeof(hint), "is QEMU running with -qmp %s%s,server=on,wait=off?",
			 tcp || path != v->addr ? "" : "unix:", v->addr);
	return vbctl_error(v, VBCTL_EXIT_CONN, "cannot connect to %s: %s (%s)",
			   v->addr, desc, hint);
}

int vbctl_balloon_path(struct vbctl *v, const char **path)
{
	int rc;

	if (!v->balloon_path) {
		rc = vbctl_connect(v);
		if (rc)
			return rc;
		rc = qmp_balloon_find(v->q, &v->balloon_path);
		if (rc == -ENODEV)
			return vbctl_error(v, VBCTL_EXIT_FAIL,
					   "no balloon device in this VM (start QEMU with -device virtio-balloon-pci)");
		if (rc)
			return vbctl_qmp_failed(v, rc, "looking for the balloon device");
	}
	*path = v->balloon_path;
	return 0;
}

int vbctl_qom_path(struct vbctl *v, const char *arg, const char **path)
{
	if (strcmp(arg, "balloon") == 0)
		return vbctl_balloon_path(v, path);
	*path = arg;
	return vbctl_connect(v);
}

bool vbctl_not_running(struct vbctl *v, char *why, size_t len)
{
	struct json_object *ret = NULL, *running, *status;
	bool stopped;

	if (qmp_execute(v->q, "query-status", NULL, &ret)) {
		qmp_clear_error(v->q);
		return false;
	}
	stopped = json_object_object_get_ex(ret, "running", &running) &&
		  json_object_is_type(running, json_type_boolean) &&
		  !json_object_get_boolean(running) &&
		  json_object_object_get_ex(ret, "status", &status) &&
		  json_object_is_type(status, json_type_string);
	if (stopped)
		snprintf(why, len, "the VM is not running (QEMU status '%s'; 'vbctl qmp cont' resumes a paused VM)",
			 json_object_get_string(status));
	json_object_put(ret);
	return stopped;
}

int vbctl_actual_from_event(struct vbctl *v, struct json_object *event,
			    uint64_t *actual)
{
	struct json_object *member;

	/* Bytes: a whole number from 0 to 2^64-1 (libqmp refuses larger
	 * ones), never a negative one read as a huge one or as 0. */
	if (!json_object_object_get_ex(qmp_event_data(event), "actual", &member) ||
	    !json_object_is_type(member, json_type_int) ||
	    json_object_get_int64(member) < 0)
		return vbctl_protocol_error(v, "set", event,
					    "a BALLOON_CHANGE event without a whole number \"actual\" of bytes");
	*actual = json_object_get_uint64(member);
	return 0;
}

/* ---- JSON built here ------------------------------------------------------- */

int vbctl_json_add(struct vbctl *v, struct json_object *obj, const char *key,
		   struct json_object *value)
{
	if (value && json_object_object_add(obj, key, value) == 0)
		return 0;
	json_object_put(value);
	return vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
}

struct json_object *vbctl_json_object(struct vbctl *v, const char *key,
				      struct json_object *value)
{
	struct json_object *obj = json_object_new_object();

	if (!obj) {
		json_object_put(value);
		vbctl_error(v, VBCTL_EXIT_FAIL, "out of memory");
		return NULL;
	}
	if (key && vbctl_json_add(v, obj, key, value)) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

struct json_object *vbctl_fetch(struct vbctl *v, const char *command,
				struct json_object *args)
{
	struct json_object *ret = NULL;

	if (!v->q || qmp_is_broken(v->q))
		return NULL;
	if (qmp_execute(v->q, command, args, &ret) < 0) {
		qmp_clear_error(v->q);
		return NULL;
	}
	return ret;
}

int64_t vbctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vbctl_idle(struct vbctl *v, int ms, const char *what)
{
	int64_t deadline = vbctl_now_ms() + ms, left;
	struct json_object *event;
	int rc;

	while (!v->interrupted && (left = deadline - vbctl_now_ms()) > 0) {
		/* Short slices: a SIGINT need not interrupt poll() (the
		 * library may retry on EINTR). */
		rc = qmp_pump(v->q, left < 200 ? (int)left : 200);
		if (rc < 0)
			return vbctl_qmp_failed(v, rc, what);
		while ((event = qmp_event_pop(v->q)))
			json_object_put(event);
	}
	return 0;
}

const char *vbctl_vm_name(const struct vbctl *v)
{
	const char *path, *slash;

	if (v->uri && v->ndomains == 1)
		return v->domains[0];
	path = strncmp(v->addr, "unix:", 5) == 0 ? v->addr + 5 : v->addr;
	slash = strrchr(path, '/');
	if (strncmp(v->addr, "tcp:", 4) == 0)
		return v->addr;
	return slash && slash[1] ? slash + 1 : path;
}
