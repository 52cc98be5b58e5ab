// SPDX-License-Identifier: GPL-2.0-or-later
/* virtio-blk requests on a raw image, and the --disk option. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <linux/virtio_blk.h>
#include <string.h>
#include <unistd.h>

#include "block/backend.h"
#include "core/options.h"
#include "virtio/blk_request.h"

#define DISK_SIZE (64 * 1024)

struct fixture {
	char *path;
	struct blk_backend *b;
	struct virtq_chain chain;
	struct blk_request req;
	uint8_t hdr[16];
	uint8_t data[8192];
	uint8_t status;
};

static void open_disk(struct fixture *f, bool readonly)
{
	int fd = g_file_open_tmp("dv-blk-XXXXXX", &f->path, NULL);
	struct blk_backend_config cfg = { .path = f->path, .fd = -1,
					  .readonly = readonly };
	uint8_t fill[DISK_SIZE];

	g_assert_cmpint(fd, >=, 0);
	memset(fill, 0xa5, sizeof(fill));
	g_assert_cmpint(write(fd, fill, sizeof(fill)), ==, sizeof(fill));
	close(fd);
	g_assert_cmpint(blk_raw_open(&cfg, "test disk", &f->b), ==, 0);
	g_assert_cmpuint(f->b->size, ==, DISK_SIZE);
}

static void close_disk(struct fixture *f)
{
	blk_backend_close(f->b);
	g_unlink(f->path);
	g_free(f->path);
}

static void header(struct fixture *f, uint32_t type, uint64_t sector)
{
	memcpy(f->hdr, &type, 4);
	memset(f->hdr + 4, 0, 4);
	memcpy(f->hdr + 8, &sector, 8);
}

/* header | data (readable for writes, writable for reads) | status */
static void chain(struct fixture *f, size_t data_len, bool data_writable)
{
	struct virtq_chain *c = &f->chain;
	uint32_t n = 0;

	memset(c, 0, sizeof(*c));
	c->iov[n++] = (struct iovec){ f->hdr, sizeof(f->hdr) };
	c->nout = 1;
	c->out_len = sizeof(f->hdr);
	if (data_len) {
		c->iov[n++] = (struct iovec){ f->data, data_len };
		if (data_writable) {
			c->nin++;
			c->in_len += data_len;
		} else {
			c->nout++;
			c->out_len += data_len;
		}
	}
	c->iov[n++] = (struct iovec){ &f->status, 1 };
	c->nin++;
	c->in_len++;
	f->status = 0xee;
}

static uint32_t run(struct fixture *f)
{
	blk_request_parse(&f->chain, f->b, "SERIAL-0123456789ABCDEF", &f->req);
	return blk_request_run(f->b, &f->req);
}

static void file_bytes(struct fixture *f, off_t off, void *buf, size_t len)
{
	int fd = open(f->path, O_RDONLY);

	g_assert_cmpint(pread(fd, buf, len, off), ==, (ssize_t)len);
	close(fd);
}

static void test_write_then_read(void)
{
	struct fixture f;
	uint8_t back[1024];

	open_disk(&f, false);
	header(&f, VIRTIO_BLK_T_OUT, 2);
	memset(f.data, 0x3c, 1024);
	chain(&f, 1024, false);
	g_assert_cmpuint(run(&f), ==, 1);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_OK);
	file_bytes(&f, 1024, back, sizeof(back));
	g_assert_cmpmem(back, 1024, f.data, 1024);

	header(&f, VIRTIO_BLK_T_IN, 1);
	memset(f.data, 0, sizeof(f.data));
	chain(&f, 1024, true);
	g_assert_cmpuint(run(&f), ==, 1025);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_OK);
	g_assert_cmpuint(f.data[511], ==, 0xa5);
	g_assert_cmpuint(f.data[512], ==, 0x3c);
	close_disk(&f);
}

static void test_out_of_range(void)
{
	static const struct {
		uint32_t type;
		uint64_t sector;
		size_t len;
	} bad[] = {
		{ VIRTIO_BLK_T_IN, DISK_SIZE / 512, 512 },
		{ VIRTIO_BLK_T_IN, DISK_SIZE / 512 - 1, 1024 },
		{ VIRTIO_BLK_T_OUT, UINT64_MAX, 512 },
		{ VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512 },
		{ VIRTIO_BLK_T_IN, 0, 100 },        /* not whole sectors */
	};
	struct fixture f;

	open_disk(&f, false);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		header(&f, bad[i].type, bad[i].sector);
		chain(&f, bad[i].len, bad[i].type == VIRTIO_BLK_T_IN);
		g_assert_cmpuint(run(&f), ==, 1);
		g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_IOERR);
	}
	close_disk(&f);
}

static void test_readonly(void)
{
	struct fixture f;
	uint8_t back[512];

	open_disk(&f, true);
	header(&f, VIRTIO_BLK_T_OUT, 0);
	memset(f.data, 0, 512);
	chain(&f, 512, false);
	run(&f);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_IOERR);
	header(&f, VIRTIO_BLK_T_DISCARD, 0);
	chain(&f, 16, false);
	run(&f);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_UNSUPP);
	file_bytes(&f, 0, back, sizeof(back));
	g_assert_cmpuint(back[0], ==, 0xa5);
	close_disk(&f);
}

static void test_get_id(void)
{
	struct fixture f;

	open_disk(&f, false);
	header(&f, VIRTIO_BLK_T_GET_ID, 0);
	chain(&f, 64, true);
	g_assert_cmpuint(run(&f), ==, 21);
	g_assert_cmpmem(f.data, 20, "SERIAL-0123456789ABC", 20);
	/* A short buffer gets what fits. */
	chain(&f, 5, true);
	g_assert_cmpuint(run(&f), ==, 6);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_OK);
	close_disk(&f);
}

static void range(struct fixture *f, uint32_t type, uint64_t sector,
		  uint32_t n, uint32_t flags)
{
	header(f, type, 0);
	memcpy(f->data, &sector, 8);
	memcpy(f->data + 8, &n, 4);
	memcpy(f->data + 12, &flags, 4);
	chain(f, 16, false);
}

static void test_discard_and_write_zeroes(void)
{
	struct fixture f;
	uint8_t back[2048];

	open_disk(&f, false);
	range(&f, VIRTIO_BLK_T_WRITE_ZEROES, 2, 2, 0);
	g_assert_cmpuint(run(&f), ==, 1);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_OK);
	range(&f, VIRTIO_BLK_T_DISCARD, 4, 2, 0);
	run(&f);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_OK);
	file_bytes(&f, 512, back, sizeof(back));
	g_assert_cmpuint(back[511], ==, 0xa5);
	for (size_t i = 512; i < 2048; i++)
		g_assert_cmpuint(back[i], ==, 0);
	/* Discard takes no flags; ranges must fit. */
	range(&f, VIRTIO_BLK_T_DISCARD, 0, 1, 1);
	run(&f);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_UNSUPP);
	range(&f, VIRTIO_BLK_T_WRITE_ZEROES, DISK_SIZE / 512, 1, 1);
	run(&f);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_IOERR);
	range(&f, VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX, UINT32_MAX, 1);
	run(&f);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_IOERR);
	close_disk(&f);
}

static void test_malformed(void)
{
	struct fixture f;

	open_disk(&f, false);
	/* No writable byte: nothing to answer with. */
	header(&f, VIRTIO_BLK_T_IN, 0);
	chain(&f, 0, false);
	f.chain.nin = 0;
	f.chain.in_len = 0;
	g_assert_cmpuint(run(&f), ==, 0);
	g_assert_null(f.req.status_byte);
	g_assert_false(f.req.ready);
	/* A short header. */
	chain(&f, 0, false);
	f.chain.iov[0].iov_len = 8;
	f.chain.out_len = 8;
	run(&f);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_IOERR);
	/* Unknown type. */
	header(&f, 77, 0);
	chain(&f, 0, false);
	run(&f);
	g_assert_cmpuint(f.status, ==, VIRTIO_BLK_S_UNSUPP);
	close_disk(&f);
}

/* Each kind of request lands in its own counters; failures only in
 * errors, whatever their kind. */
static void test_stats(void)
{
	struct blk_stats st = { 0 }, copy;
	struct fixture f;

	open_disk(&f, false);
	header(&f, VIRTIO_BLK_T_OUT, 1);
	chain(&f, 4096, false);
	run(&f);
	blk_stats_account(&st, &f.req, 700);
	header(&f, VIRTIO_BLK_T_IN, 0);
	chain(&f, 1024, true);
	run(&f);
	blk_stats_account(&st, &f.req, 30);
	run(&f);
	blk_stats_account(&st, &f.req, 20);
	header(&f, VIRTIO_BLK_T_FLUSH, 0);
	chain(&f, 0, false);
	run(&f);
	blk_stats_account(&st, &f.req, 5000);
	/* Beyond the end: an error, not a read. */
	header(&f, VIRTIO_BLK_T_IN, DISK_SIZE / 512);
	chain(&f, 512, true);
	run(&f);
	blk_stats_account(&st, &f.req, 9);
	/* Unsupported is an answer the driver expects, not a failure. */
	header(&f, 77, 0);
	chain(&f, 0, false);
	run(&f);
	blk_stats_account(&st, &f.req, 9);
	/* Nowhere to answer: dropped, counted as a failure. */
	header(&f, VIRTIO_BLK_T_IN, 0);
	chain(&f, 0, false);
	f.chain.nin = 0;
	f.chain.in_len = 0;
	run(&f);
	blk_stats_account(&st, &f.req, 9);

	blk_stats_read(&st, &copy);
	g_assert_cmpuint(copy.wr_reqs, ==, 1);
	g_assert_cmpuint(copy.wr_bytes, ==, 4096);
	g_assert_cmpuint(copy.wr_ns, ==, 700);
	g_assert_cmpuint(copy.rd_reqs, ==, 2);
	g_assert_cmpuint(copy.rd_bytes, ==, 2048);
	g_assert_cmpuint(copy.rd_ns, ==, 50);
	g_assert_cmpuint(copy.fl_reqs, ==, 1);
	g_assert_cmpuint(copy.fl_ns, ==, 5000);
	g_assert_cmpuint(copy.errors, ==, 2);
	close_disk(&f);
}

static void test_disk_option(void)
{
	struct vmm_disk_config d;
	char err[128];

	g_assert_cmpint(parse_disk_option("path=/x.img,readonly=on,serial=AB C+1,direct=on",
					  &d, err, sizeof(err)), ==, 0);
	g_assert_cmpstr(d.path, ==, "/x.img");
	g_assert_true(d.readonly && d.direct);
	g_assert_cmpint(d.fd, ==, -1);
	g_assert_cmpstr(d.serial, ==, "AB C+1");
	g_assert_cmpint(parse_disk_option("fd=7,serial=123456789012345678901234",
					  &d, err, sizeof(err)), ==, 0);
	g_assert_cmpint(d.fd, ==, 7);
	g_assert_cmpstr(d.serial, ==, "12345678901234567890");
	g_assert_cmpint(parse_disk_option("path=a,fd=3", &d, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(parse_disk_option("readonly=on", &d, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(parse_disk_option("path=a,readonly=yes", &d, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(parse_disk_option("path=a,colour=red", &d, err, sizeof(err)), ==, -EINVAL);
	g_assert_nonnull(strstr(err, "colour"));
	g_assert_cmpint(parse_disk_option("path=a,fd", &d, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(parse_disk_option("fd=-1", &d, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(parse_disk_option("path=", &d, err, sizeof(err)), ==, -EINVAL);
	g_assert_cmpint(parse_disk_option("path=a,serial=\x01", &d, err, sizeof(err)), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/virtio-blk/write-then-read", test_write_then_read);
	g_test_add_func("/virtio-blk/out-of-range", test_out_of_range);
	g_test_add_func("/virtio-blk/readonly", test_readonly);
	g_test_add_func("/virtio-blk/get-id", test_get_id);
	g_test_add_func("/virtio-blk/discard-write-zeroes", test_discard_and_write_zeroes);
	g_test_add_func("/virtio-blk/malformed", test_malformed);
	g_test_add_func("/virtio-blk/stats", test_stats);
	g_test_add_func("/options/disk", test_disk_option);
	return g_test_run();
}
