// SPDX-License-Identifier: GPL-2.0-or-later
/* Running domains: VMM processes, jobs, states and events (see
 * domain_lifecycle.h). */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "console.h"
#include "daemon_log.h"
#include "domain_lifecycle.h"
#include "domain_memory.h"
#include "domain_net.h"
#include "domain_status.h"
#include "events.h"
#include "launch.h"
#include "machined.h"
#include "process.h"

G_DEFINE_QUARK(duvisor-driver-error-quark, dv_driver_error)

/* How long a graceful destroy waits for the VMM. */
#define GRACEFUL_TIMEOUT_MS 10000
/* duvisor-vmm's exit statuses (duvisor-vmm --help). */
#define VMM_EXIT_POWEROFF 0
#define VMM_EXIT_FAILURE 1
#define VMM_EXIT_RESET 32

static const struct daemon_config *config;

struct waiter {
	dv_done_fn done;
	void *opaque;
};

enum job {
	JOB_NONE,
	JOB_STARTING,		/* first VMM not ready yet */
	JOB_RESTARTING,		/* reset, reboot: new VMM not ready */
};

struct dv_vm {
	struct dv_domain *dom;	/* dom->vm is this */
	struct dv_vmm *vmm;
	enum job job;
	bool pause_when_ready;
	bool shutdown_requested;
	bool destroy_requested;
	bool reboot_requested;	/* restart once the guest powered off */
	bool remove_logs;	/* destroy with REMOVE_LOGS */
	uint64_t autodestroy_client;
	GQueue start_waiters;	/* start, or restart after a reboot */
	GQueue reset_waiters;	/* reset */
	GQueue stop_waiters;	/* destroy */
	guint graceful_timer;
	/* Our end of the VMM's --wait-fd: closed once it is in its cgroup
	 * (registered with machined), -1 after. */
	int gate_fd;
	/* The host side of its interfaces (domain_net.h), NULL before. */
	GPtrArray *nics;
};

static const struct dv_vmm_ops vmm_ops;

void dv_lifecycle_init(const struct daemon_config *cfg)
{
	config = cfg;
}

static bool fail(GError **error, int code, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static bool fail(GError **error, int code, const char *fmt, ...)
{
	va_list ap;

	if (error && !*error) {
		va_start(ap, fmt);
		*error = g_error_new_valist(DV_DRIVER_ERROR, code, fmt, ap);
		va_end(ap);
	}
	return false;
}

void dv_domain_event(struct dv_domain *dom, int event, int detail)
{
	DV_DEBUG("domain '%s': event %d detail %d", dv_domain_name(dom),
		 event, detail);
	duvisor_events_lifecycle(dv_domain_name(dom), dv_domain_uuid(dom),
				 dom->id, event, detail);
}

static void reboot_event(struct dv_domain *dom)
{
	DV_DEBUG("domain '%s': reboot event", dv_domain_name(dom));
	duvisor_events_reboot(dv_domain_name(dom), dv_domain_uuid(dom),
			      dom->id);
}

char *dv_domain_log_path(const struct dv_domain *dom)
{
	g_autofree char *file = g_strconcat(dv_domain_name(dom), ".log", NULL);

	return g_build_filename(config->log_dir, file, NULL);
}

static void add_waiter(GQueue *q, dv_done_fn done, void *opaque)
{
	struct waiter *w;

	if (!done)
		return;
	w = g_new0(struct waiter, 1);
	w->done = done;
	w->opaque = opaque;
	g_queue_push_tail(q, w);
}

static void finish_waiters(struct dv_domain *dom, GQueue *q,
			   const GError *error)
{
	struct waiter *w;

	while ((w = g_queue_pop_head(q))) {
		w->done(dom, error, w->opaque);
		g_free(w);
	}
}

static struct dv_vm *vm_new(struct dv_domain *dom)
{
	struct dv_vm *vm = g_new0(struct dv_vm, 1);

	vm->dom = dom;
	vm->gate_fd = -1;
	return vm;
}

static void vm_free(struct dv_vm *vm)
{
	g_assert(g_queue_is_empty(&vm->start_waiters) &&
		 g_queue_is_empty(&vm->reset_waiters) &&
		 g_queue_is_empty(&vm->stop_waiters));
	if (vm->graceful_timer)
		g_source_remove(vm->graceful_timer);
	dv_vmm_free(vm->vmm);
	if (vm->gate_fd >= 0)
		close(vm->gate_fd);
	/* Released (if the VMM is gone) by whoever freed it. */
	if (vm->nics)
		g_ptr_array_unref(vm->nics);
	g_free(vm);
}

/* ---- starting a VMM ---------------------------------------------------- */

static void register_machine(struct dv_domain *dom)
{
	g_autofree char *log_path = dv_domain_log_path(dom);

	dv_machined_register(dv_domain_name(dom), dv_domain_uuid(dom), dom->id,
			     dv_vmm_pid(dom->vm->vmm), log_path,
			     dom->vm->gate_fd);
	dom->vm->gate_fd = -1;
}

static bool spawn_vmm(struct dv_domain *dom, struct dv_vm *vm,
		      GError **error)
{
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_auto(dv_launch) launch = { .gate_fd = -1 };
	g_autoptr(GError) err = NULL;
	g_autofree char *log_path = dv_domain_log_path(dom);
	struct dv_vmm_spawn args = {
		.log_path = log_path,
		.uid = config->vmm_uid,
		.gid = config->vmm_gid,
	};

	if (!dv_launch_prepare(&launch, dv_domain_name(dom),
			       dv_domain_uuid(dom), dom->def, config, warnings,
			       &err)) {
		dv_log_append(log_path, "cannot start: %s", err->message);
		return fail(error, err->domain == DUVISOR_CONF_ERROR
				   ? err->code : VIR_ERR_OPERATION_FAILED,
			    "%s", err->message);
	}
	args.argv = (const char *const *)launch.argv->pdata;
	args.fds = (const int *)(void *)launch.fds->data;
	args.target_fds = (const int *)(void *)launch.targets->data;
	args.n_fds = launch.fds->len;
	args.pty = launch.pty;
	args.control_path = launch.control_path;
	dv_launch_log(&launch, log_path);
	for (guint i = 0; i < warnings->len; i++) {
		const char *w = g_ptr_array_index(warnings, i);

		DV_WARN("domain '%s': %s", dv_domain_name(dom), w);
		dv_log_append(log_path, "warning: %s", w);
	}
	vm->vmm = dv_vmm_spawn(&args, &vmm_ops, vm, &err);
	if (!vm->vmm) {
		dv_log_append(log_path, "cannot start: %s", err->message);
		return fail(error, VIR_ERR_OPERATION_FAILED,
			    "cannot start duvisor-vmm '%s': %s",
			    config->vmm_path, err->message);
	}
	if (vm->gate_fd >= 0)
		close(vm->gate_fd);
	vm->gate_fd = launch.gate_fd;
	launch.gate_fd = -1;
	if (vm->nics)
		g_ptr_array_unref(vm->nics);
	vm->nics = g_steal_pointer(&launch.nics);
	return true;
}

/* The status file first: a daemon that dies from here on leaves its
 * successor a VMM to kill rather than an orphan. */
static void save_started(struct dv_domain *dom)
{
	dv_status_save(dom);
	DV_INFO("domain '%s': duvisor-vmm started (pid %d)",
		dv_domain_name(dom), (int)dv_vmm_pid(dom->vm->vmm));
	register_machine(dom);
}

bool dv_domain_start(struct dv_domain *dom, unsigned int flags,
		     uint64_t client, dv_done_fn done, void *opaque,
		     GError **error)
{
	const unsigned int known = VIR_DOMAIN_START_PAUSED |
				   VIR_DOMAIN_START_AUTODESTROY |
				   VIR_DOMAIN_START_BYPASS_CACHE |
				   VIR_DOMAIN_START_FORCE_BOOT |
				   VIR_DOMAIN_START_VALIDATE;
	struct dv_vm *vm;

	if (flags & ~known)
		return fail(error, VIR_ERR_INVALID_ARG,
			    "unsupported flags (0x%x)", flags & ~known);
	if (dv_domain_is_active(dom))
		return fail(error, VIR_ERR_OPERATION_INVALID,
			    "domain '%s' is already running",
			    dv_domain_name(dom));
	vm = vm_new(dom);
	vm->pause_when_ready = flags & VIR_DOMAIN_START_PAUSED;
	if (flags & VIR_DOMAIN_START_AUTODESTROY)
		vm->autodestroy_client = client;
	if (!spawn_vmm(dom, vm, error)) {
		vm_free(vm);
		/* A definition the VMM cannot run leaves the domain as it
		 * was; a launch that failed (a missing image...) is a failed
		 * start, as when the VMM itself fails. */
		if (error && *error &&
		    (*error)->code != VIR_ERR_CONFIG_UNSUPPORTED) {
			dv_domain_set_state(dom, VIR_DOMAIN_SHUTOFF,
					    VIR_DOMAIN_SHUTOFF_FAILED);
			dv_domain_event(dom, VIR_DOMAIN_EVENT_STOPPED,
					VIR_DOMAIN_EVENT_STOPPED_FAILED);
		}
		return false;
	}
	dom->vm = vm;
	dom->id = dv_domain_next_id();
	dv_domain_set_state(dom, VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED);
	vm->job = JOB_STARTING;
	save_started(dom);
	add_waiter(&vm->start_waiters, done, opaque);
	return true;
}

/* ---- stopping ------------------------------------------------------- */

/* The domain is inactive from now on; @start_error goes to pending start
 * or reset calls. */
static void stop_domain(struct dv_domain *dom, int reason, int detail,
			const GError *start_error)
{
	g_autoptr(dv_domain_obj) hold = dv_domain_ref(dom);
	g_autoptr(GError) generic = NULL;
	struct dv_vm *vm = dom->vm;

	DV_INFO("domain '%s' is shut off (reason %d)", dv_domain_name(dom),
		reason);
	dv_console_close_domain(dom);
	dv_launch_cleanup(config, dv_domain_uuid(dom), dom->def);
	dv_nics_release(vm->nics);
	dom->vm = NULL;
	dom->id = -1;
	dv_domain_set_state(dom, VIR_DOMAIN_SHUTOFF, reason);
	if (dom->newdef) {
		duvisor_domain_def_free(dom->def);
		dom->def = g_steal_pointer(&dom->newdef);
	}
	dv_status_remove(dom);
	if (vm->remove_logs) {
		g_autofree char *log_path = dv_domain_log_path(dom);

		g_unlink(log_path);
	}
	dv_domain_event(dom, VIR_DOMAIN_EVENT_STOPPED, detail);
	if (!start_error && !g_queue_is_empty(&vm->start_waiters)) {
		generic = g_error_new(DV_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
				      "domain '%s' stopped before it was "
				      "running", dv_domain_name(dom));
		start_error = generic;
	}
	finish_waiters(dom, &vm->start_waiters, start_error);
	if (!g_queue_is_empty(&vm->reset_waiters)) {
		g_autoptr(GError) gone = g_error_new(
			DV_DRIVER_ERROR, VIR_ERR_OPERATION_FAILED,
			"domain '%s' stopped during the reset",
			dv_domain_name(dom));

		finish_waiters(dom, &vm->reset_waiters, gone);
	}
	finish_waiters(dom, &vm->stop_waiters, NULL);
	vm_free(vm);
	if (!dom->persistent)
		dv_domain_remove(dom);
}

/* The VMM exited: how the domain ended (libvirt's reason and detail). */
static void classify_exit(struct dv_vm *vm, const struct dv_vmm_exit *ex,
			  int *reason, int *detail, bool *shutdown)
{
	const struct duvisor_domain_def *def = vm->dom->def;
	int code = ex->exit_code;

	*shutdown = false;
	if (vm->destroy_requested) {
		*reason = VIR_DOMAIN_SHUTOFF_DESTROYED;
		*detail = VIR_DOMAIN_EVENT_STOPPED_DESTROYED;
		return;
	}
	/* A child's wait status is the truth; an adopted VMM's last words
	 * are all we have. */
	if (ex->status_known)
		code = WIFEXITED(ex->wait_status) ? WEXITSTATUS(ex->wait_status)
						  : -1;
	else if (code < 0)
		code = ex->end == DV_END_POWEROFF || ex->end == DV_END_QUIT
		       ? VMM_EXIT_POWEROFF
		       : ex->end == DV_END_RESET ? VMM_EXIT_RESET
		       : ex->end == DV_END_UNKNOWN ? -2 : -1;
	if (code == VMM_EXIT_POWEROFF ||
	    (code == VMM_EXIT_RESET &&
	     def->on_reboot == DUVISOR_ACTION_DESTROY)) {
		*shutdown = true;
		*reason = VIR_DOMAIN_SHUTOFF_SHUTDOWN;
		*detail = VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN;
	} else if (code == VMM_EXIT_FAILURE) {
		*reason = VIR_DOMAIN_SHUTOFF_FAILED;
		*detail = VIR_DOMAIN_EVENT_STOPPED_FAILED;
	} else if (code == -2) {
		*reason = VIR_DOMAIN_SHUTOFF_UNKNOWN;
		*detail = VIR_DOMAIN_EVENT_STOPPED_FAILED;
	} else {
		*reason = VIR_DOMAIN_SHUTOFF_CRASHED;
		*detail = VIR_DOMAIN_EVENT_STOPPED_CRASHED;
	}
}

static bool restart_vmm(struct dv_domain *dom, struct dv_vm *vm)
{
	g_autoptr(GError) err = NULL;

	vm->job = JOB_RESTARTING;
	vm->reboot_requested = false;
	if (spawn_vmm(dom, vm, &err)) {
		save_started(dom);
		return true;
	}
	DV_WARN("domain '%s': %s", dv_domain_name(dom), err->message);
	stop_domain(dom, VIR_DOMAIN_SHUTOFF_FAILED,
		    VIR_DOMAIN_EVENT_STOPPED_FAILED, err);
	return false;
}

static void on_vmm_exited(struct dv_vmm *vmm, const struct dv_vmm_exit *ex,
			  void *opaque)
{
	struct dv_vm *vm = opaque;
	struct dv_domain *dom = vm->dom;
	g_autofree char *how = ex->status_known
		? dv_wait_status_string(ex->wait_status)
		: g_strdup("exit status unknown (taken over from an earlier "
			   "daemon)");
	g_autofree char *tail = dv_vmm_output_tail(vmm);
	g_autoptr(GError) err = NULL;
	enum job job = vm->job;
	int reason, detail;
	bool shutdown;

	DV_INFO("domain '%s': duvisor-vmm (pid %d) ended: %s",
		dv_domain_name(dom), (int)dv_vmm_pid(vmm), how);
	dv_vmm_log(vmm, "duvisor-vmm ended: %s", how);
	dv_vmm_free(vmm);
	vm->vmm = NULL;
	/* Its taps went with it; their network ports are ours to delete,
	 * before a restart asks for new ones. */
	dv_nics_release(vm->nics);
	dv_machined_terminate(dv_domain_name(dom), dom->id);
	dv_console_close_domain(dom);
	classify_exit(vm, ex, &reason, &detail, &shutdown);

	if (!vm->destroy_requested) {
		const struct duvisor_domain_def *def = dom->def;
		bool restart = false;

		if (shutdown && job == JOB_NONE &&
		    !vm->shutdown_requested)
			restart = vm->reboot_requested ||
				  def->on_poweroff == DUVISOR_ACTION_RESTART;
		if (!restart && job == JOB_NONE &&
		    reason == VIR_DOMAIN_SHUTOFF_CRASHED)
			restart = def->on_crash == DUVISOR_ACTION_RESTART ||
				  def->on_crash ==
					  DUVISOR_ACTION_COREDUMP_RESTART;
		if (restart) {
			restart_vmm(dom, vm);
			return;
		}
	}

	if (job != JOB_NONE && !vm->destroy_requested) {
		/* It never ran: a start (or restart) failure. */
		if (ex->start_timed_out)
			err = g_error_new(DV_DRIVER_ERROR,
					  VIR_ERR_OPERATION_FAILED,
					  "duvisor-vmm did not start the "
					  "machine in time%s%s",
					  *tail ? ":\n" : "", tail);
		else
			err = g_error_new(DV_DRIVER_ERROR,
					  VIR_ERR_OPERATION_FAILED,
					  "duvisor-vmm failed to start domain "
					  "'%s' (%s)%s%s", dv_domain_name(dom),
					  how, *tail ? ":\n" : "", tail);
		stop_domain(dom, VIR_DOMAIN_SHUTOFF_FAILED,
			    VIR_DOMAIN_EVENT_STOPPED_FAILED, err);
		return;
	}
	if (vm->destroy_requested && job != JOB_NONE)
		err = g_error_new(DV_DRIVER_ERROR, VIR_ERR_OPERATION_ABORTED,
				  "domain '%s' was destroyed before it was "
				  "running", dv_domain_name(dom));
	if (shutdown)
		dv_domain_event(dom, VIR_DOMAIN_EVENT_SHUTDOWN,
				vm->shutdown_requested
				? VIR_DOMAIN_EVENT_SHUTDOWN_HOST
				: VIR_DOMAIN_EVENT_SHUTDOWN_GUEST);
	stop_domain(dom, reason, detail, err);
}

static void on_vmm_ready(struct dv_vmm *vmm, void *opaque)
{
	struct dv_vm *vm = opaque;
	struct dv_domain *dom = vm->dom;
	enum job job = vm->job;
	bool paused = false;

	dv_vmm_log(vmm, "the machine runs (duvisor-vmm pid %d)",
		   (int)dv_vmm_pid(vmm));
	vm->job = JOB_NONE;
	if (vm->pause_when_ready) {
		g_autoptr(GError) err = NULL;

		vm->pause_when_ready = false;
		paused = dv_monitor_stop(dv_vmm_monitor(vmm), &err);
		if (!paused)
			DV_WARN("domain '%s': %s", dv_domain_name(dom),
				err->message);
	}
	if (paused)
		dv_domain_set_state(dom, VIR_DOMAIN_PAUSED,
				    VIR_DOMAIN_PAUSED_USER);
	else
		dv_domain_set_state(dom, VIR_DOMAIN_RUNNING,
				    VIR_DOMAIN_RUNNING_BOOTED);
	dv_status_save(dom);
	if (job == JOB_RESTARTING) {
		reboot_event(dom);
	} else {
		dv_domain_event(dom, VIR_DOMAIN_EVENT_STARTED,
				VIR_DOMAIN_EVENT_STARTED_BOOTED);
		if (paused)
			dv_domain_event(dom, VIR_DOMAIN_EVENT_SUSPENDED,
					VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
	}
	finish_waiters(dom, &vm->start_waiters, NULL);
}

static void on_vmm_reset(struct dv_vmm *vmm, void *opaque)
{
	struct dv_vm *vm = opaque;

	DV_INFO("domain '%s': the guest rebooted", dv_domain_name(vm->dom));
	reboot_event(vm->dom);
	finish_waiters(vm->dom, &vm->reset_waiters, NULL);
}

/* The VMM's vCPUs are (not) paused: normally because we asked, but a
 * restarted daemon, or someone with access to the control socket, may
 * find it otherwise. */
static void on_vmm_state(struct dv_vmm *vmm, bool paused, void *opaque)
{
	struct dv_vm *vm = opaque;
	struct dv_domain *dom = vm->dom;

	if (vm->job != JOB_NONE ||
	    paused == (dom->state == VIR_DOMAIN_PAUSED))
		return;
	DV_INFO("domain '%s' is %s", dv_domain_name(dom),
		paused ? "paused" : "running again");
	if (paused) {
		dv_domain_set_state(dom, VIR_DOMAIN_PAUSED,
				    VIR_DOMAIN_PAUSED_UNKNOWN);
		dv_domain_event(dom, VIR_DOMAIN_EVENT_SUSPENDED,
				VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
	} else {
		dv_domain_set_state(dom, VIR_DOMAIN_RUNNING,
				    VIR_DOMAIN_RUNNING_UNPAUSED);
		dv_domain_event(dom, VIR_DOMAIN_EVENT_RESUMED,
				VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
	}
	dv_status_save(dom);
}

static void on_vmm_balloon(struct dv_vmm *vmm, uint64_t actual, void *opaque)
{
	dv_domain_balloon_changed(((struct dv_vm *)opaque)->dom, actual);
}

static const struct dv_vmm_ops vmm_ops = {
	.ready = on_vmm_ready,
	.reset = on_vmm_reset,
	.state = on_vmm_state,
	.balloon = on_vmm_balloon,
	.exited = on_vmm_exited,
};

/* ---- requests ------------------------------------------------------- */

/* The domain runs (or is paused) and no start or restart is under way. */
static bool check_running(struct dv_domain *dom, GError **error)
{
	if (!dv_domain_is_active(dom))
		return fail(error, VIR_ERR_OPERATION_INVALID,
			    "domain '%s' is not running", dv_domain_name(dom));
	if (dom->vm->job != JOB_NONE)
		return fail(error, VIR_ERR_OPERATION_INVALID,
			    "domain '%s' is %s", dv_domain_name(dom),
			    dom->vm->job == JOB_STARTING ? "starting"
							 : "restarting");
	return true;
}

static gboolean on_graceful_timeout(gpointer data)
{
	struct dv_vm *vm = data;
	g_autoptr(GError) err = g_error_new(
		DV_DRIVER_ERROR, VIR_ERR_OPERATION_TIMEOUT,
		"domain '%s' did not stop within %d s",
		dv_domain_name(vm->dom), GRACEFUL_TIMEOUT_MS / 1000);

	vm->graceful_timer = 0;
	vm->destroy_requested = false;
	finish_waiters(vm->dom, &vm->stop_waiters, err);
	return G_SOURCE_REMOVE;
}

bool dv_domain_destroy(struct dv_domain *dom, unsigned int flags,
		       dv_done_fn done, void *opaque, GError **error)
{
	const unsigned int known = VIR_DOMAIN_DESTROY_GRACEFUL |
				   VIR_DOMAIN_DESTROY_REMOVE_LOGS;
	struct dv_vm *vm = dom->vm;

	if (flags & ~known)
		return fail(error, VIR_ERR_INVALID_ARG,
			    "unsupported flags (0x%x)", flags & ~known);
	if (!dv_domain_is_active(dom))
		return fail(error, VIR_ERR_OPERATION_INVALID,
			    "domain '%s' is not running", dv_domain_name(dom));
	if (flags & VIR_DOMAIN_DESTROY_GRACEFUL) {
		if (!dv_monitor_quit(dv_vmm_monitor(vm->vmm), error))
			return false;
		if (!vm->graceful_timer)
			vm->graceful_timer = g_timeout_add(
				GRACEFUL_TIMEOUT_MS, on_graceful_timeout, vm);
	} else {
		dv_vmm_kill(vm->vmm);
	}
	dv_vmm_log(vm->vmm, "destroying the domain%s",
		   flags & VIR_DOMAIN_DESTROY_GRACEFUL ? " (gracefully)" : "");
	vm->destroy_requested = true;
	if (flags & VIR_DOMAIN_DESTROY_REMOVE_LOGS)
		vm->remove_logs = true;
	add_waiter(&vm->stop_waiters, done, opaque);
	return true;
}

bool dv_domain_shutdown(struct dv_domain *dom, GError **error)
{
	struct dv_vm *vm = dom->vm;

	if (!check_running(dom, error) ||
	    !dv_monitor_system_powerdown(dv_vmm_monitor(vm->vmm), error))
		return false;
	dv_vmm_log(vm->vmm, "shutdown requested: pressing the power button");
	vm->shutdown_requested = true;
	vm->reboot_requested = false;
	return true;
}

bool dv_domain_reboot(struct dv_domain *dom, GError **error)
{
	struct dv_vm *vm = dom->vm;

	if (!check_running(dom, error) ||
	    !dv_monitor_system_powerdown(dv_vmm_monitor(vm->vmm), error))
		return false;
	dv_vmm_log(vm->vmm, "reboot requested: pressing the power button");
	vm->reboot_requested = true;
	vm->shutdown_requested = false;
	return true;
}

bool dv_domain_reset(struct dv_domain *dom, dv_done_fn done, void *opaque,
		     GError **error)
{
	struct dv_vm *vm = dom->vm;

	/* The VMM rebuilds the machine itself (a paused one stays paused);
	 * the call ends with its guest-reset notification. */
	if (!check_running(dom, error) ||
	    !dv_monitor_reset(dv_vmm_monitor(vm->vmm), error))
		return false;
	dv_vmm_log(vm->vmm, "reset requested");
	add_waiter(&vm->reset_waiters, done, opaque);
	return true;
}

bool dv_domain_suspend(struct dv_domain *dom, GError **error)
{
	if (!check_running(dom, error))
		return false;
	if (dom->state == VIR_DOMAIN_PAUSED)
		return true;
	if (!dv_monitor_stop(dv_vmm_monitor(dom->vm->vmm), error))
		return false;
	dv_domain_set_state(dom, VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER);
	dv_status_save(dom);
	dv_domain_event(dom, VIR_DOMAIN_EVENT_SUSPENDED,
			VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
	return true;
}

bool dv_domain_resume(struct dv_domain *dom, GError **error)
{
	if (!check_running(dom, error))
		return false;
	if (dom->state != VIR_DOMAIN_PAUSED)
		return true;
	if (!dv_monitor_cont(dv_vmm_monitor(dom->vm->vmm), error))
		return false;
	dv_domain_set_state(dom, VIR_DOMAIN_RUNNING,
			    VIR_DOMAIN_RUNNING_UNPAUSED);
	dv_status_save(dom);
	dv_domain_event(dom, VIR_DOMAIN_EVENT_RESUMED,
			VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
	return true;
}

struct dv_monitor *dv_domain_monitor(struct dv_domain *dom, GError **error)
{
	return check_running(dom, error) ? dv_vmm_monitor(dom->vm->vmm) : NULL;
}

void dv_lifecycle_client_closed(uint64_t client)
{
	g_autoptr(GPtrArray) all = dv_domain_list();

	for (guint i = 0; i < all->len; i++) {
		struct dv_domain *dom = g_ptr_array_index(all, i);
		g_autoptr(GError) err = NULL;

		if (!dom->vm || dom->vm->autodestroy_client != client ||
		    dom->vm->destroy_requested)
			continue;
		DV_INFO("domain '%s': its connection closed, destroying it",
			dv_domain_name(dom));
		if (!dv_domain_destroy(dom, 0, NULL, NULL, &err))
			DV_WARN("%s", err->message);
	}
}

/* ---- queries -------------------------------------------------------- */

const char *dv_domain_console_pty(struct dv_domain *dom)
{
	return dom->vm && dom->vm->vmm ? dv_vmm_pty(dom->vm->vmm) : NULL;
}

uint64_t dv_domain_cpu_time(struct dv_domain *dom)
{
	uint64_t ns = 0;

	if (dom->vm && dom->vm->vmm)
		dv_monitor_query_cpu_time(dv_vmm_monitor(dom->vm->vmm), &ns);
	return ns;
}

GPtrArray *dv_domain_nics(struct dv_domain *dom)
{
	return dom->vm ? dom->vm->nics : NULL;
}

bool dv_domain_vmm_identity(struct dv_domain *dom, int64_t *pid,
			    uint64_t *start_time, const char **pty,
			    bool *starting)
{
	if (!dom->vm || !dom->vm->vmm)
		return false;
	*pid = dv_vmm_pid(dom->vm->vmm);
	*start_time = dv_vmm_start_time(dom->vm->vmm);
	*pty = dv_vmm_pty(dom->vm->vmm);
	*starting = dom->vm->job != JOB_NONE;
	return true;
}

/* ---- restart safety ----------------------------------------------- */

bool dv_domain_adopt(struct dv_domain *dom, int id, int64_t pid,
		     uint64_t start_time, const char *pty, int state,
		     int reason, GPtrArray *nics)
{
	g_autofree char *log_path = dv_domain_log_path(dom);
	g_autofree char *control = dv_launch_control_path(config,
							  dv_domain_uuid(dom));
	g_autoptr(GError) err = NULL;
	struct dv_vm *vm = vm_new(dom);

	vm->nics = nics;
	vm->vmm = dv_vmm_adopt((pid_t)pid, start_time, pty, log_path, control,
			       &vmm_ops, vm, &err);
	if (!vm->vmm) {
		DV_INFO("domain '%s': %s", dv_domain_name(dom), err->message);
		dv_log_append(log_path, "%s while virtduvisord was away",
			      err->message);
		/* Gone, or killed as nobody could steer it. */
		dv_nics_release(vm->nics);
		vm_free(vm);
		return false;
	}
	dom->vm = vm;
	dom->id = id;
	dv_domain_reserve_id(id);
	dv_domain_set_state(dom, state, reason);
	dv_vmm_log(vm->vmm, "taken over by a new virtduvisord");
	DV_INFO("domain '%s': took over duvisor-vmm (pid %d)",
		dv_domain_name(dom), (int)pid);
	return true;
}

void dv_lifecycle_shutdown(void)
{
	g_autoptr(GPtrArray) all = dv_domain_list();
	g_autoptr(GError) err = g_error_new(DV_DRIVER_ERROR,
					    VIR_ERR_OPERATION_ABORTED,
					    "the daemon is shutting down");

	for (guint i = 0; i < all->len; i++) {
		struct dv_domain *dom = g_ptr_array_index(all, i);
		struct dv_vm *vm = dom->vm;

		if (!vm)
			continue;
		/* The VMM keeps running and the next daemon takes it over,
		 * unless it is not even running yet (nothing saved). */
		if (vm->job != JOB_NONE && vm->vmm) {
			dv_vmm_kill(vm->vmm);
			dv_status_remove(dom);
			dv_nics_release(vm->nics);
		}
		finish_waiters(dom, &vm->start_waiters, err);
		finish_waiters(dom, &vm->reset_waiters, err);
		finish_waiters(dom, &vm->stop_waiters, err);
		dom->vm = NULL;
		vm_free(vm);
	}
	dv_machined_shutdown();
}
