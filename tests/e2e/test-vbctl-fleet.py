# SPDX-License-Identifier: MIT
"""vbctl on many VMs at once: three guests (256 MiB each; two with a
balloon, one without) whose QMP sockets sit in one directory beside a dead
socket and one held by another client. list, query, set --wait and stats
run on all of them from one event loop: one row per VM, the exit status the
worst, and a dead or busy VM never holds up the others."""

import os
import re
import shutil
import socket
import tempfile
import time

from guest import require_guest
from vbtest import Tap, Vm, run

MiB = 1 << 20
BOOT_TIMEOUT = 120      # seconds: TCG on a loaded 2-core machine
t = Tap()
_, elf = require_guest()
fleet_dir = tempfile.mkdtemp(prefix="vbtest-fleet-")


def check(r, rc, desc):
    if not t.ok(r.rc == rc, "%s: exit %d" % (desc, rc)):
        t.diag(repr(r))


def rows(r):
    """The text table as {name: [columns]} (header left out)."""
    out = {}
    for line in r.out.splitlines()[1:]:
        cols = line.split()
        out[cols[0]] = cols[1:]
    return out


vms = {
    "a.sock": Vm(kernel=elf, serial=True, mem="256M"),
    "b.sock": Vm(kernel=elf, serial=True, mem="256M"),
    "c.sock": Vm(kernel=elf, serial=True, mem="256M", balloon=None),
}
held = None
try:
    for name, vm in vms.items():
        vm.start()
        os.symlink(vm.sock, os.path.join(fleet_dir, name))
    for vm in vms.values():
        vm.wait_serial(r"guest> ", BOOT_TIMEOUT)
    glob_all = os.path.join(fleet_dir, "*.sock")
    # A file that is no socket is not a VM: left out of the glob.
    open(os.path.join(fleet_dir, "console.sock.log"), "w").close()

    r = run(["--sockets", glob_all, "list"])
    check(r, 0, "list of three VMs")
    got = rows(r)
    t.is_(sorted(got), ["a.sock", "b.sock", "c.sock"], "one row per VM, in order")
    t.ok(got.get("a.sock", [])[:2] == ["running", "yes"]
         and got.get("c.sock", [])[:2] == ["running", "no"],
         "state running; balloon yes, and no for the VM without one")
    t.ok(" ".join(got.get("b.sock", [])[2:]) == "256.00 MiB 256.00 MiB",
         "actual and boot memory")
    r = run(["-j", "--sockets", glob_all, "list"])
    objs = r.json_lines()
    t.ok(r.rc == 0 and [o["name"] for o in objs] == ["a.sock", "b.sock", "c.sock"]
         and objs[0]["boot"] == 256 * MiB and objs[0]["actual"] == 256 * MiB
         and objs[2]["balloon"] is False and objs[2]["actual"] is None,
         "list --json: one object per VM per line")

    # The same VMs named with -s, twice.
    r = run(["-s", vms["a.sock"].sock, "-s", vms["b.sock"].sock, "query"])
    check(r, 0, "query with -s twice")
    t.is_(len(r.out.splitlines()), 2, "one line per VM")
    r = run(["-j", "--sockets", glob_all, "query"])
    check(r, 1, "query where one VM has no balloon")
    objs = {o["name"]: o for o in r.json_lines()}
    t.ok(objs["a.sock"].get("actual") == 256 * MiB
         and "no balloon device" in objs["c.sock"].get("error", ""),
         "the others answer; the VM without a balloon says so")
    t.ok("vbctl: c.sock: no balloon device in this VM" in r.err,
         "stderr names the VM without a balloon")
    r = run(["--sockets", glob_all, "top", "--once"])
    check(r, 1, "top --once where one VM has no balloon")
    t.ok("vbctl: c.sock: no balloon device in this VM" in r.err,
         "top's stderr names the VM without a balloon too")

    # set --wait on the two balloons at once, each checked through QEMU.
    both = os.path.join(fleet_dir, "[ab].sock")
    r = run(["--sockets", both, "set", "50%", "--wait"])
    check(r, 0, "set 50% --wait on two VMs")
    t.ok(re.search(r"^a\.sock +settled at 128\.00 MiB", r.out, re.M)
         and re.search(r"^b\.sock +settled at 128\.00 MiB", r.out, re.M),
         "both settled at 128 MiB")
    t.ok(all(vms[n].qmp().execute("query-balloon")["actual"] == 128 * MiB
             for n in ("a.sock", "b.sock")), "QEMU agrees for both")

    # One paused: it stops short and says why; the other settles.
    vms["b.sock"].qmp().execute("stop")
    r = run(["-j", "--sockets", both, "set", "200M", "--wait"])
    vms["b.sock"].qmp().execute("cont")
    check(r, 1, "set --wait with one VM paused")
    objs = {o["name"]: o for o in r.json_lines()}
    t.ok(objs["a.sock"]["settled"] is True and objs["a.sock"]["actual"] == 200 * MiB,
         "the running VM settled")
    t.ok(objs["b.sock"]["settled"] is False
         and "not running (QEMU status 'paused'" in objs["b.sock"].get("reason", ""),
         "the paused one did not, and says it is paused")
    r = run(["--sockets", both, "set", "+1G"])
    check(r, 2, "set beyond the boot memory")
    t.ok("a.sock: invalid size '+1G'" in r.err and "b.sock:" in r.err,
         "each VM's error names it and the size")

    r = run(["--sockets", both, "stats"])
    check(r, 0, "stats on two VMs")
    got = rows(r)
    t.ok(sorted(got) == ["a.sock", "b.sock"]
         and all(re.match(r"\d+\.\d\d [KMG]iB", " ".join(c)) for c in got.values()),
         "a row with free memory per VM")
    r = run(["-j", "--sockets", both, "stats"])
    t.ok(r.rc == 0 and all("stat-free-memory" in o["stats"]["stats"]
                           for o in r.json_lines()),
         "stats --json: QEMU's guest-stats per VM")
    r = run(["--sockets", both, "stats", "--watch"])
    check(r, 2, "stats --watch with several VMs")
    r = run(["--sockets", both, "events"])
    check(r, 2, "events with several VMs")
    t.ok("this command takes one VM" in r.err, "says it takes one VM")

    # A dead socket and one held by another client: rows that say why,
    # within one -t, while the others answer.
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(os.path.join(fleet_dir, "dead.sock"))
    dead.close()
    held = socket.socket(socket.AF_UNIX)
    held.connect(vms["c.sock"].sock)
    held.recv(4096)
    r = run(["-t", "3", "--sockets", glob_all, "list"])
    check(r, 3, "list with a dead and a busy VM")
    got = rows(r)
    t.ok(got.get("dead.sock", [None])[0] == "unreachable"
         and got.get("c.sock", [None])[0] == "unreachable"
         and got.get("a.sock", [None])[0] == "running"
         and got.get("b.sock", [None])[0] == "running",
         "the dead and the busy VM are rows; the others answered")
    t.ok("vbctl: dead.sock: cannot connect" in r.err
         and re.search(r"vbctl: c\.sock: no QMP greeting .* is another one connected", r.err),
         "stderr says why for each, naming the VM")
    t.ok(r.seconds < 3 + 2.5, "one timeout for all, not one after another (%.1f s)" % r.seconds)

    r = run(["--sockets", os.path.join(fleet_dir, "nothing-*"), "query"])
    check(r, 3, "a glob that matches nothing")
    t.ok("--sockets '%s': no socket matches it" % os.path.join(fleet_dir, "nothing-*")
         in r.err, "the message names the glob")
    env = dict(os.environ, VBCTL_SOCKETS=both)
    r = run(["query"], env=env)
    check(r, 0, "VBCTL_SOCKETS names the fleet")
    t.is_(len(r.out.splitlines()), 2, "two lines from VBCTL_SOCKETS")
finally:
    if held:
        held.close()
    for vm in vms.values():
        vm.close()
    shutil.rmtree(fleet_dir, ignore_errors=True)

raise SystemExit(t.done())
