# SPDX-License-Identifier: MIT
"""A short guest soak (bench/soak runs the long one): 200 random balloon
targets, including 1 and above boot memory, mixed with alloc/free on the
console and one reset, against our guest in real QEMU. Every invariant of
tests/lib/soak.py must hold: actual within the floor and boot memory, no
allocation that should fit failing, free memory back to its boot figure
within 1 MiB at the end, the guest's balloon matching actual when settled,
no panic."""

import sys

from qemutest import Tap, require_guest
import soak

t = Tap()
require_guest()
r = soak.run(targets=200, resets=1, seed=7, log=t.diag)
t.diag("%d targets, %d resets, %d allocs ok, %d failed (allowed), %d settles, "
       "actual %s..%s, floor %s, free at boot %s, at the end %s, %.0f s"
       % (r.targets, r.resets, r.allocs_ok, r.allocs_failed, r.settles,
          r.min_actual, r.max_actual, r.floor, r.boot_free, r.end_free, r.seconds))
t.ok(r.targets == 201 and r.resets == 1, "all targets sent (and the last one, boot memory), one reset")
t.ok(r.allocs_ok > 0 and r.frees > 0 and r.settles > 0, "allocs, frees and settles happened")
for kind, words in (("actual", ("actual",)),
                    ("allocation", ("alloc", "holds")),
                    ("boot figure", ("boot figure", "free +", "did not come back")),
                    ("settled balloon", ("settled at",)),
                    ("no panic", ("printed", "guest:", "status"))):
    bad = [v for v in r.violations if any(w in v for w in words)]
    if not t.ok(not bad, "%s: held throughout" % kind):
        t.diag("\n".join(bad[:10]))
t.ok(not r.violations, "no violation at all")
for v in r.violations:
    t.diag(v)
t.ok(r.end_free is not None and abs(r.end_free - r.boot_free) <= soak.BOOT_MATCH,
     "free memory back to the boot figure within 1 MiB (%s vs %s)" % (r.end_free, r.boot_free))
sys.exit(t.done())
