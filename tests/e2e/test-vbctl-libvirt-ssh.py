# SPDX-License-Identifier: MIT
"""vbctl on a libvirt domain on a remote host: qemu+ssh:// through a real
sshd and a real libvirtd, both private to this test (the sshd listens on
a loopback port chosen at run time, with host and user keys made here;
the libvirtd is the session daemon of tests/lib/libvirttest.py, reached
as its user). query, list, set --wait, stats, events and top --once go
through ssh as they do locally; a host key that does not match, a key the
server refuses and a port where nothing listens each end with exit 3 and
a message naming the URI."""

import json
import os
import pwd
import re
import select
import shutil
import socket
import subprocess
import time

import libvirttest
from qemutest import require_guest, skip_all
from vbtest import Tap

MiB = 1 << 20
SSHD = "/usr/sbin/sshd"
t = Tap()
require_guest()
libvirttest.require_libvirt()
if os.geteuid() != 0:
    skip_all("sshd must start as root to log in as the daemon's user")
for tool in (SSHD, "ssh", "ssh-keygen", "usermod"):
    if not shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin"):
        skip_all("%s not found (apt-get install openssh-server openssh-client)" % tool)


def check(r, rc, desc):
    if not t.ok(r.rc == rc, "%s: exit %d" % (desc, rc)):
        t.diag(repr(r))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path],
                   check=True, stdin=subprocess.DEVNULL)


class Sshd:
    """A private sshd on a loopback port, letting LV's user in with a key
    kept in that user's ~/.ssh, whose known_hosts holds this server's key."""

    def __init__(self, lv):
        self.dir = os.path.join(lv.dir, "sshd")
        os.makedirs(self.dir)
        self.port = free_port()
        keygen(os.path.join(self.dir, "host"))
        keygen(os.path.join(self.dir, "other-host"))
        keygen(os.path.join(self.dir, "stranger"))
        # The daemon's user: a shell for libvirt's remote helper, and an
        # account that is not locked (useradd --system locks it).
        subprocess.run(["usermod", "-s", "/bin/sh", "-p", "*", lv.user], check=True)
        pw = pwd.getpwnam(lv.user)
        self.ssh = os.path.join(lv.home, ".ssh")
        os.makedirs(self.ssh, mode=0o700, exist_ok=True)
        keygen(os.path.join(self.ssh, "id_ed25519"))
        shutil.copy(os.path.join(self.ssh, "id_ed25519.pub"),
                    os.path.join(self.ssh, "authorized_keys"))
        self.known_hosts(os.path.join(self.dir, "host.pub"))
        for n in [self.ssh] + [os.path.join(self.ssh, x) for x in os.listdir(self.ssh)]:
            os.chown(n, pw.pw_uid, pw.pw_gid)
        cfg = os.path.join(self.dir, "sshd_config")
        with open(cfg, "w") as f:
            f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s\nPidFile %s\n"
                    "AuthorizedKeysFile .ssh/authorized_keys\n"
                    "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                    "UsePAM no\n"
                    # libvirt's remote helper finds the session daemon here
                    "SetEnv XDG_RUNTIME_DIR=%s\n"
                    % (self.port, os.path.join(self.dir, "host"),
                       os.path.join(self.dir, "pid"), lv.env["XDG_RUNTIME_DIR"]))
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)   # privilege separation
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", cfg], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.log = []
        deadline = time.monotonic() + 30
        while not any("Server listening" in l for l in self.log):
            ready, _, _ = select.select([self.proc.stderr], [], [], 1)
            line = self.proc.stderr.readline() if ready else ""
            if line:
                self.log.append(line)
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("sshd did not start: %s" % "".join(self.log))
        self.uri = "qemu+ssh://%s@127.0.0.1:%d/session" % (lv.user, self.port)

    def known_hosts(self, pubkey):
        with open(pubkey) as f:
            key = f.read()
        with open(os.path.join(self.ssh, "known_hosts"), "w") as f:
            f.write("[127.0.0.1]:%d %s" % (self.port, key))

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


lv = libvirttest.Libvirtd().start()
sshd = None
try:
    lv.create("vb1")
    sshd = Sshd(lv)
    u = ["-c", sshd.uri]
    d = u + ["-d", "vb1"]
    t.diag("URI %s" % sshd.uri)

    r = lv.vbctl(d + ["query"])
    check(r, 0, "query over qemu+ssh")
    t.is_(r.out, "actual: 256.00 MiB (268435456 bytes)\n", "the remote domain's size")

    r = lv.vbctl(u + ["list"])
    check(r, 0, "list over qemu+ssh")
    t.ok(re.search(r"^vb1 +running +yes +256\.00 MiB +- +256\.00 MiB$", r.out, re.M),
         "list: the remote domain, running, with a balloon, no target set yet")

    r = lv.vbctl(d + ["set", "50%", "--wait"])
    check(r, 0, "set 50% --wait over qemu+ssh")
    t.is_(r.out, "settled at 128.00 MiB (134217728 bytes)\n", "settled at 128 MiB")
    t.ok(re.search(r"^actual 131072$", lv.virsh("dommemstat", "vb1").stdout, re.M),
         "the daemon sees the new size (dommemstat actual 131072 KiB)")

    r = lv.vbctl(d + ["stats"])
    check(r, 0, "stats over qemu+ssh")
    t.ok(re.search(r"^free-memory +\d+\.\d\d MiB", r.out, re.M), "free memory shown")

    # Events come back over the ssh channel.
    line, rc = lv.first_balloon_event(d, "vb1")
    ev = json.loads(line) if line.startswith("{") else {}
    t.ok(ev.get("event") == "BALLOON_CHANGE" and ev.get("data", {}).get("actual", 0) > 128 * MiB,
         "events: BALLOON_CHANGE arrives over qemu+ssh (%r)" % line.strip())
    t.is_(rc, 0, "events ends with 0 on Ctrl-C")

    # The greeting libqmp makes up for a libvirt domain carries that
    # domain's own QEMU version (query-version), as doctor reports it.
    qv = re.search(r"version (\d+)\.(\d+)",
                   subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                                  text=True).stdout)
    r = lv.vbctl(d + ["doctor"])
    t.ok(r.rc == 0 and qv and "QEMU %s.%s " % qv.groups() in r.out,
         "doctor over qemu+ssh knows the domain's QEMU version (%s)"
         % (qv.group(0) if qv else "?"))
    if not r.out:
        t.diag(repr(r))

    r = lv.vbctl(d + ["top", "--once"])
    check(r, 0, "top --once over qemu+ssh")
    t.ok(re.search(r"^vb1 +256\.00 MiB +\d+\.\d\d MiB +128\.00 MiB ", r.out, re.M),
         "a row for the domain, with the target set over qemu+ssh (128 MiB)")

    # Bad input: each is a connection fault (exit 3) naming the URI.
    sshd.known_hosts(os.path.join(sshd.dir, "other-host.pub"))
    r = lv.vbctl(d + ["query"])
    check(r, 3, "a host key that does not match known_hosts")
    t.ok("cannot open libvirt URI %s" % sshd.uri in r.err
         and "REMOTE HOST IDENTIFICATION HAS CHANGED" in r.err,
         "names the URI and passes on ssh's reason")
    sshd.known_hosts(os.path.join(sshd.dir, "host.pub"))

    stranger = sshd.uri + "?keyfile=" + os.path.join(sshd.dir, "stranger")
    shutil.move(os.path.join(sshd.ssh, "id_ed25519"), os.path.join(sshd.dir, "user-key"))
    os.chmod(os.path.join(sshd.dir, "stranger"), 0o644)     # readable by the user
    r = lv.vbctl(["-c", stranger, "-d", "vb1", "query"])
    check(r, 3, "a key the server does not accept")
    t.ok("cannot open libvirt URI" in r.err and "Permission denied" in r.err,
         "says the login was refused")

    nobody = "qemu+ssh://%s@127.0.0.1:%d/session" % (lv.user, free_port())
    r = lv.vbctl(["-c", nobody, "-d", "vb1", "query"], timeout=30)
    check(r, 3, "a port where nothing listens")
    t.ok("cannot open libvirt URI %s" % nobody in r.err and "refused" in r.err,
         "names the URI and says the connection was refused")
finally:
    if sshd:
        sshd.close()
    lv.close()

raise SystemExit(t.done())
