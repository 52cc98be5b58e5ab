# SPDX-License-Identifier: GPL-2.0-or-later
"""What OpenStack nova's libvirt driver (nova/virt/libvirt/host.py and
driver.py) asks of its connection at start-up and when it defines and
undefines instances, replayed with python3-libvirt against virtduvisord,
checked the way nova reads the answers; and nova-generated domain XML
(tests/unit/data/domain-nova.xml and the variants nova writes for other
flavors and images): accepted, or refused with VIR_ERR_CONFIG_UNSUPPORTED
naming what DuVisor lacks.

No guest runs here: tests/system/test_nova_spawn.py boots one the way
nova's spawn does.
"""
import os
import pathlib
import uuid as uuidlib
import xml.etree.ElementTree as ET

import pytest

from conftest import Daemon
from dvhelpers import error_code

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOVA_XML = (ROOT / "tests/unit/data/domain-nova.xml").read_text()
NOVA_NS = "http://openstack.org/xmlns/libvirt/nova/1.1"
# nova's minimum versions (MIN_LIBVIRT_VERSION, MIN_QEMU_VERSION of its
# 2024-2026 releases); nova compares getVersion() with the QEMU minimum
# when [libvirt] virt_type is kvm.
NOVA_MIN_LIBVIRT = 8000000
NOVA_MIN_QEMU = 6002000
VIR_ERR_CONFIG_UNSUPPORTED = 67


@pytest.fixture(scope="module")
def nova_daemon(tmp_path_factory):
    """A daemon set up as the README's nova section says."""
    d = Daemon(tmp_path_factory.mktemp("nova"),
               config_text='hypervisor_version = "8.2.2"\n')
    yield d
    assert d.alive(), "virtduvisord died:\n" + d.log()
    d.check_clean_exit()


class NovaHost:
    """The calls of nova's Host._get_new_connection(): openAuth with its
    credential types, event callbacks for ids 0, 15 and 22, the close
    callback."""

    def __init__(self, lv, uri):
        auth = [[lv.VIR_CRED_AUTHNAME, lv.VIR_CRED_ECHOPROMPT,
                 lv.VIR_CRED_REALM, lv.VIR_CRED_PASSPHRASE,
                 lv.VIR_CRED_NOECHOPROMPT, lv.VIR_CRED_EXTERNAL],
                lambda creds, opaque: 0, None]
        self.conn = lv.openAuth(uri, auth, 0)
        self.callbacks = [
            self.conn.domainEventRegisterAny(None, ev, self._event, None)
            for ev in (lv.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                       lv.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                       lv.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED)]
        self.conn.registerCloseCallback(lambda *a: None, None)

    def _event(self, *args):
        pass

    def close(self):
        for cb in self.callbacks:
            self.conn.domainEventDeregisterAny(cb)
        self.conn.unregisterCloseCallback()
        self.conn.close()


@pytest.fixture
def nova(nova_daemon, event_loop):
    h = NovaHost(event_loop, nova_daemon.uri)
    yield h
    h.close()


def test_version_checks(daemon, nova_daemon, event_loop):
    """nova refuses hypervisors older than its QEMU minimum: ours reports
    DuVisor's own version unless hypervisor_version says otherwise."""
    lv = event_loop
    c = lv.open(daemon.uri)
    try:
        assert c.getLibVersion() >= NOVA_MIN_LIBVIRT
        assert c.getVersion() < NOVA_MIN_QEMU   # 0.1.0: nova would stop
    finally:
        c.close()
    h = NovaHost(lv, nova_daemon.uri)
    try:
        assert h.conn.getLibVersion() >= NOVA_MIN_LIBVIRT
        assert h.conn.getVersion() == 8002002
        assert h.conn.getType() == "DuVisor"
    finally:
        h.close()


def test_host_capabilities(nova):
    """LibvirtConfigCaps: host CPU, NUMA cells with CPUs and memory, one
    kvm guest with an emulator and machine aliases."""
    caps = ET.fromstring(nova.conn.getCapabilities())
    cpu = caps.find("host/cpu")
    assert cpu.findtext("arch") == os.uname().machine
    assert cpu.findtext("model")
    topo = cpu.find("topology")
    assert int(topo.get("sockets")) * int(topo.get("cores")) * \
        int(topo.get("threads")) >= 1
    cells = caps.findall("host/topology/cells/cell")
    assert cells and int(caps.find("host/topology/cells").get("num")) == \
        len(cells)
    cpu_ids = []
    for cell in cells:
        assert int(cell.findtext("memory")) > 0
        for c in cell.findall("cpus/cpu"):
            # nova's _get_host_numa_topology reads these three.
            assert {"socket_id", "core_id", "siblings"} <= set(c.keys())
            cpu_ids.append(int(c.get("id")))
    online = sorted(int(x) for x in _cpu_list(
        pathlib.Path("/sys/devices/system/cpu/online").read_text()))
    assert sorted(cpu_ids) == online
    guests = caps.findall("guest")
    assert len(guests) == 1
    g = guests[0]
    assert g.findtext("os_type") == "hvm"
    assert g.find("arch").get("name") == "x86_64"
    assert g.find("arch/domain").get("type") == "kvm"
    assert g.findtext("arch/emulator")
    aliases = {m.text: m.get("canonical")
               for m in g.findall("arch/machine") if m.get("canonical")}
    assert aliases == {"pc": "duvisor", "q35": "duvisor"}


def _cpu_list(text):
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        yield from range(int(lo), int(hi or lo) + 1)


def test_baseline_cpu_is_no_support(nova, event_loop):
    """nova expands the host CPU's features with baselineCPU and only
    tolerates VIR_ERR_NO_SUPPORT (it then keeps the features it has)."""
    lv = event_loop
    host_cpu = ET.fromstring(nova.conn.getCapabilities()).find("host/cpu")
    xml = ET.tostring(host_cpu, encoding="unicode")
    assert error_code(lv, nova.conn.baselineCPU, [xml],
                      lv.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES) == \
        lv.VIR_ERR_NO_SUPPORT


def test_domain_capabilities_per_machine_type(nova):
    """Host.get_domain_capabilities(): per canonical alias and nova's
    default 'pc', with the emulator and virt_type; the <machine> answer is
    what nova files them under."""
    caps = ET.fromstring(nova.conn.getCapabilities())
    emulator = caps.findtext("guest/arch/emulator")
    for mt in ("pc", "q35", None):
        dc = ET.fromstring(nova.conn.getDomainCapabilities(
            emulator, "x86_64", mt, "kvm", 0))
        assert dc.findtext("machine") == "duvisor"
        assert dc.findtext("domain") == "kvm"
        assert dc.findtext("path") == emulator
        # nova's supports_secure_boot / UEFI checks read os/loader.
        assert dc.find("os/loader").get("supported") == "no"


def test_node_calls(nova, event_loop):
    """getCPUMap (vCPU total, online CPUs), getInfo (memory), getHostname,
    getCPUStats (+ nodeinfo's MHz), listAllDomains; node devices: nova
    turns VIR_ERR_NO_SUPPORT into "no PCI or mediated devices"."""
    lv = event_loop
    c = nova.conn
    present, cpumap, online = c.getCPUMap()
    sysfs_online = set(_cpu_list(pathlib.Path(
        "/sys/devices/system/cpu/online").read_text()))
    assert present == max(_cpu_list(pathlib.Path(
        "/sys/devices/system/cpu/present").read_text())) + 1
    assert {i for i in range(present) if cpumap[i]} == sysfs_online
    assert online == len(sysfs_online)
    info = c.getInfo()
    assert info[1] > 0 and info[2] == len(sysfs_online)
    assert c.getHostname()
    stats = c.getCPUStats(lv.VIR_NODE_CPU_STATS_ALL_CPUS, 0)
    assert set(stats) == {"kernel", "user", "idle", "iowait"}
    assert stats["idle"] > 0
    assert c.listAllDomains(0) == []
    assert error_code(lv, c.listDevices, "mdev", 0) == lv.VIR_ERR_NO_SUPPORT
    assert error_code(lv, c.listAllDevices, 0) == lv.VIR_ERR_NO_SUPPORT


def test_define_lookup_undefine(nova, event_loop):
    """The instance XML nova writes is defined, read back with nova's
    metadata, found by UUID, and undefined with the flags nova passes."""
    lv = event_loop
    c = nova.conn
    dom = c.defineXML(NOVA_XML)
    u = "6f1d3b0a-2e4c-4a8b-9c7d-5e6f7a8b9c0d"
    assert c.lookupByUUIDString(u).name() == "instance-0000002a"
    root = ET.fromstring(dom.XMLDesc(0))
    assert root.find(f"metadata/{{{NOVA_NS}}}instance/{{{NOVA_NS}}}name"
                     ).text == "web-1"
    disk = root.find("devices/disk")
    assert disk.find("driver").get("type") == "qcow2"
    assert disk.find("target").get("bus") == "virtio"
    assert root.find("devices/serial/log").get("file").endswith(
        "/console.log")
    assert root.find("devices/graphics").get("type") == "vnc"
    assert root.find("cpu").get("mode") == "host-model"
    assert dom.info()[0] == lv.VIR_DOMAIN_SHUTOFF
    # Guest.delete_configuration(): no vTPM and NVRAM kept or not.
    dom.undefineFlags(lv.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                      lv.VIR_DOMAIN_UNDEFINE_NVRAM |
                      lv.VIR_DOMAIN_UNDEFINE_KEEP_TPM)
    assert error_code(lv, c.lookupByUUIDString, u) == lv.VIR_ERR_NO_DOMAIN


def test_start_without_kernel_is_refused(nova, event_loop):
    """An image-booted instance (no kernel_id/ramdisk_id image
    properties: no <kernel>) cannot start: there is no firmware."""
    lv = event_loop
    root = ET.fromstring(NOVA_XML)
    os_el = root.find("os")
    for tag in ("kernel", "initrd", "cmdline"):
        os_el.remove(os_el.find(tag))
    ET.SubElement(os_el, "boot", dev="hd")
    root.find("uuid").text = str(uuidlib.uuid4())
    root.find("name").text = "instance-0000002b"
    dom = nova.conn.defineXML(ET.tostring(root, encoding="unicode"))
    try:
        with pytest.raises(lv.libvirtError) as e:
            dom.createWithFlags(0)
        assert e.value.get_error_code() == VIR_ERR_CONFIG_UNSUPPORTED
        assert "no <os><kernel>" in e.value.get_error_message()
        assert dom.isActive() == 0
    finally:
        dom.undefine()


# What nova writes for other flavors, images and settings that DuVisor
# cannot honour: (what, text in domain-nova.xml, replacement, message).
_CPU = '<topology sockets="2" cores="1" threads="1"/>'
REFUSED = [
    ("cpu shares (quota:cpu_shares)", "<vcpu>2</vcpu>",
     "<vcpu>2</vcpu><cputune><shares>2048</shares></cputune>", "<cputune>"),
    ("pinning (hw:cpu_policy=dedicated)", "<vcpu>2</vcpu>",
     "<vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='1'/></cputune>",
     "<cputune>"),
    ("NUMA (hw:numa_nodes)", _CPU,
     _CPU + '<numa><cell id="0" cpus="0-1" memory="2097152"/></numa>',
     "<numa>"),
    ("NUMA memory placement", "<vcpu>2</vcpu>",
     "<vcpu>2</vcpu><numatune><memory mode='strict' nodeset='0'/>"
     "</numatune>", "<numatune>"),
    ("huge pages (hw:mem_page_size)", "<vcpu>2</vcpu>",
     "<vcpu>2</vcpu><memoryBacking><hugepages><page size='2048' "
     "unit='KiB'/></hugepages></memoryBacking>", "<memoryBacking>"),
    ("cpu_mode=custom", '<cpu mode="host-model" match="exact">',
     '<cpu mode="custom" match="exact"><model fallback="forbid">'
     'Skylake-Client</model>', "CPU mode 'custom'"),
    ("UEFI (hw_firmware_type=uefi)", '<smbios mode="sysinfo"/>',
     '<smbios mode="sysinfo"/><loader readonly="yes" type="pflash">'
     '/usr/share/OVMF/OVMF_CODE.fd</loader>', "<os><loader>"),
    ("Windows enlightenments", "<vmcoreinfo/>",
     "<vmcoreinfo/><hyperv><relaxed state='on'/></hyperv>", "<hyperv>"),
    ("hidden KVM (img_hide_hypervisor_id)", "<vmcoreinfo/>",
     "<vmcoreinfo/><kvm><hidden state='on'/></kvm>", "<kvm>"),
    ("watchdog (hw:watchdog_action)", '<console type="pty"/>',
     '<console type="pty"/><watchdog model="i6300esb" action="reset"/>',
     "watchdog"),
    ("vTPM (hw:tpm_version)", '<console type="pty"/>',
     '<console type="pty"/><tpm model="tpm-tis"><backend type="emulator" '
     'version="2.0"/></tpm>', "TPM"),
    ("SPICE console", '<graphics type="vnc" autoport="yes" '
     'listen="0.0.0.0"/>', '<graphics type="spice" autoport="yes"/>',
     "'spice'"),
    ("disk QoS (quota:disk_*)", '<target dev="vda" bus="virtio"/>',
     '<target dev="vda" bus="virtio"/><iotune><total_bytes_sec>1000000'
     '</total_bytes_sec></iotune>', "<iotune>"),
    ("Ceph RBD disks (images_type=rbd)", '<disk type="file" device="disk">'
     '\n      <driver name="qemu" type="qcow2" cache="none"/>\n      '
     '<source file="/var/lib/nova/instances/6f1d3b0a-2e4c-4a8b-9c7d-'
     '5e6f7a8b9c0d/disk"/>', '<disk type="network" device="disk"><driver '
     'name="qemu" type="raw" cache="none"/><source protocol="rbd" '
     'name="vms/x_disk"><host name="10.0.0.1" port="6789"/></source>',
     "'network'"),
    ("vhost-user ports (OVS-DPDK)", '<interface type="bridge">',
     '<interface type="vhostuser">', "'vhostuser'"),
    ("PCI passthrough", '<console type="pty"/>',
     '<console type="pty"/><hostdev mode="subsystem" type="pci" '
     'managed="yes"><source><address domain="0x0000" bus="0x04" '
     'slot="0x00" function="0x1"/></source></hostdev>', "hostdev"),
]


@pytest.mark.parametrize("what,old,new,needle", REFUSED,
                         ids=[r[0] for r in REFUSED])
def test_refused_nova_xml(nova, event_loop, what, old, new, needle):
    lv = event_loop
    assert old in NOVA_XML
    xml = NOVA_XML.replace(old, new, 1)
    with pytest.raises(lv.libvirtError) as e:
        nova.conn.defineXML(xml)
    assert e.value.get_error_code() == VIR_ERR_CONFIG_UNSUPPORTED, \
        e.value.get_error_message()
    assert needle in e.value.get_error_message()
    assert nova.conn.listAllDomains(0) == []
