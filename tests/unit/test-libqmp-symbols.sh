#!/bin/sh
# SPDX-License-Identifier: MIT
# test-libqmp-symbols.sh - libqmp.so exports exactly the functions qmp.h
# declares, all under the LIBQMP_0.2 version node, and nothing else.
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
echo "1..$n"
exit $fail
