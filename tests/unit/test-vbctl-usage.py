# SPDX-License-Identifier: MIT
"""vbctl's command line without QEMU: every malformed size, KEY=VALUE,
option or argument count is a usage error (exit 2) with one line naming
the bad token, found before connecting (the socket does not exist, so a
connection attempt would exit 3); help and --version need no QEMU; a
result that cannot be written is an error."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from vbtest import Tap, run, vbctl_argv  # noqa: E402

t = Tap()
sock = os.path.join(tempfile.mkdtemp(prefix="vbctl-usage-"), "no-qemu-here")


def usage_error(args, token, why=""):
    """ARGS exit 2 with one 'vbctl: ' line naming TOKEN (and WHY)."""
    r = run(args, sock, timeout=30)
    good = (r.rc == 2 and r.out == "" and r.err.startswith("vbctl: ")
            and r.err.count("\n") == 1 and token in r.err and why in r.err)
    if not t.ok(good, "%s: exit 2 naming %s" % (" ".join(args), token)):
        t.diag(repr(r))


def needs_qemu(args):
    """Well-formed ARGS get as far as connecting (exit 3)."""
    r = run(args, sock, timeout=30)
    if not t.ok(r.rc == 3 and "cannot connect to" in r.err,
                "%s: well-formed, so it tries to connect" % " ".join(args)):
        t.diag(repr(r))


# Sizes (see also test-size for the exact values).
for size, why in (("12Q", "unknown unit 'Q'"), ("", "empty"), ("G", "expected a number"),
                  ("1.5", "not a whole number of bytes"), ("0", "more than 0 bytes"),
                  ("0%", "more than 0 bytes"), ("1e9", "unknown unit 'e9'"),
                  ("1 G", "unknown unit"), ("1GG", "unknown unit 'GG'"),
                  ("50%%", "unknown unit '%%'"), ("0x10", "unknown unit"),
                  ("18446744073709551616", "too large"), ("+0", "change of 0"),
                  ("1.G", "digits after '.'"), ("++1G", "expected a number"),
                  ("+", "expected a number")):
    usage_error(["set", size], "'%s'" % size, why)
usage_error(["set", "--", "--1G"], "'--1G'", "expected a number")
usage_error(["set", "-0.3K"], "'-0.3K'", "not a whole number")
for form in ("50%", "-512M", "+1G", "1.5G", "2g", "1GB", "-10%"):
    needs_qemu(["set", form])
needs_qemu(["set", "1G", "--wait", "--timeout", "0.5"])
usage_error(["set"], "missing SIZE")
usage_error(["set", "1G", "2G"], "'2G'", "unexpected argument")
usage_error(["set", "1G", "--timeout", "5"], "--timeout", "only applies with --wait")
usage_error(["set", "1G", "--wait", "--timeout", "abc"], "'abc'", "--timeout")
usage_error(["set", "1G", "--wait", "--timeout", "0"], "'0'", "--timeout")
usage_error(["set", "1G", "--wait", "--timeout", "-1"], "'-1'", "--timeout")
usage_error(["set", "1G", "--wait", "--timeout"], "'--timeout'", "needs a value")
usage_error(["set", "1G", "--frob"], "'--frob'", "bad option")
usage_error(["set", "1G", "-x"], "'-x'", "unknown option")

# KEY=VALUE (see also test-kv).
for args, token, why in ((["value"], "'value'", "expected KEY=VALUE"),
                         (["=1"], "'=1'", "empty key"),
                         (["a..b=1"], "'a..b=1'", "empty key"),
                         (["a=1", "a=2"], "'a=2'", "given twice"),
                         (["a=1", "a.b=2"], "'a.b=2'", "already given a value"),
                         (["a.b=1", "a=2"], "'a=2'", "already holds dotted keys")):
    usage_error(["qmp", "balloon"] + args, token, why)
usage_error(["qmp"], "missing COMMAND")
needs_qemu(["qmp", "balloon", "value=1073741824"])
needs_qemu(["qmp", "balloon", "--", "value=1073741824"])
needs_qemu(["qom-set", "balloon", "guest-stats-polling-interval", "--", "-1"])
needs_qemu(["qom-set", "balloon", "guest-stats-polling-interval", "-1"])
needs_qemu(["qom-set", "--", "balloon", "guest-stats-polling-interval", "-1"])

# Arguments and options of the other commands.
usage_error(["query", "extra"], "'extra'", "unexpected argument")
usage_error(["query", "--json"], "'--json'", "bad option")
usage_error(["qom-list"], "missing PATH")
usage_error(["qom-get", "balloon"], "missing PROP")
usage_error(["qom-set", "balloon", "guest-stats-polling-interval"], "missing VALUE")
usage_error(["qom-set", "a", "b", "c", "d"], "'d'", "unexpected argument")
usage_error(["stats", "--count", "0"], "'0'", "--count")
usage_error(["stats", "--count", "x"], "'x'", "--count")
usage_error(["stats", "--interval", "-1"], "'-1'", "--interval")
usage_error(["stats", "--interval", "1.5"], "'1.5'", "--interval")
usage_error(["stats", "now"], "'now'", "unexpected argument")
usage_error(["events", "--count", "-3"], "'-3'", "--count")
usage_error(["help", "frobnicate"], "'frobnicate'", "unknown command")
usage_error(["frobnicate"], "'frobnicate'", "unknown command")
usage_error(["-t", "abc", "query"], "'abc'", "--timeout")
usage_error(["-t", "0", "query"], "'0'", "--timeout")
usage_error(["--bogus", "query"], "'--bogus'", "bad option")
usage_error(["-x", "query"], "'-x'", "unknown option")
usage_error([], "no command given", "'vbctl shell' reads them from standard input")
# A malformed socket address is a usage error; a path that is no socket
# cannot be connected to (exit 3), and the message says what it is.
for addr, why in (("tcp:localhost:99999", "port number 1-65535"),
                  ("tcp:localhost", "expected tcp:HOST:PORT"),
                  ("tcp::4444", "expected tcp:HOST:PORT"),
                  ("unix:", "the path is empty"), ("", "the path is empty"),
                  ("x" * 200, "too long for a unix socket")):
    r = run(["-s", addr, "query"], timeout=30)
    if not t.ok(r.rc == 2 and r.err.startswith("vbctl: bad socket address")
                and r.err.count("\n") == 1 and why in r.err and addr in r.err,
                "-s '%.40s': exit 2, %s" % (addr, why)):
        t.diag(repr(r))
regular = os.path.join(os.path.dirname(sock), "not-a-socket")
open(regular, "w").close()
for addr, what in ((regular, "a file"), ("unix:" + os.path.dirname(sock), "a directory")):
    r = run(["query"], addr, timeout=30)
    if not t.ok(r.rc == 3 and r.err.count("\n") == 1
                and "is %s, not a socket" % what in r.err
                and "cannot connect to " + addr in r.err,
                "-s %s: exit 3, says it is %s" % (addr, what)):
        t.diag(repr(r))
r = run(["--socket"], timeout=30)
t.ok(r.rc == 2 and "'--socket' needs a value" in r.err, "--socket without a value: exit 2")

# vbctl auto: every option checked before any VM is touched.
for args, token, why in (
        (["--host-budget", "1G", "--host-reserve", "1G"], "--host-reserve", "give one"),
        (["--host-budget", "50%"], "'50%'", "give a size"),
        (["--host-budget", "12Q"], "'12Q'", "unknown unit"),
        (["--guest-reserve", "95%"], "'95%'", "at most 90%"),
        (["--guest-reserve", "+1G"], "'+1G'", "give N% or a size"),
        (["--weight", "vm0=0"], "vm0=0", "1-1000"),
        (["--weight", "=2"], "'=2'", "VM=VALUE"),
        (["--min", "vm0"], "'vm0'", "VM=VALUE"),
        (["--min", "vm0=-1G"], "vm0=-1G", "give a size"),
        (["--interval", "0"], "'0'", "--interval"),
        (["--stale", "x"], "'x'", "--stale"),
        (["--host-pressure", "lots"], "'lots'", "0-100"),
        (["--max-step", "1%"], "'1%'", "give a size"),
        (["extra"], "'extra'", "unexpected argument")):
    usage_error(["auto"] + args, token, why)

# vbctl auto --config FILE: the file's mistakes too, with its line.
confdir = tempfile.mkdtemp(prefix="vbctl-usage-conf-")


def conf(name, text):
    path = os.path.join(confdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


good = conf("good.conf", "# comment\n[auto]\nhost-budget = 2G\nguest-reserve = 10%\n"
            "dry-run = yes\nkeep = no\n\n[vm db.qmp]\nmin = 1G\nweight = 3\n")
for text, token, why in (
        ("[auto]\nhost-budget = 1G\nbogus = 1\n", "line 3", "'bogus' is not an option"),
        ("[auto]\nconfig = other.conf\n", "line 2", "'config' is not an option"),
        ("[auto]\nkeep = maybe\n", "line 2", "give yes or no"),
        ("[vm db.qmp]\ninterval = 2\n", "line 2", "min and weight"),
        ("[other]\nx = 1\n", "line 2", "[auto] and [vm NAME]"),
        ("[auto]\nnot a key value line\n", "line 2", "not KEY = VALUE"),
        ("[auto]\nhost-budget = lots\n", "'lots'", "--host-budget"),
        ("[auto]\nhost-budget = 1G\nhost-reserve = 1G\n", "--host-reserve", "give one"),
        ("[vm db.qmp]\nweight = 0\n", "db.qmp=0", "1-1000")):
    usage_error(["auto", "--config", conf("bad.conf", text)], token, why)
usage_error(["auto", "--config", os.path.join(confdir, "none.conf")], "none.conf",
            "No such file")
needs_qemu(["auto", "--config", good])
# The command line wins over the file: a goal there replaces the file's.
needs_qemu(["auto", "--config=" + good, "--host-reserve", "1G", "--weight", "db.qmp=5"])

# help and --version work without QEMU.
r = run(["help"], sock)
t.ok(r.rc == 0 and r.out.startswith("Usage: vbctl ") and "Commands:" in r.out,
     "help: exit 0 with the usage")
t.is_(run(["--help"], sock).out, r.out, "--help prints the same as help")
r = run(["help", "set"], sock)
t.ok(r.rc == 0 and r.out.startswith("Usage: vbctl set SIZE [--wait] [--timeout S]\n")
     and "--wait" in r.out, "help set: its usage and options")
# Every command's --help (and -h) shows its help without connecting (the
# socket does not exist: a connection attempt would exit 3).
for name in ["query", "set", "stats", "qom-list", "qom-get", "qom-set",
             "events", "qmp", "shell", "auto", "help"]:
    want = run(["help", name], sock).out
    for flag in (["--help"], ["-h"], ["x", "--help"]):
        r = run([name] + flag, sock)
        t.ok(r.rc == 0 and r.out == want and r.out.startswith("Usage: vbctl " + name),
             "%s %s: exit 0 with its help" % (name, " ".join(flag)))
r = run(["set", "--", "--help"], sock)
t.ok(r.rc == 2 and "--help" in r.err, "after --, --help is an argument (a bad SIZE)")
r = run(["--version"], sock)
t.ok(r.rc == 0 and r.out.startswith("vbctl (vballoon) "), "--version")

# A result that cannot be written is an error.
with open("/dev/full", "w") as full:
    p = subprocess.run(vbctl_argv() + ["help"], stdout=full, stderr=subprocess.PIPE,
                       text=True, timeout=30)
t.ok(p.returncode == 1 and p.stderr == "vbctl: cannot write to standard output\n",
     "help > /dev/full: exit 1 with a message")

sys.exit(t.done())
