// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * 16550A UART model. Transmission is instantaneous (THR is always empty),
 * so the guest never waits on us; received bytes sit in a 16-byte FIFO and
 * input is paused, not dropped, while it is full or the UART loops back.
 */
#include "devices/serial.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define REG_RBR_THR 0  /* DLL when DLAB */
#define REG_IER     1  /* DLM when DLAB */
#define REG_IIR_FCR 2
#define REG_LCR     3
#define REG_MCR     4
#define REG_LSR     5
#define REG_MSR     6
#define REG_SCR     7

#define IER_RDI   0x01
#define IER_THRI  0x02
#define IER_RLSI  0x04
#define IER_MSI   0x08

#define IIR_NO_INT 0x01
#define IIR_MSI    0x00
#define IIR_THRI   0x02
#define IIR_RDI    0x04
#define IIR_FIFO_ENABLED 0xc0

#define FCR_ENABLE_FIFO 0x01
#define FCR_CLEAR_RX    0x02

#define LCR_DLAB  0x80

#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10

#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80
#define MSR_DELTAS (MSR_DCTS | MSR_DDSR | MSR_TERI | MSR_DDCD)

#define FIFO_SIZE 16

struct serial {
	pthread_mutex_t lock;
	struct console *con;
	struct irq_line irq;
	bool irq_level;
	uint8_t ier, lcr, mcr, msr, scr, fcr, dll, dlm;
	bool thri_pending;
	uint8_t fifo[FIFO_SIZE];
	unsigned fifo_head, fifo_count;
};

static uint8_t current_iir(const struct serial *s)
{
	uint8_t fifo = s->fcr & FCR_ENABLE_FIFO ? IIR_FIFO_ENABLED : 0;

	if ((s->ier & IER_RDI) && s->fifo_count)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thri_pending)
		return IIR_THRI | fifo;
	if ((s->ier & IER_MSI) && (s->msr & MSR_DELTAS))
		return IIR_MSI | fifo;
	return IIR_NO_INT | fifo;
}

static void update_irq(struct serial *s)
{
	bool level = !(current_iir(s) & IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->irq, level);
	}
}

/* Modem status as the lines stand: looped back from MCR in loop mode,
 * else a cable that is always connected and ready. */
static uint8_t modem_lines(const struct serial *s)
{
	uint8_t m = 0;

	if (!(s->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	if (s->mcr & MCR_RTS)
		m |= MSR_CTS;
	if (s->mcr & MCR_DTR)
		m |= MSR_DSR;
	if (s->mcr & MCR_OUT1)
		m |= MSR_RI;
	if (s->mcr & MCR_OUT2)
		m |= MSR_DCD;
	return m;
}

static void set_mcr(struct serial *s, uint8_t mcr)
{
	uint8_t old = modem_lines(s), now;

	s->mcr = mcr & 0x1f;
	now = modem_lines(s);
	if ((old ^ now) & MSR_CTS)
		s->msr |= MSR_DCTS;
	if ((old ^ now) & MSR_DSR)
		s->msr |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))
		s->msr |= MSR_TERI;
	if ((old ^ now) & MSR_DCD)
		s->msr |= MSR_DDCD;
	s->msr = (uint8_t)((s->msr & MSR_DELTAS) | now);
}

/* In loop mode the receiver hears only the transmitter: input waits. */
static size_t fifo_room_locked(const struct serial *s)
{
	return s->mcr & MCR_LOOP ? 0 : FIFO_SIZE - s->fifo_count;
}

static void fifo_push_locked(struct serial *s, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len && s->fifo_count < FIFO_SIZE; i++) {
		s->fifo[(s->fifo_head + s->fifo_count) % FIFO_SIZE] = buf[i];
		s->fifo_count++;
	}
}

static void serial_read(void *opaque, uint64_t offset, uint8_t *data,
			uint32_t len)
{
	struct serial *s = opaque;
	bool resume_input = false;
	uint8_t v = 0;

	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case REG_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
		} else if (s->fifo_count) {
			v = s->fifo[s->fifo_head];
			s->fifo_head = (s->fifo_head + 1) % FIFO_SIZE;
			resume_input = --s->fifo_count == 0;
		}
		break;
	case REG_IER:
		v = s->lcr & LCR_DLAB ? s->dlm : s->ier;
		break;
	case REG_IIR_FCR:
		v = current_iir(s);
		/* Reading IIR acknowledges a THRE interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			s->thri_pending = false;
		break;
	case REG_LCR:
		v = s->lcr;
		break;
	case REG_MCR:
		v = s->mcr;
		break;
	case REG_LSR:
		v = LSR_THRE | LSR_TEMT | (s->fifo_count ? LSR_DR : 0);
		break;
	case REG_MSR:
		v = s->msr;
		s->msr &= (uint8_t)~MSR_DELTAS;
		break;
	case REG_SCR:
		v = s->scr;
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	memset(data, 0, len);
	data[0] = v;
	if (resume_input)
		console_input_ready(s->con);
}

static void transmit_locked(struct serial *s, uint8_t byte)
{
	if (s->mcr & MCR_LOOP) {
		fifo_push_locked(s, &byte, 1);
		return;
	}
	console_write(s->con, &byte, 1);
}

static void serial_write(void *opaque, uint64_t offset, const uint8_t *data,
			 uint32_t len)
{
	struct serial *s = opaque;
	bool resume_input = false;
	uint8_t v = data[0];

	(void)len;
	pthread_mutex_lock(&s->lock);
	switch (offset) {
	case REG_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			break;
		}
		/* THR empties at once: the THRE interrupt drops and rises
		 * again, giving edge-triggered inputs their edge. */
		s->thri_pending = false;
		update_irq(s);
		transmit_locked(s, v);
		s->thri_pending = true;
		break;
	case REG_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		if (!(s->ier & IER_THRI) && (v & IER_THRI))
			s->thri_pending = true;
		s->ier = v & 0x0f;
		break;
	case REG_IIR_FCR:
		s->fcr = v & (FCR_ENABLE_FIFO | 0xc0);
		if (v & FCR_CLEAR_RX) {
			/* Input paused on a full FIFO must resume: Linux
			 * clears the FIFO at boot, typed-ahead input would
			 * otherwise wedge the console for good. */
			resume_input = s->fifo_count != 0;
			s->fifo_count = 0;
		}
		break;
	case REG_LCR:
		s->lcr = v;
		break;
	case REG_MCR:
		/* Input waiting for the end of loop mode comes now. */
		resume_input = (s->mcr & MCR_LOOP) && !(v & MCR_LOOP);
		set_mcr(s, v);
		break;
	case REG_SCR:
		s->scr = v;
		break;
	default:
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	if (resume_input)
		console_input_ready(s->con);
}

const struct bus_ops serial_bus_ops = {
	.read = serial_read,
	.write = serial_write,
};

static size_t serial_room(void *opaque)
{
	struct serial *s = opaque;
	size_t room;

	pthread_mutex_lock(&s->lock);
	room = fifo_room_locked(s);
	pthread_mutex_unlock(&s->lock);
	return room;
}

static void serial_push(void *opaque, const uint8_t *buf, size_t len)
{
	struct serial *s = opaque;

	pthread_mutex_lock(&s->lock);
	if (!(s->mcr & MCR_LOOP))
		fifo_push_locked(s, buf, len);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

struct serial *serial_new(struct console *con, const struct irq_line *irq)
{
	struct serial *s = calloc(1, sizeof(*s));
	struct console_sink sink = {
		.room = serial_room, .push = serial_push, .opaque = s,
	};

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	s->con = con;
	s->irq = *irq;
	s->msr = modem_lines(s);
	s->dll = 12;  /* 9600 baud until the guest says otherwise */
	console_set_sink(con, &sink);
	/* Input paused on the previous boot's full FIFO resumes on this one. */
	console_input_ready(con);
	return s;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	console_set_sink(s->con, &(struct console_sink){ 0 });
	pthread_mutex_destroy(&s->lock);
	free(s);
}
