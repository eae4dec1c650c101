/* SPDX-License-Identifier: MIT */
/*
 * virtio_mmio.c - the virtio-mmio transport (4.2): devices
 * the kernel command line names (virtio_mmio.device=SIZE@BASE:IRQ, as
 * QEMU's microvm appends them), both register layouts (version 2, and
 * version 1 "legacy", QEMU's default), interrupts through the IOAPIC,
 * then the same transport-neutral virtio_attach() as virtio-pci.
 */
#include "init.h"
#include "io.h"
#include "irq.h"
#include "virtio.h"
#include "virtio_mmio_arg.h"

/* 4.2.2 register layout; all registers 32-bit, little-endian. */
#define VM_MAGIC		0x000
#define VM_VERSION		0x004
#define VM_DEVICE_ID		0x008
#define VM_DEVICE_FEATURES	0x010
#define VM_DEVICE_FEATURES_SEL	0x014
#define VM_DRIVER_FEATURES	0x020
#define VM_DRIVER_FEATURES_SEL	0x024
#define VM_GUEST_PAGE_SIZE	0x028	/* version 1 only */
#define VM_QUEUE_SEL		0x030
#define VM_QUEUE_NUM_MAX	0x034
#define VM_QUEUE_NUM		0x038
#define VM_QUEUE_ALIGN		0x03c	/* version 1 only */
#define VM_QUEUE_PFN		0x040	/* version 1 only */
#define VM_QUEUE_READY		0x044	/* version 2 only */
#define VM_QUEUE_NOTIFY		0x050
#define VM_INTERRUPT_STATUS	0x060
#define VM_INTERRUPT_ACK	0x064
#define VM_STATUS		0x070
#define VM_QUEUE_DESC_LOW	0x080	/* version 2: the three areas */
#define VM_QUEUE_DESC_HIGH	0x084
#define VM_QUEUE_DRIVER_LOW	0x090
#define VM_QUEUE_DRIVER_HIGH	0x094
#define VM_QUEUE_DEVICE_LOW	0x0a0
#define VM_QUEUE_DEVICE_HIGH	0x0a4
#define VM_CONFIG		0x100	/* device-specific config space */

#define VIRTIO_MMIO_MAGIC	0x74726976	/* "virt" */
#define VIRTIO_MMIO_LEGACY	1
#define VIRTIO_MMIO_MODERN	2
/* Version 1: the guest page size the device multiplies QueuePFN by, and
 * the used ring's alignment: virtqueue.c lays rings out for 4096. */
#define VM_LEGACY_PAGE_SIZE	4096
#define VM_LEGACY_PAGE_SHIFT	12

/* The boot CPU's IOAPIC (ioapic.c) has 24 inputs; microvm with a second
 * IOAPIC (ioapic2=on) puts virtio interrupts above them. */
#define IOAPIC_INPUTS		24
#define MAX_VIRTIO_MMIO_DEVICES	8	/* what microvm,acpi=off offers */
#define CMDLINE_KEY		"virtio_mmio.device"

struct virtio_mmio_dev {
	struct virtio_device vd;	/* first, so &vd converts back */
	uint64_t base;			/* physical address of the registers */
	uint64_t size;			/* bytes */
	uint32_t gsi;			/* IOAPIC input */
};

static struct virtio_mmio_dev devices[MAX_VIRTIO_MMIO_DEVICES];
static unsigned ndevices;

static struct virtio_mmio_dev *to_vm(struct virtio_device *vd)
{
	return (struct virtio_mmio_dev *)vd;
}

/* 4.2.2: the driver uses only 32-bit aligned accesses to the registers. */
static uint32_t vm_read(const struct virtio_mmio_dev *vm, unsigned off)
{
	return mmio_read32(vm->base + off);
}

static void vm_write(const struct virtio_mmio_dev *vm, unsigned off, uint32_t v)
{
	mmio_write32(vm->base + off, v);
}

static uint8_t vm_get_status(struct virtio_device *vd)
{
	return (uint8_t)vm_read(to_vm(vd), VM_STATUS);
}

static void vm_set_status(struct virtio_device *vd, uint8_t status)
{
	vm_write(to_vm(vd), VM_STATUS, status);
}

static uint64_t vm_get_features(struct virtio_device *vd)
{
	struct virtio_mmio_dev *vm = to_vm(vd);
	uint64_t f;

	vm_write(vm, VM_DEVICE_FEATURES_SEL, 0);
	f = vm_read(vm, VM_DEVICE_FEATURES);
	vm_write(vm, VM_DEVICE_FEATURES_SEL, 1);
	return f | (uint64_t)vm_read(vm, VM_DEVICE_FEATURES) << 32;
}

static void vm_set_features(struct virtio_device *vd, uint64_t features)
{
	struct virtio_mmio_dev *vm = to_vm(vd);

	vm_write(vm, VM_DRIVER_FEATURES_SEL, 0);
	vm_write(vm, VM_DRIVER_FEATURES, (uint32_t)features);
	vm_write(vm, VM_DRIVER_FEATURES_SEL, 1);
	vm_write(vm, VM_DRIVER_FEATURES, (uint32_t)(features >> 32));
}

/* One 32-bit field: a single aligned access (4.2.2), so no
 * ConfigGeneration loop is needed. Version 1 config is guest-endian,
 * which on x86 is the little-endian the balloon's fields are anyway. */
static uint32_t vm_config_read32(struct virtio_device *vd, unsigned off)
{
	return vm_read(to_vm(vd), VM_CONFIG + off);
}

static void vm_config_write32(struct virtio_device *vd, unsigned off, uint32_t v)
{
	vm_write(to_vm(vd), VM_CONFIG + off, v);
}

static uint16_t vm_queue_size(struct virtio_device *vd, unsigned index)
{
	struct virtio_mmio_dev *vm = to_vm(vd);
	uint32_t max;

	vm_write(vm, VM_QUEUE_SEL, index);
	max = vm_read(vm, VM_QUEUE_NUM_MAX);
	/* A split ring holds at most 32768 entries (2.7). */
	return max > 32768 ? 32768 : (uint16_t)max;
}

static void vm_write64(const struct virtio_mmio_dev *vm, unsigned low, uint64_t v)
{
	vm_write(vm, low, (uint32_t)v);
	vm_write(vm, low + 4, (uint32_t)(v >> 32));
}

/* 4.2.3.2: select, check it is unused, size, the three areas, ready. */
static const char *vm_modern_queue_enable(struct virtio_device *vd, struct virtqueue *vq)
{
	struct virtio_mmio_dev *vm = to_vm(vd);

	vm_write(vm, VM_QUEUE_SEL, vq->index);
	if (vm_read(vm, VM_QUEUE_READY))
		return "queue already in use";
	vm_write(vm, VM_QUEUE_NUM, vq->size);
	vm_write64(vm, VM_QUEUE_DESC_LOW, virt_to_phys(vq->desc));
	vm_write64(vm, VM_QUEUE_DRIVER_LOW, virt_to_phys(vq->avail));
	vm_write64(vm, VM_QUEUE_DEVICE_LOW, virt_to_phys(vq->used));
	vm_write(vm, VM_QUEUE_READY, 1);
	return NULL;
}

/* 4.2.4 legacy: the whole ring in one block the device finds from a page
 * number (virtqueue.c lays it out so, used ring at a 4096 boundary). */
static const char *vm_legacy_queue_enable(struct virtio_device *vd, struct virtqueue *vq)
{
	struct virtio_mmio_dev *vm = to_vm(vd);
	uint64_t pfn = vq->ring_phys >> VM_LEGACY_PAGE_SHIFT;

	if (pfn >> 32)
		return "virtqueue above the legacy interface's 16 TiB limit";
	/* "before any queues are used"; a reset may forget it, so again
	 * for every queue. */
	vm_write(vm, VM_GUEST_PAGE_SIZE, VM_LEGACY_PAGE_SIZE);
	vm_write(vm, VM_QUEUE_SEL, vq->index);
	if (vm_read(vm, VM_QUEUE_PFN))
		return "queue already in use";
	vm_write(vm, VM_QUEUE_NUM, vq->size);
	vm_write(vm, VM_QUEUE_ALIGN, VM_LEGACY_PAGE_SIZE);
	vm_write(vm, VM_QUEUE_PFN, (uint32_t)pfn);
	return NULL;
}

static void vm_queue_notify(struct virtio_device *vd, struct virtqueue *vq)
{
	vm_write(to_vm(vd), VM_QUEUE_NOTIFY, vq->index);
}

/*
 * 4.2.3.3: read what the interrupt was for, then acknowledge exactly
 * those events. The device holds its line up while any event is
 * unacknowledged, so an event arriving in between keeps it up and
 * (level-triggered) interrupts again after the EOI.
 */
static uint8_t vm_isr_ack(struct virtio_device *vd)
{
	struct virtio_mmio_dev *vm = to_vm(vd);
	uint32_t isr = vm_read(vm, VM_INTERRUPT_STATUS);

	if (isr)
		vm_write(vm, VM_INTERRUPT_ACK, isr);
	return (uint8_t)isr;
}

static const struct virtio_transport_ops vm_modern_ops = {
	.name = "modern mmio",
	.version_1 = true,
	.get_status = vm_get_status,
	.set_status = vm_set_status,
	.get_features = vm_get_features,
	.set_features = vm_set_features,
	.config_read32 = vm_config_read32,
	.config_write32 = vm_config_write32,
	.queue_size = vm_queue_size,
	.queue_enable = vm_modern_queue_enable,
	.queue_notify = vm_queue_notify,
	.isr_ack = vm_isr_ack,
};

static const struct virtio_transport_ops vm_legacy_ops = {
	.name = "legacy mmio",
	.get_status = vm_get_status,
	.set_status = vm_set_status,
	.get_features = vm_get_features,
	.set_features = vm_set_features,
	.config_read32 = vm_config_read32,
	.config_write32 = vm_config_write32,
	.queue_size = vm_queue_size,
	.queue_enable = vm_legacy_queue_enable,
	.queue_notify = vm_queue_notify,
	.isr_ack = vm_isr_ack,
};

static void virtio_mmio_irq(void *arg)
{
	struct virtio_device *vd = arg;

	virtio_interrupt(vd, vd->ops->isr_ack(vd));
}

/*
 * The device's interrupt line is level-sensitive (up while an event is
 * unacknowledged): route its GSI level-triggered, active high, like PCI
 * INTx, so nothing is lost between reading and acknowledging events.
 */
static const char *virtio_mmio_setup_irq(struct virtio_mmio_dev *vm)
{
	int vector;

	if (vm->gsi == 0 || vm->gsi >= IOAPIC_INPUTS)
		return "interrupt is not on the first IOAPIC (microvm: use ioapic2=off)";
	vector = irq_alloc_vector(virtio_mmio_irq, &vm->vd);
	if (vector < 0)
		return "no free interrupt vector";
	ioapic_route_pci_irq(vm->gsi, (uint8_t)vector);
	return NULL;
}

/* One virtio_mmio.device= entry: identify the device (4.2.3.1) and hand
 * it to the driver for its type. */
static void virtio_mmio_probe(const char *value)
{
	struct virtio_mmio_arg arg;
	struct virtio_mmio_dev probe, *vm;
	struct virtio_driver *drv;
	uint32_t version, device_id;
	const char *why;

	if (!virtio_mmio_parse_arg(value, &arg)) {
		printk("virtio-mmio: ignoring %s=%s (want SIZE@BASE:IRQ)\n",
		       CMDLINE_KEY, value);
		return;
	}
	if (arg.size < VM_CONFIG) {
		printk("virtio-mmio: ignoring %s=%s (registers need %u bytes)\n",
		       CMDLINE_KEY, value, VM_CONFIG);
		return;
	}
	probe = (struct virtio_mmio_dev){ .base = arg.base, .size = arg.size,
					  .gsi = arg.irq };
	paging_map_mmio(probe.base, probe.size);	/* uncached */

	/* 4.2.2: ignore anything without the magic or of a version we do
	 * not know (saying so); ignore DeviceID 0 silently (an empty
	 * slot) and touch nothing else. */
	if (vm_read(&probe, VM_MAGIC) != VIRTIO_MMIO_MAGIC) {
		printk("virtio-mmio: no device at %lx\n", probe.base);
		return;
	}
	version = vm_read(&probe, VM_VERSION);
	if (version != VIRTIO_MMIO_LEGACY && version != VIRTIO_MMIO_MODERN) {
		printk("virtio-mmio: device at %lx has unknown version %u\n",
		       probe.base, version);
		return;
	}
	device_id = vm_read(&probe, VM_DEVICE_ID);
	if (device_id == 0 || device_id > UINT16_MAX)
		return;
	drv = virtio_find_driver((uint16_t)device_id);
	if (!drv)
		return;

	drv->found++;
	if (!virtio_driver_has_room(drv))
		return;
	if (ndevices == MAX_VIRTIO_MMIO_DEVICES) {
		printk("%s: cannot attach: too many virtio-mmio devices\n", drv->name);
		return;
	}
	vm = &devices[ndevices++];
	*vm = probe;
	vm->vd.ops = version == VIRTIO_MMIO_MODERN ? &vm_modern_ops : &vm_legacy_ops;
	/* The window the command line gave, past the registers (4.2.2:
	 * the registers have no config length of their own). */
	vm->vd.config_len = MIN(vm->size - VM_CONFIG, UINT32_MAX);
	why = virtio_mmio_setup_irq(vm);
	if (why) {
		printk("%s: cannot attach: %s\n", drv->name, why);
		return;
	}
	virtio_attach(&vm->vd, drv);
}

void virtio_mmio_probe_all(void)
{
	const char *value;
	int cursor = 0;

	while ((value = cmdline_next(CMDLINE_KEY, &cursor)))
		virtio_mmio_probe(value);
}
