// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hardware-reduced ACPI power management (port I/O, layout in
 * x86/layout.h): the guest writes S5 to the sleep control register to power
 * off and the reset value to reset; the VMM raises a GED event whose _EVT
 * notifies the power button, so a guest shuts down cleanly on request.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "devices/power.h"
#include "x86/layout.h"

struct acpi_pm {
	pthread_mutex_t lock;
	struct power_handler handler;
	struct irq_line ged_irq;
	uint8_t ged_status;
};

static void acpi_pm_read(void *opaque, uint64_t offset, uint8_t *data,
			 uint32_t len)
{
	struct acpi_pm *pm = opaque;

	memset(data, 0, len);
	if (offset == X86_PM_GED_STATUS - X86_PM_PORT) {
		pthread_mutex_lock(&pm->lock);
		data[0] = pm->ged_status;
		pm->ged_status = 0;
		pthread_mutex_unlock(&pm->lock);
	}
}

static void acpi_pm_write(void *opaque, uint64_t offset, const uint8_t *data,
			  uint32_t len)
{
	struct acpi_pm *pm = opaque;
	uint8_t v = data[0];

	(void)len;
	switch (offset + X86_PM_PORT) {
	case X86_PM_SLEEP_CTL:
		if ((v & X86_PM_SLP_EN) &&
		    ((v >> 2) & 0x7) == X86_PM_SLP_TYP_S5)
			pm->handler.event(pm->handler.ctx, POWER_EVENT_OFF);
		break;
	case X86_PM_RESET:
		if (v == X86_PM_RESET_VALUE)
			pm->handler.event(pm->handler.ctx, POWER_EVENT_RESET);
		break;
	default:
		break;
	}
}

const struct bus_ops acpi_pm_bus_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

void acpi_pm_press_power_button(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->ged_status |= X86_PM_GED_POWER_BUTTON;
	pthread_mutex_unlock(&pm->lock);
	irq_line_pulse(&pm->ged_irq);
}

struct acpi_pm *acpi_pm_new(const struct power_handler *h,
			    const struct irq_line *ged_irq)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pthread_mutex_init(&pm->lock, NULL);
	pm->handler = *h;
	pm->ged_irq = *ged_irq;
	return pm;
}

void acpi_pm_free(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}
