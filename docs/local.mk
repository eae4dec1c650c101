# docs: man pages, guides, benchmark results
EXTRA_DIST += docs/PERFORMANCE.md docs/RELIABILITY.md docs/guest.md docs/walkthrough.md \
	docs/autopilot.md docs/libvirt.md docs/check.md
dist_man_MANS += docs/vbctl.1 docs/libqmp.3
