# SPDX-License-Identifier: MIT
"""test-balloon-pressure.py - deflate-on-OOM takes pages back only when
the guest needs them (5.5.6.1): an allocation that leaves balloon.min
free or more does not touch the balloon, and `actual` stays at the
host's target; only an allocation that would cut into the floor deflates,
by whole 1 MiB batches, no more than it needs."""

import sys

from balloontest import MiB, actual, wait_actual, wait_settled
from guest import Guest
from qemutest import Tap

RAM = 512 * MiB
MIN = 16 * MiB
BATCH = 1 * MiB         # 256 PFNs of 4 KiB


def main():
    t = Tap()
    with Guest(mem="512M", append="balloon.min=16M",
               devices=["virtio-balloon-pci,deflate-on-oom=on"], qmp=True) as g:
        g.boot()
        q = g.qmp()
        free = g.mem()["free"]
        # A target the balloon meets with the floor 3 MiB away.
        target = RAM - (free - MIN - 3 * MiB)
        q.execute("balloon", value=target)
        wait_actual(q, target)
        m = g.mem()
        # (less a page or two: the PFN store's own chunks)
        t.ok(MIN + 3 * MiB - 64 * 1024 <= m["free"] <= MIN + 3 * MiB,
             "target met with balloon.min + 3 MiB free (%d)" % m["free"])

        t.is_(g.reply("alloc 2M", "alloc: "), "alloc: ok %d bytes (holding %d bytes)"
              % (2 * MiB, 2 * MiB), "alloc 2M, leaving 1 MiB above the floor")
        t.is_(wait_settled(q), target,
              "...does not deflate: actual stays at the host's target")
        t.is_(g.mem()["free"], m["free"] - 2 * MiB, "...and free memory fell by just 2 MiB")

        t.is_(g.reply("alloc 4M", "alloc: "), "alloc: ok %d bytes (holding %d bytes)"
              % (4 * MiB, 6 * MiB), "alloc 4M, which would cut 3 MiB into the floor")
        now = wait_settled(q)
        t.ok(target + 3 * MiB <= now <= target + 3 * MiB + BATCH,
             "...deflates what it needs: 3 MiB, in whole batches (actual %+d KiB)"
             % ((now - target) // 1024))
        m = g.mem()
        t.ok(MIN <= m["free"] < MIN + BATCH,
             "...and free memory stays at the floor (%d)" % m["free"])
        t.is_(m["balloon"], RAM - now, "...the guest's balloon agrees with actual")
        t.ok(g.alive(), "the guest is still running")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
