// SPDX-License-Identifier: GPL-2.0-or-later
/* Raw disk images: regular files and block devices, byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/backend.h"
#include "core/util.h"
#include "virtio/queue.h"

/* O_DIRECT wants aligned buffers; unaligned requests go through one. */
#define BOUNCE_ALIGN 4096
#define BOUNCE_SIZE  MIB(1)

struct raw {
	struct blk_backend b;
	int fd;
	bool direct;
	uint8_t *bounce;
};

static struct raw *to_raw(struct blk_backend *b)
{
	return (struct raw *)b;
}

/* Loops over short transfers; reaching the end of the file is -EIO. */
static int transfer(int fd, struct iovec *iov, int n, uint64_t offset,
		    bool write)
{
	while (n > 0) {
		ssize_t done = write ? pwritev(fd, iov, n, (off_t)offset) :
				       preadv(fd, iov, n, (off_t)offset);

		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return -errno;
		if (done == 0)
			return -EIO;
		offset += (uint64_t)done;
		while (n > 0 && (size_t)done >= iov->iov_len) {
			done -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + done;
			iov->iov_len -= (size_t)done;
		}
	}
	return 0;
}

static int bounced(struct raw *r, const struct iovec *iov, int n,
		   uint64_t offset, bool write)
{
	uint64_t total = 0, done = 0;
	int err;

	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (!r->bounce &&
	    posix_memalign((void **)&r->bounce, BOUNCE_ALIGN, BOUNCE_SIZE))
		return -ENOMEM;
	while (done < total) {
		size_t chunk = MIN(total - done, BOUNCE_SIZE);
		struct iovec one = { r->bounce, chunk };

		if (write)
			iov_to_buf(iov, (uint32_t)n, done, r->bounce, chunk);
		err = transfer(r->fd, &one, 1, offset + done, write);
		if (err)
			return err;
		if (!write)
			iov_from_buf(iov, (uint32_t)n, done, r->bounce, chunk);
		done += chunk;
	}
	return 0;
}

static int rw(struct blk_backend *b, const struct iovec *iov, int n,
	      uint64_t offset, bool write)
{
	struct raw *r = to_raw(b);
	struct iovec copy[VIRTQ_MAX_SEGS];
	int err;

	if (n < 0 || n > VIRTQ_MAX_SEGS)
		return -EINVAL;
	memcpy(copy, iov, (size_t)n * sizeof(*iov));
	err = transfer(r->fd, copy, n, offset, write);
	/* The kernel refuses unaligned O_DIRECT buffers with EINVAL. */
	if (err == -EINVAL && r->direct)
		err = bounced(r, iov, n, offset, write);
	return err;
}

static int raw_readv(struct blk_backend *b, const struct iovec *iov, int n,
		     uint64_t offset)
{
	return rw(b, iov, n, offset, false);
}

static int raw_writev(struct blk_backend *b, const struct iovec *iov, int n,
		      uint64_t offset)
{
	return rw(b, iov, n, offset, true);
}

static int raw_flush(struct blk_backend *b)
{
	return fdatasync(to_raw(b)->fd) < 0 ? -errno : 0;
}

static int punch(struct blk_backend *b, int mode, uint64_t offset,
		 uint64_t len)
{
	if (fallocate(to_raw(b)->fd, mode, (off_t)offset, (off_t)len) < 0)
		return errno == ENOTSUP ? -EOPNOTSUPP : -errno;
	return 0;
}

static int raw_discard(struct blk_backend *b, uint64_t offset, uint64_t len)
{
	return punch(b, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset,
		     len);
}

/* For storage that cannot zero a range itself (tmpfs, some devices). */
static int write_zeroes_slowly(struct raw *r, uint64_t offset, uint64_t len)
{
	static uint8_t zeroes[KIB(64)] __attribute__((aligned(BOUNCE_ALIGN)));
	struct iovec one;
	int err;

	while (len) {
		one = (struct iovec){ zeroes, MIN(len, sizeof(zeroes)) };
		err = transfer(r->fd, &one, 1, offset, true);
		if (err)
			return err;
		offset += sizeof(zeroes);
		len -= MIN(len, sizeof(zeroes));
	}
	return 0;
}

static int raw_write_zeroes(struct blk_backend *b, uint64_t offset,
			    uint64_t len, bool may_unmap)
{
	int r = -EOPNOTSUPP;

	if (may_unmap)
		r = raw_discard(b, offset, len);
	if (r == -EOPNOTSUPP)
		r = punch(b, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			  offset, len);
	if (r == -EOPNOTSUPP)
		r = write_zeroes_slowly(to_raw(b), offset, len);
	return r;
}

static void raw_close(struct blk_backend *b)
{
	struct raw *r = to_raw(b);

	close(r->fd);
	free(r->bounce);
	free(r);
}

static const struct blk_backend_ops raw_ops = {
	.readv = raw_readv,
	.writev = raw_writev,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.close = raw_close,
};

static const char *direct_hint(const struct blk_backend_config *cfg, int err)
{
	return cfg->direct && err == EINVAL ?
	       " (no O_DIRECT on this file system? try direct=off)" : "";
}

static int open_fd(const struct blk_backend_config *cfg, const char *what)
{
	int flags = (cfg->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	int fd, mode, err;

	if (cfg->path) {
		fd = open(cfg->path, flags | (cfg->direct ? O_DIRECT : 0));
		if (fd >= 0)
			return fd;
		err = errno;
		vmm_error("%s: cannot open '%s': %s%s", what, cfg->path,
			  strerror(err), direct_hint(cfg, err));
		return -err;
	}
	fd = cfg->fd;
	mode = fcntl(fd, F_GETFL);
	if (mode < 0) {
		vmm_error("%s: fd %d is not open", what, fd);
		return -EBADF;
	}
	if (!cfg->readonly && (mode & O_ACCMODE) == O_RDONLY) {
		vmm_error("%s: fd %d is read-only: add readonly=on", what, fd);
		return -EBADF;
	}
	if ((cfg->direct && fcntl(fd, F_SETFL, mode | O_DIRECT) < 0) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		err = errno;
		vmm_error("%s: fd %d: %s%s", what, fd, strerror(err),
			  direct_hint(cfg, err));
		return -err;
	}
	return fd;
}

static int disk_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode))
		return -EINVAL;
	return ioctl(fd, BLKGETSIZE64, size) < 0 ? -errno : 0;
}

int blk_raw_open(const struct blk_backend_config *cfg, const char *what,
		 struct blk_backend **out)
{
	struct raw *r;
	uint64_t size;
	int fd, err;

	fd = open_fd(cfg, what);
	if (fd < 0)
		return fd;
	err = disk_size(fd, &size);
	if (err) {
		vmm_error("%s: not a regular file or block device", what);
		goto fail;
	}
	if (size % 512)
		vmm_warn("%s: size is not a multiple of 512: the last %u "
			 "bytes are not visible", what, (unsigned)(size % 512));
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto fail;
	}
	r->fd = fd;
	r->direct = cfg->direct;
	r->b = (struct blk_backend){
		.ops = &raw_ops,
		.size = ALIGN_DOWN(size, 512),
		.readonly = cfg->readonly,
		/* Block devices take fallocate() too (Linux >= 4.9); what
		 * the storage refuses is reported as unsupported. */
		.can_discard = !cfg->readonly,
		.can_write_zeroes = !cfg->readonly,
	};
	*out = &r->b;
	return 0;
fail:
	close(fd);
	return err;
}
