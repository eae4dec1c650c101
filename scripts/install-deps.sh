#!/bin/sh
# Installs what vballoon needs to build, run and test on Debian/Ubuntu:
# the autotools, json-c, readline, GnuTLS (and certtool for its tests),
# QEMU (with its firmware), and the tools the test suite and benchmarks
# use (clang: libFuzzer for make fuzz), libvirt (libqmp's libvirt
# transport; the tests start a private libvirtd under tini), and
# busybox-static and cpio (the Linux guest that scripts/linux-guest.sh
# builds). With --tests, also what only the test suite needs: an sshd that
# the remote-libvirt test starts, privately, on a loopback port (a server
# nobody should get just by setting vballoon up). Run as root or with sudo
# available.
set -eu
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
PACKAGES="build-essential autoconf automake libtool pkg-config
	libjson-c-dev libreadline-dev libgnutls28-dev gnutls-bin
	qemu-system-x86 qemu-system-data seabios ipxe-qemu
	python3 socat tmux valgrind groff-base jq
	libvirt-dev libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
	tini busybox-static cpio clang"
# libmicrohttpd (vbctl exporter's HTTP server), inih (vbctl auto's
# --config file); the Debian packages' build
# and checks (tests/e2e/test-debian-packages.py), bash completion (its test
# drives bash with bash-completion) and the Prometheus metrics (promtool and
# a real Prometheus in the tests).
HOST_PACKAGES="libmicrohttpd-dev libinih-dev dpkg-dev debhelper lintian bash-completion prometheus"
TEST_PACKAGES=
case "${1:-}" in
--tests) TEST_PACKAGES="openssh-server openssh-client" ;;
"") ;;
*) echo "install-deps.sh: unknown option '$1' (usage: install-deps.sh [--tests])" >&2; exit 2 ;;
esac
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES $HOST_PACKAGES $TEST_PACKAGES
