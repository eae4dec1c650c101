/* SPDX-License-Identifier: MIT */
/*
 * cmd-exporter.c - "vbctl exporter --listen HOST:PORT": serves /metrics
 * over HTTP (libmicrohttpd) for Prometheus. Each scrape reads every VM
 * afresh and at once (prom-read.h), each within a deadline, and answers
 * with vballoon_up 0 for a VM it cannot read, so a dead VM never stalls
 * the scrape.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "prom.h"
#include "prom-read.h"
#include "vbctl.h"

/* Bound on reading one VM per scrape when -t is not given: well inside
 * Prometheus' default scrape timeout (10 s). */
#define EXPORTER_DEFAULT_TIMEOUT_MS 5000
/* Polling interval set on a VM whose stats polling is off. */
#define EXPORTER_DEFAULT_INTERVAL_S 2

static const struct option exporter_options[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "interval", required_argument, NULL, 'i' },
	{ NULL, 0, NULL, 0 },
};

static const struct vbctl_arg exporter_args[] = { { NULL } };

static int run_exporter(struct vbctl *v, int argc, char **argv);

const struct vbctl_cmd vbctl_cmd_exporter = {
	.name = "exporter",
	.usage = "--listen HOST:PORT [--interval S]",
	.summary = "serve the VMs' balloon metrics to Prometheus over HTTP",
	.help =
	"Serves GET /metrics on HOST:PORT in the Prometheus text format until\n"
	"interrupted (Ctrl-C, SIGTERM): on every scrape every VM named (-s,\n"
	"repeated, --sockets GLOB, -c URI [-d DOMAIN]) is read afresh and at\n"
	"once, each within the -t timeout (default 5 s); a VM that cannot be\n"
	"read is vballoon_up 0. Stats polling is turned on where it is off\n"
	"(and left on). The metrics are those of 'stats --format prometheus'\n"
	"(see METRICS in vbctl(1)). Port 0 picks a free port; the address\n"
	"served is printed on standard output.\n"
	"\n"
	"  -l, --listen HOST:PORT  address to listen on, e.g. 127.0.0.1:9877 or\n"
	"                          [::1]:9877 (no TLS, no authentication: keep it\n"
	"                          on loopback or behind a proxy)\n"
	"  -i, --interval S        polling interval set where polling is off\n"
	"                          (default 2)\n",
	.flags = VBCTL_STREAM,
	.shortopts = "l:i:",
	.longopts = exporter_options,
	.args = exporter_args,
	.min_args = 0,
	.max_args = 0,
	.run = run_exporter,
};

struct exporter {
	struct vbctl *v;	/* the targets: -s, --sockets, -c/-d */
	int timeout_ms;		/* per VM, per scrape */
	int64_t interval_s;	/* polling interval where it is off */
	pthread_mutex_t lock;	/* one scrape at a time reads the VMs */
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status,
			     const char *type, char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn,
				  unsigned int status, const char *text)
{
	char *body = strdup(text);

	return body ? reply(conn, status, "text/plain; charset=utf-8", body,
			    strlen(body)) : MHD_NO;
}

/* The metrics of every VM, read now. */
static char *scrape(struct exporter *e, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	/* One scrape at a time reads the VMs (libmicrohttpd's one thread
	 * makes it so; the lock says it). */
	pthread_mutex_lock(&e->lock);
	prom_read_write(e->v, e->timeout_ms, e->interval_s, f);
	pthread_mutex_unlock(&e->lock);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct exporter *e = cls;
	size_t len;
	char *body;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "only GET and HEAD\n");
	if (strcmp(url, "/") == 0)
		return reply_text(conn, MHD_HTTP_OK,
				  "vbctl exporter: the metrics are at /metrics\n");
	if (strcmp(url, "/metrics"))
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	body = scrape(e, &len);
	if (!body)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return reply(conn, MHD_HTTP_OK, PROM_CONTENT_TYPE, body, len);
}

/* "HOST:PORT" or "[V6]:PORT" (numeric hosts and names) into *RES. */
static int resolve_listen(const char *text, struct addrinfo **res)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	char host[256];
	const char *colon = strrchr(text, ':'), *h = text;
	size_t hlen;

	if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	hlen = colon - text;
	if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host) || atoi(colon + 1) > 65535)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return getaddrinfo(host, colon + 1, &hints, res) ? -ENOENT : 0;
}

static int run_exporter(struct vbctl *v, int argc, char **argv)
{
	struct exporter e = {
		.v = v,
		.timeout_ms = v->timeout_ms >= 0 ? v->timeout_ms :
			      EXPORTER_DEFAULT_TIMEOUT_MS,
		.interval_s = EXPORTER_DEFAULT_INTERVAL_S,
	};
	const char *listen = NULL;
	const union MHD_DaemonInfo *info;
	struct addrinfo *res = NULL;
	struct MHD_Daemon *d;
	sigset_t stop, old;
	int c, sig, rc;

	vbctl_getopt_begin();
	while ((c = vbctl_getopt(v, &vbctl_cmd_exporter, argc, argv)) != -1) {
		if (c == 'l')
			listen = optarg;
		else if (c == 'i' && !vbctl_parse_count(v, &vbctl_cmd_exporter,
							 "--interval", optarg, &e.interval_s))
			continue;
		else
			return VBCTL_EXIT_USAGE;
	}
	rc = vbctl_check_args(v, &vbctl_cmd_exporter, argc, argv, optind);
	if (rc)
		return rc;
	/* The fleet bounds each connect and exchange with -t too. */
	v->timeout_ms = e.timeout_ms;
	if (!listen)
		return vbctl_usage_error(v, &vbctl_cmd_exporter,
					 "--listen HOST:PORT is needed, e.g. --listen 127.0.0.1:9877");
	if (resolve_listen(listen, &res))
		return vbctl_usage_error(v, &vbctl_cmd_exporter,
					 "bad --listen address '%s': expected HOST:PORT, e.g. 127.0.0.1:9877 or [::1]:9877",
					 listen);

	/* SIGINT and SIGTERM end it: blocked here (and in the server's
	 * thread, which inherits the mask) and taken with sigwait(). */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	pthread_mutex_init(&e.lock, NULL);
	errno = 0;
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
			     (res->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
			     0, NULL, NULL, handle, &e,
			     MHD_OPTION_SOCK_ADDR, res->ai_addr,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
			     MHD_OPTION_END);
	freeaddrinfo(res);
	if (!d) {
		rc = vbctl_error(v, VBCTL_EXIT_FAIL,
				 "exporter: cannot listen on %s: %s", listen,
				 errno ? strerror(errno) : "libmicrohttpd refused it");
		goto out;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	fprintf(v->out, "vbctl exporter: serving http://%.*s:%u/metrics\n",
		(int)(strrchr(listen, ':') - listen), listen,
		info ? info->port : 0);
	fflush(v->out);
	sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	rc = VBCTL_EXIT_OK;
out:
	pthread_mutex_destroy(&e.lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
