/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small AML byte-code encoder, just enough for the DSDT of the x86 machine.
 *
 * Output goes into caller-provided storage: the DSDT is encoded straight into
 * the guest's table area, so running out of room there is the only size limit
 * and maps directly to -ENOSPC. The first error is sticky and every later call
 * is a no-op, so callers emit a whole table and check aml_error() once.
 *
 * Encoding is prefix order, as in the AML grammar. Objects that carry a
 * PkgLength (Scope, Device, Method, If, Package, Field, Buffer) are opened
 * with a *_begin() call that returns a mark and closed with aml_end() (or
 * aml_buffer_end()), which inserts the PkgLength once the body size is known.
 */
#ifndef DUVISOR_X86_AML_H
#define DUVISOR_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opcodes the callers combine in prefix order themselves. */
#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NULL_NAME		0x00
#define AML_LOCAL0_OP		0x60
#define AML_ARG0_OP		0x68
#define AML_STORE_OP		0x70
#define AML_AND_OP		0x7b
#define AML_NOTIFY_OP		0x86
#define AML_LEQUAL_OP		0x93
#define AML_RETURN_OP		0xa4

/* OperationRegion space ids. */
#define AML_SPACE_SYSTEM_MEMORY	0x00
#define AML_SPACE_SYSTEM_IO	0x01

/* FieldFlags: access type | lock rule | update rule. */
#define AML_FIELD_ANY_ACC	0x00
#define AML_FIELD_BYTE_ACC	0x01
#define AML_FIELD_WORD_ACC	0x02
#define AML_FIELD_DWORD_ACC	0x03
#define AML_FIELD_LOCK		0x10
#define AML_FIELD_PRESERVE	0x00
#define AML_FIELD_WRITE_ONES	0x20
#define AML_FIELD_WRITE_ZEROS	0x40

/* Extended Interrupt descriptor flags (ACPI 6.3, 6.4.3.6). */
#define AML_IRQ_CONSUMER	0x01
#define AML_IRQ_EDGE		0x02
#define AML_IRQ_ACTIVE_LOW	0x04
#define AML_IRQ_SHARED		0x08
#define AML_IRQ_WAKE		0x10

/* The largest value a 4-byte PkgLength can hold. */
#define AML_PKGLENGTH_MAX	0x0fffffffu

struct aml_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err;
};

void aml_init(struct aml_buf *b, uint8_t *data, size_t cap);
/* 0, or the first error: -ENOSPC (out of room) or -EINVAL (bad argument). */
int aml_error(const struct aml_buf *b);

void aml_byte(struct aml_buf *b, uint8_t v);
void aml_bytes(struct aml_buf *b, const void *p, size_t n);

/*
 * Encode value (<= AML_PKGLENGTH_MAX) in the 1-4 byte PkgLength format.
 * Returns the number of bytes, 0 if the value does not fit.
 */
size_t aml_pkglength_encode(uint8_t out[4], uint32_t value);
/*
 * Encode the PkgLength of an object whose body (the bytes after the
 * PkgLength) is body_len long: the value includes the encoding itself.
 * Returns the number of bytes, 0 if too large.
 */
size_t aml_pkglength_for_body(uint8_t out[4], size_t body_len);

/* NameString: "\\" and "^" prefixes, dotted segments, each padded to 4. */
void aml_name_string(struct aml_buf *b, const char *path);
/* Shortest encoding: Zero, One, Byte, Word, DWord or QWord constant. */
void aml_integer(struct aml_buf *b, uint64_t v);
void aml_dword(struct aml_buf *b, uint32_t v);
void aml_string(struct aml_buf *b, const char *s);
/* Compressed EISA id, e.g. "PNP0501"; 0 if the id is malformed. */
uint32_t aml_eisaid_value(const char *id);
void aml_eisaid(struct aml_buf *b, const char *id);
void aml_local(struct aml_buf *b, unsigned int n);
void aml_arg(struct aml_buf *b, unsigned int n);

/* Name (path, <data object the caller emits next>) */
void aml_name(struct aml_buf *b, const char *path);
void aml_operation_region(struct aml_buf *b, const char *name, uint8_t space,
			  uint64_t offset, uint64_t len);
void aml_notify(struct aml_buf *b, const char *path, uint64_t value);

/* Blocks; each returns a mark for aml_end(). */
size_t aml_scope_begin(struct aml_buf *b, const char *path);
size_t aml_device_begin(struct aml_buf *b, const char *path);
size_t aml_method_begin(struct aml_buf *b, const char *path,
			unsigned int nargs, bool serialized);
/* The caller emits the predicate, then the body. */
size_t aml_if_begin(struct aml_buf *b);
size_t aml_package_begin(struct aml_buf *b, uint8_t nelems);
size_t aml_field_begin(struct aml_buf *b, const char *region, uint8_t flags);
void aml_field_unit(struct aml_buf *b, const char *name, uint32_t bits);
void aml_end(struct aml_buf *b, size_t mark);

/* Buffer (<size>) { bytes }: the size is filled in by aml_buffer_end(). */
size_t aml_buffer_begin(struct aml_buf *b);
void aml_buffer_end(struct aml_buf *b, size_t mark);

/* ResourceTemplate () { ... }: a Buffer ending with a checksummed EndTag. */
size_t aml_restemplate_begin(struct aml_buf *b);
void aml_restemplate_end(struct aml_buf *b, size_t mark);
void aml_res_io(struct aml_buf *b, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len);
/* IRQ (Edge, ActiveHigh, Exclusive) {irq}, for ISA irq < 16. */
void aml_res_irq(struct aml_buf *b, uint8_t irq);
void aml_res_ext_irq(struct aml_buf *b, uint8_t flags, uint32_t gsi);
void aml_res_memory32_fixed(struct aml_buf *b, bool writable, uint32_t base,
			    uint32_t len);

#endif
