# SPDX-License-Identifier: MIT
"""guest.py - the guest's console driver for end-to-end tests: boot the
vballoon guest kernel (kernel/guest.elf), or Debian's Linux for
comparison, in QEMU (qemutest.Qemu) with the serial console on a pipe;
wait for the prompt, send console commands and read their replies, parse
`mem`, talk QMP.
"""

import os
import re
import subprocess
import threading
import time

from qemutest import Qemu, require_guest, require_qemu, skip_all

PROMPT = "guest> "
BOOT_TIMEOUT = 120      # seconds: TCG on a loaded 2-core machine is slow
COMMAND_TIMEOUT = 120
MEM_RE = re.compile(r"^mem: total=(\d+) free=(\d+) balloon=(\d+)$", re.M)


class GuestError(Exception):
    pass


class Guest(Qemu):
    """One QEMU running the guest kernel, its serial console on a pipe.

    machine, mem: -machine and -m; append: the kernel command line;
    devices: extra -device arguments (e.g. "virtio-balloon-pci");
    qmp: open a QMP socket (qmp_path, see qmp()); extra: more QEMU
    arguments; reboot: a reset reboots the guest (else QEMU exits:
    -no-reboot).
    """

    prompt = PROMPT
    ready = r"^balloon: ready"      # the console line once the driver is live

    def __init__(self, machine="q35", mem="2G", append="", devices=(),
                 qmp=False, extra=(), reboot=False):
        qemu, elf = self._kernel()
        super().__init__(machine, mem, kernel=elf, append=append, devices=devices,
                         monitors=1 if qmp else 0, serial="stdio", extra=extra,
                         reboot=reboot, prefix="vballoon-guest-")
        self.elf = elf
        self.machine, self.mem_size = machine, mem
        self.qmp_path = self.socks[0] if qmp else None
        self._out = bytearray()         # everything the console printed
        self._cond = threading.Condition()
        self._eof = False
        self.boot_seconds = None

    @staticmethod
    def _kernel():
        return require_guest()

    # -- lifetime ---------------------------------------------------------

    def start(self):
        self.launch(stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        threading.Thread(target=self._reader, daemon=True).start()
        return self

    def boot(self, timeout=BOOT_TIMEOUT):
        """Start QEMU and wait for the first prompt; sets boot_seconds."""
        self.start()
        self.wait_for(re.escape(self.prompt), timeout)
        self.boot_seconds = time.monotonic() - self.started
        return self

    def __enter__(self):
        return self

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
        err = self.stderr()
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

    # -- QMP --------------------------------------------------------------

    def qmp(self):
        """The QMP connection (Guest(qmp=True)), opened on first use."""
        if not self.qmp_path:
            raise GuestError("this guest was started without qmp=True")
        return super().qmp(0)


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
