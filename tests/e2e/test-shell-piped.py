# SPDX-License-Identifier: MIT
"""test-shell-piped.py - vbctl's shell with commands on a pipe, against a
real QEMU without a guest: no prompts, results only, exit 1 when any
command failed (qmp-shell exits 0), 3 when QEMU goes away; and the
qmp-shell syntax corner cases, checked by what QEMU did with them."""

import json
import subprocess
import sys

import vbtest

tap = vbtest.Tap()
vbtest.require_qemu()


def shell(vm, script, json_out=True, timeout=60):
    """Pipe SCRIPT into 'vbctl [-j] shell'; (rc, stdout, stderr)."""
    argv = vbtest.vbctl_argv() + ["-s", vm.sock] + (["-j"] if json_out else []) + ["shell"]
    p = subprocess.run(argv, input=script, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def results(out):
    """stdout of 'vbctl -j shell': one JSON document a line."""
    return [json.loads(line) for line in out.splitlines()]


with vbtest.Vm(monitors=2) as vm:
    # --- success: results only, no prompt, exit 0 ---
    rc, out, err = shell(vm, "query\nquery-balloon\n# a comment\n\n"
                             "hmp info balloon\nhelp\n", json_out=False)
    tap.is_(rc, 0, "a script whose commands all succeed exits 0")
    tap.ok("vbctl>" not in out and "Connected" not in out,
           "no prompt or banner when stdin is not a terminal")
    tap.ok(out.startswith("actual: 2.00 GiB (2147483648 bytes)\n"),
           "a vbctl command prints as the one-shot CLI does")
    tap.ok('"actual": 2147483648' in out, "a QMP command prints its return value")
    tap.ok("balloon: actual=2048" in out, "hmp passes through human-monitor-command")
    tap.is_(err, "", "nothing on stderr")

    # --- a failure in the middle: the rest still runs, exit 1 ---
    rc, out, err = shell(vm, "query-balloon\nquery-nothing\nquery-balloon\n")
    tap.is_(rc, 1, "a script with a failed QMP command exits 1 (qmp-shell: 0)")
    tap.is_(len(out.splitlines()), 2, "the commands after the failure still run")
    tap.ok("CommandNotFound" in err and "query-nothing" in err,
           "the QMP error names its class and the command")
    rc, out, err = shell(vm, "set 12XB\nquery\n")
    tap.is_(rc, 1, "a failed vbctl command (usage error) makes the exit 1")
    rc, out, err = shell(vm, "qom-get balloon 'unterminated\nquery\n")
    tap.is_(rc, 1, "a line that does not split makes the exit 1")
    tap.ok("unterminated ' quote" in err, "and the error names the quote")
    rc, out, err = shell(vm, "")
    tap.ok(rc == 0 and out == "", "empty input: exit 0, no output")
    rc, out, err = shell(vm, "query-balloon\nquit\nquery-nothing\n")
    tap.ok(rc == 0 and len(out.splitlines()) == 1, "quit stops reading the script")

    # --- 'vbctl' with no command and no terminal: a usage error ---
    p = subprocess.run(vbtest.vbctl_argv() + ["-s", vm.sock], input="query\n",
                       capture_output=True, text=True, timeout=60)
    tap.is_(p.returncode, 2, "no command without a terminal is a usage error, not a shell")

    # --- qmp-shell syntax against QEMU ---
    q = vm.qmp()
    rc, out, err = shell(vm,
        "qom-set path=balloon property=guest-stats-polling-interval value=7\n"
        "qom-get path=balloon property=guest-stats-polling-interval\n")
    tap.is_((rc, results(out)), (0, [{}, 7]),
            "value=7 is the JSON number 7 (path=balloon is the balloon)")
    # -nodefaults: the balloon is the only anonymous device.
    tap.is_(q.execute("qom-get", path="/machine/peripheral-anon/device[0]",
                      property="guest-stats-polling-interval"), 7,
            "QEMU holds 7 (read back on a second monitor)")

    rc, out, err = shell(vm, "human-monitor-command command-line=42\n")
    tap.ok(rc == 1 and "expected: string" in err,
           "an unquoted number is a number (QEMU wants a string here)")
    rc, out, err = shell(vm, "human-monitor-command command-line='\"42\"'\n"
                             "human-monitor-command command-line=\\\"42\\\"\n")
    tap.is_((rc, results(out)), (0, ["unknown command: '42'\r\n"] * 2),
            "'\"42\"' and \\\"42\\\" send the string \"42\"")
    rc, out, err = shell(vm, "human-monitor-command command-line='info balloon'\n")
    tap.is_(results(out), ["balloon: actual=2048\r\n"],
            "a quoted string with a blank stays one value")

    # Dotted keys nest: a raw block node over a null-co file node.
    rc, out, err = shell(vm, "blockdev-add driver=raw node-name=r0 "
                             "file.driver=null-co file.size=4096\n")
    tap.is_(rc, 0, "blockdev-add with dotted keys succeeds")
    nodes = {n["node-name"]: n for n in q.execute("query-named-block-nodes")}
    tap.ok("r0" in nodes and nodes["r0"]["drv"] == "raw"
           and json.loads(nodes["r0"]["image"]["filename"][5:])
           == {"driver": "raw", "file": {"driver": "null-co", "size": 4096}},
           "file.driver=null-co file.size=4096 became {\"file\": {...}}")
    # A plain key after a dotted one stays at the top.
    rc, out, err = shell(vm, "query-cpu-model-expansion model.name=max type=static\n")
    tap.ok(rc == 0 and "props" in results(out)[0]["model"],
           "model.name=max type=static: type stays a top-level key")

    # JSON values: objects, arrays, true/false, null
    rc, out, err = shell(vm, 'blockdev-add driver=null-co node-name=n1 '
                             'size=8192 read-only=true\n'
                             'blockdev-add node-name=n2 driver=raw '
                             'file={"driver":"null-co","size":512}\n')
    tap.is_(rc, 0, "true and an object value are JSON")
    nodes = {n["node-name"]: n for n in q.execute("query-named-block-nodes")}
    tap.ok(nodes.get("n1", {}).get("ro") is True, "read-only=true arrived as a boolean")
    tap.ok(nodes.get("n2", {}).get("drv") == "raw", "file={...} arrived as an object")

    # A raw JSON line is sent as is; an id of the user's own is fine.
    rc, out, err = shell(vm, '{"execute": "query-balloon", "id": "mine"}\n'
                             '{"execute": "balloon", "arguments": {"value": 1073741824}}\n'
                             '{"execute": "query-status"}\n')
    res = results(out)
    tap.ok(rc == 0 and res[0] == {"actual": 2147483648} and res[1] == {}
           and res[2]["status"] == "running",
           "raw JSON lines run, with or without an id")
    rc, out, err = shell(vm, '{"execute": "query-balloon"} extra\n')
    tap.ok(rc == 1 and "after the object" in err, "text after a raw JSON object is refused")
    rc, out, err = shell(vm, '{"execute": \n')
    tap.ok(rc == 1 and "bad JSON" in err, "an unfinished JSON object is refused")

    # --- the connection is lost mid-script: exit 3, clear message ---
    argv = vbtest.vbctl_argv() + ["-s", vm.sock, "shell"]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdin.write("query\n")
    p.stdin.flush()
    first = p.stdout.readline()
    tap.ok(first.startswith("actual:"), "the first command ran")
    vm.kill()
    try:
        p.stdin.write("query\nquery\n")
        p.stdin.close()
    except BrokenPipeError:
        pass
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
    err = p.stderr.read()
    tap.is_(p.returncode, 3, "QEMU gone: exit 3")
    tap.ok("lost the connection to QEMU" in err, "with a message that says so")
    tap.is_(err.count("vbctl:"), 1, "said once")

sys.exit(tap.done())
