// SPDX-License-Identifier: GPL-2.0-or-later
#include "test-image.h"

#include <glib.h>
#include <sys/mman.h>
#include <unistd.h>

void test_image_from_bytes(const void *data, size_t size,
			   struct image_file *out)
{
	int fd = memfd_create("test-image", MFD_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write_full(fd, data, size), ==, 0);
	out->fd = fd;
	out->size = size;
}
