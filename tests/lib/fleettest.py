# SPDX-License-Identifier: MIT
"""fleettest.py - several of our guests in real QEMU, their QMP sockets named
in one directory, for the tests of vbctl's fleet commands (list, query,
set, stats, top).

Each guest is a vbtest.Vm (our kernel, serial console in a file, a second
monitor for the test itself); DIR/NAME is a symlink to its vbctl socket, so
`--sockets DIR/*.sock` names them all.

API
  SocketFleet(specs, prefix="vbtest-fleet-", ready=r"guest> ")
      specs: {NAME: dict of vbtest.Vm arguments}; kernel= and serial=True
      are added. Starts every guest, links DIR/NAME to its socket and waits
      for READY on every console (skips the test when QEMU or the guest is
      missing). A context manager; .close() stops them all.
      .vms {NAME: Vm}, .dir, .glob (DIR/*.sock), .path(NAME)
  check(t, r, rc, desc)     r (a vbtest.Result) exited RC; diag if not.
  rows(r)                   the text table in r.out as {NAME: [columns]}
                            (header left out).
  private_runtime_dir()     points $XDG_RUNTIME_DIR at a new private
                            directory (removed at exit), so the targets
                            vbctl records (vbctl(1) FILES) are the test's.
"""

import atexit
import os
import shutil
import tempfile

from qemutest import require_guest
from vbtest import Vm

BOOT_TIMEOUT = 120      # seconds: TCG on a loaded 2-core machine


def check(t, r, rc, desc):
    if not t.ok(r.rc == rc, "%s: exit %d" % (desc, rc)):
        t.diag(repr(r))


def rows(r):
    out = {}
    for line in r.out.splitlines()[1:]:
        cols = line.split()
        out[cols[0]] = cols[1:]
    return out


def private_runtime_dir():
    d = tempfile.mkdtemp(prefix="vbtest-run-")
    os.chmod(d, 0o700)
    os.environ["XDG_RUNTIME_DIR"] = d
    atexit.register(shutil.rmtree, d, True)
    return d


class SocketFleet:
    def __init__(self, specs, prefix="vbtest-fleet-", ready=r"guest> "):
        _, elf = require_guest()
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.glob = os.path.join(self.dir, "*.sock")
        self.vms = {}
        try:
            for name, spec in specs.items():
                self.vms[name] = Vm(kernel=elf, serial=True, **spec)
            for name, vm in self.vms.items():
                vm.start()
                os.symlink(vm.sock, self.path(name))
            for vm in self.vms.values():
                vm.wait_serial(ready, BOOT_TIMEOUT)
        except BaseException:
            self.close()
            raise

    def path(self, name):
        return os.path.join(self.dir, name)

    def close(self):
        for vm in self.vms.values():
            vm.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
