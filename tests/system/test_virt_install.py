# SPDX-License-Identifier: GPL-2.0-or-later
"""virt-install (Debian's virtinst 4.1, unmodified) creates, starts and
persists DuVisor domains that boot the guest fixture, and the storage
volumes behind <disk type='volume'> reach the guest.

virt-install needs the storage pool procedures even for a plain file:
without them it drops the disk's path ("Device type 'disk' requires a
path").  So a private libvirtd (tests/daemon/privlibvirtd.py) runs here
too, and our daemon hands it the storage procedures (delegate.h).

virt-install picks virtio only for qemu:// URIs: the disks here say
bus=virtio (its default, hda on IDE, is not given to the guest) and the
NIC model=virtio (its default, e1000, is refused).

Runs inside the KVM test host, like the rest of tests/system:

  tests/host/run-in-host -- /usr/bin/python3 -m pytest tests/system/test_virt_install.py
"""
import base64
import os
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from sysfixtures import (BOOT_TIMEOUT, ROOT, conn, dvd, dvh,  # noqa: F401
                         guest_dir, libvirt, needs_real_kvm, privlibvirtd,
                         serve, virsh, vmm_binary)

POOL = "vi-pool"
VIR_ERR_OPERATION_INVALID = 55
VIR_ERR_NO_STORAGE_VOL = 50

# --network choices.  virt-install picks e1000 for any URI but qemu's:
# model=virtio is needed (see test_network_needs_virtio).  NETWORK is a
# "default" network of libvirt's, defined through our daemon, which hands
# it to the private libvirtd's network driver; on BRIDGE (<forward
# mode='bridge'>), since a NAT network, libvirt's usual "default", wants
# netfilter, which the test host lacks (tests/daemon/test_storage_network.py
# runs an isolated one with DHCP, dnsmasq included, on this machine).
BRIDGE = "dvvibr0"
NETWORK = "default"
NETWORKS = [["--network", "none"],
            ["--network", f"bridge={BRIDGE},model=virtio"],
            ["--network", f"network={NETWORK},model=virtio"]]


@pytest.fixture(scope="module")
def libvirtd(tmp_path_factory):
    needs_real_kvm()
    priv = privlibvirtd()
    why = priv.unavailable()
    if why:
        pytest.skip(f"virt-install needs a storage driver: {why}")
    if not shutil.which("virt-install"):
        pytest.skip("virt-install is not installed (tools/install-deps)")
    d = priv.PrivateLibvirtd(tmp_path_factory.mktemp("libvirtd"))
    d.start()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, libvirtd, libvirt):
    yield from serve(dvd.Daemon(
        tmp_path_factory.mktemp("vi"), vmm=vmm_binary(),
        config_text=f'storage_uri = "{libvirtd.uri("storage")}"\n'
                    f'network_uri = "{libvirtd.uri("network")}"\n'))


@pytest.fixture(scope="module")
def pool(daemon, tmp_path_factory):
    """A directory pool, defined through our daemon."""
    path = tmp_path_factory.mktemp("pool")
    virsh(daemon.uri, "pool-define-as", POOL, "dir", "--target", str(path))
    virsh(daemon.uri, "pool-start", POOL)
    yield path
    virsh(daemon.uri, "pool-destroy", POOL, check=False)
    virsh(daemon.uri, "pool-undefine", POOL, check=False)


def kernel_args(cmd, action):
    b64 = base64.b64encode(cmd.encode()).decode()
    return f"console=ttyS0 quiet dvaction={action} dvcmd={b64}"


def virt_install(uri, name, disk, cmd, action, network):
    g = guest_dir()
    args = ["virt-install", "--connect", uri, "--name", name,
            "--memory", "256", "--vcpus", "1", "--osinfo", "linux2022",
            "--import", "--disk", disk,
            "--boot", f"kernel={g / 'vmlinuz'},"
                      f"initrd={g / 'initramfs.cpio.gz'},"
                      f"kernel_args={kernel_args(cmd, action)}",
            *network, "--graphics", "none", "--noautoconsole"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, LC_ALL="C"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Domain creation completed" in r.stdout, r.stdout + r.stderr
    return r


def console(daemon, name):
    path = daemon.log_dir / f"{name}.console.log"
    return path.read_text(errors="replace") if path.exists() else ""


def wait_console(daemon, name, text):
    """Waits for @text on the domain's console log."""
    deadline = time.monotonic() + BOOT_TIMEOUT
    while text not in console(daemon, name):
        assert time.monotonic() < deadline, console(daemon, name)[-3000:]
        time.sleep(0.2)


@pytest.fixture(scope="module")
def bridge():
    subprocess.run(["ip", "link", "add", BRIDGE, "type", "bridge"],
                   check=True)
    yield BRIDGE
    subprocess.run(["ip", "link", "del", BRIDGE], check=False)


@pytest.fixture(scope="module")
def network(daemon, bridge):
    """NETWORK, defined, started and autostarted with virsh through our
    daemon, as a user of virt-manager's "Virtual Networks" would."""
    xml = (f"<network><name>{NETWORK}</name><forward mode='bridge'/>"
           f"<bridge name='{bridge}'/></network>")
    subprocess.run(["virsh", "-c", daemon.uri, "net-define", "/dev/stdin"],
                   input=xml, text=True, check=True, capture_output=True)
    virsh(daemon.uri, "net-start", NETWORK)
    virsh(daemon.uri, "net-autostart", NETWORK)
    yield NETWORK
    virsh(daemon.uri, "net-destroy", NETWORK, check=False)
    virsh(daemon.uri, "net-undefine", NETWORK, check=False)


@pytest.mark.parametrize("nic", NETWORKS, ids=lambda n: n[-1])
def test_import_raw_disk_kernel_boot(daemon, conn, libvirt, libvirtd,
                                     tmp_path, nic, bridge, network):
    """--import of a raw image with direct kernel boot: defined, running,
    the guest sees and writes the disk (and its NIC, if any); it stays
    defined after destroy."""
    # A name per case: the console log of an earlier one must not answer.
    name = {"none": "vi-import", "network": "vi-import-net"}.get(
        nic[-1].split("=")[0], "vi-import-nic")
    image = tmp_path / "vi-import.raw"
    image.write_bytes(b"\0" * (16 << 20))
    cmd = ("echo VI-DISK $(cat /sys/block/vda/size) "
           "$(cat /sys/block/vda/serial); "
           "echo VI-NIC $(cat /sys/class/net/eth0/address 2>/dev/null); "
           "echo written-by-the-vi-guest | "
           "dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null")
    virt_install(daemon.uri, name,
                 f"{image},format=raw,bus=virtio,serial=VI-SERIAL", cmd,
                 "wait", nic)
    dom = conn.lookupByName(name)
    assert dom.isActive() == 1 and dom.isPersistent() == 1
    wait_console(daemon, name, "DUVISOR-CMD-EXIT=0")
    assert "VI-DISK 32768 VI-SERIAL" in console(daemon, name)
    assert image.read_bytes().startswith(b"written-by-the-vi-guest\n")
    iface = ET.fromstring(dom.XMLDesc(0)).find("devices/interface")
    if nic[-1] == "none":
        assert iface is None
        assert "\nVI-NIC\n" in console(daemon, name).replace("\r", "")
    else:
        mac = iface.find("mac").get("address")
        assert f"VI-NIC {mac}" in console(daemon, name)
        assert iface.find("source").get("bridge") == bridge
        tap = iface.find("target").get("dev")
        assert os.path.exists(f"/sys/class/net/{bridge}/brif/{tap}")
    if nic[-1].startswith("network="):
        # The tap is on a port of the network, given back on destroy.
        assert iface.get("type") == "network"
        assert iface.find("source").get("network") == network
        nconn = libvirt.open(libvirtd.uri("network"))
        net = nconn.networkLookupByName(network)
        assert [p.UUIDString() for p in net.listAllPorts()] == \
            [iface.find("source").get("portid")]
    # Memory statistics: virt-install's balloon (its guest driver reported
    # when it started), the guest's memory and the VMM's resident set.
    stats = dict(line.split() for line in virsh(
        daemon.uri, "dommemstat", name).stdout.splitlines() if line)
    assert {"actual", "rss", "available", "unused", "usable",
            "last_update"} <= set(stats), stats
    assert int(stats["actual"]) == 262144
    assert 0 < int(stats["unused"]) < int(stats["available"]) <= 262144
    assert 0 < int(stats["rss"])

    virsh(daemon.uri, "destroy", name)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    if nic[-1].startswith("network="):
        assert net.listAllPorts() == []
        nconn.close()
    assert (daemon.config_dir / f"{name}.xml").exists()
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert root.findtext("os/kernel") == str(guest_dir() / "vmlinuz")
    assert "dvaction=wait" in root.findtext("os/cmdline")
    disk = root.find("devices/disk")
    assert disk.find("source").get("file") == str(image)
    assert disk.find("target").get("dev") == "vda"


def test_network_needs_virtio(daemon, conn, tmp_path, bridge):
    """Without model=virtio virt-install asks for an e1000, which guests
    here would not find: refused, saying what to write instead."""
    image = tmp_path / "vi-e1000.raw"
    image.write_bytes(b"\0" * (1 << 20))
    g = guest_dir()
    r = subprocess.run(
        ["virt-install", "--connect", daemon.uri, "--name", "vi-e1000",
         "--memory", "256", "--osinfo", "linux2022", "--import",
         "--disk", f"{image},format=raw,bus=virtio",
         "--boot", f"kernel={g / 'vmlinuz'}", "--network",
         f"bridge={bridge}", "--graphics", "none", "--noautoconsole"],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, LC_ALL="C"))
    assert r.returncode != 0
    assert "interface model 'e1000' is not supported" in r.stderr, r.stderr
    assert "model=virtio" in r.stderr
    assert "vi-e1000" not in [d.name() for d in conn.listAllDomains()]


def test_new_volume_in_dir_pool(daemon, conn, libvirt, pool):
    """--disk pool=...,size=N: virt-install creates the volume through
    our daemon; the guest gets a disk of that size."""
    cmd = "echo VOL-DISK $(cat /sys/block/vda/size)"
    virt_install(daemon.uri, "vi-vol",
                 f"pool={POOL},size=0.03125,format=raw,bus=virtio", cmd,
                 "poweroff", NETWORKS[0])
    dom = conn.lookupByName("vi-vol")
    assert dom.isPersistent() == 1
    dvh.wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF, timeout=BOOT_TIMEOUT)
    assert dom.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN
    assert "VOL-DISK 65536" in console(daemon, "vi-vol"), \
        console(daemon, "vi-vol")[-3000:]
    vols = virsh(daemon.uri, "vol-list", POOL).stdout
    assert "vi-vol.img" in vols
    assert (pool / "vi-vol.img").stat().st_size == 32 << 20


def test_volume_disk_from_domain_xml(daemon, conn, libvirt, pool):
    """<disk type='volume'>: the daemon asks the storage driver for the
    volume's path at start; a missing volume or an inactive pool is a
    clear error and nothing runs."""
    virsh(daemon.uri, "vol-create-as", POOL, "xml-vol.img", "8M",
          "--format", "raw")
    cmd = ("echo written-through-a-volume | "
           "dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null; "
           "echo VOL-SIZE $(cat /sys/block/vda/size)")
    disk = ("<disk type='volume' device='disk'>"
            "<driver name='qemu' type='raw'/>"
            f"<source pool='{POOL}' volume='%s'/>"
            "<target dev='vda' bus='virtio'/></disk>")
    g = guest_dir()
    xml = f"""<domain type='kvm'>
  <name>%s</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>{g / 'vmlinuz'}</kernel>
    <initrd>{g / 'initramfs.cpio.gz'}</initrd>
    <cmdline>{kernel_args(cmd, 'poweroff')}</cmdline>
  </os>
  <devices>
    <serial type='pty'/>
    %s
  </devices>
</domain>"""
    missing = conn.defineXML(xml % ("vol-missing", disk % "no-such.img"))
    with pytest.raises(libvirt.libvirtError) as e:
        missing.create()
    assert e.value.get_error_code() == VIR_ERR_NO_STORAGE_VOL
    assert ("disk 'vda': cannot use volume 'no-such.img' of storage pool "
            f"'{POOL}'") in e.value.get_error_message()
    assert missing.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF

    dom = conn.defineXML(xml % ("vol-xml", disk % "xml-vol.img"))
    out = virsh(daemon.uri, "domblklist", "vol-xml", "--details").stdout
    assert "volume   disk     vda      xml-vol.img" in out, out
    virsh(daemon.uri, "pool-destroy", POOL)
    try:
        with pytest.raises(libvirt.libvirtError) as e:
            dom.create()
        assert e.value.get_error_code() == VIR_ERR_OPERATION_INVALID
        assert f"storage pool '{POOL}' is not active" in \
            e.value.get_error_message()
    finally:
        virsh(daemon.uri, "pool-start", POOL)

    dom.create()
    root = ET.fromstring(dom.XMLDesc(0))
    assert root.find("devices/disk/source").get("volume") == "xml-vol.img"
    dvh.wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF, timeout=BOOT_TIMEOUT)
    assert "VOL-SIZE 16384" in console(daemon, "vol-xml"), \
        console(daemon, "vol-xml")[-3000:]
    assert (pool / "xml-vol.img").read_bytes().startswith(
        b"written-through-a-volume\n")
