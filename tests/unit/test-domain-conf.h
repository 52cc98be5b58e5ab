/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared helpers of the domain configuration tests. */
#ifndef TEST_DOMAIN_CONF_H
#define TEST_DOMAIN_CONF_H

#include <glib.h>

#include "domain_conf.h"

#define VMM_PATH "/usr/bin/duvisor-vmm"

/* tests/unit/data/NAME, read whole. */
char *dc_fixture(const char *name);
/* Parses, failing the test with the error when it does not. */
struct duvisor_domain_def *dc_parse_ok(const char *xml);
/* Parsing fails with @code and a message containing @needle (if any). */
void dc_expect_error(const char *xml, int code, const char *needle);
/* Valid for xml-schemas/domain.rng (@why: the first complaint). */
bool dc_schema_valid(const char *xml, char **why);
/* Valid for libvirt's own schema @rng (in /usr/share/libvirt/schemas);
 * TRUE when libvirt's schemas are not installed. */
bool dc_libvirt_valid(const char *xml, const char *rng, char **why);

/* A small valid domain with @devices inside <devices> and @extra before
 * it, for the error tests. */
char *dc_domain(const char *extra, const char *devices);

void dc_register_errors(void);
void dc_register_vmm(void);
void dc_register_caps(void);

#endif
