# Fuzzing with libFuzzer (clang): harnesses for the QMP stream parser, a
# whole libqmp connection against a scripted peer, vbctl's size grammar,
# the KEY=VALUE grammar and the shell's line splitter, each with a seed
# corpus (tests/fuzz/corpus/NAME) and a dictionary in the tree.
# 'make fuzz' builds them (ASan + UBSan) and runs each for FUZZ_SECONDS on
# a working copy of its corpus; any crash, leak, sanitizer report or hang
# fails it (the input is kept as tests/fuzz/crash-NAME-*). 'make
# fuzz-merge' merges what the runs found into the tree's corpus, minimised.
FUZZERS = fuzz-parser fuzz-connection fuzz-size fuzz-kv fuzz-split
FUZZ_SECONDS = 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -pthread \
	-I$(top_srcdir)/include -I$(top_builddir) -I$(top_srcdir) $(JSONC_CFLAGS)
FUZZ_LIBQMP = $(top_srcdir)/tools/libqmp/parser.c \
	$(top_srcdir)/tools/libqmp/address.c \
	$(top_srcdir)/tools/libqmp/connection.c \
	$(top_srcdir)/tools/libqmp/tls.c \
	$(top_srcdir)/tools/libqmp/qom.c \
	$(top_srcdir)/tools/libqmp/machine.c \
	$(top_srcdir)/tools/libqmp/balloon.c \
	$(top_srcdir)/tools/libqmp/libvirt.c
FUZZ_LIBQMP_DEPS = $(FUZZ_LIBQMP) $(top_srcdir)/tools/libqmp/parser.h \
	$(top_srcdir)/tools/libqmp/libqmp-private.h $(top_srcdir)/include/qmp/qmp.h
FUZZ_BUILD = @if test -z '$(FUZZ_CC)'; then \
	echo "make fuzz: no clang with libFuzzer (apt-get install clang), see configure" >&2; \
	exit 1; fi; mkdir -p tests/fuzz; \
	echo "  FUZZCC   $@"; $(FUZZ_CC) $(FUZZ_CFLAGS) -o $@

tests/fuzz/fuzz-parser: $(top_srcdir)/tests/fuzz/fuzz-parser.c $(FUZZ_LIBQMP_DEPS)
	$(FUZZ_BUILD) $(top_srcdir)/tests/fuzz/fuzz-parser.c \
		$(top_srcdir)/tools/libqmp/parser.c $(JSONC_LIBS)
tests/fuzz/fuzz-connection: $(top_srcdir)/tests/fuzz/fuzz-connection.c $(FUZZ_LIBQMP_DEPS)
	$(FUZZ_BUILD) $(LIBVIRT_CFLAGS) $(GNUTLS_CFLAGS) \
		$(top_srcdir)/tests/fuzz/fuzz-connection.c $(FUZZ_LIBQMP) \
		$(JSONC_LIBS) $(LIBVIRT_LIBS) $(GNUTLS_LIBS) -lpthread
tests/fuzz/fuzz-size: $(top_srcdir)/tests/fuzz/fuzz-size.c \
		$(top_srcdir)/tools/vbctl/size.c $(top_srcdir)/tools/vbctl/size.h
	$(FUZZ_BUILD) $(top_srcdir)/tests/fuzz/fuzz-size.c \
		$(top_srcdir)/tools/vbctl/size.c -lm
tests/fuzz/fuzz-kv: $(top_srcdir)/tests/fuzz/fuzz-kv.c \
		$(top_srcdir)/tools/vbctl/kv.c $(top_srcdir)/tools/vbctl/kv.h
	$(FUZZ_BUILD) $(top_srcdir)/tests/fuzz/fuzz-kv.c \
		$(top_srcdir)/tools/vbctl/kv.c $(JSONC_LIBS) -lm
tests/fuzz/fuzz-split: $(top_srcdir)/tests/fuzz/fuzz-split.c \
		$(top_srcdir)/tools/vbctl/split.c $(top_srcdir)/tools/vbctl/split.h
	$(FUZZ_BUILD) $(top_srcdir)/tests/fuzz/fuzz-split.c \
		$(top_srcdir)/tools/vbctl/split.c

fuzz-build: $(FUZZERS:%=tests/fuzz/%)
fuzz: fuzz-build
	$(SHELL) $(top_srcdir)/tests/fuzz/run-fuzzers.sh run $(top_srcdir) \
		$(FUZZ_SECONDS) $(FUZZERS)
fuzz-merge: fuzz-build
	$(SHELL) $(top_srcdir)/tests/fuzz/run-fuzzers.sh merge $(top_srcdir) \
		0 $(FUZZERS)
PHONY += fuzz fuzz-build fuzz-merge
CLEANFILES += $(FUZZERS:%=tests/fuzz/%)
clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/work-*
PHONY += clean-fuzz
EXTRA_DIST += tests/fuzz/run-fuzzers.sh tests/fuzz/make-seeds.py \
	$(FUZZERS:%=tests/fuzz/%.c) tests/fuzz/qmp.dict tests/fuzz/size.dict \
	tests/fuzz/kv.dict tests/fuzz/split.dict tests/fuzz/corpus
