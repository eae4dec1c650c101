# vbctl: the command-line tool and its interactive shell.
#
# libvbctl.la holds every object but main(): the size grammar, KEY=VALUE
# parser and printer, doctor's and check's rules, the autopilot's policy and host
# reader, the command table and its commands, the shell, its line splitter
# and classifier, history, completer and QMP schema index. vbctl is main.c
# linked with it; unit tests link it too instead of compiling vbctl's
# sources again.
noinst_LTLIBRARIES += tools/vbctl/libvbctl.la
tools_vbctl_libvbctl_la_SOURCES = \
	tools/vbctl/vbctl.h \
	tools/vbctl/size.c tools/vbctl/size.h \
	tools/vbctl/kv.c tools/vbctl/kv.h \
	tools/vbctl/print.c tools/vbctl/print.h \
	tools/vbctl/doctor.c tools/vbctl/doctor.h \
	tools/vbctl/check-rules.c tools/vbctl/check-rules.h \
	tools/vbctl/autopilot-policy.c tools/vbctl/autopilot-policy.h \
	tools/vbctl/hostmem.c tools/vbctl/hostmem.h \
	tools/vbctl/commands.c \
	tools/vbctl/vbctl.c \
	tools/vbctl/fleet.c tools/vbctl/fleet.h \
	tools/vbctl/domain-scan.c tools/vbctl/domain-scan.h \
	tools/vbctl/targets.c tools/vbctl/targets.h \
	tools/vbctl/cmd-list.c \
	tools/vbctl/cmd-top.c \
	tools/vbctl/cmd-auto.c tools/vbctl/auto-output.c tools/vbctl/auto-output.h \
	tools/vbctl/auto-config.c tools/vbctl/auto-config.h \
	tools/vbctl/cmd-query.c \
	tools/vbctl/cmd-set.c \
	tools/vbctl/cmd-stats.c \
	tools/vbctl/cmd-qom.c \
	tools/vbctl/cmd-events.c \
	tools/vbctl/cmd-doctor.c \
	tools/vbctl/cmd-qmp.c \
	tools/vbctl/cmd-check.c \
	tools/vbctl/cmd-help.c \
	tools/vbctl/cmd-shell.c \
	tools/vbctl/shell-line.c tools/vbctl/shell-line.h \
	tools/vbctl/shell-history.c tools/vbctl/shell-history.h \
	tools/vbctl/shell-qemu.c tools/vbctl/shell-qemu.h \
	tools/vbctl/split.c tools/vbctl/split.h \
	tools/vbctl/complete.c tools/vbctl/complete.h \
	tools/vbctl/qmp-schema.c tools/vbctl/qmp-schema.h \
	tools/vbctl/cmd-complete.c \
	tools/vbctl/prom.c tools/vbctl/prom.h \
	tools/vbctl/prom-read.c tools/vbctl/prom-read.h \
	tools/vbctl/cmd-exporter.c
tools_vbctl_libvbctl_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(READLINE_CFLAGS) \
	$(MHD_CFLAGS) $(INIH_CFLAGS) -pthread
# What a program linking libvbctl.la links with it. vbctl links the
# public libqmp only: it is a client like any other.
VBCTL_LIBS = tools/vbctl/libvbctl.la tools/libqmp/libqmp.la \
	$(JSONC_LIBS) $(READLINE_LIBS) $(MHD_LIBS) $(INIH_LIBS) -lpthread -lm

bin_PROGRAMS += tools/vbctl/vbctl
tools_vbctl_vbctl_SOURCES = tools/vbctl/main.c
tools_vbctl_vbctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
tools_vbctl_vbctl_LDADD = $(VBCTL_LIBS)

# bash completion: installed as "vbctl" where bash-completion loads it on
# demand (configure: --with-bash-completion-dir).
if BASH_COMPLETION
bashcompletiondir = $(BASH_COMPLETION_DIR)
dist_bashcompletion_DATA = tools/vbctl/bash-completion/vbctl
else
EXTRA_DIST += tools/vbctl/bash-completion/vbctl
endif
