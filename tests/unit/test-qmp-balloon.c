/* SPDX-License-Identifier: MIT */
/*
 * test-qmp-balloon.c - libqmp's balloon helpers (find the device in the
 * QOM tree, guest statistics, the polling interval) against a fake QOM
 * tree answered by qmp-fake.h's responder.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>

#include <json-c/json.h>

#include "tap.h"
#include "qmp-fake.h"

/* ---- balloon helpers against a fake QOM tree --------------------------- */

struct qom_node {
	const char *path;
	const char *children;	/* qom-list's return value, JSON */
};

struct responder {
	const struct qom_node *tree;
	bool endless;		/* unknown /machine paths have 2 children */
	int lists;		/* qom-list calls answered */
	char listed[64][96];	/* the first paths listed */
	char last_set[256];	/* the last qom-set request, as sent */
	int64_t polling;
};

static char *respond(void *ctx, struct json_object *req)
{
	struct responder *r = ctx;
	struct json_object *cmd, *args = NULL, *o;
	const char *command, *path = "", *prop = "";
	char *out = malloc(4096);
	int i;

	json_object_object_get_ex(req, "execute", &cmd);
	command = json_object_get_string(cmd);
	if (json_object_object_get_ex(req, "arguments", &args)) {
		if (json_object_object_get_ex(args, "path", &o))
			path = json_object_get_string(o);
		if (json_object_object_get_ex(args, "property", &o))
			prop = json_object_get_string(o);
	}
	if (!strcmp(command, "qmp_capabilities")) {
		strcpy(out, "{}");
	} else if (!strcmp(command, "qom-list")) {
		if (r->lists < 64)
			snprintf(r->listed[r->lists], sizeof(r->listed[0]), "%s",
				 path);
		r->lists++;
		for (i = 0; r->tree[i].path; i++)
			if (!strcmp(r->tree[i].path, path))
				break;
		if (r->tree[i].path)
			snprintf(out, 4096, "%s", r->tree[i].children);
		else if (r->endless && !strncmp(path, "/machine/", 9))
			strcpy(out, "[{\"name\": \"x\", \"type\": \"child<container>\"},"
			       " {\"name\": \"y\", \"type\": \"child<container>\"}]");
		else
			snprintf(out, 4096, "ERROR DeviceNotFound");
	} else if (!strcmp(command, "qom-get") && !strcmp(prop, "guest-stats")) {
		strcpy(out, "{\"stats\": {\"stat-swap-in\": 0, "
		       "\"stat-free-memory\": 1048576, "
		       "\"stat-total-memory\": 18446744073709551615, "
		       "\"stat-from-the-future\": 3, "
		       "\"stat-oom-kills\": 2}, \"last-update\": 1700000001}");
	} else if (!strcmp(command, "qom-get") &&
		   !strcmp(prop, "guest-stats-polling-interval")) {
		snprintf(out, 4096, "%lld", (long long)r->polling);
	} else if (!strcmp(command, "qom-set")) {
		snprintf(r->last_set, sizeof(r->last_set), "%s", plain(req));
		json_object_object_get_ex(args, "value", &o);
		r->polling = json_object_get_int64(o);
		strcpy(out, "{}");
	} else if (!strcmp(command, "query-memory-size-summary")) {
		strcpy(out, "{\"base-memory\": 2147483648, \"plugged-memory\": 0}");
	} else {
		strcpy(out, "ERROR CommandNotFound");
	}
	return out;
}

static int listed_count(const struct responder *r, const char *path)
{
	int i, n = 0;

	for (i = 0; i < r->lists && i < 64; i++)
		n += !strcmp(r->listed[i], path);
	return n;
}

/* Find the balloon in TREE; expect WANT (a path, or NULL for -ENODEV). */
static struct responder find_in(const char *what, const struct qom_node *tree,
				bool endless, const char *want)
{
	struct responder r = { .tree = tree, .endless = endless };
	struct responder_server s;
	struct qmp *q = responder_start(&s, respond, &r);
	char *path = NULL;

	is_int(qmp_balloon_find(q, &path), want ? 0 : -ENODEV,
	       "%s: balloon_find %s", what, want ? "finds it" : "-ENODEV");
	is_str(path, want, "%s: path", what);
	ok(!qmp_is_broken(q), "%s: connection still fine", what);
	free(path);
	responder_stop(&s, q);
	return r;
}

#define EMPTY "[{\"name\": \"type\", \"type\": \"string\"}]"

static void test_balloon_find(void)
{
	static const struct qom_node with_id[] = {
		{ "/machine/peripheral", "[{\"name\": \"type\", \"type\": \"string\"},"
		  " {\"name\": \"balloon0\", \"type\": "
		  "\"child<virtio-balloon-pci-non-transitional>\"}]" },
		{ NULL, NULL },
	};
	static const struct qom_node anon[] = {
		{ "/machine/peripheral", EMPTY },
		{ "/machine/peripheral-anon",
		  "[{\"name\": \"device[0]\", \"type\": \"child<virtio-net-pci>\"},"
		  " {\"name\": \"device[1]\", \"type\": "
		  "\"link<virtio-balloon-pci>\"},"
		  " {\"name\": \"device[2]\", \"type\": "
		  "\"child<virtio-balloon-pci-transitional>\"}]" },
		{ NULL, NULL },
	};
	static const struct qom_node ccw[] = {
		{ "/machine/peripheral", EMPTY },
		{ "/machine/peripheral-anon",
		  "[{\"name\": \"device[0]\", \"type\": "
		  "\"child<virtio-balloon-ccw>\"}]" },
		{ NULL, NULL },
	};
	/* A board-made mmio balloon deep in /machine; the peripheral
	 * containers hold a net device whose backend must not be entered
	 * before the rest of /machine is looked at. */
	static const struct qom_node deep[] = {
		{ "/machine/peripheral", EMPTY },
		{ "/machine/peripheral-anon",
		  "[{\"name\": \"device[0]\", \"type\": \"child<virtio-net-pci>\"}]" },
		{ "/machine",
		  "[{\"name\": \"peripheral\", \"type\": \"child<container>\"},"
		  " {\"name\": \"peripheral-anon\", \"type\": \"child<container>\"},"
		  " {\"name\": \"pc.ram\", \"type\": \"child<memory-region>\"},"
		  " {\"name\": \"ioapic\", \"type\": \"link<ioapic>\"},"
		  " {\"name\": \"unattached\", \"type\": \"child<container>\"}]" },
		{ "/machine/unattached",
		  "[{\"name\": \"gpio[0]\", \"type\": \"child<irq>\"},"
		  " {\"name\": \"device[3]\", \"type\": \"child<virtio-mmio>\"}]" },
		{ "/machine/peripheral-anon/device[0]", EMPTY },
		{ "/machine/unattached/device[3]",
		  "[{\"name\": \"bus\", \"type\": \"child<virtio-mmio-bus>\"}]" },
		{ "/machine/unattached/device[3]/bus",
		  "[{\"name\": \"balloon\", \"type\": "
		  "\"child<virtio-balloon-device>\"}]" },
		{ NULL, NULL },
	};
	static const struct qom_node none[] = {
		{ "/machine", "[{\"name\": \"unattached\", \"type\": "
		  "\"child<container>\"}]" },
		{ NULL, NULL },
	};
	struct responder r;

	r = find_in("id=balloon0", with_id, false,
		    "/machine/peripheral/balloon0");
	is_int(r.lists, 1, "id=balloon0: one qom-list");
	r = find_in("anonymous", anon, false,
		    "/machine/peripheral-anon/device[2]");
	is_int(r.lists, 2, "anonymous: two qom-lists, links not followed");
	find_in("ccw", ccw, false, "/machine/peripheral-anon/device[0]");
	r = find_in("deep mmio", deep, false,
		    "/machine/unattached/device[3]/bus/balloon");
	is_int(listed_count(&r, "/machine/peripheral"), 1,
	       "deep mmio: /machine/peripheral listed once");
	ok(!listed_count(&r, "/machine/pc.ram") &&
	   !listed_count(&r, "/machine/unattached/gpio[0]"),
	   "deep mmio: memory regions and irqs not entered");
	r = find_in("no balloon, endless tree", none, true, NULL);
	ok(r.lists > 10 && r.lists <= 300,
	   "endless tree: search bounded (%d qom-lists)", r.lists);
}

static void test_balloon_stats(void)
{
	static const struct qom_node tree[] = { { NULL, NULL } };
	struct responder r = { .tree = tree, .polling = 0 };
	struct responder_server s;
	struct qmp_balloon_stats *st;
	struct json_object *obj;
	struct qmp *q;
	int64_t secs = -1;
	uint64_t base = 0, value = 0;
	int i, known;

	q = responder_start(&s, respond, &r);
	is_int(qmp_balloon_get_stats(q, "/machine/peripheral/b", &st), 0,
	       "guest-stats read");
	ok(qmp_balloon_stats_get(st, QMP_STAT_SWAP_IN, &value) && value == 0,
	   "a stat of 0 is known, 0");
	ok(qmp_balloon_stats_get(st, QMP_STAT_FREE_MEMORY, &value), "free known");
	is_u64(value, 1048576, "free memory value");
	ok(!qmp_balloon_stats_get(st, QMP_STAT_TOTAL_MEMORY, NULL),
	   "2^64-1 means unknown");
	ok(!qmp_balloon_stats_get(st, QMP_STAT_DISK_CACHES, NULL),
	   "absent means unknown");
	ok(qmp_balloon_stats_get(st, QMP_STAT_OOM_KILLS, &value) && value == 2,
	   "a newer tag (oom-kills) read");
	for (i = 0, known = 0; i < QMP_STAT_COUNT; i++)
		known += qmp_balloon_stats_get(st, i, NULL);
	is_int(known, 3, "exactly three known; unknown key ignored");
	is_int(qmp_balloon_stats_last_update(st), 1700000001, "last-update");
	ok(!qmp_balloon_stats_get(st, QMP_STAT_COUNT, &value),
	   "out-of-range stat is never known");
	ok(json_object_object_get_ex(qmp_balloon_stats_json(st), "stats", &obj) &&
	   json_object_object_get_ex(obj, "stat-from-the-future", NULL),
	   "the object as QEMU sent it, unknown keys included");
	qmp_balloon_stats_free(st);

	is_int(qmp_balloon_set_polling(q, "/machine/peripheral/b", 5), 0,
	       "set polling interval");
	is_int(qmp_balloon_get_polling(q, "/machine/peripheral/b", &secs), 0,
	       "get polling interval");
	is_int(secs, 5, "polling interval reads back");
	is_int(qmp_memory_base_size(q, &base), 0, "query-memory-size-summary");
	is_u64(base, 2147483648u, "base memory");
	is_int(qmp_balloon_query(q, &base), -EREMOTEIO,
	       "query-balloon without a balloon: the QMP error");
	is_str(qmp_get_error_class(q), "CommandNotFound", "its class");
	responder_stop(&s, q);
	is_str(r.last_set, "{\"execute\":\"qom-set\",\"arguments\":{\"path\":"
	       "\"/machine/peripheral/b\",\"property\":"
	       "\"guest-stats-polling-interval\",\"value\":5},\"id\":3}",
	       "qom-set request as sent");

	obj = json_tokener_parse("{\"last-update\": 0}");
	is_int(qmp_balloon_stats_parse(obj, &st), -EINVAL,
	       "parse: no \"stats\": -EINVAL");
	json_object_put(obj);
	obj = json_tokener_parse("{\"stats\": {\"stat-free-memory\": -1}, "
				 "\"last-update\": 0}");
	is_int(qmp_balloon_stats_parse(obj, &st), -EINVAL,
	       "parse: negative value: -EINVAL");
	ok(st == NULL, "no stats after a failed parse");
	json_object_put(obj);
	obj = json_tokener_parse("{\"stats\": {}, \"last-update\": 0}");
	is_int(qmp_balloon_stats_parse(obj, &st), 0, "parse: empty stats");
	for (i = 0, known = 0; i < QMP_STAT_COUNT; i++)
		known += qmp_balloon_stats_get(st, i, NULL);
	ok(known == 0 && qmp_balloon_stats_last_update(st) == 0,
	   "nothing known, never updated");
	json_object_put(obj);
	ok(qmp_balloon_stats_json(st) != NULL, "the sample keeps its own reference");
	qmp_balloon_stats_free(st);
	qmp_balloon_stats_free(NULL);

	is_str(qmp_balloon_stat_key(QMP_STAT_FREE_MEMORY), "stat-free-memory",
	       "stat key of free memory");
	is_str(qmp_balloon_stat_key(QMP_STAT_DIRECT_RECLAIMS),
	       "stat-direct-reclaims", "stat key of the last tag");
	ok(qmp_balloon_stat_key(QMP_STAT_COUNT) == NULL, "no key past the end");
	ok(qmp_balloon_stat_is_bytes(QMP_STAT_DISK_CACHES) &&
	   !qmp_balloon_stat_is_bytes(QMP_STAT_MAJOR_FAULTS),
	   "disk caches in bytes, major faults a count");
}

static void test_balloon_find_in_list(void)
{
	struct json_object *list;
	char *path = NULL;

	list = json_tokener_parse("[{\"name\": \"type\", \"type\": \"string\"},"
				  " {\"name\": \"x\", \"type\": null},"
				  " {\"name\": \"device[0]\", \"type\": \"child<virtio-balloon-pci>\"}]");
	is_int(qmp_balloon_find_in_list(list, "/machine/peripheral-anon", &path), 0,
	       "find_in_list: a balloon child");
	is_str(path, "/machine/peripheral-anon/device[0]", "  its path");
	free(path);
	json_object_put(list);
	list = json_tokener_parse("[{\"name\": \"net0\", \"type\": \"child<virtio-net-pci>\"},"
				  " {\"name\": \"b\", \"type\": \"link<virtio-balloon-pci>\"}]");
	is_int(qmp_balloon_find_in_list(list, "/machine/peripheral", &path), -ENODEV,
	       "find_in_list: none (a link is not the device)");
	ok(path == NULL, "  no path");
	json_object_put(list);
	list = json_object_new_object();
	is_int(qmp_balloon_find_in_list(list, "/machine", &path), -EINVAL,
	       "find_in_list: not a list");
	json_object_put(list);
}

int main(void)
{
	/* As in test-connection: MSG_NOSIGNAL is what keeps us alive. */
	signal(SIGPIPE, SIG_DFL);
	test_balloon_find();
	test_balloon_stats();
	test_balloon_find_in_list();
	return tap_done();
}
