// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the control-message decoder (src/common), which reads
 * whatever a manager's socket delivers. A packet the decoder accepts must
 * also survive the key=value walk, and re-encoding its lines must give a
 * packet that decodes to the same payload.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "control-proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dvctl_buf out;
	struct dvctl_msg msg, again;
	struct dvctl_kv kv;
	const char *p, *end;
	char value[64];
	size_t len;

	if (dvctl_decode(data, size, &msg) != DVCTL_OK)
		return 0;
	(void)dvctl_get(&msg, "target", value, sizeof(value));
	(void)dvctl_request_name(msg.type);
	dvctl_begin(&out, msg.type, msg.id);
	p = msg.payload;
	end = p + msg.len;
	while (dvctl_next_kv(&p, end, &kv) > 0) {
		char v[DVCTL_MAX_PAYLOAD];

		assert(kv.value_len < sizeof(v));
		memcpy(v, kv.value, kv.value_len);
		v[kv.value_len] = '\0';
		dvctl_put(&out, kv.key, v);
	}
	assert(p == end);
	len = dvctl_finish(&out);
	assert(len == size);
	assert(dvctl_decode(out.data, len, &again) == DVCTL_OK);
	assert(again.len == msg.len &&
	       !memcmp(again.payload, msg.payload, msg.len));
	return 0;
}
