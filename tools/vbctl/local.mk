# vbctl: the command-line tool and shell
# libvbctl.la holds the pieces that do not talk to QEMU (size grammar,
# KEY=VALUE parser, printer) so unit tests can link them alone.
noinst_LTLIBRARIES += tools/vbctl/libvbctl.la
tools_vbctl_libvbctl_la_SOURCES = \
	tools/vbctl/size.c tools/vbctl/size.h \
	tools/vbctl/kv.c tools/vbctl/kv.h \
	tools/vbctl/print.c tools/vbctl/print.h
tools_vbctl_libvbctl_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tools_vbctl_libvbctl_la_LIBADD = $(JSONC_LIBS) -lm

# vbctl links the public libqmp only: it is a client like any other.
# vbctl_command_sources: the table and its commands, without main() (the
# shell's completion test links them too).
bin_PROGRAMS += tools/vbctl/vbctl
tools_vbctl_vbctl_SOURCES = \
	tools/vbctl/vbctl.h \
	tools/vbctl/main.c \
	$(vbctl_command_sources)
vbctl_command_sources = \
	tools/vbctl/commands.c \
	tools/vbctl/vbctl.c \
	tools/vbctl/cmd-query.c \
	tools/vbctl/cmd-set.c \
	tools/vbctl/cmd-stats.c \
	tools/vbctl/cmd-qom.c \
	tools/vbctl/cmd-events.c \
	tools/vbctl/cmd-qmp.c \
	tools/vbctl/cmd-help.c
tools_vbctl_vbctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tools_vbctl_vbctl_LDADD = tools/vbctl/libvbctl.la tools/libqmp/libqmp.la \
	$(JSONC_LIBS) -lm

# The interactive shell (issue 4): readline front end, line splitter and
# Tab completion.
vbctl_shell_sources = \
	tools/vbctl/shell.c \
	tools/vbctl/split.c tools/vbctl/split.h \
	tools/vbctl/complete.c tools/vbctl/complete.h
tools_vbctl_vbctl_SOURCES += $(vbctl_shell_sources)
tools_vbctl_vbctl_CFLAGS += $(READLINE_CFLAGS)
tools_vbctl_vbctl_LDADD += $(READLINE_LIBS)
