# SPDX-License-Identifier: MIT
"""test-balloon-inflight.py - an allocation in the middle of a long
inflation (deflate-on-oom): the console's alloc arrives right behind the
host's new target, while most of the balloon is still in inflate
descriptors the device has not returned. Those pages cannot be deflated
before the device has them (virtio 5.5.6), so the reclaim hook must
wait for their batches instead of giving up: the alloc succeeds. (Before
the fix it failed in every run here, with 256 MiB still in flight.)"""

import sys

from balloontest import MiB, wait_settled
from guest import Guest, Tap

THRESHOLD = 16 * MiB            # balloon.threshold defaults to balloon.min=16M
ROUNDS = 3


def main():
    t = Tap()
    for n in range(1, ROUNDS + 1):
        with Guest(mem="2G", append="balloon.min=16M",
                   devices=["virtio-balloon-pci,deflate-on-oom=on"], qmp=True) as g:
            g.boot()
            g.wait_for(r"balloon: ready", since=0)
            q = g.qmp()
            free = g.mem()["free"]
            want = free - 64 * MiB
            # No pause between the two: the alloc must run while the
            # first inflate batches are in flight.
            q.execute("balloon", value=64 * MiB)
            t.is_(g.reply("alloc %d" % want, "alloc: "),
                  "alloc: ok %d bytes (holding %d bytes)" % (want, want),
                  "run %d: alloc of all but 64 MiB right behind a 2G -> 64M target succeeds"
                  % n)
            wait_settled(q)
            m = g.mem()
            t.ok(m["free"] >= THRESHOLD,
                 "run %d: the balloon settles leaving balloon.threshold free (%d)"
                 % (n, m["free"]))
            t.ok(g.alive(), "run %d: the guest is still running" % n)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
