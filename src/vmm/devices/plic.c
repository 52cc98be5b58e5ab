// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The PLIC model. Every register access is a guest MMIO exit, and the
 * guest is hostile: offsets are checked against the configured sources and
 * contexts, accesses other than aligned 32-bit ones read zero and write
 * nothing.
 */
#include "devices/plic.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WORD_BITS 32u
#define MAX_WORDS (PLIC_MAX_SOURCES / WORD_BITS)

struct plic_context {
	uint32_t enable[MAX_WORDS];
	uint32_t threshold;
	bool output;
};

struct plic {
	pthread_mutex_t lock;
	uint32_t nsources, ncontexts, nwords;
	struct plic_output out;
	uint8_t priority[PLIC_MAX_SOURCES];
	uint32_t input[MAX_WORDS];      /* level inputs as last set */
	uint32_t pending[MAX_WORDS];
	uint32_t in_service[MAX_WORDS]; /* claimed, not yet completed */
	uint32_t edge_held[MAX_WORDS];  /* edges that came while in service */
	struct plic_context *ctx;
};

static bool bit_get(const uint32_t *map, uint32_t n)
{
	return map[n / WORD_BITS] >> (n % WORD_BITS) & 1;
}

static void bit_set(uint32_t *map, uint32_t n, bool v)
{
	uint32_t mask = 1u << (n % WORD_BITS);

	if (v)
		map[n / WORD_BITS] |= mask;
	else
		map[n / WORD_BITS] &= ~mask;
}

struct plic *plic_new(uint32_t nsources, uint32_t ncontexts,
		      const struct plic_output *out)
{
	struct plic *p;

	if (nsources < 2 || nsources > PLIC_MAX_SOURCES ||
	    nsources % WORD_BITS || ncontexts == 0 ||
	    ncontexts > PLIC_MAX_CONTEXTS)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->ctx = calloc(ncontexts, sizeof(*p->ctx));
	if (!p->ctx) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->nsources = nsources;
	p->ncontexts = ncontexts;
	p->nwords = nsources / WORD_BITS;
	p->out = *out;
	return p;
}

void plic_free(struct plic *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->ctx);
	free(p);
}

/* The best source context c may claim: highest priority, then lowest id,
 * above the threshold; 0 if none. */
static uint32_t best_source(const struct plic *p, uint32_t c)
{
	const struct plic_context *ctx = &p->ctx[c];
	uint32_t best = 0, best_prio = ctx->threshold;

	for (uint32_t w = 0; w < p->nwords; w++) {
		uint32_t bits = p->pending[w] & ctx->enable[w];

		while (bits) {
			uint32_t src = w * WORD_BITS + (uint32_t)__builtin_ctz(bits);

			bits &= bits - 1;
			if (src && p->priority[src] > best_prio) {
				best = src;
				best_prio = p->priority[src];
			}
		}
	}
	return best;
}

/* Drives each context's line from the current state. Lock held. */
static void update(struct plic *p)
{
	for (uint32_t c = 0; c < p->ncontexts; c++) {
		bool level = best_source(p, c) != 0;

		if (level != p->ctx[c].output) {
			p->ctx[c].output = level;
			p->out.set(p->out.opaque, c, level);
		}
	}
}

void plic_set_level(struct plic *p, uint32_t src, bool level)
{
	if (src == 0 || src >= p->nsources)
		return;
	pthread_mutex_lock(&p->lock);
	bit_set(p->input, src, level);
	/* The gateway holds a source in service back until completion. */
	if (!bit_get(p->in_service, src))
		bit_set(p->pending, src, level);
	update(p);
	pthread_mutex_unlock(&p->lock);
}

void plic_pulse(struct plic *p, uint32_t src)
{
	if (src == 0 || src >= p->nsources)
		return;
	pthread_mutex_lock(&p->lock);
	if (bit_get(p->in_service, src))
		bit_set(p->edge_held, src, true);
	else
		bit_set(p->pending, src, true);
	update(p);
	pthread_mutex_unlock(&p->lock);
}

static uint32_t claim(struct plic *p, uint32_t c)
{
	uint32_t src = best_source(p, c);

	if (src) {
		bit_set(p->pending, src, false);
		bit_set(p->in_service, src, true);
		update(p);
	}
	return src;
}

static void complete(struct plic *p, uint32_t src)
{
	if (src == 0 || src >= p->nsources || !bit_get(p->in_service, src))
		return;
	bit_set(p->in_service, src, false);
	if (bit_get(p->input, src) || bit_get(p->edge_held, src)) {
		bit_set(p->edge_held, src, false);
		bit_set(p->pending, src, true);
	}
	update(p);
}

/* Reads the register at offset; 0 for holes. Lock held. */
static uint32_t reg_read(struct plic *p, uint64_t off)
{
	if (off < PLIC_PENDING_BASE) {
		uint64_t src = off / 4;

		return src < p->nsources ? p->priority[src] : 0;
	}
	if (off < PLIC_ENABLE_BASE) {
		uint64_t w = (off - PLIC_PENDING_BASE) / 4;

		return w < p->nwords ? p->pending[w] : 0;
	}
	if (off < PLIC_CONTEXT_BASE) {
		uint64_t c = (off - PLIC_ENABLE_BASE) / PLIC_ENABLE_STRIDE;
		uint64_t w = (off - PLIC_ENABLE_BASE) % PLIC_ENABLE_STRIDE / 4;

		return c < p->ncontexts && w < p->nwords ?
		       p->ctx[c].enable[w] : 0;
	} else {
		uint64_t c = (off - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE;
		uint64_t reg = (off - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE;

		if (c >= p->ncontexts)
			return 0;
		if (reg == 0)
			return p->ctx[c].threshold;
		if (reg == PLIC_CONTEXT_CLAIM)
			return claim(p, (uint32_t)c);
		return 0;
	}
}

static void reg_write(struct plic *p, uint64_t off, uint32_t v)
{
	if (off < PLIC_PENDING_BASE) {
		uint64_t src = off / 4;

		if (src && src < p->nsources) {
			p->priority[src] = (uint8_t)(v & PLIC_PRIORITY_MASK);
			update(p);
		}
		return;
	}
	if (off < PLIC_ENABLE_BASE)
		return;      /* pending bits are read-only */
	if (off < PLIC_CONTEXT_BASE) {
		uint64_t c = (off - PLIC_ENABLE_BASE) / PLIC_ENABLE_STRIDE;
		uint64_t w = (off - PLIC_ENABLE_BASE) % PLIC_ENABLE_STRIDE / 4;

		if (c < p->ncontexts && w < p->nwords) {
			/* Source 0 does not exist: its enable bit is 0. */
			p->ctx[c].enable[w] = w ? v : v & ~1u;
			update(p);
		}
	} else {
		uint64_t c = (off - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE;
		uint64_t reg = (off - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE;

		if (c >= p->ncontexts)
			return;
		if (reg == 0) {
			p->ctx[c].threshold = v & PLIC_PRIORITY_MASK;
			update(p);
		} else if (reg == PLIC_CONTEXT_CLAIM) {
			complete(p, v);
		}
	}
}

static void plic_read(void *opaque, uint64_t offset, uint8_t *data,
		      uint32_t len)
{
	struct plic *p = opaque;
	uint32_t v = 0;

	if (len == 4 && offset % 4 == 0) {
		pthread_mutex_lock(&p->lock);
		v = reg_read(p, offset);
		pthread_mutex_unlock(&p->lock);
	}
	bus_data_put(data, len, v);
}

static void plic_write(void *opaque, uint64_t offset, const uint8_t *data,
		       uint32_t len)
{
	struct plic *p = opaque;

	if (len != 4 || offset % 4)
		return;
	pthread_mutex_lock(&p->lock);
	reg_write(p, offset, (uint32_t)bus_data_get(data, len));
	pthread_mutex_unlock(&p->lock);
}

const struct bus_ops plic_bus_ops = {
	.read = plic_read,
	.write = plic_write,
};
