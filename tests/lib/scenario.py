# SPDX-License-Identifier: MIT
"""scenario.py - a fleet of our guests under a scripted memory workload, for
bench/autopilot and the autopilot's end-to-end test.

A Fleet boots N guests (kernel/guest.elf, q35, virtio-balloon-pci with
deflate-on-oom=on). Each QEMU has two QMP sockets: one in a shared
directory for the manager under test (`vbctl auto --sockets DIR/*.sock`),
one private for the measurements. A Scenario then plays a script of
console commands (`alloc SIZE`, `free all`) at set times on the guests'
consoles while a sampler records, every SAMPLE_S, each guest's balloon size
(`actual`) and each QEMU's resident memory, and reports:

  peak and mean of the sum of actual and of the sum of RSS, time over the
  budget (in all, and the longest stretch), allocations that failed in a
  guest, and for each spike the time from the end of its allocation until
  the guest had its reserve available again ("given back").

API
  Fleet(n, mem="1G").boot([which])  .guests, .names, .dir, .glob, .close()
      .kill(i)  guest I's QEMU killed (SIGKILL)   .restart(i)  booted again
      on the same socket
  run_scenario(fleet, script, duration, budget, reserve) -> Result
      script: [(t_seconds, guest_index, command, label)], label "spike"
      marks the allocations whose reaction is timed.
"""

import os
import re
import shutil
import tempfile
import threading
import time

from guest import Guest

MiB = 1 << 20
GiB = 1 << 30
SAMPLE_S = 0.1
FREE_RE = re.compile(r"^mem: total=(\d+) free=(\d+) balloon=(\d+)$")


def rss_bytes(pid):
    """QEMU's resident memory (VmRSS), in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Fleet:
    """N guests; the manager's sockets are DIR/gI.sock."""

    def __init__(self, n, mem="1G", append=""):
        self.dir = tempfile.mkdtemp(prefix="vballoon-fleet-")
        self.glob = os.path.join(self.dir, "*.sock")
        self.names = ["g%d.sock" % i for i in range(n)]
        self.mem, self.append = mem, append
        self.guests = [self._guest(name) for name in self.names]

    def _guest(self, name):
        sock = os.path.join(self.dir, name)
        return Guest(mem=self.mem, append=self.append, qmp=True,
                     devices=["virtio-balloon-pci,deflate-on-oom=on"],
                     extra=["-qmp", "unix:%s,server=on,wait=off" % sock])

    def boot(self, which=None):
        """Boots the guests numbered in WHICH (default: all)."""
        guests = [self.guests[i] for i in (which if which is not None
                                           else range(len(self.guests)))]
        for g in guests:
            g.start()
        for g in guests:
            g.wait_for(r"guest> ", 180)
        return self

    def kill(self, i):
        """QEMU of guest I killed outright (SIGKILL): its sockets stay
        behind, as after a crash."""
        self.guests[i].kill()
        self.guests[i].close()

    def restart(self, i):
        """Guest I booted again in a new QEMU on the same manager socket."""
        self.guests[i] = self._guest(self.names[i])
        self.boot([i])
        return self.guests[i]

    def actuals(self):
        """Each started guest's balloon size (actual), in guest order."""
        return [g.qmp().execute("query-balloon")["actual"] for g in self.guests
                if g.proc]

    def close(self):
        for g in self.guests:
            g.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Result:
    def __init__(self):
        self.samples = []       # (t, [actual...], [rss...])
        self.commands = []      # (guest, command, label, t_sent, t_done, ok, reply)
        self.spikes = []        # dicts: guest, t, given_back_s
        self.lock = threading.Lock()

    # -- summaries ---------------------------------------------------------

    def _sums(self, k):
        return [sum(s[k]) for s in self.samples]

    def peak_actual(self):
        return max(self._sums(1))

    def mean_actual(self):
        v = self._sums(1)
        return sum(v) / len(v)

    def peak_rss(self):
        return max(self._sums(2))

    def mean_rss(self):
        v = self._sums(2)
        return sum(v) / len(v)

    def seconds_over(self, budget, k=1):
        """Time the sum (of actual: k=1, of RSS: k=2) spent over BUDGET."""
        over = 0.0
        for a, b in zip(self.samples, self.samples[1:]):
            if sum(a[k]) > budget:
                over += b[0] - a[0]
        return over

    def longest_over(self, budget, k=1):
        """The longest stretch of time the sum spent over BUDGET."""
        longest = run = 0.0
        for a, b in zip(self.samples, self.samples[1:]):
            run = run + b[0] - a[0] if sum(a[k]) > budget else 0.0
            longest = max(longest, run)
        return longest

    def failed_allocations(self):
        return [c for c in self.commands if c[1].startswith("alloc") and not c[5]]


def _sampler(fleet, res, stop, t0):
    qs = [g.qmp() for g in fleet.guests]
    pids = [g.proc.pid for g in fleet.guests]
    while not stop.is_set():
        t = time.monotonic() - t0
        actual = [q.execute("query-balloon")["actual"] for q in qs]
        rss = [rss_bytes(p) for p in pids]
        with res.lock:
            res.samples.append((t, actual, rss))
        stop.wait(SAMPLE_S)


def _guest_script(fleet, gi, steps, res, t0, reserve, spike_wait):
    g = fleet.guests[gi]
    for t, _, command, label in steps:
        delay = t0 + t - time.monotonic()
        if delay > 0:
            time.sleep(delay)       # the script's clock: a sleep is the point
        sent = time.monotonic() - t0
        reply = g.command(command)
        done = time.monotonic() - t0
        ok = not any("failed" in l for l in reply)
        with res.lock:
            res.commands.append((gi, command, label, sent, done, ok,
                                 " / ".join(reply)))
        if label != "spike":
            continue
        # How long until the guest has its reserve available again: ask
        # it, as a program in it would see it.
        given = None
        deadline = time.monotonic() + spike_wait
        while time.monotonic() < deadline:
            m = FREE_RE.match(g.reply("mem", "mem: "))
            if m and int(m.group(2)) >= reserve:
                given = time.monotonic() - t0 - done
                break
            time.sleep(SAMPLE_S)
        with res.lock:
            res.spikes.append({"guest": gi, "t": done, "given_back_s": given})


def run_scenario(fleet, script, duration, budget, reserve, spike_wait=10.0):
    """Plays SCRIPT for DURATION seconds and measures (see the top)."""
    res = Result()
    stop = threading.Event()
    t0 = time.monotonic()
    sampler = threading.Thread(target=_sampler, args=(fleet, res, stop, t0),
                               daemon=True)
    sampler.start()
    per_guest = {}
    for step in script:
        per_guest.setdefault(step[1], []).append(step)
    threads = [threading.Thread(target=_guest_script,
                                args=(fleet, gi, steps, res, t0, reserve,
                                      spike_wait), daemon=True)
               for gi, steps in per_guest.items()]
    for th in threads:
        th.start()
    for th in threads:
        th.join(duration + 120)
    left = t0 + duration - time.monotonic()
    if left > 0:
        time.sleep(left)
    stop.set()
    sampler.join(10)
    return res
