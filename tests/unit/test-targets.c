/* SPDX-License-Identifier: MIT */
/*
 * test-targets.c - the record of the balloon targets vbctl set: where the
 * file goes ($XDG_RUNTIME_DIR, else a private /tmp directory), that a VM
 * is known by its socket and a QEMU started anew on it is not the same
 * VM, that the file is replaced whole, and that writers running at once
 * lose no record.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../tap.h"
#include "../../tools/vbctl/targets.h"

#define WRITERS 8
#define RECORDS_EACH 25

static char dir[] = "/tmp/test-targets-XXXXXX";

/* A listening unix socket at PATH, as QEMU makes one (anew each start). */
static int make_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 1) < 0)
		return -1;
	return fd;
}

static void test_where(void)
{
	char path[PATH_MAX], want[PATH_MAX];
	struct stat st;

	setenv("XDG_RUNTIME_DIR", dir, 1);
	snprintf(want, sizeof(want), "%s/vbctl/targets", dir);
	ok(vbctl_targets_path(path, sizeof(path)) == 0 && strcmp(path, want) == 0,
	   "the file is $XDG_RUNTIME_DIR/vbctl/targets (%s)", path);
	snprintf(want, sizeof(want), "%s/vbctl", dir);
	ok(stat(want, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	   "its directory is made, 0700");

	unsetenv("XDG_RUNTIME_DIR");
	snprintf(want, sizeof(want), "/tmp/vbctl-%ju/targets", (uintmax_t)geteuid());
	ok(vbctl_targets_path(path, sizeof(path)) == 0 && strcmp(path, want) == 0,
	   "without $XDG_RUNTIME_DIR: %s", path);
	setenv("XDG_RUNTIME_DIR", "relative/dir", 1);
	ok(vbctl_targets_path(path, sizeof(path)) == 0 && strcmp(path, want) == 0,
	   "a relative $XDG_RUNTIME_DIR is not used");

	/* A directory another user could write to is not ours to trust. */
	snprintf(want, sizeof(want), "%s/open", dir);
	mkdir(want, 0700);
	mkdir(strcat(want, "/vbctl"), 0777);
	chmod(want, 0777);
	snprintf(want, sizeof(want), "%s/open", dir);
	setenv("XDG_RUNTIME_DIR", want, 1);
	is_int(vbctl_targets_path(path, sizeof(path)), -EPERM,
	       "a vbctl directory others may write to is refused");
	setenv("XDG_RUNTIME_DIR", dir, 1);
}

static void test_identity(void)
{
	char sock[PATH_MAX], link[PATH_MAX], rel[PATH_MAX];
	char place[VBCTL_TARGET_KEY_MAX], ident[VBCTL_TARGET_KEY_MAX];
	char place2[VBCTL_TARGET_KEY_MAX], ident2[VBCTL_TARGET_KEY_MAX];
	uint64_t target = 0;
	int fd;

	snprintf(sock, sizeof(sock), "%s/qmp.sock", dir);
	snprintf(link, sizeof(link), "%s/vm1.sock", dir);
	fd = make_socket(sock);
	ok(fd >= 0 && symlink(sock, link) == 0, "a QMP-like socket and a link to it");

	ok(vbctl_target_key(NULL, sock, place, ident, sizeof(place)) == 0 &&
	   strncmp(place, "unix:", 5) == 0 && strstr(place, "qmp.sock"),
	   "a socket's place is its path (%s)", place);
	ok(vbctl_target_key(NULL, link, place2, ident2, sizeof(place2)) == 0 &&
	   strcmp(place, place2) == 0 && strcmp(ident, ident2) == 0,
	   "by a symlink it is the same VM");
	snprintf(rel, sizeof(rel), "unix:%s", sock);
	ok(vbctl_target_key(NULL, rel, place2, ident2, sizeof(place2)) == 0 &&
	   strcmp(place, place2) == 0, "unix:PATH is the same VM");
	is_int(vbctl_target_key(NULL, "tcp:127.0.0.1:4444", place2, ident2, sizeof(place2)),
	       -ENOENT, "a tcp: address has no identity vbctl could check");
	is_int(vbctl_target_key(NULL, "tls:localhost:4444", place2, ident2, sizeof(place2)),
	       -ENOENT, "nor has a tls: one");

	ok(vbctl_target_record(NULL, link, 123 << 20) == 0, "a target recorded");
	ok(vbctl_target_recall(NULL, sock, &target) == 0 && target == 123 << 20,
	   "and found again by the socket's own path");

	/* QEMU started again: a new socket at the same path. */
	close(fd);
	fd = make_socket(sock);
	ok(vbctl_target_key(NULL, sock, place2, ident2, sizeof(place2)) == 0 &&
	   strcmp(place, place2) == 0 && strcmp(ident, ident2) != 0,
	   "a socket made anew at the same path is another run of the VM");
	is_int(vbctl_target_recall(NULL, sock, &target), -ENOENT,
	       "so the target recorded for the last run is not shown");
	ok(vbctl_target_record(NULL, sock, 77 << 20) == 0 &&
	   vbctl_target_recall(NULL, link, &target) == 0 && target == 77 << 20,
	   "a new target for the new run replaces it");
	close(fd);
	unlink(link);
	unlink(sock);
}

/* How many files in DIR start with PREFIX. */
static int leftovers(const char *dirname, const char *prefix)
{
	DIR *d = opendir(dirname);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	if (d)
		closedir(d);
	return n;
}

static void test_file(void)
{
	char path[PATH_MAX], key[64];
	struct json_object *all;
	uint64_t target;
	int i, j, found, status, bad = 0;
	pid_t pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/file-targets", dir);
	is_int(vbctl_targets_get(path, "unix:/a", "1", &target), -ENOENT,
	       "nothing recorded in a missing file");
	ok(vbctl_targets_put(path, "unix:/a", "1", 5) == 0 &&
	   vbctl_targets_get(path, "unix:/a", "1", &target) == 0 && target == 5,
	   "put, then get");
	is_int(vbctl_targets_get(path, "unix:/a", "2", &target), -ENOENT,
	       "another identity at the same place: not found");

	/* A file that is not ours (garbage) is started afresh. */
	f = fopen(path, "w");
	if (f) {
		fputs("{ not json", f);
		fclose(f);
	}
	ok(vbctl_targets_put(path, "unix:/b", "1", 6) == 0 &&
	   vbctl_targets_get(path, "unix:/b", "1", &target) == 0 && target == 6,
	   "a damaged file is replaced");

	/* Writers at once, each its own VMs: every record is there. */
	for (i = 0; i < WRITERS; i++) {
		pid = fork();
		if (pid == 0) {
			for (j = 0; j < RECORDS_EACH; j++) {
				snprintf(key, sizeof(key), "unix:/w%d/%d", i, j);
				if (vbctl_targets_put(path, key, "x", (uint64_t)(i * 1000 + j)))
					_exit(1);
			}
			_exit(0);
		}
	}
	for (i = 0; i < WRITERS; i++) {
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	is_int(bad, 0, "%d writers at once, %d records each: none failed",
	       WRITERS, RECORDS_EACH);
	found = 0;
	for (i = 0; i < WRITERS; i++)
		for (j = 0; j < RECORDS_EACH; j++) {
			snprintf(key, sizeof(key), "unix:/w%d/%d", i, j);
			found += vbctl_targets_get(path, key, "x", &target) == 0 &&
				 target == (uint64_t)(i * 1000 + j);
		}
	is_int(found, WRITERS * RECORDS_EACH, "every record is there");
	all = json_object_from_file(path);
	ok(json_object_is_type(all, json_type_object),
	   "the file is whole JSON (replaced by rename, never half-written)");
	json_object_put(all);
	/* file-targets.lock stays; no file-targets.XXXXXX is left over. */
	is_int(leftovers(dir, "file-targets."), 1, "no temporary file is left beside it");

	/* It keeps at most 256 VMs, dropping those set longest ago. */
	for (i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "unix:/many/%d", i);
		vbctl_targets_put(path, key, "x", 1);
	}
	all = json_object_from_file(path);
	is_int(json_object_object_length(all), 256, "the file keeps at most 256 VMs");
	json_object_put(all);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("1..0 # SKIP mkdtemp: %s\n", strerror(errno));
		return 77;
	}
	test_where();
	test_identity();
	test_file();
	{
		char cmd[PATH_MAX];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", dir);
	}
	return tap_done();
}
