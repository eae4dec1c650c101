# SPDX-License-Identifier: MIT
"""test-guest-memory.py - the guest finds all of its RAM (512 MiB, 2 GiB,
and 4 GiB, which q35 splits around the PCI hole and above 4 GiB), and its
console's alloc/free keep the free count exact: a round trip gives back
every byte, and an allocation larger than free memory fails cleanly."""

import re
import sys

from guest import Guest
from qemutest import Tap

MiB = 1 << 20
GiB = 1 << 30


def check_total(t, g, size, name):
    m = g.mem()
    t.ok(size - 4 * MiB <= m["total"] <= size,
         "%s: mem total %d is within 4 MiB below -m" % (name, m["total"]))
    # The kernel keeps 4 bytes per page for its free-page stack (0.1%),
    # plus page tables.
    t.ok(m["total"] - m["total"] // 1000 - MiB <= m["free"] <= m["total"],
         "%s: all but 0.1%% + 1 MiB is free after boot (%d)" % (name, m["free"]))
    return m


def round_trip(t, g):
    before = g.mem()["free"]
    t.is_(g.command("alloc 256M"),
          ["alloc: ok 268435456 bytes (holding 268435456 bytes)"],
          "alloc 256M takes and holds 256 MiB")
    t.is_(g.mem()["free"], before - 256 * MiB, "free drops by exactly 256 MiB")
    t.is_(g.command("alloc 100K"),
          ["alloc: ok 102400 bytes (holding 268537856 bytes)"],
          "a second alloc adds to what is held")
    t.is_(g.command("alloc 5"),
          ["alloc: ok 4096 bytes (holding 268541952 bytes)"],
          "sizes round up to whole 4 KiB pages")
    t.is_(g.command("free 64M"),
          ["free: ok 67108864 bytes (holding 201433088 bytes)"],
          "free 64M releases 64 MiB of it")
    t.is_(g.mem()["free"], before - 201433088, "free rises by exactly 64 MiB")
    t.is_(g.command("free all"),
          ["free: ok 201433088 bytes (holding 0 bytes)"], "free all releases the rest")
    t.is_(g.mem()["free"], before, "after free all, free is exactly what it was before")


def overcommit(t, g):
    before = g.mem()
    lines = g.command("alloc %d" % (before["free"] + 4096))
    t.is_(lines, ["alloc: failed after %d bytes: out of memory (holding 0 bytes)"
                  % before["free"]],
          "alloc of more than free takes all there is, fails, and gives it back")
    t.is_(g.mem(), before, "the failed alloc leaves memory as it was")
    t.is_(g.command("alloc %d" % before["free"]),
          ["alloc: ok %d bytes (holding %d bytes)" % (before["free"], before["free"])],
          "exactly all free memory can be allocated")
    t.is_(g.mem()["free"], 0, "and then nothing is free")
    t.is_(g.command("alloc 4K"),
          ["alloc: failed after 0 bytes: out of memory (holding %d bytes)" % before["free"]],
          "one more page fails cleanly")
    t.is_(g.command("free all"),
          ["free: ok %d bytes (holding 0 bytes)" % before["free"]], "free all gives it all back")
    t.is_(g.mem(), before, "the guest lives on with all its memory")


def main():
    t = Tap()
    with Guest(mem="512M") as g:
        g.boot()
        check_total(t, g, 512 * MiB, "512M")
        overcommit(t, g)

    with Guest(mem="2G") as g:
        g.boot()
        check_total(t, g, 2 * GiB, "2G")
        round_trip(t, g)
        overcommit(t, g)

    with Guest(mem="4G") as g:
        g.boot()
        check_total(t, g, 4 * GiB, "4G")
        t.ok(re.search(r"^memmap: 0*100000000-", g.log, re.M),
             "4G: q35 puts part of the RAM above 4 GiB")
        # More than the 2 GiB below the PCI hole: pages above 4 GiB are
        # mapped and usable.
        t.is_(g.command("alloc 3G"),
              ["alloc: ok 3221225472 bytes (holding 3221225472 bytes)"],
              "4G: alloc 3G uses RAM above 4 GiB")
        t.is_(g.command("free all"),
              ["free: ok 3221225472 bytes (holding 0 bytes)"], "4G: and frees it")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
