# SPDX-License-Identifier: MIT
"""test-guest-boot.py - the guest kernel boots with -kernel on q35, pc and
microvm to the console prompt, says so when there is no balloon device,
answers console commands, and halts when idle (QEMU's CPU time stays low)."""

import re
import sys

from guest import Guest, GuestError
from qemutest import Tap

IDLE_SECONDS = 3.0
IDLE_MAX_FRACTION = 0.10    # of one core


def boot_machine(t, machine):
    with Guest(machine=machine, mem="1G") as g:
        try:
            g.boot()
        except GuestError as e:
            t.ok(False, "%s: boots to the prompt" % machine)
            t.diag(e)
            return
        t.ok(True, "%s: boots to the prompt" % machine)
        t.diag("%s: %.2f s from starting QEMU to the prompt" % (machine, g.boot_seconds))
        log = g.log
        t.ok("balloon: no virtio-balloon device found" in log,
             "%s: without a balloon device the guest says so" % machine)
        t.ok(re.search(r"^mm: \d+ KiB total", log, re.M),
             "%s: the boot log shows the memory found" % machine)
        # microvm's map has an empty entry; it printed as 0-ffffffffffffffff.
        bad = [(a, b) for a, b in re.findall(
            r"^memmap: ([0-9a-f]+)-([0-9a-f]+) ", log, re.M) if int(b, 16) < int(a, 16)
            or int(b, 16) >= 1 << 48]
        t.is_(bad, [], "%s: every memory-map line is a real range (empty entries skipped)"
              % machine)
        m = g.mem()
        t.ok(1024 - 4 <= m["total"] >> 20 <= 1024,
             "%s: mem total is within 4 MiB of -m 1G (%d)" % (machine, m["total"]))
        t.is_(m["balloon"], 0, "%s: no balloon, nothing in it" % machine)
        frac = g.idle_cpu_fraction(IDLE_SECONDS)
        t.diag("%s: idle QEMU used %.1f%% of a core over %g s"
               % (machine, 100 * frac, IDLE_SECONDS))
        t.ok(frac < IDLE_MAX_FRACTION,
             "%s: an idle guest halts (QEMU below %d%% of a core)"
             % (machine, 100 * IDLE_MAX_FRACTION))


def main():
    t = Tap()
    for machine in ("q35", "pc", "microvm"):
        boot_machine(t, machine)

    with Guest(machine="q35", mem="512M", append='balloon.min=32M msg="a b"') as g:
        g.boot()
        t.ok('cmdline: balloon.min=32M msg="a b"\n' in g.log,
             "the kernel command line (-append) reaches the guest")
        t.ok("pci: 00:00.0 8086:29c0" in g.log, "q35: PCI enumeration finds the host bridge")
        help_lines = g.command("help")
        t.is_([l.split()[0] for l in help_lines], ["mem", "alloc", "free", "help"],
              "help lists mem, alloc, free and help, one per line")
        t.is_(g.command("bogus x"), ["error: unknown command 'bogus' (try help)"],
              "an unknown command is named, with a hint")
        t.is_(g.command("alloc 12Q"),
              ["error: bad size '12Q' (use e.g. 4096, 64K, 16M, 1G)"],
              "a bad size is refused")
        t.ok(g.reply("alloc 18446744073709551615", "alloc: ").startswith("alloc: failed after "),
             "alloc of 2^64-1 bytes fails (it is not rounded down to 0 bytes)")
        g.reply("alloc 1M", "alloc: ")
        t.is_(g.reply("free 18446744073709551615", "free: "),
              "free: ok 1048576 bytes (holding 0 bytes)",
              "free of 2^64-1 bytes frees everything held")
        t.is_(g.command(""), [], "an empty line just prompts again")
        # A pasted burst, longer than the UART's 16-byte FIFO.
        since = g.mark()
        g.send("mem\rhelp\rmem\rfree 1M\r")
        g.wait_for(r"free: ok 0 bytes \(holding 0 bytes\)\nguest> ", since=since)
        out = g.log
        t.is_(len(re.findall(r"^mem: total=", out[-2000:], re.M)), 2,
              "a pasted burst of commands runs every one of them")
        t.ok(g.alive(), "the guest is still running")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
