// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain XML: the fixtures parse to what they say, round trips are exact,
 * and every document (fixtures and formatter output) is valid for our
 * RelaxNG schema (and libvirt's, when installed).
 */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/relaxng.h>

#include "test-domain-conf.h"

static const char *const fixtures[] = {
	"domain-minimal.xml", "domain-virt-install.xml",
	"domain-virt-install-qemu.xml", "domain-nova.xml", "domain-full.xml",
	"domain-tck.xml",
};

/* ---- helpers ---- */

char *dc_fixture(const char *name)
{
	g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data",
						      name, NULL);
	g_autoptr(GError) error = NULL;
	char *text = NULL;

	g_file_get_contents(path, &text, NULL, &error);
	g_assert_no_error(error);
	return text;
}

struct duvisor_domain_def *dc_parse_ok(const char *xml)
{
	g_autoptr(GError) error = NULL;
	struct duvisor_domain_def *def = duvisor_domain_def_parse(xml, 0,
								  &error);

	if (!def)
		g_test_message("rejected: %s\n%s", error->message, xml);
	g_assert_no_error(error);
	g_assert_nonnull(def);
	return def;
}

void dc_expect_error(const char *xml, int code, const char *needle)
{
	g_autoptr(GError) error = NULL;
	struct duvisor_domain_def *def = duvisor_domain_def_parse(xml, 0,
								  &error);

	if (def)
		g_test_message("accepted, expected error %d:\n%s", code, xml);
	g_assert_null(def);
	g_assert_error(error, DUVISOR_CONF_ERROR, code);
	if (needle && !strstr(error->message, needle)) {
		g_test_message("message '%s' lacks '%s'", error->message,
			       needle);
		g_assert_not_reached();
	}
}

char *dc_domain(const char *extra, const char *devices)
{
	return g_strdup_printf("<domain type='kvm'><name>t</name>"
			       "<memory>65536</memory>"
			       "<os><type>hvm</type><kernel>/k</kernel></os>"
			       "%s<devices>%s</devices></domain>",
			       extra ? extra : "", devices ? devices : "");
}

static void collect_error(void *data, xmlErrorPtr err)
{
	char **why = data;

	if (!*why && err && err->message)
		*why = g_strdup_printf("line %d: %s", err->line, err->message);
}

static bool validate(const char *xml, const char *rng, char **why)
{
	xmlRelaxNGParserCtxtPtr pctxt = xmlRelaxNGNewParserCtxt(rng);
	xmlRelaxNGPtr schema;
	xmlRelaxNGValidCtxtPtr vctxt;
	xmlDocPtr doc;
	char *msg = NULL;
	bool ok;

	xmlRelaxNGSetParserStructuredErrors(pctxt, collect_error, &msg);
	schema = xmlRelaxNGParse(pctxt);
	xmlRelaxNGFreeParserCtxt(pctxt);
	if (!schema)
		g_test_message("schema %s: %s", rng, msg ? msg : "?");
	g_assert_nonnull(schema);
	doc = xmlReadMemory(xml, (int)strlen(xml), "test.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
			    XML_PARSE_NOWARNING);
	if (!doc) {
		ok = false;
		msg = msg ? msg : g_strdup("not well-formed");
	} else {
		vctxt = xmlRelaxNGNewValidCtxt(schema);
		xmlRelaxNGSetValidStructuredErrors(vctxt, collect_error, &msg);
		ok = xmlRelaxNGValidateDoc(vctxt, doc) == 0;
		xmlRelaxNGFreeValidCtxt(vctxt);
		xmlFreeDoc(doc);
	}
	xmlRelaxNGFree(schema);
	if (why)
		*why = msg;
	else
		g_free(msg);
	return ok;
}

bool dc_schema_valid(const char *xml, char **why)
{
	g_autofree char *rng = g_test_build_filename(G_TEST_DIST, "..", "..",
						     "xml-schemas",
						     "domain.rng", NULL);

	return validate(xml, rng, why);
}

bool dc_libvirt_valid(const char *xml, const char *rng, char **why)
{
	g_autofree char *path = g_build_filename("/usr/share/libvirt/schemas",
						 rng, NULL);

	if (!g_file_test(path, G_FILE_TEST_EXISTS))
		return true;
	return validate(xml, path, why);
}

static void assert_valid_everywhere(const char *xml, const char *what)
{
	g_autofree char *why = NULL;

	if (!dc_schema_valid(xml, &why))
		g_test_message("%s: not valid for domain.rng: %s\n%s", what,
			       why, xml);
	g_assert_null(why);
	if (!dc_libvirt_valid(xml, "domain.rng", &why))
		g_test_message("%s: not valid for libvirt's schema: %s\n%s",
			       what, why, xml);
	g_assert_null(why);
}

static struct duvisor_domain_def *fixture_def(const char *name)
{
	g_autofree char *xml = dc_fixture(name);

	return dc_parse_ok(xml);
}

static bool uuid_is(const struct duvisor_domain_def *def, const char *s)
{
	char buf[37];

	duvisor_uuid_format(def->uuid, buf);
	return strcmp(buf, s) == 0;
}

static const char *mac_of(const struct duvisor_domain_def *def, guint i,
			  char buf[18])
{
	duvisor_mac_format(duvisor_def_net(def, i)->mac, buf);
	return buf;
}

/* ---- fixtures ---- */

/* The default balloon is formatted back; model='none' stays none. */
static void test_memballoon(void)
{
	static const struct { const char *dev, *want; } t[] = {
		{ "", "<memballoon model='virtio'/>" },
		{ "<memballoon model='none'/>", "<memballoon model='none'/>" },
		{ "<memballoon model='virtio'><stats period='7'/></memballoon>",
		  "<memballoon model='virtio'>\n      <stats period='7'/>\n"
		  "    </memballoon>" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *xml = dc_domain(NULL, t[i].dev);
		g_autoptr(duvisor_domain_def) def = dc_parse_ok(xml);
		g_autofree char *out = duvisor_domain_def_format(def, NULL, 0);
		g_autoptr(duvisor_domain_def) again = dc_parse_ok(out);

		if (!strstr(out, t[i].want))
			g_test_message("%s lacks %s", out, t[i].want);
		g_assert_nonnull(strstr(out, t[i].want));
		g_assert_true(duvisor_domain_def_equal(def, again));
	}
}

/* <memoryBacking>: what guest RAM is, formatted back as given. */
static void test_memory_backing(void)
{
	static const char *const t[] = {
		"<memoryBacking><nosharepages/></memoryBacking>",
		"<memoryBacking><nosharepages/><source type='anonymous'/>"
		"<access mode='private'/><allocation mode='ondemand'/><discard/>"
		"</memoryBacking>",
		"<memoryBacking><discard/><source type='anonymous'/>"
		"</memoryBacking>",
		"<memoryBacking/>",
	};
	static const char *const children[] = {
		"<nosharepages/>", "<source type='anonymous'/>",
		"<access mode='private'/>", "<allocation mode='ondemand'/>",
		"<discard/>",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *xml = dc_domain(t[i], NULL);
		g_autoptr(duvisor_domain_def) def = dc_parse_ok(xml);
		g_autofree char *out = duvisor_domain_def_format(def, NULL, 0);
		g_autoptr(duvisor_domain_def) again = dc_parse_ok(out);

		g_assert_true(def->memory_backing.present);
		g_assert_cmpint(def->memory_backing.nosharepages, ==,
				strstr(t[i], "<nosharepages/>") != NULL);
		g_assert_nonnull(strstr(out, "<memoryBacking>"));
		for (size_t c = 0; c < G_N_ELEMENTS(children); c++)
			g_assert_cmpint(strstr(out, children[c]) != NULL, ==,
					strstr(t[i], children[c]) != NULL);
		/* Before <vcpu>, where libvirt writes it. */
		g_assert_true(strstr(out, "<memoryBacking>") <
			      strstr(out, "<vcpu"));
		g_assert_true(duvisor_domain_def_equal(def, again));
		assert_valid_everywhere(out, t[i]);
	}
}

static void test_minimal(void)
{
	g_autoptr(duvisor_domain_def) def = fixture_def("domain-minimal.xml");
	char uuid[37];

	g_assert_cmpstr(def->name, ==, "minimal");
	g_assert_cmpuint(def->memory_kib, ==, 256 * 1024);
	g_assert_cmpuint(def->current_memory_kib, ==, 256 * 1024);
	g_assert_cmpuint(def->vcpus, ==, 1);
	g_assert_cmpuint(def->vcpus_current, ==, 1);
	g_assert_cmpstr(def->arch, ==, "x86_64");
	g_assert_cmpstr(def->machine, ==, "duvisor");
	g_assert_cmpstr(def->kernel, ==, "/var/lib/duvisor/images/vmlinuz");
	g_assert_null(def->initrd);
	g_assert_null(def->cmdline);
	g_assert_cmpint(def->on_poweroff, ==, DUVISOR_ACTION_DESTROY);
	g_assert_cmpint(def->on_reboot, ==, DUVISOR_ACTION_RESTART);
	g_assert_cmpint(def->on_crash, ==, DUVISOR_ACTION_DESTROY);
	g_assert_cmpint(def->cpu_mode, ==, DUVISOR_CPU_NONE);
	g_assert_cmpuint(def->disks->len + def->nets->len + def->serials->len +
			 def->consoles->len, ==, 0);
	/* A virtio balloon without statistics, as libvirt adds for KVM. */
	g_assert_true(def->has_memballoon && def->memballoon_virtio);
	g_assert_cmpuint(def->balloon_stats_period, ==, 0);
	/* A random (version 4) UUID was made up. */
	duvisor_uuid_format(def->uuid, uuid);
	g_assert_cmpint(uuid[14], ==, '4');
	g_assert_true(strchr("89ab", uuid[19]));
}

static void test_virt_install(void)
{
	g_autoptr(duvisor_domain_def) def =
		fixture_def("domain-virt-install.xml");
	struct duvisor_disk_def *d;
	char mac[18];

	g_assert_true(uuid_is(def, "3f0c7a8e-5f7d-4c1b-9a57-0a8de2c1b6f4"));
	g_assert_nonnull(strstr(def->metadata_xml, "libosinfo:os id="
				"\"http://libosinfo.org/linux/2022\""));
	g_assert_cmpuint(def->memory_kib, ==, 1048576);
	g_assert_cmpuint(def->vcpus, ==, 2);
	g_assert_cmpstr(def->cmdline, ==, "console=ttyS0 root=/dev/vda");
	g_assert_cmpstr(def->initrd, ==, "/var/lib/libvirt/boot/initrd.img");
	g_assert_true(def->acpi && def->apic);
	g_assert_cmpstr(def->emulator, ==, VMM_PATH);
	g_assert_cmpuint(def->disks->len, ==, 1);
	d = duvisor_def_disk(def, 0);
	g_assert_cmpint(d->type, ==, DUVISOR_DISK_FILE);
	g_assert_cmpint(d->device, ==, DUVISOR_DISK_DISK);
	g_assert_cmpint(d->format, ==, DUVISOR_FORMAT_NONE);
	g_assert_cmpint(d->bus, ==, DUVISOR_BUS_IDE);
	g_assert_cmpstr(d->target, ==, "hda");
	g_assert_cmpuint(def->nets->len, ==, 1);
	g_assert_cmpint(duvisor_def_net(def, 0)->type, ==, DUVISOR_NET_NETWORK);
	g_assert_cmpstr(duvisor_def_net(def, 0)->source, ==, "default");
	g_assert_cmpstr(duvisor_def_net(def, 0)->model, ==, "virtio");
	g_assert_cmpstr(mac_of(def, 0, mac), ==, "00:16:3e:5d:a1:07");
	/* <console type='pty'/> alone becomes serial 0 plus its console. */
	g_assert_cmpuint(def->serials->len, ==, 1);
	g_assert_cmpuint(def->consoles->len, ==, 1);
	g_assert_cmpint(duvisor_def_serial(def, 0)->type, ==, DUVISOR_CHR_PTY);
	g_assert_cmpint(duvisor_def_serial(def, 0)->port, ==, 0);
	g_assert_nonnull(strstr(def->clock_xml, "offset=\"utc\""));
}

static void test_virt_install_qemu(void)
{
	g_autoptr(duvisor_domain_def) def =
		fixture_def("domain-virt-install-qemu.xml");

	g_assert_cmpstr(def->machine, ==, "q35");
	g_assert_cmpint(def->cpu_mode, ==, DUVISOR_CPU_HOST_PASSTHROUGH);
	g_assert_cmpstr(def->cpu_check, ==, "none");
	g_assert_cmpstr(def->cpu_migratable, ==, "on");
	g_assert_nonnull(strstr(def->clock_xml, "hpet"));
	g_assert_nonnull(strstr(def->pm_xml, "suspend-to-disk"));
	g_assert_cmpint(duvisor_def_disk(def, 0)->format, ==,
			DUVISOR_FORMAT_QCOW2);
	g_assert_cmpstr(duvisor_def_disk(def, 0)->discard, ==, "unmap");
	g_assert_true(duvisor_def_disk(def, 0)->driver_qemu);
	g_assert_cmpuint(def->controllers_xml->len, ==, 6);
	g_assert_cmpuint(def->channels_xml->len, ==, 1);
	g_assert_true(def->has_memballoon && def->memballoon_virtio);
	g_assert_cmpuint(def->rngs->len, ==, 1);
	g_assert_cmpstr(duvisor_def_rng(def, 0)->device, ==, "/dev/urandom");
}

static void test_nova(void)
{
	g_autoptr(duvisor_domain_def) def = fixture_def("domain-nova.xml");
	struct duvisor_disk_def *cd;
	struct duvisor_net_def *n;
	struct duvisor_chr_def *s;

	g_assert_cmpstr(def->name, ==, "instance-0000002a");
	g_assert_true(uuid_is(def, "6f1d3b0a-2e4c-4a8b-9c7d-5e6f7a8b9c0d"));
	g_assert_nonnull(strstr(def->metadata_xml, "<nova:name>web-1<"));
	g_assert_nonnull(strstr(def->sysinfo_xml, "OpenStack Foundation"));
	g_assert_cmpstr(def->smbios_mode, ==, "sysinfo");
	g_assert_cmpuint(def->memory_kib, ==, 2097152);
	g_assert_cmpint(def->cpu_mode, ==, DUVISOR_CPU_HOST_MODEL);
	g_assert_cmpstr(def->cpu_match, ==, "exact");
	g_assert_cmpuint(def->cpu_sockets, ==, 2);
	g_assert_cmpuint(def->cpu_cores * def->cpu_threads, ==, 1);
	g_assert_cmpuint(def->disks->len, ==, 2);
	g_assert_cmpint(duvisor_def_disk(def, 0)->format, ==,
			DUVISOR_FORMAT_QCOW2);
	g_assert_cmpstr(duvisor_def_disk(def, 0)->cache, ==, "none");
	cd = duvisor_def_disk(def, 1);
	g_assert_cmpint(cd->device, ==, DUVISOR_DISK_CDROM);
	g_assert_true(cd->readonly);
	g_assert_cmpint(cd->bus, ==, DUVISOR_BUS_SATA);
	g_assert_true(g_str_has_suffix(cd->path, "/disk.config"));
	n = duvisor_def_net(def, 0);
	g_assert_cmpint(n->type, ==, DUVISOR_NET_BRIDGE);
	g_assert_cmpstr(n->source, ==, "brq5e1c2d3a-4f");
	g_assert_cmpstr(n->target, ==, "tap12345678-9a");
	g_assert_cmpstr(n->driver_name, ==, "vhost");
	g_assert_cmpuint(n->rx_queue_size, ==, 512);
	g_assert_cmpuint(n->mtu, ==, 1450);
	g_assert_cmpuint(def->serials->len, ==, 1);
	s = duvisor_def_serial(def, 0);
	g_assert_true(g_str_has_suffix(s->log_file, "/console.log"));
	g_assert_cmpint(s->log_append, ==, DUVISOR_OFF);
	/* The console is the serial port, log included. */
	g_assert_cmpstr(duvisor_def_console(def, 0)->log_file, ==,
			s->log_file);
	g_assert_nonnull(def->graphics);
	g_assert_cmpstr(def->graphics->listen, ==, "0.0.0.0");
	g_assert_cmpint(def->graphics->autoport, ==, DUVISOR_ON);
	g_assert_cmpint(def->graphics->port, ==, -1);
	g_assert_cmpuint(def->videos_xml->len, ==, 1);
	g_assert_cmpuint(def->inputs_xml->len, ==, 1);
	g_assert_cmpuint(def->balloon_stats_period, ==, 10);
}

static void test_full(void)
{
	g_autoptr(duvisor_domain_def) def = fixture_def("domain-full.xml");
	struct duvisor_net_def *br;
	char mac[18];

	g_assert_cmpstr(def->name, ==, "full guest");
	g_assert_true(uuid_is(def, "00112233-4455-6677-8899-aabbccddeeff"));
	g_assert_cmpstr(def->description, ==,
			"Several\nlines & \"quotes\" <here>");
	g_assert_cmpuint(def->max_memory_kib, ==, 8 * 1024 * 1024);
	g_assert_cmpuint(def->max_memory_slots, ==, 16);
	g_assert_cmpuint(def->current_memory_kib, ==, 1536 * 1024);
	g_assert_cmpuint(def->vcpus, ==, 4);
	g_assert_cmpuint(def->vcpus_current, ==, 2);
	g_assert_cmpstr(def->vcpu_cpuset, ==, "0-3,^2");
	g_assert_cmpint(def->on_poweroff, ==, DUVISOR_ACTION_PRESERVE);
	g_assert_cmpint(def->on_reboot, ==, DUVISOR_ACTION_DESTROY);
	g_assert_cmpint(def->on_crash, ==, DUVISOR_ACTION_COREDUMP_RESTART);
	g_assert_cmpuint(def->disks->len, ==, 4);
	g_assert_cmpuint(duvisor_def_disk(def, 0)->boot_order, ==, 1);
	g_assert_cmpstr(duvisor_def_disk(def, 0)->serial, ==, "ROOT-0001");
	g_assert_cmpint(duvisor_def_disk(def, 1)->type, ==, DUVISOR_DISK_BLOCK);
	g_assert_cmpint(duvisor_def_disk(def, 1)->bus, ==, DUVISOR_BUS_VIRTIO);
	g_assert_true(duvisor_def_disk(def, 1)->shareable);
	g_assert_cmpstr(duvisor_def_disk(def, 2)->pool, ==, "default");
	g_assert_cmpstr(duvisor_def_disk(def, 2)->volume, ==, "scratch.qcow2");
	g_assert_null(duvisor_def_disk(def, 3)->path);    /* empty cdrom */
	br = duvisor_def_net(def, 0);
	g_assert_cmpstr(mac_of(def, 0, mac), ==, "52:54:00:ab:cd:ef");
	g_assert_cmpstr(br->source, ==, "br0");
	g_assert_cmpuint(br->mtu, ==, 9000);
	g_assert_cmpuint(br->queues, ==, 4);
	g_assert_cmpint(br->link_up, ==, DUVISOR_ON);
	g_assert_cmpstr(duvisor_def_net(def, 1)->target, ==, "tap-full0");
	g_assert_cmpint(duvisor_def_net(def, 1)->target_managed, ==,
			DUVISOR_OFF);
	/* Live state (a generated tap name, the network's port) is not
	 * configuration. */
	g_assert_cmpstr(duvisor_def_net(def, 2)->source, ==, "default");
	g_assert_null(duvisor_def_net(def, 2)->target);
	g_assert_true(g_str_has_prefix(mac_of(def, 2, mac), "52:54:00:"));
	g_assert_cmpuint(def->serials->len, ==, 3);
	g_assert_true(duvisor_def_serial(def, 1)->unix_connect);
	g_assert_cmpint(duvisor_def_serial(def, 2)->port, ==, 2);
	g_assert_cmpint(duvisor_def_console(def, 1)->target, ==,
			DUVISOR_CHR_TARGET_VIRTIO);
	g_assert_cmpstr(def->graphics->passwd, ==, "s3cret");
	g_assert_cmpint(def->graphics->port, ==, 5905);
	g_assert_cmpuint(def->rngs->len, ==, 2);
	g_assert_true(duvisor_def_rng(def, 1)->builtin);
	g_assert_cmpuint(duvisor_def_rng(def, 0)->rate_bytes, ==, 1024);
	g_assert_true(def->has_vsock && !def->vsock_auto);
	g_assert_cmpuint(def->vsock_cid, ==, 42);
	g_assert_cmpint(def->balloon_autodeflate, ==, DUVISOR_ON);
	/* The metadata's namespace, declared on <domain>, travels with it. */
	g_assert_nonnull(strstr(def->metadata_xml,
				"xmlns:my=\"urn:example:my\""));
	g_assert_nonnull(strstr(def->metadata_xml, "<!-- even this -->"));
}

static void test_tck(void)
{
	g_autoptr(duvisor_domain_def) def = fixture_def("domain-tck.xml");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) argv = NULL;
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(
		(GDestroyNotify)duvisor_vmm_file_free);

	g_assert_cmpstr(def->boot_devs[0], ==, "hd");
	g_assert_null(def->boot_devs[1]);
	g_assert_cmpint(def->on_reboot, ==, DUVISOR_ACTION_DESTROY);
	g_assert_cmpuint(def->rngs->len, ==, 1);
	argv = duvisor_domain_def_vmm_args(def, VMM_PATH, 0, files, NULL,
					   &error);
	g_assert_no_error(error);
	g_assert_cmpstr(g_ptr_array_index(argv, argv->len - 2), ==,
			"--no-reboot");
}

/* ---- round trips ---- */

static void test_round_trip(void)
{
	const struct duvisor_net_live nets[] = {
		{ .tap = "vnet7" }, { 0 },
		{ .tap = "vnet8", .bridge = "virbr0",
		  .portid = "5d4b39ad-0f18-4b9c-a1ad-8a0a8d1f7a3e" },
	};
	struct duvisor_domain_live live = {
		.id = 7, .console_pty = "/dev/pts/9", .nets = nets,
		.n_nets = 3, .vsock_cid = 99, .vnc_port = 5901,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(fixtures); i++) {
		g_autofree char *xml = dc_fixture(fixtures[i]);
		g_autoptr(duvisor_domain_def) a = dc_parse_ok(xml);
		g_autofree char *xa = duvisor_domain_def_format(
			a, NULL, DUVISOR_FORMAT_SECURE);
		g_autoptr(duvisor_domain_def) b = dc_parse_ok(xa);
		g_autofree char *xb = duvisor_domain_def_format(
			b, NULL, DUVISOR_FORMAT_SECURE);
		g_autofree char *xl = duvisor_domain_def_format(
			a, &live, DUVISOR_FORMAT_SECURE);
		g_autoptr(duvisor_domain_def) c = dc_parse_ok(xl);

		assert_valid_everywhere(xml, fixtures[i]);
		assert_valid_everywhere(xa, "formatted");
		assert_valid_everywhere(xl, "formatted live");
		g_assert_cmpstr(xa, ==, xb);
		g_assert_true(duvisor_domain_def_equal(a, b));
		g_assert_true(duvisor_domain_def_equal_identity(a, b));
		/* Live data is dropped again by the parser. */
		g_assert_true(duvisor_domain_def_equal(a, c));
		g_assert_nonnull(strstr(xl, "<domain type='kvm' id='7'>"));
	}
}

static void test_units(void)
{
	static const struct { const char *unit, *value; uint64_t kib; } t[] = {
		{ NULL, "1", 1 }, { "b", "1", 1 }, { "bytes", "1025", 2 },
		{ "b", "2048", 2 }, { "k", "7", 7 }, { "KiB", "7", 7 },
		{ "KB", "1000", 977 }, { "M", "3", 3072 }, { "MiB", "1", 1024 },
		{ "MB", "1", 977 }, { "G", "1", 1048576 },
		{ "GiB", "2", 2097152 }, { "GB", "1", 976563 },
		{ "T", "1", 1ull << 30 }, { "TiB", "1", 1ull << 30 },
		{ "TB", "1", 976562500 }, { "P", "4", 1ull << 42 },
		{ "PiB", "1", 1ull << 40 }, { "KiB", "0004", 4 },
		{ "KiB", " 12\n", 12 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *unit = t[i].unit ?
			g_strdup_printf(" unit='%s'", t[i].unit) : g_strdup("");
		g_autofree char *xml = g_strdup_printf(
			"<domain type='kvm'><name>u</name><memory%s>%s</memory>"
			"<os><type>hvm</type></os></domain>", unit, t[i].value);
		g_autoptr(duvisor_domain_def) def = dc_parse_ok(xml);

		g_assert_cmpuint(def->memory_kib, ==, t[i].kib);
	}
}

static void test_memory_rules(void)
{
	g_autoptr(duvisor_domain_def) def = dc_parse_ok(
		"<domain type='kvm'><name>m</name><memory unit='MiB'>512"
		"</memory><currentMemory unit='GiB'>4</currentMemory>"
		"<os><type>hvm</type></os></domain>");

	/* Never more current memory than memory, as libvirt. */
	g_assert_cmpuint(def->current_memory_kib, ==, 512 * 1024);
}

static void test_uuid(void)
{
	static const char *const good[] = {
		"6f1d3b0a-2e4c-4a8b-9c7d-5e6f7a8b9c0d",
		"6F1D3B0A-2E4C-4A8B-9C7D-5E6F7A8B9C0D",
		"6f1d3b0a2e4c4a8b9c7d5e6f7a8b9c0d",
		"  6f1d3b0a-2e4c-4a8b-9c7d-5e6f7a8b9c0d\n",
	};
	static const char *const bad[] = {
		"6f1d3b0a-2e4c-4a8b-9c7d-5e6f7a8b9c0", "6f1d3b0a2e4c",
		"6f1d3b0a-2e4c4a8b-9c7d-5e6f7a8b9c0d0",
		"6f1d3b0a-2e4c-4a8b-9c7d-5e6f7a8b9c0g", "",
		"6f1d3b0a-2e4c-4a8b-9c7d-5e6f7a8b9c0d-",
	};
	g_autofree char *nouuid = dc_domain(NULL, NULL);
	g_autoptr(duvisor_domain_def) g1 = dc_parse_ok(nouuid);
	g_autoptr(duvisor_domain_def) g2 = dc_parse_ok(nouuid);

	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autofree char *xml = g_strdup_printf(
			"<domain type='kvm'><name>u</name><uuid>%s</uuid>"
			"<memory>1024</memory><os><type>hvm</type></os>"
			"</domain>", good[i]);
		g_autoptr(duvisor_domain_def) def = dc_parse_ok(xml);

		g_assert_true(uuid_is(def,
				      "6f1d3b0a-2e4c-4a8b-9c7d-5e6f7a8b9c0d"));
	}
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *xml = g_strdup_printf(
			"<domain type='kvm'><name>u</name><uuid>%s</uuid>"
			"<memory>1024</memory><os><type>hvm</type></os>"
			"</domain>", bad[i]);

		dc_expect_error(xml, VIR_ERR_XML_ERROR, "uuid");
		g_assert_false(dc_schema_valid(xml, NULL));
	}
	/* Generated UUIDs differ. */
	g_assert_false(duvisor_domain_def_equal_identity(g1, g2));
}

static void test_mac(void)
{
	g_autofree char *xml = dc_domain(NULL,
		"<interface type='ethernet'/><interface type='ethernet'/>"
		"<interface type='ethernet'><mac address='FA:16:3E:0A:0B:0C'/>"
		"</interface>");
	g_autoptr(duvisor_domain_def) def = dc_parse_ok(xml);
	char a[18], b[18];

	g_assert_true(g_str_has_prefix(mac_of(def, 0, a), "52:54:00:"));
	g_assert_true(g_str_has_prefix(mac_of(def, 1, b), "52:54:00:"));
	g_assert_cmpstr(a, !=, b);
	g_assert_cmpstr(mac_of(def, 2, a), ==, "fa:16:3e:0a:0b:0c");
}

static void test_live(void)
{
	const struct duvisor_net_live nets[] = {
		{ .tap = "vnet3", .bridge = "virbr0",
		  .portid = "0b3c5e7a-1d2f-4a6b-8c9d-0e1f2a3b4c5d" },
	};
	struct duvisor_domain_live live = {
		.id = 3, .console_pty = "/dev/pts/4", .nets = nets,
		.n_nets = 1,
	};
	g_autofree char *xml = dc_fixture("domain-virt-install-qemu.xml");
	g_autoptr(duvisor_domain_def) def = dc_parse_ok(xml);
	g_autofree char *out = duvisor_domain_def_format(def, &live, 0);
	g_autofree char *inactive = duvisor_domain_def_format(
		def, &live, DUVISOR_FORMAT_INACTIVE);

	g_assert_nonnull(strstr(out, "<domain type='kvm' id='3'>"));
	/* What virt-manager needs for its serial console. */
	g_assert_nonnull(strstr(out, "<serial type='pty'>\n"
				"      <source path='/dev/pts/4'/>"));
	g_assert_nonnull(strstr(out, "<console type='pty' tty='/dev/pts/4'>"));
	g_assert_nonnull(strstr(out, "<alias name='serial0'/>\n"
				"    </console>"));
	/* libvirt's live view of a network interface: port, bridge, tap. */
	g_assert_nonnull(strstr(out, "<source network='default' portid='0b3c5e7a"
				"-1d2f-4a6b-8c9d-0e1f2a3b4c5d' bridge='virbr0'/>"));
	g_assert_nonnull(strstr(out, "<target dev='vnet3'/>"));
	g_assert_null(strstr(inactive, "vnet3"));
	g_assert_null(strstr(inactive, "portid"));
	g_assert_nonnull(strstr(out, "<alias name='virtio-disk0'/>"));
	g_assert_nonnull(strstr(out, "<alias name='net0'/>"));
	g_assert_null(strstr(inactive, "id='3'"));
	g_assert_null(strstr(inactive, "alias"));
	g_assert_null(strstr(inactive, "/dev/pts"));
}

static void test_format_flags(void)
{
	g_autoptr(duvisor_domain_def) def = fixture_def("domain-full.xml");
	g_autofree char *plain = duvisor_domain_def_format(def, NULL, 0);
	g_autofree char *secure = duvisor_domain_def_format(
		def, NULL, DUVISOR_FORMAT_SECURE | DUVISOR_FORMAT_MIGRATABLE |
		DUVISOR_FORMAT_UPDATE_CPU);
	g_autoptr(GError) error = NULL;

	g_assert_null(strstr(plain, "s3cret"));
	g_assert_nonnull(strstr(secure, "passwd='s3cret'"));
	g_assert_null(duvisor_domain_def_format(def, NULL, 1u << 8));
	g_assert_null(duvisor_domain_def_parse(plain, 1, &error));
	g_assert_error(error, DUVISOR_CONF_ERROR, VIR_ERR_INVALID_ARG);
}

static void test_copy(void)
{
	g_autoptr(duvisor_domain_def) def = fixture_def("domain-nova.xml");
	g_autoptr(GError) error = NULL;
	g_autoptr(duvisor_domain_def) copy = duvisor_domain_def_copy(def,
								     &error);

	g_assert_no_error(error);
	g_assert_true(copy != def);
	g_assert_true(duvisor_domain_def_equal(def, copy));
	g_assert_true(duvisor_domain_def_equal_identity(def, copy));
	g_free(copy->name);
	copy->name = g_strdup("other");
	g_assert_false(duvisor_domain_def_equal_identity(def, copy));
	g_assert_false(duvisor_domain_def_equal(def, copy));
}

static void test_console_pairing(void)
{
	/* A serial and a console: the console mirrors serial 0. */
	g_autofree char *both = dc_domain(NULL,
		"<serial type='file'><source path='/var/log/s.log'/></serial>"
		"<console type='pty'><target type='serial'/></console>");
	/* A serial alone gets no console. */
	g_autofree char *serial = dc_domain(NULL, "<serial type='pty'/>");
	g_autoptr(duvisor_domain_def) a = dc_parse_ok(both);
	g_autoptr(duvisor_domain_def) b = dc_parse_ok(serial);

	g_assert_cmpuint(a->serials->len, ==, 1);
	g_assert_cmpint(duvisor_def_console(a, 0)->type, ==, DUVISOR_CHR_FILE);
	g_assert_cmpstr(duvisor_def_console(a, 0)->path, ==, "/var/log/s.log");
	g_assert_cmpuint(b->consoles->len, ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/domain-conf/fixture/minimal", test_minimal);
	g_test_add_func("/domain-conf/fixture/virt-install", test_virt_install);
	g_test_add_func("/domain-conf/fixture/virt-install-qemu",
			test_virt_install_qemu);
	g_test_add_func("/domain-conf/fixture/nova", test_nova);
	g_test_add_func("/domain-conf/fixture/full", test_full);
	g_test_add_func("/domain-conf/fixture/tck", test_tck);
	g_test_add_func("/domain-conf/round-trip", test_round_trip);
	g_test_add_func("/domain-conf/memballoon", test_memballoon);
	g_test_add_func("/domain-conf/memory-backing", test_memory_backing);
	g_test_add_func("/domain-conf/units", test_units);
	g_test_add_func("/domain-conf/memory-rules", test_memory_rules);
	g_test_add_func("/domain-conf/uuid", test_uuid);
	g_test_add_func("/domain-conf/mac", test_mac);
	g_test_add_func("/domain-conf/live", test_live);
	g_test_add_func("/domain-conf/format-flags", test_format_flags);
	g_test_add_func("/domain-conf/copy", test_copy);
	g_test_add_func("/domain-conf/console-pairing", test_console_pairing);
	dc_register_errors();
	dc_register_vmm();
	dc_register_caps();
	return g_test_run();
}
