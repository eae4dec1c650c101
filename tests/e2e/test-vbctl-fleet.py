# SPDX-License-Identifier: MIT
"""vbctl on many VMs at once: three guests (256 MiB each; two with a
balloon, one without) whose QMP sockets sit in one directory beside a dead
socket and one held by another client. list, query, set --wait and stats
run on all of them from one event loop: one row per VM, the exit status the
worst, and a dead or busy VM, an empty glob or a libvirt URI that cannot be
opened never holds up the others. list shows the targets vbctl recorded;
set --wait shows each VM's progress on a terminal."""

import os
import re
import socket

import fleettest
import tmuxterm
from fakeqmp import FakeQmp
from fleettest import check, rows
from vbtest import Tap, run, vbctl_argv

MiB = 1 << 20
t = Tap()
tmuxterm.require_tmux()
fleettest.private_runtime_dir()
held = None
fleet = fleettest.SocketFleet({
    "a.sock": dict(mem="256M"),
    "b.sock": dict(mem="256M"),
    "c.sock": dict(mem="256M", balloon=None),
})
vms, fleet_dir, glob_all = fleet.vms, fleet.dir, fleet.glob
try:
    # A file that is no socket is not a VM: left out of the glob.
    open(os.path.join(fleet_dir, "console.sock.log"), "w").close()

    r = run(["--sockets", glob_all, "list"])
    check(t, r, 0, "list of three VMs")
    got = rows(r)
    t.is_(sorted(got), ["a.sock", "b.sock", "c.sock"], "one row per VM, in order")
    t.ok(got.get("a.sock", [])[:2] == ["running", "yes"]
         and got.get("c.sock", [])[:2] == ["running", "no"],
         "state running; balloon yes, and no for the VM without one")
    t.ok(" ".join(got.get("b.sock", [])[2:]) == "256.00 MiB - 256.00 MiB",
         "actual, no target known yet, and boot memory")
    r = run(["-j", "--sockets", glob_all, "list"])
    objs = r.json_lines()
    t.ok(r.rc == 0 and [o["name"] for o in objs] == ["a.sock", "b.sock", "c.sock"]
         and objs[0]["boot"] == 256 * MiB and objs[0]["actual"] == 256 * MiB
         and objs[2]["balloon"] is False and objs[2]["actual"] is None
         and objs[0]["target"] is None,
         "list --json: one object per VM per line")

    # A QEMU whose query-status says "status": null: the state is
    # unknown ("-"), never "(null)".
    with FakeQmp("status-nulls") as fake:
        r = run(["-s", fake.sock, "list"])
        check(t, r, 0, "list against a QEMU with a null status")
        t.ok("(null)" not in r.out and rows(r).get("qmp-sock", [None])[0] == "-",
             "the state shows as '-' (%r)" % r.out)
        r = run(["-j", "-s", fake.sock, "list"])
        t.ok(r.rc == 0 and r.json_lines()[0].get("state", 1) is None,
             "and as null with --json")

    # The same VMs named with -s, twice.
    r = run(["-s", vms["a.sock"].sock, "-s", vms["b.sock"].sock, "query"])
    check(t, r, 0, "query with -s twice")
    t.is_(len(r.out.splitlines()), 2, "one line per VM")
    r = run(["-j", "--sockets", glob_all, "query"])
    check(t, r, 1, "query where one VM has no balloon")
    objs = {o["name"]: o for o in r.json_lines()}
    t.ok(objs["a.sock"].get("actual") == 256 * MiB
         and "no balloon device" in objs["c.sock"].get("error", ""),
         "the others answer; the VM without a balloon says so")
    t.ok("vbctl: c.sock: no balloon device in this VM" in r.err,
         "stderr names the VM without a balloon")
    r = run(["--sockets", glob_all, "top", "--once"])
    check(t, r, 1, "top --once where one VM has no balloon")
    t.ok("vbctl: c.sock: no balloon device in this VM" in r.err,
         "top's stderr names the VM without a balloon too")

    # set --wait on the two balloons at once, each checked through QEMU.
    both = os.path.join(fleet_dir, "[ab].sock")
    r = run(["--sockets", both, "set", "50%", "--wait"])
    check(t, r, 0, "set 50% --wait on two VMs")
    t.ok(re.search(r"^a\.sock +settled at 128\.00 MiB", r.out, re.M)
         and re.search(r"^b\.sock +settled at 128\.00 MiB", r.out, re.M),
         "both settled at 128 MiB")
    t.ok(all(vms[n].qmp().execute("query-balloon")["actual"] == 128 * MiB
             for n in ("a.sock", "b.sock")), "QEMU agrees for both")
    # QEMU never reports a target: list shows the one vbctl recorded.
    r = run(["--sockets", glob_all, "list"])
    got = rows(r)
    t.ok(got.get("a.sock", [])[4:6] == ["128.00", "MiB"]
         and got.get("c.sock", [])[2:4] == ["-", "-"],
         "list: TARGET is the recorded 128 MiB; '-' for the VM without a balloon")
    r = run(["-s", vms["a.sock"].sock, "set", "200M"])
    r = run(["-j", "--sockets", glob_all, "list"])
    objs = {o["name"]: o for o in r.json_lines()}
    t.ok(objs["a.sock"]["target"] == 200 * MiB and objs["b.sock"]["target"] == 128 * MiB,
         "a single-VM set records its target too (by the socket, not its name)")

    # On a terminal, set --wait on several VMs shows each one's progress
    # while it waits, then one result line each. 1 MiB is below what the
    # guests keep free: they stop short after moving for a while.
    term = tmuxterm.Term(vbctl_argv() + ["--sockets", both, "set", "1M", "--wait"])
    try:
        screen = term.wait(lambda s: re.search(r"^a\.sock +actual [\d.]+ MiB, target 1\.00 MiB, \d+s$", s, re.M)
                           and re.search(r"^b\.sock +actual [\d.]+ MiB, target 1\.00 MiB, \d+s$", s, re.M),
                           what="a progress line per VM")
        t.ok(True, "set --wait on a terminal: a live progress line per VM")
        t.is_(term.exit_status(60), 1, "both stopped short: exit 1")
        screen = term.screen()
        t.ok(re.search(r"^a\.sock +stopped at .*, target 1\.00 MiB", screen, re.M)
             and re.search(r"^b\.sock +stopped at .*, target 1\.00 MiB", screen, re.M)
             and "actual" not in screen,
             "then a result line per VM, the progress lines gone (%r)" % screen)
    except TimeoutError as e:
        t.ok(False, "set --wait on a terminal: a live progress line per VM")
        t.diag(str(e))
    finally:
        term.close()
    r = run(["--sockets", both, "set", "128M", "--wait"])
    check(t, r, 0, "set --wait, not on a terminal")
    t.ok(r.err == "" and len(r.out.splitlines()) == 2,
         "one result line per VM and no progress (%r)" % r)

    # One paused: it stops short and says why; the other settles.
    vms["b.sock"].qmp().execute("stop")
    r = run(["-j", "--sockets", both, "set", "200M", "--wait"])
    vms["b.sock"].qmp().execute("cont")
    check(t, r, 1, "set --wait with one VM paused")
    objs = {o["name"]: o for o in r.json_lines()}
    t.ok(objs["a.sock"]["settled"] is True and objs["a.sock"]["actual"] == 200 * MiB,
         "the running VM settled")
    t.ok(objs["b.sock"]["settled"] is False
         and "not running (QEMU status 'paused'" in objs["b.sock"].get("reason", ""),
         "the paused one did not, and says it is paused")
    r = run(["--sockets", both, "set", "+1G"])
    check(t, r, 2, "set beyond the boot memory")
    t.ok("a.sock: invalid size '+1G'" in r.err and "b.sock:" in r.err,
         "each VM's error names it and the size")

    r = run(["--sockets", both, "stats"])
    check(t, r, 0, "stats on two VMs")
    got = rows(r)
    t.ok(sorted(got) == ["a.sock", "b.sock"]
         and all(re.match(r"\d+\.\d\d [KMG]iB", " ".join(c)) for c in got.values()),
         "a row with free memory per VM")
    r = run(["-j", "--sockets", both, "stats"])
    t.ok(r.rc == 0 and all("stat-free-memory" in o["stats"]["stats"]
                           for o in r.json_lines()),
         "stats --json: QEMU's guest-stats per VM")
    r = run(["--sockets", both, "stats", "--watch"])
    check(t, r, 2, "stats --watch with several VMs")
    r = run(["--sockets", both, "events"])
    check(t, r, 2, "events with several VMs")
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
    check(t, r, 3, "list with a dead and a busy VM")
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
    check(t, r, 3, "a glob that matches nothing")
    t.ok("--sockets '%s': no socket matches it" % os.path.join(fleet_dir, "nothing-*")
         in r.err, "the message names the glob")
    # Beside other targets: a line naming it, the others answer, exit 3.
    nothing = os.path.join(fleet_dir, "nothing-*")
    r = run(["-s", vms["a.sock"].sock, "--sockets", nothing, "query"])
    check(t, r, 3, "an empty glob beside a VM")
    t.ok(re.search(r"^\S+ +\d+\.\d\d MiB", r.out, re.M)
         and "--sockets '%s': no socket matches it" % nothing in r.err,
         "the VM's line, and a line naming the glob")
    # A libvirt URI that cannot be opened beside socket VMs: the same.
    bad_uri = "qemu+unix:///session?socket=%s/no-libvirtd" % fleet_dir
    for cmd in (["query"], ["list"], ["top", "--once"], ["set", "128M"]):
        r = run(["--sockets", both, "-c", bad_uri] + cmd, timeout=30)
        check(t, r, 3, "%s with a URI that cannot be opened" % cmd[0])
        t.ok(re.search(r"^a\.sock .*\d\.\d\d MiB", r.out, re.M)
             and re.search(r"^b\.sock .*\d\.\d\d MiB", r.out, re.M)
             and "-c %s: " % bad_uri in r.err,
             "%s: the socket VMs answer; a line names the URI" % cmd[0])
    # A libvirtd that takes the connection and never answers: the URI is
    # given up after -t, not waited for, and the socket VMs answer.
    hung = socket.socket(socket.AF_UNIX)
    hung.bind(os.path.join(fleet_dir, "hung-libvirtd"))
    hung.listen(8)
    hung_uri = "qemu+unix:///session?socket=%s/hung-libvirtd" % fleet_dir
    r = run(["-t", "2", "--sockets", both, "-c", hung_uri, "query"], timeout=30)
    check(t, r, 3, "query with a libvirtd that does not answer")
    t.ok(re.search(r"^a\.sock +\d", r.out, re.M) and re.search(r"^b\.sock +\d", r.out, re.M)
         and "-c %s: libvirt did not list its domains within 2 s" % hung_uri in r.err
         and r.seconds < 2 + 2.5,
         "the socket VMs answer within one -t; a line names the URI (%.1f s)" % r.seconds)
    r = run(["-t", "2", "--all", "--sockets", both, "-c", hung_uri, "list"], timeout=30)
    hung.close()
    check(t, r, 3, "list --all with a libvirtd that does not answer")
    t.ok(re.search(r"^a\.sock +running", r.out, re.M)
         and re.search(r"^b\.sock +running", r.out, re.M)
         and "-c %s: libvirt did not list its domains within 2 s" % hung_uri in r.err
         and r.seconds < 2 + 2.5,
         "list --all (shut-off domains too): the same bound (%.1f s)" % r.seconds)
    env = dict(os.environ, VBCTL_SOCKETS=both)
    r = run(["query"], env=env)
    check(t, r, 0, "VBCTL_SOCKETS names the fleet")
    t.is_(len(r.out.splitlines()), 2, "two lines from VBCTL_SOCKETS")
finally:
    if held:
        held.close()
    fleet.close()

raise SystemExit(t.done())
