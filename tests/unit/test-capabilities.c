// SPDX-License-Identifier: GPL-2.0-or-later
/* Host and domain capabilities: the fields virt-install, virt-manager and
 * nova read, on the real host and on made-up ones. */
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "capabilities.h"
#include "test-domain-conf.h"

static xmlDoc *parse(const char *xml)
{
	xmlDoc *doc = xmlReadMemory(xml, (int)strlen(xml), "caps.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);

	if (!doc)
		g_test_message("not well-formed:\n%s", xml);
	g_assert_nonnull(doc);
	return doc;
}

/* string(@expr) */
static char *xp(xmlDoc *doc, const char *expr)
{
	xmlXPathContext *ctxt = xmlXPathNewContext(doc);
	g_autofree char *full = g_strdup_printf("string(%s)", expr);
	xmlXPathObject *obj = xmlXPathEvalExpression((const xmlChar *)full,
						     ctxt);
	char *ret;

	g_assert_nonnull(obj);
	ret = g_strdup((const char *)obj->stringval);
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctxt);
	return ret;
}

#define assert_xp(doc, expr, want) do { \
		g_autofree char *got_ = xp((doc), (expr)); \
		g_assert_cmpstr(got_, ==, (want)); \
	} while (0)

static void put(const char *root, const char *path, const char *text)
{
	g_autofree char *full = g_build_filename(root, path, NULL);
	g_autofree char *dir = g_path_get_dirname(full);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_file_set_contents(full, text, -1, &error);
	g_assert_no_error(error);
}

static void rm_tree(const char *path)
{
	g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR))
			rm_tree(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

/* Two sockets of two cores of two threads, two NUMA nodes. */
static void make_numa_host(const char *root)
{
	GString *cpuinfo = g_string_new(NULL);

	for (int cpu = 0; cpu < 8; cpu++) {
		int socket = cpu / 4, core = (cpu / 2) % 2;
		g_autofree char *topo = g_strdup_printf(
			"sys/devices/system/cpu/cpu%d/topology", cpu);
		g_autofree char *f = NULL;
		g_autofree char *v = NULL;

		g_string_append_printf(cpuinfo,
			"processor\t: %d\nvendor_id\t: GenuineIntel\n"
			"model name\t: Fake CPU & Co @ 2.00GHz\n"
			"physical id\t: %d\nsiblings\t: 4\ncpu cores\t: 2\n"
			"flags\t\t: fpu sse4_1 pclmulqdq tsc_deadline_timer\n\n",
			cpu, socket);
		f = g_strdup_printf("%s/physical_package_id", topo);
		v = g_strdup_printf("%d\n", socket);
		put(root, f, v);
		g_free(f);
		g_free(v);
		f = g_strdup_printf("%s/core_id", topo);
		v = g_strdup_printf("%d\n", core);
		put(root, f, v);
		g_free(f);
		g_free(v);
		f = g_strdup_printf("%s/thread_siblings_list", topo);
		v = g_strdup_printf("%d-%d\n", cpu & ~1, cpu | 1);
		put(root, f, v);
	}
	put(root, "proc/cpuinfo", cpuinfo->str);
	g_string_free(cpuinfo, TRUE);
	for (int n = 0; n < 2; n++) {
		g_autofree char *dir = g_strdup_printf(
			"sys/devices/system/node/node%d", n);
		g_autofree char *f = g_strdup_printf("%s/meminfo", dir);
		g_autofree char *v = g_strdup_printf(
			"Node %d MemTotal:       %d kB\nNode %d MemFree: 1 kB\n",
			n, 4194304 * (n + 1), n);

		put(root, f, v);
		g_free(f);
		f = g_strdup_printf("%s/cpulist", dir);
		put(root, f, n ? "4-7\n" : "0-3\n");
		g_free(f);
		f = g_strdup_printf("%s/distance", dir);
		put(root, f, n ? "21 10\n" : "10 21\n");
		g_free(f);
		f = g_strdup_printf("%s/hugepages/hugepages-2048kB/nr_hugepages",
				    dir);
		put(root, f, "16\n");
	}
	put(root, "sys/devices/system/node/online", "0-1\n");
	put(root, "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages",
	    "32\n");
	put(root, "sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages",
	    "0\n");
	put(root, "sys/class/dmi/id/product_uuid",
	    "4C4C4544-0042-3610-8052-B4C04F4B4E32\n");
	put(root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
}

static void check_guest(xmlDoc *doc)
{
	assert_xp(doc, "/capabilities/guest/os_type", "hvm");
	assert_xp(doc, "/capabilities/guest/arch/@name", "x86_64");
	assert_xp(doc, "/capabilities/guest/arch/wordsize", "64");
	assert_xp(doc, "/capabilities/guest/arch/emulator", VMM_PATH);
	/* virt-install takes the first machine. */
	assert_xp(doc, "/capabilities/guest/arch/machine[1]", "duvisor");
	assert_xp(doc, "/capabilities/guest/arch/machine[@canonical='duvisor']"
		  "[1]", "pc");
	assert_xp(doc, "/capabilities/guest/arch/machine[1]/@maxCpus", "254");
	assert_xp(doc, "/capabilities/guest/arch/domain/@type", "kvm");
	assert_xp(doc, "/capabilities/guest/features/acpi/@default", "on");
	assert_xp(doc, "/capabilities/guest/features/apic/@toggle", "no");
	assert_xp(doc, "/capabilities/host/secmodel/model", "none");
	assert_xp(doc, "/capabilities/host/iommu/@support", "no");
	assert_xp(doc, "count(/capabilities/host/power_management)", "1");
}

static void test_fake_numa_host(void)
{
	g_autofree char *root = g_dir_make_tmp("dv-caps-XXXXXX", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = NULL, *why = NULL, *arch = NULL;
	xmlDoc *doc;

	make_numa_host(root);
	xml = duvisor_host_capabilities_xml_at(root, VMM_PATH, &error);
	g_assert_no_error(error);
	doc = parse(xml);
	arch = xp(doc, "/capabilities/host/cpu/arch");
	if (strcmp(arch, "x86_64") == 0)
		check_guest(doc);
	assert_xp(doc, "/capabilities/host/uuid",
		  "4c4c4544-0042-3610-8052-b4c04f4b4e32");
	assert_xp(doc, "/capabilities/host/cpu/model", "Fake CPU & Co @ 2.00GHz");
	assert_xp(doc, "/capabilities/host/cpu/vendor", "Intel");
	assert_xp(doc, "/capabilities/host/cpu/topology/@sockets", "2");
	assert_xp(doc, "/capabilities/host/cpu/topology/@cores", "2");
	assert_xp(doc, "/capabilities/host/cpu/topology/@threads", "2");
	assert_xp(doc, "count(/capabilities/host/cpu/feature[@name='sse4_1' or "
		  "@name='pclmuldq' or @name='tsc-deadline'])", "3");
	assert_xp(doc, "count(/capabilities/host/cpu/pages)", "3");
	assert_xp(doc, "/capabilities/host/cpu/pages[3]/@size", "1048576");
	assert_xp(doc, "/capabilities/host/topology/cells/@num", "2");
	assert_xp(doc, "/capabilities/host/topology/cells/cell[2]/memory",
		  "8388608");
	assert_xp(doc, "/capabilities/host/topology/cells/cell[1]/"
		  "pages[@size='2048']", "16");
	assert_xp(doc, "/capabilities/host/topology/cells/cell[1]/"
		  "pages[@size='4']", "1040384");
	assert_xp(doc, "/capabilities/host/topology/cells/cell[2]/distances/"
		  "sibling[1]/@value", "21");
	assert_xp(doc, "/capabilities/host/topology/cells/cell[2]/cpus/@num",
		  "4");
	assert_xp(doc, "/capabilities/host/topology/cells/cell[2]/cpus/"
		  "cpu[@id='7']/@socket_id", "1");
	assert_xp(doc, "/capabilities/host/topology/cells/cell[2]/cpus/"
		  "cpu[@id='7']/@core_id", "1");
	assert_xp(doc, "/capabilities/host/topology/cells/cell[2]/cpus/"
		  "cpu[@id='7']/@siblings", "6-7");
	xmlFreeDoc(doc);
	g_assert_true(dc_libvirt_valid(xml, "capability.rng", &why));
	rm_tree(root);
}

static void test_fake_plain_host(void)
{
	g_autofree char *root = g_dir_make_tmp("dv-caps-XXXXXX", NULL);
	g_autofree char *empty = g_dir_make_tmp("dv-caps-XXXXXX", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = NULL, *again = NULL, *bare = NULL;
	g_autofree char *u1 = NULL, *u2 = NULL;
	xmlDoc *doc;

	put(root, "proc/cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\n"
	    "model name\t: Fake AMD\nflags\t: fpu\n");
	put(root, "proc/meminfo", "MemTotal:        1024000 kB\n");
	put(root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
	xml = duvisor_host_capabilities_xml_at(root, VMM_PATH, &error);
	g_assert_no_error(error);
	doc = parse(xml);
	assert_xp(doc, "/capabilities/host/uuid",
		  "01234567-89ab-cdef-0123-456789abcdef");
	assert_xp(doc, "/capabilities/host/cpu/vendor", "AMD");
	assert_xp(doc, "/capabilities/host/topology/cells/@num", "1");
	assert_xp(doc, "/capabilities/host/topology/cells/cell/memory",
		  "1024000");
	assert_xp(doc, "/capabilities/host/topology/cells/cell/cpus/cpu/"
		  "@siblings", "0");
	xmlFreeDoc(doc);

	/* Nothing readable at all: still a document, and a stable UUID. */
	bare = duvisor_host_capabilities_xml_at(empty, VMM_PATH, &error);
	again = duvisor_host_capabilities_xml_at(empty, VMM_PATH, &error);
	g_assert_no_error(error);
	doc = parse(bare);
	u1 = xp(doc, "/capabilities/host/uuid");
	assert_xp(doc, "/capabilities/host/cpu/model", "unknown");
	xmlFreeDoc(doc);
	doc = parse(again);
	u2 = xp(doc, "/capabilities/host/uuid");
	xmlFreeDoc(doc);
	g_assert_cmpuint(strlen(u1), ==, 36);
	g_assert_cmpstr(u1, ==, u2);
	rm_tree(root);
	rm_tree(empty);
}

static void test_real_host(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = duvisor_host_capabilities_xml(VMM_PATH, &error);
	g_autofree char *why = NULL, *arch = NULL, *cells = NULL;
	xmlDoc *doc;

	g_assert_no_error(error);
	doc = parse(xml);
	arch = xp(doc, "/capabilities/host/cpu/arch");
	g_assert_cmpstr(arch, !=, "");
	if (strcmp(arch, "x86_64") == 0)
		check_guest(doc);
	cells = xp(doc, "/capabilities/host/topology/cells/@num");
	g_assert_cmpint(atoi(cells), >=, 1);
	assert_xp(doc, "count(/capabilities/host/topology/cells/cell[1]/cpus/"
		  "cpu) > 0", "true");
	xmlFreeDoc(doc);
	if (!dc_libvirt_valid(xml, "capability.rng", &why))
		g_test_message("%s\n%s", why, xml);
	g_assert_null(why);
	g_assert_null(duvisor_host_capabilities_xml(NULL, &error));
	g_assert_error(error, DUVISOR_CONF_ERROR, VIR_ERR_INVALID_ARG);
}

static void test_domain_caps(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = duvisor_domain_capabilities_xml(
		VMM_PATH, NULL, NULL, NULL, NULL, &error);
	g_autofree char *alias = NULL, *why = NULL;
	xmlDoc *doc;

	g_assert_no_error(error);
	doc = parse(xml);
	assert_xp(doc, "/domainCapabilities/path", VMM_PATH);
	assert_xp(doc, "/domainCapabilities/domain", "kvm");
	assert_xp(doc, "/domainCapabilities/machine", "duvisor");
	assert_xp(doc, "/domainCapabilities/arch", "x86_64");
	assert_xp(doc, "/domainCapabilities/vcpu/@max", "254");
	assert_xp(doc, "/domainCapabilities/os/loader/@supported", "no");
	assert_xp(doc, "count(/domainCapabilities/os/enum[@name='firmware']/"
		  "value)", "0");
	assert_xp(doc, "/domainCapabilities/cpu/mode[@name='host-passthrough']"
		  "/@supported", "yes");
	/* virt-install's "safe host-model" test reads this. */
	assert_xp(doc, "/domainCapabilities/cpu/mode[@name='host-model']/"
		  "model/@fallback", "forbid");
	assert_xp(doc, "/domainCapabilities/cpu/mode[@name='custom']/"
		  "@supported", "no");
	assert_xp(doc, "/domainCapabilities/devices/disk/enum[@name="
		  "'diskDevice']/value[2]", "cdrom");
	assert_xp(doc, "/domainCapabilities/devices/disk/enum[@name='bus']/"
		  "value", "virtio");
	assert_xp(doc, "/domainCapabilities/devices/rng/enum[@name='model']/"
		  "value", "virtio");
	assert_xp(doc, "/domainCapabilities/devices/graphics/@supported", "no");
	assert_xp(doc, "/domainCapabilities/features/sev/@supported", "no");
	xmlFreeDoc(doc);
	if (!dc_libvirt_valid(xml, "domaincaps.rng", &why))
		g_test_message("%s\n%s", why, xml);
	g_assert_null(why);

	/* An alias answers with the canonical machine (nova keys on it). */
	alias = duvisor_domain_capabilities_xml(VMM_PATH, VMM_PATH, "x86_64",
						"q35", "kvm", &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(alias, "<machine>duvisor</machine>"));
}

static void test_domain_caps_errors(void)
{
	static const struct {
		const char *emulator, *arch, *machine, *type;
		int code;
	} t[] = {
		{ "/usr/bin/qemu-system-x86_64", NULL, NULL, NULL,
		  VIR_ERR_INVALID_ARG },
		{ NULL, "aarch64", NULL, NULL, VIR_ERR_CONFIG_UNSUPPORTED },
		{ NULL, NULL, "microvm", NULL, VIR_ERR_INVALID_ARG },
		{ NULL, NULL, NULL, "qemu", VIR_ERR_CONFIG_UNSUPPORTED },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autoptr(GError) error = NULL;

		g_assert_null(duvisor_domain_capabilities_xml(
			VMM_PATH, t[i].emulator, t[i].arch, t[i].machine,
			t[i].type, &error));
		g_assert_error(error, DUVISOR_CONF_ERROR, t[i].code);
	}
	g_assert_true(duvisor_machine_supported("pc-i440fx-7.2"));
	g_assert_false(duvisor_machine_supported("isapc"));
	g_assert_false(duvisor_machine_supported(NULL));
}

void dc_register_caps(void)
{
	g_test_add_func("/capabilities/fake-numa-host", test_fake_numa_host);
	g_test_add_func("/capabilities/fake-plain-host", test_fake_plain_host);
	g_test_add_func("/capabilities/real-host", test_real_host);
	g_test_add_func("/capabilities/domain", test_domain_caps);
	g_test_add_func("/capabilities/domain-errors", test_domain_caps_errors);
}
