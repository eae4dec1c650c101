# SPDX-License-Identifier: MIT
"""balloontest.py - QMP helpers for the balloon end-to-end tests: find the
balloon device in the QOM tree, wait for `actual` to reach a target or to
settle, and read guest statistics once the guest has refreshed them.
All waits poll QEMU; none sleeps a fixed time to let something happen."""

import time

from guest import GuestError

PAGE = 4096
MiB = 1 << 20
GiB = 1 << 30
SETTLE_TIMEOUT = 120    # seconds: TCG on a loaded 2-core machine is slow
POLL = 0.02             # seconds between query-balloon polls


def balloon_path(q):
    """The QOM path of the (only) balloon device, found by its type."""
    for d in q.execute("qom-list", path="/machine/peripheral-anon"):
        if d["type"].startswith("child<virtio-balloon"):
            return "/machine/peripheral-anon/" + d["name"]
    raise GuestError("no virtio-balloon device in /machine/peripheral-anon")


def expected_actual(ram, target):
    """What query-balloon reports once the guest meets TARGET: QEMU asks
    for whole 4 KiB pages, rounding the balloon size down."""
    target = min(target, ram)
    return ram - (ram - target) // PAGE * PAGE


def actual(q):
    return q.execute("query-balloon")["actual"]


def wait_actual(q, want, timeout=SETTLE_TIMEOUT):
    """Poll until `actual` is WANT; returns the seconds it took."""
    start = time.monotonic()
    while True:
        got = actual(q)
        if got == want:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise GuestError("actual is %d, not %d, after %g s" % (got, want, timeout))
        time.sleep(POLL)


def wait_settled(q, quiet=1.5, timeout=SETTLE_TIMEOUT):
    """Poll until `actual` has not changed for QUIET seconds; returns it."""
    start = last_change = time.monotonic()
    last = actual(q)
    while time.monotonic() - last_change < quiet:
        if time.monotonic() - start > timeout:
            raise GuestError("actual still moving (%d) after %g s" % (last, timeout))
        time.sleep(POLL * 5)
        now = actual(q)
        if now != last:
            last, last_change = now, time.monotonic()
    return last


def enable_stats(q, path, interval=1):
    q.execute("qom-set", path=path, property="guest-stats-polling-interval",
              value=interval)


def fresh_stats(q, path, timeout=SETTLE_TIMEOUT):
    """guest-stats as {"stats": {...}, "last-update": S} once the guest has
    answered a request made after this call (polling must be on)."""
    since = int(time.time())
    start = time.monotonic()
    while True:
        s = q.execute("qom-get", path=path, property="guest-stats")
        if s["last-update"] > since:
            return s
        if time.monotonic() - start > timeout:
            raise GuestError("guest-stats not refreshed after %g s: %r" % (timeout, s))
        time.sleep(0.1)
