#!/bin/sh
# Runs vballoon's whole test suite from a clean tree: installs dependencies
# (unless --no-deps), then builds and runs `make check` twice, plainly and
# with ASan+UBSan, each in its own build directory, and ends with one line
# "N passed, N failed, N skipped" for both runs together. After the plain
# run, `make fuzz` runs each libFuzzer harness for FUZZ_SECONDS (default
# 40; five of them) and a crash fails the run (--no-fuzz skips it).
# Env: VBALLOON_NO_SKIP=1 turns every skip into a failure (CI sets it).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
deps=yes fuzz=yes
variants="plain sanitize"
for arg in "$@"; do
	case $arg in
	--no-deps) deps=no ;;
	--no-fuzz) fuzz=no ;;
	--plain) variants=plain ;;
	--sanitize) variants=sanitize ;;
	-h|--help)
		echo "usage: scripts/check.sh [--no-deps] [--no-fuzz] [--plain|--sanitize]"
		exit 0 ;;
	*) echo "check.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
	esac
done

if [ "$deps" = yes ]; then
	"$top/scripts/install-deps.sh" --tests || { echo "check.sh: installing dependencies failed" >&2; exit 1; }
fi
cd "$top" && autoreconf -fi >/dev/null 2>&1 || { echo "check.sh: autoreconf failed" >&2; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
pass=0 fail=0 skip=0 status=0
for v in $variants; do
	b="$top/build/$v"
	rm -rf "$b" && mkdir -p "$b" && cd "$b" || exit 1
	opts=
	# The sanitized run also builds the guest with its debug lines,
	# so both forms of the balloon driver are tested.
	[ "$v" = sanitize ] && opts="--enable-sanitizers --enable-balloon-debug"
	echo "=== $v: configure $opts"
	if ! "$top/configure" -q $opts >configure.out 2>&1; then
		cat configure.out; echo "check.sh: configure ($v) failed" >&2; exit 1
	fi
	echo "=== $v: make"
	make -j"$jobs" >make.out 2>&1 || { tail -n 40 make.out; echo "check.sh: build ($v) failed" >&2; exit 1; }
	echo "=== $v: make check"
	make -j"$jobs" check >check.out 2>&1 || status=1
	grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' check.out | grep -v '^PASS' || true
	log=$b/test-suite.log
	if [ ! -f "$log" ]; then
		tail -n 40 check.out; echo "check.sh: no test-suite.log ($v)" >&2; exit 1
	fi
	n() { sed -n "s/^# $1: *\([0-9]*\)/\1/p" "$log" | head -n 1; }
	p=$(n PASS) f=$(( $(n FAIL) + $(n ERROR) + $(n XPASS) )) s=$(n SKIP)
	echo "=== $v: $p passed, $f failed, $s skipped"
	[ "$f" -gt 0 ] && sed -n '/^FAIL\|^ERROR\|^XPASS/,/^$/p' "$log" | head -n 200
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ "$v" = plain ] && [ "$fuzz" = yes ]; then
		echo "=== fuzz: ${FUZZ_SECONDS:-40} s each"
		if make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-40}" >fuzz.out 2>&1; then
			grep '^fuzz-' fuzz.out
		else
			tail -n 60 fuzz.out; echo "check.sh: make fuzz failed" >&2
			status=1
		fi
	fi
done

[ "$fail" -gt 0 ] && status=1
if [ "$skip" -gt 0 ] && [ -n "${VBALLOON_NO_SKIP:-}" ]; then
	echo "check.sh: $skip tests skipped, and nothing may be skipped here" >&2
	status=1
fi
echo "$pass passed, $fail failed, $skip skipped"
exit $status
