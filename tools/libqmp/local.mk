# libqmp: QMP client library (see include/qmp/qmp.h)
