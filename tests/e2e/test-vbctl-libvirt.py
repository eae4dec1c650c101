# SPDX-License-Identifier: MIT
"""vbctl on libvirt domains (-c URI -d DOMAIN) against a real, private
libvirtd (session mode, started and stopped by this test) whose domains
boot our guest under TCG: query (by name, UUID and id), set --wait (and
libvirt sees the change), stats, stats --watch, events, the shell (piped,
and in a terminal with a live event); the fleet through libvirt: list
(--all), top --once, set --wait on several domains; and the bad input: an
unknown domain, a URI that cannot be opened, a shut-off domain, a domain
without a balloon, a libvirt without QEMU monitor passthrough, -d without
a URI."""

import json
import re

import libvirttest
import tmuxterm
from qemutest import require_guest
from vbtest import Tap

MiB = 1 << 20
t = Tap()
require_guest()
libvirttest.require_libvirt()


def check(r, rc, desc):
    if not t.ok(r.rc == rc, "%s: exit %d" % (desc, rc)):
        t.diag(repr(r))


lv = libvirttest.Libvirtd().start()
try:
    lv.create("vb1")
    lv.create("vb2")
    lv.create("nob", balloon=False)
    u = ["-c", lv.uri]
    d = u + ["-d", "vb1"]

    r = lv.vbctl(d + ["query"])
    check(r, 0, "query through libvirt")
    t.is_(r.out, "actual: 256.00 MiB (268435456 bytes)\n", "the domain's size")
    uuid = lv.virsh("domuuid", "vb1").stdout.strip()
    domid = lv.virsh("domid", "vb1").stdout.strip()
    for key, what in ((uuid, "UUID"), (domid, "id")):
        r = lv.vbctl(u + ["-d", key, "-j", "query"])
        t.ok(r.rc == 0 and r.json() == {"actual": 256 * MiB},
             "-d by %s (%s)" % (what, key))
    env_r = lv.run(["env", "VBCTL_URI=" + lv.uri, "VBCTL_DOMAIN=vb1"]
                   + libvirttest.vbctl_argv() + ["query"])
    t.ok(env_r.returncode == 0 and "256.00 MiB" in env_r.stdout,
         "VBCTL_URI and VBCTL_DOMAIN name the domain")

    r = lv.vbctl(d + ["set", "50%", "--wait"])
    check(r, 0, "set 50% --wait through libvirt")
    t.is_(r.out, "settled at 128.00 MiB (134217728 bytes)\n", "settled at 128 MiB")
    info = lv.virsh("dommemstat", "vb1").stdout
    t.ok(re.search(r"^actual 131072$", info, re.M),
         "libvirt sees the new size (dommemstat actual 131072 KiB)")

    r = lv.vbctl(d + ["stats"])
    check(r, 0, "stats through libvirt")
    t.ok(re.search(r"^free-memory +\d+\.\d\d MiB", r.out, re.M), "free memory shown")
    r = lv.vbctl(d + ["-j", "stats", "--watch", "--count", "2", "--interval", "1"])
    samples = [json.loads(l) for l in r.out.splitlines()]
    t.ok(r.rc == 0 and len(samples) == 2
         and samples[1]["last-update"] > samples[0]["last-update"],
         "stats --watch --count 2: two fresh samples through libvirt")

    # Events: BALLOON_CHANGE through libvirt's QEMU monitor events.
    line, rc = lv.first_balloon_event(d, "vb1")
    ev = json.loads(line) if line.startswith("{") else {}
    t.ok(ev.get("event") == "BALLOON_CHANGE" and ev.get("data", {}).get("actual", 0) > 128 * MiB,
         "events: BALLOON_CHANGE arrives through libvirt (%r)" % line.strip())
    t.is_(rc, 0, "events ends with 0 on Ctrl-C")

    r = lv.vbctl(d + ["-j", "shell"], input="query\nset 192M --wait\nquery-balloon\n")
    docs = [json.loads(l) for l in r.out.splitlines()]
    t.ok(r.rc == 0 and docs[0].get("actual") and docs[-1] == {"actual": 192 * MiB},
         "the shell over -c/-d: vbctl and raw QMP commands")

    # The readline shell on a real terminal, over libvirt: a command, and
    # an event printed while the user sits at the prompt.
    term = tmuxterm.Term(lv.argv(libvirttest.vbctl_argv() + d + ["shell"]))
    try:
        term.wait(lambda s: term.last_line() == "vbctl>", what="the prompt")
        term.type("query")
        term.keys("Enter")
        term.wait(lambda s: "actual: 192.00 MiB" in s, what="query's answer")
        lv.virsh("setmem", "vb1", "180M", "--live")
        term.wait(lambda s: re.search(r"BALLOON_CHANGE .*\"actual\"", s), what="the event")
        t.ok(term.last_line() == "vbctl>",
             "the shell in a terminal over -c/-d: query, and a live BALLOON_CHANGE above the prompt")
        term.type("quit")
        term.keys("Enter")
        t.is_(term.exit_status(), 0, "quit ends the shell with 0")
    except TimeoutError as e:
        t.ok(False, "the shell in a terminal over -c/-d")
        t.diag(str(e))
    finally:
        term.close()

    # The fleet through libvirt.
    off = lv.define("off")
    r = lv.vbctl(u + ["list"])
    check(r, 0, "list: the running domains")
    rows = {l.split()[0]: l.split()[1:] for l in r.out.splitlines()[1:]}
    t.ok(sorted(rows) == ["nob", "vb1", "vb2"] and rows["vb1"][:2] == ["running", "yes"]
         and rows["nob"][:2] == ["running", "no"], "one row per running domain")
    r = lv.vbctl(u + ["--all", "-j", "list"])
    objs = {o["name"]: o for o in (json.loads(l) for l in r.out.splitlines())}
    t.ok(r.rc == 0 and objs.get("off", {}).get("state") == "shut-off"
         and objs["vb2"]["boot"] == 256 * MiB and objs["vb2"]["domain"] == "vb2",
         "list --all: the shut-off domain too, as a fact")
    r = lv.vbctl(u + ["-d", "vb1", "-d", "vb2", "set", "160M", "--wait"])
    check(r, 0, "set --wait on two domains at once")
    t.ok(re.search(r"^vb1 +settled at 160\.00 MiB", r.out, re.M)
         and re.search(r"^vb2 +settled at 160\.00 MiB", r.out, re.M), "both settled")
    r = lv.vbctl(u + ["--all", "-j", "set", "90%", "--wait"])
    check(r, 1, "--all set 90% --wait: the domain without a balloon fails")
    objs = {o["name"]: o for o in (json.loads(l) for l in r.out.splitlines())}
    t.ok(objs["vb1"].get("settled") and objs["vb2"].get("settled")
         and "no balloon device" in objs["nob"].get("error", "")
         and "off" not in objs, "the others settled; shut-off domains left out")
    r = lv.vbctl(u + ["-d", "vb1", "-d", "vb2", "top", "--once"])
    check(r, 0, "top --once through libvirt")
    t.ok(re.search(r"^vb2 +256\.00 MiB +230\.40 MiB +230\.40 MiB +\d", r.out, re.M),
         "a row with boot, actual, the target vbctl set (90%) and guest stats")
    # A domain started again is another run (libvirt gives it a new id):
    # the target recorded for the last one is not shown for it.
    lv.virsh("start", "off")
    r = lv.vbctl(u + ["-d", "off", "set", "200M"])
    check(r, 0, "set on a domain just started")
    r = lv.vbctl(u + ["-d", "vb1", "-d", "off", "-j", "list"])
    objs = {o["name"]: o for o in (json.loads(l) for l in r.out.splitlines())}
    t.ok(r.rc == 0 and objs["vb1"].get("target") == 256 * MiB * 9 // 10
         and objs["off"].get("target") == 200 * MiB,
         "list: the targets vbctl set, by domain (%r)" % r.out)
    lv.virsh("destroy", "off")
    lv.virsh("start", "off")
    r = lv.vbctl(u + ["-d", "off", "-j", "list"])
    objs = {o["name"]: o for o in (json.loads(l) for l in r.out.splitlines())}
    t.ok(r.rc == 0 and objs["off"].get("target", 0) is None,
         "started again: no target shown for it (%r)" % r.out)
    lv.virsh("destroy", "off")

    # Bad input.
    r = lv.vbctl(u + ["-d", "nosuch", "query"])
    check(r, 3, "an unknown domain")
    t.ok("vbctl: nosuch: no domain 'nosuch' at %s" % lv.uri in r.err, "names it")
    bad = "qemu+unix:///session?socket=/nonexistent/sock"
    r = lv.vbctl(["-c", bad, "-d", "vb1", "query"])
    check(r, 3, "a URI that cannot be opened")
    t.ok("cannot open libvirt URI %s" % bad in r.err, "names the URI")
    r = lv.vbctl(u + ["-d", "off", "query"])
    check(r, 3, "a shut-off domain")
    t.ok("domain 'off' is not running" in r.err, "says it is not running")
    r = lv.vbctl(u + ["-d", "nob", "query"])
    check(r, 1, "a domain without a balloon")
    t.ok("no balloon device in this VM" in r.err, "says there is no balloon")
    r = lv.vbctl(["-c", "test:///default", "-d", "test", "query"])
    check(r, 3, "a libvirt without QEMU monitor passthrough (test driver)")
    t.ok("no QEMU monitor passthrough" in r.err, "says so")
    r = lv.vbctl(["-d", "vb1", "query"])
    check(r, 2, "-d without -c or VBCTL_URI")
    t.ok("-d needs a libvirt URI" in r.err, "says what is missing")
    r = lv.vbctl(u + ["query"] + [])
    check(r, 1, "-c without -d: every running domain, one without a balloon")
finally:
    lv.close()

raise SystemExit(t.done())
