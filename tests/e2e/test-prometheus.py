# SPDX-License-Identifier: MIT
"""Prometheus metrics against a guest in real QEMU: `vbctl stats --format
prometheus` passes `promtool check metrics` and says the guest's actual
size; `vbctl exporter` serves the same over HTTP, and a real Prometheus
(private config and data directory, free port, loopback) scrapes it and
answers a query for the guest's actual size, before and after `vbctl set`;
a VM that is gone, or never answers, is vballoon_up 0, and the exporter
still answers, for the others too."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from vbtest import Tap, Vm, run, skip_all, vbctl_argv  # noqa: E402
from qemutest import die_with_parent, require_guest  # noqa: E402

TIMEOUT = 120           # seconds for Prometheus to see a change (TCG, loaded CI)

for tool in ("promtool", "prometheus"):
    if not shutil.which(tool):
        skip_all("%s not found (apt-get install prometheus)" % tool)
qemu, elf = require_guest()


def promtool_check(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text,
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def value(text, metric, domain):
    m = re.search(r'^%s\{domain="%s"\} (\S+)$' % (re.escape(metric), re.escape(domain)),
                  text, re.M)
    return m.group(1) if m else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


t = Tap()
tmp = tempfile.mkdtemp(prefix="vbtest-prom-")
vm = Vm(mem="256M", kernel=elf, serial=True)
exporter = prom = mute = None
try:
    vm.start()
    vm.wait_serial(r"balloon: ready")
    domain = os.path.basename(vm.sock)

    # One sample for node_exporter's textfile collector.
    r = run(["-s", vm.sock, "stats", "--format", "prometheus"], timeout=120)
    t.is_(r.rc, 0, "stats --format prometheus exits 0")
    rc, out = promtool_check(r.out)
    if not t.ok(rc == 0, "promtool check metrics passes on its output"):
        t.diag(out)
        t.diag(r.out)
    t.is_(value(r.out, "vballoon_domain_memory_stats_actual_balloon_bytes", domain),
          str(256 << 20), "it says the guest's actual size: 256 MiB")
    t.is_(value(r.out, "vballoon_domain_info_maximum_memory_bytes", domain),
          str(256 << 20), "and its boot memory")
    total = value(r.out, "vballoon_domain_memory_stats_available_bytes", domain)
    t.ok(total and 0 < int(total) <= 256 << 20,
         "and the guest's total memory from its stats: %s" % total)
    t.ok(value(r.out, "vballoon_domain_memory_stats_unused_bytes", domain),
         "and its free memory")
    r2 = run(["-s", vm.sock, "stats", "--format", "prometheus", "--watch"])
    t.is_(r2.rc, 2, "--format prometheus --watch is a usage error")

    # The exporter, on a port of its choosing, for the guest and a VM that
    # never answers: a socket that takes connections and says nothing.
    mute = socket.socket(socket.AF_UNIX)
    mute.bind(os.path.join(tmp, "mute-vm"))
    mute.listen(8)
    exporter = subprocess.Popen(vbctl_argv() + ["-t", "2", "-s", vm.sock, "-s",
                                                os.path.join(tmp, "mute-vm"),
                                                "exporter", "--listen", "127.0.0.1:0"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=die_with_parent)
    line = exporter.stdout.readline()
    m = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", line)
    if not t.ok(m, "the exporter says where it serves: %r" % line):
        raise RuntimeError(exporter.stderr.read())
    url = "http://127.0.0.1:%s/metrics" % m.group(1)
    start = time.monotonic()
    status, ctype, body = get(url)
    took = time.monotonic() - start
    t.is_((status, ctype), (200, "text/plain; version=0.0.4; charset=utf-8"),
          "GET /metrics: 200, the exposition format's content type")
    t.is_(value(body, "vballoon_up", "mute-vm"), "0",
          "the VM that never answers is vballoon_up 0")
    t.ok(took < 10, "and holds the scrape at most about its timeout (2 s): %.1f s" % took)
    rc, out = promtool_check(body)
    if not t.ok(rc == 0, "promtool check metrics passes on what it serves"):
        t.diag(out)
    t.is_(value(body, "vballoon_up", domain), "1", "vballoon_up 1")
    t.is_(value(body, "vballoon_domain_memory_stats_actual_balloon_bytes", domain),
          str(256 << 20), "actual size served: 256 MiB")
    try:
        get(url.replace("/metrics", "/nothing"))
        t.ok(False, "GET /nothing is 404")
    except urllib.error.HTTPError as e:
        t.is_(e.code, 404, "GET /nothing is 404")

    # A real Prometheus scraping it.
    port = free_port()
    with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
        f.write("global:\n  scrape_interval: 3s\n  scrape_timeout: 3s\n"
                "scrape_configs:\n  - job_name: vballoon\n"
                "    static_configs:\n      - targets: ['127.0.0.1:%s']\n" % m.group(1))
    prom = subprocess.Popen(["prometheus", "--config.file", os.path.join(tmp, "prometheus.yml"),
                             "--storage.tsdb.path", os.path.join(tmp, "data"),
                             "--web.listen-address", "127.0.0.1:%d" % port],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "prometheus.log"), "w"),
                            preexec_fn=die_with_parent)
    api = "http://127.0.0.1:%d/api/v1/query?query=" % port

    def query(expr, want, desc):
        """Polls Prometheus until EXPR's value for the guest is WANT."""
        deadline = time.monotonic() + TIMEOUT
        got = None
        while time.monotonic() < deadline:
            try:
                res = json.loads(get(api + urllib.parse.quote(expr), timeout=5)[2])
                got = [(s["metric"].get("domain"), s["value"][1])
                       for s in res["data"]["result"]
                       if s["metric"].get("domain") == domain]
                if got == [(domain, want)]:
                    break
            except (OSError, ValueError, KeyError):
                pass            # not up yet
            if prom.poll() is not None:
                break
            time.sleep(0.5)     # Prometheus scrapes every 3 s
        if not t.ok(got == [(domain, want)], desc):
            t.diag("got %r" % got)
            with open(os.path.join(tmp, "prometheus.log")) as f:
                t.diag(f.read()[-2000:])

    query("vballoon_domain_memory_stats_actual_balloon_bytes", str(256 << 20),
          "Prometheus answers the guest's actual size: 256 MiB")
    # On the second monitor: the exporter connects to the first on
    # every scrape, and QEMU serves one client per monitor.
    r = run(["-s", vm.socks[1], "set", "160M", "--wait"], timeout=120)
    t.is_(r.rc, 0, "vbctl set 160M --wait")
    query("vballoon_domain_memory_stats_actual_balloon_bytes", str(160 << 20),
          "Prometheus follows it: 160 MiB")
    query("vballoon_up", "1", "vballoon_up is 1 in Prometheus")

    # The VM goes away: up 0, and the scrape still answers at once.
    vm.kill()
    start = time.monotonic()
    status, ctype, body = get(url)
    t.ok(status == 200 and value(body, "vballoon_up", domain) == "0",
         "a VM that is gone: vballoon_up 0 (in %.1f s)" % (time.monotonic() - start))
    t.is_(value(body, "vballoon_domain_memory_stats_actual_balloon_bytes", domain), None,
          "and no figures for it")
    rc, out = promtool_check(body)
    t.ok(rc == 0, "promtool check metrics passes then too")
    query("vballoon_up", "0", "Prometheus sees vballoon_up 0")

    exporter.send_signal(signal.SIGTERM)
    t.is_(exporter.wait(timeout=30), 0, "SIGTERM stops the exporter, status 0")
finally:
    if mute:
        mute.close()
    for p in (exporter, prom):
        if p and p.poll() is None:
            p.kill()
            p.wait()
    vm.close()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(t.done())
