# SPDX-License-Identifier: MIT
"""vbctl against hostile QMP servers: every command against every stream
of tests/lib/hostile_streams.py (a scripted fake QMP server on a unix
socket, tests/lib/fakeqmp.py). For each pair: no death by a signal, no
sanitizer report, no "(null)", the -t deadline kept within a small margin,
bounded memory, one "vbctl: " line per error, and the exit status and
message the catalogue expects (3 and a message naming the fault for
protocol and connection faults). Then command lines whose numbers cannot
be sent as they are: usage errors, nothing sent; and vbctl auto (which
runs until interrupted) against the streams with a bad size, boot memory
or polling interval: never adopted, exit 3."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from fakeqmp import FakeQmp, POLL_INTERVAL
from hostile_streams import ALL, CATALOGUE, CLOSED, SCHEMA_STREAMS
from vbtest import Tap, vbctl_argv

T = 1.0                 # vbctl -t, seconds
MARGIN = 1.5            # seconds a run may take beyond its deadline (load)
# Peak RSS a run may reach: the 4 MiB message limit bounds json-c's
# objects to ~150 MiB; ASan's redzones and quarantine take more.
MEM_LIMIT_MB = 1024 if os.environ.get("VBALLOON_SANITIZED") == "yes" else 256
WORKERS = 4
SLOW_STREAMS = 8
REPORT = threading.Lock()

# In argv: --sockets GLOB, where GLOB matches the server's socket only.
FLEET = "--sockets GLOB"
# key -> (argv after the global options, stdin, deadline in seconds)
COMMANDS = {
    "query": (["query"], None, 2 * T),
    "set": (["set", "1G"], None, 2 * T),
    "set-pct": (["set", "50%"], None, 2 * T),
    "set-wait": (["set", "1G", "--wait"], None, 2 * T),
    # stats waits up to one polling interval for a new sample
    "stats": (["stats"], None, 2 * T + POLL_INTERVAL),
    "qom-list": (["qom-list", "balloon"], None, 2 * T),
    "qom-get": (["qom-get", "balloon", "guest-stats-polling-interval"], None, 2 * T),
    "qom-set": (["qom-set", "balloon", "guest-stats-polling-interval", "2"], None, 2 * T),
    "events": (["events", "--count", "1"], None, 2 * T),
    "qmp": (["qmp", "query-status"], None, 2 * T),
    "qmp-qom": (["qmp", "qom-get", "path=balloon", "property=type"], None, 2 * T),
    "shell": (["shell"], "query\nqom-get balloon type\n", 3 * T),
    "doctor": (["doctor"], None, 2 * T + POLL_INTERVAL),
    "top": (["top", "--once"], None, 2 * T + POLL_INTERVAL),
    "top-json": (["-j", "top", "--once"], None, 2 * T + POLL_INTERVAL),
    "list": (["list"], None, 2 * T),
    # The fleet forms: --sockets GLOB matching the one socket.
    "fleet-query": ([FLEET, "query"], None, 2 * T),
    "fleet-stats": ([FLEET, "stats"], None, 2 * T + POLL_INTERVAL),
    "fleet-set": ([FLEET, "set", "1G"], None, 2 * T),
    # events or a poll a second (the events may be garbage: polls then)
    "fleet-set-wait": ([FLEET, "set", "512M", "--wait", "--timeout", "2"], None, 2 * T + 2),
    "fleet-prom": ([FLEET, "stats", "--format", "prometheus"], None, 2 * T + POLL_INTERVAL),
}
# check takes seconds against a good QEMU (stats samples a second apart,
# the floor quiet for 3 s): it runs in a pass of its own, many streams
# at once (it mostly waits).
SLOW = {
    # its waits for the guest are its own (-t bounds each exchange)
    "check": (["check", "--no-reset", "--wait", "2"], None, 25),
}

FINDINGS = {"doctor", "check"}
SANITIZER = re.compile(r"Sanitizer|runtime error:")

t = Tap()


class Run:
    pass


def run_vbctl(sock, args, stdin, deadline):
    """vbctl -t T -s SOCK ARGS; SIGINT at DEADLINE + MARGIN (a stream that
    never ends), SIGKILL 2 s later. Returns a Run with rc (negative: the
    signal), out, err, seconds, maxrss_mb, interrupted."""
    r = Run()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        if args[0] == FLEET:
            args = ["--sockets", os.path.join(os.path.dirname(sock), "qmp-*")] + args[1:]
        else:
            args = ["-s", sock] + args
        argv = vbctl_argv() + ["-t", str(T)] + args
        start = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                             stdout=out, stderr=err, start_new_session=True)
        if stdin:
            try:
                p.stdin.write(stdin.encode())
                p.stdin.close()
            except OSError:
                pass
        r.interrupted = False

        def overrun():
            r.interrupted = True
            try:
                os.kill(p.pid, signal.SIGINT)
                time.sleep(2)
                os.kill(p.pid, signal.SIGKILL)
            except OSError:
                pass
        timer = threading.Timer(deadline + MARGIN, overrun)
        timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        timer.cancel()
        r.seconds = time.monotonic() - start
        p.returncode = r.rc = os.waitstatus_to_exitcode(status)
        r.maxrss_mb = usage.ru_maxrss / 1024
        out.seek(0)
        err.seek(0)
        r.out = out.read().decode("utf-8", "replace")
        r.err = err.read().decode("utf-8", "replace")
    return r


def check(stream, key, expect, r, deadline):
    problems = []
    if r.rc < 0:
        problems.append("killed by signal %d" % -r.rc)
    if r.interrupted:
        problems.append("still running %.1f s after its %.1f s deadline" % (MARGIN, deadline))
    if r.seconds > deadline + MARGIN:
        problems.append("took %.2f s, deadline %.1f s + %.1f s" % (r.seconds, deadline, MARGIN))
    if SANITIZER.search(r.err):
        problems.append("sanitizer report")
    if "(null)" in r.out or "(null)" in r.err:
        problems.append("printed (null)")
    if r.maxrss_mb > MEM_LIMIT_MB:
        problems.append("peak memory %.0f MiB > %d MiB" % (r.maxrss_mb, MEM_LIMIT_MB))
    bad_lines = [line for line in r.err.splitlines() if not line.startswith("vbctl: ")]
    if bad_lines:
        problems.append("stderr line without 'vbctl: ': %r" % bad_lines[0][:200])
    # A big message may take longer to parse than -t allows (the
    # sanitized build): then the timeout is the right answer.
    want_rc = expect.rc if isinstance(expect.rc, tuple) else (expect.rc,)
    if r.rc not in want_rc:
        problems.append("exit %d, want %s" % (r.rc, " or ".join(map(str, want_rc))))
    # doctor and check report what they found on stdout
    said = r.err + r.out if key in FINDINGS else r.err
    if expect.regex and not re.search(expect.regex, said):
        problems.append("stderr does not match /%s/" % expect.regex)
    if expect.out and not re.search(expect.out, r.out):
        problems.append("stdout does not match /%s/" % expect.out)
    # "did QEMU exit?" is for a closed connection, not for garbage,
    # oversize messages or floods.
    if "did QEMU exit" in said and expect.regex != CLOSED:
        problems.append("says 'did QEMU exit?' for a fault that is not a closed connection")
    desc = "%s: %s: %r (%.2f s, %.0f MiB)" % (stream.name, key, expect, r.seconds, r.maxrss_mb)
    if not t.ok(not problems, desc):
        t.diag("; ".join(problems))
        t.diag("exit %r, stderr: %s" % (r.rc, r.err[-600:]))
        t.diag("stdout: %s" % r.out[:300])


def heavy(stream):
    return re.search(r"huge|big", stream.name)


def run_stream(stream, expects, commands=COMMANDS):
    with FakeQmp(stream.name) as server:
        jobs = []
        # Streams of megabytes run one command at a time: several at once
        # starve the fake server (one Python process) of the CPU, and a
        # greeting that comes late is a timeout.
        with ThreadPoolExecutor(1 if heavy(stream) else WORKERS) as pool:
            for key, (args, stdin, deadline) in commands.items():
                expect = expects.get(key, expects[ALL])
                jobs.append((key, expect, deadline,
                             pool.submit(run_vbctl, server.sock, args, stdin, deadline)))
        results = [(key, expect, deadline, job.result()) for key, expect, deadline, job in jobs]
    with REPORT:        # streams run at once report one at a time
        for key, expect, deadline, r in results:
            check(stream, key, expect, r, deadline)


started = time.monotonic()
vbctl_argv()
# The catalogue is a test of its own: names unique, every command covered.
names = [s.name for s, _ in CATALOGUE]
t.ok(len(names) == len(set(names)), "%d streams, unique names" % len(names))
# HOSTILE_STREAMS=REGEX runs only the streams whose names match.
only = re.compile(os.environ.get("HOSTILE_STREAMS", ""))
chosen = [(s, e) for s, e in CATALOGUE if only.search(s.name)]
for stream, expects in chosen:
    unknown = set(expects) - set(COMMANDS) - set(SLOW) - {ALL}
    if unknown:
        t.ok(False, "%s: expectations for unknown commands %s" % (stream.name, unknown))
    run_stream(stream, expects)
# The slow commands: many streams at once, those of megabytes alone.
with ThreadPoolExecutor(SLOW_STREAMS) as streams:
    list(streams.map(lambda se: run_stream(se[0], se[1], SLOW),
                     [se for se in chosen if not heavy(se[0])]))
for stream, expects in chosen:
    if heavy(stream):
        run_stream(stream, expects, SLOW)

# ---- the shell's help NAME and completion against a hostile schema -------
# (query-qmp-schema, query-commands and qom-list with nulls and wrong
# types everywhere, see HOSTILE_SCHEMA): no crash, no "(null)", only
# the strings offered.
COMPLETIONS = {
    ("qmp", ""): ["balloon"],
    ("qmp", "balloon", ""): [],
    ("qmp", "set-action", ""): ["nested.", "panic="],
    ("qmp", "set-action", "panic="): ["panic=x"],
    ("qmp", "set-action", "nested."): [],
    ("qmp", "qom-list", "path=x", ""): ["nested.", "panic="],
    ("qmp", "query-x", ""): [],
    ("qmp", "transaction", ""): ["actions="],
    ("events", ""): ["EV"],
    ("qom-get", "balloon", ""): ["x"],
    ("qmp", "qom-get", "path=/machine/peripheral-anon/"): [],
}
HELPS = ["balloon", "set-action", "qom-list", "query-x", "transaction", "query-balloon"]


def bad_output(r):
    problems = []
    if r.returncode < 0:
        problems.append("killed by signal %d" % -r.returncode)
    if SANITIZER.search(r.stderr):
        problems.append("sanitizer report")
    if "(null)" in r.stdout + r.stderr:
        problems.append("printed (null)")
    return problems


for name in SCHEMA_STREAMS:
    if not only.search(name):
        continue
    with FakeQmp(name) as server:
        for words, want in COMPLETIONS.items():
            r = subprocess.run(vbctl_argv() + ["__complete", "-t", str(T), "-s", server.sock]
                               + list(words), capture_output=True, text=True, timeout=30)
            problems = bad_output(r)
            got = r.stdout.split()
            if name == "schema-nulls" and got != want:
                problems.append("offers %r, want %r" % (got, want))
            if r.returncode != 0:
                problems.append("exit %d" % r.returncode)
            if not t.ok(not problems, "%s: completing %r" % (name, " ".join(words))):
                t.diag("; ".join(problems) + "; stderr: " + r.stderr[-300:])
        script = "".join("help %s\n" % h for h in HELPS)
        r = subprocess.run(vbctl_argv() + ["-t", str(T), "-s", server.sock, "shell"],
                           input=script, capture_output=True, text=True, timeout=30)
        problems = bad_output(r)
        # query-balloon is not in this schema: help says so (exit 1)
        if r.returncode != 1 or "'query-balloon' is neither" not in r.stderr:
            problems.append("exit %d" % r.returncode)
        if name == "schema-nulls":
            for line in ("QMP command set-action KEY=VALUE...:", "  panic=?|x|?|?",
                         "Returns: array of array of", "QMP command balloon, no arguments",
                         "  with path=x:", "  actions=array of object {type, ?}"):
                if line not in r.stdout.splitlines() and not any(
                        ln.startswith(line) for ln in r.stdout.splitlines()):
                    problems.append("help does not print %r" % line)
        if not t.ok(not problems, "%s: the shell's help %s" % (name, " ".join(HELPS))):
            t.diag("; ".join(problems) + "; stderr: " + r.stderr[-300:])
            t.diag("stdout: " + r.stdout[-600:])

# ---- numbers that cannot be sent as they are ------------------------------
with FakeQmp("good") as server:
    def sent(command):
        return [q for q in server.requests if q.get("execute") == command]

    r = run_vbctl(server.sock, ["query"], None, 2 * T)
    t.is_((r.rc, r.out), (0, "actual: 1.00 GiB (1073741824 bytes)\n"),
          "against the good stream: query prints the whole line")

    r = run_vbctl(server.sock, ["qmp", ""], None, 2 * T)
    t.ok(r.rc == 2 and "empty" in r.err and not sent(""),
         "qmp '': usage error, nothing sent")
    if r.rc != 2:
        t.diag(r.err)

    r = run_vbctl(server.sock, ["stats", "--interval", "9223372036854775807"], None, 2 * T)
    t.ok(r.rc == 2 and "'9223372036854775807' for --interval" in r.err,
         "stats --interval 9223372036854775807: usage error naming it")
    if r.rc != 2:
        t.diag(r.err)

    r = run_vbctl(server.sock, ["qom-set", "balloon", "guest-stats-polling-interval",
                                "99999999999999999999"], None, 2 * T)
    t.ok(r.rc == 2 and "out of range" in r.err and "expected a whole number" not in r.err
         and not sent("qom-set"),
         "qom-set of a whole number out of range: says so, nothing set")
    t.diag(r.err.strip())

    r = run_vbctl(server.sock, ["qmp", "balloon", "value=99999999999999999999"], None, 2 * T)
    t.ok(r.rc == 2 and "value=99999999999999999999" in r.err and "range" in r.err
         and not sent("balloon"),
         "qmp balloon value=99999999999999999999: usage error, nothing sent")
    t.diag(r.err.strip())

    r = run_vbctl(server.sock, ["qmp", "balloon", "value=18446744073709551615"], None, 2 * T)
    t.ok(r.rc == 0 and sent("balloon") and
         sent("balloon")[-1]["arguments"]["value"] == 18446744073709551615,
         "qmp balloon value=18446744073709551615: 2^64-1 is sent as it is")

# vbctl auto runs until interrupted: not in the matrix. A VM whose
# size, boot memory or polling interval is not a whole number is never
# adopted (no policy on a made-up 0), and auto says why and exits 3; the
# good stream is adopted with its real figures.
AUTO = ["auto", "--dry-run", "--host-budget", "1G", "--no-table"]
for name, what in (("actual-negative", '"actual"'), ("actual-null", '"actual"'),
                   ("actual-string", '"actual"'), ("actual-float", '"actual"'),
                   ("actual-missing", '"actual"'),
                   ("base-memory-negative", '"base-memory"'),
                   ("base-memory-null", '"base-memory"'),
                   ("polling-negative", "guest-stats-polling-interval"),
                   ("polling-null", "guest-stats-polling-interval")):
    with FakeQmp(name) as server:
        r = run_vbctl(server.sock, AUTO, None, 2 * T)
    t.ok(r.rc == 3 and "bad data from QEMU" in r.err and what in r.err
         and "sock adopted:" not in r.out and not r.interrupted,
         "auto against %s: not adopted, exit 3, names %s" % (name, what))
    if r.rc != 3:
        t.diag(repr((r.rc, r.out, r.err)))
with FakeQmp("good") as server:
    r = run_vbctl(server.sock, AUTO, None, 2 * T)
t.ok(r.interrupted and r.rc == 0
     and "adopted: boot 2048 MiB, balloon at 1024 MiB" in r.out,
     "auto against the good stream: adopted with its figures, ends 0 on SIGINT")
if not r.interrupted or r.rc != 0:
    t.diag(repr((r.rc, r.out, r.err)))

t.diag("%.0f s" % (time.monotonic() - started))
sys.exit(t.done())
