// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the SBI calls a RISC-V guest makes to the VMM
 * (riscv/sbi.c), with guest-chosen extension, function and arguments. The
 * debug console reads guest buffers: every byte it hands to the console
 * must come from guest RAM (AddressSanitizer checks the reads), a write
 * is never longer than SBI_DBCN_WRITE_MAX, and the answer says how much
 * was written (abort otherwise).
 *
 * Input: steps of 1 + 8 * 3 bytes: a selector byte (its low 3 bits pick
 * the extension: legacy putchar, getchar, shutdown, SRST, DBCN or a random
 * one; bits 3..4 the function), then a0, a1 and a2 (a1 is an address,
 * biased into or near guest RAM by bit 5).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/guest_mem.h"
#include "riscv/sbi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (64u * 1024)

static size_t written;
static volatile uint8_t sink;

/* Reads every byte: AddressSanitizer sees any that is not guest RAM. */
static void console_out(void *opaque, const uint8_t *buf, size_t len)
{
	(void)opaque;
	for (size_t i = 0; i < len; i++)
		sink ^= buf[i];
	written += len;
}

static uint64_t take64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t exts[] = {
		SBI_EXT_LEGACY_PUTCHAR, SBI_EXT_LEGACY_GETCHAR,
		SBI_EXT_LEGACY_SHUTDOWN, SBI_EXT_SRST, SBI_EXT_DBCN,
		SBI_EXT_DBCN, SBI_EXT_DBCN, 0,
	};
	static struct guest_mem mem;
	const struct riscv_sbi_env env = { &mem, console_out, NULL };

	if (!mem.nregions && guest_mem_add(&mem, RAM_BASE, RAM_SIZE) < 0)
		abort();
	for (size_t pos = 0; pos + 25 <= size; pos += 25) {
		uint8_t sel = data[pos];
		uint64_t args[6] = { 0 }, ret[2] = { 0, 0 };
		uint64_t ext = exts[sel % 8], fn = (sel >> 3) % 4;
		enum riscv_sbi_action a;

		args[0] = take64(data + pos + 1);
		args[1] = take64(data + pos + 9);
		args[2] = take64(data + pos + 17);
		if (sel & 0x20)
			args[1] = RAM_BASE - 64 + args[1] % (RAM_SIZE + 128);
		if (!ext)
			ext = args[2];
		written = 0;
		a = riscv_sbi_handle(&env, ext, fn, args, ret);
		if (a != RISCV_SBI_CONTINUE && a != RISCV_SBI_POWEROFF &&
		    a != RISCV_SBI_RESET)
			abort();
		if (written > SBI_DBCN_WRITE_MAX)
			abort();
		if (ext == SBI_EXT_DBCN && fn == 0 && ret[0] == 0 &&
		    ret[1] != written)
			abort();
	}
	return 0;
}
