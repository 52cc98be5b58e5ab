/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Boot images for loader tests: bytes in an anonymous memory file. */
#ifndef DUVISOR_TEST_IMAGE_H
#define DUVISOR_TEST_IMAGE_H

#include <stddef.h>

#include "core/image.h"
#include "core/util.h"

/* An image_file holding a copy of data; close(out->fd) when done. */
void test_image_from_bytes(const void *data, size_t size,
			   struct image_file *out);

#endif
