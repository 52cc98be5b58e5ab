// SPDX-License-Identifier: GPL-2.0-or-later
/* From a domain definition to duvisor-vmm's command line. */
#include <fcntl.h>
#include <string.h>

#include "test-domain-conf.h"

static char *joined(GPtrArray *argv)
{
	g_assert_null(g_ptr_array_index(argv, argv->len - 1));
	return g_strjoinv(" ", (char **)argv->pdata);
}

/* The launch plan of @xml as one string: the argv, then each file to
 * pass as " <fd N: PATH MODE>"; @warnings gets the skipped parts. */
static char *args_of(const char *xml, unsigned flags, GPtrArray *warnings)
{
	g_autoptr(duvisor_domain_def) def = dc_parse_ok(xml);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(
		(GDestroyNotify)duvisor_vmm_file_free);
	g_autoptr(GPtrArray) argv = duvisor_domain_def_vmm_args(
		def, VMM_PATH, flags, files, warnings, &error);
	g_autofree char *line = NULL;
	GString *plan;

	g_assert_no_error(error);
	line = joined(argv);
	plan = g_string_new(line);
	for (guint i = 0; i < files->len; i++) {
		const struct duvisor_vmm_file *f = g_ptr_array_index(files, i);

		switch (f->kind) {
		case DUVISOR_VMM_FILE_PTY:
			g_string_append_printf(plan, " <fd %d: pty>",
					       f->target_fd);
			break;
		case DUVISOR_VMM_FILE_UNIX_LISTEN:
			g_string_append_printf(plan, " <fd %d: listen %s>",
					       f->target_fd, f->path);
			break;
		case DUVISOR_VMM_FILE_TAP:
			g_assert_null(f->path);
			g_string_append_printf(plan, " <fd %d: tap of "
					       "interface %u>", f->target_fd,
					       f->net);
			break;
		case DUVISOR_VMM_FILE_OPEN:
			g_string_append_printf(
				plan, " <fd %d: %s %s%s%s>", f->target_fd,
				f->path,
				(f->open_flags & O_ACCMODE) == O_RDONLY ? "ro"
				: (f->open_flags & O_ACCMODE) == O_WRONLY ? "wo"
				: "rw",
				f->open_flags & O_DIRECT ? " direct" : "",
				f->open_flags & O_APPEND ? " append" : "");
			break;
		}
	}
	return g_string_free(plan, FALSE);
}

static void expect_args_error(const char *xml, unsigned flags,
			      const char *needle)
{
	g_autoptr(duvisor_domain_def) def = dc_parse_ok(xml);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(
		(GDestroyNotify)duvisor_vmm_file_free);
	GPtrArray *argv = duvisor_domain_def_vmm_args(def, VMM_PATH, flags,
						      files, NULL, &error);

	g_assert_null(argv);
	g_assert_error(error, DUVISOR_CONF_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
	if (!strstr(error->message, needle))
		g_test_message("'%s' lacks '%s'", error->message, needle);
	g_assert_nonnull(strstr(error->message, needle));
}

static void test_minimal(void)
{
	g_autofree char *xml = dc_fixture("domain-minimal.xml");
	g_autoptr(GPtrArray) w = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *args = args_of(xml, DUVISOR_VMM_ARGS_STRICT, w);

	g_assert_cmpstr(args, ==, VMM_PATH " --kvm-fd 3 --kernel-fd 4 "
			"--memory 256M --cpus 1 --console null --balloon=free-page-reporting=on "
			"<fd 3: /dev/kvm rw> <fd 4: /var/lib/duvisor/images/"
			"vmlinuz ro>");
	g_assert_cmpuint(w->len, ==, 0);
}

static void test_virt_install(void)
{
	g_autofree char *xml = dc_fixture("domain-virt-install.xml");
	g_autoptr(GPtrArray) w = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *args = args_of(xml, 0, w);

	g_assert_cmpstr(args, ==, VMM_PATH " --kvm-fd 3 --kernel-fd 4 "
			"--initrd-fd 5 --cmdline console=ttyS0 root=/dev/vda "
			"--memory 1024M --cpus 2 --console fd:6 --net "
			"fd=7,mac=00:16:3e:5d:a1:07 --balloon=free-page-reporting=on "
			"<fd 3: /dev/kvm rw> "
			"<fd 4: /var/lib/libvirt/boot/vmlinuz ro> "
			"<fd 5: /var/lib/libvirt/boot/initrd.img ro> "
			"<fd 6: pty> <fd 7: tap of interface 0>");
	/* The IDE disk is skipped, and said so. */
	g_assert_cmpuint(w->len, ==, 1);
	g_assert_nonnull(strstr(g_ptr_array_index(w, 0), "disk 'hda'"));
	expect_args_error(xml, DUVISOR_VMM_ARGS_STRICT, "disk 'hda'");
}

/* KSM may merge guest RAM unless <nosharepages/> (the VMM's default). */
static void test_memory_merge(void)
{
	g_autofree char *plain = dc_domain(NULL, NULL);
	g_autofree char *own = dc_domain("<memoryBacking><nosharepages/>"
					 "</memoryBacking>", NULL);
	g_autofree char *other = dc_domain("<memoryBacking><discard/>"
					   "</memoryBacking>", NULL);
	g_autofree char *a = args_of(plain, 0, NULL);
	g_autofree char *b = args_of(own, 0, NULL);
	g_autofree char *c = args_of(other, 0, NULL);

	g_assert_null(strstr(a, "--memory-merge"));
	g_assert_null(strstr(c, "--memory-merge"));
	g_assert_nonnull(strstr(b, " --memory 64M --memory-merge off --cpus 1 "));
}

static void test_nova(void)
{
	g_autofree char *xml = dc_fixture("domain-nova.xml");
	g_autoptr(GPtrArray) w = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *args = args_of(xml, 0, w);

	g_assert_nonnull(strstr(args, " --memory 2048M --cpus 2 --console fd:6 "
				"--console-log fd:7 "));
	g_assert_nonnull(strstr(args, " <fd 6: pty> <fd 7: /var/lib/nova/"
				"instances/6f1d3b0a-2e4c-4a8b-9c7d-5e6f7a8b9c0d/"
				"console.log wo append>"));
	/* A qcow2 disk, the config CD-ROM, VNC, video, USB tablet; the NIC,
	 * the RNG and the balloon with its statistics are given. */
	g_assert_nonnull(strstr(args, " --net fd=8,mac=fa:16:3e:2b:7c:91 "
				"--rng --balloon=stats-period=10,"
				"free-page-reporting=on "));
	g_assert_nonnull(strstr(args, " <fd 8: tap of interface 0>"));
	g_assert_cmpuint(w->len, ==, 5);
}

static void test_full(void)
{
	g_autofree char *xml = dc_fixture("domain-full.xml");
	g_autoptr(GPtrArray) w = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *args = args_of(xml, 0, w);
	gboolean hotplug = FALSE, ps2 = FALSE, queues = FALSE;

	g_assert_nonnull(strstr(args, " --memory 2048M --cpus 2 --console "
				"fd:6 --disk fd=7,serial=ROOT-0001 --disk fd=8 "
				"--net fd=9,mac=52:54:00:ab:cd:ef --net fd=10,"));
	g_assert_nonnull(strstr(args, " --rng --balloon=stats-period=5,"
				"deflate-on-oom=on,target=1572864K --no-reboot "
				"<fd 3: /dev/kvm rw> "
				"<fd 4: /boot/vmlinuz ro> <fd 5: /boot/initrd.img "
				"ro> <fd 6: /var/log/duvisor/full.log wo append> "
				"<fd 7: /var/lib/duvisor/root.img rw> "
				"<fd 8: /dev/vg0/data rw> <fd 9: tap of interface "
				"0> <fd 10: tap of interface 1> <fd 11: tap of "
				"interface 2>"));
	for (guint i = 0; i < w->len; i++) {
		const char *m = g_ptr_array_index(w, i);

		hotplug |= strstr(m, "2 of 4 vCPUs") != NULL;
		ps2 |= strstr(m, "PS/2") != NULL;
		g_assert_null(strstr(m, "balloon"));
		queues |= strstr(m, "52:54:00:ab:cd:ef: 4 queues") != NULL;
	}
	g_assert_true(hotplug);
	g_assert_true(queues);
	g_assert_false(ps2);    /* PS/2 mouse and keyboard need nothing */
	/* The vsock with its fixed cid is the launcher's to add. */
	for (guint i = 0; i < w->len; i++)
		g_assert_null(strstr(g_ptr_array_index(w, i), "vsock"));
	g_assert_null(strstr(args, "--vsock"));
}

/* An automatic cid would need a registry of cids in use: not yet. */
static void test_vsock_auto_cid(void)
{
	g_autofree char *xml = dc_domain(NULL,
		"<vsock model='virtio'><cid auto='yes'/></vsock>");
	g_autoptr(GPtrArray) w = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *args = args_of(xml, 0, w);

	g_assert_null(strstr(args, "--vsock"));
	g_assert_cmpuint(w->len, ==, 1);
	g_assert_nonnull(strstr(g_ptr_array_index(w, 0),
				"automatic vsock cid"));
	expect_args_error(xml, DUVISOR_VMM_ARGS_STRICT, "automatic vsock cid");
}

static void test_consoles(void)
{
	static const struct { const char *dev, *args; } t[] = {
		{ "<serial type='pty'/>", "--console fd:5 --balloon=free-page-reporting=on <fd 3: /dev/kvm rw> "
		  "<fd 4: /k ro> <fd 5: pty>" },
		{ "<console type='pty'/>", "--console fd:5 --balloon=free-page-reporting=on <fd 3: /dev/kvm rw> "
		  "<fd 4: /k ro> <fd 5: pty>" },
		{ "<serial type='null'/>", "--console null --balloon=free-page-reporting=on <fd 3: /dev/kvm rw> "
		  "<fd 4: /k ro>" },
		{ "<serial type='file'><source path='/l'/><log file='/cl'/>"
		  "</serial>", "--console fd:5 --console-log fd:6 --balloon=free-page-reporting=on <fd 3: "
		  "/dev/kvm rw> <fd 4: /k ro> <fd 5: /l wo append> "
		  "<fd 6: /cl wo append>" },
		{ "<serial type='unix'><source mode='bind' path='/s'/></serial>",
		  "--console fd:5 --balloon=free-page-reporting=on <fd 3: /dev/kvm rw> <fd 4: /k ro> "
		  "<fd 5: listen /s>" },
		{ "", "--console null --balloon=free-page-reporting=on <fd 3: /dev/kvm rw> "
		  "<fd 4: /k ro>" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *xml = dc_domain(NULL, t[i].dev);
		g_autofree char *args = args_of(xml, DUVISOR_VMM_ARGS_STRICT,
						NULL);

		g_assert_true(g_str_has_suffix(args, t[i].args));
	}
}

/* Raw virtio disks become passed fds in target order; the rest is said. */
static void test_disks(void)
{
	g_autofree char *xml = dc_domain(NULL,
		"<disk type='file' device='disk'><driver name='qemu' "
		"type='raw'/><source file='/img/b.raw'/><target dev='vdb' "
		"bus='virtio'/><readonly/><serial>SER-b</serial></disk>"
		"<disk type='block' device='disk'><driver name='qemu' "
		"type='raw' cache='none'/><source dev='/dev/sdz'/>"
		"<target dev='vda' bus='virtio'/></disk>"
		"<disk type='file' device='disk'><driver name='qemu' "
		"type='qcow2'/><source file='/img/q.qcow2'/><target dev='vdc' "
		"bus='virtio'/></disk>"
		"<disk type='file' device='cdrom'><source file='/img/c.iso'/>"
		"<target dev='sda' bus='sata'/><readonly/></disk>"
		"<rng model='virtio'><backend model='random'>/dev/urandom"
		"</backend></rng>");
	g_autoptr(GPtrArray) w = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *args = args_of(xml, 0, w);

	g_assert_nonnull(strstr(args, " --disk fd=5,direct=on --disk "
				"fd=6,readonly=on,serial=SER-b --rng "));
	g_assert_true(g_str_has_suffix(args, " <fd 5: /dev/sdz rw direct> "
				       "<fd 6: /img/b.raw ro>"));
	g_assert_cmpuint(w->len, ==, 2);
	g_assert_nonnull(strstr(g_ptr_array_index(w, 0), "disk 'vdc': qcow2"));
	g_assert_nonnull(strstr(g_ptr_array_index(w, 1), "disk 'sda': CD-ROM"));
	expect_args_error(xml, DUVISOR_VMM_ARGS_STRICT, "disk 'vdc'");
}

static void test_refused(void)
{
	g_autofree char *nokernel = g_strdup(
		"<domain type='kvm'><name>n</name><memory>65536</memory><os>"
		"<type>hvm</type><boot dev='hd'/></os></domain>");
	g_autofree char *small = g_strdup(
		"<domain type='kvm'><name>n</name><memory unit='MiB'>16"
		"</memory><os><type>hvm</type><kernel>/k</kernel></os>"
		"</domain>");
	g_autofree char *emulator = dc_domain(NULL,
		"<emulator>/usr/bin/qemu-system-x86_64</emulator>");
	g_autofree char *connect = dc_domain(NULL,
		"<serial type='unix'><source mode='connect' path='/s'/>"
		"</serial>");
	g_autofree char *port1 = dc_domain(NULL,
		"<serial type='pty'><target port='1'/></serial>");
	g_autofree char *rng = dc_domain(NULL,
		"<rng model='virtio'><backend model='random'/></rng>"
		"<rng model='virtio'><backend model='random'/></rng>");
	g_autoptr(GError) error = NULL;

	expect_args_error(nokernel, 0, "no <os><kernel>");
	expect_args_error(small, 0, "32 MiB");
	expect_args_error(emulator, 0, "qemu-system-x86_64");
	expect_args_error(connect, 0, "mode='bind'");
	expect_args_error(port1, DUVISOR_VMM_ARGS_STRICT, "port 1");
	expect_args_error(rng, DUVISOR_VMM_ARGS_STRICT, "a second RNG");
	g_assert_null(duvisor_domain_def_vmm_args(NULL, VMM_PATH, 0, NULL,
						  NULL, &error));
	g_assert_error(error, DUVISOR_CONF_ERROR, VIR_ERR_INVALID_ARG);
}

/* The balloon is there unless model='none', with free page reporting
 * unless turned off; <currentMemory> below <memory> is its target at boot,
 * which needs a balloon. */
static void test_balloon(void)
{
	static const struct { const char *mem, *dev, *arg; } t[] = {
		{ "", "", " --balloon=free-page-reporting=on <fd" },
		{ "<currentMemory unit='MiB'>48</currentMemory>",
		  "<memballoon model='virtio'><stats period='3'/></memballoon>",
		  " --balloon=stats-period=3,free-page-reporting=on,"
		  "target=49152K <fd" },
		{ "", "<memballoon model='virtio' freePageReporting='on'/>",
		  " --balloon=free-page-reporting=on <fd" },
		{ "<currentMemory unit='MiB'>64</currentMemory>",
		  "<memballoon model='virtio' autodeflate='on' "
		  "freePageReporting='off'/>",
		  " --balloon=deflate-on-oom=on <fd" },
		{ "", "<memballoon model='none'/>", " --console null <fd" },
	};
	g_autoptr(GPtrArray) w = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *none = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(t); i++) {
		g_autofree char *xml = dc_domain(t[i].mem, t[i].dev);
		g_autofree char *args = args_of(xml, DUVISOR_VMM_ARGS_STRICT,
						NULL);

		if (!strstr(args, t[i].arg))
			g_test_message("'%s' lacks '%s'", args, t[i].arg);
		g_assert_nonnull(strstr(args, t[i].arg));
	}
	none = dc_domain("<currentMemory unit='MiB'>48</currentMemory>",
			 "<memballoon model='none'/>");
	g_free(args_of(none, 0, w));
	g_assert_cmpuint(w->len, ==, 1);
	g_assert_nonnull(strstr(g_ptr_array_index(w, 0),
				"a balloon target below <memory>"));
	expect_args_error(none, DUVISOR_VMM_ARGS_STRICT,
			  "a balloon target below <memory>");
}

/* A storage driver as the daemon's resolver sees it: one pool, one
 * volume. */
static bool resolve_one(const char *pool, const char *volume, char **path,
			GError **error)
{
	if (strcmp(pool, "pool") == 0 && strcmp(volume, "vol.img") == 0) {
		*path = g_strdup("/pools/pool/vol.img");
		return true;
	}
	g_set_error(error, DUVISOR_CONF_ERROR, VIR_ERR_NO_STORAGE_VOL,
		    "no volume '%s' in '%s'", volume, pool);
	return false;
}

/* <disk type='volume'>: its path is asked for at start, errors keep their
 * code; without a resolver the disk is skipped and said so. */
static void test_volume_disks(void)
{
	g_autofree char *xml = dc_domain(NULL,
		"<disk type='volume' device='disk'><source pool='pool' "
		"volume='vol.img'/><target dev='vda' bus='virtio'/></disk>");
	g_autofree char *missing = dc_domain(NULL,
		"<disk type='volume' device='disk'><source pool='pool' "
		"volume='gone.img'/><target dev='vdb' bus='virtio'/></disk>");
	g_autoptr(GPtrArray) w = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *skipped = args_of(xml, 0, w);
	g_autofree char *args = NULL;
	g_autoptr(duvisor_domain_def) def = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(
		(GDestroyNotify)duvisor_vmm_file_free);

	g_assert_null(strstr(skipped, "--disk"));
	g_assert_cmpuint(w->len, ==, 1);
	g_assert_nonnull(strstr(g_ptr_array_index(w, 0), "storage pool"));
	duvisor_set_volume_resolver(resolve_one);
	args = args_of(xml, DUVISOR_VMM_ARGS_STRICT, NULL);
	g_assert_nonnull(strstr(args, " --disk fd="));
	g_assert_nonnull(strstr(args, ": /pools/pool/vol.img rw>"));
	def = dc_parse_ok(missing);
	g_assert_null(duvisor_domain_def_vmm_args(def, VMM_PATH, 0, files,
						  NULL, &error));
	g_assert_error(error, DUVISOR_CONF_ERROR, VIR_ERR_NO_STORAGE_VOL);
	g_assert_cmpstr(error->message, ==, "disk 'vdb': no volume 'gone.img' "
			"in 'pool'");
	duvisor_set_volume_resolver(NULL);
}

/* Every interface, whatever its type, is a tap the daemon opens: a --net
 * with the fd and the MAC, in document order (eth0, eth1...). */
static void test_nets(void)
{
	g_autofree char *xml = dc_domain(NULL,
		"<interface type='bridge'><mac address='52:54:00:00:00:0b'/>"
		"<source bridge='br0'/><model type='virtio'/></interface>"
		"<interface type='network'><mac address='52:54:00:00:00:0a'/>"
		"<source network='default'/></interface>"
		"<interface type='ethernet'><mac address='52:54:00:00:00:0c'/>"
		"<target dev='tap9' managed='no'/><link state='down'/>"
		"</interface>");
	g_autoptr(GPtrArray) w = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *args = args_of(xml, 0, w);

	g_assert_true(g_str_has_suffix(args, " --net fd=5,mac=52:54:00:00:00:0b "
				       "--net fd=6,mac=52:54:00:00:00:0a "
				       "--net fd=7,mac=52:54:00:00:00:0c "
				       "--balloon=free-page-reporting=on "
				       "<fd 3: /dev/kvm rw> <fd 4: /k ro> "
				       "<fd 5: tap of interface 0> "
				       "<fd 6: tap of interface 1> "
				       "<fd 7: tap of interface 2>"));
	/* The VMM's NICs have no link switch: said, or refused. */
	g_assert_cmpuint(w->len, ==, 1);
	g_assert_nonnull(strstr(g_ptr_array_index(w, 0), "link state"));
	expect_args_error(xml, DUVISOR_VMM_ARGS_STRICT,
			  "52:54:00:00:00:0c: link state 'down'");
}

void dc_register_vmm(void)
{
	g_test_add_func("/domain-conf/vmm-args/nets", test_nets);
	g_test_add_func("/domain-conf/vmm-args/minimal", test_minimal);
	g_test_add_func("/domain-conf/vmm-args/virt-install",
			test_virt_install);
	g_test_add_func("/domain-conf/vmm-args/nova", test_nova);
	g_test_add_func("/domain-conf/vmm-args/memory-merge",
			test_memory_merge);
	g_test_add_func("/domain-conf/vmm-args/full", test_full);
	g_test_add_func("/domain-conf/vmm-args/consoles", test_consoles);
	g_test_add_func("/domain-conf/vmm-args/disks", test_disks);
	g_test_add_func("/domain-conf/vmm-args/vsock-auto-cid",
			test_vsock_auto_cid);
	g_test_add_func("/domain-conf/vmm-args/refused", test_refused);
	g_test_add_func("/domain-conf/vmm-args/balloon", test_balloon);
	g_test_add_func("/domain-conf/vmm-args/volume-disks",
			test_volume_disks);
}
