# SPDX-License-Identifier: MIT
"""The Debian packages: dpkg-buildpackage -us -uc -b builds vbctl, libqmpN,
libqmp-dev and vballoon-guest from a copy of the source tree (the tree
itself stays clean), lintian finds no errors and only the warnings listed
below, and the packages install with dpkg -i into a fresh root: an overlay
of this machine's / in a private mount namespace, so dpkg checks their
dependencies against what is installed here, and nothing of it outlives
the test. There vbctl --version, pkg-config --libs libqmp and a program
built against the installed <qmp/qmp.h> run, and the installed vbctl and
the program drive the installed guest kernel booted in QEMU."""

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from vbtest import Tap, Vm, skip_all, require_qemu  # noqa: E402
from qemutest import die_with_parent  # noqa: E402

# lintian warnings kept, and why:
# - initial-upload-closes-no-bugs: the packages are built from the upstream
#   tree, not uploaded to Debian, so there is no ITP bug to close.
KEPT_WARNINGS = {"initial-upload-closes-no-bugs"}
BUILD_TIMEOUT = 900     # seconds: a full build on a loaded 2-core machine

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <qmp/qmp.h>

int main(int argc, char **argv)
{
	struct qmp *q = qmp_new();
	uint64_t actual;
	int major, minor, micro;

	if (argc != 2 || !q)
		return 2;
	if (qmp_connect(q, argv[1]) < 0 || qmp_balloon_query(q, &actual) < 0 ||
	    qmp_get_version(q, &major, &minor, &micro) < 0) {
		fprintf(stderr, "%s\n", qmp_get_error_desc(q));
		qmp_unref(q);
		return 1;
	}
	printf("qemu %d.%d.%d actual %llu\n", major, minor, micro,
	       (unsigned long long)actual);
	qmp_unref(q);
	return 0;
}
"""

top = os.environ.get("top_srcdir") or os.path.join(os.path.dirname(__file__), "..", "..")
top = os.path.abspath(top)
if not os.path.isfile(os.path.join(top, "debian", "control")):
    skip_all("no debian/ directory in %s" % top)
for tool, package in [("dpkg-buildpackage", "dpkg-dev"), ("dh", "debhelper"),
                      ("lintian", "lintian"), ("unshare", "util-linux"),
                      ("nsenter", "util-linux")]:
    if not shutil.which(tool):
        skip_all("%s not found (apt-get install %s)" % (tool, package))
if os.geteuid() != 0:
    skip_all("a fresh root for dpkg -i needs root (mount namespace and overlayfs)")
qemu = require_qemu()
# The library's package is named after its SONAME, as its symbols file is.
libpkg = [f[:-len(".symbols")] for f in os.listdir(os.path.join(top, "debian"))
          if re.fullmatch(r"libqmp\d+\.symbols", f)]
if len(libpkg) != 1:
    skip_all("not one debian/libqmpN.symbols but %r" % libpkg)
libpkg = libpkg[0]
soname = "libqmp.so." + libpkg[len("libqmp"):]
PACKAGES = ["vbctl", libpkg, "libqmp-dev", "vballoon-guest"]

t = Tap()
tmp = tempfile.mkdtemp(prefix="vbtest-deb-")
# Also when the harness stops the test (SIGTERM: guest.py exits cleanly).
atexit.register(shutil.rmtree, tmp, True)
share = os.path.join(tmp, "share")     # seen at the same path in the root
os.makedirs(share)


def sh(argv, cwd=None, timeout=300, env=None):
    return subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def tail(text, n=40):
    return "\n".join(text.splitlines()[-n:])


# ---- a copy of the tree -----------------------------------------------------
# What git tracks or would track (untracked files not ignored), so build
# directories and an in-tree build stay out; without git, everything but
# build directories.
src = os.path.join(tmp, "vballoon")
os.makedirs(src)
listing = sh(["git", "-C", top, "ls-files", "-z", "--cached", "--others",
              "--exclude-standard"]) if shutil.which("git") else None
if listing and listing.returncode == 0:
    for name in listing.stdout.split("\0"):
        path = os.path.join(top, name)
        if name and os.path.lexists(path) and not os.path.isdir(path):
            os.makedirs(os.path.dirname(os.path.join(src, name)), exist_ok=True)
            shutil.copy2(path, os.path.join(src, name), follow_symlinks=False)
else:
    shutil.rmtree(src)
    shutil.copytree(top, src, symlinks=True,
                    ignore=shutil.ignore_patterns("build*", ".git", "autom4te.cache"))

# ---- build --------------------------------------------------------------------
# Not make check's jobserver: the package build runs make on its own.
env = {k: v for k, v in os.environ.items()
       if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
# The test suite runs beside this test already: nocheck.
env["DEB_BUILD_OPTIONS"] = "nocheck parallel=%d" % (os.cpu_count() or 2)
build = sh(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src,
           timeout=BUILD_TIMEOUT, env=env)
if not t.ok(build.returncode == 0, "dpkg-buildpackage -us -uc -b succeeds"):
    t.diag(tail(build.stdout + build.stderr, 60))
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(t.done())

with open(os.path.join(src, "debian", "changelog")) as f:
    version = re.match(r"\S+ \(([^)]+)\)", f.readline()).group(1)
arch = sh(["dpkg", "--print-architecture"]).stdout.strip()
debs = {}
for p in PACKAGES:
    a = "all" if p == "vballoon-guest" else arch
    path = os.path.join(tmp, "%s_%s_%s.deb" % (p, version, a))
    if t.ok(os.path.isfile(path), "package %s is built" % os.path.basename(path)):
        debs[p] = path
        shutil.copy(path, share)

# ---- lintian ----------------------------------------------------------------
changes = os.path.join(tmp, "vballoon_%s_%s.changes" % (version, arch))
lint = sh(["lintian", "--pedantic", changes], timeout=600)
tags = re.findall(r"^([EWIPX]): (\S+): (\S+)(.*)$", lint.stdout, re.M)
errors = [" ".join(x) for x in tags if x[0] == "E"]
warnings = [" ".join(x) for x in tags if x[0] == "W" and x[2] not in KEPT_WARNINGS]
if not t.ok(lint.returncode in (0, 1), "lintian ran on %s" % os.path.basename(changes)):
    t.diag(tail(lint.stderr))
if not t.ok(not errors, "lintian: no errors"):
    t.diag("\n".join(errors))
if not t.ok(not warnings, "lintian: no warnings but %s" % ", ".join(sorted(KEPT_WARNINGS))):
    t.diag("\n".join(warnings))
for x in tags:
    if x[0] in "IPX":
        t.diag("lintian: " + " ".join(x))

# ---- a fresh root -------------------------------------------------------------
# Inside a private mount namespace: an overlay of / with its upper layer on
# a tmpfs, /dev and /proc, an empty /usr/local (nothing installed by hand
# there may stand in for the packages), and SHARE bound at its own path.
ns = os.path.join(tmp, "ns")
root = os.path.join(ns, "root")
os.makedirs(ns)
setup = """set -e
mount -t tmpfs tmpfs {ns}
mkdir {ns}/upper {ns}/work {root}
mount -t overlay overlay -o lowerdir=/,upperdir={ns}/upper,workdir={ns}/work {root}
mount --rbind /dev {root}/dev
mount -t proc proc {root}/proc
mount -t tmpfs tmpfs {root}/usr/local
mkdir -p {root}{share}
mount --bind {share} {root}{share}
echo ready
exec cat
""".format(ns=ns, root=root, share=share)
holder = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                           "sh", "-c", setup], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, preexec_fn=die_with_parent)
ready = holder.stdout.readline().strip() == "ready"
if not t.ok(ready, "a fresh root: overlay of / in a private mount namespace"):
    holder.stdin.close()
    t.diag(holder.stderr.read())
    holder.wait()
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(t.done())
enter = ["nsenter", "-t", str(holder.pid), "-m", "--", "chroot", root]


def inside(command, timeout=120):
    """Run COMMAND (a shell line) in the fresh root."""
    return sh(enter + ["sh", "-c", command], timeout=timeout)


try:
    for p in PACKAGES:
        r = inside("dpkg-query -W -f '${Status}' %s" % p)
        t.ok("installed" not in r.stdout, "%s is not installed in the root yet" % p)
    r = inside("dpkg -i " + " ".join(os.path.join(share, os.path.basename(d))
                                     for d in debs.values()), timeout=300)
    if not t.ok(r.returncode == 0 and len(debs) == len(PACKAGES),
                "dpkg -i installs %s" % " ".join(PACKAGES)):
        t.diag(tail(r.stdout + r.stderr))
    r = inside("dpkg-query -W -f '${Package} ${Status}\\n' " + " ".join(PACKAGES))
    t.is_(sorted(r.stdout.splitlines()),
          sorted("%s install ok installed" % p for p in PACKAGES),
          "dpkg records all four as installed")

    upstream = version.rsplit("-", 1)[0]
    r = inside("/usr/bin/vbctl --version")
    # "vbctl (vballoon) 0.1.0", and " (with libvirt)" when it is.
    if not t.ok(r.returncode == 0 and re.match(r"vbctl \(vballoon\) %s( |$)"
                                               % re.escape(upstream), r.stdout.strip()),
                "vbctl --version names the packaged version"):
        t.diag(r.stdout + r.stderr)
    r = inside("dpkg -L " + " ".join(PACKAGES))
    for path in ["/usr/share/man/man1/vbctl.1.gz", "/usr/share/man/man3/libqmp.3.gz",
                 "/usr/include/qmp/qmp.h", "/usr/share/vballoon/guest.elf",
                 "/usr/share/bash-completion/completions/vbctl"]:
        t.ok(path in r.stdout.split("\n"), "the packages install %s" % path)

    multiarch = sh(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()
    r = inside("pkg-config --libs libqmp && pkg-config --variable=pcfiledir libqmp")
    lines = r.stdout.split("\n")
    if not t.ok(r.returncode == 0 and "-lqmp" in lines[0].split() and
                lines[1] == "/usr/lib/%s/pkgconfig" % multiarch,
                "pkg-config --libs libqmp: -lqmp, from the installed libqmp.pc"):
        t.diag(r.stdout + r.stderr)

    with open(os.path.join(share, "prog.c"), "w") as f:
        f.write(PROGRAM)
    prog = os.path.join(share, "prog")
    r = inside("cc -Wall -Werror -o %s %s/prog.c $(pkg-config --cflags --libs libqmp)"
               % (prog, share))
    if not t.ok(r.returncode == 0, "a program builds against the installed <qmp/qmp.h>"):
        t.diag(r.stderr)
    r = inside("ldd " + prog)
    # /lib is /usr/lib on merged-/usr systems: ld.so may name either.
    lib = re.escape(soname)
    if not t.ok(re.search(r"%s => (/usr)?/lib/%s/%s " % (lib, re.escape(multiarch), lib),
                          r.stdout),
                "it links the installed %s" % soname):
        t.diag(r.stdout + r.stderr)

    # The installed guest kernel in QEMU, driven by the installed tools.
    tempfile.tempdir = share
    vm = Vm(mem="256M", kernel="/usr/share/vballoon/guest.elf", serial=True)
    vm.argv = enter + vm.argv
    with vm:
        vm.wait_serial(r"balloon: ready")
        t.ok(True, "QEMU boots /usr/share/vballoon/guest.elf to 'balloon: ready'")
        r = inside("%s %s" % (prog, vm.sock))
        t.ok(r.returncode == 0 and re.fullmatch(r"qemu \d+\.\d+\.\d+ actual 268435456\n",
                                                r.stdout),
             "the program reads the guest's size over QMP: %r" % r.stdout)
        r = inside("/usr/bin/vbctl -s %s set 128M --wait --timeout 60" % vm.sock,
                   timeout=120)
        if not t.ok(r.returncode == 0, "installed vbctl: set 128M --wait"):
            t.diag(r.stdout + r.stderr)
        r = inside("/usr/bin/vbctl -s %s -j query" % vm.sock)
        t.ok(r.returncode == 0 and '134217728' in r.stdout,
             "installed vbctl: query says 128 MiB: %r" % r.stdout.strip())
        r = inside("%s %s" % (prog, vm.sock))
        t.ok(r.stdout.endswith(" actual 134217728\n"),
             "the program sees the new size: %r" % r.stdout)

    r = inside("dpkg --purge " + " ".join(PACKAGES) +
               " && ! test -e /usr/bin/vbctl && ! test -e /usr/share/vballoon/guest.elf"
               " && ! pkg-config --exists libqmp")
    if not t.ok(r.returncode == 0, "dpkg --purge removes them all"):
        t.diag(tail(r.stdout + r.stderr))
finally:
    holder.stdin.close()
    holder.wait()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(t.done())
