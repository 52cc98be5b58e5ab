# SPDX-License-Identifier: GPL-2.0-or-later
"""Network interfaces (<interface> in domain XML) through virtduvisord with
the real clients: definitions (MAC addresses generated and kept, what is
refused), the interface statistics procedure, and the host side a start
builds: taps, bridges, ports of libvirt's networks (a private libvirtd,
privlibvirtd.py), all of it undone when the start fails.

No guest runs here.  The host-side tests start domains whose "VMM" is a
probe (PROBE below): it records what it was given (its --net descriptors,
seen with TUNGETIFF, and the host's links) and exits 1, so the start fails
after the daemon built everything, and the test sees that everything went
again.  They run in a network namespace of their own, daemon and libvirtd
included.  Guests on these interfaces: tests/system/test_interfaces.py.
"""
import json
import os
import pathlib
import shutil
import stat
import subprocess
import tempfile
import uuid as uuidlib
import xml.etree.ElementTree as ET

import pytest

import privlibvirtd
from conftest import Daemon, virsh
from dvhelpers import error_code

SUFFIX = str(os.getpid() % 100000)
VIR_ERR_OPERATION_FAILED = 9
VIR_ERR_NO_NETWORK = 43
VIR_ERR_OPERATION_INVALID = 55
VIR_ERR_CONFIG_UNSUPPORTED = 67
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
VMM_USER_CONFIG = 'vmm_user = "nobody"\nvmm_group = "nogroup"\n'

# Runs as the VMMs' user (nobody) in place of duvisor-vmm.
PROBE = r"""#!/usr/bin/python3
import fcntl, json, struct, subprocess, sys
TUNGETIFF = 0x800454d2
args, nets = sys.argv[1:], []
for i, a in enumerate(args):
    if a == "--net":
        spec = dict(kv.split("=", 1) for kv in args[i + 1].split(","))
        ifr = fcntl.ioctl(int(spec["fd"]), TUNGETIFF, bytes(40))
        nets.append({"mac": spec.get("mac"),
                     "tap": ifr[:16].rstrip(b"\0").decode(),
                     "flags": struct.unpack("H", ifr[16:18])[0]})
links = subprocess.run(["ip", "-j", "-d", "link", "show"],
                       capture_output=True, text=True).stdout
with open(sys.argv[0] + ".out/seen.json", "w") as f:
    json.dump({"nets": nets, "links": json.loads(links)}, f)
sys.exit(1)
"""


def domain_xml(name, devices, kernel="/boot/does-not-need-to-exist"):
    return f"""<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='x86_64'>hvm</type><kernel>{kernel}</kernel></os>
  <devices>{devices}</devices>
</domain>
"""


def macs(xml):
    return [i.find("mac").get("address")
            for i in ET.fromstring(xml).findall("devices/interface")]


# ---- definitions ------------------------------------------------------------

def test_mac_generated_and_kept(fresh_daemon, libvirt_mod):
    """A MAC address is made at define time (52:54:00 and three random
    bytes, one per interface) and is part of the configuration: the same
    in every dump, on disk, after a daemon restart."""
    d = fresh_daemon()
    conn = libvirt_mod.open(d.uri)
    dom = conn.defineXML(domain_xml(
        "if-mac", "<interface type='bridge'><source bridge='br0'/>"
        "</interface><interface type='ethernet'/>"))
    first = macs(dom.XMLDesc(0))
    assert len(first) == 2 and first[0] != first[1]
    assert all(m.startswith("52:54:00:") and len(m) == 17 for m in first)
    assert macs(dom.XMLDesc(libvirt_mod.VIR_DOMAIN_XML_INACTIVE)) == first
    assert macs((d.config_dir / "if-mac.xml").read_text()) == first
    conn.close()
    d.stop()
    d.start()
    conn = libvirt_mod.open(d.uri)
    assert macs(conn.lookupByName("if-mac").XMLDesc(0)) == first
    # A MAC given is kept, in lower case.
    dom = conn.defineXML(domain_xml(
        "if-mac2", "<interface type='ethernet'><mac "
        "address='FA:16:3E:0A:0B:0C'/></interface>"))
    assert macs(dom.XMLDesc(0)) == ["fa:16:3e:0a:0b:0c"]
    conn.close()


def test_domiflist_and_round_trip(daemon, libvirt_mod, tmp_path):
    """Every kind we give guests, as virsh domiflist shows it; the dump
    defines the same domain again.  A running domain's tap names and
    network port are state, not configuration: dropped."""
    devices = """
    <interface type='bridge'>
      <mac address='52:54:00:0a:00:01'/><source bridge='br0'/>
      <model type='virtio'/><mtu size='1450'/>
    </interface>
    <interface type='network'>
      <mac address='52:54:00:0a:00:02'/>
      <source network='default' portid='6f1d3b0a-2e4c-4a8b-9c7d-5e6f7a8b9c0d'
              bridge='virbr0'/>
      <target dev='vnet5'/><model type='virtio'/>
    </interface>
    <interface type='ethernet'>
      <mac address='52:54:00:0a:00:03'/><target dev='tapx0' managed='no'/>
    </interface>"""
    path = tmp_path / "if-list.xml"
    path.write_text(domain_xml("if-list", devices))
    virsh(daemon.uri, "define", str(path))
    try:
        rows = [line.split() for line in virsh(
            daemon.uri, "domiflist", "if-list").stdout.splitlines()[2:] if line]
        assert rows == [
            ["-", "bridge", "br0", "virtio", "52:54:00:0a:00:01"],
            ["-", "network", "default", "virtio", "52:54:00:0a:00:02"],
            ["tapx0", "ethernet", "-", "-", "52:54:00:0a:00:03"]]
        xml = virsh(daemon.uri, "dumpxml", "if-list").stdout
        assert "vnet5" not in xml and "portid" not in xml
        assert "virbr0" not in xml
        assert "<target dev='tapx0' managed='no'/>" in xml
        assert "<mtu size='1450'/>" in xml
        path.write_text(xml)
        virsh(daemon.uri, "define", str(path))
        assert virsh(daemon.uri, "dumpxml", "if-list").stdout == xml
    finally:
        virsh(daemon.uri, "undefine", "if-list", check=False)


@pytest.mark.parametrize("devices, words", [
    # virt-install's default NIC for any URI but qemu's.
    ("<interface type='network'><source network='default'/>"
     "<model type='e1000'/></interface>", ["e1000", "model=virtio"]),
    ("<interface type='bridge'><source bridge='br0'/>"
     "<model type='rtl8139'/></interface>", ["rtl8139"]),
    ("<interface type='user'/>", ["type='user'"]),
    ("<interface type='direct'><source dev='eth0'/></interface>",
     ["'direct'"]),
    ("<interface type='bridge'><source bridge='br-int'/><virtualport "
     "type='openvswitch'/></interface>", ["Open vSwitch"]),
    ("<interface type='bridge'><source bridge='br0'/><target dev='t0' "
     "managed='no'/></interface>", ["managed='no'"]),
    ("<interface type='ethernet'/>" * 5, ["at most 4"]),
], ids=["e1000", "rtl8139", "user", "direct", "ovs", "unmanaged-bridge",
        "five"])
def test_refused_at_define(daemon, libvirt_mod, devices, words):
    """What a guest could not get is refused when it is defined, with
    VIR_ERR_CONFIG_UNSUPPORTED naming it; nothing is defined."""
    lv = libvirt_mod
    conn = lv.open(daemon.uri)
    try:
        xml = domain_xml("if-bad", devices)
        assert error_code(lv, conn.defineXML, xml) == \
            VIR_ERR_CONFIG_UNSUPPORTED
        try:
            conn.defineXML(xml)
        except lv.libvirtError as e:
            for w in words:
                assert w in str(e), str(e)
        assert "if-bad" not in [d.name() for d in conn.listAllDomains()]
    finally:
        conn.close()


def test_interface_stats_of_inactive_domain(daemon, libvirt_mod):
    """virDomainInterfaceStats (REMOTE_PROC_DOMAIN_INTERFACE_STATS, 65) is
    ours: on a shut-off domain it says so, rather than 'not supported'."""
    lv = libvirt_mod
    conn = lv.open(daemon.uri)
    try:
        dom = conn.defineXML(domain_xml(
            "if-stats", "<interface type='ethernet'><mac "
            "address='52:54:00:0b:00:01'/></interface>"))
        for dev in ("vnet0", "52:54:00:0b:00:01"):
            assert error_code(lv, dom.interfaceStats, dev) == \
                VIR_ERR_OPERATION_INVALID
        r = virsh(daemon.uri, "domifstat", "if-stats", "vnet0", check=False)
        assert r.returncode != 0 and "is not running" in r.stderr
        dom.undefine()
    finally:
        conn.close()


# ---- the host side of a start -----------------------------------------------

def ns_run(ns, *cmd, check=True):
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], check=check,
                          capture_output=True, text=True)


def links(ns):
    """The interfaces of namespace @ns by name (ip -d's JSON)."""
    return {link["ifname"]: link
            for link in json.loads(ns_run(ns, "ip", "-j", "-d", "link",
                                          "show").stdout)}


@pytest.fixture(scope="module")
def netns():
    if os.geteuid() != 0 or not shutil.which("ip"):
        pytest.skip("needs root and ip(8) for a network namespace")
    name = f"dvif{SUFFIX}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    ns_run(name, "ip", "link", "set", "lo", "up")
    yield name
    subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture(scope="module")
def probe():
    """The probe and where it writes (readable by nobody: not pytest's
    private directories)."""
    d = tempfile.mkdtemp(prefix="dv-probe-")
    os.chmod(d, 0o755)
    path = pathlib.Path(d) / "probe"
    path.write_text(PROBE)
    path.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP |
               stat.S_IROTH | stat.S_IXOTH)
    out = pathlib.Path(str(path) + ".out")
    out.mkdir()
    out.chmod(0o777)
    kernel = pathlib.Path(d) / "kernel"
    kernel.write_bytes(b"not a kernel: the probe does not read it")
    kernel.chmod(0o644)
    yield path
    shutil.rmtree(d)


def seen(probe):
    """What the last probe recorded (once)."""
    f = pathlib.Path(str(probe) + ".out") / "seen.json"
    data = json.loads(f.read_text())
    f.unlink()
    return data


def start_fails(lv, conn, dom):
    """Starts @dom, which must fail; returns the error and checks that
    the domain is shut off."""
    try:
        dom.create()
    except lv.libvirtError as e:
        err = e
    else:
        raise AssertionError(f"{dom.name()} started")
    assert dom.state()[0] == lv.VIR_DOMAIN_SHUTOFF
    return err


def taps_left(ns):
    return sorted(n for n, link in links(ns).items()
                  if link.get("linkinfo", {}).get("info_kind") == "tun")


@pytest.fixture(scope="module")
def nsd(tmp_path_factory, netns, probe):
    """A daemon in the namespace whose VMM is the probe."""
    d = Daemon(tmp_path_factory.mktemp("nsd"), vmm=probe,
               config_text=VMM_USER_CONFIG + 'network_uri = ""\n',
               wrapper=["ip", "netns", "exec", netns])
    yield d
    assert d.alive(), "virtduvisord died:\n" + d.log()
    d.check_clean_exit()


def test_bridge_and_ethernet_taps(nsd, netns, probe, libvirt_mod):
    """type='bridge': a new tap (vnetN, IFF_TAP|IFF_NO_PI|IFF_VNET_HDR)
    with the guest's MAC behind fe:, the bridge's MTU, up, on the bridge;
    type='ethernet': a new tap, up, on no bridge, with <mtu>; nova's
    bridge port: the tap named as it says, its MTU.  The VMM gets their
    descriptors; all vanish when the start fails."""
    lv = libvirt_mod
    br = "dvifbr0"
    ns_run(netns, "ip", "link", "add", br, "type", "bridge")
    ns_run(netns, "ip", "link", "set", br, "mtu", "1400", "up")
    conn = lv.open(nsd.uri)
    try:
        dom = conn.defineXML(domain_xml(
            "if-taps", f"""
            <interface type='bridge'><mac address='52:54:00:0c:00:01'/>
              <source bridge='{br}'/><model type='virtio'/></interface>
            <interface type='ethernet'><mac address='52:54:00:0c:00:02'/>
              <mtu size='1300'/></interface>
            <interface type="bridge"><mac address="fa:16:3e:2b:7c:91"/>
              <model type="virtio"/>
              <driver name="vhost" rx_queue_size="512"/>
              <source bridge="{br}"/><mtu size="1450"/>
              <target dev="tap12345678-9a"/></interface>""",
            kernel=probe.parent / "kernel"))
        err = start_fails(lv, conn, dom)
        assert "failed to start" in str(err), str(err)
        got = seen(probe)
        nets = got["nets"]
        assert [n["mac"] for n in nets] == ["52:54:00:0c:00:01",
                                            "52:54:00:0c:00:02",
                                            "fa:16:3e:2b:7c:91"]
        assert nets[2]["tap"] == "tap12345678-9a"
        for n in nets:
            assert n["tap"].startswith("vnet") or n is nets[2], n
            assert n["flags"] & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR) == \
                IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, n
        by_name = {link["ifname"]: link for link in got["links"]}
        a, b, nova = (by_name[n["tap"]] for n in nets)
        assert a["address"] == "fe:54:00:0c:00:01"
        assert a["mtu"] == 1400 and "UP" in a["flags"]
        assert a.get("master") == br
        assert a["linkinfo"]["info_data"]["vnet_hdr"] is True
        assert b["address"] == "fe:54:00:0c:00:02"
        assert b["mtu"] == 1300 and "UP" in b["flags"]
        assert "master" not in b
        assert nova["address"] == "fe:16:3e:2b:7c:91"
        assert nova["mtu"] == 1450 and nova.get("master") == br
        log = (nsd.log_dir / "if-taps.log").read_text()
        assert f"interface 0: tap {nets[0]['tap']} on bridge {br}" in log
        assert f"interface 1: tap {nets[1]['tap']}\n" in log
        # Gone with the descriptors; the bridge has no port left.
        assert taps_left(netns) == []
        assert ns_run(netns, "ls", f"/sys/class/net/{br}/brif").stdout == ""
        dom.undefine()
    finally:
        conn.close()


def test_failed_start_takes_back_every_tap(nsd, netns, probe, libvirt_mod):
    """The second interface's bridge does not exist: the start fails with
    that, before any VMM runs, and the first one's tap is gone too."""
    lv = libvirt_mod
    br = "dvifbr1"
    ns_run(netns, "ip", "link", "add", br, "type", "bridge")
    conn = lv.open(nsd.uri)
    try:
        dom = conn.defineXML(domain_xml(
            "if-half", f"""
            <interface type='bridge'><source bridge='{br}'/></interface>
            <interface type='bridge'><source bridge='nosuchbr'/>
            </interface>""", kernel=probe.parent / "kernel"))
        assert error_code(lv, dom.create) == VIR_ERR_OPERATION_FAILED
        err = start_fails(lv, conn, dom)
        assert "bridge 'nosuchbr' does not exist" in str(err), str(err)
        assert dom.state() == [lv.VIR_DOMAIN_SHUTOFF,
                               lv.VIR_DOMAIN_SHUTOFF_FAILED]
        assert not (pathlib.Path(str(probe) + ".out") / "seen.json").exists()
        assert taps_left(netns) == []
        assert ns_run(netns, "ls", f"/sys/class/net/{br}/brif").stdout == ""
        # A bridge that is no bridge.
        dom.undefine()
        dom = conn.defineXML(domain_xml(
            "if-half", "<interface type='bridge'><source bridge='lo'/>"
            "</interface>", kernel=probe.parent / "kernel"))
        err = start_fails(lv, conn, dom)
        assert "'lo' is not a bridge" in str(err), str(err)
        assert taps_left(netns) == []
        dom.undefine()
    finally:
        conn.close()


def test_existing_tap_used_as_it_is(nsd, netns, probe, libvirt_mod):
    """<target dev='...' managed='no'>: someone else's tap, opened by
    name and left as it was (address, MTU, down); it outlives the VMM.
    Missing, or a device that is no tap: the start fails, saying so."""
    lv = libvirt_mod
    tap = "dvifext0"
    ns_run(netns, "ip", "tuntap", "add", "dev", tap, "mode", "tap",
           "vnet_hdr")
    ns_run(netns, "ip", "link", "set", tap, "mtu", "1234", "address",
           "02:00:00:00:00:aa")
    conn = lv.open(nsd.uri)
    try:
        dom = conn.defineXML(domain_xml(
            "if-ext", f"<interface type='ethernet'><target dev='{tap}' "
            "managed='no'/></interface>", kernel=probe.parent / "kernel"))
        start_fails(lv, conn, dom)
        nets = seen(probe)["nets"]
        assert [n["tap"] for n in nets] == [tap]
        link = links(netns)[tap]
        assert link["address"] == "02:00:00:00:00:aa"
        assert link["mtu"] == 1234 and "UP" not in link["flags"]
        for dev, words in (("dvifnone0", "does not exist"),
                           ("lo", "is not a tap device")):
            dom.undefine()
            dom = conn.defineXML(domain_xml(
                "if-ext", f"<interface type='ethernet'><target dev='{dev}' "
                "managed='no'/></interface>", kernel=probe.parent / "kernel"))
            err = start_fails(lv, conn, dom)
            assert words in str(err), str(err)
        assert taps_left(netns) == [tap]
        dom.undefine()
    finally:
        conn.close()
        ns_run(netns, "ip", "tuntap", "del", "dev", tap, "mode", "tap",
               check=False)


# ---- type='network': libvirt's networks ---------------------------------------

@pytest.fixture(scope="module")
def libvirtd(tmp_path_factory, netns):
    """A private libvirtd (storage and network drivers) in the namespace:
    its networks' bridges are where our daemon makes its taps."""
    why = privlibvirtd.unavailable()
    if why:
        pytest.skip(why)
    d = privlibvirtd.PrivateLibvirtd(tmp_path_factory.mktemp("libvirtd"),
                                     wrapper=["ip", "netns", "exec", netns])
    d.start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def netd(tmp_path_factory, netns, probe, libvirtd):
    d = Daemon(tmp_path_factory.mktemp("netd"), vmm=probe,
               config_text=VMM_USER_CONFIG +
               f'network_uri = "{libvirtd.uri("network")}"\n',
               wrapper=["ip", "netns", "exec", netns])
    yield d
    assert d.alive(), "virtduvisord died:\n" + d.log()
    d.check_clean_exit()


def test_network_port(netd, netns, probe, libvirtd, libvirt_mod):
    """The network's bridge comes from a port of libvirt's network driver
    (its UUID in the domain's log), deleted again when the VMM is gone;
    missing and inactive networks fail with libvirt's own errors and leave
    no tap, no port."""
    lv = libvirt_mod
    net_name, bridge = f"dvifnet{SUFFIX}", f"dvifnbr{SUFFIX}"[:15]
    nconn = lv.open(libvirtd.uri("network"))
    conn = lv.open(netd.uri)
    try:
        # No <ip>, no <forward>: no dnsmasq, no firewall rules needed.
        net = nconn.networkDefineXML(
            f"<network><name>{net_name}</name><bridge name='{bridge}'/>"
            "</network>")
        dom = conn.defineXML(domain_xml(
            "if-net", f"<interface type='network'><mac "
            f"address='52:54:00:0d:00:01'/><source network='{net_name}'/>"
            "</interface>", kernel=probe.parent / "kernel"))
        assert error_code(lv, dom.create) == VIR_ERR_OPERATION_INVALID
        err = start_fails(lv, conn, dom)
        assert f"network '{net_name}' is not active" in str(err), str(err)
        net.create()
        start_fails(lv, conn, dom)
        nets = seen(probe)["nets"]
        assert len(nets) == 1 and nets[0]["tap"].startswith("vnet")
        log = (netd.log_dir / "if-net.log").read_text()
        line = next(x for x in log.splitlines()
                    if f"interface 0: tap {nets[0]['tap']}" in x)
        assert f"on bridge {bridge}, port " in line, line
        portid = line.split(", port ")[1].split()[0]
        uuidlib.UUID(portid)
        assert net.listAllPorts() == []
        assert taps_left(netns) == []
        # A start that fails after the port was made (at the second
        # interface) deletes it (the daemon's debug lines tell).
        dom.undefine()
        dom = conn.defineXML(domain_xml(
            "if-net", f"<interface type='network'><mac "
            f"address='52:54:00:0d:00:02'/><source network='{net_name}'/>"
            "</interface><interface type='bridge'><source "
            "bridge='nosuchbr'/></interface>", kernel=probe.parent / "kernel"))
        err = start_fails(lv, conn, dom)
        assert "bridge 'nosuchbr' does not exist" in str(err), str(err)
        made = [x for x in netd.log().splitlines()
                if "port " in x and " for 52:54:00:0d:00:02 on bridge " in x]
        assert len(made) == 1, netd.log()[-3000:]
        portid = made[0].split("port ")[1].split()[0]
        assert f"network '{net_name}': port {portid} deleted" in netd.log()
        assert net.listAllPorts() == []
        assert taps_left(netns) == []
        # A network of macvtap devices: their ports are no tap's.
        macvtap = nconn.networkCreateXML(
            f"<network><name>{net_name}-mv</name><forward mode='bridge'>"
            "<interface dev='lo'/></forward></network>")
        dom.undefine()
        dom = conn.defineXML(domain_xml(
            "if-net", f"<interface type='network'><source "
            f"network='{net_name}-mv'/></interface>",
            kernel=probe.parent / "kernel"))
        assert error_code(lv, dom.create) == VIR_ERR_CONFIG_UNSUPPORTED
        err = start_fails(lv, conn, dom)
        assert "ports of type 'direct'" in str(err), str(err)
        assert macvtap.listAllPorts() == []
        macvtap.destroy()
        # Gone.
        net.destroy()
        net.undefine()
        assert error_code(lv, dom.create) == VIR_ERR_NO_NETWORK
        assert taps_left(netns) == []
        dom.undefine()
    finally:
        conn.close()
        nconn.close()
