# SPDX-License-Identifier: MIT
"""guest.py - boot the vballoon guest kernel (kernel/guest.elf) in QEMU for
end-to-end tests: wait for the console prompt, send console commands and
read their replies, parse `mem`, measure QEMU's CPU time, talk QMP.

Tests speak TAP through the small Tap class here. Every QEMU started here
is killed when its Guest is closed, when the test process exits, and (via
PR_SET_PDEATHSIG) even when the test process is killed outright.
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
import threading
import time

PROMPT = "guest> "
BOOT_TIMEOUT = 120      # seconds: TCG on a loaded 2-core machine is slow
COMMAND_TIMEOUT = 120
MEM_RE = re.compile(r"^mem: total=(\d+) free=(\d+) balloon=(\d+)$", re.M)


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


class GuestError(Exception):
    pass


_live = set()   # QEMUs and terminals not yet closed, for the exit handlers


def track(obj):
    """Close OBJ (anything with close()) at exit unless closed before."""
    _live.add(obj)


def untrack(obj):
    _live.discard(obj)


def _close_all():
    for obj in list(_live):
        obj.close()


atexit.register(_close_all)
# A test killed by the harness (SIGTERM) still kills its QEMU.
signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(128 + signo))


def file_tail(path, limit=2000):
    """The last LIMIT characters of the file at PATH ("" if unreadable),
    e.g. QEMU's stderr for an error message."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-limit:]
    except OSError:
        return ""


def _die_with_parent():
    """preexec_fn: QEMU gets SIGKILL if the test process dies."""
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class Guest:
    """One QEMU running the guest kernel, its serial console on a pipe.

    machine, mem: -machine and -m; append: the kernel command line;
    devices: extra -device arguments (e.g. "virtio-balloon-pci");
    qmp: open a QMP socket (see qmp()); extra: more QEMU arguments;
    reboot: a reset reboots the guest (else QEMU exits: -no-reboot).
    """

    prompt = PROMPT
    ready = r"^balloon: ready"      # the console line once the driver is live

    def __init__(self, machine="q35", mem="2G", append="", devices=(),
                 qmp=False, extra=(), reboot=False):
        self.qemu, self.elf = self._kernel()
        self.machine, self.mem_size = machine, mem
        self.tmpdir = tempfile.mkdtemp(prefix="vballoon-guest-")
        self.qmp_path = os.path.join(self.tmpdir, "qmp-sock") if qmp else None
        self.argv = [self.qemu, "-accel", default_accel(), "-machine", machine,
                     "-m", mem, "-nodefaults", "-display", "none",
                     "-kernel", self.elf, "-append", append,
                     "-serial", "stdio"]
        if not reboot:
            self.argv.append("-no-reboot")
        for d in devices:
            self.argv += ["-device", d]
        if self.qmp_path:
            self.argv += ["-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        self.argv += list(extra)
        self.proc = None
        self._qmp = None
        self._out = bytearray()         # everything the console printed
        self._cond = threading.Condition()
        self._eof = False
        self.boot_seconds = None

    @staticmethod
    def _kernel():
        return require_guest()

    # -- lifetime ---------------------------------------------------------

    def start(self):
        self._stderr = open(os.path.join(self.tmpdir, "qemu-stderr"), "wb+")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=self._stderr,
                                     preexec_fn=_die_with_parent)
        track(self)
        threading.Thread(target=self._reader, daemon=True).start()
        return self

    def boot(self, timeout=BOOT_TIMEOUT):
        """Start QEMU and wait for the first prompt; sets boot_seconds."""
        self.start()
        self.wait_for(re.escape(self.prompt), timeout)
        self.boot_seconds = time.monotonic() - self.started
        return self

    def close(self):
        if self._qmp:
            self._qmp.close()
            self._qmp = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdin.close()
            self.proc.stdout.close()
            self._stderr.close()
        untrack(self)
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- console ----------------------------------------------------------

    def _reader(self):
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 65536)
            with self._cond:
                if not data:
                    self._eof = True
                else:
                    self._out += data
                self._cond.notify_all()
            if not data:
                return

    @property
    def log(self):
        """The console output so far, as text (CRs dropped)."""
        with self._cond:
            return self._out.decode("utf-8", "replace").replace("\r", "")

    def mark(self):
        """A position in the console output, for wait_for(since=...)."""
        with self._cond:
            return len(self._out)

    def wait_for(self, pattern, timeout=COMMAND_TIMEOUT, since=0):
        """Wait until PATTERN (a regex, on text with CRs dropped) appears
        in the output after position SINCE; returns the match."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                text = self._out[since:].decode("utf-8", "replace").replace("\r", "")
                m = rx.search(text)
                if m:
                    return m
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    why = "QEMU exited (%s)" % self.proc.poll() if self._eof \
                        else "timed out after %g s" % timeout
                    raise GuestError("waiting for %r: %s\n--- console tail:\n%s%s"
                                     % (pattern, why, text[-2000:],
                                        self._stderr_tail()))
                self._cond.wait(min(left, 1.0))

    def _stderr_tail(self):
        err = file_tail(self._stderr.name)
        return "\n--- qemu stderr:\n" + err if err else ""

    def send(self, text):
        """Type TEXT on the console (all at once, like a paste)."""
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def console_fifo(self):
        """A named pipe whose bytes are typed on the console, for commands
        another program runs (e.g. vbctl check --pressure 'printf ... >
        FIFO'). Returns its path."""
        path = os.path.join(self.tmpdir, "console-in")
        os.mkfifo(path)
        fd = os.open(path, os.O_RDWR)  # never EOF between writers

        def pump():
            while True:
                data = os.read(fd, 4096)
                if not data or not self.alive():
                    return
                self.send(data.decode("utf-8", "replace"))

        threading.Thread(target=pump, daemon=True).start()
        return path

    def command(self, line, timeout=COMMAND_TIMEOUT):
        """Run one console command; returns its reply lines (the output
        between the echoed command and the next prompt)."""
        since = self.mark()
        self.send(line + "\r")
        # No ^: a line the kernel prints on its own (the balloon's) may
        # land in the middle of the echo.
        m = self.wait_for(r"%s\n((?:.*\n)*?)%s" % (re.escape(line), re.escape(self.prompt)),
                          timeout, since)
        return m.group(1).splitlines()

    def reply(self, line, prefix, timeout=COMMAND_TIMEOUT):
        """Run a command; return its reply line that starts with PREFIX."""
        lines = self.command(line, timeout)
        for l in lines:
            if l.startswith(prefix):
                return l
        raise GuestError("%r: no %r line in reply %r" % (line, prefix, lines))

    def mem(self):
        """`mem` as a dict of ints: total, free, balloon (bytes)."""
        m = MEM_RE.match(self.reply("mem", "mem: "))
        if not m:
            raise GuestError("cannot parse the mem line")
        return dict(zip(("total", "free", "balloon"), map(int, m.groups())))

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

    # -- QMP --------------------------------------------------------------

    def qmp(self):
        """The QMP connection (Guest(qmp=True)), opened on first use."""
        if not self.qmp_path:
            raise GuestError("this guest was started without qmp=True")
        if not self._qmp:
            self._qmp = Qmp(self.qmp_path)
        return self._qmp


def linux_guest_files():
    """(vmlinuz, initrd.img, version) of the Linux guest that
    scripts/linux-guest.sh builds from Debian's packages (or finds in its
    cache); skips the test when it cannot be had here."""
    top = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    script = os.path.join(top, "scripts", "linux-guest.sh")
    r = subprocess.run([script], capture_output=True, text=True)
    if r.returncode != 0:
        skip_all("no Linux guest: scripts/linux-guest.sh failed: %s"
                 % (r.stderr.strip().splitlines() or ["?"])[-1])
    d = r.stdout.strip().splitlines()[-1]
    with open(os.path.join(d, "version")) as f:
        version = " ".join(f.read().split()[:2])
    return os.path.join(d, "vmlinuz"), os.path.join(d, "initrd.img"), version


class LinuxGuest(Guest):
    """Debian's Linux kernel with a busybox initramfs and its own
    virtio_balloon driver (scripts/linux-guest.sh), for comparison: the
    same interface as Guest; its console runs a busybox shell, where
    `alloc MIB` holds memory and `free-all` gives it back.
    balloon=False boots it without the balloon driver."""

    prompt = "linux> "
    ready = r"^linux-guest: balloon ready"

    def __init__(self, machine="q35", mem="2G", append="", devices=(),
                 qmp=False, extra=(), reboot=False, balloon=True):
        vmlinuz, initrd, self.version = linux_guest_files()
        cmdline = "console=ttyS0 quiet panic=-1"
        if not balloon:
            cmdline += " linux-guest.balloon=off"
            self.ready = r"^linux-guest: no balloon driver"
        self._vmlinuz = vmlinuz
        super().__init__(machine, mem, (cmdline + " " + append).strip(),
                         devices, qmp, ["-initrd", initrd] + list(extra), reboot)

    def _kernel(self):
        return require_qemu(), self._vmlinuz


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
