# SPDX-License-Identifier: MIT
"""test-balloon-reporting.py - free page reporting (virtio 5.5.6.7,
VIRTIO_BALLOON_F_PAGE_REPORTING): with QEMU's free-page-reporting=on the
guest reports memory it frees and QEMU discards it, so QEMU's resident
memory falls back after `alloc 1G` + `free all`, and the guest's free
count comes back exactly. Without the property nothing is reported and
QEMU keeps the memory. With free-page-hint=on offered too, the reports
must go to the reporting queue, not to the hint queue before it."""

import re
import sys
import time

from balloontest import GiB, MiB
from guest import Guest
from qemutest import Tap

DEVICE = "virtio-balloon-pci,deflate-on-oom=on"
ALLOC = 1 * GiB
RISE = 900 * MiB        # QEMU's RSS after alloc 1G: at least this much more
DROP = 768 * MiB        # ... and after free all, at least this much less
TIMEOUT = 60            # seconds for the report to land (TCG, loaded host)


def wait_rss_below(g, limit, timeout):
    """Poll until QEMU's RSS is below LIMIT; the last value read."""
    deadline = time.monotonic() + timeout
    while True:
        now = g.rss_bytes()
        if now < limit or time.monotonic() > deadline:
            return now
        time.sleep(0.05)


def wait_free(g, want, timeout):
    """Poll `mem` until free == WANT; the last reading."""
    deadline = time.monotonic() + timeout
    while True:
        m = g.mem()
        if m["free"] == want or time.monotonic() > deadline:
            return m
        time.sleep(0.1)


def rss_detail(g):
    """QEMU's resident memory by kind, for a failure's diagnosis."""
    with open("/proc/%d/status" % g.proc.pid) as f:
        return " ".join(l.split(":")[0] + "=" + l.split()[1] + "k"
                        for l in f if l.startswith("Rss"))


def alloc_free(t, g, what):
    """alloc 1G and free all, checking the replies and that QEMU's RSS
    rose with the alloc; returns the RSS before and after the alloc."""
    before, detail = g.rss_bytes(), rss_detail(g)
    t.is_(g.reply("alloc 1G", "alloc: "),
          "alloc: ok %d bytes (holding %d bytes)" % (ALLOC, ALLOC), "%s: alloc 1G" % what)
    up = g.rss_bytes()
    if not t.ok(up - before >= RISE, "%s: QEMU RSS rose by %d MiB (%d -> %d MiB)"
                % (what, (up - before) // MiB, before // MiB, up // MiB)):
        t.diag("before: %s\nafter:  %s" % (detail, rss_detail(g)))
    t.is_(g.reply("free all", "free: "),
          "free: ok %d bytes (holding 0 bytes)" % ALLOC, "%s: free all" % what)
    return before, up


def reported_round(t, g, what, mem0):
    """alloc 1G, free all: QEMU's RSS falls back, and once the report is
    over the guest's memory is exactly MEM0 again."""
    before, up = alloc_free(t, g, what)
    start = time.monotonic()
    down = wait_rss_below(g, up - DROP, TIMEOUT)
    took = time.monotonic() - start
    t.ok(up - down >= DROP, "%s: after free all QEMU RSS fell by %d MiB in %.1f s "
         "(%d -> %d MiB)" % (what, (up - down) // MiB, took, up // MiB, down // MiB))
    # Pages out for a report are not free; once it is over, all are.
    t.is_(wait_free(g, mem0["free"], TIMEOUT), mem0,
          "%s: mem is exactly as before the alloc" % what)
    # Free memory is whole between two rounds too: wait for the last
    # round (QEMU's RSS all the way down) before the next measurement.
    # Down means to where it was before the alloc: a bound taken from
    # the RSS after it alone would be loose by whatever else QEMU grew
    # meanwhile, and could let the next round start with a report round
    # (128 MiB) still to come, its pages reused by that round's alloc.
    floor = min(before, up - ALLOC) + 64 * MiB
    last = wait_rss_below(g, floor, TIMEOUT)
    t.ok(last < floor, "%s: in the end the whole 1 GiB is discarded "
         "(RSS %d MiB, %d before the alloc)" % (what, last // MiB, before // MiB))


def main():
    t = Tap()
    with Guest(mem="2G", devices=[DEVICE + ",free-page-reporting=on"]) as g:
        g.boot()
        t.ok(re.search(r"^balloon: ready \(modern, features: stats-vq deflate-on-oom "
                       r"page-reporting version-1\)$", g.log, re.M),
             "balloon: ready names page-reporting")
        mem0 = g.mem()
        reported_round(t, g, "first", mem0)
        # Pages reported before are reused, and reported again once freed.
        reported_round(t, g, "second", mem0)
        # Reported pages are not reported again: the guest goes idle.
        cpu = g.idle_cpu_fraction(3.0)
        t.ok(cpu < 0.10, "after the reports QEMU uses %.1f%% of a core (< 10%%)" % (cpu * 100))
        t.is_(g.mem(), mem0, "mem stays put while idle")

    # The legacy interface: the same queue layout (reporting_vq at 3).
    with Guest(mem="2G", devices=["virtio-balloon-pci,disable-modern=on,"
                                  "free-page-reporting=on"]) as g:
        g.boot()
        t.ok(re.search(r"^balloon: ready \(legacy, features: stats-vq page-reporting\)$",
                       g.log, re.M), "legacy: balloon: ready names page-reporting")
        reported_round(t, g, "legacy", g.mem())

    # QEMU with free-page-hint=on creates free_page_vq (index 3) whether or
    # not the driver accepts the feature, and reporting_vq moves to 4.
    with Guest(mem="2G", devices=[DEVICE + ",free-page-hint=on,iothread=io0,"
                                  "free-page-reporting=on"],
               extra=["-object", "iothread,id=io0"]) as g:
        g.boot()
        t.ok(re.search(r"^balloon: ready \(modern, features: .*page-reporting", g.log, re.M),
             "free-page-hint offered: balloon: ready names page-reporting")
        reported_round(t, g, "free-page-hint offered", g.mem())

    with Guest(mem="2G", devices=[DEVICE]) as g:
        g.boot()
        t.ok(re.search(r"^balloon: ready \(modern, features: stats-vq deflate-on-oom "
                       r"version-1\)$", g.log, re.M),
             "without free-page-reporting=on: no page-reporting")
        mem0 = g.mem()
        _, up = alloc_free(t, g, "no reporting")
        # Nothing to poll for: give a report ample time (its delay is 1 s).
        time.sleep(4)
        after = g.rss_bytes()
        t.ok(up - after < 64 * MiB, "no reporting: QEMU RSS stays up (%d -> %d MiB)"
             % (up // MiB, after // MiB))
        t.is_(g.mem(), mem0, "no reporting: mem is exactly as before the alloc")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
