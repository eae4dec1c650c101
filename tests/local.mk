# tests: unit tests (no QEMU) and end-to-end tests (real QEMU), all TAP,
# grouped by the component they test. A test that cannot run prints
# "1..0 # SKIP reason" and exits 77; tests/run-test maps 77 to success so
# the TAP driver records the skip. Python and shell tests are listed in a
# *_TEST_PROGS variable of their group, added to TESTS and EXTRA_DIST alike.
TEST_EXTENSIONS = .py .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/run-test
PY_LOG_DRIVER = $(LOG_DRIVER)
PY_LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/run-test $(PYTHON3)
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/run-test $(SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; export top_srcdir; \
	top_builddir='$(abs_top_builddir)'; export top_builddir; \
	VBCTL='$(abs_top_builddir)/tools/vbctl/vbctl'; export VBCTL; \
	GUEST_ELF='$(abs_top_builddir)/kernel/guest.elf'; export GUEST_ELF; \
	QEMU='$(QEMU)'; export QEMU; \
	PYTHONPATH='$(abs_top_srcdir)/tests/lib'; export PYTHONPATH; \
	PYTHONDONTWRITEBYTECODE=1; export PYTHONDONTWRITEBYTECODE; \
	VBALLOON_SANITIZED='$(enable_sanitizers)'; export VBALLOON_SANITIZED;

# ---- shared -------------------------------------------------------------------
# The TAP helpers (C and python), the QEMU launcher with its guest console
# driver (tests/lib/qemutest.py, guest.py) and vbctl runner (vbtest.py),
# the terminal driver. tests/run-test bounds every test
# (VBALLOON_TEST_TIMEOUT) and names the one that overran: tested itself
# with a test that never ends.
noinst_HEADERS += tests/tap.h
TESTS += tests/unit/test-run-test.sh
EXTRA_DIST += tests/unit/test-run-test.sh tests/run-test tests/tap.h \
	tests/lib/qemutest.py tests/lib/vbtest.py tests/lib/guest.py tests/lib/balloontest.py \
	tests/lib/tmuxterm.py tests/lib/soak.py tests/lib/fleettest.py

# Each group below lists its C tests once, in *_TEST_BINS (built by make
# check, run as tests; sources: the test's .c unless given), with the
# flags the group shares.

# ---- libqmp ----------------------------------------------------------------
# Unit tests link the convenience library to reach the parser; the fake
# QMP servers are tests/unit/qmp-fake.h; the e2e test talks to real QEMU;
# the symbols test checks the exported ABI.
LIBQMP_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -I$(top_srcdir)/tests
LIBQMP_TEST_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
LIBQMP_TEST_LDADD = tools/libqmp/libqmp-internal.la $(JSONC_LIBS)
LIBQMP_TEST_BINS = tests/unit/test-parser tests/unit/test-connection \
	tests/unit/test-qmp-balloon tests/e2e/test-libqmp-qemu
check_PROGRAMS += $(LIBQMP_TEST_BINS)
TESTS += $(LIBQMP_TEST_BINS)
noinst_HEADERS += tests/unit/qmp-fake.h
tests_unit_test_parser_CPPFLAGS = $(LIBQMP_TEST_CPPFLAGS)
tests_unit_test_parser_CFLAGS = $(LIBQMP_TEST_CFLAGS)
tests_unit_test_parser_LDADD = $(LIBQMP_TEST_LDADD)
# The fake servers are threads.
tests_unit_test_connection_CPPFLAGS = $(LIBQMP_TEST_CPPFLAGS)
tests_unit_test_connection_CFLAGS = $(LIBQMP_TEST_CFLAGS) -pthread
tests_unit_test_connection_LDADD = $(LIBQMP_TEST_LDADD)
tests_unit_test_connection_LDFLAGS = $(AM_LDFLAGS) -pthread
tests_unit_test_qmp_balloon_CPPFLAGS = $(LIBQMP_TEST_CPPFLAGS)
tests_unit_test_qmp_balloon_CFLAGS = $(LIBQMP_TEST_CFLAGS) -pthread
tests_unit_test_qmp_balloon_LDADD = $(LIBQMP_TEST_LDADD)
tests_unit_test_qmp_balloon_LDFLAGS = $(AM_LDFLAGS) -pthread
tests_e2e_test_libqmp_qemu_CPPFLAGS = $(LIBQMP_TEST_CPPFLAGS)
tests_e2e_test_libqmp_qemu_CFLAGS = $(LIBQMP_TEST_CFLAGS)
tests_e2e_test_libqmp_qemu_LDADD = $(LIBQMP_TEST_LDADD)
LIBQMP_TEST_PROGS = tests/unit/test-libqmp-symbols.sh
TESTS += $(LIBQMP_TEST_PROGS)
EXTRA_DIST += $(LIBQMP_TEST_PROGS)

# ---- vbctl -----------------------------------------------------------------
# Unit tests link libvbctl.la: the size grammar, KEY=VALUE parser,
# printer, the shell's line splitter and completer, check's and doctor's
# rules, the Prometheus exposition, and vbctl auto's policy (a pure
# function) and host reader (on fixture /proc trees). Then the command
# line without QEMU (usage errors, help, man page), end to end against
# real QEMU without a guest (tests/lib/vbtest.py) and with one, the shell
# through a real terminal (tmux) and piped, and every command against a
# catalogue of hostile QMP streams played by a scripted fake server.
VBCTL_TEST_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
VBCTL_TEST_LDADD = tools/vbctl/libvbctl.la tools/libqmp/libqmp-internal.la \
	$(JSONC_LIBS) $(READLINE_LIBS) $(MHD_LIBS) $(INIH_LIBS) -lpthread -lm
VBCTL_TEST_BINS = tests/unit/test-size tests/unit/test-kv tests/unit/test-print \
	tests/unit/test-split tests/unit/test-complete tests/unit/test-doctor \
	tests/unit/test-prom tests/unit/test-check-rules \
	tests/unit/test-autopilot-policy tests/unit/test-hostmem \
	tests/unit/test-targets
check_PROGRAMS += $(VBCTL_TEST_BINS)
TESTS += $(VBCTL_TEST_BINS)
tests_unit_test_size_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_size_LDADD = $(VBCTL_TEST_LDADD)
tests_unit_test_kv_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_kv_LDADD = $(VBCTL_TEST_LDADD)
tests_unit_test_print_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_print_LDADD = $(VBCTL_TEST_LDADD)
tests_unit_test_split_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_split_LDADD = $(VBCTL_TEST_LDADD)
tests_unit_test_complete_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_complete_LDADD = $(VBCTL_TEST_LDADD)
tests_unit_test_doctor_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_doctor_LDADD = $(VBCTL_TEST_LDADD)
tests_unit_test_prom_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_prom_LDADD = $(VBCTL_TEST_LDADD)
tests_unit_test_check_rules_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_check_rules_LDADD = $(VBCTL_TEST_LDADD)
tests_unit_test_autopilot_policy_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_autopilot_policy_LDADD = $(VBCTL_TEST_LDADD)
tests_unit_test_hostmem_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_hostmem_LDADD = $(VBCTL_TEST_LDADD)
# test-targets: the record of the targets vbctl set (top and list show them).
tests_unit_test_targets_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_targets_LDADD = $(VBCTL_TEST_LDADD)
EXTRA_DIST += tests/unit/qmp-schema-fragment.json \
	tests/unit/fixtures/proc-psi/meminfo \
	tests/unit/fixtures/proc-psi/pressure/memory \
	tests/unit/fixtures/proc-old/meminfo \
	tests/unit/fixtures/proc-bad/meminfo \
	tests/unit/fixtures/proc-bad/pressure/memory
VBCTL_TEST_PROGS = \
	tests/unit/test-vbctl-usage.py \
	tests/unit/test-vbctl-man.py \
	tests/unit/test-vbctl-hostile.py \
	tests/e2e/test-vbctl-balloon.py \
	tests/e2e/test-vbctl-errors.py \
	tests/e2e/test-vbctl-guest.py \
	tests/e2e/test-vbctl-doctor.py \
	tests/e2e/test-vbctl-reconnect.py \
	tests/e2e/test-vbctl-check.py \
	tests/e2e/test-vbctl-check-linux.py \
	tests/e2e/test-vbctl-tls.py \
	tests/e2e/test-shell-tty.py \
	tests/e2e/test-shell-piped.py \
	tests/e2e/test-shell-stats.py \
	tests/e2e/test-make-run.py \
	tests/e2e/test-shell-qmp-shell.py \
	tests/e2e/test-vbctl-fleet.py \
	tests/e2e/test-vbctl-top.py \
	tests/e2e/test-vbctl-libvirt.py \
	tests/e2e/test-vbctl-libvirt-ssh.py
TESTS += $(VBCTL_TEST_PROGS)
EXTRA_DIST += $(VBCTL_TEST_PROGS) tests/lib/libvirttest.py tests/lib/fakeqmp.py \
	tests/lib/hostile_streams.py

# ---- guest kernel core -------------------------------------------------------
# Host unit tests of the page allocator, command line and size parsers
# and the pvclock reader (freestanding code, built here with the host
# compiler); boot tests in real QEMU (tests/lib/guest.py boots the guest
# and drives its console).
KERNEL_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/kernel/include -I$(top_srcdir)/tests
KERNEL_TEST_BINS = tests/unit/test-kernel-mm tests/unit/test-kernel-cmdline \
	tests/unit/test-kernel-pvclock
check_PROGRAMS += $(KERNEL_TEST_BINS)
TESTS += $(KERNEL_TEST_BINS)
tests_unit_test_kernel_mm_CPPFLAGS = $(KERNEL_TEST_CPPFLAGS)
tests_unit_test_kernel_cmdline_SOURCES = tests/unit/test-kernel-cmdline.c \
	kernel/lib/cmdline.c kernel/lib/parse_size.c
tests_unit_test_kernel_cmdline_CPPFLAGS = $(KERNEL_TEST_CPPFLAGS)
tests_unit_test_kernel_pvclock_CPPFLAGS = $(KERNEL_TEST_CPPFLAGS) \
	-I$(top_srcdir)/kernel/arch/x86_64
KERNEL_TEST_PROGS = \
	tests/e2e/test-guest-boot.py \
	tests/e2e/test-guest-memory.py \
	tests/e2e/test-guest-paging.py
TESTS += $(KERNEL_TEST_PROGS)
EXTRA_DIST += $(KERNEL_TEST_PROGS)

# ---- guest virtio layer and balloon driver -----------------------------------
# Host unit tests: the modern virtio-pci capability walk against a fake
# configuration space, the transport-neutral core and split virtqueues,
# the virtio_mmio.device= parser; the balloon's policy and PFN store, and
# the whole driver (deflate-on-OOM; devices unlike QEMU's defaults: queue
# numbering, missing queues, actual at attach, the report timer) against
# a fake device (tests/unit/virtio-fake.h). End to end in real QEMU: one
# file per independent case so that make -j runs them side by side; a
# short guest soak (tests/lib/soak.py; bench/soak runs the long one).
VIRTIO_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/kernel/include \
	-I$(top_srcdir)/kernel/virtio -I$(top_srcdir)/tests
BALLOON_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/kernel/drivers -I$(top_srcdir)/tests
# Tests that include the driver itself (kernel/drivers/balloon.c).
BALLOON_DRIVER_TEST_CPPFLAGS = $(VIRTIO_TEST_CPPFLAGS) -I$(top_srcdir)/kernel/drivers
BALLOON_DRIVER_TEST_SOURCES = kernel/drivers/balloon_pfns.c \
	kernel/drivers/balloon_policy.c kernel/lib/parse_size.c
VIRTIO_TEST_BINS = tests/unit/test-virtio-pci-caps tests/unit/test-virtio-core \
	tests/unit/test-virtio-mmio-arg tests/unit/test-balloon-policy \
	tests/unit/test-balloon-pfns tests/unit/test-balloon-reclaim \
	tests/unit/test-balloon-device
check_PROGRAMS += $(VIRTIO_TEST_BINS)
TESTS += $(VIRTIO_TEST_BINS)
noinst_HEADERS += tests/unit/virtio-fake.h
tests_unit_test_virtio_pci_caps_CPPFLAGS = $(VIRTIO_TEST_CPPFLAGS)
tests_unit_test_virtio_core_CPPFLAGS = $(VIRTIO_TEST_CPPFLAGS)
tests_unit_test_virtio_mmio_arg_SOURCES = tests/unit/test-virtio-mmio-arg.c \
	kernel/virtio/virtio_mmio_arg.c
tests_unit_test_virtio_mmio_arg_CPPFLAGS = $(VIRTIO_TEST_CPPFLAGS)
tests_unit_test_balloon_policy_SOURCES = tests/unit/test-balloon-policy.c \
	kernel/drivers/balloon_policy.c
tests_unit_test_balloon_policy_CPPFLAGS = $(BALLOON_TEST_CPPFLAGS)
tests_unit_test_balloon_pfns_SOURCES = tests/unit/test-balloon-pfns.c \
	kernel/drivers/balloon_pfns.c
tests_unit_test_balloon_pfns_CPPFLAGS = $(BALLOON_TEST_CPPFLAGS)
tests_unit_test_balloon_reclaim_SOURCES = tests/unit/test-balloon-reclaim.c \
	$(BALLOON_DRIVER_TEST_SOURCES)
tests_unit_test_balloon_reclaim_CPPFLAGS = $(BALLOON_DRIVER_TEST_CPPFLAGS)
tests_unit_test_balloon_device_SOURCES = tests/unit/test-balloon-device.c \
	$(BALLOON_DRIVER_TEST_SOURCES)
tests_unit_test_balloon_device_CPPFLAGS = $(BALLOON_DRIVER_TEST_CPPFLAGS)
BALLOON_TEST_PROGS = \
	tests/e2e/test-balloon-walkthrough.py \
	tests/e2e/test-balloon-transports.py \
	tests/e2e/test-balloon-sizes.py \
	tests/e2e/test-balloon-no-oom.py \
	tests/e2e/test-balloon-inflight.py \
	tests/e2e/test-balloon-microvm.py \
	tests/e2e/test-balloon-reporting.py \
	tests/e2e/test-balloon-reset.py \
	tests/e2e/test-balloon-pressure.py \
	tests/e2e/test-balloon-hint.py \
	tests/e2e/test-guest-soak.py
TESTS += $(BALLOON_TEST_PROGS)
EXTRA_DIST += $(BALLOON_TEST_PROGS)

# The libvirt tests keep QEMU's capabilities cache here between runs (a
# cold one costs the private libvirtd seconds at its first start).
distclean-local: distclean-libvirt-caps
distclean-libvirt-caps:
	rm -rf tests/libvirt-caps-cache
PHONY += distclean-libvirt-caps

# ---- Debian packages -----------------------------------------------------------
# Built, checked with lintian and installed in a fresh root once per
# suite, so in the plain build only.
if !SANITIZERS
TESTS += tests/e2e/test-debian-packages.py
endif
EXTRA_DIST += tests/e2e/test-debian-packages.py

# ---- vbctl on the host: bash completion, Prometheus --------------------------------
# bash completion through an interactive bash on a pty; the metrics through
# promtool and a real Prometheus.
VBCTL_HOST_TESTS = tests/e2e/test-bash-completion.py tests/e2e/test-prometheus.py
TESTS += $(VBCTL_HOST_TESTS)
EXTRA_DIST += $(VBCTL_HOST_TESTS)

# vbctl auto against three real guests (tests/lib/scenario.py plays a
# scripted workload on their consoles; bench/autopilot uses it too), and
# over the domains of a private libvirtd.
AUTOPILOT_TEST_PROGS = tests/e2e/test-vbctl-auto.py \
	tests/e2e/test-vbctl-auto-libvirt.py
TESTS += $(AUTOPILOT_TEST_PROGS)
EXTRA_DIST += $(AUTOPILOT_TEST_PROGS) tests/lib/scenario.py
