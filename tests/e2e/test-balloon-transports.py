# SPDX-License-Identifier: MIT
"""test-balloon-transports.py - the balloon driver over each virtio-pci
interface: a legacy-only device (disable-modern=on) on q35 and pc, and a
modern-only device (disable-legacy=on) on pc. Each must say which
interface it uses, inflate and deflate to the host's targets, and answer
statistics requests. And a device the driver cannot reach (legacy-only
behind a PCIe port without an I/O window) makes the driver say why,
while the kernel runs on."""

import re
import sys

from balloontest import (MiB, actual, balloon_path, enable_stats, expected_actual,
                         fresh_stats, wait_actual)
from guest import Guest
from qemutest import Tap

RAM = 1024 * MiB

CASES = [
    # machine, device, interface, features the driver must report
    ("q35", "virtio-balloon-pci,disable-modern=on,deflate-on-oom=on", "legacy",
     "stats-vq deflate-on-oom"),
    ("pc", "virtio-balloon-pci,disable-modern=on", "legacy", "stats-vq"),
    ("pc", "virtio-balloon-pci,disable-legacy=on,deflate-on-oom=on", "modern",
     "stats-vq deflate-on-oom version-1"),
]


def check(t, machine, device, interface, features):
    name = "%s %s" % (machine, device.split(",", 1)[1])
    with Guest(machine=machine, mem="1G", devices=[device], qmp=True) as g:
        g.boot()
        q = g.qmp()
        path = balloon_path(q)
        t.ok(re.search(r"^balloon: ready \(%s, features: %s\)$" % (interface, features),
                       g.log, re.M),
             "%s: balloon: ready (%s, features: %s)" % (name, interface, features))
        t.is_(actual(q), RAM, "%s: actual is the whole 1 GiB at boot" % name)

        before = g.mem()
        want = expected_actual(RAM, 384 * MiB)
        q.execute("balloon", value=384 * MiB)
        wait_actual(q, want)
        after = g.mem()
        t.is_(after["balloon"], RAM - want, "%s: inflated to 384 MiB" % name)
        t.ok(after["free"] <= before["free"] - (RAM - want),
             "%s: free memory shrank by the balloon size" % name)

        enable_stats(q, path)
        stats = fresh_stats(q, path)["stats"]
        t.ok(abs(stats["stat-free-memory"] - after["free"]) <= MiB,
             "%s: stats report the free memory (%d)" % (name, stats["stat-free-memory"]))

        q.execute("balloon", value=RAM)
        wait_actual(q, RAM)
        t.is_(g.mem()["balloon"], 0, "%s: deflated back to 1 GiB" % name)


def unreachable(t):
    with Guest(machine="q35", mem="512M",
               extra=["-device", "pcie-root-port,id=rp1,io-reserve=0",
                      "-device", "virtio-balloon-pci,disable-modern=on,"
                      "disable-legacy=off,bus=rp1"]) as g:
        g.boot()
        t.ok(re.search(r"^balloon: cannot attach: .+$", g.log, re.M),
             "legacy BAR unreachable: balloon: cannot attach: REASON")
        t.ok(not re.search(r"balloon: (ready|no virtio-balloon)", g.log),
             "...and neither 'ready' nor 'no device found'")
        t.is_(g.reply("alloc 16M", "alloc: "),
              "alloc: ok %d bytes (holding %d bytes)" % (16 * MiB, 16 * MiB),
              "the kernel runs on: alloc works")
        t.is_(g.mem()["balloon"], 0, "the kernel runs on: mem works, no balloon")


def main():
    t = Tap()
    for case in CASES:
        check(t, *case)
    unreachable(t)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
