# SPDX-License-Identifier: GPL-2.0-or-later
"""Domain statistics through virtduvisord with the real clients, on defined
(inactive) domains: what needs no VMM (domblkinfo from the image, the
state, balloon, vcpu and block groups of domstats) and libvirt's errors
for the rest.  Running domains with guest I/O: tests/system/test_stats.py."""
import os

import pytest

from conftest import virsh
from dvhelpers import error_code

KERNEL = "/boot/does-not-need-to-exist/vmlinuz"
MIB = 1 << 20


def domain_xml(name, disks):
    devices = "".join(
        f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        f"<source file='{path}'/><target dev='{dev}' bus='virtio'/></disk>"
        for dev, path in disks)
    return f"""<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>{KERNEL}</kernel></os>
  <devices>{devices}</devices>
</domain>
"""


@pytest.fixture
def sparse_image(tmp_path):
    """16 MiB of which only the first MiB is stored."""
    path = tmp_path / "disk.img"
    with open(path, "wb") as f:
        f.write(b"\xa5" * MIB)
        f.truncate(16 * MIB)
    return path


def test_domblkinfo_of_an_inactive_domain(daemon, conn, sparse_image):
    conn.defineXML(domain_xml("st-info", [("vda", sparse_image)]))
    stored = os.stat(sparse_image).st_blocks * 512
    for name in ("vda", str(sparse_image)):
        out = virsh(daemon.uri, "domblkinfo", "st-info", name).stdout
        info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        assert int(info["Capacity"]) == 16 * MIB
        assert int(info["Allocation"]) == stored
        assert int(info["Physical"]) == 16 * MIB
    r = virsh(daemon.uri, "domblkinfo", "st-info", "vdz", check=False)
    assert r.returncode != 0 and "invalid path" in r.stderr, r


def test_running_only_calls_refuse_an_inactive_domain(daemon, conn, libvirt_mod,
                                                      sparse_image):
    lv = libvirt_mod
    dom = conn.defineXML(domain_xml("st-off", [("vda", sparse_image)]))
    for call in (lambda: dom.blockStats("vda"),
                 lambda: dom.blockStatsFlags("vda"),
                 lambda: dom.vcpus(),
                 lambda: dom.getCPUStats(True)):
        assert error_code(lv, call) == lv.VIR_ERR_OPERATION_INVALID
    r = virsh(daemon.uri, "domblkstat", "st-off", "vda", check=False)
    assert r.returncode != 0 and "not running" in r.stderr, r
    # vcpuinfo falls back to the configuration's pinning for a shut-off
    # domain: every host CPU.
    out = virsh(daemon.uri, "vcpuinfo", "st-off").stdout
    assert "CPU Affinity:" in out and "y" in out, out
    assert dom.vcpuPinInfo(lv.VIR_DOMAIN_AFFECT_CONFIG)[0][0] is True


def test_domstats_of_inactive_domains(daemon, conn, libvirt_mod, sparse_image):
    lv = libvirt_mod
    dom = conn.defineXML(domain_xml("st-all", [("vda", sparse_image)]))
    records = dict((d.name(), stats) for d, stats in conn.getAllDomainStats())
    st = records["st-all"]
    assert st["state.state"] == lv.VIR_DOMAIN_SHUTOFF
    assert st["balloon.maximum"] == st["balloon.current"] == 256 * 1024
    assert st["vcpu.current"] == 1 and st["vcpu.maximum"] == 2
    assert st["block.count"] == 1
    assert st["block.0.name"] == "vda"
    assert st["block.0.path"] == str(sparse_image)
    assert st["block.0.capacity"] == 16 * MIB
    assert "cpu.time" not in st and "net.count" not in st
    assert "block.0.rd.reqs" not in st

    only = conn.domainListGetStats([dom], lv.VIR_DOMAIN_STATS_STATE)
    assert [(d.name(), sorted(s)) for d, s in only] == [
        ("st-all", ["state.reason", "state.state"])]
    assert conn.getAllDomainStats(
        0, lv.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE) == []
    assert [d.name() for d, _ in conn.getAllDomainStats(
        0, lv.VIR_CONNECT_GET_ALL_DOMAINS_STATS_SHUTOFF)] == ["st-all"]
    # Groups this daemon does not have: left out, or refused on demand.
    assert conn.getAllDomainStats(lv.VIR_DOMAIN_STATS_PERF)[0][1] == {}
    assert error_code(lv, conn.getAllDomainStats, lv.VIR_DOMAIN_STATS_PERF,
                      lv.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS) == \
        lv.VIR_ERR_ARGUMENT_UNSUPPORTED

    out = virsh(daemon.uri, "domstats", "st-all", "--block", "--state").stdout
    assert "block.0.name=vda" in out and "state.state=5" in out, out


def test_domstats_refuses_unknown_flags(daemon, conn, libvirt_mod):
    lv = libvirt_mod
    assert error_code(lv, conn.getAllDomainStats, 0, 1 << 20) == \
        lv.VIR_ERR_INVALID_ARG
