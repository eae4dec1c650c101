/* SPDX-License-Identifier: MIT */
/*
 * fuzz-size.c - libFuzzer harness for vbctl's size grammar (size.h): the
 * input is 16 bytes of boot and current memory, then the SIZE text. A
 * parsed size must resolve or fail with a message, and a resolved target
 * must be printable.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/vbctl/size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[VBCTL_SIZE_ERR_MAX], human[VBCTL_SIZE_HUMAN_MAX], *text;
	uint64_t boot, current, target;
	struct vbctl_size s;

	if (size < 16)
		return 0;
	memcpy(&boot, data, 8);
	memcpy(&current, data + 8, 8);
	text = malloc(size - 16 + 1);
	if (!text)
		return 0;
	memcpy(text, data + 16, size - 16);
	text[size - 16] = '\0';
	err[0] = '\0';
	if (vbctl_size_parse(text, &s, err, sizeof(err)) == 0) {
		err[0] = '\0';
		if (vbctl_size_resolve(&s, text, boot, current, &target, err,
				       sizeof(err)) == 0) {
			vbctl_size_human(target, human, sizeof(human));
			vbctl_size_iec(target, human, sizeof(human));
		} else if (!err[0]) {
			abort();	/* a failure always says why */
		}
	} else if (!err[0]) {
		abort();
	}
	free(text);
	return 0;
}
