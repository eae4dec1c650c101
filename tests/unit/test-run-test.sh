#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/run-test, which runs every test: a test that never ends is stopped
# after VBALLOON_TEST_TIMEOUT seconds with what it started, and the TAP
# stream says which test it was; skips (77) pass, other statuses pass
# through.
set -u
run_test=${top_srcdir:-$(dirname "$0")/../..}/tests/run-test
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=0 failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

# A test that hangs, with a child of its own.
cat >"$dir/never-ends.sh" <<'SCRIPT'
sleep 300 &
echo $! >"$(dirname "$0")/child"
echo "ok 1 - started"
wait
SCRIPT
start=$(date +%s)
out=$(VBALLOON_TEST_TIMEOUT=1 sh "$run_test" sh "$dir/never-ends.sh" 2>"$dir/err")
rc=$?
took=$(($(date +%s) - start))
[ "$rc" -ne 0 ]; ok $? "a hanging test fails (exit $rc)"
[ "$took" -le 8 ]; ok $? "...within its 1 s bound plus grace (${took} s)"
echo "$out" | grep -qx "Bail out! $dir/never-ends.sh did not finish within 1 s: tests/run-test stopped it (VBALLOON_TEST_TIMEOUT)"
ok $? "...and the TAP stream names it: $(echo "$out" | tail -n 1)"
grep -q "never-ends.sh did not finish within 1 s" "$dir/err"; ok $? "...on stderr too"
child=$(cat "$dir/child" 2>/dev/null)
sleep 0.2
# Gone, or dead and waiting to be reaped (Z).
state=$(ps -o stat= -p "$child" 2>/dev/null)
case $state in ""|Z*) true ;; *) false ;; esac
ok $? "...and what it started was stopped with it (state '${state}')"

# Skips and statuses.
printf 'echo "1..0 # SKIP no reason"; exit 77\n' >"$dir/skips.sh"
sh "$run_test" sh "$dir/skips.sh" >/dev/null; ok $? "a skip (77) is not an error"
printf 'exit 3\n' >"$dir/fails.sh"
sh "$run_test" sh "$dir/fails.sh"; rc=$?
[ "$rc" -eq 3 ]; ok $? "another status passes through (3)"
echo "1..$n"
exit $failed
