# SPDX-License-Identifier: MIT
"""test-guest-paging.py - the guest maps RAM write-back and only the MMIO
hole uncached: from the end of RAM below 4 GiB (per the memory map,
rounded up to the 2 MiB page) to 4 GiB. pc with 3300 MiB keeps 3.2 GiB
of RAM below 4 GiB, which a fixed 3-4 GiB uncached mapping made
uncached. TCG ignores memory types, so this reads the boot-log line the
kernel prints from its page-table entries ("paging: A-B uncached")."""

import re
import sys

from guest import Guest
from qemutest import Tap

GiB = 1 << 30
LARGE_PAGE = 2 << 20

CASES = [
    # machine, -m, where the hole must start (None: only from the map)
    ("pc", "3300M", 3300 << 20),
    ("q35", "3G", 2 * GiB),         # q35 puts 2 GiB below 4 GiB, 1 GiB above
    ("q35", "2500M", None),
    ("pc", "4G", 3 * GiB),
    ("microvm", "1G", 1 * GiB),
]


def check(t, machine, mem, want_start):
    name = "%s -m %s" % (machine, mem)
    with Guest(machine=machine, mem=mem) as g:
        g.boot()
        log = g.log
    ram_ends = [int(b, 16) + 1 for a, b in re.findall(
        r"^memmap: ([0-9a-f]+)-([0-9a-f]+) ram$", log, re.M) if int(a, 16) < 4 * GiB]
    low_end = min(max(ram_ends), 4 * GiB) if ram_ends else 0
    start = (low_end + LARGE_PAGE - 1) // LARGE_PAGE * LARGE_PAGE
    uncached = [(int(a, 16), int(b, 16)) for a, b in re.findall(
        r"^paging: ([0-9a-f]+)-([0-9a-f]+) uncached$", log, re.M)]
    t.is_(uncached, [(start, 4 * GiB - 1)],
          "%s: uncached exactly from the end of low RAM (%#x) to 4 GiB" % (name, low_end))
    if want_start is not None:
        t.is_(start, want_start, "%s: the memory map puts the hole at %#x" % (name, want_start))
    t.ok(all(a >= low_end for a, b in uncached), "%s: no RAM page is uncached" % name)


def main():
    t = Tap()
    for case in CASES:
        check(t, *case)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
