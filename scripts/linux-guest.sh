#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds (once, then from a cache) a small Linux guest to measure and check
# vballoon against: Debian's kernel (the linux-image-amd64 package's vmlinuz)
# and an initramfs of busybox-static plus the kernel's virtio_pci,
# virtio_mmio and virtio_balloon modules with their dependencies. Its init
# loads the modules and prints "linux-guest: balloon ready" on the serial
# console once virtio_balloon is bound to a device, then a shell with the
# prompt "linux> " (and "alloc MIB" / "free-all" helpers that fill a tmpfs,
# memory the kernel cannot reclaim without swap). "linux-guest.balloon=off"
# on the kernel command line skips virtio_balloon: a guest with no driver.
#
# usage: scripts/linux-guest.sh [--cache DIR] [--rebuild]
# Prints the directory that holds vmlinuz, initrd.img and version (the
# kernel package and version). Cache: DIR, else $VBALLOON_CACHE/linux-guest,
# else ~/.cache/vballoon/linux-guest. Needs apt-get (with `apt-get update`
# done: scripts/install-deps.sh does it), dpkg-deb, cpio, gzip and
# busybox-static; a cached guest is used without the network when the
# package index cannot be read.
set -eu

cache=
rebuild=no
while [ $# -gt 0 ]; do
	case $1 in
	--cache) [ $# -ge 2 ] || { echo "linux-guest.sh: --cache needs a directory" >&2; exit 2; }
		cache=$2; shift ;;
	--rebuild) rebuild=yes ;;
	-h|--help) sed -n '3,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "linux-guest.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$cache" ] || cache=${VBALLOON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vballoon}/linux-guest

die() { echo "linux-guest.sh: $*" >&2; exit 1; }

# busybox-static's: the initramfs has no shared libraries.
busybox=/bin/busybox
[ -x "$busybox" ] && ! readelf -d "$busybox" 2>/dev/null | grep -q NEEDED ||
	die "no static busybox in /bin (apt-get install busybox-static)"
for t in apt-get apt-cache dpkg-deb cpio gzip flock; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (scripts/install-deps.sh installs what is needed)"
done

# The kernel package linux-image-amd64 points at, and its version. The
# stamp also covers this script, so a changed init rebuilds the guest.
pkg=${LINUX_IMAGE_PACKAGE:-$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')}
ver=
[ -n "$pkg" ] && ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
self=$(cksum <"$0" | cut -d' ' -f1)
if [ -z "$pkg" ] || [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
	# No package index: a guest built before will do.
	[ -f "$cache/version" ] && [ -f "$cache/initrd.img" ] && [ -f "$cache/vmlinuz" ] ||
		die "cannot find the linux-image-amd64 package (run apt-get update) and no guest is cached in $cache"
	echo "$cache"
	exit 0
fi
stamp="$pkg $ver $self"
# One build at a time (tests may run in parallel); the others wait and
# then find it cached.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ "$rebuild" = no ] && [ -f "$cache/version" ] && [ "$(cat "$cache/version")" = "$stamp" ] &&
   [ -f "$cache/initrd.img" ] && [ -f "$cache/vmlinuz" ]; then
	echo "$cache"
	exit 0
fi

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
chmod 755 "$work"	# apt's _apt user downloads into it

echo "linux-guest.sh: building a Linux guest from $pkg $ver in $cache" >&2
(cd "$work" && apt-get download -q "$pkg=$ver" >download.log 2>&1) ||
	{ cat "$work/download.log" >&2; die "apt-get download $pkg failed"; }
deb=$(ls "$work"/*.deb)
mkdir "$work/pkg"
dpkg-deb --fsys-tarfile "$deb" | (cd "$work/pkg" && tar -x --wildcards './boot/vmlinuz-*' './lib/modules/*')
rm -f "$deb"
kver=$(ls "$work/pkg/lib/modules")
[ -f "$work/pkg/boot/vmlinuz-$kver" ] || die "$pkg has no /boot/vmlinuz-$kver"
"$busybox" depmod -b "$work/pkg" "$kver"
moddir=$work/pkg/lib/modules/$kver

# The modules to load, each after what it depends on (modules.dep lists a
# module's dependencies, deepest last).
order=
add_module() {	# $1: path relative to $moddir
	case " $order " in *" $1 "*) return 0 ;; esac
	deps=$(awk -v m="$1:" '$1 == m { for (i = NF; i > 1; i--) print $i }' "$moddir/modules.dep")
	[ -n "$deps" ] || grep -q "^$1:" "$moddir/modules.dep" || die "$1 is not in $pkg"
	for d in $deps; do
		add_module "$d"
	done
	order="$order $1"
}
for m in virtio_pci virtio_mmio virtio_balloon; do
	add_module "kernel/drivers/virtio/$m.ko"
done

root=$work/root
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/fill" "$root/modules"
cp "$busybox" "$root/bin/busybox"
for m in $order; do
	cp "$moddir/$m" "$root/modules/"
	echo "$(basename "$m")" >>"$root/modules/order"
done
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# Init of the vballoon Linux guest (scripts/linux-guest.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs -o size=100% fill /fill
balloon=on
grep -qw 'linux-guest.balloon=off' /proc/cmdline && balloon=off
while read -r m; do
	[ "$m" = virtio_balloon.ko ] && [ "$balloon" = off ] && continue
	insmod "/modules/$m" || echo "linux-guest: insmod $m failed"
done </modules/order
if [ "$balloon" = on ]; then
	# Ready once the driver is bound (probe done): up to 60 s.
	n=0
	while ! ls /sys/bus/virtio/drivers/virtio_balloon 2>/dev/null | grep -q '^virtio'; do
		n=$((n + 1))
		[ $n -le 6000 ] || { echo "linux-guest: no balloon device"; break; }
		usleep 10000
	done
	[ $n -le 6000 ] && echo "linux-guest: balloon ready"
else
	echo "linux-guest: no balloon driver (linux-guest.balloon=off)"
fi
# alloc MIB: hold MIB more of memory (a tmpfs file: no swap, so the kernel
# cannot reclaim it); free all: give it back.
cat >/bin/alloc <<'EOS'
#!/bin/sh
n=0; while [ -e /fill/$n ]; do n=$((n + 1)); done
dd if=/dev/zero of=/fill/$n bs=1M count="$1" 2>/dev/null && echo "alloc: held ${1}M more"
EOS
cat >/bin/free-all <<'EOS'
#!/bin/sh
rm -f /fill/* && echo "free: all"
EOS
chmod +x /bin/alloc /bin/free-all
export PS1='linux> '
while true; do
	setsid cttyhack sh
done
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.img"
cp "$work/pkg/boot/vmlinuz-$kver" "$work/vmlinuz"
mv "$work/initrd.img" "$work/vmlinuz" "$cache/"
echo "$stamp" >"$cache/version"
echo "linux-guest.sh: $kver, modules:$order" >&2
echo "$cache"
