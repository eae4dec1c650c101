# SPDX-License-Identifier: MIT
"""fakeqmp.py - a scripted fake QMP server on a unix socket, for tests that
need QEMU to misbehave in ways a real QEMU never will.

A Stream says what the server does on each connection. By default it plays
a small, well-behaved QEMU with a virtio-balloon-pci device (MODEL): the
greeting, then a reply to every request, built from the request and
carrying its id. Each connection has a balloon of its own: "balloon"
moves it at once (BALLOON_CHANGE half way, then at the target), the guest
statistics follow it, system_reset sends RESET; query-commands,
query-qmp-schema (tests/unit/qmp-schema-fragment.json), x-query-virtio
and x-query-virtio-status answer as QEMU 7.2 does, so doctor and check
find a healthy guest. A stream changes that by:
  greeting=BYTES|None     what is sent on connect instead of the greeting
                          (None: nothing, the connection stays open)
  before=FN(conn)         run on connect, before the greeting
  replies={KEY: R}        KEY: a command ("query-balloon"), "qom-get:PROP",
                          "qom-list:PATH" (PATH "balloon": the device's
                          path), or "*" (every command but
                          qmp_capabilities). R: a Python value (the
                          "return" value), or a function (conn, req) that
                          answers (or not) itself, see below.
  events=[EVENT...]       sent right after the qmp_capabilities reply
Helpers build R: ret(VALUE), error(CLASS, DESC), raw(BYTES) (ID in the
bytes is replaced by the request's id), close(), silence(), drip(BYTES,
gap_s), flood(MAKE_BYTES) (sends MAKE_BYTES(i) until the client goes away).

API
  FakeQmp(name, module).start() -> the server of stream NAME from
  MODULE's CATALOGUE ("good": the model as it is), in a child process,
  with .sock (the socket path); every connection is served in a thread of
  its own until .close() (also a context manager). .requests: the
  requests received so far, parsed.
"""

import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BALLOON_PATH = "/machine/peripheral-anon/device[0]"
BOOT_MEMORY = 2 << 30
ACTUAL = 1 << 30
POLL_INTERVAL = 2

GREETING = {"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7},
                                "package": ""}, "capabilities": ["oob"]}}


def stats_now(actual=ACTUAL):
    """guest-stats of a guest of ACTUAL bytes, 124 MiB of them in use."""
    return {"stats": {"stat-swap-in": 0, "stat-swap-out": 0,
                      "stat-major-faults": 0, "stat-minor-faults": 0,
                      "stat-free-memory": max(0, actual - (124 << 20)),
                      "stat-total-memory": actual,
                      "stat-available-memory": max(0, actual - (74 << 20)),
                      "stat-disk-caches": 0,
                      "stat-htlb-pgalloc": 18446744073709551615,
                      "stat-htlb-pgfail": 18446744073709551615},
            "last-update": int(time.time())}


def vm_event(name, data):
    now = time.time()
    return {"event": name, "data": data,
            "timestamp": {"seconds": int(now),
                          "microseconds": int(now % 1 * 1e6)}}


def balloon_event(actual=ACTUAL):
    return vm_event("BALLOON_CHANGE", {"actual": actual})


SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "..", "unit", "qmp-schema-fragment.json")
VIRTIO_PATH = BALLOON_PATH + "/virtio-backend"
DRIVER_OK = ["VIRTIO_CONFIG_S_ACKNOWLEDGE: Valid virtio device found",
             "VIRTIO_CONFIG_S_DRIVER: Guest OS compatible with device",
             "VIRTIO_CONFIG_S_FEATURES_OK: Feature negotiation complete",
             "VIRTIO_CONFIG_S_DRIVER_OK: Driver setup and ready"]
FEATURES = {"transports": ["VIRTIO_F_VERSION_1: Device compliant for v1 spec (legacy)"],
            "dev-features": ["VIRTIO_BALLOON_F_STATS_VQ: Guest statistics vq enabled",
                             "VIRTIO_BALLOON_F_DEFLATE_ON_OOM: Deflate balloon when guest OOM"]}


def schema():
    with open(SCHEMA_FILE) as f:
        return json.load(f)


def set_target(a, c):
    """balloon: the guest gets there at once, by way of half way (QEMU
    clamps the target to boot memory)."""
    value = a.get("value")
    if isinstance(value, int) and value > 0:
        target = min(value, BOOT_MEMORY)
        c.pending.append(balloon_event((c.actual + target) // 2))
        c.pending.append(balloon_event(target))
        c.actual = target
    return {}


def system_reset(a, c):
    c.pending.append(vm_event("RESET", {"guest": False, "reason": "host-qmp-system-reset"}))
    return {}


# The well-behaved QEMU: KEY -> function(arguments, conn) -> return
# value. Each connection has a balloon of its own (conn.actual).
MODEL = {
    "qmp_capabilities": lambda a, c: {},
    "query-balloon": lambda a, c: {"actual": c.actual},
    "balloon": set_target,
    "system_reset": system_reset,
    "query-memory-size-summary": lambda a, c: {"base-memory": BOOT_MEMORY,
                                               "plugged-memory": 0},
    "query-status": lambda a, c: {"running": True, "singlestep": False,
                                  "status": "running"},
    "query-commands": lambda a, c: [{"name": k} for k in MODEL if ":" not in k],
    "query-qmp-schema": lambda a, c: schema(),
    "x-query-virtio": lambda a, c: [{"name": "virtio-balloon", "path": VIRTIO_PATH}],
    "x-query-virtio-status": lambda a, c: {
        "name": "virtio-balloon", "broken": False,
        "status": {"statuses": DRIVER_OK, "dev-status": 15},
        "host-features": FEATURES, "guest-features": FEATURES},
    "qom-list:/machine/peripheral": lambda a, c: [],
    "qom-list:/machine/peripheral-anon": lambda a, c: [
        {"name": "device[0]", "type": "child<virtio-balloon-pci>"}],
    "qom-list:/machine": lambda a, c: [
        {"name": "peripheral", "type": "child<container>"},
        {"name": "peripheral-anon", "type": "child<container>"}],
    "qom-list:balloon": lambda a, c: [
        {"name": "type", "type": "string"},
        {"name": "guest-stats", "type": "guest-stats"},
        {"name": "guest-stats-polling-interval", "type": "int"},
        {"name": "deflate-on-oom", "type": "bool"},
        {"name": "free-page-reporting", "type": "bool"}],
    "qom-get:type": lambda a, c: "virtio-balloon-pci",
    "qom-get:guest-stats-polling-interval": lambda a, c: POLL_INTERVAL,
    "qom-get:guest-stats": lambda a, c: stats_now(c.actual),
    "qom-get:deflate-on-oom": lambda a, c: True,
    "qom-get:free-page-reporting": lambda a, c: True,
    "qom-set": lambda a, c: {},
}


class Conn:
    """One client connection: send bytes, read requests."""

    def __init__(self, sock, server):
        self.sock, self.server = sock, server
        self.buf = b""
        self.closed = False
        self.decoder = json.JSONDecoder()
        self.actual = ACTUAL    # the model's balloon
        self.pending = []       # events the model sends after its reply

    def send(self, data):
        if self.closed:
            return False
        try:
            self.sock.sendall(data)
            return True
        except OSError:     # the client went away: that is its right
            self.closed = True
            return False

    def send_json(self, obj):
        return self.send(json.dumps(obj).encode() + b"\r\n")

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def requests(self):
        """Requests as they arrive (parsed), until the client hangs up."""
        while not self.closed and not self.server.stopping:
            text = self.buf.decode("utf-8", "replace").lstrip()
            if text:
                try:
                    req, end = self.decoder.raw_decode(text)
                    self.buf = text[end:].encode()
                    yield req
                    continue
                except ValueError:
                    pass
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.closed = True
                return
            self.buf += data


def ret(value):
    return lambda c, req: c.send_json({"return": value, "id": req.get("id")})


def error(cls, desc):
    err = {}
    if cls is not None:
        err["class"] = cls
    if desc is not None:
        err["desc"] = desc
    return lambda c, req: c.send_json({"error": err, "id": req.get("id")})


def raw(data):
    """DATA (bytes, or a function that makes them: big ones are made only
    when sent) with ID replaced by the request's id."""
    def answer(c, req):
        d = data() if callable(data) else data
        i = d.find(b"ID")       # the first only: big ones have it first
        if i >= 0:
            c.send(d[:i] + str(req.get("id")).encode())
            d = memoryview(d)[i + 2:]
        c.send(d)
    return answer


def close():
    return lambda c, req: c.close()


def silence():
    return lambda c, req: None


def drip(data, gap=0.05):
    def answer(c, req):
        for b in data.replace(b"ID", str(req.get("id")).encode()):
            if not c.send(bytes([b])) or c.server.stopping:
                return
            time.sleep(gap)
    return answer


def flood(make, seconds=30):
    """Send make(i) for i = 0, 1, ... until the client goes away (or
    SECONDS pass: a bound on the test, far beyond any vbctl deadline)."""
    def answer(c, req):
        # A big socket buffer and big writes keep the socket full: every
        # read of the client finds a full buffer, however fast it reads.
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end and not c.server.stopping:
            chunk = make(i)
            if not c.send(chunk * max(1, (1 << 20) // len(chunk))):
                return
            i += 1
    return answer


class Stream:
    def __init__(self, name, greeting=json.dumps(GREETING).encode() + b"\r\n",
                 before=None, replies=None, events=()):
        self.name = name
        self.greeting = greeting
        self.before = before
        self.replies = dict(replies or {})
        self.events = list(events)

    def answer_for(self, req):
        """The answering function for REQ (None: the model has none)."""
        cmd = req.get("execute") if isinstance(req, dict) else None
        args = req.get("arguments") if isinstance(req, dict) else None
        args = args if isinstance(args, dict) else {}
        keys = [cmd]
        if cmd in ("qom-list", "qom-get", "qom-set"):
            path = args.get("path")
            if path == BALLOON_PATH:
                path = "balloon"
            if cmd == "qom-list":
                keys.insert(0, "qom-list:%s" % path)
            else:
                keys.insert(0, "%s:%s" % (cmd, args.get("property")))
        for k in keys:
            if k in self.replies:
                r = self.replies[k]
                return r if callable(r) else ret(r)
        if cmd != "qmp_capabilities" and "*" in self.replies:
            return self.replies["*"]
        for k in keys:
            if k in MODEL:
                return lambda c, req, f=MODEL[k]: ret(f(args, c))(c, req)
        return error("CommandNotFound", "The command %s has not been found" % cmd)

    def serve(self, conn):
        if self.before:
            self.before(conn)
        if self.greeting is None:
            for _ in conn.requests():
                pass
            return
        if callable(self.greeting):
            self.greeting(conn)
        else:
            conn.send(self.greeting)
        for req in conn.requests():
            conn.server.log_request(req)
            self.answer_for(req)(conn, req)
            while conn.pending:
                conn.send_json(conn.pending.pop(0))
            if isinstance(req, dict) and req.get("execute") == "qmp_capabilities":
                for ev in self.events:
                    conn.send_json(ev() if callable(ev) else ev)


class Server:
    """Serves STREAM on a unix socket at PATH, each connection in a thread
    of its own, logging every request as a JSON line to LOG."""

    def __init__(self, stream, path, log):
        self.stream, self.path, self.log = stream, path, log
        self.stopping = False
        self.conns = []
        self.lock = threading.Lock()

    def log_request(self, req):
        with self.lock:
            self.log.write(json.dumps(req) + "\n")
            self.log.flush()

    def serve_forever(self):
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)
        listener.listen(16)
        print("ready", flush=True)
        while True:
            s, _ = listener.accept()
            conn = Conn(s, self)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()

    def _serve(self, conn):
        try:
            self.stream.serve(conn)
        finally:
            conn.close()
            conn.sock.close()


class FakeQmp:
    """The server for the stream named NAME in module MODULE (a list
    CATALOGUE of (Stream, ...) pairs; "good": the well-behaved model), in
    a process of its own: its floods and big messages neither slow the
    test down nor count in the memory of the vbctl it starts."""

    def __init__(self, name, module="hostile_streams"):
        self.name, self.module = name, module
        self.tmpdir = tempfile.mkdtemp(prefix="fakeqmp-")
        self.sock = os.path.join(self.tmpdir, "qmp-sock")
        self.log = os.path.join(self.tmpdir, "requests")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), self.module, self.name,
             self.sock, self.log], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("fake QMP server for %s did not start" % self.name)
        return self

    @property
    def requests(self):
        """The requests received so far, parsed."""
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def close(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def find_stream(module, name):
    if name == "good":
        return Stream("good", events=[balloon_event])
    for entry in importlib.import_module(module).CATALOGUE:
        if entry[0].name == name:
            return entry[0]
    raise SystemExit("fakeqmp: no stream %r in %s" % (name, module))


def main():
    module, name, path, log = sys.argv[1:5]
    # Die with the test that started us.
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)     # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    with open(log, "w") as f:
        Server(find_stream(module, name), path, f).serve_forever()


if __name__ == "__main__":
    main()
