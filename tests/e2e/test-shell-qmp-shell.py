# SPDX-License-Identifier: MIT
"""test-shell-qmp-shell.py - what qmp-shell users had, in vbctl's shell,
through a real terminal (tmux) against real QEMU: transactions (the
multi-line and the one-line form, with Tab completion of action names and
their arguments inside), --hmp (every line a human monitor command, their
names completed), --logfile (every message sent and received, one
timestamped JSON object a line, and its replay through a piped shell), and
"shell -- QEMU-COMMAND" (QEMU started with a private QMP socket and
stopped when the shell ends)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import tmuxterm
import vbtest

PROMPT = "vbctl> "
TPROMPT = "vbctl(transaction)> "
HPROMPT = "vbctl(hmp)> "

tap = vbtest.Tap()
qemu = vbtest.require_qemu()
tmuxterm.require_tmux()
tmp = tempfile.mkdtemp(prefix="qmp-shell-")
env = {"XDG_STATE_HOME": tmp, "TMPDIR": tmp}


def prompt(term, p, text=""):
    term.wait_last_line(p + text)
    return True


def enter(term, line, p):
    """Type LINE, Enter, and wait for prompt P on a new line."""
    lines = len(term.screen().splitlines())
    term.type(line)
    term.keys("Enter")
    term.wait(lambda s: len(s.splitlines()) > lines and term.last_line() == p.rstrip(),
              what="prompt %r after %r" % (p, line))
    return term.screen()


def qemus_of_shell():
    """QEMU processes started by 'shell --' in this test (their QMP socket
    is in TMPDIR)."""
    r = subprocess.run(["pgrep", "-f", "-a", "qemu-system.*" + tmp],
                       capture_output=True, text=True)
    return [l for l in r.stdout.splitlines() if "pgrep" not in l]


# --- shell -- QEMU: the wrapper, with transactions inside ---
wrapped = vbtest.vbctl_argv() + ["shell", "--", qemu, "-accel", "tcg", "-machine", "q35",
                                 "-nodefaults", "-display", "none", "-m", "512M",
                                 "-device", "virtio-balloon-pci"]
term = tmuxterm.Term(wrapped, env=env)
try:
    def wrapper():
        term.wait_text(PROMPT.rstrip())
        tap.ok("Connected to QEMU" in term.screen() and tmp in term.screen(),
               "shell -- QEMU: QEMU started, the shell connected on a private socket")
        tap.ok(len(qemus_of_shell()) == 1, "one QEMU runs for the shell")
        s = enter(term, "query", PROMPT)
        tap.ok("actual: 512.00 MiB (536870912 bytes)" in s, "commands go to that QEMU")
    tmuxterm.scenario(tap, "the wrapper starts QEMU", wrapper)

    def transactions():
        # multi-line form: the prompt says a transaction is open
        enter(term, "transaction(", TPROMPT)
        tap.ok(True, "transaction( opens a transaction: the prompt says so")
        term.type("ab")
        term.keys("Tab")
        tap.ok(prompt(term, TPROMPT, "abort "), "Tab completes an action name inside it")
        term.keys("C-u")
        term.type("block-dirty-bitmap-add na")
        term.keys("Tab")
        tap.ok(prompt(term, TPROMPT, "block-dirty-bitmap-add name="),
               "Tab completes an action's argument names from the schema")
        term.keys("C-u")
        enter(term, "abort", TPROMPT)
        s = enter(term, ")", PROMPT)
        tap.ok("GenericError: Transaction aborted using Abort action" in s,
               "')' sends the actions as one transaction (QEMU ran the abort action)")
        # one-line form
        s = enter(term, "transaction( abort )", PROMPT)
        tap.ok(s.count("Transaction aborted using Abort action") == 2,
               "the one-line form: transaction( ACTION ... ) sends at once")
        s = enter(term, "transaction( )", PROMPT)
        tap.ok(s.splitlines()[-2] == "{}", "an empty transaction returns {}")
        term.type("transaction( ab")
        term.keys("Tab")
        tap.ok(prompt(term, PROMPT, "transaction( abort "),
               "Tab completes inside the one-line form too")
        term.keys("C-u")
    tmuxterm.scenario(tap, "transactions", transactions)

    def leave():
        term.keys("C-d")
        tap.is_(term.exit_status(), 0, "Ctrl-D leaves the shell (exit 0)")
        tap.ok(qemus_of_shell() == [], "QEMU is stopped when the shell ends")
        tap.ok(not [f for f in os.listdir(tmp) if f.startswith("vbctl-shell-")],
               "its private socket directory is removed")
    tmuxterm.scenario(tap, "the wrapper stops QEMU", leave)
finally:
    term.close()

with vbtest.Vm(monitors=2) as vm:
    # --- --hmp ---
    term = tmuxterm.Term(vbtest.vbctl_argv() + ["-s", vm.sock, "shell", "--hmp"], env=env)
    try:
        def hmp():
            term.wait_text(HPROMPT.rstrip())
            term.type("inf")
            term.keys("Tab")
            tap.ok(prompt(term, HPROMPT, "info "), "--hmp: Tab completes HMP command names")
            term.type("ballo")
            term.keys("Tab")
            tap.ok(prompt(term, HPROMPT, "info balloon "), "and what comes after info")
            term.keys("C-u")
            s = enter(term, "info balloon", HPROMPT)
            tap.ok("balloon: actual=2048" in s, "--hmp: a line is a human monitor command")
            term.keys("C-d")
            tap.is_(term.exit_status(), 0, "Ctrl-D leaves --hmp (exit 0)")
        tmuxterm.scenario(tap, "--hmp", hmp)
    finally:
        term.close()

    # --- --logfile, and its replay ---
    log = os.path.join(tmp, "qmp.log")
    term = tmuxterm.Term(vbtest.vbctl_argv() + ["-s", vm.sock, "shell", "--logfile", log],
                         env=env)
    try:
        def logfile():
            term.wait_text(PROMPT.rstrip())
            enter(term, "balloon value=1073741824", PROMPT)
            enter(term, "query-balloon", PROMPT)
            term.keys("C-d")
            term.exit_status()
            lines = [json.loads(l) for l in open(log)]
            tap.ok(len(lines) >= 6 and all(
                set(l) == {"timestamp", "direction", "message"}
                and set(l["timestamp"]) == {"seconds", "microseconds"}
                and l["direction"] in ("send", "recv") for l in lines),
                "--logfile: one JSON object a line, timestamped, each message sent and received")
            sent = [l["message"].get("execute") for l in lines if l["direction"] == "send"]
            tap.ok(sent == ["qmp_capabilities", "balloon", "query-balloon"],
                   "what was sent, in order (%s)" % sent)
            tap.ok(lines[0]["direction"] == "recv" and "QMP" in lines[0]["message"]
                   and any("return" in l["message"] for l in lines if l["direction"] == "recv"),
                   "what was received: the greeting, then the replies")
            # The replay that docs/vbctl.1 gives: what was sent, sent
            # again (the id is the connection's own).
            replay = subprocess.run(
                "jq -c 'select(.direction == \"send\" and .message.execute != \"qmp_capabilities\")"
                " | .message' %s | %s -s %s shell"
                % (log, " ".join(vbtest.vbctl_argv()), vm.sock),
                shell=True, capture_output=True, text=True, timeout=60)
            tap.ok(replay.returncode == 0 and replay.stdout.startswith("{}\n")
                   and '"actual": 2147483648' in replay.stdout,
                   "the log replays through a piped shell (balloon, then query-balloon)")
            if replay.returncode:
                tap.diag(repr(replay))
        tmuxterm.scenario(tap, "--logfile", logfile)
    finally:
        term.close()

shutil.rmtree(tmp, True)
sys.exit(tap.done())
