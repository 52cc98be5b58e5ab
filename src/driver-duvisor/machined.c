// SPDX-License-Identifier: GPL-2.0-or-later
/* systemd-machined registration over D-Bus (org.freedesktop.machine1). */
#include <gio/gio.h>
#include <string.h>
#include <unistd.h>

#include "daemon_log.h"
#include "machined.h"
#include "process.h"

#define MACHINED_NAME "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_IFACE "org.freedesktop.machine1.Manager"
#define MACHINE_NAME_MAX 64
#define CALL_TIMEOUT_MS 30000

static GDBusConnection *bus;
static bool bus_checked;

/* The system bus when machined can be reached; NULL (said once) if not. */
static GDBusConnection *system_bus(void)
{
	g_autoptr(GError) err = NULL;

	if (bus_checked)
		return bus;
	bus_checked = true;
	if (access("/run/systemd/system", F_OK) < 0) {
		DV_INFO("systemd is not the init system: VMs are not "
			"registered with systemd-machined");
		return NULL;
	}
	bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &err);
	if (!bus)
		DV_WARN("no system D-Bus (%s): VMs are not registered with "
			"systemd-machined", err->message);
	return bus;
}

char *dv_machine_name(const char *domain_name, int id)
{
	GString *s = g_string_new(NULL);

	g_string_printf(s, "duvisor-%d-", id);
	for (const char *p = domain_name; *p && s->len < MACHINE_NAME_MAX;
	     p++) {
		/* Hostname-like, and no leading or doubled dots. */
		if (g_ascii_isalnum(*p) || *p == '-' || *p == '_')
			g_string_append_c(s, *p);
		else if (*p == '.' && s->str[s->len - 1] != '.')
			g_string_append_c(s, '.');
	}
	while (s->str[s->len - 1] == '.' || s->str[s->len - 1] == '-')
		g_string_truncate(s, s->len - 1);
	return g_string_free(s, FALSE);
}

struct call {
	char *machine;
	char *log_path;
	const char *what;
	int gate_fd;
};

static void call_free(struct call *c)
{
	if (c->gate_fd >= 0)
		close(c->gate_fd);
	g_free(c->machine);
	g_free(c->log_path);
	g_free(c);
}

static void on_reply(GObject *source, GAsyncResult *res, gpointer data)
{
	struct call *c = data;
	g_autoptr(GError) err = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_finish(
		G_DBUS_CONNECTION(source), res, &err);

	if (!reply) {
		g_autofree char *remote = g_dbus_error_get_remote_error(err);

		/* A machine whose VMM is gone is dropped by machined itself. */
		if (!g_strcmp0(remote,
			       "org.freedesktop.machine1.NoSuchMachine")) {
			call_free(c);
			return;
		}
		g_dbus_error_strip_remote_error(err);
		DV_WARN("systemd-machined: cannot %s machine '%s': %s",
			c->what, c->machine, err->message);
		if (c->log_path)
			dv_log_append(c->log_path, "systemd-machined: cannot "
				      "%s machine '%s': %s", c->what,
				      c->machine, err->message);
	} else {
		DV_INFO("systemd-machined: %s machine '%s'",
			!strcmp(c->what, "register") ? "registered" :
			"terminated", c->machine);
	}
	call_free(c);
}

static void call_machined(const char *method, GVariant *args,
			  struct call *c)
{
	g_dbus_connection_call(bus, MACHINED_NAME, MACHINED_PATH,
			       MACHINED_IFACE, method, args, NULL,
			       G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL,
			       on_reply, c);
}

void dv_machined_register(const char *domain_name, const uint8_t uuid[16],
			  int id, pid_t leader, const char *log_path,
			  int gate_fd)
{
	static const char *const after[] = { "virtduvisord.service", NULL };
	GVariantBuilder props;
	struct call *c;
	g_autofree char *desc = NULL;

	if (!system_bus()) {
		if (gate_fd >= 0)
			close(gate_fd);
		return;
	}
	c = g_new0(struct call, 1);
	c->gate_fd = gate_fd;
	c->machine = dv_machine_name(domain_name, id);
	c->log_path = g_strdup(log_path);
	c->what = "register";
	desc = g_strdup_printf("DuVisor virtual machine %s", domain_name);
	g_variant_builder_init(&props, G_VARIANT_TYPE("a(sv)"));
	g_variant_builder_add(&props, "(sv)", "Slice",
			      g_variant_new_string("machine.slice"));
	g_variant_builder_add(&props, "(sv)", "Description",
			      g_variant_new_string(desc));
	g_variant_builder_add(&props, "(sv)", "After",
			      g_variant_new_strv(after, -1));
	g_variant_builder_add(&props, "(sv)", "CPUAccounting",
			      g_variant_new_boolean(TRUE));
	g_variant_builder_add(&props, "(sv)", "MemoryAccounting",
			      g_variant_new_boolean(TRUE));
	g_variant_builder_add(&props, "(sv)", "TasksAccounting",
			      g_variant_new_boolean(TRUE));
	/* The VM's network interfaces are not known to machined (yet). */
	call_machined("CreateMachineWithNetwork",
		      g_variant_new("(s@ayssus@ai@a(sv))", c->machine,
				    g_variant_new_fixed_array(
					    G_VARIANT_TYPE_BYTE, uuid, 16, 1),
				    "duvisor", "vm", (guint32)leader, "",
				    g_variant_new_fixed_array(
					    G_VARIANT_TYPE_INT32, NULL, 0,
					    sizeof(gint32)),
				    g_variant_builder_end(&props)),
		      c);
}

void dv_machined_terminate(const char *domain_name, int id)
{
	struct call *c;

	if (!system_bus())
		return;
	c = g_new0(struct call, 1);
	c->gate_fd = -1;
	c->machine = dv_machine_name(domain_name, id);
	c->what = "terminate";
	call_machined("TerminateMachine", g_variant_new("(s)", c->machine),
		      c);
}

void dv_machined_shutdown(void)
{
	if (bus) {
		/* Pending calls are sent before we let go. */
		g_dbus_connection_flush_sync(bus, NULL, NULL);
		g_clear_object(&bus);
	}
	bus_checked = false;
}
