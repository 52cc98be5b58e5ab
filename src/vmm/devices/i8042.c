// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The part of the i8042 keyboard controller a guest uses to reset the
 * machine: command 0xfe pulses the reset line, and writing the output port
 * (command 0xd1) with bit 0 clear does too. There is no keyboard; the
 * FADT does not announce one, so Linux does not probe for it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/power.h"
#include "x86/layout.h"

#define CMD_WRITE_OUTPUT_PORT 0xd1
#define CMD_PULSE_RESET       0xfe
#define OUTPUT_PORT_RESET_N   0x01

struct i8042 {
	pthread_mutex_t lock;
	struct power_handler handler;
	uint8_t pending_cmd;
};

static void i8042_read(void *opaque, uint64_t offset, uint8_t *data,
		       uint32_t len)
{
	(void)opaque;
	(void)offset;
	/* Status: output buffer empty, input buffer empty. */
	memset(data, 0, len);
}

static void i8042_write(void *opaque, uint64_t offset, const uint8_t *data,
			uint32_t len)
{
	struct i8042 *kbd = opaque;
	bool reset = false;
	uint8_t v = data[0];

	(void)len;
	pthread_mutex_lock(&kbd->lock);
	if (offset == X86_I8042_CMD_PORT - X86_I8042_DATA_PORT) {
		kbd->pending_cmd = v;
		reset = v == CMD_PULSE_RESET;
	} else if (kbd->pending_cmd == CMD_WRITE_OUTPUT_PORT) {
		kbd->pending_cmd = 0;
		reset = !(v & OUTPUT_PORT_RESET_N);
	}
	pthread_mutex_unlock(&kbd->lock);
	if (reset)
		kbd->handler.event(kbd->handler.ctx, POWER_EVENT_RESET);
}

const struct bus_ops i8042_bus_ops = {
	.read = i8042_read,
	.write = i8042_write,
};

struct i8042 *i8042_new(const struct power_handler *h)
{
	struct i8042 *kbd = calloc(1, sizeof(*kbd));

	if (!kbd)
		return NULL;
	pthread_mutex_init(&kbd->lock, NULL);
	kbd->handler = *h;
	return kbd;
}

void i8042_free(struct i8042 *kbd)
{
	if (!kbd)
		return;
	pthread_mutex_destroy(&kbd->lock);
	free(kbd);
}
