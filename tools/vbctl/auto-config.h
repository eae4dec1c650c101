/* SPDX-License-Identifier: MIT */
/*
 * auto-config.h - "vbctl auto --config FILE": auto's options from an INI
 * file (read with inih), the same names as on the command line.
 */
#ifndef VBCTL_AUTO_CONFIG_H
#define VBCTL_AUTO_CONFIG_H

#include <getopt.h>

#include "vbctl.h"

/*
 * Reads PATH: in [auto], each KEY = VALUE is the long option --KEY of CMD
 * with VALUE (an option without a value takes yes/true/1, or no/false/0
 * for "not given"); in [vm NAME], min and weight are --min/--weight
 * NAME=VALUE. APPLY(DATA, option, value) takes each; the values live in
 * *OWNED (NULL-terminated, grown here; the caller frees it with
 * qmp_strv_free()) as long as the caller needs them. Returns 0, APPLY's
 * nonzero status, or 2 for a file that cannot be read or a section, key
 * or value that is not auto's (reported, with the file and line).
 */
int auto_config_read(struct vbctl *v, const struct vbctl_cmd *cmd,
		     const char *path,
		     int (*apply)(void *data, const struct option *opt, char *value),
		     void *data, char ***owned);

#endif
