# SPDX-License-Identifier: MIT
"""test-shell-stats.py - 'stats --watch' inside the shell with our guest
reporting statistics: samples keep coming until Ctrl-C, which returns to
the prompt instead of leaving the shell; a BALLOON_CHANGE event from a
second monitor's 'balloon' shows above the prompt."""

import atexit
import re
import shutil
import sys
import tempfile

import qemutest
import tmuxterm
import vbtest

PROMPT = "vbctl>"
UPDATED = re.compile(r"^updated\s+(\S+ \S+)$", re.M)

tap = vbtest.Tap()
_, elf = qemutest.require_guest()
tmuxterm.require_tmux()
state = tempfile.mkdtemp(prefix="shell-state-")
atexit.register(shutil.rmtree, state, True)
env = {"XDG_STATE_HOME": state}

with vbtest.Vm(kernel=elf, serial=True, mem="512M", monitors=2) as vm:
    vm.wait_serial("balloon: ready")
    term = tmuxterm.Term(vbtest.vbctl_argv() + ["-s", vm.sock, "shell"], env=env)
    try:
        term.wait(lambda s: term.last_line() == PROMPT, what="the prompt")
        term.type("stats --watch --interval 1")
        term.keys("Enter")
        # The table is redrawn in place: wait for a second, newer sample.
        first = UPDATED.search(term.wait(lambda s: UPDATED.search(s),
                                         what="a first sample")).group(1)
        term.wait(lambda s: any(t != first for t in UPDATED.findall(s)),
                  timeout=60, what="a newer sample than %s" % first)
        tap.ok(True, "stats --watch keeps refreshing inside the shell")
        term.keys("C-c")
        term.wait(lambda s: term.last_line() == PROMPT, what="the prompt after Ctrl-C")
        tap.ok(term.alive(), "Ctrl-C ends stats --watch and the shell goes on")
        term.type("query")
        term.keys("Enter")
        s = term.wait(lambda s: "\n" + PROMPT + " query\nactual: " in s
                      and term.last_line() == PROMPT, what="the output of query")
        if not tap.ok("\n" + PROMPT + " query\nactual: 512.00 MiB" in s,
                      "the next command runs"):
            tap.diag(s)

        # The guest meets the target, QEMU sends BALLOON_CHANGE: the event
        # lands above a half-typed line, which survives.
        term.type("qom-get balloon guest-st")
        vm.qmp().execute("balloon", value=256 << 20)
        s = term.wait(lambda s: "BALLOON_CHANGE" in s, timeout=60,
                      what="a BALLOON_CHANGE event")
        term.wait(lambda s: term.last_line() == PROMPT + " qom-get balloon guest-st",
                  what="the half-typed line redrawn")
        tap.ok(True, "BALLOON_CHANGE is printed above the prompt, the line kept")
        tap.ok(re.search(r'BALLOON_CHANGE \{"actual": ?\d+\}', s) is not None,
               "the event shows its data")
        term.keys("C-u", "C-d")
        tap.is_(term.exit_status(), 0, "Ctrl-D leaves with status 0")
    except TimeoutError as e:
        tap.ok(False, "the shell behaves")
        tap.diag(str(e))
    finally:
        term.close()

sys.exit(tap.done())
