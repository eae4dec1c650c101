# SPDX-License-Identifier: MIT
"""test-balloon-no-oom.py - without DEFLATE_ON_OOM (QEMU's default) the
driver must not take pages back on its own (virtio 5.5.6.1): an
allocation beyond free memory fails cleanly and `actual` does not move;
once the host lowers the target, the memory is usable again."""

import re
import sys

from balloontest import MiB, actual, wait_actual, wait_settled
from guest import Guest
from qemutest import Tap

RAM = 1024 * MiB
MIN = 16 * MiB


def main():
    t = Tap()
    with Guest(mem="1G", devices=["virtio-balloon-pci"], qmp=True) as g:
        g.boot()
        q = g.qmp()
        t.ok(re.search(r"^balloon: ready \(modern, features: stats-vq version-1\)$",
                       g.log, re.M),
             "balloon: ready without deflate-on-oom")
        q.execute("balloon", value=1)
        settled = wait_settled(q)
        floor = g.mem()
        t.ok(MIN <= floor["free"] <= MIN + 2 * MiB, "at the floor (%d free)" % floor["free"])

        t.is_(g.reply("alloc 64M", "alloc: "),
              "alloc: failed after %d bytes: out of memory (holding 0 bytes)" % floor["free"],
              "alloc 64M fails cleanly: the balloon is not raided")
        t.is_(g.mem(), floor, "memory is as it was before the alloc")
        t.is_(actual(q), settled, "actual did not move")

        q.execute("balloon", value=RAM)
        wait_actual(q, RAM)
        t.is_(g.reply("alloc 64M", "alloc: "),
              "alloc: ok %d bytes (holding %d bytes)" % (64 * MiB, 64 * MiB),
              "after the host deflates the balloon, alloc 64M succeeds")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
