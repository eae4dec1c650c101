/* SPDX-License-Identifier: MIT */
/*
 * virtqueue.c - split virtqueues (2.7): ring memory, adding
 * single-buffer descriptors, kicking, and collecting used buffers.
 */
#include "io.h"
#include "virtio.h"

/* 2.7.5: descriptor table entry; all fields little-endian (x86 is). */
struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
} __attribute__((packed));

#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2

/* 2.7.6: the driver area. used_event follows ring[size] (unused: we do
 * not negotiate VIRTIO_F_EVENT_IDX). */
struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
} __attribute__((packed));

/* 2.7.8: the device area. */
struct vring_used_elem {
	uint32_t id;
	uint32_t len;
} __attribute__((packed));

struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
} __attribute__((packed));

#define VRING_USED_F_NO_NOTIFY	1

/*
 * The legacy interface (2.7.2, 4.1.5.1 "legacy") needs the whole queue in
 * one physically contiguous block: descriptor table, then avail ring, then
 * the used ring at the next 4096-byte boundary; the device finds it all
 * from one page number. Modern devices take three addresses, but this
 * layout satisfies their alignment rules too (16, 2, 4), so both share it.
 */
#define VRING_LEGACY_ALIGN	4096

static size_t vring_avail_offset(uint16_t size)
{
	return sizeof(struct vring_desc) * size;
}

static size_t vring_used_offset(uint16_t size)
{
	/* flags, idx, ring[size], used_event */
	return ALIGN_UP(vring_avail_offset(size) + 2 * (3 + size),
			VRING_LEGACY_ALIGN);
}

static size_t vring_bytes(uint16_t size)
{
	/* flags, idx, ring[size], avail_event */
	return vring_used_offset(size) + 2 * 3 + sizeof(struct vring_used_elem) * size;
}

struct virtqueue *virtqueue_create(struct virtio_device *vd, unsigned index,
				   virtqueue_callback cb, void *priv,
				   const char **why)
{
	uint16_t size = vd->ops->queue_size(vd, index);
	size_t ring, bytes;
	struct virtqueue *vq;
	paddr_t mem;
	uint16_t i;

	if (index >= VIRTIO_MAX_QUEUES || size == 0) {
		*why = "device has no such queue";
		return NULL;
	}
	if (size & (size - 1)) {
		*why = "queue size is not a power of 2";
		return NULL;
	}
	/* The driver's bookkeeping (the struct and one token per
	 * descriptor) lives in the same block, after the rings. */
	ring = ALIGN_UP(vring_bytes(size), 8);
	bytes = ring + sizeof(void *) * size + sizeof(*vq);
	mem = page_alloc_contig(ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
	if (!mem) {
		*why = "out of memory for a virtqueue";
		return NULL;
	}

	vq = phys_to_virt(mem + bytes - sizeof(*vq));
	vq->vd = vd;
	vq->index = index;
	vq->size = size;
	vq->ring_phys = mem;
	vq->desc = phys_to_virt(mem);
	vq->avail = phys_to_virt(mem + vring_avail_offset(size));
	vq->used = phys_to_virt(mem + vring_used_offset(size));
	vq->tokens = phys_to_virt(mem + ring);
	vq->callback = cb;
	vq->priv = priv;
	/* page_alloc_contig zeroes: both ring indices and flags start at 0,
	 * so the device will interrupt us for every used buffer. */
	for (i = 0; i < size - 1; i++)
		vq->desc[i].next = i + 1;
	vq->free_head = 0;
	vq->num_free = size;
	vq->avail_idx = 0;
	vq->last_used = 0;

	*why = vd->ops->queue_enable(vd, vq);
	if (*why)
		return NULL;
	vd->vqs[index] = vq;
	return vq;
}

bool virtqueue_add(struct virtqueue *vq, paddr_t buf, uint32_t len,
		   bool writable, void *token)
{
	uint16_t head = vq->free_head;
	struct vring_desc *d;

	if (vq->num_free == 0)
		return false;
	d = &vq->desc[head];
	vq->free_head = d->next;
	vq->num_free--;

	d->addr = buf;
	d->len = len;
	d->flags = writable ? VRING_DESC_F_WRITE : 0;
	vq->tokens[head] = token;
	vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
	vq->avail_idx++;
	return true;
}

void virtqueue_kick(struct virtqueue *vq)
{
	volatile struct vring_avail *avail = vq->avail;
	volatile struct vring_used *used = vq->used;

	if (avail->idx == vq->avail_idx)
		return;
	/* 2.7.13: descriptors and ring entries must be visible before the
	 * index that publishes them. */
	smp_wmb();
	avail->idx = vq->avail_idx;
	/* 2.7.13.3: the index store must be ordered before we read the
	 * device's suppression flag, or we could miss a wanted notify. */
	smp_mb();
	if (!(used->flags & VRING_USED_F_NO_NOTIFY))
		vq->vd->ops->queue_notify(vq->vd, vq);
}

void *virtqueue_get_used(struct virtqueue *vq)
{
	volatile struct vring_used *used = vq->used;
	uint32_t id;
	void *token;

	if (vq->vd->broken || used->idx == vq->last_used)
		return NULL;
	/* 2.7.14: read the element only after seeing the index that
	 * covers it. */
	smp_rmb();
	id = used->ring[vq->last_used & (vq->size - 1)].id;
	/* A descriptor returned twice, or never made available: the
	 * device is broken, not the guest. */
	if (id >= vq->size || !vq->tokens[id]) {
		printk("virtio: queue %u: device returned descriptor %u, which is not in flight\n",
		       vq->index, id);
		virtio_device_broken(vq->vd, "device broke the queue protocol");
		return NULL;
	}
	vq->last_used++;

	token = vq->tokens[id];
	vq->tokens[id] = NULL;
	vq->desc[id].next = vq->free_head;
	vq->free_head = id;
	vq->num_free++;
	return token;
}
