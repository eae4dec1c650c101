# SPDX-License-Identifier: MIT
"""libvirttest.py - a private libvirtd for end-to-end tests, and domains
that boot our guest kernel in it.

The daemon runs in session mode (qemu:///session) with every directory in
a temp dir: as root, under a user the test creates (as root,
qemu:///session would be the system daemon) and removes again. Tuned as
measured on the reference machine: LIBVIRT_AUTOSTART=0 (a client must
never spawn a second daemon), stdio_handler = "file" (QEMU writes its own
log, no virtlogd), a child subreaper around the daemon (tini -s: QEMU is
reaped at once, so destroy takes 0.25 s rather than 2 s) and a warm QEMU
capabilities cache kept in the build tree between runs.

API
  require_libvirt()             skip unless libvirtd, virsh, tini, and (as
                                root) useradd/setpriv are here and vbctl
                                was built with libvirt.
  Libvirtd()  .start()          start the daemon; returns once it answers.
      .uri                      qemu:///session
      .env                      the environment its clients need
      .argv(argv) -> list       ARGV run as the daemon's user in its env.
      .run(argv, timeout) -> CompletedProcess (text)
      .virsh(*args) -> CompletedProcess
      .vbctl(args, timeout, input="") -> vbtest.Result
      .spawn(args) -> Popen     vbctl for a stream (text pipes, own session)
      .first_balloon_event(args, domain) -> (line, rc)   vbctl ARGS -j
                                events BALLOON_CHANGE, DOMAIN's size
                                changed until the first event comes
                                through (at most 30 s), then Ctrl-C: its
                                first line ('' if none) and exit status.
      .define(name, mem_mib=256) -> name   a persistent domain, shut off
      .create(name, mem_mib=256, balloon=True) -> Domain   a transient
                                domain booting the guest, once its console
                                says "balloon: ready" (or the prompt).
      .close()                  destroy the domains, stop the daemon, reap
                                what is left, remove the user and the dir.
                                Also at exit (qemutest.track).
"""

import os
import pwd
import select
import shutil
import signal
import subprocess
import tempfile
import time

from qemutest import skip_all, track, untrack, file_tail, die_with_parent
from vbtest import finish, vbctl_argv  # noqa: F401 (vbctl_argv: for tests)

START_TIMEOUT = 60      # seconds: the first start fills the capabilities cache
BOOT_TIMEOUT = 120
CAPS = os.path.join("libvirt", "qemu", "cache", "capabilities")


def _which(name):
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def require_libvirt():
    for tool in ("libvirtd", "virsh", "tini"):
        if not _which(tool):
            skip_all("%s not found (apt-get install libvirt-daemon-system "
                     "libvirt-clients tini)" % tool)
    if os.geteuid() == 0:
        for tool in ("useradd", "userdel", "setpriv"):
            if not _which(tool):
                skip_all("%s not found" % tool)
    r = subprocess.run(vbctl_argv() + ["-c", "test:///default", "-d", "test", "query"],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if "built without libvirt" in r.stderr:
        skip_all("vbctl was built without libvirt (apt-get install libvirt-dev, "
                 "then configure again)")


def _remove_stale_users():
    """Users "vbtestPID" left by a test that was killed outright (PID gone)."""
    for pw in pwd.getpwall():
        name = pw.pw_name
        if not (name.startswith("vbtest") and name[6:].isdigit()):
            continue
        if not os.path.exists("/proc/" + name[6:]):
            subprocess.run(["userdel", name], capture_output=True)


class Domain:
    def __init__(self, lv, name, console):
        self.lv, self.name, self.console = lv, name, console

    def wait_console(self, text, timeout=BOOT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while text not in file_tail(self.console, 1 << 20):
            if time.monotonic() > deadline:
                raise RuntimeError("domain %s: no %r on its console within %d s:\n%s"
                                   % (self.name, text, timeout,
                                      file_tail(self.console)))
            time.sleep(0.05)    # the console is a file: poll it


class Libvirtd:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vbtest-libvirt-")
        os.chmod(self.dir, 0o755)
        self.home = os.path.join(self.dir, "home")
        self.uri = "qemu:///session"
        self.user = None
        self.proc = None
        self.domains = []
        self.defined = []
        builddir = os.environ.get("top_builddir", ".")
        self.caps_keep = os.path.join(builddir, "tests", "libvirt-caps-cache")
        self.env = {
            "HOME": self.home,
            "XDG_RUNTIME_DIR": os.path.join(self.home, "run"),
            "XDG_CONFIG_HOME": os.path.join(self.home, "cfg"),
            "XDG_CACHE_HOME": os.path.join(self.home, "cache"),
            "LIBVIRT_DEFAULT_URI": self.uri,
            "LIBVIRT_AUTOSTART": "0",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin",
            "LANG": "C.UTF-8",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                self.env[k] = os.environ[k]

    # -- the daemon's user -----------------------------------------------

    def argv(self, argv):
        env = ["env", "-i"] + ["%s=%s" % kv for kv in self.env.items()]
        if not self.user:
            return env + list(argv)
        pw = pwd.getpwnam(self.user)
        return ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                "--clear-groups", "--"] + env + list(argv)

    def run(self, argv, timeout=60):
        return subprocess.run(self.argv(argv), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)

    def virsh(self, *args):
        return self.run(["virsh", "-q", "-c", self.uri] + list(args))

    def spawn(self, args):
        """vbctl ARGS as the daemon's user, for a stream (own session)."""
        return subprocess.Popen(self.argv(vbctl_argv() + list(args)),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

    def first_balloon_event(self, args, domain, timeout=30):
        p = self.spawn(list(args) + ["-j", "events", "BALLOON_CHANGE"])
        # vbctl registers with libvirt for monitor events once it runs: a
        # change made before is not seen. Each change makes one event.
        line, size, deadline = "", 200, time.monotonic() + timeout
        while not line and time.monotonic() < deadline:
            self.virsh("setmem", domain, "%dM" % size, "--live")
            # QEMU sends at most one a second
            ready, _, _ = select.select([p.stdout], [], [], 1.5)
            line = p.stdout.readline() if ready else ""
            size = 401 - size           # 200, 201, 200, ...
        os.killpg(p.pid, signal.SIGINT)
        p.communicate(timeout=30)
        return line, p.returncode

    def vbctl(self, args, timeout=60, input=""):
        start = time.monotonic()
        return finish(self.spawn(args), timeout, start, input)

    # -- lifetime -----------------------------------------------------------

    def start(self):
        track(self)
        for d in ("run", "cfg/libvirt", "cache/" + CAPS):
            os.makedirs(os.path.join(self.home, d), mode=0o700, exist_ok=True)
        with open(os.path.join(self.home, "cfg", "libvirt", "qemu.conf"), "w") as f:
            f.write('stdio_handler = "file"\n')
        if os.path.isdir(self.caps_keep):
            for name in os.listdir(self.caps_keep):
                shutil.copy(os.path.join(self.caps_keep, name),
                            os.path.join(self.home, "cache", CAPS))
        # The guest kernel where the daemon's user can read it.
        self.kernel = os.path.join(self.dir, "guest.elf")
        shutil.copy(os.environ["GUEST_ELF"], self.kernel)
        os.chmod(self.kernel, 0o644)
        if os.geteuid() == 0:
            _remove_stale_users()
            self.user = "vbtest%d" % os.getpid()
            subprocess.run(["useradd", "--system", "--no-create-home",
                            "--home-dir", self.home, "--shell", "/usr/sbin/nologin",
                            self.user], check=True, capture_output=True)
            pw = pwd.getpwnam(self.user)
            for root, dirs, files in os.walk(self.home):
                for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                    os.chown(n, pw.pw_uid, pw.pw_gid)
        self.log = open(os.path.join(self.dir, "libvirtd.log"), "wb+")
        # tini -s: a subreaper for the QEMUs libvirtd daemonizes.
        self.proc = subprocess.Popen(
            ["tini", "-s", "--"] + self.argv(["libvirtd", "--timeout", "0"]),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
            preexec_fn=die_with_parent)
        sock = os.path.join(self.env["XDG_RUNTIME_DIR"], "libvirt", "libvirt-sock")
        deadline = time.monotonic() + START_TIMEOUT
        while not (os.path.exists(sock) and self.virsh("version").returncode == 0):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("libvirtd did not start: %s" % file_tail(self.log.name))
            time.sleep(0.1)     # the daemon is starting: nothing to wait on
        return self

    def _xml(self, name, mem_mib, balloon):
        # In the daemon user's home: QEMU runs as that user and writes it.
        console = os.path.join(self.home, name + ".console")
        xml = os.path.join(self.dir, name + ".xml")
        memballoon = ("<memballoon model='virtio'><stats period='2'/></memballoon>"
                      if balloon else "<memballoon model='none'/>")
        with open(xml, "w") as f:
            f.write("""<domain type='qemu'><name>%s</name>
 <memory unit='MiB'>%d</memory><vcpu>1</vcpu>
 <os><type arch='x86_64' machine='q35'>hvm</type><kernel>%s</kernel></os>
 <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>
 <on_crash>destroy</on_crash>
 <devices><controller type='usb' model='none'/>
  <serial type='file'><source path='%s'/><target port='0'/></serial>
  %s
 </devices></domain>
""" % (name, mem_mib, self.kernel, console, memballoon))
        return xml, console

    def define(self, name, mem_mib=256):
        """A persistent domain that is not started (shut off)."""
        xml, _ = self._xml(name, mem_mib, True)
        r = self.virsh("define", xml)
        if r.returncode != 0:
            raise RuntimeError("virsh define %s: %s%s" % (name, r.stdout, r.stderr))
        self.defined.append(name)
        return name

    def create(self, name, mem_mib=256, balloon=True, wait="balloon: ready"):
        xml, console = self._xml(name, mem_mib, balloon)
        r = self.virsh("create", xml)
        if r.returncode != 0:
            raise RuntimeError("virsh create %s: %s%s" % (name, r.stdout, r.stderr))
        dom = Domain(self, name, console)
        self.domains.append(dom)
        dom.wait_console(wait if balloon else "guest> ")
        return dom

    def close(self):
        untrack(self)
        if self.proc and self.proc.poll() is None:
            for dom in self.domains:
                self.virsh("destroy", dom.name)
            for name in self.defined:
                self.virsh("undefine", name)
            self.proc.send_signal(signal.SIGTERM)   # tini passes it on
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Whatever QEMU is left (the daemon died first): by its pid file.
        for root, _, files in os.walk(os.path.join(self.env["XDG_RUNTIME_DIR"], "libvirt")):
            for n in files:
                if n.endswith(".pid") and "qemu" in root:
                    try:
                        with open(os.path.join(root, n)) as f:
                            os.kill(int(f.read().strip()), signal.SIGKILL)
                    except (OSError, ValueError):
                        pass
        if self.proc:
            self.log.close()
        # Keep the capabilities cache warm for the next run.
        caps = os.path.join(self.home, "cache", CAPS)
        if os.path.isdir(caps) and os.listdir(caps):
            os.makedirs(self.caps_keep, exist_ok=True)
            for name in os.listdir(caps):
                shutil.copy(os.path.join(caps, name), self.caps_keep)
        if self.user:
            subprocess.run(["userdel", self.user], capture_output=True)
            self.user = None
        shutil.rmtree(self.dir, ignore_errors=True)
