/* SPDX-License-Identifier: MIT */
/*
 * virtio-fake.h - for host unit tests that include the virtio core
 * (kernel/virtio/virtio.c, virtqueue.c): the few kernel services it uses,
 * and a fake device behind a fake transport that plays the other side of
 * the split virtqueues. Include after the kernel sources.
 */
#ifndef VBALLOON_TESTS_VIRTIO_FAKE_H
#define VBALLOON_TESTS_VIRTIO_FAKE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the few kernel services the core uses ------------------------- */

static uint64_t fake_ms;	/* advances on every look at the clock */
/* Called on every look at the clock: the device working meanwhile. */
static void (*fake_tick)(void);
static char last_log[256];

int printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	printf("# guest: %s", last_log);
	return 0;
}

int snprintk(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	abort();
}

uint64_t time_ms(void)
{
	if (fake_tick)
		fake_tick();
	return fake_ms++;
}

void work_init(struct work *w, void (*fn)(void *), void *arg)
{
	*w = (struct work){ .fn = fn, .arg = arg };
}

/* Queued work runs when the test says so (run_work). */
void work_queue(struct work *w)
{
	w->queued = true;
}

static void run_work(struct work *w)
{
	if (w->queued) {
		w->queued = false;
		w->fn(w->arg);
	}
}

/* The kernel never frees rings (they live as long as the device); the
 * test keeps what it handed out and frees it at the end, so LeakSanitizer
 * sees no leak. */
static void *contig_pages[64];
static size_t ncontig_pages;

paddr_t page_alloc_contig(size_t npages)
{
	void *p;

	if (ncontig_pages == sizeof(contig_pages) / sizeof(contig_pages[0]))
		return 0;
	p = aligned_alloc(PAGE_SIZE, npages * PAGE_SIZE);
	if (!p)
		return 0;
	memset(p, 0, npages * PAGE_SIZE);
	contig_pages[ncontig_pages++] = p;
	return virt_to_phys(p);
}

static void free_contig_pages(void)
{
	while (ncontig_pages)
		free(contig_pages[--ncontig_pages]);
}

/* --- a fake device behind a fake transport ------------------------- */

#define FAKE_QUEUES	5

static struct fake {
	struct virtio_device vd;	/* first: the ops get it back */
	uint8_t status;
	uint8_t statuses[16];		/* every status the driver wrote */
	unsigned nstatuses;
	bool stuck_in_reset;		/* status never reads back 0 */
	bool refuse_features;		/* clears FEATURES_OK when set */
	uint64_t offered, accepted;
	uint32_t config[4];		/* device config space, le32 fields */
	uint16_t queue_sizes[FAKE_QUEUES];
	struct virtqueue *enabled[FAKE_QUEUES];
	unsigned notifies[FAKE_QUEUES];
	uint16_t seen_avail[FAKE_QUEUES];	/* next avail slot to consume */
} fake;

static struct fake *to_fake(struct virtio_device *vd)
{
	return (struct fake *)vd;
}

static uint8_t fake_get_status(struct virtio_device *vd)
{
	return to_fake(vd)->status;
}

static void fake_set_status(struct virtio_device *vd, uint8_t status)
{
	struct fake *f = to_fake(vd);

	if (f->nstatuses < ARRAY_SIZE(f->statuses))
		f->statuses[f->nstatuses++] = status;
	if (status == 0 && f->stuck_in_reset)
		return;
	if (status == 0) {	/* a reset: the device forgets its queues */
		memset(f->enabled, 0, sizeof(f->enabled));
		memset(f->seen_avail, 0, sizeof(f->seen_avail));
	}
	if (f->refuse_features)
		status &= ~VIRTIO_STATUS_FEATURES_OK;
	f->status = status;
}

static uint64_t fake_get_features(struct virtio_device *vd)
{
	return to_fake(vd)->offered;
}

static void fake_set_features(struct virtio_device *vd, uint64_t features)
{
	to_fake(vd)->accepted = features;
}

static uint32_t fake_config_read32(struct virtio_device *vd, unsigned off)
{
	return to_fake(vd)->config[off / 4];
}

static void fake_config_write32(struct virtio_device *vd, unsigned off, uint32_t v)
{
	to_fake(vd)->config[off / 4] = v;
}

static uint16_t fake_queue_size(struct virtio_device *vd, unsigned index)
{
	return index < FAKE_QUEUES ? to_fake(vd)->queue_sizes[index] : 0;
}

static const char *fake_queue_enable(struct virtio_device *vd, struct virtqueue *vq)
{
	to_fake(vd)->enabled[vq->index] = vq;
	return NULL;
}

static void fake_queue_notify(struct virtio_device *vd, struct virtqueue *vq)
{
	to_fake(vd)->notifies[vq->index]++;
}

static uint8_t fake_isr_ack(struct virtio_device *vd)
{
	return 0;
}

static struct virtio_transport_ops fake_ops = {
	.name = "fake",
	.get_status = fake_get_status,
	.set_status = fake_set_status,
	.get_features = fake_get_features,
	.set_features = fake_set_features,
	.config_read32 = fake_config_read32,
	.config_write32 = fake_config_write32,
	.queue_size = fake_queue_size,
	.queue_enable = fake_queue_enable,
	.queue_notify = fake_queue_notify,
	.isr_ack = fake_isr_ack,
};

/* The device side of 2.7: take every buffer the driver made available
 * and return it in the used ring, in order. */
static unsigned device_use_all(unsigned index)
{
	struct virtqueue *vq = fake.enabled[index];
	unsigned n = 0;

	while (fake.seen_avail[index] != vq->avail->idx) {
		uint16_t slot = fake.seen_avail[index]++ & (vq->size - 1);
		uint16_t head = vq->avail->ring[slot];

		vq->used->ring[vq->used->idx & (vq->size - 1)].id = head;
		vq->used->ring[vq->used->idx & (vq->size - 1)].len = 0;
		vq->used->idx++;
		n++;
	}
	return n;
}

#ifdef KERNEL_BALLOON_H
/* --- for the balloon driver (kernel/drivers/balloon.c included before):
 * guest RAM below 4 GiB (32-bit PFNs) as a stack of free pages, the mm
 * services the driver uses, and the host setting a target. Free page
 * reports never find memory: this mm has no report rounds. */

#include <sys/mman.h>

#define RAM_PAGES	4096		/* 16 MiB */

static uint8_t *ram;
static paddr_t free_stack[RAM_PAGES];
static size_t nfree;
static void (*fake_page_freed)(paddr_t page);	/* sees every free first */
static void (*report_hook)(void *arg);
static void *report_arg;
static mm_reclaim_fn reclaim_hook;
static void *reclaim_arg;
static uint64_t reclaim_threshold;

paddr_t page_alloc_noreclaim(void)
{
	return nfree ? free_stack[--nfree] : 0;
}

void page_free(paddr_t page)
{
	if (page < virt_to_phys(ram) || page >= virt_to_phys(ram + RAM_PAGES * PAGE_SIZE) ||
	    nfree == RAM_PAGES)
		panic("page_free(%" PRIx64 "): not a free-able page\n", page);
	if (fake_page_freed)
		fake_page_freed(page);
	free_stack[nfree++] = page;
}

/* Deflated pages: the same free stack. */
void page_free_discarded(paddr_t page)
{
	page_free(page);
}

void mm_set_report_hook(void (*fn)(void *arg), void *arg, uint64_t threshold)
{
	(void)threshold;
	report_hook = fn;
	report_arg = arg;
}

uint64_t mm_unreported_bytes(void)
{
	return 0;
}

size_t mm_report_take(struct mm_run *runs, size_t max_runs,
		      uint64_t max_run_pages, uint64_t floor_bytes)
{
	(void)runs, (void)max_runs, (void)max_run_pages, (void)floor_bytes;
	return 0;
}

void mm_report_return(const struct mm_run *runs, size_t n)
{
	(void)runs, (void)n;
}

uint64_t mm_free_bytes(void)
{
	return nfree * PAGE_SIZE;
}

uint64_t mm_total_bytes(void)
{
	return RAM_PAGES * PAGE_SIZE;
}

uint64_t mm_minor_faults(void)
{
	return 0;
}

void mm_set_reclaim_hook(mm_reclaim_fn fn, void *arg, uint64_t threshold)
{
	reclaim_hook = fn;
	reclaim_arg = arg;
	reclaim_threshold = threshold;
}

/* Map the guest RAM and free all of it; skips the test where 32-bit
 * PFNs cannot be had. */
static void fake_ram_init(void)
{
#if !defined(__x86_64__) || !defined(MAP_32BIT)
	tap_skip_all("needs x86-64 Linux (io.h helpers, MAP_32BIT for 32-bit PFNs)");
#else
	ram = mmap(NULL, RAM_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (ram == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (size_t i = RAM_PAGES; i > 0; i--)
		page_free(virt_to_phys(ram + (i - 1) * PAGE_SIZE));
#endif
}

/* The host sets num_pages; the config interrupt's work runs. */
static void set_target(uint32_t pages)
{
	fake.config[BALLOON_CFG_NUM_PAGES / 4] = pages;
	virtio_interrupt(&fake.vd, VIRTIO_ISR_CONFIG);
	run_work(&fake.vd.config_work);
}
#endif /* KERNEL_BALLOON_H */

#endif
