# tests: unit tests (no QEMU) and end-to-end tests (real QEMU), all TAP.
# A test that cannot run prints "1..0 # SKIP reason" and exits 77;
# tests/run-test maps 77 to success so the TAP driver records the skip.
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
	PYTHONDONTWRITEBYTECODE=1; export PYTHONDONTWRITEBYTECODE;

EXTRA_DIST += tests/run-test tests/tap.h tests/lib/vbtest.py
noinst_HEADERS += tests/tap.h

# vbctl shell (issue 4): splitter and completion unit tests, pty-driven e2e.
check_PROGRAMS += tests/unit/test-split
tests_unit_test_split_SOURCES = tests/unit/test-split.c tools/vbctl/split.c
TESTS += tests/unit/test-split

# libqmp unit tests: they link the convenience library to reach the parser.
LIBQMP_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -I$(top_srcdir)/tests
LIBQMP_TEST_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
LIBQMP_TEST_LDADD = tools/libqmp/libqmp-internal.la $(JSONC_LIBS)
check_PROGRAMS += tests/unit/test-parser tests/unit/test-connection
TESTS += tests/unit/test-parser tests/unit/test-connection
tests_unit_test_parser_SOURCES = tests/unit/test-parser.c
tests_unit_test_parser_CPPFLAGS = $(LIBQMP_TEST_CPPFLAGS)
tests_unit_test_parser_CFLAGS = $(LIBQMP_TEST_CFLAGS)
tests_unit_test_parser_LDADD = $(LIBQMP_TEST_LDADD)
tests_unit_test_connection_SOURCES = tests/unit/test-connection.c
tests_unit_test_connection_CPPFLAGS = $(LIBQMP_TEST_CPPFLAGS)
tests_unit_test_connection_CFLAGS = $(LIBQMP_TEST_CFLAGS) -pthread
tests_unit_test_connection_LDADD = $(LIBQMP_TEST_LDADD)
tests_unit_test_connection_LDFLAGS = $(AM_LDFLAGS) -pthread
check_PROGRAMS += tests/e2e/test-libqmp-qemu
TESTS += tests/e2e/test-libqmp-qemu
tests_e2e_test_libqmp_qemu_SOURCES = tests/e2e/test-libqmp-qemu.c
tests_e2e_test_libqmp_qemu_CPPFLAGS = $(LIBQMP_TEST_CPPFLAGS)
tests_e2e_test_libqmp_qemu_CFLAGS = $(LIBQMP_TEST_CFLAGS)
tests_e2e_test_libqmp_qemu_LDADD = $(LIBQMP_TEST_LDADD)
TESTS += tests/unit/test-libqmp-symbols.sh
EXTRA_DIST += tests/unit/test-libqmp-symbols.sh

# kvirtio: host unit tests of the balloon's bookkeeping (kernel/drivers/
# balloon_policy.c, balloon_pfns.c are pure C, built here with the host CC).
BALLOON_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/kernel/drivers -I$(top_srcdir)/tests
check_PROGRAMS += tests/unit/test-balloon-policy tests/unit/test-balloon-pfns
TESTS += tests/unit/test-balloon-policy tests/unit/test-balloon-pfns
tests_unit_test_balloon_policy_SOURCES = tests/unit/test-balloon-policy.c \
	kernel/drivers/balloon_policy.c
tests_unit_test_balloon_policy_CPPFLAGS = $(BALLOON_TEST_CPPFLAGS)
tests_unit_test_balloon_pfns_SOURCES = tests/unit/test-balloon-pfns.c \
	kernel/drivers/balloon_pfns.c
tests_unit_test_balloon_pfns_CPPFLAGS = $(BALLOON_TEST_CPPFLAGS)
# The virtio layer on the host: the modern virtio-pci capability walk
# against a fake configuration space, and the transport-neutral core and
# split virtqueues against a fake device (kernel/virtio/).
VIRTIO_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/kernel/include \
	-I$(top_srcdir)/kernel/virtio -I$(top_srcdir)/tests
check_PROGRAMS += tests/unit/test-virtio-pci-caps tests/unit/test-virtio-core
TESTS += tests/unit/test-virtio-pci-caps tests/unit/test-virtio-core
tests_unit_test_virtio_pci_caps_SOURCES = tests/unit/test-virtio-pci-caps.c
tests_unit_test_virtio_pci_caps_CPPFLAGS = $(VIRTIO_TEST_CPPFLAGS)
tests_unit_test_virtio_core_SOURCES = tests/unit/test-virtio-core.c
tests_unit_test_virtio_core_CPPFLAGS = $(VIRTIO_TEST_CPPFLAGS)
# The balloon driver's deflate-on-OOM against a fake device.
check_PROGRAMS += tests/unit/test-balloon-reclaim
TESTS += tests/unit/test-balloon-reclaim
tests_unit_test_balloon_reclaim_SOURCES = tests/unit/test-balloon-reclaim.c \
	kernel/drivers/balloon_pfns.c kernel/drivers/balloon_policy.c kernel/lib/parse_size.c
tests_unit_test_balloon_reclaim_CPPFLAGS = $(VIRTIO_TEST_CPPFLAGS) -I$(top_srcdir)/kernel/drivers
EXTRA_DIST += tests/unit/virtio-fake.h
check_PROGRAMS += tests/unit/test-virtio-mmio-arg
TESTS += tests/unit/test-virtio-mmio-arg
tests_unit_test_virtio_mmio_arg_SOURCES = tests/unit/test-virtio-mmio-arg.c \
	kernel/virtio/virtio_mmio_arg.c
tests_unit_test_virtio_mmio_arg_CPPFLAGS = $(VIRTIO_TEST_CPPFLAGS)

# kernel core: host unit tests of the guest's page allocator, command line
# and size parsers (freestanding code, built here with the host compiler).
KERNEL_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/kernel/include -I$(top_srcdir)/tests
check_PROGRAMS += tests/unit/test-kernel-mm tests/unit/test-kernel-cmdline
TESTS += tests/unit/test-kernel-mm tests/unit/test-kernel-cmdline
tests_unit_test_kernel_mm_SOURCES = tests/unit/test-kernel-mm.c
tests_unit_test_kernel_mm_CPPFLAGS = $(KERNEL_TEST_CPPFLAGS)
tests_unit_test_kernel_cmdline_SOURCES = tests/unit/test-kernel-cmdline.c \
	kernel/lib/cmdline.c kernel/lib/parse_size.c
tests_unit_test_kernel_cmdline_CPPFLAGS = $(KERNEL_TEST_CPPFLAGS)
# kernel core: boot end-to-end tests (real QEMU); tests/lib/guest.py boots
# the guest and drives its console for every guest test.
TESTS += tests/e2e/test-guest-boot.py tests/e2e/test-guest-memory.py \
	tests/e2e/test-guest-paging.py
EXTRA_DIST += tests/lib/guest.py tests/e2e/test-guest-boot.py \
	tests/e2e/test-guest-memory.py tests/e2e/test-guest-paging.py
# kvirtio: balloon end-to-end tests (real QEMU); one file per independent
# case so that make -j runs them side by side.
TESTS += tests/e2e/test-balloon-walkthrough.py tests/e2e/test-balloon-transports.py \
	tests/e2e/test-balloon-sizes.py tests/e2e/test-balloon-no-oom.py
# An allocation while the balloon's inflate batches are still in flight.
TESTS += tests/e2e/test-balloon-inflight.py
EXTRA_DIST += tests/e2e/test-balloon-inflight.py
# The same driver over virtio-mmio on microvm, driven with vbctl.
TESTS += tests/e2e/test-balloon-microvm.py
EXTRA_DIST += tests/e2e/test-balloon-microvm.py
# Free page reporting: QEMU's RSS falls after the guest frees memory.
TESTS += tests/e2e/test-balloon-reporting.py
EXTRA_DIST += tests/e2e/test-balloon-reporting.py
EXTRA_DIST += tests/e2e/test-balloon-walkthrough.py tests/e2e/test-balloon-transports.py \
	tests/e2e/test-balloon-sizes.py tests/e2e/test-balloon-no-oom.py tests/lib/balloontest.py
# vbctl (issue 2): size grammar, KEY=VALUE parser and printer unit tests;
# the command line without QEMU (usage errors, help, man page); end to end
# against real QEMU without a guest (tests/lib/vbtest.py).
VBCTL_TEST_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
VBCTL_TEST_LDADD = tools/vbctl/libvbctl.la $(JSONC_LIBS)
check_PROGRAMS += tests/unit/test-size tests/unit/test-kv tests/unit/test-print
TESTS += tests/unit/test-size tests/unit/test-kv tests/unit/test-print
tests_unit_test_size_SOURCES = tests/unit/test-size.c
tests_unit_test_size_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_size_LDADD = $(VBCTL_TEST_LDADD)
tests_unit_test_kv_SOURCES = tests/unit/test-kv.c
tests_unit_test_kv_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_kv_LDADD = $(VBCTL_TEST_LDADD)
tests_unit_test_print_SOURCES = tests/unit/test-print.c
tests_unit_test_print_CFLAGS = $(VBCTL_TEST_CFLAGS)
tests_unit_test_print_LDADD = $(VBCTL_TEST_LDADD)
TESTS += tests/unit/test-vbctl-usage.py tests/unit/test-vbctl-man.py \
	tests/e2e/test-vbctl-balloon.py tests/e2e/test-vbctl-errors.py \
	tests/e2e/test-vbctl-guest.py
EXTRA_DIST += tests/unit/test-vbctl-usage.py tests/unit/test-vbctl-man.py \
	tests/e2e/test-vbctl-balloon.py tests/e2e/test-vbctl-errors.py \
	tests/e2e/test-vbctl-guest.py

# The completer needs the command table, so it links vbctl's objects.
check_PROGRAMS += tests/unit/test-complete
tests_unit_test_complete_SOURCES = tests/unit/test-complete.c \
	$(vbctl_command_sources) $(vbctl_shell_sources)
tests_unit_test_complete_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(READLINE_CFLAGS)
tests_unit_test_complete_LDADD = tools/vbctl/libvbctl.la \
	tools/libqmp/libqmp-internal.la $(JSONC_LIBS) $(READLINE_LIBS) -lm
TESTS += tests/unit/test-complete
EXTRA_DIST += tests/unit/qmp-schema-fragment.json

# The shell through a real terminal (tmux), and piped, against real QEMU.
SHELL_E2E_TESTS = tests/e2e/test-shell-tty.py tests/e2e/test-shell-piped.py \
	tests/e2e/test-shell-stats.py
TESTS += $(SHELL_E2E_TESTS)
EXTRA_DIST += tests/lib/tmuxterm.py $(SHELL_E2E_TESTS)
