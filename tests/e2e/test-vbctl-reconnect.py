# SPDX-License-Identifier: MIT
"""vbctl -r (--reconnect): events, stats --watch and set --wait ride out
QEMU being killed and started again on the same socket. Each says that
QEMU went away and that it is back, and goes on: events streams the new
QEMU's events, stats turns polling on again at the same interval and
prints new samples, set --wait sends the target again and settles there."""

import json
import os
import queue
import re
import signal
import sys
import threading
import time

from vbtest import Tap, Vm, spawn

t = Tap()
GUEST = os.environ.get("GUEST_ELF", "")
WAIT = 60       # seconds for anything to show up (TCG on a loaded machine)


class Lines:
    """A spawned vbctl's stdout and stderr, read line by line as they come."""

    def __init__(self, proc):
        self.proc = proc
        self.q = {"out": queue.Queue(), "err": queue.Queue()}
        self.seen = {"out": [], "err": []}
        for name, f in (("out", proc.stdout), ("err", proc.stderr)):
            threading.Thread(target=self._read, args=(name, f), daemon=True).start()

    def _read(self, name, f):
        for line in f:
            self.q[name].put(line.rstrip("\n"))
        self.q[name].put(None)

    def wait(self, name, pattern, timeout=WAIT):
        """The next line of NAME matching PATTERN (earlier ones are kept in
        seen), or None at EOF or timeout."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.q[name].get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if line is None:
                self.q[name].put(None)
                return None
            self.seen[name].append(line)
            if rx.search(line):
                return line

    def finish(self, timeout=30):
        """Interrupt (SIGINT), wait; (rc, all stdout lines, all stderr lines)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout)
        except Exception:
            os.killpg(self.proc.pid, signal.SIGKILL)
            rc = None
        for name in ("out", "err"):
            while self.wait(name, r"$^", timeout=2) is not None:
                pass
        return rc, self.seen["out"], self.seen["err"]


def restart(vm):
    """Kill QEMU and start it again on the same sockets; only the test's
    own monitor is awaited (vbctl may reconnect to its own first)."""
    vm.kill()
    vm.start(greet=vm.socks[1:])


def went_and_back(s, what, sock):
    gone = s.wait("err", r"^vbctl: %s: QEMU at %s went away \(.*\); reconnecting" % (what, re.escape(sock)))
    t.ok(gone, "%s says QEMU went away, naming the address" % what)
    back = s.wait("err", r"^vbctl: %s: QEMU at %s is back$" % (what, re.escape(sock)))
    t.ok(back, "%s says QEMU is back" % what)
    return bool(gone and back)


def qmp_sent(s, command):
    return s.wait("err", r'^-> .*"execute": ?"%s"' % command)


# events: the stream goes on with the new QEMU's events.
with Vm() as vm:
    s = Lines(spawn(["-v", "-r", "events", "STOP", "RESUME"], vm.sock))
    t.ok(qmp_sent(s, "qmp_capabilities"), "events: connected")
    s.wait("err", r'^<- .*"return"')
    vm.qmp().execute("stop")
    vm.qmp().execute("cont")
    t.ok(s.wait("out", r" RESUME"), "events: RESUME from the first QEMU")
    restart(vm)
    went_and_back(s, "events", vm.sock)
    # The first command after capabilities on the new connection is ours.
    vm.qmp().execute("stop")
    vm.qmp().execute("cont")
    t.ok(s.wait("out", r" RESUME"), "events: RESUME from the second QEMU")
    rc, out, err = s.finish()
    t.is_([l.split()[2] for l in out], ["STOP", "RESUME", "STOP", "RESUME"],
          "events printed both QEMUs' events, in order")
    t.is_(rc, 0, "events -r ends with Ctrl-C, exit 0")

# Without -r, the same kill ends the stream with exit 3 (as before).
with Vm() as vm:
    p = spawn(["-v", "events"], vm.sock)
    s = Lines(p)
    t.ok(qmp_sent(s, "qmp_capabilities") and s.wait("err", r'^<- .*"return"'),
         "events without -r: connected")
    vm.kill()
    t.ok(s.wait("err", r"^vbctl: events: lost the connection"), "events without -r: connection lost")
    rc, _, _ = s.finish()
    t.is_(rc, 3, "events without -r: exit 3")

if not os.path.exists(GUEST):
    t.ok(False, "guest kernel at GUEST_ELF (%r)" % GUEST)
    sys.exit(t.done())

# stats --watch: polling turned on again on the new QEMU, new samples.
with Vm(kernel=GUEST, mem="256M", serial=True) as vm:
    vm.wait_serial(r"balloon: ready")
    s = Lines(spawn(["-j", "-r", "stats", "--watch", "--interval", "1"], vm.sock))
    first = s.wait("out", r"^\{")
    t.ok(first, "stats --watch: a sample from the first QEMU")
    restart(vm)
    went_and_back(s, "stats", vm.sock)
    vm.wait_serial(r"balloon: ready")
    restarted = time.time()
    line, sample = None, {}
    while True:
        line = s.wait("out", r"^\{")
        if not line:
            break
        sample = json.loads(line)
        if sample.get("last-update", 0) >= int(restarted):
            break
    t.ok(line and sample["stats"].get("stat-total-memory", 0) > 0,
         "stats --watch: a new sample from the second QEMU's guest")
    path = "/machine/peripheral-anon/device[0]"
    t.is_(vm.qmp().execute("qom-get", path=path, property="guest-stats-polling-interval"),
          1, "stats re-armed polling at the same interval on the new QEMU")
    rc, out, err = s.finish()
    t.is_(rc, 0, "stats --watch -r ends with Ctrl-C, exit 0")

# set --wait: the target is sent again to the new QEMU, and met there.
with Vm(kernel=GUEST, mem="512M", serial=True) as vm:
    vm.wait_serial(r"balloon: ready")
    vm.qmp().execute("stop")        # the first QEMU's guest cannot move
    s = Lines(spawn(["-v", "-r", "set", "256M", "--wait"], vm.sock))
    t.ok(qmp_sent(s, "balloon") and s.wait("err", r'^<- .*"return"'),
         "set --wait: target sent to the first QEMU, which took it")
    restart(vm)
    went_and_back(s, "set", vm.sock)
    t.ok(qmp_sent(s, "balloon"), "set --wait: target sent again to the new QEMU")
    try:
        rc = s.proc.wait(WAIT)
    except Exception:
        rc = None
    rc, out, err = s.finish()
    t.ok(rc == 0 and out == ["settled at 256.00 MiB (268435456 bytes)"],
         "set --wait -r settles on the new QEMU (exit %r, %r)" % (rc, out))
    t.is_(vm.qmp().execute("query-balloon")["actual"], 256 << 20,
          "the new QEMU's guest is at the target")

sys.exit(t.done())
