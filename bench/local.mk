# bench: benchmarks (not tests); each writes its results to docs/PERFORMANCE.md
EXTRA_DIST += bench/oneshot
# bench/balloon: the guest balloon driver's boot, inflate and deflate times
EXTRA_DIST += bench/balloon
# bench/shell: vbctl shell's time to the first prompt and first completions
EXTRA_DIST += bench/shell
# bench/soak: the guest under 1000 random targets, alloc/free and resets;
# results in docs/RELIABILITY.md
EXTRA_DIST += bench/soak
# bench/fleet: 16 VMs at once, on sockets and through libvirt
EXTRA_DIST += bench/fleet
# bench/autopilot: vbctl auto against no manager and fixed shares
EXTRA_DIST += bench/autopilot
