# SPDX-License-Identifier: MIT
"""test-balloon-hint.py - free page hinting (5.5.6.4, QEMU's
free-page-hint=on, which needs an iothread): when a migration starts,
QEMU gives the driver a command id; the driver answers with that id and
then hints its free memory, which the migration then skips. After
`alloc 1G` + `free all` the freed gibibyte is dirty and not zero, so
without hints a migration sends all of it; with them it sends a fraction.
Once QEMU says DONE the hinted pages are the guest's again."""

import re
import sys
import time

from balloontest import MiB
from guest import Guest
from qemutest import Tap

BANDWIDTH = 128 * MiB   # after the hints: what the migration sends at
CRAWL = 1 * MiB         # ... before them: the bulk stage barely starts
HINTED_FREE = 128 * MiB  # guest free memory once its free pages are hinted
TIMEOUT = 120


def migrate(t, g, hint):
    """Migrate to nowhere; returns (status, ram bytes sent). With HINT,
    the migration crawls until the guest has hinted its free memory (its
    free count falls: hinted pages are out of its allocator), so the hints
    land before the bulk stage gets to those pages however slow the
    guest runs; then it goes at BANDWIDTH, as without."""
    q = g.qmp()
    q.execute("migrate-set-parameters", **{"max-bandwidth": CRAWL if hint else BANDWIDTH})
    q.execute("migrate", uri="exec:cat > /dev/null")
    if hint:
        m = wait_free(g, lambda free: free < HINTED_FREE, TIMEOUT)
        t.ok(m["free"] < HINTED_FREE, "free-page-hint=on: the guest hints its free memory "
             "once the migration starts (free %d MiB)" % (m["free"] // MiB))
        q.execute("migrate-set-parameters", **{"max-bandwidth": BANDWIDTH})
    deadline = time.monotonic() + TIMEOUT
    while True:
        st = q.execute("query-migrate")
        if st.get("status") in ("completed", "failed", "cancelled") or \
                time.monotonic() > deadline:
            return st.get("status"), st.get("ram", {}).get("normal-bytes", 0)
        time.sleep(0.1)


def wait_free(g, done, timeout):
    """Poll `mem` until DONE(free); the last reading."""
    deadline = time.monotonic() + timeout
    while True:
        m = g.mem()
        if done(m["free"]) or time.monotonic() > deadline:
            return m
        time.sleep(0.1)


def run(t, hint):
    what = "free-page-hint=on" if hint else "without free-page-hint"
    dev = "virtio-balloon-pci" + (",free-page-hint=on,iothread=io0" if hint else "")
    with Guest(mem="2G", devices=[dev], qmp=True,
               extra=["-object", "iothread,id=io0"]) as g:
        g.boot()
        ready = re.search(r"^balloon: ready \(.*\)$", g.log, re.M)
        t.is_(bool(ready and "free-page-hint" in ready.group(0)), hint,
              "%s: the ready line %s free-page-hint" % (what, "names" if hint else "lacks"))
        g.reply("alloc 1G", "alloc: ok", timeout=TIMEOUT)
        g.reply("free all", "free: ok")
        free = g.mem()["free"]
        status, sent = migrate(t, g, hint)
        t.is_(status, "completed", "%s: the migration completes" % what)
        g.qmp().execute("cont")
        m = wait_free(g, lambda f: f >= free, TIMEOUT)
        t.is_(m["free"], free, "%s: afterwards the guest's free memory is as before" % what)
        t.ok(g.alive(), "%s: the guest runs on" % what)
        return sent


def main():
    t = Tap()
    plain = run(t, False)
    t.ok(plain >= 1024 * MiB, "without hints the migration sends the freed 1 GiB "
         "(%d MiB of RAM)" % (plain // MiB))
    hinted = run(t, True)
    t.ok(hinted < 512 * MiB, "with hints it skips most of it (%d MiB of RAM, %d MiB "
         "without)" % (hinted // MiB, plain // MiB))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
