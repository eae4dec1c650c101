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
