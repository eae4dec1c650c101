/* SPDX-License-Identifier: MIT */
/*
 * machine.c - facts about the virtual machine as a whole.
 */
#include "config.h"

#include <json-c/json.h>

#include "libqmp-private.h"

QMP_EXPORT int qmp_memory_base_size(struct qmp *q, uint64_t *bytes)
{
	return qmp_execute_u64(q, "query-memory-size-summary", NULL,
			       "base-memory", bytes);
}
