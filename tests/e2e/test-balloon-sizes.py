# SPDX-License-Identifier: MIT
"""test-balloon-sizes.py - the balloon in a 512 MiB guest with balloon.min
and balloon.debug set (the floor moves, per-batch debug lines appear), and
in a 4 GiB guest whose RAM lies partly above 4 GiB, with targets that
change while batches are still in flight."""

import re
import sys

from balloontest import (GiB, MiB, actual, expected_actual, wait_actual, wait_settled)
from guest import Guest
from qemutest import Tap

SLACK = 2 * MiB


def small_guest(t):
    ram = 512 * MiB
    with Guest(mem="512M", append="balloon.min=32M balloon.debug=1",
               devices=["virtio-balloon-pci,deflate-on-oom=on"], qmp=True) as g:
        g.boot()
        q = g.qmp()
        t.is_(actual(q), ram, "512M: actual is 512 MiB at boot")
        mark = g.mark()
        q.execute("balloon", value=1)
        wait_settled(q)
        m = g.mem()
        t.ok(32 * MiB <= m["free"] <= 32 * MiB + SLACK,
             "512M, balloon.min=32M: inflation stops at 32 MiB free (%d)" % m["free"])
        debug = g.log[mark:]
        # The debug lines exist only in a guest built with
        # --enable-balloon-debug (scripts/check.sh's sanitized run).
        if re.search(r"^balloon: ignoring balloon.debug=1: built without "
                     r"--enable-balloon-debug$", g.log, re.M):
            t.ok(not re.search(r"^balloon: (inflate batch|at the floor)", debug, re.M),
                 "balloon.debug=1 without --enable-balloon-debug: said so, no debug lines")
        else:
            t.ok(re.search(r"^balloon: inflate batch of 256 pages", debug, re.M),
                 "balloon.debug=1: a line per inflate batch")
            t.ok(re.search(r"^balloon: at the floor", debug, re.M),
                 "balloon.debug=1: says when it stops at the floor")
        q.execute("balloon", value=ram)
        wait_actual(q, ram)
        t.is_(g.mem()["balloon"], 0, "512M: deflated completely")


def big_guest(t):
    ram = 4 * GiB
    with Guest(mem="4G", devices=["virtio-balloon-pci"], qmp=True) as g:
        g.boot()
        q = g.qmp()
        t.is_(actual(q), ram, "4G: actual is 4 GiB at boot")
        before = g.mem()

        # Inflate 3 GiB (pages below and above 4 GiB), changing course
        # twice while batches are in flight.
        q.execute("balloon", value=GiB)
        q.execute("balloon", value=3 * GiB)
        q.execute("balloon", value=GiB)
        want = expected_actual(ram, GiB)
        wait_actual(q, want)
        m = g.mem()
        t.is_(m["balloon"], ram - want, "4G: after changing targets mid-flight, 3 GiB inflated")
        t.ok(m["free"] <= before["free"] - (ram - want),
             "4G: free memory shrank by 3 GiB")
        q.execute("balloon", value=2 * GiB)
        wait_actual(q, expected_actual(ram, 2 * GiB))
        t.is_(g.mem()["balloon"], 2 * GiB, "4G: deflated part way, to 2 GiB")
        q.execute("balloon", value=ram)
        wait_actual(q, ram)
        after = g.mem()
        t.is_(after["balloon"], 0, "4G: deflated completely")
        t.ok(abs(after["free"] - before["free"]) <= SLACK,
             "4G: free memory is back where it was")


def main():
    t = Tap()
    small_guest(t)
    big_guest(t)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
