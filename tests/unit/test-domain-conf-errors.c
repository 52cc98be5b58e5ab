// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Domain XML the parser refuses: malformed, unsupported, invalid, hostile.
 * Where a rule is a matter of grammar, the RelaxNG schema must refuse the
 * same document.
 */
#include <string.h>

#include "test-domain-conf.h"

struct bad {
	const char *extra;     /* before <devices> */
	const char *devices;
	int code;
	const char *needle;
	bool grammar;          /* the schema must refuse it too */
};

#define XML_ERR VIR_ERR_XML_ERROR
#define UNSUP VIR_ERR_CONFIG_UNSUPPORTED

static const struct bad bad_docs[] = {
	/* Devices and elements DuVisor does not have. */
	{ NULL, "<sound model='ich9'/>", UNSUP, "<devices><sound>", true },
	{ NULL, "<hostdev mode='subsystem' type='pci'/>", UNSUP,
	  "<devices><hostdev>", true },
	{ NULL, "<watchdog model='i6300esb'/>", UNSUP, "<devices><watchdog>",
	  true },
	{ NULL, "<tpm model='tpm-crb'/>", UNSUP, "<devices><tpm>", true },
	{ NULL, "<frobnicator/>", UNSUP, "<devices><frobnicator>", true },
	{ "<numatune><memory mode='strict' nodeset='0'/></numatune>", NULL,
	  UNSUP, "<numatune>", true },
	{ "<cputune><shares>1024</shares></cputune>", NULL, UNSUP,
	  "<cputune>", true },
	{ "<seclabel type='dynamic' model='apparmor'/>", NULL, UNSUP,
	  "<seclabel>", true },
	{ NULL, "<disk type='network' device='disk'><target dev='vda'/>"
	  "</disk>", UNSUP, "'network'", true },
	{ NULL, "<disk type='file' device='lun'><target dev='sda'/></disk>",
	  UNSUP, "'lun'", true },
	{ NULL, "<disk type='file' device='disk' snapshot='no'><source "
	  "file='/d'/><target dev='vda'/></disk>", UNSUP, "'snapshot'", true },
	{ NULL, "<disk><driver name='qemu' type='vmdk'/><source file='/d'/>"
	  "<target dev='vda'/></disk>", UNSUP, "'vmdk'", true },
	{ NULL, "<disk><source file='/d'/><target dev='vda'/><iotune>"
	  "<total_bytes_sec>1</total_bytes_sec></iotune></disk>", UNSUP,
	  "<iotune>", true },
	{ NULL, "<interface type='direct'><source dev='eth0'/></interface>",
	  UNSUP, "'direct'", true },
	{ NULL, "<interface type='ethernet'><model type='ne2k_pci'/>"
	  "</interface>", UNSUP, "ne2k_pci", true },
	/* Models libvirt knows but guests would not find: virtio only. */
	{ NULL, "<interface type='network'><source network='default'/>"
	  "<model type='e1000'/></interface>", UNSUP, "model=virtio", true },
	{ NULL, "<interface type='bridge'><source bridge='br0'/><model "
	  "type='rtl8139'/></interface>", UNSUP, "'rtl8139'", true },
	{ NULL, "<interface type='user'/>", UNSUP, "type='user'", true },
	{ NULL, "<interface type='vhostuser'/>", UNSUP, "'vhostuser'", true },
	{ NULL, "<interface type='bridge'><source bridge='br-int'/>"
	  "<virtualport type='openvswitch'/></interface>", UNSUP,
	  "Open vSwitch", true },
	{ NULL, "<interface type='bridge'><source bridge='br0'/><target "
	  "dev='tap0' managed='no'/></interface>", UNSUP, "managed='no'",
	  false },
	{ NULL, "<interface type='ethernet'><target dev='t' managed='maybe'/>"
	  "</interface>", UNSUP, "'maybe'", true },
	{ NULL, "<interface type='ethernet'><source bridge='br0'/>"
	  "</interface>", XML_ERR, "no <source>", true },
	{ NULL, "<interface type='network'><source network='n' portid='x'/>"
	  "</interface>", XML_ERR, "portid", true },
	{ NULL, "<interface type='ethernet'/><interface type='ethernet'/>"
	  "<interface type='ethernet'/><interface type='ethernet'/>"
	  "<interface type='ethernet'/>", UNSUP, "at most 4", false },
	{ NULL, "<interface type='ethernet'><bandwidth/></interface>", UNSUP,
	  "<bandwidth>", true },
	{ NULL, "<serial type='tcp'><source mode='bind' host='0.0.0.0' "
	  "service='4555'/></serial>", UNSUP, "'tcp'", true },
	{ NULL, "<graphics type='spice' autoport='yes'/>", UNSUP, "spice",
	  true },
	{ NULL, "<graphics type='vnc'/><graphics type='vnc'/>", UNSUP,
	  "more than one", true },
	{ NULL, "<controller type='xenbus'/>", UNSUP, "xenbus", true },
	{ NULL, "<input type='passthrough' bus='virtio'/>", UNSUP,
	  "passthrough", true },
	{ NULL, "<input type='tablet' bus='xen'/>", UNSUP, "xen", true },
	{ NULL, "<video><model type='vmvga'/></video>", UNSUP, "vmvga", true },
	{ NULL, "<controller type='usb'><master startport='0'><x/></master>"
	  "</controller>", UNSUP, "<master>", true },
	{ NULL, "<rng model='virtio'><backend model='egd'/></rng>",
	  UNSUP, "'egd'", true },
	{ NULL, "<rng model='virtio'><backend model='random'>/etc/passwd"
	  "</backend></rng>", UNSUP, "/etc/passwd", true },
	{ NULL, "<memballoon model='xen'/>", UNSUP, "'xen'", true },
	{ "<cpu mode='custom' match='exact'><model>Skylake</model></cpu>",
	  NULL, UNSUP, "custom", true },
	{ "<cpu mode='host-passthrough'><feature policy='disable' "
	  "name='vmx'/></cpu>", NULL, UNSUP, "<feature>", true },
	{ "<clock offset='variable'/>", NULL, UNSUP, "variable", true },
	{ "<clock offset='utc' adjustment='10'/>", NULL, UNSUP, "adjustment",
	  true },
	{ "<features><hyperv/></features>", NULL, UNSUP, "<hyperv>", true },
	{ "<features><acpi state='on'/></features>", NULL, UNSUP, "acpi",
	  true },
	{ "<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/"
	  "qemu/1.0'/>", NULL, UNSUP, "<qemu:commandline>", true },
	{ NULL, "<disk my:x='1' xmlns:my='urn:x'><source file='/d'/>"
	  "<target dev='vda'/></disk>", UNSUP, "'my:x'", true },
	{ NULL, "<disk><source file='/d'/><target dev='vda'/>"
	  "<alias name='a'><x/></alias></disk>", UNSUP, "<alias>", true },
	/* Invalid values and structure. */
	{ NULL, "<disk><source file='/d'/><target dev='vda1'/></disk>",
	  XML_ERR, "vda1", true },
	{ NULL, "<disk><source file='relative.img'/><target dev='vda'/>"
	  "</disk>", XML_ERR, "absolute", true },
	{ NULL, "<disk device='disk'><target dev='vda'/></disk>", XML_ERR,
	  "no <source>", true },
	{ NULL, "<disk><source file='/d'/></disk>", XML_ERR, "<target>", true },
	{ NULL, "<disk><source file='/d'/><target dev='vda'/><target "
	  "dev='vdb'/></disk>", XML_ERR, "twice", true },
	{ NULL, "<interface type='network'/>", XML_ERR, "<source>", true },
	{ NULL, "<interface type='ethernet'><mac address='01:00:5e:00:00:01'/>"
	  "</interface>", XML_ERR, "multicast", true },
	{ NULL, "<interface type='ethernet'><mac address='52:54:00:1:2:3'/>"
	  "</interface>", XML_ERR, "MAC", true },
	{ NULL, "<interface type='ethernet'><target dev='this-name-is-too-"
	  "long'/></interface>", XML_ERR, "interface name", true },
	{ NULL, "<serial type='file'/>", XML_ERR, "path", true },
	{ NULL, "<serial type='null'><source path='/x'/></serial>", XML_ERR,
	  "null", true },
	{ NULL, "<serial type='pty'><target port='4'/></serial>", XML_ERR,
	  "'port'", true },
	{ NULL, "<serial type='pty'><source mode='bind'/></serial>", UNSUP,
	  "'mode'", true },
	{ NULL, "<vsock><cid auto='no'/></vsock>", XML_ERR, "address", true },
	{ NULL, "<vsock><cid address='2'/></vsock>", XML_ERR, "address",
	  true },
	{ NULL, "<memballoon model='none'><stats period='1'/></memballoon>",
	  XML_ERR, "none", true },
	{ NULL, "<rng model='virtio'/>", XML_ERR, "<backend>", true },
	{ NULL, "<emulator>duvisor-vmm</emulator>", XML_ERR, "absolute",
	  true },
	{ NULL, "text<disk/>", XML_ERR, "text", true },
	{ "<vcpu>0</vcpu>", NULL, XML_ERR, "vCPU", true },
	{ "<vcpu>two</vcpu>", NULL, XML_ERR, "vCPU", true },
	{ "<vcpu>300</vcpu>", NULL, UNSUP, "254", true },
	{ "<vcpu current='3'>2</vcpu>", NULL, XML_ERR, "current", false },
	{ "<on_reboot>coredump-destroy</on_reboot>", NULL, XML_ERR,
	  "coredump", true },
	{ "<on_crash>explode</on_crash>", NULL, XML_ERR, "explode", true },
	{ "<maxMemory unit='GiB'>4</maxMemory>", NULL, XML_ERR, "slots", true },
	{ "<title>two\nlines</title>", NULL, XML_ERR, "title", true },
	{ "<name>again</name>", NULL, XML_ERR, "twice", true },
	/* Rules across elements: the parser's alone. */
	{ "<vcpu>4</vcpu><cpu><topology sockets='1' cores='2' threads='1'/>"
	  "</cpu>", NULL, XML_ERR, "topology", false },
	{ NULL, "<disk><source file='/a'/><target dev='vda'/></disk>"
	  "<disk><source file='/b'/><target dev='vda'/></disk>", XML_ERR,
	  "'vda' used twice", false },
	{ NULL, "<disk><source file='/a'/><target dev='vda'/><boot order='1'/>"
	  "</disk><interface type='ethernet'><boot order='1'/></interface>",
	  XML_ERR, "boot order 1", false },
	{ NULL, "<interface type='ethernet'><mac address='52:54:00:00:00:01'/>"
	  "</interface><interface type='ethernet'><mac address='52:54:00:00:"
	  "00:01'/></interface>", XML_ERR, "two interfaces", false },
	{ NULL, "<interface type='ethernet'><target dev='t0'/></interface>"
	  "<interface type='ethernet'><target dev='t0'/></interface>",
	  XML_ERR, "'t0' is used twice", false },
	{ NULL, "<serial><target port='1'/></serial><serial><target port="
	  "'1'/></serial>", XML_ERR, "port 1", false },
	{ NULL, "<serial/><serial/><serial/><serial/><serial/>", UNSUP,
	  "4 serial", false },
	{ NULL, "<console type='pty'/><console type='pty'/>", UNSUP,
	  "first <console>", false },
	{ "<maxMemory slots='2' unit='KiB'>1024</maxMemory>", NULL, XML_ERR,
	  "less than", false },
	{ NULL, "<graphics type='vnc' listen='1.2.3.4'><listen type="
	  "'address' address='5.6.7.8'/></graphics>", XML_ERR, "match",
	  false },
};

static void test_bad_documents(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad_docs); i++) {
		const struct bad *b = &bad_docs[i];
		g_autofree char *xml = dc_domain(b->extra, b->devices);

		dc_expect_error(xml, b->code, b->needle);
		if (b->grammar && dc_schema_valid(xml, NULL)) {
			g_test_message("valid for domain.rng: %s", xml);
			g_assert_not_reached();
		}
	}
}

/* Backings guest RAM cannot have: refused, saying what is asked for. */
static void test_memory_backing(void)
{
	static const struct { const char *mb; int code; const char *needle; }
	t[] = {
		{ "<hugepages/>", UNSUP, "<memoryBacking><hugepages>" },
		{ "<hugepages><page size='2048' unit='KiB'/></hugepages>", UNSUP,
		  "<hugepages> is not supported" },
		{ "<locked/>", UNSUP, "<memoryBacking><locked>" },
		{ "<source type='file'/>", UNSUP, "'file'" },
		{ "<source type='memfd'/>", UNSUP, "'memfd'" },
		{ "<source/>", XML_ERR, "'type'" },
		{ "<access mode='shared'/>", UNSUP, "'shared'" },
		{ "<allocation mode='immediate'/>", UNSUP, "'immediate'" },
		{ "<allocation mode='ondemand' threads='4'/>", UNSUP,
		  "'threads'" },
		{ "<nosharepages/><nosharepages/>", XML_ERR, "twice" },
		{ "<nosharepages>x</nosharepages>", XML_ERR, "" },
		{ "<balloon/>", UNSUP, "<balloon>" },
	};

	g_autofree char *twice = dc_domain("<memoryBacking/><memoryBacking/>",
					   NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *mb = g_strdup_printf(
			"<memoryBacking>%s</memoryBacking>", t[i].mb);
		g_autofree char *xml = dc_domain(mb, NULL);

		dc_expect_error(xml, t[i].code, t[i].needle);
		if (dc_schema_valid(xml, NULL)) {
			g_test_message("valid for domain.rng: %s", xml);
			g_assert_not_reached();
		}
	}
	dc_expect_error(twice, XML_ERR, "twice");
}

static void test_top_level(void)
{
	static const struct { const char *xml; int code; const char *needle; }
	t[] = {
		{ "", XML_ERR, "malformed" },
		{ "not xml at all", XML_ERR, "malformed" },
		{ "<domain type='kvm'><name>x</name>", XML_ERR, "malformed" },
		{ "<domain type='kvm'><name>a</nam></domain>", XML_ERR,
		  "malformed" },
		{ "<domain type='kvm' type='kvm'/>", XML_ERR, "malformed" },
		{ "<network><name>default</name></network>", XML_ERR,
		  "<network>" },
		{ "<domain><name>a</name></domain>", XML_ERR, "'type'" },
		{ "<domain type='qemu'><name>a</name><memory>1</memory><os>"
		  "<type>hvm</type></os></domain>", UNSUP, "'qemu'" },
		{ "<domain type='xen'/>", UNSUP, "'xen'" },
		{ "<domain type='kvm'><memory>1024</memory><os><type>hvm</type>"
		  "</os></domain>", XML_ERR, "<name>" },
		{ "<domain type='kvm'><name>a</name><os><type>hvm</type></os>"
		  "</domain>", XML_ERR, "<memory>" },
		{ "<domain type='kvm'><name>a</name><memory>1024</memory>"
		  "</domain>", XML_ERR, "<os>" },
		{ "<domain type='kvm'><name>a</name><memory>1024</memory><os>"
		  "<type>xen</type></os></domain>", UNSUP, "'xen'" },
		{ "<domain type='kvm'><name>a</name><memory>1024</memory><os>"
		  "<type arch='aarch64'>hvm</type></os></domain>", UNSUP,
		  "aarch64" },
		{ "<domain type='kvm'><name>a</name><memory>1024</memory><os>"
		  "<type machine='microvm'>hvm</type></os></domain>", UNSUP,
		  "microvm" },
		{ "<domain type='kvm'><name>a</name><memory>1024</memory>"
		  "<os firmware='efi'><type>hvm</type></os></domain>", UNSUP,
		  "firmware" },
		{ "<domain type='kvm'><name>a</name><memory>1024</memory><os>"
		  "<type>hvm</type><loader readonly='yes' type='pflash'>/o.fd"
		  "</loader></os></domain>", UNSUP, "<os><loader>" },
		{ "<domain type='kvm'><name>a/b</name><memory>1</memory><os>"
		  "<type>hvm</type></os></domain>", XML_ERR, "'/'" },
		{ "<domain type='kvm'><name>a&#9;b</name><memory>1</memory>"
		  "<os><type>hvm</type></os></domain>", XML_ERR, "control" },
		{ "<domain type='kvm'><name> </name><memory>1</memory><os>"
		  "<type>hvm</type></os></domain>", XML_ERR, "empty" },
		{ "<domain type='kvm'><name>m</name><memory unit='parsec'>1"
		  "</memory><os><type>hvm</type></os></domain>", XML_ERR,
		  "parsec" },
		{ "<domain type='kvm'><name>m</name><memory>0</memory><os>"
		  "<type>hvm</type></os></domain>", XML_ERR, "greater" },
		{ "<domain type='kvm'><name>m</name><memory>-5</memory><os>"
		  "<type>hvm</type></os></domain>", XML_ERR, "invalid" },
		{ "<domain type='kvm'><name>m</name><memory>"
		  "99999999999999999999999</memory><os><type>hvm</type></os>"
		  "</domain>", XML_ERR, "invalid" },
		{ "<domain type='kvm'><name>m</name><memory>1</memory><vcpu>"
		  "18446744073709551617</vcpu><os><type>hvm</type></os>"
		  "</domain>", XML_ERR, "vCPU" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		dc_expect_error(t[i].xml, t[i].code, t[i].needle);
		if (dc_schema_valid(t[i].xml, NULL)) {
			g_test_message("valid for domain.rng: %s", t[i].xml);
			g_assert_not_reached();
		}
	}
	/* Too large only once the unit applies: the parser's alone. */
	dc_expect_error("<domain type='kvm'><name>m</name><memory unit='E'>1"
			"</memory><os><type>hvm</type></os></domain>", XML_ERR,
			"too large");
	dc_expect_error("<domain type='kvm'><name>m</name><memory unit='EiB'>"
			"16</memory><os><type>hvm</type></os></domain>",
			XML_ERR, "too large");
}

static void expect_fast_error(const char *xml, const char *needle)
{
	gint64 start = g_get_monotonic_time();

	dc_expect_error(xml, XML_ERR, needle);
	g_assert_cmpint(g_get_monotonic_time() - start, <, G_USEC_PER_SEC);
}

static void test_hostile(void)
{
	GString *s = g_string_new("<?xml version='1.0'?>\n<!DOCTYPE d [\n"
				  " <!ENTITY a0 'lol'>\n");
	g_autofree char *laughs = NULL, *xxe = NULL, *deep = NULL;
	g_autofree char *big_name = NULL, *huge = NULL, *many = NULL;
	g_autofree char *xml = NULL;
	GString *g;

	/* A billion laughs: refused at the DOCTYPE, before any expansion. */
	for (int i = 1; i < 10; i++)
		g_string_append_printf(s, " <!ENTITY a%d '&a%d;&a%d;&a%d;&a%d;"
				       "&a%d;&a%d;&a%d;&a%d;&a%d;&a%d;'>\n",
				       i, i - 1, i - 1, i - 1, i - 1, i - 1,
				       i - 1, i - 1, i - 1, i - 1, i - 1);
	g_string_append(s, "]>\n<domain type='kvm'><name>&a9;</name><memory>"
			"1024</memory><os><type>hvm</type></os></domain>");
	laughs = g_string_free(s, FALSE);
	expect_fast_error(laughs, "DOCTYPE");

	/* External entities: never read. */
	xxe = g_strdup("<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
		       "<domain type='kvm'><name>&x;</name><memory>1024"
		       "</memory><os><type>hvm</type></os></domain>");
	expect_fast_error(xxe, "DOCTYPE");
	expect_fast_error("<!DOCTYPE domain SYSTEM 'http://example.com/d.dtd'>"
			  "<domain type='kvm'/>", "DOCTYPE");
	/* An undeclared entity is just malformed. */
	expect_fast_error("<domain type='kvm'><name>&x;</name></domain>",
			  "malformed");

	/* Nesting deeper than libxml2's limit, inside <metadata>. */
	g = g_string_new("<domain type='kvm'><name>d</name><memory>1024"
			 "</memory><os><type>hvm</type></os><metadata>");
	for (int i = 0; i < 100000; i++)
		g_string_append(g, "<m:a xmlns:m='urn:m'>");
	deep = g_string_free(g, FALSE);
	expect_fast_error(deep, "malformed");

	/* 64 KiB name. */
	g = g_string_new("<domain type='kvm'><name>");
	for (int i = 0; i < 65536; i++)
		g_string_append_c(g, 'n');
	g_string_append(g, "</name><memory>1024</memory><os><type>hvm</type>"
			"</os></domain>");
	big_name = g_string_free(g, FALSE);
	dc_expect_error(big_name, XML_ERR, "too long");
	g_assert_false(dc_schema_valid(big_name, NULL));

	/* More than the RPC's 4 MiB. */
	g = g_string_new("<domain type='kvm'><name>h</name><description>");
	while (g->len <= DUVISOR_DOMAIN_XML_MAX)
		g_string_append(g, "0123456789abcdef0123456789abcdef");
	g_string_append(g, "</description><memory>1024</memory><os><type>hvm"
			"</type></os></domain>");
	huge = g_string_free(g, FALSE);
	expect_fast_error(huge, "too large");

	/* Thousands of devices of one kind. */
	g = g_string_new(NULL);
	for (int i = 0; i < 2000; i++)
		g_string_append(g, "<interface type='ethernet'/>");
	many = g_string_free(g, FALSE);
	xml = dc_domain(NULL, many);
	dc_expect_error(xml, UNSUP, "too many");
}

void dc_register_errors(void)
{
	g_test_add_func("/domain-conf/errors/documents", test_bad_documents);
	g_test_add_func("/domain-conf/errors/top-level", test_top_level);
	g_test_add_func("/domain-conf/errors/memory-backing",
			test_memory_backing);
	g_test_add_func("/domain-conf/errors/hostile", test_hostile);
}
