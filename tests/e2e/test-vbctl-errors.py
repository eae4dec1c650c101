# SPDX-License-Identifier: MIT
"""vbctl when things go wrong: a VM without a balloon device (exit 1 and a
clear message), no QEMU at the socket (exit 3), QEMU killed while vbctl
waits (exit 3, promptly, no hang), and events streaming as they arrive."""

import json
import os
import signal
import sys
import tempfile
import time

from vbtest import Tap, Vm, finish, run, spawn

t = Tap()


def check(r, rc, desc):
    if not t.ok(r.rc == rc, "%s: exit %d" % (desc, rc)):
        t.diag(repr(r))


def wait_connected(proc, command="qmp_capabilities"):
    """Read vbctl -v's stderr until QEMU answered COMMAND."""
    sent = False
    for line in proc.stderr:
        sent = sent or (line.startswith("-> ") and '"%s"' % command in line)
        if sent and line.startswith("<- ") and '"return"' in line:
            return True
    return False


def lost(r, what):
    """vbctl said, naming WHAT, that the connection was lost."""
    if not t.ok(any(line.startswith("vbctl: %s: lost the connection to QEMU at " % what)
                    for line in r.err.splitlines()),
                "%s says the connection was lost, naming itself" % what):
        t.diag(r.err[-300:])


# No QEMU at all.
with tempfile.TemporaryDirectory() as d:
    missing = os.path.join(d, "no-such-sock")
    r = run(["query"], missing)
    check(r, 3, "query on a socket that does not exist")
    t.ok(r.err == "vbctl: cannot connect to %s: No such file or directory "
         "(is QEMU running with -qmp unix:%s,server=on,wait=off?)\n" % (missing, missing),
         "the message names the socket and how to start QEMU")
    r = run(["qmp", "query-status"], "unix:" + missing)
    check(r, 3, "unix:PATH that does not exist")
    env = dict(os.environ, VBCTL_SOCKET=missing)
    r = run(["query"], None, env=env)
    t.ok(r.rc == 3 and missing in r.err, "$VBCTL_SOCKET is the default socket")

# A VM without a balloon device.
with Vm(balloon=None) as vm:
    for args in (["query"], ["set", "1G"], ["stats"], ["qom-get", "balloon", "type"],
                 ["qom-list", "balloon"]):
        r = run(args, vm.sock)
        check(r, 1, "%s without a balloon device" % " ".join(args))
        t.ok("no balloon device in this VM" in r.err and "-device virtio-balloon-pci" in r.err
             and r.err.count("\n") == 1, "%s: says there is no balloon device" % args[0])

# QEMU killed while vbctl waits.
with Vm() as vm:
    q = vm.qmp()

    # events: stream what arrives; the test's own monitor triggers them.
    p = spawn(["-v", "events", "--count", "2"], vm.sock)
    if t.ok(wait_connected(p), "events: connected"):
        q.execute("stop")
        q.execute("cont")
    r = finish(p, 30)
    check(r, 0, "events --count 2")
    names = [l.split()[2] for l in r.out.splitlines()]
    t.is_(names, ["STOP", "RESUME"], "events prints STOP then RESUME with time and name")

    p = spawn(["-v", "-j", "events", "-n", "1", "resume"], vm.sock)
    if t.ok(wait_connected(p), "events --json: connected"):
        q.execute("stop")
        q.execute("cont")
    r = finish(p, 30)
    lines = r.out.splitlines()
    ev = json.loads(lines[0]) if lines else {}
    t.ok(r.rc == 0 and len(lines) == 1 and ev.get("event") == "RESUME"
         and "timestamp" in ev, "events --json resume: only the named event (any case), as QEMU sent it")

    # Ctrl-C ends a stream: events cleanly, set --wait as not settled.
    p = spawn(["-v", "events"], vm.sock)
    t.ok(wait_connected(p), "events: connected before Ctrl-C")
    p.send_signal(signal.SIGINT)
    r = finish(p, 20)
    check(r, 0, "events ended by SIGINT")
    p = spawn(["-v", "set", "1G", "--wait"], vm.sock)
    t.ok(wait_connected(p), "set --wait: connected before Ctrl-C")
    p.send_signal(signal.SIGINT)
    r = finish(p, 20)
    check(r, 1, "set --wait interrupted by SIGINT")
    t.ok("not settled" in r.err and "interrupted" in r.err, "set --wait says it was interrupted")

    # A paused VM cannot move its balloon: set --wait says so.
    q.execute("stop")
    r = run(["set", "1G", "--wait"], vm.sock)
    check(r, 1, "set --wait on a paused VM")
    t.ok("not settled" in r.err and "the VM is not running (QEMU status 'paused'" in r.err
         and r.err.count("\n") == 1, "set --wait says the VM is paused")
    r = run(["-t", "1", "stats"], vm.sock)
    check(r, 1, "stats on a paused VM")
    t.ok(r.err.startswith("vbctl: stats: no statistics from the guest within ")
         and "the VM is not running (QEMU status 'paused'" in r.err
         and r.err.count("\n") == 1, "stats says the VM is paused")
    q.execute("cont")

    # Now kill QEMU under a waiting events, then a waiting stats.
    p = spawn(["-v", "events"], vm.sock)
    t.ok(wait_connected(p), "events: connected before the kill")
    killed = time.monotonic()
    vm.kill()
    r = finish(p, 20, killed)
    check(r, 3, "events when QEMU is killed (SIGKILL)")
    t.ok(r.seconds < 5, "events noticed within 5 s (%.1f s)" % r.seconds)
    lost(r, "events")

with Vm() as vm:
    p = spawn(["-v", "-t", "60", "stats"], vm.sock)
    # Killed while it waits for a sample (polling is on by then).
    t.ok(wait_connected(p, "qom-set"),
         "stats: waiting for a sample before the kill")
    killed = time.monotonic()
    vm.kill()
    r = finish(p, 20, killed)
    check(r, 3, "stats when QEMU is killed (SIGKILL)")
    t.ok(r.seconds < 5, "stats noticed within 5 s (%.1f s)" % r.seconds)
    lost(r, "stats")

sys.exit(t.done())
