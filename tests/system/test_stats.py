# SPDX-License-Identifier: GPL-2.0-or-later
"""Domain statistics of a real guest through unmodified virsh and
python3-libvirt: the guest writes, reads and flushes its disk with O_DIRECT,
and domblkstat, domblkinfo, vcpuinfo, cpu-stats --total, domstats and
getAllDomainStats must have seen at least that much (the guest's kernel may
add I/O of its own).  Then the same domain shut off.

Runs inside the KVM test host (tests/host/run-in-host); see sysfixtures.py.
"""
import base64
import re
import time

from sysfixtures import (BOOT_TIMEOUT, conn, daemon, domain_xml,  # noqa: F401
                         dvh, libvirt, virsh)

MIB = 1 << 20
WRITE_MIB = 8
READ_MIB = 4
# Past the partition table the kernel reads on its own.
GUEST_IO = (f"dd if=/dev/urandom of=/tmp/blob bs=1M count={WRITE_MIB} 2>/dev/null; "
            f"dd if=/tmp/blob of=/dev/vda bs=1M seek=4 oflag=direct conv=fsync "
            f"2>/dev/null && "
            f"dd if=/dev/vda of=/dev/null bs=1M skip=4 count={READ_MIB} "
            f"iflag=direct 2>/dev/null && echo IO-DONE-$((6*7))")


def stats_domain(conn, tmp_path, name):
    image = tmp_path / f"{name}.img"
    with open(image, "wb") as f:
        f.truncate(32 * MIB)
    devices = f"""
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{image}'/><target dev='vda' bus='virtio'/>
    </disk>"""
    dvcmd = base64.b64encode(GUEST_IO.encode()).decode()
    xml = domain_xml(name, action="wait", extra_cmdline=f"dvcmd={dvcmd}",
                     devices=devices).replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>")
    return conn.defineXML(xml), image


def wait_console(daemon, name, text, timeout=BOOT_TIMEOUT):
    path = daemon.log_dir / f"{name}.console.log"
    deadline = time.monotonic() + timeout
    while True:
        console = path.read_text(errors="replace") if path.exists() else ""
        if text in console:
            return
        assert time.monotonic() < deadline, console[-3000:]
        time.sleep(0.5)


def numbers(text, device="vda"):
    """'DEVICE rd_req 12' lines (and 'name: value' ones) as {name: int}."""
    out = {}
    for line in text.splitlines():
        if line.startswith(device + " "):
            line = line[len(device):]
        m = re.match(r"\s*([^:]+?):?\s+(-?\d+)\s*$", line)
        if m:
            out[m.group(1).strip()] = int(m.group(2))
    return out


def test_statistics_follow_the_guest(daemon, conn, libvirt, tmp_path):
    lv = libvirt
    dom, image = stats_domain(conn, tmp_path, "sys-stats")
    dom.create()
    wait_console(daemon, "sys-stats", "IO-DONE-42")

    # virsh domblkstat, by target and by source path.
    blk = numbers(virsh(daemon.uri, "domblkstat", "sys-stats", "vda").stdout)
    assert blk["wr_bytes"] >= WRITE_MIB * MIB, blk
    assert blk["wr_req"] >= WRITE_MIB, blk
    assert blk["rd_bytes"] >= READ_MIB * MIB, blk
    assert blk["rd_req"] >= READ_MIB, blk
    assert blk["flush_operations"] >= 1, blk
    assert blk["wr_total_times"] > 0 and blk["rd_total_times"] > 0, blk
    assert blk["errs"] == 0, blk
    by_path = numbers(virsh(daemon.uri, "domblkstat", "sys-stats",
                            str(image)).stdout, device=str(image))
    assert by_path["wr_bytes"] >= blk["wr_bytes"], by_path
    human = virsh(daemon.uri, "domblkstat", "sys-stats", "vda", "--human").stdout
    hum = numbers(human)
    assert hum["number of bytes written"] >= WRITE_MIB * MIB, human
    assert hum["number of flush operations"] >= 1, human
    r = virsh(daemon.uri, "domblkstat", "sys-stats", "vdz", check=False)
    assert r.returncode != 0 and "invalid path" in r.stderr, r

    # python: the old call, the typed one (nparams 0 first, as libvirt does).
    rd_req, rd_bytes, wr_req, wr_bytes, errs = dom.blockStats("vda")
    assert wr_bytes >= WRITE_MIB * MIB and rd_bytes >= READ_MIB * MIB
    assert errs == 0
    flags = dom.blockStatsFlags("vda")
    assert flags["wr_bytes"] >= wr_bytes and flags["flush_operations"] >= 1
    assert set(flags) == {"rd_operations", "rd_bytes", "rd_total_times",
                          "wr_operations", "wr_bytes", "wr_total_times",
                          "flush_operations", "flush_total_times", "errs"}
    assert dvh.error_code(lv, dom.blockStats, "vdz") == lv.VIR_ERR_INVALID_ARG

    # domblkinfo: the file's sizes; at least what the guest wrote is stored.
    info = numbers(virsh(daemon.uri, "domblkinfo", "sys-stats", "vda").stdout)
    assert info["Capacity"] == info["Physical"] == 32 * MIB, info
    assert info["Allocation"] >= WRITE_MIB * MIB, info
    assert dom.blockInfo("vda") == [32 * MIB, info["Allocation"], 32 * MIB]

    # vCPUs: two running threads of the VMM with their time and affinity.
    out = virsh(daemon.uri, "vcpuinfo", "sys-stats").stdout
    assert out.count("State:          running") == 2, out
    assert "CPU Affinity:   y" in out, out
    (infos, maps) = dom.vcpus()
    assert [i[0] for i in infos] == [0, 1]
    assert all(i[1] == lv.VIR_VCPU_RUNNING and i[3] >= 0 for i in infos)
    assert sum(i[2] for i in infos) > 0
    assert all(any(m) for m in maps)
    assert all(any(m) for m in dom.vcpuPinInfo(lv.VIR_DOMAIN_AFFECT_LIVE))

    # cpu-stats: the VMM's total; no per-host-CPU accounting.
    out = virsh(daemon.uri, "cpu-stats", "sys-stats", "--total").stdout
    assert re.search(r"cpu_time\s+\d+\.\d+ seconds", out), out
    total = dom.getCPUStats(True)[0]
    assert total["cpu_time"] >= total["user_time"] > 0
    assert total["cpu_time"] >= total["system_time"]
    assert dvh.error_code(lv, dom.getCPUStats, False) == lv.VIR_ERR_NO_SUPPORT

    # domstats and getAllDomainStats: the same numbers under libvirt's names.
    out = virsh(daemon.uri, "domstats", "sys-stats").stdout
    fields = dict(line.strip().split("=", 1) for line in out.splitlines()
                  if "=" in line)
    assert int(fields["block.0.wr.bytes"]) >= WRITE_MIB * MIB, out
    assert fields["block.0.name"] == "vda" and fields["block.0.path"] == str(image)
    assert int(fields["vcpu.current"]) == 2 and "vcpu.1.time" in fields, out
    assert int(fields["state.state"]) == lv.VIR_DOMAIN_RUNNING, out
    [(d, st)] = conn.domainListGetStats([dom])
    assert d.name() == "sys-stats"
    assert st["block.count"] == 1
    assert st["block.0.rd.bytes"] >= READ_MIB * MIB
    assert st["block.0.wr.reqs"] >= WRITE_MIB
    assert st["block.0.fl.reqs"] >= 1 and st["block.0.fl.times"] > 0
    assert st["block.0.wr.times"] > 0 and st["block.0.rd.times"] > 0
    assert st["block.0.capacity"] == 32 * MIB
    assert st["block.0.allocation"] >= WRITE_MIB * MIB
    assert st["cpu.time"] >= st["cpu.user"] > 0
    assert st["vcpu.0.state"] == lv.VIR_VCPU_RUNNING and st["vcpu.0.time"] > 0
    assert st["balloon.maximum"] == 256 * 1024 and st["balloon.rss"] > 0
    assert "net.count" in st and st["net.count"] == 0
    running = conn.getAllDomainStats(
        lv.VIR_DOMAIN_STATS_STATE, lv.VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING)
    assert "sys-stats" in [d.name() for d, _ in running]
    # Counters only grow.
    [(_, later)] = conn.domainListGetStats([dom], lv.VIR_DOMAIN_STATS_BLOCK)
    assert later["block.0.wr.bytes"] >= st["block.0.wr.bytes"]

    # Shut off: what needs no VMM is still there, the rest is refused.
    dom.destroy()
    dvh.wait_state(dom, lv.VIR_DOMAIN_SHUTOFF)
    [(d, off)] = conn.domainListGetStats([dom])
    assert off["state.state"] == lv.VIR_DOMAIN_SHUTOFF
    assert off["block.0.capacity"] == 32 * MIB
    assert "block.0.wr.bytes" not in off and "cpu.time" not in off
    assert "vcpu.0.time" not in off
    r = virsh(daemon.uri, "domblkstat", "sys-stats", "vda", check=False)
    assert r.returncode != 0 and "not running" in r.stderr, r
    assert numbers(virsh(daemon.uri, "domblkinfo", "sys-stats",
                         "vda").stdout)["Capacity"] == 32 * MIB
    assert dvh.error_code(lv, dom.getCPUStats, True) == \
        lv.VIR_ERR_OPERATION_INVALID
    assert "running" not in virsh(daemon.uri, "vcpuinfo", "sys-stats").stdout
    dom.undefine()
