/* SPDX-License-Identifier: MIT */
/*
 * test-libqmp-qemu.c - libqmp against a real qemu-system-x86_64 (no guest):
 * negotiation, balloon helpers, events, errors, QEMU without a balloon and
 * QEMU killed under a waiting client.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tap.h"
#include "qmp/qmp.h"

#define MIB (1024ull * 1024)

static char tmpdir[] = "/tmp/test-libqmp-qemu-XXXXXX";

struct vm {
	pid_t pid;
	char sock[128];
	struct qmp *q;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void vm_kill(struct vm *vm)
{
	if (vm->pid > 0) {
		kill(vm->pid, SIGKILL);
		waitpid(vm->pid, NULL, 0);
		vm->pid = 0;
	}
	vm->q = qmp_unref(vm->q);
	unlink(vm->sock);
}

/* Start QEMU with EXTRA device arguments and connect to its QMP socket,
 * retrying while QEMU creates it (30 s at most: TCG on a busy machine). */
static bool vm_start(struct vm *vm, const char *name, const char *device)
{
	const char *qemu = getenv("QEMU");
	char qmp_arg[160];
	int64_t deadline;
	int r = -1;

	snprintf(vm->sock, sizeof(vm->sock), "%s/%s.sock", tmpdir, name);
	snprintf(qmp_arg, sizeof(qmp_arg), "unix:%s,server=on,wait=off",
		 vm->sock);
	vm->pid = fork();
	if (vm->pid == 0) {
		/* Never outlive the test, whatever kills it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (device)
			execlp(qemu, qemu, "-accel", "tcg", "-machine", "q35",
			       "-nodefaults", "-display", "none", "-m", "256M",
			       "-device", device, "-qmp", qmp_arg, (char *)NULL);
		else
			execlp(qemu, qemu, "-accel", "tcg", "-machine", "q35",
			       "-nodefaults", "-display", "none", "-m", "256M",
			       "-qmp", qmp_arg, (char *)NULL);
		_exit(127);
	}
	deadline = now_ms() + 30000;
	while (now_ms() < deadline) {
		vm->q = qmp_new();
		r = qmp_connect(vm->q, vm->sock);
		if (r == 0)
			break;
		vm->q = qmp_unref(vm->q);
		if (waitpid(vm->pid, NULL, WNOHANG) == vm->pid) {
			vm->pid = 0;
			break;
		}
		usleep(20000);	/* QEMU is still starting */
	}
	return ok(r == 0, "%s: QEMU started and libqmp connected", name);
}

static void test_balloon_vm(void)
{
	struct vm vm = { 0 };
	struct json_object *v, *ev, *stats;
	struct qmp_balloon_stats *st = NULL;
	int major = 0, minor = 0, micro = 0;
	uint64_t bytes = 0;
	int64_t secs = -1;
	char *path = NULL;
	size_t i, n;
	bool found;

	if (!vm_start(&vm, "balloon", "virtio-balloon-pci,id=balloon0"))
		goto out;
	is_int(qmp_get_version(vm.q, &major, &minor, &micro), 0, "version");
	ok(major >= 7, "QEMU %d.%d.%d", major, minor, micro);
	is_int(qmp_balloon_query(vm.q, &bytes), 0, "query-balloon");
	is_u64(bytes, 256 * MIB, "actual = 256 MiB");
	is_int(qmp_memory_base_size(vm.q, &bytes), 0, "memory size");
	is_u64(bytes, 256 * MIB, "base memory = 256 MiB");

	is_int(qmp_balloon_find(vm.q, &path), 0, "balloon found");
	is_str(path, "/machine/peripheral/balloon0", "at its id");
	if (!path)
		goto out;
	is_int(qmp_qom_list(vm.q, path, &v), 0, "qom-list of the device");
	n = v ? json_object_array_length(v) : 0;
	for (i = 0, found = false; i < n; i++) {
		struct json_object *name;

		json_object_object_get_ex(json_object_array_get_idx(v, i),
					  "name", &name);
		found |= !strcmp(json_object_get_string(name), "guest-stats");
	}
	ok(found, "the pci proxy has guest-stats (aliased)");
	json_object_put(v);

	is_int(qmp_qom_get(vm.q, path, "guest-stats", &v), 0, "raw guest-stats");
	ok(json_object_object_get_ex(v, "stats", &stats) &&
	   json_object_object_get_ex(stats, "stat-free-memory", &stats) &&
	   json_object_get_uint64(stats) == UINT64_MAX,
	   "no guest: QEMU says 18446744073709551615, kept whole");
	json_object_put(v);
	is_int(qmp_balloon_get_stats(vm.q, path, &st), 0, "stats parsed");
	for (i = 0, n = 0; i < QMP_STAT_COUNT; i++)
		n += st && qmp_balloon_stats_get(st, i, NULL);
	ok(st && n == 0 && qmp_balloon_stats_last_update(st) == 0,
	   "no guest driver: nothing known, never updated");
	qmp_balloon_stats_free(st);
	is_int(qmp_balloon_set_polling(vm.q, path, 2), 0, "polling set to 2 s");
	is_int(qmp_balloon_get_polling(vm.q, path, &secs), 0, "polling read");
	is_int(secs, 2, "polling is 2 s");
	is_int(qmp_balloon_set_target(vm.q, 128 * MIB), 0,
	       "target 128 MiB accepted (nobody will act on it)");

	is_int(qmp_execute(vm.q, "no-such-command", NULL, NULL), -EREMOTEIO,
	       "unknown command: -EREMOTEIO");
	is_str(qmp_get_error_class(vm.q), "CommandNotFound", "CommandNotFound");
	ok(!qmp_is_broken(vm.q), "connection fine");

	is_int(qmp_execute(vm.q, "stop", NULL, NULL), 0, "stop");
	is_int(qmp_wait_event(vm.q, "STOP", 10000, &ev), 0, "STOP event");
	ok(ev && qmp_event_timestamp_us(ev) > 0, "with a timestamp");
	json_object_put(ev);
	is_int(qmp_execute(vm.q, "cont", NULL, NULL), 0, "cont");
	is_int(qmp_wait_event(vm.q, "RESUME", 10000, &ev), 0, "RESUME event");
	json_object_put(ev);

	/* QEMU dies while the client waits: an error at once, no hang. */
	kill(vm.pid, SIGKILL);
	waitpid(vm.pid, NULL, 0);
	vm.pid = 0;
	{
		int64_t t0 = now_ms();

		is_int(qmp_wait_event(vm.q, "NEVER", 10000, &ev), -ECONNRESET,
		       "QEMU killed: -ECONNRESET");
		ok(now_ms() - t0 < 5000, "without waiting for the timeout");
	}
	is_int(qmp_balloon_query(vm.q, &bytes), -ECONNRESET, "and it sticks");
out:
	free(path);
	vm_kill(&vm);
}

static void test_no_balloon_vm(void)
{
	struct vm vm = { 0 };
	uint64_t bytes;
	char *path = NULL;

	if (!vm_start(&vm, "plain", NULL))
		goto out;
	is_int(qmp_balloon_query(vm.q, &bytes), -EREMOTEIO,
	       "no balloon: query-balloon fails");
	is_str(qmp_get_error_class(vm.q), "DeviceNotActive", "DeviceNotActive");
	is_int(qmp_balloon_find(vm.q, &path), -ENODEV, "balloon_find: -ENODEV");
	ok(path == NULL, "no path");
	ok(!qmp_is_broken(vm.q), "connection fine");
out:
	vm_kill(&vm);
}

int main(void)
{
	const char *qemu = getenv("QEMU");

	if (!qemu || !*qemu || access(qemu, X_OK) != 0)
		tap_skip_all("no qemu-system-x86_64 ($QEMU)");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_balloon_vm();
	test_no_balloon_vm();
	rmdir(tmpdir);
	return tap_done();
}
