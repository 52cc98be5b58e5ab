/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals shared by the domain_conf*.c files; not for the daemon. */
#ifndef DUVISOR_DOMAIN_CONF_PRIV_H
#define DUVISOR_DOMAIN_CONF_PRIV_H

#include <libxml/tree.h>

#include "domain_conf.h"

/* Word tables, indexed by the matching enum; NULL-terminated. */
extern const char *const dv_action_names[];
extern const char *const dv_cpu_mode_names[];
extern const char *const dv_disk_type_names[];
extern const char *const dv_disk_device_names[];
extern const char *const dv_disk_format_names[];
extern const char *const dv_disk_bus_names[];
extern const char *const dv_net_type_names[];
extern const char *const dv_chr_type_names[];
extern const char *const dv_onoff_names[];   /* [ON] "on", [OFF] "off" */
extern const char *const dv_yesno_names[];   /* [ON] "yes", [OFF] "no" */

int dv_enum_lookup(const char *const *table, const char *word);

struct duvisor_domain_def *dv_def_new(void);
void dv_disk_free(void *p);
void dv_net_free(void *p);
void dv_chr_free(void *p);
void dv_rng_free(void *p);
void dv_graphics_free(struct duvisor_graphics_def *g);

/* --- XML reading helpers (domain_conf_xml.c) --- */

/* Well-formed, DTD-free, size-limited; VIR_ERR_XML_ERROR otherwise. */
xmlDoc *dv_load_document(const char *xml, GError **error);

#define DV_FOR_EACH_ELEMENT(child, node) \
	for (xmlNode *child = (node)->children; child; child = child->next) \
		if (child->type == XML_ELEMENT_NODE)

/* Attribute or trimmed text content, g_malloc'ed; NULL when absent. */
char *dv_prop(xmlNode *node, const char *name);
char *dv_text(xmlNode *node);
bool dv_is(xmlNode *node, const char *name);

/*
 * @node has only attributes from @attrs (NULL-terminated, may be NULL) and
 * only child elements from @children (NULL: none allowed; text other than
 * white space only when @text). @where names the element in messages.
 * <address> and <alias> children must be empty, an alias has only 'name'.
 */
bool dv_check_node(xmlNode *node, const char *where, const char *const *attrs,
		   const char *const *children, bool text, GError **error);
/* Each child element at most once, except those in @repeatable (may be
 * NULL) and <address>/<alias>. */
bool dv_check_once(xmlNode *node, const char *where,
		   const char *const *repeatable, GError **error);
/* A required attribute or text content. */
bool dv_need_prop(xmlNode *node, const char *name, const char *where,
		  char **out, GError **error);
/* Attribute as an enum index from @table; -1 when absent and !required. */
bool dv_prop_enum(xmlNode *node, const char *name, const char *where,
		  const char *const *table, bool required, int *out,
		  GError **error);
/* Unsigned decimal attribute in [min, max]; @out untouched when absent. */
bool dv_prop_uint(xmlNode *node, const char *name, const char *where,
		  uint64_t min, uint64_t max, unsigned *out, GError **error);
/* on/off (or yes/no with @yesno) attribute. */
bool dv_prop_tristate(xmlNode *node, const char *name, const char *where,
		      bool yesno, enum duvisor_tristate *out, GError **error);
/* Strict decimal; false on junk, sign or overflow. */
bool dv_parse_u64(const char *str, uint64_t *out);
/* A path or name: non-empty, no control characters; absolute if @abs. */
bool dv_check_string(const char *value, const char *what, bool abs,
		     GError **error);
/* A required-when-asked, non-empty, control-free attribute (*out
 * g_malloc'ed, NULL when absent). */
bool dv_string_prop(xmlNode *n, const char *name, const char *where,
		    bool required, bool abs, char **out, GError **error);
/* The subtree serialised as it was written (namespaces made local). */
char *dv_raw_xml(xmlNode *node);

/* --- devices (domain_conf_devices.c, domain_conf_misc.c) --- */
bool dv_parse_devices(struct duvisor_domain_def *def, xmlNode *devices,
		      GError **error);
/* <interface> (domain_conf_net.c). */
bool dv_parse_interface(struct duvisor_domain_def *def, xmlNode *n,
			GError **error);
bool dv_parse_rng(struct duvisor_domain_def *def, xmlNode *n, GError **error);
bool dv_parse_memballoon(struct duvisor_domain_def *def, xmlNode *n,
			 GError **error);
bool dv_parse_vsock(struct duvisor_domain_def *def, xmlNode *n,
		    GError **error);
bool dv_parse_graphics(struct duvisor_domain_def *def, xmlNode *n,
		       GError **error);
/* <controller>, <input>, <video>, <channel>: checked, kept verbatim. */
bool dv_parse_raw_device(struct duvisor_domain_def *def, xmlNode *n,
			 GError **error);
/* Limits, boot orders, disk targets, serial ports, console pairing. */
bool dv_devices_check(struct duvisor_domain_def *def, GError **error);

#endif
