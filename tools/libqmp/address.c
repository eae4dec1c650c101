/* SPDX-License-Identifier: MIT */
/*
 * address.c - turns a QMP address ("unix:PATH", "tcp:HOST:PORT", a bare
 * PATH) into a connected socket, never blocking past the deadline.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "libqmp-private.h"

/* Finish a non-blocking connect() of FD by DEADLINE: 0 or a negative errno.
 * DEADLINE QMP_DEADLINE_NO_WAIT: -EINPROGRESS when it is not done at once
 * (the caller polls for POLLOUT and reads SO_ERROR). */
static int connect_by(int fd, const struct sockaddr *sa, socklen_t len,
		      int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t errlen = sizeof(int);
	int r, err;

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return -errno;
	if (deadline == QMP_DEADLINE_NO_WAIT)
		return -EINPROGRESS;
	do {
		r = poll(&pfd, 1, qmp_deadline_left(deadline));
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
		return -errno;
	return -err;
}

static int connect_unix(const char *path, int64_t deadline, bool *pending,
			char *errbuf, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd, r;

	if (len == 0) {
		snprintf(errbuf, errlen, "empty socket path");
		return -EINVAL;
	}
	if (len >= sizeof(sun.sun_path)) {
		snprintf(errbuf, errlen, "socket path longer than %zu bytes: %s",
			 sizeof(sun.sun_path) - 1, path);
		return -EINVAL;
	}
	memcpy(sun.sun_path, path, len);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(errbuf, errlen, "socket: %s", strerror(-r));
		return r;
	}
	r = connect_by(fd, (struct sockaddr *)&sun, sizeof(sun), deadline);
	if (r == -EINPROGRESS && pending) {
		*pending = true;
		return fd;
	}
	if (r < 0) {
		close(fd);
		snprintf(errbuf, errlen, "cannot connect to %s: %s", path,
			 strerror(-r));
		return r;
	}
	return fd;
}

/* Split "HOST:PORT" or "[V6ADDR]:PORT" into HOST and PORT (in place). */
static int split_host_port(char *s, char **host, char **port)
{
	char *colon;

	if (*s == '[') {
		char *bracket = strchr(s, ']');

		if (!bracket || bracket[1] != ':')
			return -EINVAL;
		*bracket = '\0';
		*host = s + 1;
		*port = bracket + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		*colon = '\0';
		*host = s;
		*port = colon + 1;
	}
	if (**host == '\0' || **port == '\0' ||
	    strspn(*port, "0123456789") != strlen(*port) ||
	    strtoul(*port, NULL, 10) > 65535)
		return -EINVAL;
	return 0;
}

static int connect_tcp(const char *hostport, int64_t deadline, bool *pending,
		       char *errbuf, size_t errlen)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res, *ai;
	char *copy, *host, *port;
	int fd = -1, r, one = 1;

	copy = strdup(hostport);
	if (!copy)
		return -ENOMEM;
	if (split_host_port(copy, &host, &port) < 0) {
		snprintf(errbuf, errlen,
			 "bad address tcp:%s (want tcp:HOST:PORT)", hostport);
		r = -EINVAL;
		goto free_copy;
	}
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		snprintf(errbuf, errlen, "cannot resolve %s: %s", host,
			 gai_strerror(r));
		r = r == EAI_SYSTEM ? -errno : r == EAI_MEMORY ? -ENOMEM
							   : -EHOSTUNREACH;
		goto free_copy;
	}
	r = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		r = connect_by(fd, ai->ai_addr, ai->ai_addrlen, deadline);
		if (r == 0)
			break;
		if (r == -EINPROGRESS && pending) {
			/* the first address only: no fallback without waiting */
			*pending = true;
			r = 0;
			break;
		}
		close(fd);
		fd = -1;
		if (r == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(errbuf, errlen, "cannot connect to tcp:%s: %s",
			 hostport, strerror(-r));
		goto free_copy;
	}
	/* Requests and replies are small: send them at once. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	r = fd;
free_copy:
	free(copy);
	return r;
}

static int address_connect(const char *addr, int64_t deadline, bool *pending,
			   char *errbuf, size_t errlen)
{
	if (strncmp(addr, "unix:", 5) == 0)
		return connect_unix(addr + 5, deadline, pending, errbuf, errlen);
	if (strncmp(addr, "tcp:", 4) == 0)
		return connect_tcp(addr + 4, deadline, pending, errbuf, errlen);
	return connect_unix(addr, deadline, pending, errbuf, errlen);
}

int qmp_address_connect(const char *addr, int64_t deadline, char *errbuf,
			size_t errlen)
{
	return address_connect(addr, deadline, NULL, errbuf, errlen);
}

int qmp_address_connect_start(const char *addr, bool *pending, char *errbuf,
			      size_t errlen)
{
	*pending = false;
	return address_connect(addr, QMP_DEADLINE_NO_WAIT, pending, errbuf,
			       errlen);
}
