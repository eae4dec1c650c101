# SPDX-License-Identifier: MIT
"""qemutest.py - what every test that runs QEMU shares: TAP output, the
skip rule, a small synchronous QMP client, and the one QEMU launcher.

guest.py (the guest's console) and vbtest.py (vbctl against QEMU) build
on it. Every QEMU started here is killed when it is closed, when the test
process exits (also on SIGTERM from the harness), and (PR_SET_PDEATHSIG)
even when the test process is killed outright.

API
  Tap()  .ok(cond, desc) .is_(got, want, desc) .diag(msg) .done() -> rc
  skip_all(reason)            exit 77 with a TAP skip, or fail under
                              VBALLOON_NO_SKIP=1 (CI: skips are failures).
  require_qemu() -> path      $QEMU or qemu-system-x86_64, else skip.
  require_guest() -> (qemu, elf)  ... and $GUEST_ELF, else skip.
  default_accel()             "kvm" where guests can use it, else "tcg".
  track(obj) / untrack(obj)   close OBJ at exit unless closed before.
  file_tail(path, limit)      the end of a file ("" if unreadable).
  Qmp(path, timeout)  .execute(cmd, **args) .events .close(); QmpError.
  Qemu(machine, mem, accel, kernel, append, devices, monitors, serial,
       extra, reboot, prefix)
      .argv, .tmpdir, .socks  (QMP sockets, "qmp-N" in the temp dir)
      .launch(stdin=, stdout=) start (again after kill()); stderr goes
                              to a file in the temp dir (.stderr()).
      .qmp(i=0)               a Qmp on monitor I, opened on first use.
      .alive() .kill(sig) .close() .cpu_seconds() .rss_bytes()
"""

import atexit
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


class Tap:
    """TAP output with the plan at the end; done() returns the exit code."""

    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, cond, desc):
        self.count += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.count, desc),
              flush=True)
        if not cond:
            self.failed += 1
        return bool(cond)

    def is_(self, got, want, desc):
        if not self.ok(got == want, desc):
            self.diag("got %r, want %r" % (got, want))

    @staticmethod
    def diag(msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.count, flush=True)
        return 1 if self.failed else 0


def skip_all(reason):
    """The whole test cannot run here: TAP skip and exit 77, or a failure
    when VBALLOON_NO_SKIP is set (CI, where everything must run)."""
    if os.environ.get("VBALLOON_NO_SKIP"):
        print("Bail out! cannot run, and skips are not allowed here: " + reason)
        sys.exit(1)
    print("1..0 # SKIP " + reason)
    sys.exit(77)


def require_qemu():
    """$QEMU or qemu-system-x86_64 on PATH; skip the test without it."""
    qemu = os.environ.get("QEMU") or shutil.which("qemu-system-x86_64")
    if not qemu or not os.access(qemu, os.X_OK):
        skip_all("qemu-system-x86_64 not found (apt-get install qemu-system-x86)")
    return qemu


def require_guest():
    """Skip unless QEMU and a built guest kernel are available."""
    qemu = require_qemu()
    elf = os.environ.get("GUEST_ELF", "")
    if not os.path.exists(elf):
        skip_all("guest kernel not built (GUEST_ELF=%r)" % elf)
    return qemu, elf


def default_accel():
    """kvm only where ordinary guests can run (vmx/svm and a writable
    /dev/kvm), else tcg: the same rule as `make run`."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        flags = ""
    if re.search(r"\b(vmx|svm)\b", flags) and os.access("/dev/kvm", os.W_OK):
        return "kvm"
    return "tcg"


_live = set()   # QEMUs, daemons and terminals not yet closed


def track(obj):
    """Close OBJ (anything with close()) at exit unless closed before."""
    _live.add(obj)


def untrack(obj):
    _live.discard(obj)


def _close_all():
    for obj in list(_live):
        obj.close()


atexit.register(_close_all)
# A test killed by the harness (SIGTERM) still closes what it started.
signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(128 + signo))


def file_tail(path, limit=2000):
    """The last LIMIT characters of the file at PATH ("" if unreadable),
    e.g. QEMU's stderr for an error message."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-limit:]
    except OSError:
        return ""


def die_with_parent():
    """preexec_fn: the child gets SIGKILL if the test process dies."""
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class QmpError(Exception):
    def __init__(self, error):
        super().__init__("%s: %s" % (error.get("class"), error.get("desc")))
        self.error_class = error.get("class")


class Qmp:
    """A minimal synchronous QMP client: execute() commands, collect events."""

    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)    # QEMU is still creating the socket
        self.sock.settimeout(timeout)
        self._buf = ""
        self._decoder = json.JSONDecoder()
        self.events = []
        self._recv()                # greeting
        self.execute("qmp_capabilities")

    def close(self):
        self.sock.close()

    def _recv(self):
        while True:
            text = self._buf.lstrip()
            if text:
                try:
                    msg, end = self._decoder.raw_decode(text)
                    self._buf = text[end:]
                    return msg
                except ValueError:
                    pass        # incomplete: read more
            data = self.sock.recv(65536)
            if not data:
                raise QmpError({"class": "Disconnected", "desc": "QMP closed"})
            self._buf += data.decode()

    def execute(self, command, **arguments):
        """Run COMMAND; returns its "return" value or raises QmpError."""
        req = {"execute": command}
        if arguments:
            req["arguments"] = arguments
        self.sock.sendall(json.dumps(req).encode() + b"\r\n")
        while True:
            msg = self._recv()
            if "event" in msg:
                self.events.append(msg)
            elif "error" in msg:
                raise QmpError(msg["error"])
            elif "return" in msg:
                return msg["return"]


class Qemu:
    """One qemu-system-x86_64: -nodefaults, no display, MONITORS QMP
    sockets in a private temp dir; KERNEL booted with APPEND; SERIAL a
    -serial backend (e.g. "stdio", "file:PATH") or None; DEVICES -device
    arguments; EXTRA more arguments; REBOOT False adds -no-reboot (a reset
    ends QEMU). ACCEL None: default_accel()."""

    def __init__(self, machine="q35", mem="2G", accel=None, kernel=None, append="",
                 devices=(), monitors=0, serial=None, extra=(), reboot=True,
                 prefix="vballoon-qemu-"):
        self.qemu = require_qemu()
        self.tmpdir = tempfile.mkdtemp(prefix=prefix)
        self.socks = [os.path.join(self.tmpdir, "qmp-%d" % i) for i in range(monitors)]
        self.argv = [self.qemu, "-accel", accel or default_accel(), "-machine", machine,
                     "-m", mem, "-nodefaults", "-display", "none"]
        if kernel:
            self.argv += ["-kernel", kernel, "-append", append]
        if serial:
            self.argv += ["-serial", serial]
        if not reboot:
            self.argv.append("-no-reboot")
        for d in devices:
            self.argv += ["-device", d]
        for s in self.socks:
            self.argv += ["-qmp", "unix:%s,server=on,wait=off" % s]
        self.argv += list(extra)
        self.proc = None
        self._stderr = None
        self._qmp = {}

    def launch(self, stdin=subprocess.DEVNULL, stdout=None):
        """Start QEMU (again after kill(): same argv and sockets); its
        stderr, and stdout unless given, go to a file in the temp dir."""
        self._close_qmp()
        if self._stderr:
            self._stderr.close()
        self._stderr = open(os.path.join(self.tmpdir, "qemu-stderr"), "wb+")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=stdin,
                                     stdout=self._stderr if stdout is None else stdout,
                                     stderr=self._stderr, preexec_fn=die_with_parent)
        track(self)
        return self.proc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        """The end of what QEMU wrote to stderr (its error messages)."""
        return file_tail(self._stderr.name) if self._stderr else ""

    def qmp(self, i=0):
        """A Qmp on monitor I, opened on first use. QEMU serves one client
        per monitor: leave one to vbctl if it needs one."""
        if i not in self._qmp:
            self._qmp[i] = Qmp(self.socks[i])
        return self._qmp[i]

    def _close_qmp(self):
        for q in self._qmp.values():
            q.close()
        self._qmp = {}

    def kill(self, sig=signal.SIGKILL):
        """Signal QEMU (SIGKILL: "QEMU died") and reap it."""
        if self.alive():
            self.proc.send_signal(sig)
            self.proc.wait()

    def close(self):
        """Stop QEMU (SIGTERM, SIGKILL after 5 s), remove the temp dir."""
        self._close_qmp()
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            for f in (self.proc.stdin, self.proc.stdout):
                if f:
                    f.close()
        if self._stderr:
            self._stderr.close()
        untrack(self)
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __exit__(self, *exc):
        self.close()

    # -- host-side measurements -------------------------------------------

    def cpu_seconds(self):
        """CPU time (user + system) QEMU has used so far."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            # Fields after the parenthesised command name; utime and stime
            # are fields 14 and 15 (proc(5)).
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def idle_cpu_fraction(self, seconds=3.0):
        """Fraction of one core QEMU used over SECONDS of wall time."""
        c0, t0 = self.cpu_seconds(), time.monotonic()
        time.sleep(seconds)     # measuring an interval: a sleep is the point
        return (self.cpu_seconds() - c0) / (time.monotonic() - t0)

    def rss_bytes(self):
        """QEMU's resident memory (VmRSS), in bytes."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS for QEMU")
