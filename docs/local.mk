# docs: man pages, guides, benchmark results
EXTRA_DIST += docs/PERFORMANCE.md
