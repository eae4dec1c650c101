# SPDX-License-Identifier: MIT
"""vbctl doctor against real QEMU set up to show each diagnosis: nothing
at the socket, another client on the monitor, no balloon device, a device
without a driver, a paused VM, stats polling off, a guest that stopped
answering (an NMI panics our guest while QEMU runs on), a target the guest
cannot reach, device options off, and this QEMU's version limits; a
healthy VM ends with "ok:"."""

import json
import os
import re
import sys
import tempfile
import time

from vbtest import Qmp, Tap, Vm, run

t = Tap()
GUEST = os.environ.get("GUEST_ELF", "")


def doctor(sock, *args, opts=(), timeout=60):
    """vbctl --json OPTS doctor ARGS: (Result, {id: finding}, document)."""
    r = run(["-j"] + list(opts) + ["doctor"] + list(args), sock, timeout)
    try:
        doc = r.json()
    except ValueError:
        t.diag("not JSON: %r" % r)
        doc = {"findings": []}
    return r, {f["id"]: f for f in doc["findings"]}, doc


def expect(r, found, ids, rc, desc):
    """Exactly the findings IDS (a set) and exit RC."""
    got = set(found)
    if not t.ok(got == set(ids) and r.rc == rc,
                "%s: %s, exit %d" % (desc, " ".join(sorted(ids)) or "nothing", rc)):
        t.diag("got %s, exit %r; %r" % (sorted(got), r.rc, r))


def version_notes(q):
    """The notes this QEMU's version gives (the qemu-* findings)."""
    v = q.execute("query-version")["qemu"]
    return {"qemu-stats"} if (v["major"], v["minor"]) < (9, 2) else set()


# Nothing at the socket: exit 3, said as a finding with what to do.
with tempfile.TemporaryDirectory() as d:
    missing = os.path.join(d, "no-such-sock")
    r, found, _ = doctor(missing)
    expect(r, found, {"no-qemu"}, 3, "no QEMU")
    t.ok("No such file or directory" in found.get("no-qemu", {}).get("what", "")
         and "-qmp unix:" in found.get("no-qemu", {}).get("todo", ""),
         "no-qemu names the reason and how to start QEMU")

# A device without a driver (no guest kernel at all), default options.
with Vm() as vm:
    q = vm.qmp()
    notes = version_notes(q)
    r, found, doc = doctor(vm.sock)
    expect(r, found, {"no-driver", "deflate-on-oom-off", "page-reporting-off"} | notes,
           1, "a device but no driver")
    t.ok("device status: none" in found.get("no-driver", {}).get("what", ""),
         "no-driver shows the device status x-query-virtio-status gave")
    t.ok(doc.get("findings", [{}])[0].get("severity") == "problem",
         "problems come first")
    v = q.execute("query-version")["qemu"]
    t.is_(doc.get("qemu"), "%d.%d.%d" % (v["major"], v["minor"], v["micro"]),
          "--json names QEMU's version")
    t.is_((doc.get("status"), doc.get("actual"), doc.get("base-memory")),
          ("running", 2 << 30, 2 << 30), "--json has the figures read")
    if notes:
        t.ok("9.2" in found["qemu-stats"]["todo"], "the version note says which QEMU lifts it")

    # The same as text: one line per finding, each with what to do.
    r = run(["doctor"], vm.sock)
    lines = r.out.splitlines()
    t.ok(len(lines) == len(found) and lines[0].startswith("problem: the balloon device is there but no guest driver")
         and all(re.match(r"^(problem|warning|note): .+; .+$", line) for line in lines),
         "text: 'SEVERITY: what; what to do' lines, problems first")

    # Another client holds the monitor: no greeting within -t.
    holder = Qmp(vm.sock)
    r, found, _ = doctor(vm.sock, opts=("-t", "2"))
    holder.close()
    expect(r, found, {"monitor-busy"}, 3, "another client on the monitor")
    t.ok(r.seconds < 10, "monitor-busy within -t and a margin (%.1f s)" % r.seconds)

    # A paused VM.
    q.execute("stop")
    r, found, _ = doctor(vm.sock)
    t.ok("vm-not-running" in found and r.rc == 1
         and "'paused'" in found["vm-not-running"]["what"]
         and "vbctl qmp cont" in found["vm-not-running"]["todo"], "a paused VM")
    q.execute("cont")

# No balloon device: nothing else about the balloon is said.
with Vm(balloon=None) as vm:
    notes = version_notes(vm.qmp())
    r, found, _ = doctor(vm.sock)
    expect(r, found, {"no-balloon"}, 1, "no balloon device")
    t.ok("-device virtio-balloon-pci" in found.get("no-balloon", {}).get("todo", ""),
         "no-balloon says how to add one")

usage = run(["doctor", "--target", "lots"], "unused")
t.ok(usage.rc == 2 and "lots" in usage.err, "--target with a bad size: usage error")

if not os.path.exists(GUEST):
    t.diag("guest kernel not built: guest cases not run")
    t.ok(False, "guest kernel at GUEST_ELF (%r)" % GUEST)
    sys.exit(t.done())

# Our guest: a driver with stats, deflate-on-oom and free page reporting.
# balloon.min keeps 400 MiB free, so a 128 MiB target cannot be met.
with Vm(balloon="virtio-balloon-pci,deflate-on-oom=on,free-page-reporting=on",
        mem="512M", kernel=GUEST, append="balloon.min=400M", serial=True) as vm:
    vm.wait_serial(r"balloon: ready")
    q = vm.qmp()
    notes = version_notes(q)
    path = "/machine/peripheral-anon/device[0]"

    r, found, _ = doctor(vm.sock)
    expect(r, found, {"polling-off"} | notes, 0, "driver ready, polling off")
    t.is_(found.get("polling-off", {}).get("severity"), "warning", "polling-off is a warning")

    q.execute("qom-set", path=path, property="guest-stats-polling-interval", value=2)
    r, found, _ = doctor(vm.sock)
    expect(r, found, notes, 0, "polling on, the guest answers")
    r = run(["doctor"], vm.sock)
    t.ok(r.rc == 0 and r.out.splitlines()[-1] == "ok: nothing found that stops ballooning on this VM",
         "a healthy VM ends with ok:")

    # A target below what the guest will give.
    q.execute("balloon", value=128 << 20)
    r, found, _ = doctor(vm.sock, "--target", "128M")
    moving = "balloon-moving" in found
    # The guest may still be inflating toward its floor: then "moving";
    # once it stops, "target-far". Ask until it stands still.
    deadline = time.monotonic() + 120
    while "balloon-moving" in found and time.monotonic() < deadline:
        r, found, _ = doctor(vm.sock, "--target", "128M")
    actual = q.execute("query-balloon")["actual"]
    t.ok(actual > 128 << 20, "the guest stopped short of 128 MiB (%d MiB)" % (actual >> 20))
    expect(r, found, {"target-far"} | notes, 0, "a target the guest cannot meet%s"
           % (" (moving at first)" if moving else ""))
    t.ok("MiB above the target and did not move" in found.get("target-far", {}).get("what", ""),
         "target-far says how far and that it stands still")
    q.execute("balloon", value=512 << 20)

    # Paused: the VM's state explains the old stats; nothing else is said.
    q.execute("stop")
    r, found, _ = doctor(vm.sock)
    expect(r, found, {"vm-not-running"} | notes, 1, "guest paused with stop")
    q.execute("cont")

    # A guest that stops answering while QEMU runs on: an NMI panics our
    # guest (interrupts off, halted). Wait until its last sample is older
    # than the interval plus slack (QEMU keeps polling every 2 s).
    q.execute("inject-nmi")
    vm.wait_serial(r"exception 2 \(NMI\)")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        st = q.execute("qom-get", path=path, property="guest-stats")
        if time.time() - st["last-update"] > 2 + 2 + 1:
            break
        time.sleep(0.5)     # the sample ages with the clock: poll it
    r, found, doc = doctor(vm.sock)
    expect(r, found, {"stats-stale"} | notes, 1, "a guest that stopped answering")
    t.is_(doc.get("status"), "running", "QEMU still says running")
    t.ok("stopped answering" in found.get("stats-stale", {}).get("what", ""),
         "stats-stale says the guest stopped answering")

sys.exit(t.done())
