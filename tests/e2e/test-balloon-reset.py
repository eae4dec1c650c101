# SPDX-License-Identifier: MIT
"""test-balloon-reset.py - `actual` after a reboot: QEMU keeps the
balloon's config space across system_reset, so a driver that only writes
`actual` after its first batch would leave the old size standing while
the rebooted guest holds nothing. The driver writes actual at attach."""

import re
import sys

from balloontest import GiB, actual, wait_actual
from guest import PROMPT, Guest
from qemutest import Tap

RAM = 2 * GiB


def main():
    t = Tap()
    with Guest(mem="2G", devices=["virtio-balloon-pci"], qmp=True) as g:
        g.argv.remove("-no-reboot")     # system_reset must reboot, not quit
        g.boot()
        q = g.qmp()
        q.execute("balloon", value=GiB)
        wait_actual(q, GiB)
        t.is_(g.mem()["balloon"], GiB, "inflated by 1 GiB before the reset")

        # Back to a full-size target first, so the rebooted driver has
        # nothing to do and only its attach can set actual.
        since = g.mark()
        q.execute("stop")
        q.execute("balloon", value=RAM)
        q.execute("system_reset")
        q.execute("cont")
        g.wait_for(re.escape(PROMPT), since=since)
        t.ok(len(re.findall(r"^balloon: ready", g.log, re.M)) == 2,
             "the guest rebooted and the driver attached again")
        # Written at attach, before the ready line: no waiting.
        t.is_(actual(q), RAM, "...and query-balloon says it holds nothing: actual is "
              "the whole 2 GiB")
        t.is_(g.mem()["balloon"], 0, "...as the guest says")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
