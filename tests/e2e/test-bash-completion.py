# SPDX-License-Identifier: MIT
"""vbctl's bash completion in a real interactive bash on a pty, loaded on
demand by bash-completion from a completions directory as installed:
commands, options and their values, sizes for set, socket files for -s,
libvirt URIs for -c and domains for -d (libvirt's test driver), and live QOM
properties of a real QEMU for qom-get/qom-set (through vbctl __complete,
the shell's own completer), the same list QEMU's qom-list gives."""

import os
import pty
import re
import select
import shutil
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from vbtest import Tap, Vm, run, skip_all, vbctl_argv  # noqa: E402

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
TIMEOUT = 60            # seconds for one completion (TCG QEMU, loaded CI)
PROMPT = "vbprompt> "

top = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(__file__), "..", "..")
script = os.path.join(top, "tools", "vbctl", "bash-completion", "vbctl")
if not shutil.which("bash"):
    skip_all("bash not found")
if not os.path.isfile(BASH_COMPLETION):
    skip_all("bash-completion not installed (apt-get install bash-completion)")
vbctl = vbctl_argv()
if len(vbctl) != 1:
    skip_all("VBCTL is a command line (%s), not the vbctl binary bash runs" % vbctl)


class Bash:
    """An interactive bash on a pty, with bash-completion and vbctl's
    completion installed in a private completions directory."""

    def __init__(self, tmp):
        comp = os.path.join(tmp, "bash-completion", "completions")
        os.makedirs(comp)
        shutil.copy(script, os.path.join(comp, "vbctl"))
        with open(os.path.join(tmp, "inputrc"), "w") as f:
            # One candidate per line, never a pager or a question.
            f.write("set completion-display-width 0\n"
                    "set completion-query-items 0\n"
                    "set page-completions off\n"
                    "set bell-style none\n")
        env = {
            "HOME": tmp, "TERM": "dumb", "INPUTRC": os.path.join(tmp, "inputrc"),
            "PATH": os.path.dirname(os.path.abspath(vbctl[0])) + ":" + os.environ["PATH"],
            "BASH_COMPLETION_USER_DIR": os.path.join(tmp, "bash-completion"),
            "LC_ALL": "C.UTF-8", "PS1": PROMPT,
        }
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], env)
        # Wide enough that no line wraps or scrolls.
        import fcntl
        import struct
        import termios
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 1000, 0, 0))
        self.buf = ""
        self.line("source %s" % BASH_COMPLETION)
        # Ctrl-X Ctrl-P prints the line being edited between markers.
        self.line("bind -x '\"\\C-x\\C-p\": printf \"\\n[LINE:%s]\\n\" \"$READLINE_LINE\"'")
        self.line("echo READY")
        self.expect(r"^READY\r?$")

    def send(self, text):
        os.write(self.fd, text.encode())

    def line(self, text):
        self.send(text + "\n")

    def expect(self, pattern):
        """Reads until PATTERN (multiline regex) matches; returns the
        match and drops what it read up to there."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + TIMEOUT
        while True:
            m = rx.search(self.buf)
            if m:
                out = self.buf[:m.end()]
                self.buf = self.buf[m.end():]
                return m, out
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("bash: no %r within %d s; got %r"
                                   % (pattern, TIMEOUT, self.buf[-2000:]))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                self.buf += os.read(self.fd, 65536).decode("utf-8", "replace")

    def complete(self, text, listing=False):
        """Types TEXT, then Tab (or M-? to list the candidates), and
        returns the line as it stands after, or the listed candidates."""
        self.send(text + ("\x1b?" if listing else "\t") + "\x18\x10")
        m, out = self.expect(r"\[LINE:(.*)\]\r?$")
        self.send("\x15")           # Ctrl-U: an empty line for the next one
        if not listing:
            return m.group(1)
        # The listing: after the line as typed (echoed, perhaps behind
        # the previous line's erasure), one candidate per line, then the
        # prompt and line drawn again.
        lines = out.replace("\r", "").split("\n")
        end = max(i for i, ln in enumerate(lines) if ln == PROMPT + text)
        start = max(i for i in range(end) if lines[i].endswith(text))
        return lines[start + 1:end]

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)


t = Tap()
tmp = tempfile.mkdtemp(prefix="vbtest-bashcomp-")
bash = None
vm = None
try:
    bash = Bash(tmp)
    commands = re.findall(r"^  (\S+) {2,}", run(["help"]).out.split("Commands:\n", 1)[1], re.M)

    # Commands and options, from vbctl's table.
    t.is_(sorted(bash.complete("vbctl ", listing=True)), sorted(commands),
          "vbctl <M-?> lists exactly the commands of 'vbctl help'")
    t.is_(bash.complete("vbctl qu"), "vbctl query ", "vbctl qu<Tab> completes query")
    bash.line("complete -p vbctl")
    t.ok(bash.expect(r"^complete -F (\S+) vbctl\r?$")[0].group(1) == "_comp_vbctl",
         "bash-completion loaded vbctl's completion from its completions directory")
    t.is_(bash.complete("vbctl hel"), "vbctl help ", "vbctl hel<Tab> completes help")
    t.is_(sorted(bash.complete("vbctl help s", listing=True)),
          sorted(c for c in commands if c.startswith("s")),
          "vbctl help s<M-?> lists the commands starting with s")
    t.is_(sorted(bash.complete("vbctl --so", listing=True)), ["--socket", "--sockets"],
          "--so<M-?>: the global --socket and --sockets")
    t.is_(bash.complete("vbctl --verb"), "vbctl --verbose ", "--verb<Tab>: --verbose")
    t.is_(bash.complete("vbctl set --w"), "vbctl set --wait ", "set --w<Tab>: --wait")
    t.ok({"--wait", "--timeout"} <= set(bash.complete("vbctl set --", listing=True)),
         "set --<M-?> lists set's options")
    # Option values from the table.
    t.is_(bash.complete("vbctl stats --format p"), "vbctl stats --format prometheus ",
          "stats --format p<Tab>: prometheus")
    t.is_(sorted(bash.complete("vbctl stats --format=", listing=True)),
          ["json", "prometheus", "text"], "stats --format=<M-?> lists the formats")
    # Sizes for set.
    sizes = bash.complete("vbctl set ", listing=True)
    t.ok({"50%", "1G", "+256M", "-256M"} <= set(sizes), "set <M-?> suggests sizes: %s" % sizes)
    t.ok({"3G", "3M", "3GiB", "3%"} <= set(bash.complete("vbctl set 3", listing=True)),
         "set 3<M-?> offers the units")
    t.is_(bash.complete("vbctl set 1.5Gi"), "vbctl set 1.5GiB ", "set 1.5Gi<Tab> completes 1.5GiB")
    t.is_(bash.complete("vbctl set +512Mi"), "vbctl set +512MiB ", "set +512Mi<Tab>: relative sizes too")

    # -s: socket files (and directories), nothing else.
    socks = os.path.join(tmp, "vms")
    os.makedirs(os.path.join(socks, "qmp-dir"))
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(os.path.join(socks, "qmp-sock"))
    open(os.path.join(socks, "qmp-notes.txt"), "w").close()
    got = bash.complete("vbctl -s %s/qmp-" % socks, listing=True)
    t.is_(sorted(got), ["qmp-dir/", "qmp-sock"], "-s lists sockets and directories, not files")
    t.is_(bash.complete("vbctl -s %s/qmp-s" % socks), "vbctl -s %s/qmp-sock " % socks,
          "-s PATH<Tab> completes the socket")
    t.is_(bash.complete("vbctl --socket=%s/qmp-s" % socks),
          "vbctl --socket=%s/qmp-sock " % socks, "--socket=PATH<Tab> too")
    t.is_(bash.complete("vbctl -s unix:%s/qmp-s" % socks),
          "vbctl -s unix:%s/qmp-sock " % socks, "-s unix:PATH<Tab> too")
    listener.close()

    # auto --weight/--min VM=: the VMs the targets on the line name (the
    # glob as typed, quotes and all).
    fleet = os.path.join(tmp, "fleet")
    os.makedirs(fleet)
    listeners = []
    for name in ("db.qmp", "web.qmp"):
        listeners.append(socket.socket(socket.AF_UNIX))
        listeners[-1].bind(os.path.join(fleet, name))
    line = "vbctl --sockets '%s/*.qmp' auto " % fleet
    t.is_(sorted(bash.complete(line + "--weight ", listing=True)), ["db.qmp=", "web.qmp="],
          "auto --weight <M-?> lists the VMs of --sockets' glob")
    t.is_(bash.complete(line + "--min w"), line + "--min web.qmp=",
          "auto --min w<Tab> completes web.qmp= (no space: the size comes next)")
    for listener in listeners:
        listener.close()
    open(os.path.join(fleet, "auto.conf"), "w").close()
    t.is_(bash.complete("vbctl auto --config %s/auto." % fleet),
          "vbctl auto --config %s/auto.conf " % fleet, "auto --config <Tab> completes files")

    # libvirt: URIs for -c, the domains at that URI for -d (libvirt's
    # test driver, which has one domain, "test").
    t.is_(bash.complete("vbctl -c qemu:///sy"), "vbctl -c qemu:///system ",
          "-c qemu:///sy<Tab>: qemu:///system")
    t.is_(bash.complete("vbctl -c test:///default -d t"), "vbctl -c test:///default -d test ",
          "-d <Tab> completes the domains at -c's URI")
    t.is_(bash.complete("vbctl --connect=test:///default --domain=t"),
          "vbctl --connect=test:///default --domain=test ", "--domain=<Tab> too")

    # Live QOM properties of a real QEMU, the ones qom-list gives.
    vm = Vm(mem="256M").start()
    # Vm's balloon has no id: QEMU names it device[0].
    props = sorted(p["name"] for p in vm.qmp().execute(
        "qom-list", path="/machine/peripheral-anon/device[0]"))
    got = bash.complete("vbctl -s %s qom-get balloon " % vm.sock, listing=True)
    want = sorted(p.replace(" ", "\\ ") for p in props)
    t.is_(sorted(got), want, "qom-get balloon <M-?> lists the balloon's QOM properties (%d)"
          % len(want))
    t.is_(bash.complete("vbctl -s %s qom-get balloon guest-stats-p" % vm.sock),
          "vbctl -s %s qom-get balloon guest-stats-polling-interval " % vm.sock,
          "qom-get balloon guest-stats-p<Tab> completes the property")
    t.is_(bash.complete("vbctl -s %s qom-set balloon guest-stats-p" % vm.sock),
          "vbctl -s %s qom-set balloon guest-stats-polling-interval " % vm.sock,
          "qom-set too")
    t.is_(bash.complete("vbctl -s %s qom-get /machine/peripheral-a" % vm.sock),
          "vbctl -s %s qom-get /machine/peripheral-anon/" % vm.sock,
          "a QOM path completes to its '/', without a space")
    t.is_(bash.complete("vbctl -s %s qmp query-ball" % vm.sock),
          "vbctl -s %s qmp query-balloon " % vm.sock, "qmp query-ball<Tab>: QEMU's command")
    t.is_(bash.complete("vbctl -s %s qmp balloon va" % vm.sock),
          "vbctl -s %s qmp balloon value=" % vm.sock, "qmp balloon va<Tab>: value=, no space")
    # No QEMU there: nothing live, and no error on the terminal.
    t.is_(bash.complete("vbctl -s %s/none qom-get balloon guest" % tmp),
          "vbctl -s %s/none qom-get balloon guest" % tmp,
          "without QEMU, qom-get offers nothing (and prints nothing)")
finally:
    if vm:
        vm.close()
    if bash:
        bash.close()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(t.done())
