// SPDX-License-Identifier: GPL-2.0-or-later
/* Domain XML reading: safe document loading and small DOM helpers. */
#include <string.h>

#include <libxml/parser.h>

#include "domain_conf_priv.h"

#if LIBXML_VERSION >= 21200
typedef const xmlError *dv_xml_error_ptr;
#else
typedef xmlErrorPtr dv_xml_error_ptr;
#endif

/* ---- helpers ---- */

bool dv_is(xmlNode *node, const char *name)
{
	return node->ns == NULL && strcmp((const char *)node->name, name) == 0;
}

char *dv_prop(xmlNode *node, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
	char *ret = v ? g_strdup((const char *)v) : NULL;

	xmlFree(v);
	return ret;
}

char *dv_text(xmlNode *node)
{
	xmlChar *v = xmlNodeGetContent(node);
	char *ret = g_strstrip(g_strdup(v ? (const char *)v : ""));

	xmlFree(v);
	return ret;
}

static bool in_list(const char *const *list, const xmlChar *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], (const char *)name) == 0)
			return true;
	return false;
}

static char *qname(xmlNode *node)
{
	if (node->ns && node->ns->prefix)
		return g_strdup_printf("%s:%s", node->ns->prefix, node->name);
	return g_strdup((const char *)node->name);
}

/* <address> and <alias> on devices are dropped (see
 * domain_conf_devices.c), but still have to be well-formed: an address
 * has attributes only, an alias a name only. */
static bool check_common(xmlNode *c, GError **error)
{
	bool addr = dv_is(c, "address");

	if (!addr && !dv_is(c, "alias"))
		return true;
	for (xmlAttr *a = c->properties; a; a = a->next)
		if (a->ns || (!addr && strcmp((const char *)a->name,
					      "name") != 0))
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "unsupported attribute '%s' on <%s>",
				       a->name, c->name);
	for (xmlNode *g = c->children; g; g = g->next)
		if (g->type != XML_COMMENT_NODE)
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "unexpected content in <%s>", c->name);
	return true;
}

bool dv_check_node(xmlNode *node, const char *where, const char *const *attrs,
		   const char *const *children, bool text, GError **error)
{
	for (xmlAttr *a = node->properties; a; a = a->next)
		if (a->ns || !in_list(attrs, a->name))
			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "unsupported attribute '%s%s%s' on %s",
				       a->ns && a->ns->prefix ?
				       (const char *)a->ns->prefix : "",
				       a->ns && a->ns->prefix ? ":" : "",
				       a->name, where);
	for (xmlNode *c = node->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE &&
		    (c->ns || !in_list(children, c->name))) {
			g_autofree char *n = qname(c);

			return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
				       "unsupported element <%s> in %s",
				       n, where);
		}
		if ((c->type == XML_TEXT_NODE ||
		     c->type == XML_CDATA_SECTION_NODE) && !text) {
			for (const xmlChar *p = c->content; p && *p; p++)
				if (!g_ascii_isspace(*p))
					return dv_fail(error, VIR_ERR_XML_ERROR,
						       "unexpected text in %s",
						       where);
		}
		if (c->type == XML_ELEMENT_NODE && !check_common(c, error))
			return false;
	}
	return true;
}

bool dv_check_once(xmlNode *node, const char *where,
		   const char *const *repeatable, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash,
						      g_str_equal);

	DV_FOR_EACH_ELEMENT(c, node) {
		const char *name = (const char *)c->name;

		if (dv_is(c, "address") || dv_is(c, "alias") ||
		    in_list(repeatable, c->name))
			continue;
		if (!g_hash_table_add(seen, (gpointer)name))
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "element <%s> appears twice in %s",
				       name, where);
	}
	return true;
}

bool dv_need_prop(xmlNode *node, const char *name, const char *where,
		  char **out, GError **error)
{
	*out = dv_prop(node, name);
	if (!*out || !**out)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "missing attribute '%s' on %s", name, where);
	return true;
}

bool dv_prop_enum(xmlNode *node, const char *name, const char *where,
		  const char *const *table, bool required, int *out,
		  GError **error)
{
	g_autofree char *v = dv_prop(node, name);

	*out = -1;
	if (!v) {
		if (required)
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "missing attribute '%s' on %s",
				       name, where);
		return true;
	}
	*out = dv_enum_lookup(table, v);
	if (*out < 0)
		return dv_fail(error, VIR_ERR_CONFIG_UNSUPPORTED,
			       "unsupported value '%s' for attribute '%s' "
			       "on %s", v, name, where);
	return true;
}

bool dv_parse_u64(const char *str, uint64_t *out)
{
	uint64_t v = 0;

	if (!str || !*str)
		return false;
	for (const char *p = str; *p; p++) {
		if (!g_ascii_isdigit(*p) ||
		    __builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return false;
	}
	*out = v;
	return true;
}

bool dv_prop_uint(xmlNode *node, const char *name, const char *where,
		  uint64_t min, uint64_t max, unsigned *out, GError **error)
{
	g_autofree char *v = dv_prop(node, name);
	uint64_t n;

	if (!v)
		return true;
	if (!dv_parse_u64(v, &n) || n < min || n > max)
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "invalid value '%.40s' for attribute '%s' on %s "
			       "(%" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
			       ")", v, name, where, min, max);
	*out = (unsigned)n;
	return true;
}

bool dv_prop_tristate(xmlNode *node, const char *name, const char *where,
		      bool yesno, enum duvisor_tristate *out, GError **error)
{
	int v;

	if (!dv_prop_enum(node, name, where,
			  yesno ? dv_yesno_names : dv_onoff_names, false, &v,
			  error))
		return false;
	*out = v < 0 ? DUVISOR_UNSET : (enum duvisor_tristate)v;
	return true;
}

bool dv_check_string(const char *value, const char *what, bool abs,
		     GError **error)
{
	if (!value || !*value)
		return dv_fail(error, VIR_ERR_XML_ERROR, "empty %s", what);
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return dv_fail(error, VIR_ERR_XML_ERROR,
				       "%s contains a control character", what);
	if (abs && value[0] != '/')
		return dv_fail(error, VIR_ERR_XML_ERROR,
			       "%s '%.200s' is not an absolute path", what,
			       value);
	return true;
}

bool dv_string_prop(xmlNode *n, const char *name, const char *where,
		    bool required, bool abs, char **out, GError **error)
{
	g_autofree char *what = g_strdup_printf("attribute '%s' on %s", name,
						where);

	*out = dv_prop(n, name);
	if (!*out)
		return !required || dv_fail(error, VIR_ERR_XML_ERROR,
					    "missing %s", what);
	return dv_check_string(*out, what, abs, error);
}

char *dv_raw_xml(xmlNode *node)
{
	/* A copy in its own document carries the namespace declarations it
	 * inherited from ancestors, so the text stands alone. */
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *copy = xmlDocCopyNode(node, doc, 1);
	xmlBuffer *buf = xmlBufferCreate();
	char *ret = NULL;

	if (copy && buf) {
		xmlDocSetRootElement(doc, copy);
		if (xmlNodeDump(buf, doc, copy, 0, 0) >= 0)
			ret = g_strdup((const char *)xmlBufferContent(buf));
	}
	if (buf)
		xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return ret;
}

/* ---- safe document loading ---- */

struct load_state {
	char *message;
	bool dtd;
};

static void on_xml_error(void *data, dv_xml_error_ptr err)
{
	xmlParserCtxt *ctxt = data;
	struct load_state *st = ctxt->_private;

	if (st->message || !err || err->level < XML_ERR_ERROR)
		return;
	st->message = g_strdup_printf("line %d: %s", err->line,
				      err->message ? err->message : "?");
	g_strchomp(st->message);
}

/* Any DOCTYPE is refused before its declarations are read: no entity can
 * be defined, so neither expansion bombs nor external entities exist. */
static void on_internal_subset(void *data, const xmlChar *name,
			       const xmlChar *external_id,
			       const xmlChar *system_id)
{
	xmlParserCtxt *ctxt = data;
	struct load_state *st = ctxt->_private;

	st->dtd = true;
	xmlStopParser(ctxt);
}

xmlDoc *dv_load_document(const char *xml, GError **error)
{
	struct load_state st = { 0 };
	xmlParserCtxt *ctxt;
	xmlDoc *doc;
	size_t len = strlen(xml);

	if (len > DUVISOR_DOMAIN_XML_MAX) {
		dv_fail(error, VIR_ERR_XML_ERROR,
			"domain XML too large (%zu bytes, at most %u)", len,
			DUVISOR_DOMAIN_XML_MAX);
		return NULL;
	}
	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		dv_fail(error, VIR_ERR_XML_ERROR, "out of memory");
		return NULL;
	}
	ctxt->_private = &st;
	ctxt->sax->serror = on_xml_error;
	ctxt->sax->internalSubset = on_internal_subset;
	/* No XML_PARSE_NOENT (no substitution), no DTD loading, no network,
	 * no XML_PARSE_HUGE (libxml2 keeps its depth and size limits). */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "domain.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
				XML_PARSE_NOWARNING);
	if (st.dtd) {
		dv_fail(error, VIR_ERR_XML_ERROR,
			"malformed domain XML: document type declarations "
			"(<!DOCTYPE>) are not allowed");
	} else if (!doc || !ctxt->wellFormed || st.message) {
		dv_fail(error, VIR_ERR_XML_ERROR, "malformed domain XML: %s",
			st.message ? st.message : "not well-formed");
	} else {
		g_free(st.message);
		xmlFreeParserCtxt(ctxt);
		return doc;
	}
	g_free(st.message);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return NULL;
}
