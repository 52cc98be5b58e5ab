/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Block backends: what a virtual disk stores its bytes in. Only raw images
 * (regular files or block devices) exist today; an image format (qcow2)
 * would be another implementation of these ops.
 *
 * Calls may come from any one thread at a time; they block.
 */
#ifndef DUVISOR_BLOCK_BACKEND_H
#define DUVISOR_BLOCK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct blk_backend;

struct blk_backend_ops {
	/* Whole transfers or -errno (a short one is an error: -EIO). */
	int (*readv)(struct blk_backend *b, const struct iovec *iov, int n,
		     uint64_t offset);
	int (*writev)(struct blk_backend *b, const struct iovec *iov, int n,
		      uint64_t offset);
	int (*flush)(struct blk_backend *b);
	/* -EOPNOTSUPP when the storage cannot do it. */
	int (*discard)(struct blk_backend *b, uint64_t offset, uint64_t len);
	int (*write_zeroes)(struct blk_backend *b, uint64_t offset,
			    uint64_t len, bool may_unmap);
	void (*close)(struct blk_backend *b);
};

struct blk_backend {
	const struct blk_backend_ops *ops;
	uint64_t size;               /* bytes, a multiple of 512 */
	bool readonly;
	bool can_discard;
	bool can_write_zeroes;
};

struct blk_backend_config {
	const char *path;            /* or NULL with fd >= 0 */
	int fd;                      /* inherited from a manager; we own it */
	bool readonly;
	bool direct;                 /* O_DIRECT: bypass the host page cache */
};

/* Opens a raw image; messages name `what`. Returns 0 or -errno. */
int blk_raw_open(const struct blk_backend_config *cfg, const char *what,
		 struct blk_backend **out);

static inline void blk_backend_close(struct blk_backend *b)
{
	if (b)
		b->ops->close(b);
}

#endif
