# SPDX-License-Identifier: MIT
"""test-shell-tty.py - vbctl's interactive shell in a real terminal (tmux),
against a real QEMU without a guest: typing, Tab completion from live
data, an event arriving over a half-typed line, Ctrl-C at the prompt and
in a streaming command, set --wait's progress, history, help, a QMP
error, Ctrl-D, Ctrl-Z and fg, a lost connection (exit 3 with
--no-reconnect), and QEMU restarted under the shell (it reconnects)."""

import atexit
import os
import shlex
import shutil
import stat
import sys
import tempfile

import tmuxterm
import vbtest

PROMPT = "vbctl> "
PROMPT_SEEN = PROMPT.rstrip()   # the screen has no trailing blanks

tap = vbtest.Tap()
vbtest.require_qemu()
tmuxterm.require_tmux()
state = tempfile.mkdtemp(prefix="shell-state-")
atexit.register(shutil.rmtree, state, True)
env = {"XDG_STATE_HOME": state}


def at_prompt(term, text=""):
    """The last line is the prompt followed by TEXT, cursor at its end."""
    term.wait_last_line(PROMPT + text)
    return term.cursor()[0] == len(PROMPT + text)


def listing(term, text, names):
    """Wait for a completion listing that shows every one of NAMES, with
    the prompt and TEXT redrawn below it: the whole listing. (Waiting for
    one name alone can catch the listing half drawn, a row at a time.)"""
    want = (PROMPT + text).rstrip()
    return term.wait(lambda s: all(n in s for n in names) and term.last_line() == want,
                     what="a listing of %s above %r" % (", ".join(names), want))


def run(term, line):
    """Type LINE, press Enter and wait for the next prompt."""
    def prompts(screen):
        return sum(l.startswith(PROMPT_SEEN) for l in screen.splitlines())

    mark = prompts(term.screen())
    term.type(line)
    term.keys("Enter")
    term.wait(lambda s: prompts(s) > mark and term.last_line() == PROMPT_SEEN,
              what="the prompt after %r" % line)
    return term.screen()


def output_of(screen, line):
    """The lines printed between LINE's prompt and the next prompt."""
    lines = screen.splitlines()
    start = max(i for i, l in enumerate(lines) if l == PROMPT + line)
    out = []
    for l in lines[start + 1:]:
        if l.startswith(PROMPT):
            break
        out.append(l)
    return "\n".join(out).strip("\n")


with vbtest.Vm(monitors=2) as vm:
    # 'vbctl' with no command on a terminal opens the shell.
    term = tmuxterm.Term(vbtest.vbctl_argv() + ["-s", vm.sock], env=env)
    try:
        tmuxterm.scenario(tap, "the shell starts", lambda: term.wait_text(PROMPT_SEEN))
        tap.ok("Connected to QEMU" in term.screen() and at_prompt(term),
               "no command on a terminal opens the shell, with a prompt")

        # --- completion: command names (vbctl's and QEMU's) ---
        def names():
            term.type("query-bal")
            term.keys("Tab")
            tap.ok(at_prompt(term, "query-balloon "),
                   "query-bal<Tab> completes the QMP command query-balloon")
            term.keys("C-u")
            term.type("que")
            term.keys("Tab")
            at_prompt(term, "query")
            term.keys("Tab")
            listing(term, "query", ["query-balloon", "query-commands", "query-status"])
            tap.ok(True, "que<Tab><Tab> lists vbctl's query and QEMU's query-* commands")
            term.keys("C-u")
            tap.ok(at_prompt(term), "C-u clears the line")
        tmuxterm.scenario(tap, "command names", names)

        # --- argument names and enum values from query-qmp-schema ---
        def args():
            term.type("balloon va")
            term.keys("Tab")
            tap.ok(at_prompt(term, "balloon value="),
                   "balloon va<Tab> gives value= with no space after it")
            term.keys("C-u")
            term.type("set-action panic=")
            term.keys("Tab")
            term.keys("Tab")
            listing(term, "set-action panic=",
                    ["panic=exit-failure", "panic=pause", "panic=shutdown"])
            tap.ok(True, "set-action panic=<Tab><Tab> lists the enum's values")
            term.type("exi")
            term.keys("Tab")
            tap.ok(at_prompt(term, "set-action panic=exit-failure "),
                   "an enum value completes")
            term.keys("C-u")
        tmuxterm.scenario(tap, "argument names and enum values", args)

        # --- QOM paths and properties from qom-list, 'balloon' alias ---
        def qom():
            term.type("qom-get balloon ")
            term.keys("Tab")
            term.keys("Tab")
            s = listing(term, "qom-get balloon ",
                        ["guest-stats-polling-interval", "deflate-on-oom"])
            tap.ok("guest-stats " in s + " ",
                   "qom-get balloon <Tab><Tab> lists the balloon's properties")
            term.type("guest-stats-p")
            term.keys("Tab")
            tap.ok(at_prompt(term, "qom-get balloon guest-stats-polling-interval "),
                   "a property name completes")
            term.keys("Enter")
            s = term.wait(lambda s: term.last_line() == PROMPT_SEEN
                          and "guest-stats-polling-interval\n0" in s,
                          what="the property's value")
            tap.ok(True, "the completed line runs: qom-get prints 0")
            term.type("qom-list /machine/peripheral-a")
            term.keys("Tab")
            tap.ok(at_prompt(term, "qom-list /machine/peripheral-anon/"),
                   "QOM paths complete one level at a time, ending in /")
            term.keys("C-u")
        tmuxterm.scenario(tap, "QOM paths and properties", qom)

        # --- an event arrives while a line is half typed ---
        def event():
            half = "qom-get balloon guest-stats-poll"
            term.type(half)
            at_prompt(term, half)
            vm.qmp().execute("stop")
            s = term.wait_text("STOP")
            tap.ok(at_prompt(term, half),
                   "after the STOP event the half-typed line is redrawn intact, cursor at its end")
            lines = s.splitlines()
            stop = [i for i, l in enumerate(lines) if " STOP" in l]
            tap.ok(stop and lines[stop[-1]].endswith(" STOP")
                   and not lines[stop[-1]].startswith(PROMPT),
                   "the event is printed on a line of its own above the prompt")
            # Move into the middle of the line; an event must keep point.
            term.keys("Left", "Left", "Left", "Left")
            vm.qmp().execute("cont")
            term.wait_text("RESUME")
            term.wait(lambda s: term.last_line() == PROMPT + half, what="redrawn line")
            tap.is_(term.cursor()[0], len(PROMPT + half) - 4,
                    "the cursor stays where it was inside the line")
            term.keys("End")
            term.type("ing-interval")
            term.keys("Enter")
            term.wait(lambda s: term.last_line() == PROMPT_SEEN
                      and s.rstrip().endswith("interval\n0\n" + PROMPT_SEEN),
                      what="the output of the completed line")
            tap.ok(True, "the line survives the events and still runs")
        tmuxterm.scenario(tap, "events over a half-typed line", event)

        # --- Ctrl-C at the prompt clears the line, like bash ---
        def ctrl_c():
            term.type("qom-get balloon type")
            term.keys("C-a")        # the cursor at the start of the line
            at_prompt(term, "qom-get balloon type")
            term.keys("C-c")
            tap.ok(at_prompt(term), "Ctrl-C gives a fresh empty prompt")
            s = term.screen()
            tap.ok(PROMPT + "qom-get balloon type^C" in s and "virtio-balloon-pci" not in s,
                   "the cancelled line stays on screen whole, ^C after it, and is not run")
            tap.ok(term.alive(), "Ctrl-C at the prompt does not leave the shell")
            term.keys("C-r")
            term.type("qom-get")
            term.wait(lambda s: term.last_line().startswith("(reverse-i-search)`qom-get': qom-get"),
                      what="a history search")
            term.keys("C-c")
            tap.ok(at_prompt(term), "Ctrl-C leaves a history search for an empty prompt")
        tmuxterm.scenario(tap, "Ctrl-C at the prompt", ctrl_c)

        # --- Ctrl-C stops a streaming command and returns to the prompt ---
        def stream():
            term.type("events")
            term.keys("Enter")
            term.wait(lambda s: term.last_line() == PROMPT + "events",
                      what="events running")
            vm.qmp().execute("stop")
            term.wait(lambda s: term.last_line().endswith(" STOP"),
                      what="the STOP event printed by 'events'")
            term.keys("C-c")
            tap.ok(at_prompt(term), "Ctrl-C ends 'events' and the prompt comes back")
            vm.qmp().execute("cont")
            term.wait_text("RESUME")
            s = run(term, "query")
            tap.ok("actual: 2.00 GiB (2147483648 bytes)" in output_of(s, "query"),
                   "the shell goes on after the interrupted command")
            # stats --watch without a guest waits for a first sample;
            # Ctrl-C must end the wait just the same.
            term.type("stats --watch")
            term.keys("Enter")
            term.wait(lambda s: term.last_line() == PROMPT + "stats --watch",
                      what="stats running")
            term.keys("C-c")
            tap.ok(at_prompt(term), "Ctrl-C ends 'stats --watch' and returns to the prompt")
            tap.ok(term.alive(), "the shell is still running")
            # set --wait: the guest (none here) does not move; the
            # progress line counts the seconds meanwhile.
            term.type("set 1G --wait")
            term.keys("Enter")
            term.wait(lambda s: term.last_line() == "actual 2.00 GiB, target 1.00 GiB, 2s",
                      what="set --wait progress counting the seconds")
            tap.ok(True, "set --wait shows its progress, the seconds going on")
            term.keys("C-c")
            tap.ok(at_prompt(term) and "vbctl: set: not settled" in term.screen(),
                   "Ctrl-C ends 'set --wait' (not settled) and returns to the prompt")
            lines = term.screen().rstrip("\n").splitlines()
            tap.ok(len(lines) >= 2 and lines[-2].strip() != "",
                   "no blank line between set --wait's last words and the prompt")
            if lines[-2:-1] == [""]:
                tap.diag("screen:\n" + term.screen())
        tmuxterm.scenario(tap, "Ctrl-C in a streaming command", stream)

        # --- QMP error, help, qmp-shell syntax ---
        def errors():
            s = run(term, "query-nothing")
            tap.ok("CommandNotFound" in output_of(s, "query-nothing"),
                   "a QMP error shows its class")
            s = run(term, "balloon value='\"1\"'")
            tap.ok("GenericError" in output_of(s, "balloon value='\"1\"'"),
                   "a quoted number is sent as a string (QEMU refuses it)")
            s = run(term, "help")
            out = output_of(s, "help")
            tap.ok("query" in out and "shell" in out and "hmp COMMAND" in out,
                   "help lists the table's commands and the shell's own syntax")
            s = run(term, "help balloon")
            tap.ok("value=int" in output_of(s, "help balloon"),
                   "help QMP-COMMAND describes its arguments from the schema")
        tmuxterm.scenario(tap, "errors and help", errors)

        # --- history: file 0600, duplicates collapsed, Up recalls ---
        def history():
            run(term, "query")
            run(term, "query-balloon")
            run(term, "query")
            path = os.path.join(state, "vbctl", "history")
            mode = stat.S_IMODE(os.stat(path).st_mode)
            tap.is_(oct(mode), oct(0o600), "the history file is mode 0600")
            with open(path) as f:
                lines = [l.rstrip("\n") for l in f if not l.startswith("#")]
            tap.is_(lines.count("query"), 1, "a repeated command is kept once")
            tap.is_(lines[-2:], ["query-balloon", "query"],
                    "the latest use wins the place in history")
            term.keys("Up")
            tap.ok(at_prompt(term, "query"), "Up recalls the last command")
            term.keys("Up")
            tap.ok(at_prompt(term, "query-balloon"),
                   "Up again skips the older duplicate of it")
            term.keys("C-u")
        tmuxterm.scenario(tap, "history", history)

        # --- Ctrl-D leaves with status 0 ---
        def ctrl_d():
            term.keys("C-d")
            tap.is_(term.exit_status(), 0, "Ctrl-D leaves the shell with status 0")
        tmuxterm.scenario(tap, "Ctrl-D", ctrl_d)
    finally:
        term.close()

    # --- a new session sees the saved history; quit leaves ---
    term = tmuxterm.Term(vbtest.vbctl_argv() + ["-s", vm.sock, "shell"], env=env)
    try:
        def reopen():
            term.wait_text(PROMPT_SEEN)
            term.keys("Up")
            tap.ok(at_prompt(term, "query"), "history survives into the next session")
            term.keys("C-u")
            term.type("quit")
            term.keys("Enter")
            tap.is_(term.exit_status(), 0, "quit leaves with status 0")
        tmuxterm.scenario(tap, "history across sessions", reopen)
    finally:
        term.close()

    # --- without XDG_STATE_HOME the history is ~/.vbctl_history ---
    home = tempfile.mkdtemp(prefix="shell-home-")
    atexit.register(shutil.rmtree, home, True)
    term = tmuxterm.Term(["env", "-u", "XDG_STATE_HOME", "HOME=" + home]
                         + vbtest.vbctl_argv() + ["-s", vm.sock, "shell"])
    try:
        def fallback():
            term.wait_text(PROMPT_SEEN)
            run(term, "query-balloon")
            term.type("quit")
            term.keys("Enter")
            tap.is_(term.exit_status(), 0, "quit leaves with status 0")
            path = os.path.join(home, ".vbctl_history")
            tap.is_(oct(stat.S_IMODE(os.stat(path).st_mode)), oct(0o600),
                    "~/.vbctl_history is created mode 0600")
            with open(path) as f:
                tap.ok("query-balloon\n" in f.read(), "and holds the commands")
        tmuxterm.scenario(tap, "history in ~/.vbctl_history", fallback)
    finally:
        term.close()

    # --- Ctrl-Z at the prompt, under a job-control shell: fg comes back
    # to the line as it was, and a working line editor ---
    term = tmuxterm.Term(["bash", "--norc", "--noprofile", "-i"], env=dict(env, PS1="$ "))
    try:
        def suspend():
            term.wait(lambda s: term.last_line() == "$", what="bash's prompt")
            term.type(shlex.join(vbtest.vbctl_argv() + ["-s", vm.sock, "shell"]))
            term.keys("Enter")
            term.wait_text(PROMPT_SEEN)
            term.type("query-bal")
            at_prompt(term, "query-bal")
            term.keys("C-z")
            term.wait(lambda s: term.last_line() == "$", what="the shell stopped")
            term.type("fg")
            term.keys("Enter")
            tap.ok(at_prompt(term, "query-bal"), "after Ctrl-Z and fg the line is drawn again")
            term.keys("Tab")
            tap.ok(at_prompt(term, "query-balloon "), "and Tab completes at once: readline has the terminal")
            term.keys("C-u")
            term.type("quit")
            term.keys("Enter")
            term.wait(lambda s: term.last_line() == "$", what="bash's prompt after quit")
            # One-shot 'vbctl events' ended by Ctrl-C: bash's next prompt
            # is not glued to the ^C the terminal echoed.
            term.type(shlex.join(vbtest.vbctl_argv() + ["-v", "-s", vm.sock, "events"]))
            term.keys("Enter")
            term.wait(lambda s: term.last_line() == '<- {"return":{},"id":1}',
                      what="events connected (-v shows the capabilities reply)")
            vm.qmp().execute("stop")
            term.wait(lambda s: term.last_line().endswith(" STOP"), what="events running")
            vm.qmp().execute("cont")
            term.wait(lambda s: term.last_line().endswith(" RESUME"), what="RESUME")
            term.keys("C-c")
            term.wait(lambda s: term.last_line() == "$", what="bash's prompt on a line of its own")
            tap.is_(term.lines()[-2], "^C", "Ctrl-C ends 'vbctl events'; the prompt starts a new line")
            term.type("exit")
            term.keys("Enter")
            tap.is_(term.exit_status(), 0, "the shell quit normally after fg")
        tmuxterm.scenario(tap, "Ctrl-Z and fg; Ctrl-C in a one-shot stream", suspend)
    finally:
        term.close()

    # --- QEMU goes away with --no-reconnect: clear message, exit 3 ---
    term = tmuxterm.Term(vbtest.vbctl_argv() + ["-s", vm.sock, "--no-reconnect", "shell"],
                         env=env)
    try:
        def lost():
            term.wait_text(PROMPT_SEEN)
            term.type("query")
            vm.kill()
            tap.is_(term.exit_status(), 3, "a lost connection exits with status 3")
            tap.ok("lost the connection to QEMU" in term.screen(),
                   "and says that the connection was lost")
        tmuxterm.scenario(tap, "connection lost", lost)
    finally:
        term.close()

# --- QEMU goes away under set --wait's progress line: the message takes
# the line's place ---
with vbtest.Vm() as vm:
    term = tmuxterm.Term(vbtest.vbctl_argv() + ["-s", vm.sock, "--no-reconnect", "shell"],
                         env=env)
    try:
        def lost_waiting():
            term.wait_text(PROMPT_SEEN)
            term.type("set 1G --wait")
            term.keys("Enter")
            term.wait(lambda s: term.last_line().startswith("actual 2.00 GiB, target 1.00 GiB, "),
                      what="set --wait progress")
            vm.kill()
            tap.is_(term.exit_status(), 3, "QEMU killed under set --wait: status 3")
            lines = term.lines()
            if not tap.ok(any(l.startswith("vbctl: set: lost the connection to QEMU")
                              for l in lines), "the message starts its own line"):
                tap.diag(term.screen())
        tmuxterm.scenario(tap, "connection lost under set --wait", lost_waiting)
    finally:
        term.close()

# --- QEMU goes away and comes back (the shell's default): the shell says
# both, keeps the half-typed line, and the next command runs on the new
# QEMU; Ctrl-C while it waits ends it with exit 3 ---
with vbtest.Vm() as vm:
    term = tmuxterm.Term(vbtest.vbctl_argv() + ["-s", vm.sock, "shell"], env=env)
    try:
        def comes_back():
            term.wait_text(PROMPT_SEEN)
            term.type("que")
            vm.kill()
            term.wait_text("vbctl: shell: QEMU at %s went away" % vm.sock)
            vm.start(greet=vm.socks[1:])
            term.wait_text("vbctl: shell: QEMU at %s is back" % vm.sock)
            tap.ok(at_prompt(term, "que"), "the prompt and the half-typed line are back")
            term.type("ry")
            screen = run(term, "")
            tap.ok("actual: 2.00 GiB (2147483648 bytes)" in screen,
                   "a command after the reconnect runs on the new QEMU")
            vm.qmp().execute("stop")
            term.wait(lambda s: " STOP" in term.last_line() or " STOP" in s,
                      what="an event from the new QEMU")
            tap.ok(True, "events from the new QEMU are printed")
            vm.qmp().execute("cont")
            vm.kill()
            term.wait(lambda s: s.count("went away") == 2, what="the second went away")
            term.keys("C-c")
            tap.is_(term.exit_status(), 3, "Ctrl-C while reconnecting: exit 3")
            tap.ok("interrupted while waiting for QEMU" in term.screen(),
                   "and says it gave up waiting")
        tmuxterm.scenario(tap, "QEMU restarted under the shell", comes_back)
    finally:
        term.close()

sys.exit(tap.done())
