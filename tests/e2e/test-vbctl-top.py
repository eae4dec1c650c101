# SPDX-License-Identifier: MIT
"""vbctl top on two guests (256 MiB each): --once prints one frame once
every VM has a sample, --json as one object per VM per line, --sort orders
the rows; on a real terminal (tmux) the table is redrawn in place, follows
a balloon change and its event, and Ctrl-C ends it. Stats polling is
turned on where it was off and set back as it was on exit."""

import os
import re
import shutil
import socket
import tempfile

import tmuxterm
from guest import require_guest
from vbtest import Tap, Vm, run, vbctl_argv

MiB = 1 << 20
BOOT_TIMEOUT = 120      # seconds: TCG on a loaded 2-core machine
POLLING = "guest-stats-polling-interval"
t = Tap()
_, elf = require_guest()
tmuxterm.require_tmux()
fleet_dir = tempfile.mkdtemp(prefix="vbtest-top-")


def check(r, rc, desc):
    if not t.ok(r.rc == rc, "%s: exit %d" % (desc, rc)):
        t.diag(repr(r))


def polling(vm):
    path = "/machine/peripheral/balloon0"
    return vm.qmp().execute("qom-get", path=path, property=POLLING)


vms = {
    "a.sock": Vm(kernel=elf, serial=True, mem="256M",
                 balloon="virtio-balloon-pci,id=balloon0"),
    "b.sock": Vm(kernel=elf, serial=True, mem="256M",
                 balloon="virtio-balloon-pci,id=balloon0"),
}
term = None
try:
    for name, vm in vms.items():
        vm.start()
        os.symlink(vm.sock, os.path.join(fleet_dir, name))
    for vm in vms.values():
        vm.wait_serial(r"balloon: ready", BOOT_TIMEOUT)
    glob_all = os.path.join(fleet_dir, "*.sock")
    # b has polling on already (5 s); a has it off.
    vms["b.sock"].qmp().execute("qom-set", path="/machine/peripheral/balloon0",
                                property=POLLING, value=5)

    r = run(["--sockets", glob_all, "top", "--once"])
    check(r, 0, "top --once")
    lines = r.out.splitlines()
    t.ok(len(lines) == 3 and lines[0].split()[:4] == ["NAME", "BOOT", "ACTUAL", "TARGET"],
         "a header and one row per VM")
    t.ok(all(re.match(r"[ab]\.sock +256\.00 MiB +256\.00 MiB +- +\d+\.\d\d MiB +\d+\.\d\d MiB +\d+s ", l)
             for l in lines[1:]),
         "boot, actual, no target known, free, available and the sample's age")
    t.is_((polling(vms["a.sock"]), polling(vms["b.sock"])), (0, 5),
          "polling set back as it was (off, and 5 s)")

    vms["a.sock"].qmp().execute("balloon", value=128 * MiB)
    r = run(["-j", "--sockets", glob_all, "top", "--once", "--sort", "actual"])
    check(r, 0, "top --once --json --sort actual")
    rows = r.json_lines()
    t.ok([o["name"] for o in rows] == ["b.sock", "a.sock"],
         "largest actual first (a was set to 128 MiB)")
    t.ok(rows[0]["boot"] == 256 * MiB and rows[0]["free"] > 0
         and rows[0]["available"] > 0 and rows[0]["age"] >= 0
         and "swap-in" in rows[0] and rows[0]["target"] is None,
         "NDJSON rows carry the columns")
    r = run(["--sockets", glob_all, "top", "--once", "--sort", "name"])
    t.ok([l.split()[0] for l in r.out.splitlines()[1:]] == ["a.sock", "b.sock"],
         "--sort name")
    r = run(["--sockets", glob_all, "top", "--sort", "colour"])
    check(r, 2, "--sort with an unknown column")
    t.ok("bad value 'colour' for --sort" in r.err, "the message names it")

    # A live table in a real terminal: redrawn in place, a balloon change
    # shows up with its event, Ctrl-C ends it with 0.
    term = tmuxterm.Term(vbctl_argv() + ["--sockets", glob_all, "top", "-i", "1"])
    term.wait(lambda s: re.search(r"^b\.sock .*\d+s ", s, re.M), what="the first frame")
    t.ok(polling(vms["a.sock"]) == 1, "polling turned on while top runs")
    vms["b.sock"].qmp().execute("balloon", value=192 * MiB)
    screen = term.wait(lambda s: re.search(r"^b\.sock +256\.00 MiB +192\.00 MiB .*BALLOON_CHANGE \d\d:\d\d:\d\d", s, re.M),
                       what="b's new size and its event")
    t.ok(True, "the table follows the balloon and shows the last event")
    screen = term.wait(lambda s: True)
    t.is_(screen.count("NAME"), 1, "redrawn in place: one header on the screen")
    term.keys("C-c")
    t.is_(term.exit_status(), 0, "Ctrl-C ends top with exit 0")
    t.is_((polling(vms["a.sock"]), polling(vms["b.sock"])), (0, 5),
          "polling set back after the live table")

    # A dead socket among them: a row that says why, exit 3.
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(os.path.join(fleet_dir, "dead.sock"))
    dead.close()
    r = run(["--sockets", glob_all, "top", "--once"])
    check(r, 3, "top --once with a dead socket")
    t.ok(re.search(r"^dead\.sock +cannot connect to .*dead\.sock", r.out, re.M)
         and re.search(r"^a\.sock +256\.00 MiB", r.out, re.M),
         "the dead VM's row says why; the others are there")
finally:
    if term:
        term.close()
    for vm in vms.values():
        vm.close()
    shutil.rmtree(fleet_dir, ignore_errors=True)

raise SystemExit(t.done())
