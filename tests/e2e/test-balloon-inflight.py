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
flight, M returned"): each run requires that line during the alloc. An
alloc that came before the inflation began (the console's work can still
run before the config interrupt's) proves nothing: that attempt is
repeated in a fresh guest. Under TCG QEMU handles a queue notification at once, so the
batches are back (used, not yet collected) when the reclaim hook looks:
the wait for the device itself is proved by test-balloon-reclaim's fake
device, which returns batches only when told to."""

import re
import sys

from balloontest import MiB, wait_settled
from guest import Guest
from qemutest import Tap

THRESHOLD = 16 * MiB            # balloon.threshold defaults to balloon.min=16M
ROUNDS = 3
RETRIES = 6             # extra attempts for runs whose alloc came too early
IN_FLIGHT = re.compile(r"^balloon: reclaim: (\d+) pages in inflate batches in flight, "
                       r"(\d+) returned$")


def alloc_behind_target(g, q, want):
    """Type `alloc WANT`, set a 64M target, press Enter: the reply lines.
    The line completes as the driver starts filling inflate batches, so
    the alloc runs while they are in flight (queued behind the config
    interrupt's work)."""
    line = "alloc %d" % want
    since = g.mark()
    g.send(line)
    g.wait_for(re.escape(line) + "$", since=since)
    q.execute("balloon", value=64 * MiB)
    g.send("\r")
    return g.wait_for(r"%s\n((?:.*\n)*?)%s" % (re.escape(line), re.escape(g.prompt)),
                      since=since).group(1).splitlines()


def main():
    t = Tap()
    n = attempts = 0
    while n < ROUNDS:
        attempts += 1
        if attempts > ROUNDS + RETRIES:
            t.ok(False, "%d runs with the alloc during the inflation in %d attempts"
                 % (ROUNDS, attempts - 1))
            break
        with Guest(mem="2G", append="balloon.min=16M",
                   devices=["virtio-balloon-pci,deflate-on-oom=on"], qmp=True) as g:
            g.boot()
            g.wait_for(r"balloon: ready", since=0)
            q = g.qmp()
            free = g.mem()["free"]
            want = free - 64 * MiB
            lines = alloc_behind_target(g, q, want)
            seen = [m.groups() for m in map(IN_FLIGHT.match, lines) if m]
            ok = "alloc: ok %d bytes (holding %d bytes)" % (want, want)
            if not seen and ok in lines:
                # The console's work ran before the config interrupt's:
                # the alloc came before the inflation began and proves
                # nothing. Not a failure; run again.
                t.diag("attempt %d: the alloc ran before the inflation started; again"
                       % attempts)
                continue
            n += 1
            t.is_([l for l in lines if l.startswith("alloc: ")], [ok],
                  "run %d: alloc of all but 64 MiB right behind a 2G -> 64M target succeeds"
                  % n)
            if not t.ok(seen and int(seen[0][0]) > 0,
                        "run %d: the reclaim hook found inflate batches in flight (%s)"
                        % (n, "%s pages, %s returned" % seen[0] if seen else "none")):
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
