# SPDX-License-Identifier: MIT
"""vbctl -s tls:HOST:PORT against QEMU's TLS monitor (tls-creds-x509 on the
chardev), with certificates this test makes with certtool: QMP works when
QEMU's certificate leads to --tls-ca (or $VBCTL_TLS_CA) and names the host;
a wrong CA, a host name the certificate does not carry, a missing client
certificate where QEMU asks for one, and TLS to a plain monitor are each
refused with exit 3 and a message that says why; a CA file that cannot be
loaded is a usage error. Plain tcp: to loopback gives no warning; to
another address it warns once (in a private network namespace, so nothing
listens beyond this test)."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile

from vbtest import Tap, Vm, require_qemu, run, skip_all

t = Tap()
certtool = shutil.which("certtool")
if not certtool:
    skip_all("certtool not found (apt-get install gnutls-bin)")
tmp = tempfile.mkdtemp(prefix="vbtls-")


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True)


def template(name, text):
    path = os.path.join(tmp, name + ".info")
    with open(path, "w") as f:
        f.write(text + "\nexpiration_days = 2\n")
    return path


def key(name):
    path = os.path.join(tmp, name + "-key.pem")
    sh(certtool, "--generate-privkey", "--key-type", "ecdsa", "--outfile", path)
    return path


def ca(name):
    k = key(name)
    cert = os.path.join(tmp, name + "-cert.pem")
    sh(certtool, "--generate-self-signed", "--load-privkey", k, "--template",
       template(name, "cn = %s\nca\ncert_signing_key" % name), "--outfile", cert)
    return cert, k


def signed(name, by, text):
    k = key(name)
    cert = os.path.join(tmp, name + "-cert.pem")
    sh(certtool, "--generate-certificate", "--load-privkey", k,
       "--load-ca-certificate", by[0], "--load-ca-privkey", by[1],
       "--template", template(name, text), "--outfile", cert)
    return cert, k


def qemu_dir(name, ca_cert, server):
    """A directory laid out as tls-creds-x509,dir= wants it."""
    d = os.path.join(tmp, name)
    os.mkdir(d)
    shutil.copy(ca_cert, os.path.join(d, "ca-cert.pem"))
    shutil.copy(server[0], os.path.join(d, "server-cert.pem"))
    shutil.copy(server[1], os.path.join(d, "server-key.pem"))
    return d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


the_ca = ca("ca")
other_ca = ca("other-ca")
# Named "localhost" only: reachable as tls:localhost, not as tls:127.0.0.1.
server = signed("server", the_ca, "cn = localhost\ndns_name = localhost\n"
                "tls_www_server\nencryption_key\nsigning_key")
client = signed("client", the_ca, "cn = vbctl\ntls_www_client\nencryption_key\nsigning_key")
creds = qemu_dir("qemu", the_ca[0], server)

tls_port, tls_peer_port, plain_port = free_port(), free_port(), free_port()
extra = [
    # A TLS monitor, another that also asks for a client certificate,
    # and a plain TCP one on loopback.
    "-object", "tls-creds-x509,id=tls0,dir=%s,endpoint=server,verify-peer=off" % creds,
    "-chardev", "socket,id=mon0,host=127.0.0.1,port=%d,server=on,wait=off,tls-creds=tls0" % tls_port,
    "-mon", "chardev=mon0,mode=control",
    "-object", "tls-creds-x509,id=tls1,dir=%s,endpoint=server,verify-peer=on" % creds,
    "-chardev", "socket,id=mon1,host=127.0.0.1,port=%d,server=on,wait=off,tls-creds=tls1" % tls_peer_port,
    "-mon", "chardev=mon1,mode=control",
    "-chardev", "socket,id=mon2,host=127.0.0.1,port=%d,server=on,wait=off" % plain_port,
    "-mon", "chardev=mon2,mode=control",
]

try:
    with Vm(extra=extra) as vm:
        good = "tls:localhost:%d" % tls_port

        r = run(["--tls-ca", the_ca[0], "query"], good)
        t.ok(r.rc == 0 and r.out == "actual: 2.00 GiB (2147483648 bytes)\n" and r.err == "",
             "query over TLS, QEMU's certificate verified against --tls-ca")
        if r.rc:
            t.diag(repr(r))
        r = run(["query"], good, env=dict(os.environ, VBCTL_TLS_CA=the_ca[0]))
        t.is_(r.rc, 0, "$VBCTL_TLS_CA names the CA too")
        r = run(["--tls-ca", the_ca[0], "doctor"], good)
        t.ok(r.rc == 1 and "no guest driver" in r.out, "doctor over TLS")

        r = run(["-s", vm.sock, "--tls-ca", the_ca[0], "query"], good)
        t.ok(r.rc == 0 and r.out.count("2.00 GiB") == 2,
             "a fleet query over TLS and a unix socket together")
        if r.rc:
            t.diag(repr(r))

        r = run(["--tls-ca", other_ca[0], "query"], good)
        t.ok(r.rc == 3 and r.err.startswith("vbctl: cannot connect to %s: TLS: QEMU's certificate is not valid for localhost: " % good)
             and "issuer is unknown" in r.err and "--tls-ca" in r.err
             and r.err.count("\n") == 1,
             "a wrong CA: exit 3, 'issuer is unknown', and what to check")
        if r.rc != 3:
            t.diag(repr(r))
        else:
            t.diag(r.err.strip())

        r = run(["--tls-ca", the_ca[0], "query"], "tls:127.0.0.1:%d" % tls_port)
        t.ok(r.rc == 3 and "not valid for 127.0.0.1" in r.err
             and "does not match" in r.err,
             "a host name the certificate does not carry: exit 3, 'does not match'")
        t.diag(r.err.strip())

        peer = "tls:localhost:%d" % tls_peer_port
        r = run(["--tls-ca", the_ca[0], "query"], peer)
        t.ok(r.rc == 3 and r.err.startswith("vbctl: cannot connect to %s: " % peer)
             and "--tls-cert and --tls-key" in r.err,
             "QEMU asks for a client certificate, none given: exit 3, says what to give")
        t.diag(r.err.strip())
        r = run(["--tls-ca", the_ca[0], "--tls-cert", client[0], "--tls-key", client[1],
                 "query"], peer)
        t.ok(r.rc == 0 and r.out.startswith("actual: "), "with --tls-cert and --tls-key it works")
        r = run(["query"], peer, env=dict(os.environ, VBCTL_TLS_CA=the_ca[0],
                                           VBCTL_TLS_CERT=client[0], VBCTL_TLS_KEY=client[1]))
        t.is_(r.rc, 0, "and with $VBCTL_TLS_CERT and $VBCTL_TLS_KEY")
        r = run(["--tls-ca", the_ca[0], "--tls-cert", client[0], "query"], peer)
        t.ok(r.rc == 2 and "needs its key" in r.err, "a certificate without its key: usage error")

        r = run(["--tls-ca", os.path.join(tmp, "missing.pem"), "query"], good)
        t.ok(r.rc == 2 and "cannot load the CA certificate" in r.err and "missing.pem" in r.err,
             "a CA file that cannot be loaded: usage error naming it")

        r = run(["-t", "5", "--tls-ca", the_ca[0], "query"], "tls:127.0.0.1:%d" % plain_port)
        t.ok(r.rc == 3 and "TLS handshake" in r.err, "tls: to a plain monitor: exit 3, says the handshake failed")
        t.diag(r.err.strip())

        r = run(["query"], "tcp:127.0.0.1:%d" % plain_port)
        t.ok(r.rc == 0 and r.err == "", "plain tcp: to loopback: no warning")
finally:
    shutil.rmtree(tmp, ignore_errors=True)


# Plain tcp: to an address that is not loopback: in a network namespace of
# our own (10.213.0.1 on its lo), so nothing is reachable from outside.
def netns_ok():
    if not shutil.which("unshare") or not shutil.which("ip") or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


if netns_ok():
    script = r'''
set -e
ip link set lo up
ip addr add 10.213.0.1/32 dev lo
pidfile=$(mktemp)
"$QEMU_BIN" -accel tcg -machine q35 -nodefaults -display none -m 256M \
    -device virtio-balloon-pci -qmp tcp:10.213.0.1:4444,server=on,wait=off \
    -daemonize -pidfile "$pidfile" >/dev/null
trap 'kill $(cat "$pidfile"); rm -f "$pidfile"' EXIT
"$VBCTL" -s tcp:10.213.0.1:4444 query 2>&1 >/dev/null
'''
    env = dict(os.environ, QEMU_BIN=require_qemu())
    p = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True,
                       text=True, env=env, timeout=120)
    t.ok(p.returncode == 0 and p.stdout.startswith(
        "vbctl: warning: tcp:10.213.0.1:4444 is not a loopback address: QMP over TCP has no authentication")
         and "tls:HOST:PORT" in p.stdout and p.stdout.count("\n") == 1,
         "plain tcp: to a non-loopback address: one warning that says what to use, and it works")
    if not p.stdout:
        t.diag(p.stderr[-500:])
else:
    t.diag("no network namespace here (needs root and unshare): the warning is not tried")
    t.ok(os.environ.get("VBALLOON_NO_SKIP") is None, "non-loopback warning (skipped)")

sys.exit(t.done())
