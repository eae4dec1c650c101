/* SPDX-License-Identifier: MIT */
/*
 * targets.c - the balloon targets vbctl gave, kept per VM in a small
 * per-user file so that top and list can show them (QMP never reports a
 * target). targets.h says where the file is and how a VM is known.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qmp/qmp.h>

#include "targets.h"
#include "vbctl.h"

/* The file keeps at most this many VMs; the least recently set go. */
#define TARGETS_MAX_ENTRIES 256

/* ---- who a VM is -------------------------------------------------------------- */

/* A libvirt connection's greeting names the domain (libvirt.c). */
static int libvirt_key(struct json_object *greeting, char *place, char *ident,
		       size_t len)
{
	struct json_object *qmp, *lv, *uri, *uuid, *id;

	if (!json_object_object_get_ex(greeting, "QMP", &qmp) ||
	    !json_object_object_get_ex(qmp, "libvirt", &lv) ||
	    !json_object_object_get_ex(lv, "uri", &uri) ||
	    !json_object_object_get_ex(lv, "uuid", &uuid) ||
	    !json_object_object_get_ex(lv, "id", &id) ||
	    !json_object_is_type(uri, json_type_string) ||
	    !json_object_is_type(uuid, json_type_string) ||
	    !json_object_is_type(id, json_type_int))
		return -ENOENT;
	snprintf(place, len, "libvirt:%s %s", json_object_get_string(uri),
		 json_object_get_string(uuid));
	/* libvirt gives a domain a new id each time it starts. */
	snprintf(ident, len, "id %" PRId64, json_object_get_int64(id));
	return 0;
}

int vbctl_target_key(struct qmp *q, const char *addr, char *place,
		     char *ident, size_t len)
{
	char real[PATH_MAX];
	const char *path;
	struct stat st;

	if (q && libvirt_key(qmp_get_greeting(q), place, ident, len) == 0)
		return 0;
	if (!addr || strncmp(addr, "tcp:", 4) == 0 ||
	    strncmp(addr, "tls:", 4) == 0 || strstr(addr, " domain "))
		return -ENOENT;
	path = strncmp(addr, "unix:", 5) == 0 ? addr + 5 : addr;
	/* The same socket by a symlink or a relative path is the same VM. */
	if (!realpath(path, real) || stat(real, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOENT;
	snprintf(place, len, "unix:%s", real);
	/* QEMU makes its socket anew each time it starts: a new inode, or
	 * at least a new change time. */
	snprintf(ident, len, "%ju %ju %lld.%09ld", (uintmax_t)st.st_dev,
		 (uintmax_t)st.st_ino, (long long)st.st_ctim.tv_sec,
		 st.st_ctim.tv_nsec);
	return 0;
}

/* ---- where ---------------------------------------------------------------- */

/* A directory of ours: made 0700 if missing, and refused if someone
 * else owns it or may write to it (/tmp is shared). */
static int own_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022))
		return -EPERM;
	return 0;
}

int vbctl_targets_path(char *buf, size_t len)
{
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	char dir[PATH_MAX];
	int r;

	if (runtime && runtime[0] == '/')
		snprintf(dir, sizeof(dir), "%s/vbctl", runtime);
	else
		snprintf(dir, sizeof(dir), "/tmp/vbctl-%ju", (uintmax_t)geteuid());
	r = own_dir(dir);
	if (r)
		return r;
	if ((size_t)snprintf(buf, len, "%s/targets", dir) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- the file ---------------------------------------------------------------- */

/* The file's object; an empty one when it is missing or not ours. */
static struct json_object *load(const char *path)
{
	struct json_object *all = json_object_from_file(path);

	if (!json_object_is_type(all, json_type_object)) {
		json_object_put(all);
		all = json_object_new_object();
	}
	return all;
}

int vbctl_targets_get(const char *path, const char *place, const char *ident,
		      uint64_t *target)
{
	struct json_object *all, *entry, *id, *t;
	int r = -ENOENT;

	/* No lock: a writer replaces the file whole (rename). */
	all = load(path);
	if (json_object_object_get_ex(all, place, &entry) &&
	    json_object_object_get_ex(entry, "ident", &id) &&
	    json_object_object_get_ex(entry, "target", &t) &&
	    json_object_is_type(id, json_type_string) &&
	    json_object_is_type(t, json_type_int) &&
	    strcmp(json_object_get_string(id), ident) == 0) {
		*target = json_object_get_uint64(t);
		r = 0;
	}
	json_object_put(all);
	return r;
}

/* Over TARGETS_MAX_ENTRIES: the entry set longest ago goes. */
static void prune(struct json_object *all)
{
	while (json_object_object_length(all) > TARGETS_MAX_ENTRIES) {
		const char *oldest = NULL;
		int64_t oldest_s = INT64_MAX;
		struct json_object *when;

		json_object_object_foreach(all, key, entry) {
			int64_t s = json_object_object_get_ex(entry, "time", &when) ?
				    json_object_get_int64(when) : 0;

			if (s < oldest_s) {
				oldest_s = s;
				oldest = key;
			}
		}
		json_object_object_del(all, oldest);
	}
}

/* Write ALL beside PATH and rename it over PATH. */
static int replace(const char *path, struct json_object *all)
{
	const char *text = json_object_to_json_string_ext(all,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(text), done = 0;
	char tmp[PATH_MAX];
	ssize_t n;
	int fd, r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (r == 0 && done < len) {
		n = write(fd, text + done, len - done);
		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			done += (size_t)n;
	}
	if (r == 0 && write(fd, "\n", 1) != 1)
		r = -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int vbctl_targets_put(const char *path, const char *place, const char *ident,
		      uint64_t target)
{
	struct json_object *all, *entry;
	char lock[PATH_MAX];
	int fd, r;

	/* Read, change, replace under one lock: two vbctl setting targets
	 * at once must not drop each other's record. */
	if ((size_t)snprintf(lock, sizeof(lock), "%s.lock", path) >= sizeof(lock))
		return -ENAMETOOLONG;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	all = load(path);
	entry = json_object_new_object();
	json_object_object_add(entry, "ident", json_object_new_string(ident));
	json_object_object_add(entry, "target", json_object_new_uint64(target));
	json_object_object_add(entry, "time", json_object_new_int64((int64_t)time(NULL)));
	/* One entry per place: a VM started again replaces the last one. */
	json_object_object_add(all, place, entry);
	prune(all);
	r = replace(path, all);
	json_object_put(all);
	close(fd);	/* and the lock with it */
	return r;
}

/* ---- for the commands --------------------------------------------------------- */

/* The file, and the VM's place and identity in it. */
static int locate(struct qmp *q, const char *addr, char *path, char *place,
		  char *ident)
{
	int r = vbctl_target_key(q, addr, place, ident, VBCTL_TARGET_KEY_MAX);

	return r ? r : vbctl_targets_path(path, PATH_MAX);
}

int vbctl_target_record(struct qmp *q, const char *addr, uint64_t target)
{
	char place[VBCTL_TARGET_KEY_MAX], ident[VBCTL_TARGET_KEY_MAX];
	char path[PATH_MAX];
	int r = locate(q, addr, path, place, ident);

	return r ? r : vbctl_targets_put(path, place, ident, target);
}

int vbctl_target_recall(struct qmp *q, const char *addr, uint64_t *target)
{
	char place[VBCTL_TARGET_KEY_MAX], ident[VBCTL_TARGET_KEY_MAX];
	char path[PATH_MAX];
	int r = locate(q, addr, path, place, ident);

	return r ? r : vbctl_targets_get(path, place, ident, target);
}

void vbctl_target_remember(struct vbctl *v, struct qmp *q, const char *addr,
			   uint64_t target)
{
	int r = vbctl_target_record(q, addr, target);

	if (r && r != -ENOENT && v->verbose)
		fprintf(stderr, "vbctl: note: the target for %s was set but not recorded for top and list: %s\n",
			addr, strerror(-r));
}
