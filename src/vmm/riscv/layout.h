/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The RISC-V machine's physical address map. Devices sit below 2 GiB where
 * QEMU's virt machine has them (so guest kernels configured for it feel at
 * home), RAM starts at 2 GiB as the Linux boot protocol expects.
 */
#ifndef DUVISOR_RISCV_LAYOUT_H
#define DUVISOR_RISCV_LAYOUT_H

#include "core/util.h"

#define RISCV_PLIC_BASE        0x0c000000ull
#define RISCV_PLIC_SIZE        0x00400000ull  /* room for 512 contexts */

#define RISCV_UART_BASE        0x10000000ull
#define RISCV_UART_SIZE        0x100ull
#define RISCV_UART_CLOCK       3686400u       /* a classic 16550 crystal */

/* virtio-mmio windows, one page each (virtio/setup.c). */
#define RISCV_VIRTIO_BASE      0x10001000ull

/* PLIC sources: 0 means "none"; the UART and virtio devices follow. */
#define RISCV_UART_IRQ         1u
#define RISCV_VIRTIO_IRQ_FIRST 2u
#define RISCV_VIRTIO_IRQ_COUNT 16u
#define RISCV_PLIC_SOURCES     32u            /* ids 0..31 */

#define RISCV_RAM_BASE         0x80000000ull

/* The device tree is written below the top of RAM; 64 KiB is plenty. */
#define RISCV_FDT_MAX          KIB(64)

/* One PLIC context per hart (its S-mode external interrupt). */
#define RISCV_MAX_VCPUS        32u

#endif
