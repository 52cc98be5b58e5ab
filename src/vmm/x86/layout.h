/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The x86-64 guest physical memory map of a duvisor-vmm machine.
 *
 * Low memory holds the boot structures the VMM writes before the first
 * instruction; RAM above 1 MiB belongs to the guest. The range
 * [DEVICE_HOLE_START, 4 GiB) is never RAM: it carries MMIO devices, the
 * IOAPIC and the local APICs. RAM beyond the hole continues at 4 GiB.
 */
#ifndef DUVISOR_X86_LAYOUT_H
#define DUVISOR_X86_LAYOUT_H

#define X86_GDT_ADDR            0x500ULL
#define X86_IDT_ADDR            0x540ULL
#define X86_ZERO_PAGE_ADDR      0x7000ULL
#define X86_BOOT_STACK_ADDR     0x8ff0ULL
#define X86_PML4_ADDR           0x9000ULL
#define X86_PDPT_ADDR           0xa000ULL
#define X86_PD_ADDR             0xb000ULL
#define X86_CMDLINE_ADDR        0x20000ULL
#define X86_CMDLINE_MAX         0x10000ULL

/* Conventional memory ends where the EBDA would start. */
#define X86_LOW_RAM_END         0x9fc00ULL
/* ACPI tables live in the (reserved) BIOS area; the RSDP comes first. */
#define X86_ACPI_ADDR           0xe0000ULL
#define X86_ACPI_SIZE           0x1f000ULL
/*
 * The real-mode reset vector (F000:FFF0). Linux on a hardware-reduced ACPI
 * machine without EFI reboots by jumping there in real mode, so the VMM
 * puts a stub there that writes the ACPI reset register.
 */
#define X86_RESET_VECTOR        0xffff0ULL
#define X86_HIGH_MEM_START      0x100000ULL
#define X86_KERNEL_LOAD_ADDR    0x100000ULL

#define X86_DEVICE_HOLE_START   0xc0000000ULL
#define X86_4GIB                0x100000000ULL
/* Platform MMIO (virtio-mmio and friends) is carved from the hole. */
#define X86_MMIO_DEVICES_BASE   0xd0000000ULL
/* IOAPIC pins above the ISA range, one per virtio-mmio device. */
#define X86_VIRTIO_GSI_FIRST    16
#define X86_VIRTIO_GSI_COUNT    8
#define X86_IOAPIC_ADDR         0xfec00000ULL
#define X86_LAPIC_ADDR          0xfee00000ULL
/* KVM on Intel needs three pages for the TSS and one for the EPT identity map. */
#define X86_KVM_IDENTITY_MAP    0xfffbc000ULL
#define X86_KVM_TSS_ADDR        0xfffbd000ULL

/* Legacy port I/O devices. */
#define X86_COM1_PORT           0x3f8
#define X86_COM1_IRQ            4
#define X86_I8042_DATA_PORT     0x60
#define X86_I8042_CMD_PORT      0x64
#define X86_PVPANIC_PORT        0x505   /* QEMU's default */

/*
 * ACPI hardware-reduced power management block (port I/O):
 *   +0 sleep control (write (SLP_TYP << 2) | SLP_EN), +1 sleep status,
 *   +2 reset register (write X86_PM_RESET_VALUE),
 *   +3 GED event status (read-to-clear; bit 0 = power button).
 */
#define X86_PM_PORT             0x600
#define X86_PM_SLEEP_CTL        (X86_PM_PORT + 0)
#define X86_PM_SLEEP_STS        (X86_PM_PORT + 1)
#define X86_PM_RESET            (X86_PM_PORT + 2)
#define X86_PM_GED_STATUS       (X86_PM_PORT + 3)
#define X86_PM_PORT_LEN         4
#define X86_PM_RESET_VALUE      0x1
#define X86_PM_SLP_TYP_S5       5
#define X86_PM_SLP_EN           (1u << 5)
#define X86_PM_GED_POWER_BUTTON (1u << 0)
#define X86_GED_IRQ             5

#endif
