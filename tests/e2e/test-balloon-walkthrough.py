# SPDX-License-Identifier: MIT
"""test-balloon-walkthrough.py - the virtio-balloon walkthrough of
docs/walkthrough.md (qmp-shell steps) as assertions, on one 2 GiB q35
guest with deflate-on-oom: full size at boot, fresh statistics once
polling is on, inflate to 1000000000 and back, inflate to the floor and
stay there without spinning, then memory pressure from the console makes
the guest deflate, and the balloon still works afterwards."""

import re
import sys

from balloontest import (GiB, MiB, PAGE, actual, balloon_path, enable_stats,
                         expected_actual, fresh_stats, wait_actual, wait_settled)
from guest import Guest
from qemutest import Tap

RAM = 2 * GiB
MIN = 16 * MiB                  # balloon.min default
THRESHOLD = MIN                 # balloon.threshold defaults to the floor
SLACK = 2 * MiB                 # the balloon's own bookkeeping pages


def boot_and_stats(t, g, q, path):
    t.ok(re.search(r"^balloon: ready \(modern, features: .*stats-vq.*deflate-on-oom.*"
                   r"version-1\)$", g.log, re.M),
         "console: balloon: ready (modern, ... stats-vq deflate-on-oom version-1)")
    t.is_(actual(q), RAM, "query-balloon: actual is the whole 2 GiB")

    enable_stats(q, path)
    s = fresh_stats(q, path)
    stats = s["stats"]
    mem = g.mem()
    t.ok(RAM - 8 * MiB <= stats["stat-total-memory"] <= RAM,
         "stats after polling is on: total %d is near 2 GiB" % stats["stat-total-memory"])
    t.ok(stats["stat-total-memory"] - 4 * MiB <= stats["stat-free-memory"]
         <= stats["stat-total-memory"],
         "stats: free %d is close to total" % stats["stat-free-memory"])
    t.ok(abs(stats["stat-free-memory"] - mem["free"]) <= 1 * MiB,
         "stats: free agrees with the console's mem")
    t.is_(stats["stat-available-memory"], stats["stat-free-memory"],
          "stats: available memory is the free memory")
    t.is_(sorted(k for k, v in stats.items() if v == 2**64 - 1), [],
          "stats: every tag has a value (none left unset)")
    later = fresh_stats(q, path)
    t.ok(later["last-update"] > s["last-update"],
         "stats keep coming: last-update moves on (%d -> %d)"
         % (s["last-update"], later["last-update"]))


def inflate_and_back(t, g, q, path):
    before = g.mem()
    want = expected_actual(RAM, 1000000000)
    q.execute("balloon", value=1000000000)
    took = wait_actual(q, want)
    t.ok(took < 10, "balloon value=1000000000: actual %d within a few seconds (%.2f s)"
         % (want, took))
    size = RAM - want
    after = g.mem()
    t.is_(after["balloon"], size, "mem: the balloon holds %d bytes" % size)
    t.ok(before["free"] - size - SLACK <= after["free"] <= before["free"] - size,
         "mem: free shrank by the balloon size (%d -> %d)" % (before["free"], after["free"]))
    stats = fresh_stats(q, path)["stats"]
    t.ok(abs(stats["stat-free-memory"] - after["free"]) <= 1 * MiB,
         "stats: free memory shrank too (%d)" % stats["stat-free-memory"])

    q.execute("balloon", value=RAM)
    took = wait_actual(q, RAM)
    t.ok(took < 20, "balloon value=2147483648: actual back to 2 GiB (%.2f s)" % took)
    back = g.mem()
    t.is_(back["balloon"], 0, "mem: the balloon is empty")
    t.ok(abs(back["free"] - before["free"]) <= SLACK,
         "mem: free is back where it was within 2 MiB (%d vs %d)"
         % (back["free"], before["free"]))


def floor_and_pressure(t, g, q, path):
    q.execute("balloon", value=1)
    settled = wait_settled(q)
    floor = g.mem()
    t.ok(MIN <= floor["free"] <= MIN + SLACK,
         "balloon value=1: inflation stops at balloon.min free (%d)" % floor["free"])
    t.is_(settled, RAM - floor["balloon"], "actual is the guest's RAM minus the balloon")
    cpu = g.idle_cpu_fraction(3.0)
    t.ok(cpu < 0.10, "settled at the floor, QEMU uses %.1f%% of a core (< 10%%)" % (cpu * 100))
    t.is_(actual(q), settled, "actual stays put while settled")
    t.is_(g.mem(), floor, "free memory and balloon stay put while settled")

    grab = 64 * MiB
    minflt = fresh_stats(q, path)["stats"]["stat-minor-faults"]
    reply = g.reply("alloc 64M", "alloc: ")
    t.is_(reply, "alloc: ok %d bytes (holding %d bytes)" % (grab, grab),
          "alloc 64M beyond free memory succeeds")
    pressed = g.mem()
    t.ok(pressed["free"] >= THRESHOLD,
         "free memory stays at or above balloon.threshold (%d)" % pressed["free"])
    t.ok(pressed["balloon"] <= floor["balloon"] - grab,
         "the guest deflated at least 64 MiB to make room")
    rose = wait_settled(q)
    t.ok(rose >= settled + grab, "actual rose by at least 64 MiB (%d -> %d)" % (settled, rose))
    stats = fresh_stats(q, path)["stats"]
    t.ok(stats["stat-minor-faults"] >= minflt + grab // PAGE,
         "stats: minor faults count the touched pages (%d -> %d)"
         % (minflt, stats["stat-minor-faults"]))
    t.ok(g.mem()["free"] >= THRESHOLD,
         "once settled again, free memory is still at or above the threshold")

    t.is_(g.reply("free all", "free: "), "free: ok %d bytes (holding 0 bytes)" % grab,
          "free all")
    want = expected_actual(RAM, GiB)
    q.execute("balloon", value=GiB)
    wait_actual(q, want)
    t.is_(g.mem()["balloon"], RAM - want, "a new target (1 GiB) works afterwards")
    q.execute("balloon", value=RAM)
    wait_actual(q, RAM)
    t.is_(g.mem()["balloon"], 0, "and so does deflating completely")


def main():
    t = Tap()
    with Guest(mem="2G", devices=["virtio-balloon-pci,deflate-on-oom=on"], qmp=True) as g:
        g.boot()
        q = g.qmp()
        path = balloon_path(q)
        boot_and_stats(t, g, q, path)
        inflate_and_back(t, g, q, path)
        floor_and_pressure(t, g, q, path)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
