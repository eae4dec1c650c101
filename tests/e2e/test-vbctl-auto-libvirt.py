# SPDX-License-Identifier: MIT
"""vbctl -c URI auto against a real, private libvirtd (session mode, started
and stopped here) whose domains boot our guest (256 MiB each) under TCG,
with a budget of 384 MiB: every running domain is adopted, targets are set
and the budget is honoured; a domain started while auto runs is adopted;
one that is destroyed is dropped and, started again, adopted afresh; on
SIGTERM every balloon is back at its boot size."""

import json
import os
import signal
import threading
import time

import libvirttest
from qemutest import require_guest
from vbtest import Tap

MiB = 1 << 20
BOOT = 256 * MiB
BUDGET = 384 * MiB
WAIT = 60           # seconds for anything to show up (TCG on a loaded machine)

t = Tap()
require_guest()
libvirttest.require_libvirt()


class Log:
    """auto's NDJSON stdout, read line by line as it comes."""

    def __init__(self, proc):
        self.proc, self.events = proc, []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    self.events.append({"event": "not-json", "line": line})
                self.cond.notify_all()

    def end(self, timeout=30):
        """Waits for the process to exit and its last line; returns its
        exit status and stderr."""
        rc = self.proc.wait(timeout)
        self.reader.join(timeout)
        return rc, self.proc.stderr.read()

    def wait(self, pred, timeout=WAIT):
        """Waits until PRED(events) holds; returns the events."""
        with self.cond:
            self.cond.wait_for(lambda: pred(self.events), timeout)
            return list(self.events)

    def count(self, event, vm):
        with self.cond:
            return sum(e["event"] == event and e.get("vm") == vm for e in self.events)


def actual(lv, name):
    """The domain's balloon size as libvirt reports it (bytes)."""
    out = lv.virsh("dommemstat", name).stdout
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        if k == "actual":
            return int(v) * 1024
    return None


def settle(lv, names, limit, timeout=WAIT, quiet=2.0):
    """The sum of the domains' sizes, once within LIMIT and still for QUIET s."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        s = sum(actual(lv, n) or 0 for n in names)
        if s != last:
            last, since = s, time.monotonic()
        elif s <= limit and time.monotonic() - since >= quiet:
            return s
        time.sleep(0.2)     # libvirt's figures: nothing to wait on
    return last


lv = libvirttest.Libvirtd().start()
p = None
try:
    lv.create("vb1")
    lv.create("vb2")
    p = lv.spawn(["-c", lv.uri, "--json", "auto", "--host-budget", "384M",
                  "--guest-reserve", "64M"])
    log = Log(p)

    ev = log.wait(lambda ev: log.count("adopt", "vb1") and log.count("adopt", "vb2"))
    t.ok(log.count("adopt", "vb1") == 1 and log.count("adopt", "vb2") == 1,
         "every running domain adopted")
    adopt = [e for e in ev if e["event"] == "adopt"]
    t.ok(adopt and all(e["boot"] == BOOT and e["actual"] == BOOT for e in adopt),
         "adopted at their boot size, 256 MiB")
    total = settle(lv, ["vb1", "vb2"], BUDGET)
    t.ok(total is not None and total <= BUDGET,
         "the domains are brought within the budget (%s MiB)"
         % (total // MiB if total else "-"))
    ev = log.wait(lambda ev: True)
    targets = {e["vm"] for e in ev if e["event"] == "target" and e["action"] == "reclaim"}
    t.is_(sorted(targets), ["vb1", "vb2"], "a reclaim target set on each, with its reason")

    # A domain started while auto runs: adopted at the next listing.
    started = time.monotonic()
    lv.create("vb3")
    log.wait(lambda ev: log.count("adopt", "vb3"))
    t.is_(log.count("adopt", "vb3"), 1, "a domain started later is adopted")
    t.diag("adopted %.1f s after virsh create" % (time.monotonic() - started))
    total = settle(lv, ["vb1", "vb2", "vb3"], BUDGET)
    t.ok(total is not None and total <= BUDGET,
         "three domains within the budget (%s MiB)" % (total // MiB if total else "-"))

    # A domain that goes away is dropped; started again, it is adopted afresh.
    lv.virsh("destroy", "vb2")
    ev = log.wait(lambda ev: log.count("drop", "vb2"))
    drops = [e for e in ev if e["event"] == "drop" and e["vm"] == "vb2"]
    t.ok(drops and drops[0]["adopted"],
         "a destroyed domain is dropped (%s)" % (drops[0]["why"] if drops else "-"))
    t.ok(p.poll() is None, "auto goes on")
    lv.domains = [d for d in lv.domains if d.name != "vb2"]
    lv.create("vb2")
    log.wait(lambda ev: log.count("adopt", "vb2") == 2)
    t.is_(log.count("adopt", "vb2"), 2, "started again, it is adopted afresh")
    total = settle(lv, ["vb1", "vb2", "vb3"], BUDGET)
    t.ok(total is not None and total <= BUDGET,
         "and the budget holds (%s MiB)" % (total // MiB if total else "-"))

    p.send_signal(signal.SIGTERM)
    rc, err = log.end()
    t.is_(rc, 0, "exits 0 on SIGTERM")
    if err:
        t.diag(err)
    ev = log.wait(lambda ev: True, timeout=0)
    t.is_(sorted(e["vm"] for e in ev if e["event"] == "restore"), ["vb1", "vb2", "vb3"],
          "every balloon restored on exit")
    deadline = time.monotonic() + WAIT
    sizes = None
    while time.monotonic() < deadline:
        sizes = [actual(lv, n) for n in ("vb1", "vb2", "vb3")]
        if sizes == [BOOT] * 3:
            break
        time.sleep(0.2)     # libvirt's figures: nothing to wait on
    t.is_(sizes, [BOOT] * 3, "every domain back at 256 MiB")
    bad = [e for e in ev if e["event"] == "not-json"]
    t.is_(bad, [], "every line is JSON")
finally:
    if p and p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    lv.close()

raise SystemExit(t.done())
