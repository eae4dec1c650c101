# docs: man pages, guides, benchmark results
