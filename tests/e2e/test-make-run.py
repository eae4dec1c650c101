# SPDX-License-Identifier: MIT
"""test-make-run.py - a first run as the README tells it: `make -C build
run` from the top of the source tree boots the guest, says where its QMP
socket is, and `vbctl query` from the top of the tree (no -s) finds that
socket: vbctl's default ./qmp-sock and make run's socket are one file.
In a read-only source tree (make distcheck) the socket cannot be made
there: then only make run's command line is checked (make -n)."""

import os
import re
import subprocess
import sys
import time

import vbtest

t = vbtest.Tap()
vbtest.require_qemu()
top_srcdir = os.path.realpath(os.environ["top_srcdir"])
top_builddir = os.environ["top_builddir"]
sock = os.path.join(top_srcdir, "qmp-sock")
env = dict(os.environ)
env.pop("VBCTL_SOCKET", None)
env.pop("MAKEFLAGS", None)
env.pop("MFLAGS", None)

dry = subprocess.run(["make", "-s", "-n", "-C", top_builddir, "run"],
                     stdin=subprocess.DEVNULL, capture_output=True, text=True,
                     env=env)
t.ok("-qmp unix:%s,server=on" % sock in dry.stdout,
     "make run's QMP socket is qmp-sock at the top of the source tree")
t.ok(re.search(r"with QMP on %s\b" % re.escape(sock), dry.stdout) is not None,
     "make run says where its QMP socket is")
if not (dry.returncode == 0 and os.access(top_srcdir, os.W_OK)):
    t.diag("source tree not writable (make distcheck?): no boot")
    sys.exit(t.done())
if os.path.exists(sock):
    vbtest.skip_all("%s exists already (a VM of yours?): not touching it" % sock)

run = subprocess.Popen(["make", "-s", "-C", top_builddir, "run"],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=env,
                       start_new_session=True)
try:
    deadline = time.monotonic() + 60
    while not os.path.exists(sock) and time.monotonic() < deadline:
        time.sleep(0.1)
    r = vbtest.run(["query"], env=env, cwd=top_srcdir)
    t.ok(r.rc == 0 and r.out == "actual: 2.00 GiB (2147483648 bytes)\n",
         "vbctl query from the top of the tree reaches make run's guest")
    if r.rc != 0:
        t.diag(repr(r))
finally:
    # Ctrl-A x on the serial console (-serial mon:stdio) quits QEMU.
    try:
        run.stdin.write(b"\x01x")
        run.stdin.close()
        run.wait(timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        os.killpg(run.pid, 9)
        run.wait()
    left = os.path.exists(sock)
    if left:
        os.unlink(sock)
t.ok(run.returncode == 0 and not left,
     "Ctrl-A x ends make run, and QEMU removes its socket")
sys.exit(t.done())
