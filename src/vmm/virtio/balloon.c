// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * virtio-balloon (virtio 1.x section 5.5): a manager sets a target for the
 * guest's memory over the control channel; the driver hands pages to the
 * device (inflate queue), takes them back (deflate queue) and reports its
 * memory statistics (stats queue).
 *
 * Inflated pages go back to the host with madvise(MADV_DONTNEED): guest
 * RAM is private anonymous memory (core/guest_mem.c), so the kernel frees
 * them and the guest's next touch finds a zero page. (Shared guest memory
 * would need MADV_REMOVE.) Deflating therefore needs only the used-ring
 * entry. Each PFN is checked against guest RAM first (balloon_request.c).
 *
 * The queues are served on the device's own thread, so a guest inflating
 * gigabytes holds up neither the main loop nor its vCPUs. The same thread
 * asks for statistics every stats period, the way the spec has it: the
 * device keeps the buffer the driver posted and returns it to ask for new
 * figures. It also tells managers when `actual` changed, at most once a
 * second (the driver updates it after every 256 pages).
 *
 * With free page reporting (VIRTIO_BALLOON_F_REPORTING) the driver lends
 * us runs of its free memory (2 MiB and up in Linux) as device-writable
 * buffers; they go back to the host the same way and return to the guest
 * as zero pages when it allocates them again. Idle guests then cost the
 * host what they use, not what they once touched.
 */
#include <errno.h>
#include <linux/virtio_balloon.h>
#include <linux/virtio_ids.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/control.h"
#include "core/util.h"
#include "virtio/balloon_request.h"
#include "virtio/devices.h"

#define BALLOON_QUEUE_SIZE 128
#define INFLATEQ 0
#define DEFLATEQ 1
#define STATSQ 2
/* The reporting queue follows the stats queue when that one exists. */
#define NQUEUES 4
#define ANNOUNCE_INTERVAL_NS 1000000000ull
/* Requests served per wake-up before the timers get a turn. */
#define BALLOON_BATCH 64
#define BIT(n) (1ull << (n))

/* Up to `actual`: we offer neither free page hinting nor poisoning. */
enum queue_role { ROLE_INFLATE, ROLE_DEFLATE, ROLE_STATS, ROLE_REPORT,
		  ROLE_NONE };

struct balloon_config {
	uint32_t num_pages;           /* pages the device wants, le32 */
	uint32_t actual;              /* pages the driver gave, le32 */
};

struct virtio_balloon {
	struct virtio_dev vdev;
	struct balloon_config config;
	uint64_t ram_pages;
	/* --balloon as changed by managers; main thread only. */
	struct vmm_balloon_config *settings;
	struct control *ctl;
	int wake_fd;                  /* new period, `actual` changed, stop */
	bool stopping;                /* atomic */
	pthread_t thread;
	bool thread_started;
	struct virtq_chain chain;     /* the thread's */
	bool warned;

	/* The rest under vdev.lock. */
	uint32_t stats_period;
	uint64_t next_stats_ns;       /* 0: to be set from the period */
	bool stats_held;              /* the driver's buffer, kept to ask */
	uint16_t stats_head;
	bool has_stats;
	struct balloon_stats stats;
	uint64_t stats_time;          /* CLOCK_REALTIME seconds */
	bool actual_changed;
	uint64_t announced_ns;
	uint64_t ignored_pfns;
	uint64_t reported_bytes;
};

static void wake(struct virtio_balloon *b)
{
	(void)eventfd_write(b->wake_fd, 1);
}

static void discard_pages(void *opaque, void *hva, uint64_t len)
{
	struct virtio_balloon *b = opaque;

	if (madvise(hva, len, MADV_DONTNEED) < 0 && !b->warned) {
		b->warned = true;
		vmm_warn("%s: cannot free guest pages: %s (further errors not "
			 "shown)", b->vdev.name, strerror(errno));
	}
}

/* Virtqueues are numbered in the order of the features the driver took:
 * the stats queue exists only with STATS_VQ, and so on. */
static enum queue_role queue_role(const struct virtio_balloon *b, uint32_t q)
{
	uint64_t f = b->vdev.driver_features;
	uint32_t next = STATSQ;

	if (q < STATSQ)
		return q == INFLATEQ ? ROLE_INFLATE : ROLE_DEFLATE;
	if (f & BIT(VIRTIO_BALLOON_F_STATS_VQ)) {
		if (q == next)
			return ROLE_STATS;
		next++;
	}
	if (f & BIT(VIRTIO_BALLOON_F_FREE_PAGE_HINT))
		next++;
	if ((f & BIT(VIRTIO_BALLOON_F_REPORTING)) && q == next)
		return ROLE_REPORT;
	return ROLE_NONE;
}

/* The free runs of one report, each already inside guest RAM (the queue
 * walker maps nothing else); whole host pages only. Returns the bytes. */
static uint64_t discard_reported(struct virtio_balloon *b)
{
	const uintptr_t page = (uintptr_t)1 << BALLOON_PAGE_SHIFT;
	uint64_t total = 0;

	for (uint32_t i = b->chain.nout; i < b->chain.nout + b->chain.nin;
	     i++) {
		uintptr_t start = (uintptr_t)b->chain.iov[i].iov_base;
		uintptr_t end = start + b->chain.iov[i].iov_len;

		start = (start + page - 1) & ~(page - 1);
		end &= ~(page - 1);
		if (end <= start)
			continue;
		discard_pages(b, (void *)start, end - start);
		total += end - start;
	}
	return total;
}

/* Inflate, deflate or report requests until the queue is empty or broken.
 * Pages are freed without the lock: vCPUs must not wait for madvise(). */
static void serve_pages(struct virtio_balloon *b, uint32_t q,
			enum queue_role role)
{
	struct virtio_dev *vdev = &b->vdev;
	struct balloon_pfn_count count = { 0 };
	uint64_t generation, reported = 0;
	int r;

	for (int i = 0;; i++) {
		/* More to do: come back after the timers. */
		if (i == BALLOON_BATCH) {
			(void)eventfd_write(vdev->kick_fds[q], 1);
			return;
		}
		pthread_mutex_lock(&vdev->lock);
		r = virtio_dev_running(vdev) ? virtq_pop(&vdev->vqs[q], &b->chain)
					     : 0;
		if (r < 0)
			virtio_dev_set_needs_reset(vdev);
		generation = vdev->generation;
		pthread_mutex_unlock(&vdev->lock);
		if (r <= 0)
			return;

		/* Deflating is bookkeeping: the pages come back when touched. */
		if (role == ROLE_REPORT)
			reported = discard_reported(b);
		else
			balloon_pfns(&b->chain, vdev->mem,
				     role == ROLE_INFLATE ? discard_pages : NULL,
				     b, &count);

		pthread_mutex_lock(&vdev->lock);
		b->ignored_pfns += count.ignored;
		b->reported_bytes += reported;
		if (generation == vdev->generation) {
			virtq_push(&vdev->vqs[q], b->chain.head, 0);
			virtio_queue_notify_driver(vdev, q);
		}
		pthread_mutex_unlock(&vdev->lock);
	}
}

static uint64_t realtime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Gives the held stats buffer back: the driver refills and reposts it. */
static void request_stats(struct virtio_balloon *b)
{
	if (!b->stats_held)
		return;
	b->stats_held = false;
	virtq_push(&b->vdev.vqs[STATSQ], b->stats_head, 0);
	virtio_queue_notify_driver(&b->vdev, STATSQ);
}

static void serve_stats(struct virtio_balloon *b)
{
	struct virtio_dev *vdev = &b->vdev;
	int r = 0;

	pthread_mutex_lock(&vdev->lock);
	while (virtio_dev_running(vdev) &&
	       (r = virtq_pop(&vdev->vqs[STATSQ], &b->chain)) > 0) {
		/* A driver posts one buffer at a time; a second one gets the
		 * first back. */
		request_stats(b);
		balloon_stats_parse(&b->chain, &b->stats);
		b->has_stats = true;
		b->stats_time = realtime_s();
		b->stats_held = true;
		b->stats_head = b->chain.head;
	}
	if (r < 0)
		virtio_dev_set_needs_reset(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

/* Due work of the timers; returns the poll timeout until the next. */
static int run_timers(struct virtio_balloon *b)
{
	struct virtio_dev *vdev = &b->vdev;
	uint64_t now = now_ns_monotonic(), wait_ns = UINT64_MAX;

	pthread_mutex_lock(&vdev->lock);
	if (b->stats_period && virtio_dev_running(vdev)) {
		uint64_t period_ns = b->stats_period * 1000000000ull;

		if (!b->next_stats_ns)
			b->next_stats_ns = now + period_ns;
		if (now >= b->next_stats_ns) {
			request_stats(b);
			b->next_stats_ns = now + period_ns;
		}
		wait_ns = b->next_stats_ns - now;
	}
	if (b->actual_changed) {
		if (now - b->announced_ns >= ANNOUNCE_INTERVAL_NS) {
			b->actual_changed = false;
			b->announced_ns = now;
			control_post_async(b->ctl, CONTROL_ASYNC_BALLOON);
		} else {
			wait_ns = MIN(wait_ns, b->announced_ns +
				      ANNOUNCE_INTERVAL_NS - now);
		}
	}
	pthread_mutex_unlock(&vdev->lock);
	/* Rounded up, so that the deadline has passed when we wake. */
	return wait_ns == UINT64_MAX ? -1 :
	       (int)MIN((wait_ns + 999999) / 1000000, (uint64_t)INT32_MAX);
}

static void *balloon_thread(void *opaque)
{
	struct virtio_balloon *b = opaque;
	struct pollfd fds[NQUEUES + 1];

	for (uint32_t q = 0; q < NQUEUES; q++)
		fds[q] = (struct pollfd){ .fd = b->vdev.kick_fds[q],
					  .events = POLLIN };
	fds[NQUEUES] = (struct pollfd){ .fd = b->wake_fd, .events = POLLIN };
	for (;;) {
		int timeout = run_timers(b);

		if (poll(fds, NQUEUES + 1, timeout) < 0 && errno != EINTR)
			break;
		if (fds[NQUEUES].revents)
			virtio_kick_drain(b->wake_fd);
		if (__atomic_load_n(&b->stopping, __ATOMIC_ACQUIRE))
			break;
		for (uint32_t q = 0; q < NQUEUES; q++) {
			enum queue_role role;

			if (!fds[q].revents)
				continue;
			virtio_kick_drain(fds[q].fd);
			pthread_mutex_lock(&b->vdev.lock);
			role = queue_role(b, q);
			pthread_mutex_unlock(&b->vdev.lock);
			if (role == ROLE_STATS)
				serve_stats(b);
			else if (role != ROLE_NONE)
				serve_pages(b, q, role);
		}
	}
	return NULL;
}

/* The driver writes `actual` after each batch; num_pages is ours. */
static void balloon_config_write(struct virtio_dev *vdev, uint32_t offset,
				 const uint8_t *data, uint32_t len)
{
	struct virtio_balloon *b = vdev->priv;
	const uint32_t from = offsetof(struct balloon_config, actual);
	uint32_t old = b->config.actual;

	for (uint32_t i = 0; i < len; i++)
		if (offset + i >= from)
			((uint8_t *)&b->config)[offset + i] = data[i];
	if (b->config.actual != old) {
		b->actual_changed = true;
		wake(b);
	}
}

/* The driver takes its buffers back: the held one is no longer ours. */
static void balloon_reset(struct virtio_dev *vdev)
{
	struct virtio_balloon *b = vdev->priv;

	b->stats_held = false;
	b->next_stats_ns = 0;
}

/* The guest keeps at least `target` bytes: whole pages go into the
 * balloon. */
static uint32_t pages_for(const struct virtio_balloon *b, uint64_t target)
{
	uint64_t ram = b->ram_pages << BALLOON_PAGE_SHIFT;

	return target && target < ram ?
	       (uint32_t)((ram - target) >> BALLOON_PAGE_SHIFT) : 0;
}

static int set_target(void *opaque, uint64_t bytes)
{
	struct virtio_balloon *b = opaque;

	if (!bytes || bytes > b->ram_pages << BALLOON_PAGE_SHIFT)
		return -EINVAL;
	b->settings->target = bytes;
	pthread_mutex_lock(&b->vdev.lock);
	b->config.num_pages = pages_for(b, bytes);
	virtio_config_changed(&b->vdev);
	pthread_mutex_unlock(&b->vdev.lock);
	return 0;
}

static int set_stats_period(void *opaque, uint32_t seconds)
{
	struct virtio_balloon *b = opaque;

	b->settings->stats_period = seconds;
	pthread_mutex_lock(&b->vdev.lock);
	b->stats_period = seconds;
	/* A new period starts with fresh figures. */
	b->next_stats_ns = seconds ? now_ns_monotonic() : 0;
	pthread_mutex_unlock(&b->vdev.lock);
	wake(b);
	return 0;
}

static uint64_t actual_bytes(const struct virtio_balloon *b)
{
	/* The driver's word, clamped: it cannot give more than all RAM. */
	uint64_t pages = MIN((uint64_t)b->config.actual, b->ram_pages);

	return (b->ram_pages - pages) << BALLOON_PAGE_SHIFT;
}

static uint64_t get_actual(void *opaque)
{
	struct virtio_balloon *b = opaque;
	uint64_t v;

	pthread_mutex_lock(&b->vdev.lock);
	v = actual_bytes(b);
	pthread_mutex_unlock(&b->vdev.lock);
	return v;
}

static void put_stats(void *opaque, struct dvctl_buf *reply)
{
	struct virtio_balloon *b = opaque;
	uint64_t ram = b->ram_pages << BALLOON_PAGE_SHIFT;

	pthread_mutex_lock(&b->vdev.lock);
	dvctl_put_u64(reply, "target", ram - ((uint64_t)b->config.num_pages <<
					      BALLOON_PAGE_SHIFT));
	dvctl_put_u64(reply, "actual", actual_bytes(b));
	dvctl_put_u64(reply, "stats_period", b->stats_period);
	dvctl_put(reply, "deflate_on_oom",
		  b->vdev.device_features & BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM)
		  ? "on" : "off");
	dvctl_put_u64(reply, "ignored_pfns", b->ignored_pfns);
	dvctl_put(reply, "free_page_reporting",
		  b->vdev.device_features & BIT(VIRTIO_BALLOON_F_REPORTING)
		  ? "on" : "off");
	dvctl_put_u64(reply, "reported_bytes", b->reported_bytes);
	if (b->has_stats)
		dvctl_put_u64(reply, "last_update", b->stats_time);
	for (unsigned int t = 0; t < BALLOON_STAT_TAGS; t++) {
		char key[DVCTL_MAX_KEY + 1];

		if (!(b->stats.present & (1u << t)))
			continue;
		snprintf(key, sizeof(key), "stat.%s", balloon_stat_name(t));
		dvctl_put_u64(reply, key, b->stats.val[t]);
	}
	pthread_mutex_unlock(&b->vdev.lock);
}

static void balloon_free(struct virtio_dev *vdev)
{
	struct virtio_balloon *b = vdev->priv;

	control_set_balloon(b->ctl, NULL);
	if (b->thread_started) {
		__atomic_store_n(&b->stopping, true, __ATOMIC_RELEASE);
		wake(b);
		pthread_join(b->thread, NULL);
	}
	if (b->wake_fd >= 0)
		close(b->wake_fd);
	virtio_dev_cleanup(vdev);
	free(b);
}

static const struct virtio_dev_ops balloon_ops = {
	.config_write = balloon_config_write,
	.reset = balloon_reset,
	.free = balloon_free,
};

struct virtio_dev *virtio_balloon_new(const struct virtio_host *host,
				      const char *name,
				      struct vmm_balloon_config *settings,
				      struct control *ctl)
{
	struct virtio_balloon *b = calloc(1, sizeof(*b));
	uint64_t features = BIT(VIRTIO_BALLOON_F_STATS_VQ);
	struct control_balloon_hook hook;

	if (!b)
		return NULL;
	b->wake_fd = -1;
	if (settings->deflate_on_oom)
		features |= BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	if (settings->free_page_reporting)
		features |= BIT(VIRTIO_BALLOON_F_REPORTING);
	if (virtio_dev_init(&b->vdev, name, VIRTIO_ID_BALLOON, features,
			    NQUEUES, BALLOON_QUEUE_SIZE, host->mem) < 0) {
		free(b);
		return NULL;
	}
	b->vdev.ops = &balloon_ops;
	b->vdev.priv = b;
	b->vdev.config = (uint8_t *)&b->config;
	b->vdev.config_len = sizeof(b->config);
	b->settings = settings;
	b->ctl = ctl;
	b->ram_pages = guest_mem_total(host->mem) >> BALLOON_PAGE_SHIFT;
	b->stats_period = settings->stats_period;
	b->config.num_pages = pages_for(b, settings->target);
	b->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->wake_fd < 0 ||
	    vmm_thread_create(&b->thread, balloon_thread, b)) {
		balloon_free(&b->vdev);
		return NULL;
	}
	b->thread_started = true;
	hook = (struct control_balloon_hook){
		.set_target = set_target,
		.set_stats_period = set_stats_period,
		.stats = put_stats,
		.actual = get_actual,
		.opaque = b,
	};
	control_set_balloon(ctl, &hook);
	return &b->vdev;
}
