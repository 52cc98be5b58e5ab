/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Platform power control: the ACPI power-management block (sleep control,
 * reset register, GED with the power button) and the i8042's reset line.
 */
#ifndef DUVISOR_POWER_H
#define DUVISOR_POWER_H

#include "core/bus.h"
#include "devices/irq.h"

enum power_event {
	POWER_EVENT_OFF,
	POWER_EVENT_RESET,
};

struct power_handler {
	void (*event)(void *ctx, enum power_event ev);
	void *ctx;
};

struct acpi_pm;

struct acpi_pm *acpi_pm_new(const struct power_handler *h,
			    const struct irq_line *ged_irq);
void acpi_pm_free(struct acpi_pm *pm);
/* Asks the guest to shut down, as a press of the power button. */
void acpi_pm_press_power_button(struct acpi_pm *pm);
extern const struct bus_ops acpi_pm_bus_ops;

struct i8042;

struct i8042 *i8042_new(const struct power_handler *h);
void i8042_free(struct i8042 *kbd);
extern const struct bus_ops i8042_bus_ops;

#endif
