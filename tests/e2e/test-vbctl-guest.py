# SPDX-License-Identifier: MIT
"""vbctl with our guest kernel's balloon driver on the other end: stats
shows a fresh sample as a table (and QEMU's object with --json), set --wait
follows the guest to the target, and reports where and why it stopped when
the guest keeps memory back (balloon.min)."""

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

from qemutest import require_guest
from vbtest import Tap, Vm, finish, run, vbctl_argv

GiB = 1 << 30
MiB = 1 << 20
BOOT_TIMEOUT = 120      # seconds: TCG on a loaded 2-core machine
t = Tap()
_, elf = require_guest()


def check(r, rc, desc):
    if not t.ok(r.rc == rc, "%s: exit %d" % (desc, rc)):
        t.diag(repr(r))


with Vm(kernel=elf, serial=True, append="balloon.min=1G") as vm:
    s = vm.sock
    vm.wait_serial(r"balloon: ready", BOOT_TIMEOUT)

    r = run(["stats"], s)
    check(r, 0, "stats with a guest driver")
    t.ok(re.search(r"^free-memory +\d+\.\d\d [KMG]iB \(\d+ bytes\)$", r.out, re.M),
         "free memory in IEC units with exact bytes")
    t.ok(re.search(r"^minor-faults +\d+$", r.out, re.M), "counts as plain numbers")
    t.ok("18446744073709551615" not in r.out, "no 2^64-1 in the table")
    r = run(["-j", "stats"], s)
    gs = r.json()
    t.ok(r.rc == 0 and gs["last-update"] > 0 and "stat-free-memory" in gs["stats"],
         "stats --json is QEMU's guest-stats object")
    r = run(["-j", "stats", "--watch", "--count", "2", "--interval", "1"], s)
    samples = r.json_lines()
    t.ok(r.rc == 0 and len(samples) == 2
         and samples[1]["last-update"] > samples[0]["last-update"],
         "stats --watch --count 2 --json: two fresh samples, one per line")
    r = run(["stats", "--count", "2", "--interval", "1"], s)
    t.is_(len(re.findall(r"^updated ", r.out, re.M)), 2,
          "stats --count 2: two tables appended (not a terminal)")

    # A paused guest cannot answer: its last sample goes stale, and stats
    # must not pass it off as current.
    vm.qmp().execute("stop")
    time.sleep(4)   # the point is letting the sample age past interval + 2 s
    r = run(["-t", "1", "stats"], s)
    check(r, 1, "stats while the guest is paused (stats frozen)")
    t.ok("no statistics from the guest" in r.err
         and "the VM is not running (QEMU status 'paused'" in r.err,
         "stats says no sample came, because the VM is paused")
    vm.qmp().execute("cont")

    # --watch on a terminal redraws in place; Ctrl-C ends it with exit 0.
    master, slave = pty.openpty()
    p = subprocess.Popen(vbctl_argv() + ["-s", s, "stats", "--watch", "--interval", "1"],
                         stdout=slave, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    os.close(slave)
    screen = b""
    while screen.count(b"updated ") < 3:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        screen += os.read(master, 65536)
    p.send_signal(signal.SIGINT)
    r = finish(p, 20)
    os.close(master)
    check(r, 0, "stats --watch on a terminal, ended by Ctrl-C")
    rows = len(re.findall(rb"\n", screen.split(b"\x1b[")[0]))
    t.ok(screen.count(b"updated ") >= 3 and (b"\x1b[%dA\x1b[J" % rows) in screen,
         "each new table is drawn over the last one (cursor up %d lines)" % rows)

    r = run(["set", "1536M", "--wait"], s, timeout=200)
    check(r, 0, "set 1536M --wait")
    t.is_(r.out, "settled at 1.50 GiB (1610612736 bytes)\n", "set --wait says where it settled")
    t.is_(run(["-j", "query"], s).json(), {"actual": 1536 * MiB}, "query agrees")

    # Right after a change, stats --fresh shows the new numbers, not the
    # last periodic sample from before it.
    r = run(["-j", "stats", "--fresh", "--interval", "30"], s)
    before = r.json()["stats"]["stat-free-memory"]
    r = run(["set", "1280M", "--wait"], s, timeout=200)
    check(r, 0, "set 1280M --wait")
    start = time.monotonic()
    r = run(["-j", "stats", "--fresh"], s)
    took = time.monotonic() - start
    after = r.json()["stats"]["stat-free-memory"]
    t.ok(r.rc == 0 and 0 <= before - after - 256 * MiB < 8 * MiB,
         "stats --fresh after set 1280M: free memory fell by the 256 MiB ballooned"
         " (%d -> %d)" % (before, after))
    t.ok(took < 10, "stats --fresh did not wait for the 30 s polling interval (%.1f s)" % took)

    r = run(["-j", "set", "2G", "--wait"], s, timeout=200)
    lines = r.json_lines()
    t.ok(r.rc == 0 and lines[-1] == {"actual": 2 * GiB, "target": 2 * GiB, "settled": True},
         "set 2G --wait --json: the last line says settled")

    # balloon.min=1G: the guest keeps 1 GiB free, so 256M is out of reach.
    start = time.monotonic()
    r = run(["set", "256M", "--wait", "--timeout", "150"], s, timeout=200)
    took = time.monotonic() - start
    check(r, 1, "set 256M --wait when the guest keeps 1 GiB free")
    t.ok(took < 30, "it gives up soon after the guest stops moving (%.1f s)" % took)
    m = re.match(r"stopped at (\d+\.\d\d) GiB \((\d+) bytes\)$", r.out)
    t.ok(m and int(m.group(2)) >= GiB, "it stopped above 1 GiB and says where")
    t.ok("not settled" in r.err and "stopped moving" in r.err,
         "and why: the guest stopped moving")

sys.exit(t.done())
