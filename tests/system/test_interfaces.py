# SPDX-License-Identifier: GPL-2.0-or-later
"""Guests on the network through <interface> in domain XML: the daemon
makes a tap for each, on a Linux bridge (type='bridge') or on the bridge
of one of libvirt's networks (type='network', a port of a private
libvirtd's network driver), and the guest fixture's eth0 talks to the test
host over it.  virsh domiflist and domifstat follow the taps, across a
daemon restart too; the taps (and the network port) go when the domain
stops.

Runs inside the KVM test host (tests/host/run-in-host), whose network
namespace is its own: the bridges here are the test's.  The definition
side and the host side of failed starts: tests/daemon/test_interfaces.py.
"""
import base64
import hashlib
import json
import socket
import subprocess
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

import pytest

from sysfixtures import (BOOT_TIMEOUT, VMM_USER_CONFIG, daemon,  # noqa: F401
                         domain_xml, dump_logs, dvd, libvirt, needs_real_kvm,
                         privlibvirtd, virsh, vmm_binary)

MIB = 1 << 20
SENT = MIB + 4321         # guest to host, over TCP


def ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True,
                          text=True)


def link_exists(name):
    return ip("link", "show", "dev", name, check=False).returncode == 0


def bridge_ports(bridge):
    return sorted(link["ifname"] for link in json.loads(
        ip("-j", "link", "show", "master", bridge).stdout or "[]"))


class Receiver:
    """A TCP listener on the host that takes one connection's bytes."""

    def __init__(self, addr, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(1)
        self.sock.settimeout(BOOT_TIMEOUT + 120)
        self.data = bytearray()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            c, _ = self.sock.accept()
            c.settimeout(120)
            while True:
                chunk = c.recv(1 << 16)
                if not chunk:
                    break
                self.data += chunk
            c.close()
        except OSError:
            pass

    def result(self):
        self.thread.join(120)
        self.sock.close()
        return len(self.data), hashlib.md5(self.data).hexdigest()


def guest_command(guest_ip, host_ip):
    """eth0 up with @guest_ip; ping the host; send SENT bytes to port
    5001 with their MD5 on the console."""
    return (f"ip link set eth0 up && ip addr add {guest_ip}/24 dev eth0; "
            "echo NET-MAC=$(cat /sys/class/net/eth0/address); "
            f"ping -c 3 -W 10 {host_ip} >/dev/null && echo NET-PING=ok; "
            f"head -c {SENT} /dev/urandom > /tmp/out; "
            "echo NET-SENT=$(md5sum < /tmp/out | cut -d' ' -f1); "
            f"timeout 120 nc {host_ip} 5001 < /tmp/out; echo NET-DONE")


def console_values(d, name, timeout=BOOT_TIMEOUT):
    """The guest's NAME=value lines, once its command has run."""
    path = d.log_dir / f"{name}.console.log"
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(errors="replace") if path.exists() else ""
        if "DUVISOR-CMD-EXIT=" in text:
            break
        assert time.monotonic() < deadline, text[-3000:]
        time.sleep(0.5)
    values = {}
    for line in text.replace("\r", "").splitlines():
        if line.startswith("NET-") and "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values, text


def host_pings(addr):
    # busybox's: Debian's iputils-ping is not among our dependencies.
    r = subprocess.run(["busybox", "ping", "-c", "3", "-W", "5", addr],
                       capture_output=True, text=True)
    return r.returncode == 0


def iflist(d, name):
    """virsh domiflist's rows (interface, type, source, model, MAC)."""
    out = virsh(d.uri, "domiflist", name).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def ifstat(d, name, dev):
    out = virsh(d.uri, "domifstat", name, dev).stdout
    return {line.split()[1]: int(line.split()[2])
            for line in out.splitlines() if line.strip()}


def check_exchange(d, name, receiver, guest_ip, mac):
    values, text = console_values(d, name)
    assert values.get("NET-MAC") == mac, text[-3000:]
    assert values.get("NET-PING") == "ok", text[-3000:]
    assert "NET-DONE" in text, text[-3000:]
    assert receiver.result() == (SENT, values["NET-SENT"]), text[-3000:]
    assert host_pings(guest_ip)


def make_bridge(name, addr):
    ip("link", "add", name, "type", "bridge")
    ip("addr", "add", f"{addr}/24", "dev", name)
    ip("link", "set", name, "up")


@pytest.fixture
def bridge():
    """A bridge with an address in the test host."""
    needs_real_kvm()
    make_bridge("dvsbr0", "10.77.0.1")
    yield "dvsbr0"
    ip("link", "del", "dvsbr0", check=False)


def test_bridge(daemon, libvirt, bridge):
    """type='bridge': the guest reaches the host and back; domiflist and
    domifstat (rx and tx from the guest's side) before and after a daemon
    restart; the tap goes with the domain."""
    mac = "52:54:00:5e:00:01"
    cmd = base64.b64encode(guest_command("10.77.0.2", "10.77.0.1").encode())
    receiver = Receiver("10.77.0.1", 5001)
    c = libvirt.open(daemon.uri)
    try:
        dom = c.defineXML(domain_xml(
            "sys-br", action="wait", extra_cmdline=f"dvcmd={cmd.decode()}",
            devices=f"""
    <interface type='bridge'>
      <mac address='{mac}'/><source bridge='{bridge}'/>
      <model type='virtio'/>
    </interface>"""))
        dom.create()
        check_exchange(daemon, "sys-br", receiver, "10.77.0.2", mac)
        rows = iflist(daemon, "sys-br")
        assert len(rows) == 1 and rows[0][1:] == ["bridge", bridge, "virtio",
                                                  mac], rows
        tap = rows[0][0]
        assert tap.startswith("vnet")
        target = ET.fromstring(dom.XMLDesc(0)).find("devices/interface/target")
        assert target.get("dev") == tap
        assert bridge_ports(bridge) == [tap]
        assert open(f"/sys/class/net/{tap}/address").read().strip() == \
            "fe" + mac[2:]
        st = ifstat(daemon, "sys-br", tap)
        # The guest sent SENT bytes: its tx, the tap's rx.
        assert st["tx_bytes"] >= SENT and st["tx_packets"] > 0, st
        assert st["rx_bytes"] > 0 and st["rx_packets"] > 0, st
        host_rx = int(open(f"/sys/class/net/{tap}/statistics/rx_bytes").read())
        assert host_rx >= SENT
        assert dom.interfaceStats(mac)[0] >= st["rx_bytes"]
        # The host talked to the guest: its neighbour table has the MAC.
        addrs = dom.interfaceAddresses(
            libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP)
        assert addrs == {tap: {"hwaddr": mac, "addrs": [
            {"type": libvirt.VIR_IP_ADDR_TYPE_IPV4, "addr": "10.77.0.2",
             "prefix": 0}]}}, addrs
        out = virsh(daemon.uri, "domifaddr", "sys-br", "--source", "arp").stdout
        assert "10.77.0.2" in out and mac in out, out
        # A bridge NIC has no DHCP lease of a libvirt network.
        assert dom.interfaceAddresses(
            libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE) == {}

        c.close()
        daemon.stop()
        daemon.start()
        c = libvirt.open(daemon.uri)
        dom = c.lookupByName("sys-br")
        assert iflist(daemon, "sys-br") == rows
        after = ifstat(daemon, "sys-br", tap)
        assert after["tx_bytes"] >= st["tx_bytes"], (st, after)
        assert host_pings("10.77.0.2")
        assert ifstat(daemon, "sys-br", tap)["rx_packets"] > \
            after["rx_packets"]

        dom.destroy()
        assert not link_exists(tap)
        assert bridge_ports(bridge) == []
        # Its configuration knows no tap.
        assert iflist(daemon, "sys-br")[0][0] == "-"
        dom.undefine()
    finally:
        c.close()


@pytest.fixture
def libvirtd(tmp_path_factory):
    needs_real_kvm()
    priv = privlibvirtd()
    why = priv.unavailable()
    if why:
        pytest.skip(f"type='network' needs libvirt's network driver: {why}")
    d = priv.PrivateLibvirtd(tmp_path_factory.mktemp("libvirtd"))
    d.start()
    yield d
    d.stop()


@pytest.fixture
def fresh_daemon_net(tmp_path, libvirt, libvirtd):
    """A daemon of its own, handing networks to the private libvirtd."""
    d = dvd.Daemon(tmp_path / "dv", vmm=vmm_binary(),
                   config_text=VMM_USER_CONFIG +
                   f'network_uri = "{libvirtd.uri("network")}"\n')
    yield d
    dump_logs(d)
    if d.proc and d.proc.poll() is None:
        d.stop()
    d.kill_vmms()


def test_network(fresh_daemon_net, libvirt, libvirtd):
    """type='network': the tap goes on the bridge of a port of libvirt's
    network, shown in the live XML; the port outlives a daemon restart
    and is deleted when the domain stops.

    The network is one on a bridge of the host (<forward mode='bridge'>):
    libvirt's own bridges want firewall rules, and the test host has no
    netfilter (tests/daemon/test_interfaces.py has one of those)."""
    d = fresh_daemon_net
    mac = "52:54:00:5e:00:02"
    net_name, br = "dvsnet", "dvsnbr0"
    nconn = libvirt.open(libvirtd.uri("network"))
    c = libvirt.open(d.uri)
    make_bridge(br, "10.78.0.1")
    try:
        net = nconn.networkCreateXML(
            f"<network><name>{net_name}</name><forward mode='bridge'/>"
            f"<bridge name='{br}'/></network>")
        cmd = base64.b64encode(guest_command("10.78.0.2",
                                             "10.78.0.1").encode())
        receiver = Receiver("10.78.0.1", 5001)
        dom = c.defineXML(domain_xml(
            "sys-net", action="wait", extra_cmdline=f"dvcmd={cmd.decode()}",
            devices=f"""
    <interface type='network'>
      <mac address='{mac}'/><source network='{net_name}'/>
      <model type='virtio'/>
    </interface>"""))
        dom.create()
        check_exchange(d, "sys-net", receiver, "10.78.0.2", mac)
        src = ET.fromstring(dom.XMLDesc(0)).find("devices/interface/source")
        assert src.get("network") == net_name and src.get("bridge") == br
        portid = src.get("portid")
        uuidlib.UUID(portid)
        assert [p.UUIDString() for p in net.listAllPorts()] == [portid]
        rows = iflist(d, "sys-net")
        assert rows[0][1:] == ["network", net_name, "virtio", mac], rows
        tap = rows[0][0]
        assert bridge_ports(br) == [tap]
        assert ifstat(d, "sys-net", mac)["tx_bytes"] >= SENT

        c.close()
        d.stop()
        d.start()
        c = libvirt.open(d.uri)
        dom = c.lookupByName("sys-net")
        src = ET.fromstring(dom.XMLDesc(0)).find("devices/interface/source")
        assert src.get("portid") == portid
        dom.destroy()
        assert net.listAllPorts() == []
        assert not link_exists(tap)
        dom.undefine()
        net.destroy()
    finally:
        c.close()
        nconn.close()
        ip("link", "del", br, check=False)
