/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A 16550A UART: the guest's serial console. */
#ifndef DUVISOR_SERIAL_H
#define DUVISOR_SERIAL_H

#include "core/bus.h"
#include "core/console.h"
#include "devices/irq.h"

#define SERIAL_PORT_LEN 8

struct serial;

struct serial *serial_new(struct console *con, const struct irq_line *irq);
void serial_free(struct serial *s);

extern const struct bus_ops serial_bus_ops;

#endif
