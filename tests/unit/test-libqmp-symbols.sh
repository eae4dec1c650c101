#!/bin/sh
# SPDX-License-Identifier: MIT
# test-libqmp-symbols.sh - libqmp.so exports exactly the functions qmp.h
# declares, all under the LIBQMP_0.2 version node, and nothing else; the
# Debian symbols file lists exactly those exports under the package named
# after the SONAME; libqmp(3) names every declared function.
lib="$top_builddir/tools/libqmp/.libs/libqmp.so"
header="$top_srcdir/include/qmp/qmp.h"
if [ ! -f "$lib" ] || ! command -v nm >/dev/null; then
	if [ -n "$VBALLOON_NO_SKIP" ]; then
		echo "Bail out! no shared libqmp or no nm"; exit 1
	fi
	echo "1..0 # SKIP no shared libqmp ($lib) or no nm"; exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Declared: every qmp_NAME( in the header except static inline helpers.
grep -v '^static inline' "$header" | grep -o '\bqmp_[a-z0-9_]*(' |
	tr -d '(' | sort -u >"$tmp/declared"
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' >"$tmp/raw"
sed 's/@.*//' "$tmp/raw" | sort -u >"$tmp/exported"

n=0 fail=0
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
missing=$(comm -23 "$tmp/declared" "$tmp/exported")
check "$([ -z "$missing" ]; echo $?)" "every declared function is exported"
[ -n "$missing" ] && echo "$missing" | sed 's/^/# missing: /'
extra=$(comm -13 "$tmp/declared" "$tmp/exported")
check "$([ -z "$extra" ]; echo $?)" "nothing else is exported"
[ -n "$extra" ] && echo "$extra" | sed 's/^/# extra: /'
unversioned=$(grep -v '@@LIBQMP_0\.2$' "$tmp/raw")
check "$([ -z "$unversioned" ]; echo $?)" "every export is versioned LIBQMP_0.2"
[ -n "$unversioned" ] && echo "$unversioned" | sed 's/^/# unversioned: /'
# Structures whose size would be ABI stay opaque: the header declares
# them, never defines them (a new statistic must not break callers).
defined=$(grep -n '^struct qmp[a-z_]* {' "$header")
check "$([ -z "$defined" ]; echo $?)" "qmp.h defines no structure (all opaque)"
[ -n "$defined" ] && echo "$defined" | sed 's/^/# defined: /'
check "$([ "$(wc -l <"$tmp/declared")" -gt 30 ]; echo $?)" \
	"the header parse found the API ($(wc -l <"$tmp/declared") functions)"

# debian/libqmpN.symbols: what dpkg-gensymbols would write for this build
# (NAME@NODE per export, NODE@NODE per version node). A difference also
# fails the package build (DPKG_GENSYMBOLS_CHECK_LEVEL=4 in debian/rules).
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
major=${soname#libqmp.so.}
pkg=libqmp$major
symbols="$top_srcdir/debian/$pkg.symbols"
check "$([ -f "$symbols" ]; echo $?)" "SONAME $soname: debian/$pkg.symbols exists"
check "$(grep -qx "Package: $pkg" "$top_srcdir/debian/control"; echo $?)" \
	"SONAME $soname: debian/control builds package $pkg"
check "$([ "$(head -n 1 "$symbols" 2>/dev/null)" = "$soname $pkg #MINVER#" ]; echo $?)" \
	"debian/$pkg.symbols describes $soname in $pkg"
nm -D --defined-only "$lib" | awk '
	$2 == "A" { print $3 "@" $3 }
	$2 == "T" { sub("@@", "@", $3); print $3 }' | sort >"$tmp/abi"
sed -n 's/^ \(([^)]*)\)*\([^ ]*\) .*/\2/p' "$symbols" 2>/dev/null | sort >"$tmp/listed"
drift=$(diff "$tmp/listed" "$tmp/abi" | grep '^[<>]')
check "$([ -z "$drift" ] && [ -s "$tmp/abi" ]; echo $?)" \
	"debian/$pkg.symbols lists exactly the exports ($(wc -l <"$tmp/abi") symbols)"
[ -n "$drift" ] && echo "$drift" | sed 's/^</# only in the symbols file:/; s/^>/# only in the library (add it with the first version that has it):/'

# libqmp(3): every declared function is named in the page.
man="$top_srcdir/docs/libqmp.3"
undocumented=$(while read -r f; do
	grep -q "\b$f\b" "$man" || echo "$f"; done <"$tmp/declared")
check "$([ -z "$undocumented" ]; echo $?)" "docs/libqmp.3 names every declared function"
[ -n "$undocumented" ] && echo "$undocumented" | sed 's/^/# not in libqmp.3: /'
echo "1..$n"
exit $fail
