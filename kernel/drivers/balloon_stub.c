/* SPDX-License-Identifier: MIT */
/*
 * balloon_stub.c - stand-ins for the balloon driver's entry points until
 * kernel/drivers/balloon.c lands (its strong definitions win at link time).
 */
#include "kernel.h"
#include "balloon.h"

static struct work no_balloon;

static void balloon_report_absent(void *arg)
{
	printk("balloon: no virtio-balloon device found\n");
}

__attribute__((weak)) void balloon_init(void)
{
	/* Work runs once main() reaches the idle loop, after PCI probing. */
	work_init(&no_balloon, balloon_report_absent, NULL);
	work_queue(&no_balloon);
}

__attribute__((weak)) bool balloon_present(void)
{
	return false;
}

__attribute__((weak)) uint64_t balloon_size_bytes(void)
{
	return 0;
}
