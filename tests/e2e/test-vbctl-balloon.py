# SPDX-License-Identifier: MIT
"""vbctl against a real QEMU with a virtio-balloon-pci device and no guest:
query, set (and what QEMU does with a target nobody acts on), the size
grammar's QEMU-dependent forms, qom-list/get/set with the balloon alias,
stats without a guest driver, qmp with KEY=VALUE, and --json outputs that
equal QEMU's own return values."""

import json
import re
import socket
import sys

from vbtest import Tap, Vm, run

GiB = 1 << 30
t = Tap()


def check(r, rc, desc):
    if not t.ok(r.rc == rc, "%s: exit %d" % (desc, rc)):
        t.diag(repr(r))


def sent_balloon_value(r):
    """The value of the balloon command in vbctl -v's traffic on stderr."""
    for line in r.err.splitlines():
        if line.startswith("-> "):
            msg = json.loads(line[3:])
            if msg.get("execute") == "balloon":
                return msg["arguments"]["value"]
    return None


def free_tcp_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


port = free_tcp_port()
with Vm(extra=("-qmp", "tcp:127.0.0.1:%d,server=on,wait=off" % port)) as vm:
    s = vm.sock
    q = vm.qmp()
    path = next("/machine/peripheral-anon/" + d["name"]
                for d in q.execute("qom-list", path="/machine/peripheral-anon")
                if d["type"] == "child<virtio-balloon-pci>")

    # the three address forms
    for addr in (s, "unix:" + s, "tcp:127.0.0.1:%d" % port):
        r = run(["query"], addr)
        t.ok(r.rc == 0 and r.out == "actual: 2.00 GiB (2147483648 bytes)\n",
             "query over %s" % addr.split(":")[0])
    r = run(["query"], "tcp:127.0.0.1:%d" % free_tcp_port())
    t.ok(r.rc == 3 and "-qmp tcp:127.0.0.1:" in r.err, "tcp: with nobody listening: exit 3")

    # query
    r = run(["query"], s)
    check(r, 0, "query")
    t.is_(r.out, "actual: 2.00 GiB (2147483648 bytes)\n", "query: IEC units and exact bytes")
    r = run(["-j", "query"], s)
    check(r, 0, "query --json")
    t.is_(r.json(), q.execute("query-balloon"), "query --json is QEMU's return value")
    t.is_(r.json(), {"actual": 2147483648}, "query --json: 2 GiB exactly")

    # set: what is sent, and what QEMU does without a guest
    for size, want, human in (("1G", GiB, "1.00 GiB"), ("1.5G", 3 * GiB // 2, "1.50 GiB"),
                              ("50%", GiB, "1.00 GiB"), ("33%", 708669603, "675.84 MiB"),
                              ("1000000000", 1000000000, "953.67 MiB"),
                              ("1GB", 1000000000, "953.67 MiB"),
                              ("-512M", 3 * GiB // 2, "1.50 GiB"),
                              ("-25%", 3 * GiB // 2, "1.50 GiB"),
                              ("100%", 2 * GiB, "2.00 GiB")):
        r = run(["-v", "set", size], s)
        check(r, 0, "set %s" % size)
        t.is_(sent_balloon_value(r), want, "set %s sends value=%d" % (size, want))
        t.is_(r.out, "target: %s (%d bytes)\n" % (human, want),
              "set %s: the whole line, target in IEC units and bytes" % size)
    for size, said in (("1", "1 byte"), ("1000", "1000 bytes")):
        r = run(["set", size], s)
        t.is_(r.out, "target: %s\n" % said, "set %s says '%s'" % (size, said))
    t.is_(q.execute("query-balloon"), {"actual": 2 * GiB},
          "without a guest driver, actual stays at 2 GiB")
    r = run(["-j", "set", "1G"], s)
    check(r, 0, "set --json")
    t.is_(r.json(), {}, "set --json is the balloon command's return value {}")

    for size, why in (("3G", "above the VM's boot memory 2.00 GiB (2147483648 bytes)"),
                      ("101%", "above the VM's boot memory"),
                      ("+1", "above the VM's boot memory"),
                      ("-2G", "the current size is only 2.00 GiB"),
                      ("12Q", "unknown unit 'Q'"), ("0", "more than 0 bytes")):
        r = run(["set", "--", size] if size.startswith("-") else ["set", size], s)
        check(r, 2, "set %s is refused" % size)
        t.ok(r.err.startswith("vbctl: ") and "'%s'" % size in r.err and why in r.err
             and r.err.count("\n") == 1,
             "set %s: one line naming it: %s" % (size, why))

    # set --wait: nobody moves the balloon, so it never settles
    r = run(["set", "--wait", "--timeout", "2", "1G"], s)
    check(r, 1, "set --wait without a guest")
    t.is_(r.out, "stopped at 2.00 GiB (2147483648 bytes)\n", "set --wait says where it stopped")
    t.ok("not settled" in r.err and "did not move" in r.err,
         "set --wait says why: the guest did not move")
    r = run(["-j", "set", "1G", "--wait", "-t", "2"], s)
    check(r, 1, "set --wait --json without a guest")
    lines = r.json_lines()
    t.is_(lines[0], {"actual": 2 * GiB, "target": GiB}, "set --wait --json: first line is where it is")
    t.ok(lines[-1]["settled"] is False and lines[-1]["actual"] == 2 * GiB and "reason" in lines[-1],
         "set --wait --json: last line says not settled, and why")

    # qom-list / qom-get / qom-set, the balloon alias and type conversion
    r = run(["qom-list", "balloon"], s)
    check(r, 0, "qom-list balloon")
    t.ok(re.search(r"^guest-stats-polling-interval +int$", r.out, re.M),
         "qom-list balloon shows the polling interval and its type")
    r = run(["-j", "qom-list", "balloon"], s)
    t.is_(r.json(), q.execute("qom-list", path=path), "qom-list --json is QEMU's return value")
    r = run(["qom-get", path, "type"], s)
    t.is_(r.out, "virtio-balloon-pci\n", "qom-get with a full path: a string as its text")
    r = run(["-j", "qom-get", "balloon", "type"], s)
    t.is_(r.out, '"virtio-balloon-pci"\n', "qom-get --json: a string as JSON")
    r = run(["qom-get", "balloon", "guest-stats-polling-interval"], s)
    t.is_((r.rc, r.out), (0, "0\n"), "polling is off at first")
    r = run(["qom-set", "balloon", "guest-stats-polling-interval", "2"], s)
    t.is_((r.rc, r.out, r.err), (0, "", ""), "qom-set balloon: silent success")
    t.is_(q.execute("qom-get", path=path, property="guest-stats-polling-interval"), 2,
          "qom-set sent the interval as the integer 2")
    r = run(["-j", "qom-get", "balloon", "guest-stats-polling-interval"], s)
    t.is_(r.json(), 2, "qom-get --json reads it back as 2")
    r = run(["qom-set", "balloon", "guest-stats-polling-interval", "--", "4"], s)
    t.is_((r.rc, r.err, q.execute("qom-get", path=path, property="guest-stats-polling-interval")),
          (0, "", 4), "qom-set PATH PROP -- VALUE: the -- the help suggests is no argument")
    r = run(["-j", "qom-set", "balloon", "guest-stats-polling-interval", "0"], s)
    t.is_((r.rc, r.json()), (0, {}), "qom-set --json: QEMU's return value")
    r = run(["qom-set", "balloon", "guest-stats-polling-interval", "two"], s)
    check(r, 2, "qom-set with a non-integer for an int property")
    t.ok("'two'" in r.err and "int" in r.err, "the message names 'two' and the type")
    r = run(["qom-set", "balloon", "realized", "maybe"], s)
    check(r, 2, "qom-set with a non-boolean for a bool property")
    r = run(["qom-get", "balloon", "no-such-property"], s)
    check(r, 1, "qom-get of a missing property")
    t.ok(r.err.startswith("vbctl: qom-get: ") and "no-such-property" in r.err,
         "the QMP error is shown")
    r = run(["qom-list", "/no/such/path"], s)
    check(r, 1, "qom-list of a missing path")
    t.ok("DeviceNotFound" in r.err or "GenericError" in r.err, "with its class")

    # stats with no guest driver
    r = run(["-t", "1", "stats"], s)
    check(r, 1, "stats without a guest driver")
    t.ok("not reporting stats" in r.err and "no balloon driver in the guest" in r.err
         and "stats queue" in r.err, "stats says the guest driver is not reporting")
    t.is_(r.out, "", "stats prints no unset values")
    t.is_(q.execute("qom-get", path=path, property="guest-stats-polling-interval"), 2,
          "stats turned polling on at the default 2 s")
    gs = q.execute("qom-get", path=path, property="guest-stats")
    t.ok(gs["last-update"] == 0 and all(v == 2**64 - 1 for v in gs["stats"].values()),
         "QEMU has no sample: all stats unset")
    r = run(["-t", "1", "stats", "--interval", "3"], s)
    check(r, 1, "stats --interval 3 without a guest driver")
    t.is_(q.execute("qom-get", path=path, property="guest-stats-polling-interval"), 3,
          "stats --interval 3 set the interval")
    r = run(["stats", "--interval", "0"], s)
    check(r, 2, "stats --interval 0 is refused")

    # qmp COMMAND KEY=VALUE
    r = run(["qmp", "query-balloon"], s)
    check(r, 0, "qmp query-balloon")
    t.is_(json.loads(r.out), {"actual": 2 * GiB}, "qmp prints the return value as JSON")
    r = run(["-j", "qmp", "qom-get", "path=" + path, "property=guest-stats-polling-interval"], s)
    t.is_((r.rc, r.json()), (0, 3), "qmp with KEY=VALUE arguments")
    r = run(["-j", "qmp", "qom-set", "path=" + path,
             "property=guest-stats-polling-interval", "value=5"], s)
    t.is_(q.execute("qom-get", path=path, property="guest-stats-polling-interval"), 5,
          "qmp value=5 is sent as a number")
    r = run(["qmp", "qom-get", "path=balloon", "property=type"], s)
    t.is_((r.rc, r.out), (0, "virtio-balloon-pci\n"), "qmp qom-get path=balloon: the alias")
    r = run(["qmp", "qom-set", "path=" + path, "property=guest-stats-polling-interval",
             'value="5"'], s)
    check(r, 1, 'qmp value="5" is sent as a string, which QEMU refuses')
    t.ok("GenericError" in r.err, "the refusal shows its class")
    r = run(["qmp", "human-monitor-command", "command-line=info balloon"], s)
    t.is_((r.rc, r.out), (0, "balloon: actual=2048\n"),
          "qmp: a string return value is printed as its text")
    r = run(["qmp", "no-such-command"], s)
    check(r, 1, "qmp no-such-command")
    t.ok(r.err.startswith("vbctl: no-such-command: CommandNotFound: "),
         "the error line shows CommandNotFound and QEMU's description")
    r = run(["qmp", "balloon", "value=0"], s)
    check(r, 1, "qmp balloon value=0: QEMU refuses a 0 target")
    r = run(["qmp", "balloon", "value"], s)
    check(r, 2, "qmp with a malformed KEY=VALUE")
    t.ok("'value'" in r.err, "the message names the bad token")

    # -v shows the traffic, and a one-shot command sends only what it needs
    r = run(["-v", "query"], s)
    sent = [json.loads(l[3:])["execute"] for l in r.err.splitlines() if l.startswith("-> ")]
    t.is_(sent, ["qmp_capabilities", "query-balloon"],
          "query sends capabilities and query-balloon, nothing else")
    t.ok(any(l.startswith("<- ") and '"QMP"' in l for l in r.err.splitlines()),
         "-v shows the greeting received")
    r = run(["-v", "set", "1G"], s)
    sent = [json.loads(l[3:])["execute"] for l in r.err.splitlines() if l.startswith("-> ")]
    t.is_(sent, ["qmp_capabilities", "query-memory-size-summary", "balloon"],
          "set SIZE reads the boot memory and sends balloon")

sys.exit(t.done())
