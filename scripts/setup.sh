#!/bin/sh
# The README's first command: install dependencies, build vballoon in
# ./build, boot the guest kernel in QEMU (in the background) with a
# virtio-balloon device and QMP on ./qmp-sock, and show vbctl working
# against it. The VM keeps running afterwards for the tour in README.md;
# stop it with: build/tools/vbctl/vbctl qmp quit
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "${1:-}" = --no-deps ] || ./scripts/install-deps.sh
if [ -f config.status ]; then
	echo "setup.sh: this source tree is configured in place; run 'make distclean' first" >&2
	exit 1
fi
autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; exit 1; }
mkdir -p build
cd build
[ -f config.status ] || ../configure -q
make -j"$(nproc)" >/dev/null
vbctl=$top/build/tools/vbctl/vbctl
sock=$top/qmp-sock
log=$top/build/guest-console.log
if [ -S "$sock" ] && "$vbctl" -s "$sock" -t 2 query >/dev/null 2>&1; then
	echo "setup.sh: a VM is already listening on $sock; stopping it first"
	"$vbctl" -s "$sock" qmp quit >/dev/null 2>&1 || true
	sleep 1
fi
rm -f "$sock"
echo "Booting the guest (kernel/guest.elf, 2 GiB, virtio-balloon-pci, QMP on ./qmp-sock); console log: build/guest-console.log"
make -s run-background QMP_SOCK="$sock" SERIAL_LOG="$log"
i=0
until grep -q 'balloon: ready' "$log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 300 ] || { echo "setup.sh: the guest did not report 'balloon: ready' within 30 s; see $log" >&2; exit 1; }
	sleep 0.1
done
grep 'balloon: ready' "$log"
set -x
"$vbctl" -s "$sock" query
"$vbctl" -s "$sock" stats
"$vbctl" -s "$sock" set 1G --wait
"$vbctl" -s "$sock" stats --fresh
"$vbctl" -s "$sock" set 100% --wait
{ set +x; } 2>/dev/null
echo
echo "The VM is still running. Try:  export PATH=\$PWD/build/tools/vbctl:\$PATH; vbctl shell"
echo "Stop it with:                 vbctl qmp quit"
