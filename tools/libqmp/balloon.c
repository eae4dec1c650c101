/* SPDX-License-Identifier: MIT */
/*
 * balloon.c - virtio-balloon helpers: logical size, target, finding the
 * device in the QOM tree, the stats polling interval and guest stats.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "libqmp-private.h"

/* QEMU's guest-stats keys, indexed by virtio stat tag (virtio 5.5.6.3,
 * "Memory Statistics Tags"). */
static const char *const stat_keys[QMP_STAT_COUNT] = {
	[QMP_STAT_SWAP_IN] = "stat-swap-in",
	[QMP_STAT_SWAP_OUT] = "stat-swap-out",
	[QMP_STAT_MAJOR_FAULTS] = "stat-major-faults",
	[QMP_STAT_MINOR_FAULTS] = "stat-minor-faults",
	[QMP_STAT_FREE_MEMORY] = "stat-free-memory",
	[QMP_STAT_TOTAL_MEMORY] = "stat-total-memory",
	[QMP_STAT_AVAILABLE_MEMORY] = "stat-available-memory",
	[QMP_STAT_DISK_CACHES] = "stat-disk-caches",
	[QMP_STAT_HTLB_PGALLOC] = "stat-htlb-pgalloc",
	[QMP_STAT_HTLB_PGFAIL] = "stat-htlb-pgfail",
	[QMP_STAT_OOM_KILLS] = "stat-oom-kills",
	[QMP_STAT_ALLOC_STALLS] = "stat-alloc-stalls",
	[QMP_STAT_ASYNC_SCANS] = "stat-async-scans",
	[QMP_STAT_DIRECT_SCANS] = "stat-direct-scans",
	[QMP_STAT_ASYNC_RECLAIMS] = "stat-async-reclaims",
	[QMP_STAT_DIRECT_RECLAIMS] = "stat-direct-reclaims",
};

/* QEMU reports a stat the guest never sent as 2^64-1. */
#define STAT_UNSET UINT64_MAX

/* The QOM types of a balloon device; for the pci and ccw proxies QEMU
 * aliases guest-stats* from the virtio-balloon-device inside them. */
static const char *const balloon_types[] = {
	"virtio-balloon-pci",
	"virtio-balloon-pci-transitional",
	"virtio-balloon-pci-non-transitional",
	"virtio-balloon-device",
	"virtio-balloon-ccw",
};

/* Bounds on the search of the rest of /machine: a q35 machine has about
 * 120 non-leaf objects, at most 3 levels below /machine. */
#define SEARCH_MAX_DEPTH	4
#define SEARCH_MAX_LISTS	256

#define POLLING_PROPERTY	"guest-stats-polling-interval"

QMP_EXPORT int qmp_balloon_query(struct qmp *q, uint64_t *actual)
{
	return qmp_execute_u64(q, "query-balloon", NULL, "actual", actual);
}

QMP_EXPORT int qmp_balloon_set_target(struct qmp *q, uint64_t target)
{
	struct json_object *args = json_object_new_object();
	int r;

	if (!args)
		return -ENOMEM;
	if (json_object_object_add(args, "value",
				   json_object_new_uint64(target)) < 0) {
		json_object_put(args);
		return -ENOMEM;
	}
	r = qmp_execute(q, "balloon", args, NULL);
	json_object_put(args);
	return r;
}

/* "child<TYPE>" with TYPE one of balloon_types. */
static bool is_balloon_child(const char *type)
{
	size_t i, n;

	if (strncmp(type, "child<", 6) != 0)
		return false;
	type += 6;
	for (i = 0; i < sizeof(balloon_types) / sizeof(balloon_types[0]); i++) {
		n = strlen(balloon_types[i]);
		if (strncmp(type, balloon_types[i], n) == 0 &&
		    strcmp(type + n, ">") == 0)
			return true;
	}
	return false;
}

/* A child worth descending into: not a link, and not one of the leaf
 * types that make up most of the tree. */
static bool is_searchable_child(const char *type)
{
	return strncmp(type, "child<", 6) == 0 &&
	       strcmp(type, "child<memory-region>") != 0 &&
	       strcmp(type, "child<irq>") != 0;
}

struct search_node {
	char *path;
	int depth;		/* levels below /machine */
};

/* /machine/peripheral and /machine/peripheral-anon: searched first, as
 * roots of their own, so not again as children of /machine. */
static bool is_peripheral_root(const struct search_node *parent,
			       const char *name)
{
	return parent->depth == 0 && (strcmp(name, "peripheral") == 0 ||
				      strcmp(name, "peripheral-anon") == 0);
}

static char *path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *path = malloc(dl + 1 + nl + 1);

	if (!path)
		return NULL;
	memcpy(path, dir, dl);
	path[dl] = '/';
	memcpy(path + dl + 1, name, nl + 1);
	return path;
}

/*
 * List NODE: on a balloon child, *found = its path and return 1; queue
 * the children worth a look into QUEUE (up to SEARCH_MAX_LISTS entries).
 */
static int search_node(struct qmp *q, const struct search_node *node,
		       struct search_node *queue, size_t *queued,
		       char **found)
{
	struct json_object *list, *entry, *name, *type;
	const char *n, *t;
	size_t i, len;
	int r;

	r = qmp_qom_list(q, node->path, &list);
	if (r == -EREMOTEIO) {	/* vanished or never there: not fatal */
		qmp_clear_error(q);
		return 0;
	}
	if (r < 0)
		return r;
	len = json_object_array_length(list);
	for (i = 0; i < len && r == 0; i++) {
		/* A member may be present and JSON null: json-c says so with
		 * true and a NULL value. */
		entry = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(entry, "name", &name) ||
		    !json_object_object_get_ex(entry, "type", &type) ||
		    !json_object_is_type(name, json_type_string) ||
		    !json_object_is_type(type, json_type_string)) {
			r = qmp_fail(q, -EPROTO,
				     "qom-list %s: an entry without a string \"name\" and \"type\"",
				     node->path);
			break;
		}
		n = json_object_get_string(name);
		t = json_object_get_string(type);
		if (is_balloon_child(t)) {
			*found = path_join(node->path, n);
			r = *found ? 1 : -ENOMEM;
		} else if (is_searchable_child(t) &&
			   node->depth < SEARCH_MAX_DEPTH &&
			   *queued < SEARCH_MAX_LISTS &&
			   !is_peripheral_root(node, n)) {
			queue[*queued].path = path_join(node->path, n);
			queue[*queued].depth = node->depth + 1;
			if (!queue[*queued].path)
				r = -ENOMEM;
			else
				++*queued;
		}
	}
	json_object_put(list);
	return r;
}

QMP_EXPORT int qmp_balloon_find_in_list(struct json_object *list,
					 const char *dir, char **path)
{
	struct json_object *entry, *name, *type;
	size_t i, len;

	*path = NULL;
	if (!json_object_is_type(list, json_type_array))
		return -EINVAL;
	len = json_object_array_length(list);
	for (i = 0; i < len; i++) {
		entry = json_object_array_get_idx(list, i);
		if (!json_object_object_get_ex(entry, "name", &name) ||
		    !json_object_object_get_ex(entry, "type", &type) ||
		    !json_object_is_type(name, json_type_string) ||
		    !json_object_is_type(type, json_type_string) ||
		    !is_balloon_child(json_object_get_string(type)))
			continue;
		*path = path_join(dir, json_object_get_string(name));
		return *path ? 0 : -ENOMEM;
	}
	return -ENODEV;
}

QMP_EXPORT int qmp_balloon_find(struct qmp *q, char **path)
{
	/* Breadth first: user-created devices live directly in
	 * /machine/peripheral (with id=) or /machine/peripheral-anon. */
	static const struct search_node roots[] = {
		{ "/machine/peripheral", 1 },
		{ "/machine/peripheral-anon", 1 },
		{ "/machine", 0 },
	};
	struct search_node *queue;
	size_t head, queued = 0, i;
	int r = 0;

	*path = NULL;
	queue = calloc(SEARCH_MAX_LISTS, sizeof(*queue));
	if (!queue)
		return -ENOMEM;
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		queue[queued].path = strdup(roots[i].path);
		queue[queued].depth = roots[i].depth;
		if (!queue[queued++].path) {
			r = -ENOMEM;
			goto free_queue;
		}
	}
	for (head = 0; head < queued && r == 0; head++)
		r = search_node(q, &queue[head], queue, &queued, path);
free_queue:
	for (i = 0; i < queued; i++)
		free(queue[i].path);
	free(queue);
	if (r == 0)
		return -ENODEV;
	return r < 0 ? r : 0;
}

QMP_EXPORT int qmp_balloon_get_polling(struct qmp *q, const char *path,
				       int64_t *seconds)
{
	struct json_object *value;
	int r;

	r = qmp_qom_get(q, path, POLLING_PROPERTY, &value);
	if (r < 0)
		return r;
	if (json_object_is_type(value, json_type_int) &&
	    json_object_get_int64(value) >= 0)
		*seconds = json_object_get_int64(value);
	else
		r = qmp_fail(q, -EPROTO, "%s is not a whole number of seconds",
			     POLLING_PROPERTY);
	json_object_put(value);
	return r;
}

QMP_EXPORT int qmp_balloon_set_polling(struct qmp *q, const char *path,
				       int64_t seconds)
{
	struct json_object *value = json_object_new_int64(seconds);
	int r;

	if (!value)
		return -ENOMEM;
	r = qmp_qom_set(q, path, POLLING_PROPERTY, value);
	json_object_put(value);
	return r;
}

QMP_EXPORT const char *qmp_balloon_stat_key(enum qmp_balloon_stat stat)
{
	return (unsigned)stat < QMP_STAT_COUNT ? stat_keys[stat] : NULL;
}

QMP_EXPORT bool qmp_balloon_stat_is_bytes(enum qmp_balloon_stat stat)
{
	switch (stat) {
	case QMP_STAT_SWAP_IN:
	case QMP_STAT_SWAP_OUT:
	case QMP_STAT_FREE_MEMORY:
	case QMP_STAT_TOTAL_MEMORY:
	case QMP_STAT_AVAILABLE_MEMORY:
	case QMP_STAT_DISK_CACHES:
		return true;
	default:
		return false;
	}
}

struct qmp_balloon_stats {
	struct json_object *raw;	/* QEMU's guest-stats object */
	uint64_t value[QMP_STAT_COUNT];	/* valid where known */
	uint64_t known;			/* bit (1ull << stat) set: value known */
	int64_t last_update;		/* seconds since epoch; 0: never */
};

QMP_EXPORT int qmp_balloon_stats_parse(struct json_object *obj,
				       struct qmp_balloon_stats **stp)
{
	struct json_object *stats, *value;
	struct qmp_balloon_stats *st;
	uint64_t v;
	int i;

	*stp = NULL;
	if (!json_object_object_get_ex(obj, "stats", &stats) ||
	    !json_object_is_type(stats, json_type_object))
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (i = 0; i < QMP_STAT_COUNT; i++) {
		if (!json_object_object_get_ex(stats, stat_keys[i], &value))
			continue;
		if (!qmp_json_get_u64(value, &v))
			goto malformed;
		if (v != STAT_UNSET) {
			st->value[i] = v;
			st->known |= 1ull << i;
		}
	}
	/* Seconds since the epoch, 0 before the first answer. */
	if (json_object_object_get_ex(obj, "last-update", &value)) {
		if (!json_object_is_type(value, json_type_int) ||
		    json_object_get_int64(value) < 0)
			goto malformed;
		st->last_update = json_object_get_int64(value);
	}
	st->raw = json_object_get(obj);
	*stp = st;
	return 0;

malformed:
	free(st);
	return -EINVAL;
}

QMP_EXPORT void qmp_balloon_stats_free(struct qmp_balloon_stats *st)
{
	if (!st)
		return;
	json_object_put(st->raw);
	free(st);
}

QMP_EXPORT bool qmp_balloon_stats_get(const struct qmp_balloon_stats *st,
				      enum qmp_balloon_stat stat,
				      uint64_t *value)
{
	if ((unsigned)stat >= QMP_STAT_COUNT || !(st->known & (1ull << stat)))
		return false;
	if (value)
		*value = st->value[stat];
	return true;
}

QMP_EXPORT int64_t
qmp_balloon_stats_last_update(const struct qmp_balloon_stats *st)
{
	return st->last_update;
}

QMP_EXPORT struct json_object *
qmp_balloon_stats_json(const struct qmp_balloon_stats *st)
{
	return st->raw;
}

QMP_EXPORT int qmp_balloon_get_stats(struct qmp *q, const char *path,
				     struct qmp_balloon_stats **st)
{
	struct json_object *obj;
	int r;

	*st = NULL;
	r = qmp_qom_get(q, path, "guest-stats", &obj);
	if (r < 0)
		return r;
	r = qmp_balloon_stats_parse(obj, st);
	if (r == -EINVAL)
		r = qmp_fail(q, -EPROTO, "malformed guest-stats from QEMU");
	json_object_put(obj);
	return r;
}
