# SPDX-License-Identifier: MIT
"""test-balloon-microvm.py - the same balloon driver over virtio-mmio on
QEMU's microvm (-device virtio-balloon-device): the version 1 ("legacy")
register layout QEMU uses by default and version 2 (modern, with
-global virtio-mmio.force-legacy=false). microvm,acpi=off names the
device on the kernel command line (virtio_mmio.device=...). vbctl finds
the balloon there and does query, set --wait and stats; then memory
pressure on the console makes the guest deflate. A window too small for
the balloon's config (num_pages, actual) is refused, and so is a second
entry for the same device."""

import os
import re
import sys

from balloontest import MiB, actual, expected_actual, wait_settled
from guest import Guest
from qemutest import Tap
from vbtest import run

RAM = 1024 * MiB
MIN = 16 * MiB
THRESHOLD = MIN                 # balloon.threshold defaults to the floor
SET_TIMEOUT = 200               # seconds, for vbctl set --wait under TCG

CASES = [
    # name, extra QEMU arguments, interface, features the driver must report
    ("legacy (version 1)", [], "legacy mmio", "stats-vq deflate-on-oom"),
    ("modern (version 2)", ["-global", "virtio-mmio.force-legacy=false"], "modern mmio",
     "stats-vq deflate-on-oom version-1"),
]


def check(t, name, extra, interface, features):
    with Guest(machine="microvm,acpi=off", mem="1G", append="balloon.min=16M",
               devices=["virtio-balloon-device,deflate-on-oom=on"], qmp=True,
               extra=extra) as g:
        # QEMU serves one client per monitor: one for vbctl, one for us.
        vsock = os.path.join(g.tmpdir, "vbctl-sock")
        g.argv += ["-qmp", "unix:%s,server=on,wait=off" % vsock]
        g.boot()
        q = g.qmp()
        t.ok(re.search(r"^cmdline: .*virtio_mmio\.device=512@0x[0-9a-f]+:\d+", g.log, re.M),
             "%s: QEMU names the device on the kernel command line" % name)
        t.ok(re.search(r"^balloon: ready \(%s, features: %s\)$" % (interface, features),
                       g.log, re.M),
             "%s: balloon: ready (%s, features: %s)" % (name, interface, features))

        r = run(["-j", "query"], vsock)
        t.ok(r.rc == 0 and r.json() == {"actual": RAM},
             "%s: vbctl query: actual is the whole 1 GiB (%r)" % (name, r.out))

        before = g.mem()
        r = run(["set", "384M", "--wait"], vsock, timeout=SET_TIMEOUT)
        want = expected_actual(RAM, 384 * MiB)
        t.ok(r.rc == 0 and r.out.startswith("settled at "),
             "%s: vbctl set 384M --wait settles (%r)" % (name, r.out.strip()))
        after = g.mem()
        t.is_(after["balloon"], RAM - want, "%s: the guest holds the balloon" % name)
        t.ok(after["free"] <= before["free"] - (RAM - want),
             "%s: free memory shrank by the balloon size" % name)

        r = run(["-j", "stats", "--fresh"], vsock, timeout=SET_TIMEOUT)
        stats = r.json()["stats"] if r.rc == 0 else {}
        t.ok(abs(stats.get("stat-free-memory", 0) - after["free"]) <= MiB,
             "%s: vbctl stats: the guest's free memory (%r)"
             % (name, stats.get("stat-free-memory")))
        t.is_(stats.get("stat-total-memory"), after["total"],
              "%s: vbctl stats: the guest's total memory" % name)

        # Memory pressure: at the floor, an alloc deflates first.
        q.execute("balloon", value=1)
        wait_settled(q)
        floor = g.mem()
        t.ok(MIN <= floor["free"] < MIN + 2 * MiB,
             "%s: target 1 stops at balloon.min free (%d)" % (name, floor["free"]))
        idle = g.idle_cpu_fraction(2.0)
        t.ok(idle < 0.10, "%s: settled at the floor, QEMU uses %.1f%% of a core (< 10%%)"
             % (name, 100 * idle))
        low = actual(q)
        t.ok(g.reply("alloc 64M", "alloc: ").startswith("alloc: ok 67108864 bytes"),
             "%s: alloc 64M beyond free memory succeeds" % name)
        t.ok(g.mem()["free"] >= THRESHOLD,
             "%s: free memory stays at or above balloon.threshold" % name)
        t.ok(wait_settled(q) >= low + 64 * MiB,
             "%s: actual rose by at least 64 MiB (deflate on OOM)" % name)

        g.reply("free all", "free: ")
        r = run(["set", "1G", "--wait"], vsock, timeout=SET_TIMEOUT)
        t.ok(r.rc == 0 and r.out.startswith("settled at 1.00 GiB"),
             "%s: vbctl set 1G --wait deflates completely (%r)" % (name, r.out.strip()))
        t.is_(g.mem()["balloon"], 0, "%s: the balloon is empty" % name)


def small_window(t):
    """A virtio_mmio.device= window that ends 4 bytes into the device
    config: the driver must not attach (its accesses to 'actual' would
    fall outside). QEMU's own entry for the same device comes after ours
    on the command line and attaches normally."""
    args = dict(machine="microvm,acpi=off", mem="256M",
                devices=["virtio-balloon-device"])
    with Guest(**args) as g:
        g.boot()
        m = re.search(r"virtio_mmio\.device=512@(0x[0-9a-f]+):(\d+)", g.log)
    if not m:
        t.ok(False, "small window: QEMU names the device on the command line")
        return
    with Guest(append="virtio_mmio.device=260@%s:%s" % m.groups(), **args) as g:
        g.boot()
        t.ok("balloon: cannot attach: device config space is 4 bytes, the driver needs 8\n"
             in g.log, "a 260-byte virtio-mmio window (4 bytes of config) is refused")
        t.ok(re.search(r"^balloon: ready \(legacy mmio", g.log, re.M),
             "...and QEMU's full-size entry for the device attaches")


def second_entry(t):
    """The same device named twice on the command line (ours, then
    QEMU's): a second balloon for the driver, which must refuse it
    without touching the device or its interrupt line, and go on
    driving the first."""
    args = dict(machine="microvm,acpi=off", mem="256M",
                devices=["virtio-balloon-device"], qmp=True)
    with Guest(**{k: v for k, v in args.items() if k != "qmp"}) as g:
        g.boot()
        m = re.search(r"virtio_mmio\.device=512@(0x[0-9a-f]+):(\d+)", g.log)
    if not m:
        t.ok(False, "second entry: QEMU names the device on the command line")
        return
    with Guest(append="virtio_mmio.device=512@%s:%s" % m.groups(), **args) as g:
        g.boot()
        t.is_(len(re.findall(r"^balloon: ready", g.log, re.M)), 1,
              "a device named twice attaches once")
        t.ok("balloon: cannot attach: already driving 1 device, ignoring this one\n"
             in g.log, "...and the second entry is refused")
        q = g.qmp()
        want = expected_actual(256 * MiB, 128 * MiB)
        q.execute("balloon", value=128 * MiB)
        t.is_(wait_settled(q), want, "the first goes on working: inflates to 128 MiB")
        t.is_(g.mem()["balloon"], 256 * MiB - want, "...and the guest holds the balloon")
        q.execute("balloon", value=256 * MiB)
        t.is_(wait_settled(q), 256 * MiB, "...and deflates back")
        t.is_(g.mem()["balloon"], 0, "...completely")


def main():
    t = Tap()
    for case in CASES:
        check(t, *case)
    small_window(t)
    second_entry(t)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
