# SPDX-License-Identifier: MIT
"""soak.py - the guest soak: random balloon targets (1, above boot memory,
and everything between) mixed with `alloc`/`free` on the guest's console
and a reset or two, against our guest in real QEMU; then the invariants:

- `actual` (every query-balloon and every BALLOON_CHANGE) stays between
  the floor (boot memory minus what the balloon may hold: free memory at
  boot less balloon.min) and boot memory;
- no allocation that should have succeeded failed: with deflate-on-oom
  the guest can use all its free memory plus what the balloon holds, so
  an `alloc` of at most free + balloon (from `mem` just before it) less
  a margin for free page reports in flight must succeed;
- after each reset the guest's free + balloon is its first boot's figure
  within 1 MiB, and at the end, with the balloon back at full size and
  everything freed, its free memory is too;
- once actual stands still, the guest's own balloon size (`mem`, which
  also counts pages in batches still in flight) comes to boot memory
  minus actual within SETTLE_TIMEOUT;
- the guest never panicked (no `panic:` or `exception` on its console)
  and QEMU never stopped running.

run(targets, resets, seed, mem) returns a Result with the figures and the
list of violations (empty when all held). bench/soak runs 1000 targets
and writes docs/RELIABILITY.md; tests/e2e/test-guest-soak.py runs a short
one in make check.
"""

import random
import re
import time

from guest import Guest, GuestError
from qemutest import QmpError

MiB = 1 << 20
PAGE = 4096
MIN_FREE = 16 * MiB          # balloon.min's default (docs/guest.md)
THRESHOLD = MIN_FREE + 4 * MiB  # balloon.threshold's default
# Pages out for a free page report are neither free nor in the balloon
# for a moment; the driver keeps at least the threshold free meanwhile.
REPORT_MARGIN = THRESHOLD + MiB
BOOT_MATCH = 1 * MiB         # "back to its boot figure within 1 MiB"
SETTLE_TIMEOUT = 120
HOLD_RE = re.compile(r"holding (\d+) bytes")


class Result:
    def __init__(self):
        self.violations = []
        self.targets = 0
        self.allocs_ok = 0
        self.allocs_failed = 0          # failed, and allowed to
        self.allocs_should = 0          # should have succeeded
        self.frees = 0
        self.resets = 0
        self.settles = 0
        self.events = 0
        self.samples = 0
        self.min_actual = None
        self.max_actual = None
        self.boot_free = None           # free + balloon at first boot
        self.end_free = None
        self.floor = None
        self.seconds = 0.0

    def violate(self, what):
        self.violations.append(what)


class Soak:
    def __init__(self, targets, resets, seed, mem_mib, log=None):
        self.n = targets
        self.reset_at = {targets * (i + 1) // (resets + 1) for i in range(resets)}
        self.rng = random.Random(seed)
        self.boot = mem_mib * MiB
        self.log = log or (lambda msg: None)
        self.r = Result()
        self.held = 0
        # Guest-initiated and QMP resets reboot (no -no-reboot); stats are
        # polled every second throughout, as a host policy would.
        self.g = Guest(mem="%dM" % mem_mib, qmp=True, reboot=True,
                       devices=["virtio-balloon-pci,deflate-on-oom=on,free-page-reporting=on"])

    # -- observations -----------------------------------------------------

    def note_actual(self, actual, where):
        r = self.r
        r.min_actual = actual if r.min_actual is None else min(r.min_actual, actual)
        r.max_actual = actual if r.max_actual is None else max(r.max_actual, actual)
        if actual > self.boot:
            r.violate("%s: actual %d above boot memory %d" % (where, actual, self.boot))
        if r.floor is not None and actual < r.floor:
            r.violate("%s: actual %d below the floor %d" % (where, actual, r.floor))

    def query(self):
        """query-balloon, and every BALLOON_CHANGE that came with it."""
        q = self.g.qmp()
        actual = q.execute("query-balloon")["actual"]
        self.r.samples += 1
        self.note_actual(actual, "query-balloon")
        for ev in q.events:
            if ev["event"] == "BALLOON_CHANGE":
                self.r.events += 1
                self.note_actual(ev["data"]["actual"], "BALLOON_CHANGE")
        q.events.clear()
        return actual

    def mem(self):
        return self.g.mem()

    # -- steps ------------------------------------------------------------

    def boot_guest(self, first):
        """(Re)boot to the prompt; check free + balloon against the first
        boot's figure."""
        since = self.g.mark()
        if first:
            self.g.start()
        else:
            self.g.qmp().execute("system_reset")
        self.g.wait_for(r"balloon: ready", SETTLE_TIMEOUT, since)
        self.g.wait_for(re.escape("guest> "), SETTLE_TIMEOUT, since)
        path = "/machine/peripheral-anon/device[0]"
        if first:
            self.g.qmp().execute("qom-set", path=path,
                                 property="guest-stats-polling-interval", value=1)
        m = self.mem()
        figure = m["free"] + m["balloon"]
        if first:
            self.r.boot_free = figure
            self.r.floor = self.boot - (figure - MIN_FREE) - PAGE
        elif abs(figure - self.r.boot_free) > BOOT_MATCH:
            self.r.violate("after reset %d: free + balloon %d, boot figure %d"
                           % (self.r.resets, figure, self.r.boot_free))
        self.held = 0

    def pick_target(self):
        x = self.rng.random()
        if x < 0.1:
            return 1
        if x < 0.2:
            return self.boot + self.rng.randrange(1, 1024) * MiB
        if x < 0.3:
            return self.boot
        return self.rng.randrange(1, self.boot + 1)

    def set_target(self, target):
        self.g.qmp().execute("balloon", value=target)
        self.r.targets += 1

    def settle(self, quiet=1.0):
        """Until actual stands still for QUIET seconds and the guest agrees
        (bounded). Actual alone can stand still while the guest is about
        to move: blocked at the floor (free page reports out), the driver
        retries on a timer of up to 2 s, and a retry can put a whole pool
        of inflate batches (128 MiB) in flight just before `mem` runs.
        `mem` counts pages in flight as the balloon's, actual only
        acknowledged ones, so the two agree exactly when nothing is in
        flight: wait for that, and call it a violation only if it never
        comes."""
        start = since = time.monotonic()
        last = self.query()
        m = None
        while True:
            if time.monotonic() - start > SETTLE_TIMEOUT:
                if m is None:
                    self.r.violate("actual still moving after %d s" % SETTLE_TIMEOUT)
                else:
                    self.r.violate("settled at actual %d, but the guest's balloon holds %d "
                                   "(not %d) for %d s"
                                   % (last, m["balloon"], self.boot - last, SETTLE_TIMEOUT))
                return last
            time.sleep(0.05)    # polling QEMU for a change
            now = self.query()
            if now != last:
                last, since = now, time.monotonic()
                continue
            if time.monotonic() - since < quiet:
                continue
            # Standing still, the guest's balloon is what QEMU says it
            # is, once the batches in flight (if any) have come back.
            m = self.mem()
            if m["balloon"] == self.boot - last and self.query() == last:
                break
        self.r.settles += 1
        return last

    def alloc(self):
        m = self.mem()
        room = m["free"] + m["balloon"]
        # Mostly what should fit; one in five may well not.
        if self.rng.random() < 0.8:
            size = self.rng.randrange(1, max(2, (room - REPORT_MARGIN) // PAGE)) * PAGE
        else:
            size = self.rng.randrange(1, max(2, room * 2 // PAGE)) * PAGE
        should = size <= room - REPORT_MARGIN
        line = self.g.reply("alloc %d" % size, "alloc: ")
        held = HOLD_RE.search(line)
        if line.startswith("alloc: ok"):
            self.r.allocs_ok += 1
            self.held += size
        elif should:
            self.r.allocs_should += 1
            self.r.violate("alloc %d failed with free %d + balloon %d: %s"
                           % (size, m["free"], m["balloon"], line))
        else:
            self.r.allocs_failed += 1
        if held and int(held.group(1)) != self.held:
            self.r.violate("guest holds %s, expected %d" % (held.group(1), self.held))
            self.held = int(held.group(1))

    def free(self):
        if self.rng.random() < 0.3 or self.held <= PAGE:
            line = self.g.reply("free all", "free: ")
            self.held = 0
        else:
            size = self.rng.randrange(1, self.held // PAGE) * PAGE
            line = self.g.reply("free %d" % size, "free: ")
            self.held -= size
        self.r.frees += 1
        held = HOLD_RE.search(line)
        if not held or int(held.group(1)) != self.held:
            self.r.violate("free: %r, expected to hold %d" % (line, self.held))

    # -- the run ----------------------------------------------------------

    def run(self):
        start = time.monotonic()
        try:
            self.boot_guest(True)
            for i in range(self.n):
                if i in self.reset_at:
                    self.r.resets += 1
                    self.boot_guest(False)
                    self.log("reset %d after %d targets" % (self.r.resets, i))
                self.set_target(self.pick_target())
                x = self.rng.random()
                if x < 0.15:
                    self.alloc()
                elif x < 0.25:
                    self.free()
                elif x < 0.30:
                    self.settle()
                elif x < 0.60:
                    self.query()
                if (i + 1) % 100 == 0:
                    self.log("%d targets, actual %d MiB, holding %d MiB"
                             % (i + 1, self.query() // MiB, self.held // MiB))
            self.finish()
        except (GuestError, QmpError, OSError) as e:
            self.r.violate("guest: %s" % e)
        finally:
            self.check_console()
            self.r.seconds = time.monotonic() - start
            self.g.close()
        return self.r

    def finish(self):
        """Everything freed, the balloon back at full size: the guest's free
        memory is its boot figure again (within 1 MiB)."""
        self.g.reply("free all", "free: ")
        self.held = 0
        self.set_target(self.boot)
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while self.query() != self.boot:
            if time.monotonic() > deadline:
                self.r.violate("actual did not come back to %d" % self.boot)
                return
            time.sleep(0.05)    # polling QEMU for the deflate to end
        # Free page reports in flight return their pages shortly.
        m = self.mem()
        while abs(m["free"] - self.r.boot_free) > BOOT_MATCH and time.monotonic() < deadline:
            time.sleep(0.1)     # polling the guest for the last reports
            m = self.mem()
        self.r.end_free = m["free"]
        if m["balloon"] != 0:
            self.r.violate("balloon holds %d at full size" % m["balloon"])
        if abs(m["free"] - self.r.boot_free) > BOOT_MATCH:
            self.r.violate("free %d at the end, boot figure %d (off by %d)"
                           % (m["free"], self.r.boot_free, m["free"] - self.r.boot_free))
        status = self.g.qmp().execute("query-status")["status"]
        if status != "running":
            self.r.violate("QEMU status %r at the end" % status)

    def check_console(self):
        log = self.g.log
        for bad in ("panic:", "exception "):
            if bad in log:
                at = log.index(bad)
                self.r.violate("the guest printed %r: %s" % (bad, log[at:at + 300]))


def run(targets, resets, seed, mem_mib=512, log=None):
    return Soak(targets, resets, seed, mem_mib, log).run()
