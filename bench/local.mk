# bench: benchmarks (not tests); each writes its results to docs/PERFORMANCE.md
EXTRA_DIST += bench/oneshot
