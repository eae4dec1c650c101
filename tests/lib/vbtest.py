# SPDX-License-Identifier: MIT
"""vbtest.py - run vbctl against a real QEMU in end-to-end tests.

The QEMU here needs no guest: `Vm()` starts qemu-system-x86_64 with
`-accel tcg -machine q35 -nodefaults -display none -m 2G`, a balloon device
unless told otherwise and QMP on a unix socket in a private temp dir.
Give `kernel=` (e.g. os.environ["GUEST_ELF"]) and `serial=True` to boot a
guest and read its console from a file.

API
  Tap(), skip_all(reason), Qmp,       from qemutest.py: TAP output (ok, is_,
  require_qemu() -> path              diag, done), the skip rule (exit 77, or
                                      a failure with VBALLOON_NO_SKIP=1), a
                                      small synchronous QMP client, and the
                                      skip when QEMU is missing.
  vbctl_argv() -> list                $VBCTL split like a shell line, so it
                                      may be "valgrind -q ... vbctl".
  run(args, sock=None, timeout=60, env=None, cwd=None) -> Result
                                      run vbctl [-s SOCK] ARGS; Result has rc,
                                      out, err, seconds, json() (out parsed).
  spawn(args, sock=None, env=None, cwd=None) -> Popen
                                      start vbctl [-s SOCK] ARGS for a stream
                                      (text pipes, own process group).
  finish(proc, timeout, started, input) -> Result
                                      wait for a spawned vbctl (killed if it
                                      overruns: rc None).
  Vm(balloon="virtio-balloon-pci", mem="2G", machine="q35", extra=(),
     kernel=None, append="", serial=False, monitors=2, accel="tcg")
      .start(greet=None) launch (or relaunch after kill(), same sockets);
                         returns once the QMP sockets in GREET (default
                         all) answer.
      .sock              QMP socket for vbctl (-s).
      .qmp()             a Qmp on a second monitor (QEMU serves one client
                         per monitor, so the test and vbctl each get one).
      .wait_serial(regex, timeout) -> match   (serial=True) console output.
      .kill(sig)         signal QEMU (SIGKILL: "QEMU died") and reap it.
      .close()           stop QEMU, remove the temp dir. Also done at exit,
                         on SIGTERM, and by the kernel if the test dies
                         (PR_SET_PDEATHSIG).
  Vm is a qemutest.Qemu, the one launcher guest.py's Guest uses too.
"""

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time

from qemutest import Qemu, Qmp, Tap, skip_all, require_qemu  # noqa: F401

START_TIMEOUT = 60      # seconds for QEMU to open its QMP sockets (loaded CI)


def vbctl_argv():
    vbctl = os.environ.get("VBCTL")
    if not vbctl:
        skip_all("VBCTL is not set (run the test through make check)")
    return shlex.split(vbctl)


class Result:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds

    def json(self):
        """stdout as one JSON document (raises ValueError if it is not)."""
        return json.loads(self.out)

    def json_lines(self):
        """stdout as one JSON value per line."""
        return [json.loads(line) for line in self.out.splitlines()]

    def __repr__(self):
        return "rc=%r out=%r err=%r (%.1f s)" % (self.rc, self.out, self.err,
                                                 self.seconds)


def _argv(args, sock):
    return vbctl_argv() + (["-s", sock] if sock else []) + list(args)


def spawn(args, sock=None, env=None, cwd=None):
    # stdin is never a terminal: vbctl without a command would open its
    # shell when run from make check in a terminal.
    return subprocess.Popen(_argv(args, sock), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cwd,
                            start_new_session=True)


def finish(proc, timeout=60, started=None, input=None):
    """Wait for PROC (given INPUT on its stdin, if a pipe); on overrun
    kill its process group (rc None)."""
    started = started or time.monotonic()
    try:
        out, err = proc.communicate(input, timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        rc = None
    return Result(rc, out, err, time.monotonic() - started)


def run(args, sock=None, timeout=60, env=None, cwd=None):
    start = time.monotonic()
    return finish(spawn(args, sock, env, cwd), timeout, start)


class Vm(Qemu):
    def __init__(self, balloon="virtio-balloon-pci", mem="2G", machine="q35",
                 extra=(), kernel=None, append="", serial=False, monitors=2,
                 accel="tcg"):
        super().__init__(machine, mem, accel=accel, kernel=kernel, append=append,
                         devices=[balloon] if balloon else [], monitors=monitors,
                         extra=extra, prefix="vbtest-")
        self.sock = self.socks[0]
        self.serial_path = os.path.join(self.tmpdir, "serial") if serial else None
        if self.serial_path:
            self.argv += ["-serial", "file:" + self.serial_path]

    def start(self, greet=None):
        """Launch QEMU (again, after kill(): same sockets); return once the
        monitors in GREET (default: all) answer. A restart under a vbctl
        that reconnects leaves its monitor out: QEMU greets one client at
        a time, and vbctl may be first."""
        self.launch()
        deadline = time.monotonic() + START_TIMEOUT
        for s in self.socks if greet is None else greet:
            self._await_greeting(s, deadline)
        return self

    def _await_greeting(self, path, deadline):
        """Poll until the monitor at PATH greets, then hang up so the next
        client (vbctl) is served."""
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("QEMU exited (%d): %s" % (self.proc.returncode,
                                                              self.stderr()))
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(max(0.1, deadline - time.monotonic()))
                    s.connect(path)
                    if b"QMP" in s.recv(4096):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("QEMU did not open %s within %d s: %s"
                                   % (path, START_TIMEOUT, self.stderr()))
            time.sleep(0.05)    # QEMU is still starting

    def qmp(self):
        """A Qmp on the second monitor (the first is vbctl's)."""
        return super().qmp(1)

    def wait_serial(self, pattern, timeout=120):
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(self.serial_path, "rb") as f:
                    m = rx.search(f.read().decode("utf-8", "replace"))
                if m:
                    return m
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("serial: no %r within %g s" % (pattern, timeout))
            time.sleep(0.1)     # the console is a file: poll it

    def __enter__(self):
        return self.start()
