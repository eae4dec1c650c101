/* SPDX-License-Identifier: MIT */
/*
 * domain-scan.c - listing a libvirt URI's running domains off the caller's
 * loop: each listing runs in a detached thread (libvirt's calls block) and
 * leaves its result under a lock for the loop to pick up.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qmp/qmp.h>

#include "domain-scan.h"

struct domain_scan {
	pthread_mutex_t lock;
	int refs;		/* the owner's, and a listing's under way */
	char *uri;
	bool inactive;		/* shut-off domains too */
	bool running;		/* a listing is under way */
	bool done;		/* its result is here, not taken yet */
	int rc;			/* the count, or a negative errno */
	char **names;
	char err[256];
};

static void scan_unref(struct domain_scan *s)
{
	bool last;

	pthread_mutex_lock(&s->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (!last)
		return;
	qmp_strv_free(s->names);
	pthread_mutex_destroy(&s->lock);
	free(s->uri);
	free(s);
}

static void *list_domains(void *arg)
{
	struct domain_scan *s = arg;
	struct qmp *scratch = qmp_new();
	char **names = NULL;
	int rc = scratch ? qmp_libvirt_list_domains(scratch, s->uri, s->inactive, &names) :
		-ENOMEM;

	pthread_mutex_lock(&s->lock);
	qmp_strv_free(s->names);
	s->names = rc >= 0 ? names : NULL;
	s->rc = rc;
	snprintf(s->err, sizeof(s->err), "%s", rc >= 0 ? "" :
		 scratch && qmp_get_error_desc(scratch) ?
		 qmp_get_error_desc(scratch) : strerror(-rc));
	s->running = false;
	s->done = true;
	pthread_mutex_unlock(&s->lock);
	qmp_unref(scratch);
	scan_unref(s);
	return NULL;
}

struct domain_scan *domain_scan_new(const char *uri, bool inactive)
{
	struct domain_scan *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->uri = strdup(uri);
	if (!s->uri) {
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->refs = 1;
	s->inactive = inactive;
	return s;
}

int domain_scan_start(struct domain_scan *s)
{
	pthread_attr_t attr;
	pthread_t tid;
	int r;

	pthread_mutex_lock(&s->lock);
	if (s->running) {
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	s->running = true;
	s->refs++;		/* the thread's */
	pthread_mutex_unlock(&s->lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&tid, &attr, list_domains, s);
	pthread_attr_destroy(&attr);
	if (r) {
		pthread_mutex_lock(&s->lock);
		s->running = false;
		s->refs--;
		pthread_mutex_unlock(&s->lock);
		return -r;
	}
	return 0;
}

int domain_scan_take(struct domain_scan *s, char ***names, char *err,
		     size_t errlen)
{
	int rc = 0;

	*names = NULL;
	pthread_mutex_lock(&s->lock);
	if (s->done) {
		s->done = false;
		rc = s->rc < 0 ? s->rc : 1;
		*names = s->names;
		s->names = NULL;
		snprintf(err, errlen, "%s", s->err);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

struct domain_scan *domain_scan_free(struct domain_scan *s)
{
	if (s)
		scan_unref(s);
	return NULL;
}
