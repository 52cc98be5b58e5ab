// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain procedures that change things: define, undefine, start, stop,
 * pause, reset, autostart, consoles (see domain_procs.h).
 */
#include <libvirt/libvirt.h>
#include <string.h>

#include "console.h"
#include "daemon_log.h"
#include "domain_lifecycle.h"
#include "domain_procs.h"
#include "domain_store.h"

/* ---- shared helpers --------------------------------------------------- */

struct dv_domain *dv_procs_get_domain(const dv_nonnull_domain *d,
				      struct rpc_error *err)
{
	struct dv_domain *dom =
		dv_domain_find_by_uuid((const uint8_t *)d->uuid);
	char uuid[37];

	if (dom)
		return dom;
	duvisor_uuid_format((const uint8_t *)d->uuid, uuid);
	rpc_error_set(err, VIR_ERR_NO_DOMAIN,
		      "no domain with matching uuid '%s' (%s)", uuid,
		      d->name ? d->name : "");
	return NULL;
}

void dv_procs_fill_domain(dv_nonnull_domain *out, const struct dv_domain *dom)
{
	out->name = g_strdup(dv_domain_name(dom));
	memcpy(out->uuid, dv_domain_uuid(dom), DV_UUID_LEN);
	out->id = dv_domain_is_active(dom) ? dom->id : -1;
}

void dv_procs_set_error(struct rpc_error *err, const GError *gerr)
{
	int code = VIR_ERR_OPERATION_FAILED;

	if ((gerr->domain == DV_DRIVER_ERROR ||
	     gerr->domain == DUVISOR_CONF_ERROR) && gerr->code > VIR_ERR_OK)
		code = gerr->code;
	rpc_error_set(err, code, "%s", gerr->message);
}

static int fail_gerror(struct rpc_error *err, const GError *gerr)
{
	dv_procs_set_error(err, gerr);
	return RPC_HANDLER_ERROR;
}

/* ---- define and undefine ---------------------------------------------- */

/* Name and UUID of @def may be used: by nothing, or by one domain that
 * has both.  Returns that domain (or NULL), with *ok. */
static struct dv_domain *check_identity(const struct duvisor_domain_def *def,
					bool *ok, struct rpc_error *err)
{
	struct dv_domain *by_uuid = dv_domain_find_by_uuid(def->uuid);
	struct dv_domain *by_name = dv_domain_find_by_name(def->name);
	char uuid[37];

	*ok = false;
	if (by_uuid && strcmp(dv_domain_name(by_uuid), def->name) != 0) {
		duvisor_uuid_format(def->uuid, uuid);
		rpc_error_set(err, VIR_ERR_OPERATION_FAILED,
			      "domain '%s' is already defined with uuid %s",
			      dv_domain_name(by_uuid), uuid);
		return NULL;
	}
	if (!by_uuid && by_name) {
		duvisor_uuid_format(dv_domain_uuid(by_name), uuid);
		rpc_error_set(err, VIR_ERR_OPERATION_FAILED,
			      "domain '%s' already exists with uuid %s",
			      def->name, uuid);
		return NULL;
	}
	*ok = true;
	return by_uuid;
}

static int define_xml(const char *xml, unsigned int flags,
		      dv_domain_ret *r, struct rpc_error *err)
{
	g_autoptr(GError) gerr = NULL;
	g_autoptr(duvisor_domain_def) def = NULL;
	struct dv_domain *dom;
	bool ok, was_persistent;

	const unsigned int known = VIR_DOMAIN_DEFINE_VALIDATE;

	if (flags & ~known) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", flags & ~known);
		return RPC_HANDLER_ERROR;
	}
	/* The parser always validates strictly. */
	def = duvisor_domain_def_parse(xml, 0, &gerr);
	if (!def)
		return fail_gerror(err, gerr);
	dom = check_identity(def, &ok, err);
	if (!ok)
		return RPC_HANDLER_ERROR;
	if (!dv_store_save(def, &gerr))
		return fail_gerror(err, gerr);
	if (!dom) {
		dom = dv_domain_add(g_steal_pointer(&def), true);
		DV_INFO("domain '%s' defined", dv_domain_name(dom));
		dv_domain_event(dom, VIR_DOMAIN_EVENT_DEFINED,
				VIR_DOMAIN_EVENT_DEFINED_ADDED);
		dv_procs_fill_domain(&r->dom, dom);
		return RPC_HANDLER_OK;
	}
	was_persistent = dv_domain_set_persistent_def(dom,
						      g_steal_pointer(&def));
	DV_INFO("domain '%s' %s", dv_domain_name(dom),
		was_persistent ? "redefined" : "made persistent");
	dv_domain_event(dom, VIR_DOMAIN_EVENT_DEFINED,
			was_persistent ? VIR_DOMAIN_EVENT_DEFINED_UPDATED
				       : VIR_DOMAIN_EVENT_DEFINED_ADDED);
	dv_procs_fill_domain(&r->dom, dom);
	return RPC_HANDLER_OK;
}

static int domain_define_xml(struct rpc_call *call, void *args, void *ret,
			     struct rpc_error *err)
{
	dv_domain_define_xml_args *a = args;

	return define_xml(a->xml, 0, ret, err);
}

static int domain_define_xml_flags(struct rpc_call *call, void *args,
				   void *ret, struct rpc_error *err)
{
	dv_domain_define_xml_flags_args *a = args;

	return define_xml(a->xml, a->flags, ret, err);
}

static int undefine(const dv_nonnull_domain *d, unsigned int flags,
		    struct rpc_error *err)
{
	/* Nothing of these exists for DuVisor domains: nothing to keep or
	 * remove (nova passes some of them). */
	const unsigned int known = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
				   VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
				   VIR_DOMAIN_UNDEFINE_NVRAM |
				   VIR_DOMAIN_UNDEFINE_KEEP_NVRAM |
				   VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA |
				   VIR_DOMAIN_UNDEFINE_TPM |
				   VIR_DOMAIN_UNDEFINE_KEEP_TPM;
	g_autoptr(GError) gerr = NULL;
	struct dv_domain *dom;

	if (flags & ~known) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", flags & ~known);
		return RPC_HANDLER_ERROR;
	}
	dom = dv_procs_get_domain(d, err);
	if (!dom)
		return RPC_HANDLER_ERROR;
	if (!dom->persistent) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "cannot undefine transient domain '%s'",
			      dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	if (!dv_store_delete(dv_domain_name(dom), &gerr))
		return fail_gerror(err, gerr);
	DV_INFO("domain '%s' undefined", dv_domain_name(dom));
	dom->autostart = false;
	dv_domain_event(dom, VIR_DOMAIN_EVENT_UNDEFINED,
			VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
	if (dv_domain_is_active(dom)) {
		/* It runs on as a transient domain. */
		dom->persistent = false;
		g_clear_pointer(&dom->newdef, duvisor_domain_def_free);
	} else {
		dv_domain_remove(dom);
	}
	return RPC_HANDLER_OK;
}

static int domain_undefine(struct rpc_call *call, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_domain_only_args *a = args;

	return undefine(&a->dom, 0, err);
}

static int domain_undefine_flags(struct rpc_call *call, void *args,
				 void *ret, struct rpc_error *err)
{
	dv_domain_flags_args *a = args;

	return undefine(&a->dom, a->flags, err);
}

/* ---- start -------------------------------------------------------------- */

/* A deferred start (or reset) call finishes. */
static void start_done(struct dv_domain *dom, const GError *error,
		       void *opaque)
{
	struct rpc_call *call = opaque;
	struct rpc_error err = { 0 };

	if (error) {
		dv_procs_set_error(&err, error);
		rpc_call_reply_error(call, &err);
		return;
	}
	switch (rpc_call_proc(call)) {
	case DV_PROC_DOMAIN_CREATE_XML:
	case DV_PROC_DOMAIN_CREATE_WITH_FLAGS:
		dv_procs_fill_domain(
			&((dv_domain_ret *)rpc_call_ret(call))->dom, dom);
		break;
	default:
		break;
	}
	rpc_call_reply(call);
}

static int start(struct rpc_call *call, const dv_nonnull_domain *d,
		 unsigned int flags, struct rpc_error *err)
{
	g_autoptr(GError) gerr = NULL;
	struct dv_domain *dom = dv_procs_get_domain(d, err);

	if (!dom)
		return RPC_HANDLER_ERROR;
	if (!dv_domain_start(dom, flags, rpc_client_id(rpc_call_client(call)),
			     start_done, call, &gerr))
		return fail_gerror(err, gerr);
	return RPC_HANDLER_DEFER;
}

static int domain_create(struct rpc_call *call, void *args, void *ret,
			 struct rpc_error *err)
{
	dv_domain_only_args *a = args;

	return start(call, &a->dom, 0, err);
}

static int domain_create_with_flags(struct rpc_call *call, void *args,
				    void *ret, struct rpc_error *err)
{
	dv_domain_flags_args *a = args;

	return start(call, &a->dom, a->flags, err);
}

static int domain_create_xml(struct rpc_call *call, void *args, void *ret,
			     struct rpc_error *err)
{
	dv_domain_create_xml_args *a = args;
	g_autoptr(GError) gerr = NULL;
	g_autoptr(duvisor_domain_def) def = NULL;
	struct dv_domain *dom;
	bool ok, created = false;

	def = duvisor_domain_def_parse(a->xml_desc, 0, &gerr);
	if (!def)
		return fail_gerror(err, gerr);
	dom = check_identity(def, &ok, err);
	if (!ok)
		return RPC_HANDLER_ERROR;
	if (dom && dv_domain_is_active(dom)) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "domain '%s' is already running",
			      dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	if (!dom) {
		dom = dv_domain_add(g_steal_pointer(&def), false);
		created = true;
	} else {
		/* A defined domain runs once with this definition; its
		 * configuration applies again when it stops. */
		dom->newdef = dom->def;
		dom->def = g_steal_pointer(&def);
	}
	if (dv_domain_start(dom, a->flags,
			    rpc_client_id(rpc_call_client(call)), start_done,
			    call, &gerr))
		return RPC_HANDLER_DEFER;
	if (created) {
		dv_domain_remove(dom);
	} else {
		duvisor_domain_def_free(dom->def);
		dom->def = g_steal_pointer(&dom->newdef);
	}
	return fail_gerror(err, gerr);
}

/* ---- stop, pause, reset --------------------------------------------- */

static void void_done(struct dv_domain *dom, const GError *error,
		      void *opaque)
{
	struct rpc_call *call = opaque;
	struct rpc_error err = { 0 };

	if (!error) {
		rpc_call_reply(call);
		return;
	}
	dv_procs_set_error(&err, error);
	rpc_call_reply_error(call, &err);
}

static int destroy(struct rpc_call *call, const dv_nonnull_domain *d,
		   unsigned int flags, struct rpc_error *err)
{
	g_autoptr(GError) gerr = NULL;
	struct dv_domain *dom = dv_procs_get_domain(d, err);

	if (!dom)
		return RPC_HANDLER_ERROR;
	if (!dv_domain_destroy(dom, flags, void_done, call, &gerr))
		return fail_gerror(err, gerr);
	return RPC_HANDLER_DEFER;
}

static int domain_destroy(struct rpc_call *call, void *args, void *ret,
			  struct rpc_error *err)
{
	dv_domain_only_args *a = args;

	return destroy(call, &a->dom, 0, err);
}

static int domain_destroy_flags(struct rpc_call *call, void *args,
				void *ret, struct rpc_error *err)
{
	dv_domain_flags_args *a = args;

	return destroy(call, &a->dom, a->flags, err);
}

/* Shutdown and reboot modes: only the ACPI power button exists. */
static bool check_power_flags(unsigned int flags, const char *what,
			      struct rpc_error *err)
{
	const unsigned int known = VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN |
				   VIR_DOMAIN_SHUTDOWN_GUEST_AGENT |
				   VIR_DOMAIN_SHUTDOWN_INITCTL |
				   VIR_DOMAIN_SHUTDOWN_SIGNAL |
				   VIR_DOMAIN_SHUTDOWN_PARAVIRT;

	if (flags & ~known) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", flags & ~known);
		return false;
	}
	if (flags && !(flags & VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)) {
		rpc_error_set(err, VIR_ERR_NO_SUPPORT,
			      "%s mode (0x%x) is not supported: DuVisor "
			      "domains only have the ACPI power button "
			      "(mode acpi)", what, flags);
		return false;
	}
	return true;
}

typedef bool (*domain_op_fn)(struct dv_domain *dom, GError **error);

static int simple_op(const dv_nonnull_domain *d, domain_op_fn op,
		     struct rpc_error *err)
{
	g_autoptr(GError) gerr = NULL;
	struct dv_domain *dom = dv_procs_get_domain(d, err);

	if (!dom)
		return RPC_HANDLER_ERROR;
	if (!op(dom, &gerr))
		return fail_gerror(err, gerr);
	return RPC_HANDLER_OK;
}

static int domain_shutdown(struct rpc_call *call, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_domain_only_args *a = args;

	return simple_op(&a->dom, dv_domain_shutdown, err);
}

static int domain_shutdown_flags(struct rpc_call *call, void *args,
				 void *ret, struct rpc_error *err)
{
	dv_domain_flags_args *a = args;

	if (!check_power_flags(a->flags, "shutdown", err))
		return RPC_HANDLER_ERROR;
	return simple_op(&a->dom, dv_domain_shutdown, err);
}

static int domain_reboot(struct rpc_call *call, void *args, void *ret,
			 struct rpc_error *err)
{
	dv_domain_flags_args *a = args;

	if (!check_power_flags(a->flags, "reboot", err))
		return RPC_HANDLER_ERROR;
	return simple_op(&a->dom, dv_domain_reboot, err);
}

static int domain_reset(struct rpc_call *call, void *args, void *ret,
			struct rpc_error *err)
{
	dv_domain_flags_args *a = args;
	g_autoptr(GError) gerr = NULL;
	struct dv_domain *dom;

	if (a->flags) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", a->flags);
		return RPC_HANDLER_ERROR;
	}
	dom = dv_procs_get_domain(&a->dom, err);
	if (!dom)
		return RPC_HANDLER_ERROR;
	if (!dv_domain_reset(dom, void_done, call, &gerr))
		return fail_gerror(err, gerr);
	return RPC_HANDLER_DEFER;
}

static int domain_suspend(struct rpc_call *call, void *args, void *ret,
			  struct rpc_error *err)
{
	dv_domain_only_args *a = args;

	return simple_op(&a->dom, dv_domain_suspend, err);
}

static int domain_resume(struct rpc_call *call, void *args, void *ret,
			 struct rpc_error *err)
{
	dv_domain_only_args *a = args;

	return simple_op(&a->dom, dv_domain_resume, err);
}

/* ---- autostart ------------------------------------------------------ */

static int domain_set_autostart(struct rpc_call *call, void *args, void *ret,
				struct rpc_error *err)
{
	dv_domain_set_autostart_args *a = args;
	g_autoptr(GError) gerr = NULL;
	struct dv_domain *dom = dv_procs_get_domain(&a->dom, err);
	bool on = a->autostart != 0;

	if (!dom)
		return RPC_HANDLER_ERROR;
	if (!dom->persistent) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "cannot set autostart for transient domain '%s'",
			      dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	if (dom->autostart == on)
		return RPC_HANDLER_OK;
	if (!dv_store_set_autostart(dv_domain_name(dom), on, &gerr))
		return fail_gerror(err, gerr);
	dom->autostart = on;
	return RPC_HANDLER_OK;
}

/* ---- console -------------------------------------------------------- */

static int domain_open_console(struct rpc_call *call, void *args, void *ret,
			       struct rpc_error *err)
{
	const unsigned int known = VIR_DOMAIN_CONSOLE_FORCE |
				   VIR_DOMAIN_CONSOLE_SAFE;
	dv_domain_open_console_args *a = args;
	g_autoptr(GError) gerr = NULL;
	const char *dev = a->dev_name ? *a->dev_name : NULL;
	struct dv_domain *dom;
	const char *pty;

	if (a->flags & ~known) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", a->flags & ~known);
		return RPC_HANDLER_ERROR;
	}
	dom = dv_procs_get_domain(&a->dom, err);
	if (!dom)
		return RPC_HANDLER_ERROR;
	if (!dv_domain_is_active(dom)) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "domain '%s' is not running",
			      dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	/* Only serial0 (mirrored by console0) reaches a VMM today. */
	if (dev && strcmp(dev, "serial0") != 0 &&
	    strcmp(dev, "console0") != 0) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "cannot find character device %s", dev);
		return RPC_HANDLER_ERROR;
	}
	pty = dv_domain_console_pty(dom);
	if (!pty) {
		rpc_error_set(err, VIR_ERR_OPERATION_UNSUPPORTED,
			      "the serial console of domain '%s' is not a "
			      "pty", dv_domain_name(dom));
		return RPC_HANDLER_ERROR;
	}
	if (!dv_console_open(dom, pty, call, a->flags, &gerr))
		return fail_gerror(err, gerr);
	return RPC_HANDLER_OK;
}

static const struct rpc_proc_def procs[] = {
	RPC_PROC(DV_PROC_DOMAIN_DEFINE_XML, domain_define_xml,
		 dv_domain_define_xml_args, dv_domain_ret, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_DEFINE_XML_FLAGS, domain_define_xml_flags,
		 dv_domain_define_xml_flags_args, dv_domain_ret,
		 RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_UNDEFINE, domain_undefine,
		 dv_domain_only_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_UNDEFINE_FLAGS, domain_undefine_flags,
		 dv_domain_flags_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_CREATE, domain_create,
		 dv_domain_only_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_CREATE_WITH_FLAGS, domain_create_with_flags,
		 dv_domain_flags_args, dv_domain_ret, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_CREATE_XML, domain_create_xml,
		 dv_domain_create_xml_args, dv_domain_ret, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_DESTROY, domain_destroy,
		 dv_domain_only_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_DESTROY_FLAGS, domain_destroy_flags,
		 dv_domain_flags_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_SHUTDOWN, domain_shutdown,
		 dv_domain_only_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_SHUTDOWN_FLAGS, domain_shutdown_flags,
		 dv_domain_flags_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_REBOOT, domain_reboot,
		 dv_domain_flags_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_RESET, domain_reset,
		 dv_domain_flags_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_SUSPEND, domain_suspend,
		 dv_domain_only_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_RESUME, domain_resume,
		 dv_domain_only_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_SET_AUTOSTART, domain_set_autostart,
		 dv_domain_set_autostart_args, rpc_void, RPC_PROC_WRITE),
	RPC_PROC(DV_PROC_DOMAIN_OPEN_CONSOLE, domain_open_console,
		 dv_domain_open_console_args, rpc_void, RPC_PROC_WRITE),
};

void dv_domain_procs_register(void)
{
	rpc_dispatch_register(procs, G_N_ELEMENTS(procs));
}
