// SPDX-License-Identifier: GPL-2.0-or-later
/* Connection-level procedures (see conn_procs.h). */
#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "capabilities.h"
#include "conn_procs.h"
#include "daemon_log.h"
#include "node_info.h"
#include "node_procs.h"
#include "rpc_dispatch.h"

#define URI_KEY "duvisor-uri"
#define CLOSE_CB_KEY "duvisor-close-callback"
#define FEATURE_MAX 64
/* The most vCPUs duvisor-vmm's x86 machine supports (X86_MAX_VCPUS in
 * src/vmm/x86/machine.c). */
#define VMM_MAX_VCPUS 254
/* GError domain of capabilities.c / domain_conf.c, codes virErrorNumber. */
#define CONF_ERROR_QUARK_NAME "duvisor-conf-error-quark"

static const struct daemon_config *config;
static bool features[FEATURE_MAX];

void conn_set_feature(int feature, bool supported)
{
	if (feature >= 0 && feature < FEATURE_MAX)
		features[feature] = supported;
}

const char *conn_client_uri(struct rpc_client *c)
{
	return rpc_client_get_data(c, URI_KEY);
}

static const char *served_path(void)
{
	return config->session ? "/session" : "/system";
}

static int auth_list(struct rpc_call *call, void *args, void *ret,
		     struct rpc_error *err)
{
	dv_auth_list_ret *r = ret;

	r->types.types_len = 1;
	r->types.types_val = g_new0(dv_auth_type, 1);
	r->types.types_val[0] = DV_AUTH_NONE;
	return RPC_HANDLER_OK;
}

static int supports_feature(struct rpc_call *call, void *args, void *ret,
			    struct rpc_error *err)
{
	dv_connect_supports_feature_args *a = args;
	dv_connect_supports_feature_ret *r = ret;

	r->supported = a->feature >= 0 && a->feature < FEATURE_MAX &&
		       features[a->feature];
	return RPC_HANDLER_OK;
}

/* Accepts duvisor:///system (or /session for a session daemon) and no URI
 * at all; returns the URI to report, or NULL with err set. */
static char *check_uri(const char *name, struct rpc_error *err)
{
	g_autoptr(GUri) uri = NULL;
	const char *path;

	if (!name || !*name)
		return g_strdup_printf("duvisor://%s", served_path());
	uri = g_uri_parse(name, G_URI_FLAGS_NONE, NULL);
	if (!uri || g_ascii_strcasecmp(g_uri_get_scheme(uri), "duvisor") != 0) {
		rpc_error_set(err, VIR_ERR_NO_CONNECT,
			      "this daemon only serves duvisor:// URIs, "
			      "not '%s'", name);
		return NULL;
	}
	path = g_uri_get_path(uri);
	if (strcmp(path, served_path()) != 0) {
		rpc_error_set(err, VIR_ERR_NO_CONNECT,
			      "this daemon serves duvisor://%s, not '%s'",
			      served_path(), name);
		return NULL;
	}
	return g_strdup(name);
}

static int connect_open(struct rpc_call *call, void *args, void *ret,
			struct rpc_error *err)
{
	dv_connect_open_args *a = args;
	struct rpc_client *c = rpc_call_client(call);
	char *uri;

	if (rpc_client_is_open(c)) {
		rpc_error_set(err, VIR_ERR_OPERATION_INVALID,
			      "the connection is already open");
		return RPC_HANDLER_ERROR;
	}
	uri = check_uri(a->name ? *a->name : NULL, err);
	if (!uri)
		return RPC_HANDLER_ERROR;
	if (a->flags & VIR_CONNECT_RO)
		rpc_client_set_readonly(c);
	rpc_client_set_data(c, URI_KEY, uri, g_free);
	rpc_client_set_open(c, true);
	DV_DEBUG("client %" G_GUINT64_FORMAT ": opened %s%s", rpc_client_id(c),
		 uri, rpc_client_readonly(c) ? " read-only" : "");
	return RPC_HANDLER_OK;
}

static int connect_close(struct rpc_call *call, void *args, void *ret,
			 struct rpc_error *err)
{
	struct rpc_client *c = rpc_call_client(call);

	rpc_client_set_data(c, CLOSE_CB_KEY, NULL, NULL);
	rpc_client_set_open(c, false);
	return RPC_HANDLER_OK;
}

static int register_close_callback(struct rpc_call *call, void *args,
				   void *ret, struct rpc_error *err)
{
	rpc_client_set_data(rpc_call_client(call), CLOSE_CB_KEY,
			    GINT_TO_POINTER(1), NULL);
	return RPC_HANDLER_OK;
}

static int unregister_close_callback(struct rpc_call *call, void *args,
				     void *ret, struct rpc_error *err)
{
	rpc_client_set_data(rpc_call_client(call), CLOSE_CB_KEY, NULL, NULL);
	return RPC_HANDLER_OK;
}

static int get_type(struct rpc_call *call, void *args, void *ret,
		    struct rpc_error *err)
{
	dv_connect_get_type_ret *r = ret;

	r->type = g_strdup("DuVisor");
	return RPC_HANDLER_OK;
}

static int get_version(struct rpc_call *call, void *args, void *ret,
		       struct rpc_error *err)
{
	dv_connect_get_version_ret *r = ret;

	r->hv_ver = config->hypervisor_version;
	return RPC_HANDLER_OK;
}

static int get_lib_version(struct rpc_call *call, void *args, void *ret,
			   struct rpc_error *err)
{
	dv_connect_get_lib_version_ret *r = ret;

	/* The libvirt API level we speak: that of the headers we build with. */
	r->lib_ver = LIBVIR_VERSION_NUMBER;
	return RPC_HANDLER_OK;
}

static int get_hostname(struct rpc_call *call, void *args, void *ret,
			struct rpc_error *err)
{
	dv_connect_get_hostname_ret *r = ret;

	r->hostname = node_hostname();
	return RPC_HANDLER_OK;
}

static int node_get_info(struct rpc_call *call, void *args, void *ret,
			 struct rpc_error *err)
{
	dv_node_get_info_ret *r = ret;
	g_autoptr(GError) gerr = NULL;
	struct node_info ni;

	if (!node_info_get(&ni, &gerr)) {
		rpc_error_set(err, VIR_ERR_OPERATION_FAILED, "%s",
			      gerr->message);
		return RPC_HANDLER_ERROR;
	}
	G_STATIC_ASSERT(sizeof(r->model) == sizeof(ni.model));
	memcpy(r->model, ni.model, sizeof(r->model));
	r->memory = ni.memory_kib;
	r->cpus = ni.cpus;
	r->mhz = ni.mhz;
	r->nodes = ni.nodes;
	r->sockets = ni.sockets;
	r->cores = ni.cores;
	r->threads = ni.threads;
	return RPC_HANDLER_OK;
}

static int get_capabilities(struct rpc_call *call, void *args, void *ret,
			    struct rpc_error *err)
{
	dv_connect_get_capabilities_ret *r = ret;
	g_autoptr(GError) gerr = NULL;

	r->capabilities = duvisor_host_capabilities_xml(config->vmm_path,
							 &gerr);
	if (!r->capabilities) {
		rpc_error_set(err, VIR_ERR_OPERATION_FAILED,
			      "cannot describe the host's capabilities: %s",
			      gerr ? gerr->message : "unknown error");
		return RPC_HANDLER_ERROR;
	}
	return RPC_HANDLER_OK;
}

static int is_secure(struct rpc_call *call, void *args, void *ret,
		     struct rpc_error *err)
{
	dv_connect_is_secure_ret *r = ret;

	r->secure = 1;		/* a local unix socket */
	return RPC_HANDLER_OK;
}

/* KVM's limit when we can ask it, capped by the VMM's. */
static int host_max_vcpus(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int n = -1;

	if (fd >= 0) {
		n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
		if (n <= 0)
			n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
		close(fd);
	}
	return n > 0 ? MIN(n, VMM_MAX_VCPUS) : VMM_MAX_VCPUS;
}

static int get_max_vcpus(struct rpc_call *call, void *args, void *ret,
			 struct rpc_error *err)
{
	dv_connect_get_max_vcpus_args *a = args;
	dv_connect_get_max_vcpus_ret *r = ret;
	const char *type = a->type ? *a->type : NULL;

	if (type && g_ascii_strcasecmp(type, "kvm") != 0 &&
	    g_ascii_strcasecmp(type, "duvisor") != 0) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unknown virtualization type '%s'", type);
		return RPC_HANDLER_ERROR;
	}
	r->max_vcpus = host_max_vcpus();
	return RPC_HANDLER_OK;
}

static int get_domain_capabilities(struct rpc_call *call, void *args,
				   void *ret, struct rpc_error *err)
{
	dv_connect_get_domain_capabilities_args *a = args;
	dv_connect_get_domain_capabilities_ret *r = ret;
	g_autoptr(GError) gerr = NULL;

	if (a->flags) {
		rpc_error_set(err, VIR_ERR_INVALID_ARG,
			      "unsupported flags (0x%x)", a->flags);
		return RPC_HANDLER_ERROR;
	}
	r->capabilities = duvisor_domain_capabilities_xml(config->vmm_path,
		a->emulatorbin ? *a->emulatorbin : NULL,
		a->arch ? *a->arch : NULL, a->machine ? *a->machine : NULL,
		a->virttype ? *a->virttype : NULL, &gerr);
	if (!r->capabilities) {
		if (gerr)
			rpc_error_set_gerror(err, gerr,
				g_quark_try_string(CONF_ERROR_QUARK_NAME),
				VIR_ERR_OPERATION_FAILED);
		else
			rpc_error_set(err, VIR_ERR_OPERATION_FAILED,
				      "cannot describe the domain capabilities");
		return RPC_HANDLER_ERROR;
	}
	return RPC_HANDLER_OK;
}

static const struct rpc_proc_def conn_procs[] = {
	RPC_PROC(DV_PROC_AUTH_LIST, auth_list, rpc_void, dv_auth_list_ret,
		 RPC_PROC_NO_OPEN),
	RPC_PROC(DV_PROC_CONNECT_SUPPORTS_FEATURE, supports_feature,
		 dv_connect_supports_feature_args,
		 dv_connect_supports_feature_ret, RPC_PROC_NO_OPEN),
	RPC_PROC(DV_PROC_CONNECT_OPEN, connect_open, dv_connect_open_args,
		 rpc_void, RPC_PROC_NO_OPEN),
	RPC_PROC(DV_PROC_CONNECT_CLOSE, connect_close, rpc_void, rpc_void, 0),
	RPC_PROC(DV_PROC_CONNECT_REGISTER_CLOSE_CALLBACK,
		 register_close_callback, rpc_void, rpc_void, 0),
	RPC_PROC(DV_PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK,
		 unregister_close_callback, rpc_void, rpc_void, 0),
	RPC_PROC(DV_PROC_CONNECT_GET_TYPE, get_type, rpc_void,
		 dv_connect_get_type_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_GET_VERSION, get_version, rpc_void,
		 dv_connect_get_version_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_GET_LIB_VERSION, get_lib_version, rpc_void,
		 dv_connect_get_lib_version_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_GET_HOSTNAME, get_hostname, rpc_void,
		 dv_connect_get_hostname_ret, 0),
	RPC_PROC(DV_PROC_NODE_GET_INFO, node_get_info, rpc_void,
		 dv_node_get_info_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_GET_CAPABILITIES, get_capabilities, rpc_void,
		 dv_connect_get_capabilities_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_IS_SECURE, is_secure, rpc_void,
		 dv_connect_is_secure_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_GET_MAX_VCPUS, get_max_vcpus,
		 dv_connect_get_max_vcpus_args, dv_connect_get_max_vcpus_ret, 0),
	RPC_PROC(DV_PROC_CONNECT_GET_DOMAIN_CAPABILITIES,
		 get_domain_capabilities,
		 dv_connect_get_domain_capabilities_args,
		 dv_connect_get_domain_capabilities_ret, 0),
};

void conn_procs_register(const struct daemon_config *cfg)
{
	config = cfg;
	memset(features, 0, sizeof(features));
	features[DV_FEATURE_PROGRAM_KEEPALIVE] = true;
	features[DV_FEATURE_REMOTE_EVENT_CALLBACK] = true;
	features[DV_FEATURE_REMOTE_CLOSE_CALLBACK] = true;
	/* Clients then add VIR_TYPED_PARAM_STRING_OKAY to typed-parameter
	 * calls; our replies may hold strings (block.N.name...). */
	features[DV_FEATURE_TYPED_PARAM_STRING] = true;
	rpc_dispatch_register(conn_procs, G_N_ELEMENTS(conn_procs));
	node_procs_register();
}
