# libqmp: QMP client library (see include/qmp/qmp.h, docs/libqmp.md).
# libqmp-internal.la holds every object, private symbols included: tools
# and unit tests link it to reach internals; libqmp.la is the same code
# with only the version script's symbols exported.
noinst_LTLIBRARIES += tools/libqmp/libqmp-internal.la
tools_libqmp_libqmp_internal_la_SOURCES = \
	tools/libqmp/libqmp-private.h \
	tools/libqmp/parser.h \
	tools/libqmp/parser.c \
	tools/libqmp/address.c \
	tools/libqmp/connection.c \
	tools/libqmp/tls.c \
	tools/libqmp/qom.c \
	tools/libqmp/machine.c \
	tools/libqmp/balloon.c \
	tools/libqmp/libvirt.c
tools_libqmp_libqmp_internal_la_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS) $(JSONC_CFLAGS) \
	$(LIBVIRT_CFLAGS) $(GNUTLS_CFLAGS) -pthread
tools_libqmp_libqmp_internal_la_LIBADD = $(JSONC_LIBS) $(LIBVIRT_LIBS) $(GNUTLS_LIBS) -lpthread

lib_LTLIBRARIES += tools/libqmp/libqmp.la
tools_libqmp_libqmp_la_SOURCES =
tools_libqmp_libqmp_la_LIBADD = tools/libqmp/libqmp-internal.la $(JSONC_LIBS) \
	$(LIBVIRT_LIBS) $(GNUTLS_LIBS) -lpthread
tools_libqmp_libqmp_la_LDFLAGS = $(AM_LDFLAGS) \
	-version-info $(LIBQMP_LT_VERSION) \
	-Wl,--version-script=$(top_srcdir)/tools/libqmp/libqmp.sym
EXTRA_tools_libqmp_libqmp_la_DEPENDENCIES = tools/libqmp/libqmp.sym

qmpincludedir = $(includedir)/qmp
qmpinclude_HEADERS = include/qmp/qmp.h

pkgconfig_DATA = tools/libqmp/libqmp.pc

EXTRA_DIST += tools/libqmp/libqmp.sym
EXTRA_DIST += docs/libqmp.md
