# SPDX-License-Identifier: MIT
"""test-vbctl-check-linux.py - `vbctl check` is guest-agnostic: a second
guest, Debian's Linux kernel with its own virtio_balloon driver (built by
scripts/linux-guest.sh from Debian's packages), passes every check on q35
with deflate-on-oom and free page reporting, --pressure filling a tmpfs
from its console; the same kernel without the balloon driver
(linux-guest.balloon=off: virtio_pci binds the device, nothing drives it
further) fails the driver check and nothing runs that needs a driver."""

import sys

from guest import LinuxGuest
from qemutest import Tap
from vbtest import run

CHECK_TIMEOUT = 900     # seconds: Linux under TCG on a busy machine
BOOT_TIMEOUT = 300

ALL = ["device", "driver", "features", "deflate-on-oom", "page-reporting", "stats",
       "inflate", "stats-plausible", "deflate", "floor", "progress", "rss",
       "pressure", "reset"]


def results(t, name, r):
    try:
        doc = r.json()
    except ValueError:
        t.ok(False, "%s: --json output is one JSON document" % name)
        t.diag(repr(r))
        return {}, {}
    return {c["check"]: (c["result"], c["figure"]) for c in doc["checks"]}, doc


def main():
    t = Tap()

    with LinuxGuest(machine="q35", mem="1G", qmp=True, reboot=True,
                    devices=["virtio-balloon-pci,deflate-on-oom=on,free-page-reporting=on"]) as g:
        t.diag("Linux guest: %s" % g.version)
        g.start()
        g.wait_for(g.ready, BOOT_TIMEOUT)
        g.wait_for(g.prompt, BOOT_TIMEOUT)
        fifo = g.console_fifo()
        r = run(["-j", "check", "--pressure", "printf 'alloc 200\\r' > %s" % fifo],
                g.qmp_path, timeout=CHECK_TIMEOUT)
        got, doc = results(t, "linux", r)
        t.is_(list(got), ALL, "linux: every check reported, in order")
        bad = {c: v for c, v in got.items() if v[0] != "pass"}
        t.ok(r.rc == 0 and not bad, "linux: passes every check")
        for c, v in bad.items():
            t.diag("%s: %s: %s" % (c, v[0], v[1]))
        if got:
            t.is_(got["driver"][1], "DRIVER_OK, modern interface, features "
                  "stats-vq,deflate-on-oom,page-reporting", "linux: negotiated features")
            t.ok(got["pressure"][1].startswith("DEFLATE_ON_OOM: guest took back "),
                 "linux: took memory back under pressure: %s" % got["pressure"][1])
            t.diag("linux: " + "; ".join("%s: %s" % (c, got[c][1])
                                         for c in ("inflate", "deflate", "floor", "reset")))
        t.is_(g.qmp().execute("query-balloon")["actual"], 1 << 30,
              "linux: the target is back at the boot size")

    with LinuxGuest(machine="q35", mem="1G", qmp=True, balloon=False,
                    devices=["virtio-balloon-pci"]) as g:
        g.start()
        g.wait_for(g.ready, BOOT_TIMEOUT)
        r = run(["-j", "check"], g.qmp_path, timeout=CHECK_TIMEOUT)
        got, doc = results(t, "linux without virtio_balloon", r)
        want = {c: "n/a" for c in ALL}
        want.update(device="pass", driver="fail")
        want["deflate-on-oom"] = want["page-reporting"] = "n/a"
        t.is_({c: v[0] for c, v in got.items()}, want,
              "linux without virtio_balloon: the driver check fails, the rest cannot run")
        t.is_(got.get("driver", ("", ""))[1],
              "device status lacks DRIVER (no driver bound to the device)",
              "linux without virtio_balloon: says why")
        t.is_(r.rc, 1, "linux without virtio_balloon: exit 1")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
