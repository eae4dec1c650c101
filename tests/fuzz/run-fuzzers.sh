#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the libFuzzer harnesses built in tests/fuzz/ (from the build
# directory). "run SRCDIR SECONDS NAME...": each for SECONDS on a working
# corpus (tests/fuzz/work-NAME, seeded from SRCDIR/tests/fuzz/corpus/NAME)
# with its dictionary; prints one line of figures per fuzzer and fails on
# any crash, leak, sanitizer report or input slower than 10 s (kept as
# tests/fuzz/crash-NAME-*). "merge SRCDIR 0 NAME...": merges the working
# corpora into the tree's, keeping only inputs that add coverage.
set -u
mode=$1 srcdir=$2 seconds=$3
shift 3
status=0
for name in "$@"; do
	bin=tests/fuzz/$name
	seeds=$srcdir/tests/fuzz/corpus/$name
	work=tests/fuzz/work-$name
	case $name in
	fuzz-parser|fuzz-connection) dict=qmp.dict ;;
	*) dict=${name#fuzz-}.dict ;;
	esac
	mkdir -p "$work" "$seeds"
	if [ "$mode" = merge ]; then
		"$bin" -merge=1 "$seeds" "$work" >"tests/fuzz/$name.merge.log" 2>&1 ||
			{ echo "$name: merge failed, see tests/fuzz/$name.merge.log" >&2; status=1; }
		echo "$name: $(ls "$seeds" | wc -l) inputs in $seeds"
		continue
	fi
	log=tests/fuzz/$name.log
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-dict="$srcdir/tests/fuzz/$dict" -artifact_prefix="tests/fuzz/crash-$name-" \
		-print_final_stats=1 "$work" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
	echo "$name: ${execs:-?} runs in ${seconds} s (${rate:-?}/s), ${cov:-no coverage line}, corpus $(ls "$work" | wc -l) + $(ls "$seeds" | wc -l) seeds"
	if [ "$rc" -ne 0 ]; then
		echo "$name: FAILED (exit $rc); the report:" >&2
		grep -A30 -E '^==[0-9]+==|^SUMMARY|runtime error|ERROR: libFuzzer' "$log" | head -n 60 >&2
		status=1
	fi
done
exit $status
