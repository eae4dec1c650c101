# SPDX-License-Identifier: MIT
"""test-balloon-inflight.py - an allocation in the middle of a long
inflation (deflate-on-oom): the console's alloc arrives right behind the
host's new target, while most of the balloon is still in inflate
descriptors the device has not returned. Those pages cannot be deflated
before the device has them (virtio 5.5.6), so the reclaim hook must
wait for their batches instead of giving up: the alloc succeeds. (Before
the fix it failed in every run here, with 256 MiB still in flight.)

The driver says on the console when its reclaim hook finds inflate
batches in flight ("balloon: reclaim: N pages in inflate batches in
flight, M returned"): each run requires that line during the alloc, so
an alloc that merely came before or after the inflation proves nothing
and fails. Under TCG QEMU handles a queue notification at once, so the
batches are back (used, not yet collected) when the reclaim hook looks:
the wait for the device itself is proved by test-balloon-reclaim's fake
device, which returns batches only when told to."""

import re
import sys

from balloontest import MiB, wait_settled
from guest import Guest, Tap

THRESHOLD = 16 * MiB            # balloon.threshold defaults to balloon.min=16M
ROUNDS = 3
IN_FLIGHT = re.compile(r"^balloon: reclaim: (\d+) pages in inflate batches in flight, "
                       r"(\d+) returned$")


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
            lines = g.command("alloc %d" % want)
            t.is_([l for l in lines if l.startswith("alloc: ")],
                  ["alloc: ok %d bytes (holding %d bytes)" % (want, want)],
                  "run %d: alloc of all but 64 MiB right behind a 2G -> 64M target succeeds"
                  % n)
            seen = [m.groups() for m in map(IN_FLIGHT.match, lines) if m]
            if not t.ok(seen and int(seen[0][0]) > 0,
                        "run %d: the reclaim hook found inflate batches in flight (%s)"
                        % (n, "; ".join("%s pages, %s returned" % s for s in seen)
                           or "none")):
                t.diag("\n".join(lines))
            wait_settled(q)
            m = g.mem()
            t.ok(m["free"] >= THRESHOLD,
                 "run %d: the balloon settles leaving balloon.threshold free (%d)"
                 % (n, m["free"]))
            t.ok(g.alive(), "run %d: the guest is still running" % n)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
