# SPDX-License-Identifier: GPL-2.0-or-later
"""virsh's host and domain views beyond the basics: sysinfo, nodecpumap,
nodecpustats, nodememstats, freecell, domcapabilities, domblklist,
vcpucount, dommemstat, setmem (pool-list, vol-list and net-list:
test_storage_network.py).  Every value is checked against what the
kernel says (/sys, /proc) or what the domain XML holds."""
import pathlib
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import virsh

DMI = pathlib.Path("/sys/class/dmi/id")
# <sysinfo> section and entry -> the DMI file the kernel shows it in.
SYSINFO_FILES = {
    "bios": {"vendor": "bios_vendor", "version": "bios_version",
             "date": "bios_date", "release": "bios_release"},
    "system": {"manufacturer": "sys_vendor", "product": "product_name",
               "version": "product_version", "serial": "product_serial",
               "uuid": "product_uuid", "sku": "product_sku",
               "family": "product_family"},
    "baseBoard": {"manufacturer": "board_vendor", "product": "board_name",
                  "version": "board_version", "serial": "board_serial",
                  "asset": "board_asset_tag"},
    "chassis": {"manufacturer": "chassis_vendor",
                "version": "chassis_version", "serial": "chassis_serial",
                "asset": "chassis_asset_tag"},
}


def cpu_list(path):
    out = set()
    for part in pathlib.Path(path).read_text().strip().split(","):
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def meminfo(path, key):
    for line in pathlib.Path(path).read_text().splitlines():
        m = re.match(rf"(?:Node \d+ )?{key}:\s+(\d+) kB", line)
        if m:
            return int(m.group(1))
    return None


def dmi(name):
    try:
        return (DMI / name).read_text().strip() or None
    except OSError:
        return None


def test_sysinfo(daemon):
    root = ET.fromstring(virsh(daemon.uri, "sysinfo").stdout)
    assert root.tag == "sysinfo" and root.get("type") == "smbios"
    shown = {(s.tag, e.get("name")): e.text
             for s in root for e in s.findall("entry")}
    expected = {(sec, name): dmi(f)
                for sec, entries in SYSINFO_FILES.items()
                for name, f in entries.items() if dmi(f)}
    assert shown == expected
    # No empty sections.
    assert all(len(s) for s in root)


def test_nodecpumap(daemon):
    out = virsh(daemon.uri, "nodecpumap").stdout
    present = max(cpu_list("/sys/devices/system/cpu/present")) + 1
    online = cpu_list("/sys/devices/system/cpu/online")
    assert f"CPUs present:   {present}\n" in out
    assert f"CPUs online:    {len(online)}\n" in out
    want = "".join("y" if i in online else "-" for i in range(present))
    assert f"CPU map:        {want}\n" in out


def test_nodecpustats(daemon):
    out = virsh(daemon.uri, "nodecpustats").stdout
    fields = dict(re.findall(r"^(\w+):\s+(\d+)$", out, re.M))
    assert set(fields) == {"user", "system", "idle", "iowait"}
    assert int(fields["idle"]) > 0
    cpu = min(cpu_list("/sys/devices/system/cpu/online"))
    one = virsh(daemon.uri, "nodecpustats", str(cpu)).stdout
    assert int(dict(re.findall(r"^(\w+):\s+(\d+)$", one, re.M))["idle"]) \
        <= int(fields["idle"])
    r = virsh(daemon.uri, "nodecpustats", "4096", check=False)
    assert r.returncode != 0 and "no online CPU 4096" in r.stderr


def test_nodememstats_and_freecell(daemon):
    out = virsh(daemon.uri, "nodememstats").stdout
    stats = dict(re.findall(r"^(\w+)\s*:\s+(\d+) KiB$", out, re.M))
    assert set(stats) == {"total", "free", "buffers", "cached"}
    assert int(stats["total"]) == meminfo("/proc/meminfo", "MemTotal")
    node0 = pathlib.Path("/sys/devices/system/node/node0/meminfo")
    cell = dict(re.findall(r"^(\w+)\s*:\s+(\d+) KiB$",
                           virsh(daemon.uri, "nodememstats", "0").stdout,
                           re.M))
    want = node0 if node0.exists() else pathlib.Path("/proc/meminfo")
    assert int(cell["total"]) == meminfo(want, "MemTotal")
    cells = virsh(daemon.uri, "freecell", "--all").stdout
    ids = [int(x) for x in re.findall(r"^\s*(\d+):\s+\d+ KiB$", cells, re.M)]
    nodes = pathlib.Path("/sys/devices/system/node/possible")
    assert ids == (sorted(cpu_list(nodes)) if nodes.exists() else [0])
    assert re.search(r"^Total:\s+[1-9]\d* KiB$", cells, re.M)
    r = virsh(daemon.uri, "freecell", "4000", check=False)
    assert r.returncode != 0 and "out of range" in r.stderr


def test_domcapabilities(daemon):
    caps = ET.fromstring(virsh(daemon.uri, "capabilities").stdout)
    dc = ET.fromstring(virsh(daemon.uri, "domcapabilities", "--virttype",
                             "kvm", "--arch", "x86_64", "--machine",
                             "q35").stdout)
    assert dc.findtext("path") == caps.findtext("guest/arch/emulator")
    assert dc.findtext("machine") == "duvisor"
    assert int(dc.find("vcpu").get("max")) == int(
        caps.find("guest/arch/machine").get("maxCpus"))
    buses = [v.text for v in dc.findall(
        "devices/disk/enum[@name='bus']/value")]
    assert buses == ["virtio"]
    r = virsh(daemon.uri, "domcapabilities", "--arch", "aarch64",
              check=False)
    assert r.returncode != 0 and "only x86_64" in r.stderr


DOMAIN = """<domain type='kvm'>
  <name>blk</name>
  <memory unit='MiB'>256</memory>
  <currentMemory unit='MiB'>256</currentMemory>
  <vcpu current='2'>4</vcpu>
  <os><type>hvm</type><kernel>/boot/vmlinuz</kernel></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/images/root.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <source dev='/dev/vg0/data'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='volume' device='disk'>
      <source pool='images' volume='scratch.img'/>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sda' bus='sata'/>
    </disk>
  </devices>
</domain>
"""


@pytest.fixture
def blk(daemon, tmp_path):
    path = tmp_path / "blk.xml"
    path.write_text(DOMAIN)
    virsh(daemon.uri, "define", str(path))
    yield "blk"
    virsh(daemon.uri, "undefine", "blk", check=False)


def test_domblklist(daemon, blk):
    out = virsh(daemon.uri, "domblklist", blk, "--details").stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows == [["file", "disk", "vda", "/var/lib/images/root.img"],
                    ["block", "disk", "vdb", "/dev/vg0/data"],
                    ["volume", "disk", "vdc", "scratch.img"],
                    ["file", "cdrom", "sda", "-"]]
    short = virsh(daemon.uri, "domblklist", blk).stdout
    assert re.search(r"^ vdc\s+scratch.img$", short, re.M), short


def test_vcpucount(daemon, blk):
    out = virsh(daemon.uri, "vcpucount", blk).stdout
    assert re.search(r"^maximum\s+config\s+4$", out, re.M), out
    assert re.search(r"^current\s+config\s+2$", out, re.M), out
    assert virsh(daemon.uri, "vcpucount", blk, "--config",
                 "--maximum").stdout.strip() == "4"
    r = virsh(daemon.uri, "vcpucount", blk, "--live", check=False)
    assert r.returncode != 0 and "is not running" in r.stderr


def test_dommemstat_needs_a_running_domain(daemon, blk):
    r = virsh(daemon.uri, "dommemstat", blk, check=False)
    assert r.returncode != 0 and "'blk' is not running" in r.stderr
    # Its configuration can change (more in test_memory.py).
    virsh(daemon.uri, "setmem", blk, "131072", "--config")
    assert "Used memory:    131072 KiB" in virsh(daemon.uri, "dominfo",
                                                   blk).stdout
