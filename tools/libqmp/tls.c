/* SPDX-License-Identifier: MIT */
/*
 * tls.c - QMP over TLS ("tls:HOST:PORT"): a GnuTLS client session on a
 * connected, non-blocking TCP socket, verified against the CA given (or
 * the system's trust store) and HOST, with an optional client certificate,
 * as QEMU's -object tls-creds-x509 on the monitor's chardev expects.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "libqmp-private.h"

struct qmp_tls {
	gnutls_session_t session;
	gnutls_certificate_credentials_t creds;
	char error[160];	/* why the last recv/send failed */
};

/* A failed record call R: its errno, and its reason kept for
 * qmp_tls_error(). QEMU refusing us (an alert: say, our certificate
 * missing or not trusted) is -EKEYREJECTED. */
static int record_error(struct qmp_tls *tls, ssize_t r)
{
	if (r == GNUTLS_E_FATAL_ALERT_RECEIVED) {
		snprintf(tls->error, sizeof(tls->error),
			 "QEMU ended the session: %s (does it want a client certificate: --tls-cert, --tls-key?)",
			 gnutls_alert_get_name(gnutls_alert_get(tls->session)));
		return EKEYREJECTED;
	}
	snprintf(tls->error, sizeof(tls->error), "%s", gnutls_strerror((int)r));
	return r == GNUTLS_E_PUSH_ERROR || r == GNUTLS_E_PULL_ERROR ?
		ECONNRESET : EPROTO;
}

const char *qmp_tls_error(struct qmp_tls *tls)
{
	return tls->error;
}

void qmp_tls_free(struct qmp_tls *tls)
{
	if (!tls)
		return;
	if (tls->session)
		gnutls_deinit(tls->session);
	if (tls->creds)
		gnutls_certificate_free_credentials(tls->creds);
	free(tls);
}

/* Whether HOST is an IP address (no SNI then; gnutls checks IP SANs). */
static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

static int load_credentials(struct qmp_tls *tls, const struct qmp_tls_files *files,
			    char *err, size_t errlen)
{
	int r;

	r = gnutls_certificate_allocate_credentials(&tls->creds);
	if (r < 0)
		goto fail;
	if (files->ca) {
		r = gnutls_certificate_set_x509_trust_file(tls->creds, files->ca,
							   GNUTLS_X509_FMT_PEM);
		if (r == 0)
			r = GNUTLS_E_NO_CERTIFICATE_FOUND;
		if (r < 0) {
			snprintf(err, errlen, "TLS: cannot load the CA certificate %s: %s",
				 files->ca, gnutls_strerror(r));
			return -ENOKEY;
		}
	} else {
		r = gnutls_certificate_set_x509_system_trust(tls->creds);
		if (r <= 0) {
			snprintf(err, errlen, "TLS: no CA certificate given and no system trust store");
			return -ENOKEY;
		}
	}
	if (files->cert || files->key) {
		if (!files->cert || !files->key) {
			snprintf(err, errlen, "TLS: a client certificate needs its key, and a key its certificate");
			return -ENOKEY;
		}
		r = gnutls_certificate_set_x509_key_file(tls->creds, files->cert,
							 files->key,
							 GNUTLS_X509_FMT_PEM);
		if (r < 0) {
			snprintf(err, errlen, "TLS: cannot load the client certificate %s with key %s: %s",
				 files->cert, files->key, gnutls_strerror(r));
			return -ENOKEY;
		}
	}
	return 0;
fail:
	snprintf(err, errlen, "TLS: %s", gnutls_strerror(r));
	return -ENOMEM;
}

/* Why verification failed, in GnuTLS's words. */
static void verify_error(struct qmp_tls *tls, const char *host, char *err,
			 size_t errlen)
{
	unsigned int status = gnutls_session_get_verify_cert_status(tls->session);
	gnutls_datum_t text = { NULL, 0 };

	if (gnutls_certificate_verification_status_print(status,
			gnutls_certificate_type_get(tls->session), &text, 0) < 0) {
		snprintf(err, errlen, "TLS: QEMU's certificate was rejected");
		return;
	}
	/* GnuTLS ends its sentences with blanks. */
	while (text.size && ((char *)text.data)[text.size - 1] == ' ')
		((char *)text.data)[--text.size] = '\0';
	snprintf(err, errlen, "TLS: QEMU's certificate is not valid for %s: %s",
		 host, (const char *)text.data);
	gnutls_free(text.data);
}

int qmp_tls_start(struct qmp_tls **out, int fd, const char *host,
		  const struct qmp_tls_files *files, int64_t deadline,
		  char *err, size_t errlen)
{
	struct qmp_tls *tls;
	struct pollfd pfd = { .fd = fd };
	int r, p;

	*out = NULL;
	tls = calloc(1, sizeof(*tls));
	if (!tls)
		return -ENOMEM;
	r = load_credentials(tls, files, err, errlen);
	if (r < 0)
		goto fail;
	r = gnutls_init(&tls->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	if (r >= 0)
		r = gnutls_set_default_priority(tls->session);
	if (r >= 0)
		r = gnutls_credentials_set(tls->session, GNUTLS_CRD_CERTIFICATE,
					   tls->creds);
	if (r >= 0 && !is_ip_literal(host))
		r = gnutls_server_name_set(tls->session, GNUTLS_NAME_DNS, host,
					   strlen(host));
	if (r < 0) {
		snprintf(err, errlen, "TLS: %s", gnutls_strerror(r));
		r = -ENOMEM;
		goto fail;
	}
	/* The handshake fails unless the chain leads to the CA and the
	 * certificate names HOST (a DNS name or an IP address SAN). */
	gnutls_session_set_verify_cert(tls->session, host, 0);
	gnutls_transport_set_int(tls->session, fd);
	gnutls_handshake_set_timeout(tls->session, 0);

	while ((r = gnutls_handshake(tls->session)) < 0) {
		if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
			verify_error(tls, host, err, errlen);
			r = -EKEYREJECTED;
			goto fail;
		}
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) {
			if (gnutls_error_is_fatal(r) == 0)
				continue;
			snprintf(err, errlen, "TLS handshake with %s failed: %s",
				 host, gnutls_strerror(r));
			r = r == GNUTLS_E_PREMATURE_TERMINATION ||
			    r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR ?
				-ECONNRESET : -EPROTO;
			goto fail;
		}
		pfd.events = gnutls_record_get_direction(tls->session) ? POLLOUT : POLLIN;
		do {
			p = poll(&pfd, 1, qmp_deadline_left(deadline));
		} while (p < 0 && errno == EINTR);
		if (p == 0) {
			snprintf(err, errlen, "TLS handshake with %s: no answer in time", host);
			r = -ETIMEDOUT;
			goto fail;
		}
		if (p < 0) {
			r = -errno;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			goto fail;
		}
	}
	*out = tls;
	return 0;
fail:
	qmp_tls_free(tls);
	return r;
}

/* A record call's result N as read(2)/write(2) say it: N, or -1 with
 * errno. */
static ssize_t record_result(struct qmp_tls *tls, ssize_t n)
{
	if (n >= 0)
		return n;
	if (n == GNUTLS_E_AGAIN)
		errno = EAGAIN;
	else if (n == GNUTLS_E_INTERRUPTED)
		errno = EINTR;
	else
		errno = record_error(tls, n);
	return -1;
}

ssize_t qmp_tls_recv(struct qmp_tls *tls, void *buf, size_t len)
{
	ssize_t n = gnutls_record_recv(tls->session, buf, len);

	if (n == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;	/* QEMU went away without close_notify */
	return record_result(tls, n);
}

ssize_t qmp_tls_send(struct qmp_tls *tls, const void *buf, size_t len)
{
	return record_result(tls, gnutls_record_send(tls->session, buf, len));
}

size_t qmp_tls_pending(struct qmp_tls *tls)
{
	return gnutls_record_check_pending(tls->session);
}
