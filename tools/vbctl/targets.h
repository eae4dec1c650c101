/* SPDX-License-Identifier: MIT */
/*
 * targets.h - the balloon targets vbctl gave, remembered per VM. QMP tells
 * where a balloon is (query-balloon's "actual") but never the target it
 * was given: neither the balloon device nor its virtio backend has a QOM
 * property for it. So each time vbctl sets a target (set, a fleet set,
 * auto) it records it here, and top and list show it.
 *
 * The record lives in one small per-user file, $XDG_RUNTIME_DIR/vbctl/
 * targets (without $XDG_RUNTIME_DIR: /tmp/vbctl-UID/targets, a directory
 * only that user may write): a JSON object with one entry per VM, keyed
 * by where the VM is (its socket path, or its libvirt domain's UUID) and
 * holding who it is (the socket's inode and change time, or the libvirt
 * domain id), so a VM whose QEMU was started again since shows no target
 * rather than a stale one. Writers take a lock on targets.lock and
 * replace the file by rename(), so readers never see half a file and
 * concurrent writers lose no record. A VM on a tcp: or tls: address has
 * no identity vbctl could check: its target is not recorded.
 */
#ifndef VBCTL_TARGETS_H
#define VBCTL_TARGETS_H

#include <stddef.h>
#include <stdint.h>

struct qmp;

/* Room for a VM's place or identity. */
#define VBCTL_TARGET_KEY_MAX 512

/*
 * Remember TARGET (bytes) as the balloon target of the VM at the end of Q
 * (connected) whose address is ADDR (a socket address as vbctl takes it;
 * ignored for a libvirt connection, which the greeting names). 0; -ENOENT
 * for a VM without an identity (tcp:, tls:); other negative errnos when
 * the record could not be written (the target was set all the same).
 */
int vbctl_target_record(struct qmp *q, const char *addr, uint64_t target);

/* vbctl_target_record() for a command that has just set TARGET: a record
 * that could not be written is said with -v only (the target was set). */
struct vbctl;
void vbctl_target_remember(struct vbctl *v, struct qmp *q, const char *addr,
			   uint64_t target);

/* The target last recorded for that VM: 0 and *TARGET, or -ENOENT (none,
 * or recorded for an earlier run of the VM). */
int vbctl_target_recall(struct qmp *q, const char *addr, uint64_t *target);

/* ---- the parts, for tests --------------------------------------------------- */

/* The VM's place ("unix:/abs/path", "libvirt:UUID") and identity ("dev
 * ino ctime", "id N"): 0, or -ENOENT (none), or a negative errno. */
int vbctl_target_key(struct qmp *q, const char *addr, char *place,
		     char *ident, size_t len);
/* The file: DIR/targets (DIR created 0700 if missing); 0 or -errno. */
int vbctl_targets_path(char *buf, size_t len);
/* Store or look up in the file at PATH (its lock is PATH.lock). */
int vbctl_targets_put(const char *path, const char *place, const char *ident,
		      uint64_t target);
int vbctl_targets_get(const char *path, const char *place, const char *ident,
		      uint64_t *target);

#endif
