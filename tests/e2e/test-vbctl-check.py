# SPDX-License-Identifier: MIT
"""test-vbctl-check.py - `vbctl check` against real QEMU: our guest passes
every applicable check on q35 (modern, with deflate-on-oom, free page
reporting and --pressure typed on its console; and legacy), pc and
microvm; check fails, and says why, on guests that break the rules: a VM
with a balloon device and no driver (QEMU without -kernel: the firmware
finds nothing to boot), and a QEMU that exits on system_reset
(-no-reboot), where --no-reset skips that one check. Usage errors exit 2
before connecting."""

import sys

from guest import Guest
from qemutest import Tap
from vbtest import Vm, run

CHECK_TIMEOUT = 600     # seconds for a whole check under TCG on a busy machine

ALL = ["device", "driver", "features", "deflate-on-oom", "page-reporting", "stats",
       "inflate", "stats-plausible", "deflate", "floor", "progress", "rss",
       "pressure", "reset"]


def results(r):
    """{check: (result, figure)} from `vbctl -j check`."""
    doc = r.json()
    return {c["check"]: (c["result"], c["figure"]) for c in doc["checks"]}, doc


def expect(t, name, r, na=(), fail=()):
    """The check exited as it should, with exactly the checks NA not
    applicable and FAIL failed, all others passed."""
    try:
        got, doc = results(r)
    except ValueError:
        t.ok(False, "%s: --json output is one JSON document" % name)
        t.diag(repr(r))
        return {}
    t.is_(list(got), ALL, "%s: every check reported, in order" % name)
    want = {c: "fail" if c in fail else "n/a" if c in na else "pass" for c in ALL}
    ok = t.ok({c: got[c][0] for c in got} == want,
              "%s: passes %s" % (name, "all but " + ", ".join(sorted(set(na) | set(fail)))
                                 if na or fail else "everything"))
    if not ok:
        for c in ALL:
            if c in got and got[c][0] != want[c]:
                t.diag("%s: %s (want %s): %s" % (c, got[c][0], want[c], got[c][1]))
    t.is_(r.rc, 1 if fail else 0, "%s: exit status" % name)
    t.is_((doc["passed"], doc["failed"], doc["not_applicable"]),
          (len(ALL) - len(set(na) | set(fail)), len(fail), len(set(na) - set(fail))),
          "%s: counts" % name)
    t.is_(doc["ok"], not fail, "%s: ok" % name)
    return got


def our_guest(t, name, machine, device, extra=(), pressure=None, na=()):
    with Guest(machine=machine, mem="1G", devices=[device], qmp=True,
               extra=extra, reboot=True) as g:
        g.boot()
        args = ["-j", "check"]
        if pressure:
            args += ["--pressure", "printf '%s\\r' > %s" % (pressure, g.console_fifo())]
        r = run(args, g.qmp_path, timeout=CHECK_TIMEOUT)
        got = expect(t, name, r, na=na)
        if got:
            t.ok(got["inflate"][1].startswith("1.00 GiB -> 512.00 MiB exactly in "),
                 "%s: inflate figure: %s" % (name, got["inflate"][1]))
            t.ok("guest keeps " in got["floor"][1] and "still reporting stats" in got["floor"][1],
                 "%s: floor figure: %s" % (name, got["floor"][1]))
        # What the guest saw: the balloon moved, and check put it back.
        mem = g.mem()
        t.is_(mem["balloon"], 0, "%s: the balloon is empty again afterwards" % name)
        q = g.qmp()
        t.is_(q.execute("query-balloon")["actual"], 1 << 30,
              "%s: the target is back at the boot size" % name)
        return got


def main():
    t = Tap()

    got = our_guest(t, "q35 modern", "q35",
                    "virtio-balloon-pci,deflate-on-oom=on,free-page-reporting=on",
                    pressure="alloc 64M")
    if got:
        t.ok(got["driver"][1] == "DRIVER_OK, modern interface, features "
             "stats-vq,deflate-on-oom,page-reporting", "driver figure: %s" % got["driver"][1])
        t.ok(got["pressure"][1].startswith("DEFLATE_ON_OOM: guest took back "),
             "pressure figure: %s" % got["pressure"][1])
        t.ok(got["stats"][1].startswith("every ") and "unset: none" in got["stats"][1],
             "stats figure: %s" % got["stats"][1])
    not_offered = ("deflate-on-oom", "page-reporting", "pressure")
    got = our_guest(t, "q35 legacy", "q35",
                    "virtio-balloon-pci,disable-modern=on,disable-legacy=off", na=not_offered)
    if got:
        t.ok(got["driver"][1].startswith("DRIVER_OK, legacy interface"),
             "legacy: driver figure: %s" % got["driver"][1])
    our_guest(t, "pc", "pc", "virtio-balloon-pci", na=not_offered)
    our_guest(t, "microvm", "microvm,acpi=off", "virtio-balloon-device", na=not_offered)

    # A balloon device and no driver: QEMU without -kernel (the firmware
    # finds nothing to boot and waits).
    vm = Vm(balloon="virtio-balloon-pci", mem="1G")
    try:
        vm.start()
        r = run(["-j", "check"], vm.sock, timeout=CHECK_TIMEOUT)
        na = [c for c in ALL if c not in ("device", "driver")]
        got = expect(t, "no driver", r, na=na, fail=["driver"])
        if got:
            t.is_(got["driver"][1], "device status 0: no driver has touched the device",
                  "no driver: says so")
            t.is_(got["inflate"][1], "not run: driver did not pass",
                  "no driver: names the check it needed")
        r = run(["check"], vm.sock, timeout=CHECK_TIMEOUT)
        t.ok(r.rc == 1 and r.err.strip() == "vbctl: check: 1 of 14 checks failed"
             and "\ndriver           fail   3.1      device status 0" in r.out
             and r.out.rstrip().endswith("1 passed, 1 failed, 12 not applicable"),
             "no driver: the table and one error line")
        if r.rc != 1:
            t.diag(repr(r))
    finally:
        vm.close()

    # -no-reboot: QEMU exits on system_reset. check says so; --no-reset
    # leaves that check out.
    with Guest(machine="q35", mem="1G", devices=["virtio-balloon-pci"], qmp=True) as g:
        g.boot()
        r = run(["-j", "check", "--no-reset"], g.qmp_path, timeout=CHECK_TIMEOUT)
        expect(t, "-no-reboot with --no-reset", r,
               na=("deflate-on-oom", "page-reporting", "pressure", "reset"))
        r = run(["-j", "check"], g.qmp_path, timeout=CHECK_TIMEOUT)
        got = expect(t, "-no-reboot", r, na=("deflate-on-oom", "page-reporting", "pressure"),
                     fail=["reset"])
        if got:
            t.is_(got["reset"][1],
                  "QEMU shut down instead of resetting (-no-reboot? use --no-reset)",
                  "-no-reboot: says why")

    # Usage errors: exit 2, nothing sent (no QEMU at this address).
    for args, token in ((["check", "extra"], "'extra'"), (["check", "--wait", "x"], "'x'"),
                        (["check", "--pressure"], "--pressure"), (["check", "--bogus"], "--bogus")):
        r = run(args, "/nonexistent/qmp-sock")
        t.ok(r.rc == 2 and token in r.err, "%s: exit 2 naming %s" % (" ".join(args), token))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
