# SPDX-License-Identifier: MIT
"""vbctl top on two guests (256 MiB each): --once prints one frame once
every VM has a sample, --json as one object per VM per line, --sort orders
the rows; on a real terminal (tmux) the table is redrawn in place, follows
a balloon change and its event, and Ctrl-C ends it. Stats polling is
turned on where it was off and set back as it was on exit, also where the
connection was lost. TARGET is the target vbctl set on this run of the VM. On a terminal too
narrow or too short for the table, lines are cut and rows counted.
A QEMU killed and started again under a live top is a row saying it is
gone, retried with a growing pause and followed again once back."""

import json
import os
import re
import select
import signal
import socket
import time

import fleettest
import tmuxterm
from fleettest import check
from vbtest import Tap, finish, run, spawn, vbctl_argv

MiB = 1 << 20
POLLING = "guest-stats-polling-interval"
t = Tap()
tmuxterm.require_tmux()
fleettest.private_runtime_dir()


def polling(vm):
    path = "/machine/peripheral/balloon0"
    return vm.qmp().execute("qom-get", path=path, property=POLLING)


def json_rows(proc, pred, timeout=60, what="a row", seen=None):
    """Reads NDJSON rows until PRED(row) holds for one: that row (the rows
    read go to SEEN)."""
    deadline = time.monotonic() + timeout
    seen = [] if seen is None else seen
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            break
        row = json.loads(line)
        seen.append(row)
        if pred(row):
            return row
    raise TimeoutError("no %s within %d s; last rows: %r" % (what, timeout, seen[-4:]))


balloon = "virtio-balloon-pci,id=balloon0"
fleet = fleettest.SocketFleet({
    "a.sock": dict(mem="256M", balloon=balloon),
    "b.sock": dict(mem="256M", balloon=balloon),
}, prefix="vbtest-top-", ready=r"balloon: ready")
vms, fleet_dir, glob_all = fleet.vms, fleet.dir, fleet.glob
term = None
proc = None
try:
    # b has polling on already (5 s); a has it off.
    vms["b.sock"].qmp().execute("qom-set", path="/machine/peripheral/balloon0",
                                property=POLLING, value=5)

    r = run(["--sockets", glob_all, "top", "--once"])
    check(t, r, 0, "top --once")
    lines = r.out.splitlines()
    t.ok(len(lines) == 3 and lines[0].split()[:4] == ["NAME", "BOOT", "ACTUAL", "TARGET"],
         "a header and one row per VM")
    t.ok(all(re.match(r"[ab]\.sock +256\.00 MiB +256\.00 MiB +- +\d+\.\d\d MiB +\d+\.\d\d MiB +\d+s ", l)
             for l in lines[1:]),
         "boot, actual, no target known, free, available and the sample's age")
    t.is_((polling(vms["a.sock"]), polling(vms["b.sock"])), (0, 5),
          "polling set back as it was (off, and 5 s)")

    # The target: QEMU does not report it; top shows what vbctl set.
    r = run(["-s", fleet.path("a.sock"), "set", "128M", "--wait"])
    check(t, r, 0, "set 128M --wait on a")
    r = run(["-j", "--sockets", glob_all, "top", "--once", "--sort", "actual"])
    check(t, r, 0, "top --once --json --sort actual")
    rows = r.json_lines()
    t.ok([o["name"] for o in rows] == ["b.sock", "a.sock"],
         "largest actual first (a was set to 128 MiB)")
    t.ok(rows[0]["boot"] == 256 * MiB and rows[0]["free"] > 0
         and rows[0]["available"] > 0 and rows[0]["age"] >= 0
         and "swap-in" in rows[0] and rows[0]["target"] is None,
         "NDJSON rows carry the columns")
    t.is_(rows[1]["target"], 128 * MiB, "a's target: the 128 MiB vbctl set")
    r = run(["--sockets", glob_all, "top", "--once", "--sort", "name"])
    t.ok(re.match(r"a\.sock +256\.00 MiB +128\.00 MiB +128\.00 MiB ", r.out.splitlines()[1]),
         "TARGET in the text table (%r)" % r.out)
    r = run(["--sockets", glob_all, "top", "--once", "--sort", "name"])
    t.ok([l.split()[0] for l in r.out.splitlines()[1:]] == ["a.sock", "b.sock"],
         "--sort name")
    r = run(["--sockets", glob_all, "top", "--sort", "colour"])
    check(t, r, 2, "--sort with an unknown column")
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

    # A terminal narrower than the table: each line cut to its width, not
    # wrapped (a wrapped line would push the frame down); one too short:
    # the rows that do not fit are counted instead.
    term = tmuxterm.Term(vbctl_argv() + ["--sockets", glob_all, "top", "-i", "1"],
                         width=60, height=4)
    try:
        screen = term.wait(lambda s: re.search(r"^b\.sock +\d", s, re.M), what="a frame")
        lines = screen.splitlines()
        t.ok([l.split()[0] for l in lines[:3]] == ["NAME", "a.sock", "b.sock"]
             and all(len(l) == 60 for l in lines[1:3]),
             "a 60-column terminal: three lines cut at 60 columns (%r)" % lines[:3])
    finally:
        term.keys("C-c")
        term.exit_status()
    term = tmuxterm.Term(vbctl_argv() + ["--sockets", glob_all, "top", "-i", "1"],
                         width=100, height=3)
    try:
        screen = term.wait(lambda s: "more VMs" in s, what="the count of rows left out")
        lines = screen.splitlines()
        t.ok(lines[0].startswith("NAME ") and lines[1:] == [
            "(2 more VMs below: a taller terminal shows them)"],
             "a 3-line terminal: the header, and how many VMs did not fit (%r)" % lines)
    finally:
        term.keys("C-c")
        term.exit_status()

    # QEMU going away under a live top (--json, not a terminal): a row
    # saying it is gone and retrying with a growing pause, then live again
    # once QEMU is back on the same socket, polling re-armed.
    a = vms["a.sock"]
    proc = spawn(["-j", "--sockets", glob_all, "top", "-i", "1"])
    json_rows(proc, lambda r: r["name"] == "a.sock" and r.get("age") is not None,
              what="a's first sample")
    a.kill()
    row = json_rows(proc, lambda r: r["name"] == "a.sock" and "reconnecting" in r,
                    what="a's row saying it is gone")
    t.ok(re.match(r"gone, (retrying in \d+\.\d s|connecting again)$", row["reconnecting"])
         and "a.sock" in row["error"],
         "a's row says it is gone and why (%r)" % row)
    row = json_rows(proc, lambda r: r["name"] == "a.sock" and re.match(
        r"gone, retrying in ([2-5]\.\d) s", r.get("reconnecting", "")), timeout=20,
        what="a retry more than 2 s away")
    t.ok(True, "the pause between retries grows (%s)" % row["reconnecting"])
    a.start(greet=[a.socks[1]])     # vbctl's monitor is left to vbctl
    row = json_rows(proc, lambda r: r["name"] == "a.sock" and r.get("age") is not None
                    and "error" not in r, timeout=180, what="a live again")
    t.ok(row["boot"] == 256 * MiB and row["actual"] == 256 * MiB,
         "back on the same socket: a's row is live again")
    t.is_(polling(a), 1, "polling re-armed on the new QEMU")
    t.is_(row["target"], None,
          "no target shown for the new QEMU (the one recorded was the old one's)")
    os.killpg(proc.pid, signal.SIGINT)
    r = finish(proc, 30)
    check(t, r, 0, "Ctrl-C ends it")
    t.is_((polling(a), polling(vms["b.sock"])), (0, 5),
          "polling set back on both, a as its new QEMU had it")

    # Without reconnecting: a VM whose connection top lost while QEMU
    # runs on (stopped past -t) still gets its polling back on exit, and
    # one whose QEMU is gone for good is named on stderr.
    proc = spawn(["-j", "-t", "2", "--no-reconnect", "--sockets", glob_all,
                  "top", "-i", "1"])
    json_rows(proc, lambda r: r["name"] == "a.sock" and r.get("age") is not None,
              what="a's first sample")
    t.is_(polling(a), 1, "polling on while top runs")
    a.proc.send_signal(signal.SIGSTOP)
    try:
        row = json_rows(proc, lambda r: r["name"] == "a.sock" and "error" in r,
                        what="a's row saying it did not answer")
    finally:
        a.proc.send_signal(signal.SIGCONT)
    t.ok("did not answer" in row["error"] and "reconnecting" not in row,
         "a's row says it did not answer, and it is not retried (%r)" % row)
    vms["b.sock"].kill()
    json_rows(proc, lambda r: r["name"] == "b.sock" and "error" in r,
              what="b's row saying it is gone")
    os.killpg(proc.pid, signal.SIGINT)
    r = finish(proc, 30)
    t.is_(polling(a), 0, "a's polling set back: top connected again for it")
    t.ok(re.search(r"^vbctl: b\.sock: stats polling not set back to 5 s \(top set it to 1 s\): .*b\.sock",
                   r.err, re.M) and "a.sock: stats polling" not in r.err,
         "stderr names the VM where polling could not be set back (%r)" % r.err)
    check(t, r, 3, "top ends with 3: VMs were lost")

    # vbctl auto records the targets it sets, as set does: top shows
    # them. With --keep the last one stays; without, the one it puts back.
    def auto_run(budget, *extra):
        p = spawn(["-j", "-s", a.sock, "auto", "--host-budget", budget,
                   "-i", "1", "--no-table"] + list(extra))
        log = []
        json_rows(p, lambda r: r.get("event") == "target", what="auto's first target",
                  seen=log)
        os.killpg(p.pid, signal.SIGINT)
        out = finish(p, 30)
        return log + [json.loads(l) for l in out.out.splitlines()]

    log = auto_run("160M", "--keep")
    sets = [e["new"] for e in log if e.get("event") == "target"]
    r = run(["-j", "-s", a.sock, "top", "--once"])
    t.ok(sets and r.json_lines()[0]["target"] == sets[-1],
         "auto --keep: top shows the last target auto set (%r)" % sets[-1:])
    log = auto_run("128M")     # a is at 160M: it reclaims again
    adopted = [e["actual"] for e in log if e.get("event") == "adopt"]
    r = run(["-j", "-s", a.sock, "top", "--once"])
    t.ok(adopted and r.json_lines()[0]["target"] == adopted[0],
         "auto put a's balloon back where it found it (%r): that is its target"
         % adopted[:1])

    # A dead socket among them: a row that says why, exit 3.
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(os.path.join(fleet_dir, "dead.sock"))
    dead.close()
    glob_all = fleet.path("[ad]*.sock")     # b is gone for good
    r = run(["--sockets", glob_all, "top", "--once"])
    check(t, r, 3, "top --once with a dead socket")
    t.ok(re.search(r"^dead\.sock +cannot connect to .*dead\.sock", r.out, re.M)
         and re.search(r"^a\.sock +256\.00 MiB", r.out, re.M),
         "the dead VM's row says why; the others are there")
finally:
    if term:
        term.close()
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    fleet.close()

raise SystemExit(t.done())
