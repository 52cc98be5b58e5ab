# SPDX-License-Identifier: GPL-2.0-or-later
"""The memory balloon end to end: unmodified virsh and python3-libvirt
shrink and grow a real guest through virtduvisord and duvisor-vmm
(setmem --live), read its statistics (dommemstat), see dominfo's "Used
memory" and the live XML follow, get VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
and boot a domain whose <currentMemory> is below its <memory>.

Runs inside the KVM test host (tests/host/run-in-host), like the other
tests of tests/system (fixtures: sysfixtures.py)."""
import base64
import re
import threading
import time
import xml.etree.ElementTree as ET

from sysfixtures import (BOOT_TIMEOUT, conn, daemon,  # noqa: F401
                         domain_xml, libvirt, virsh, vmm_status)

MIB_KIB = 1024
# The guest's MemTotal (kB) on its console once a second.
MEMTOTAL_LOOP = ("while :; do echo MT=$(awk '/^MemTotal:/ {print $2}' "
                 "/proc/meminfo); sleep 1; done")


def balloon_domain(name, current_mib=None, memballoon=""):
    cmd = base64.b64encode(MEMTOTAL_LOOP.encode()).decode()
    xml = domain_xml(name, action="wait", extra_cmdline=f"dvcmd={cmd}",
                     devices=memballoon)
    if current_mib:
        xml = xml.replace("</memory>", "</memory>\n  <currentMemory "
                          f"unit='MiB'>{current_mib}</currentMemory>")
    return xml


def memtotals(d, name):
    path = d.log_dir / f"{name}.console.log"
    text = path.read_text(errors="replace") if path.exists() else ""
    return [int(v) for v in re.findall(r"MT=(\d+)\r?\n", text)]


def wait_until(what, check, timeout=BOOT_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def dommemstat(d, name):
    out = virsh(d.uri, "dommemstat", name).stdout
    return {k: int(v) for k, v in (line.split() for line in out.splitlines()
                                   if line.strip())}


def used_memory(d, name):
    out = virsh(d.uri, "dominfo", name).stdout
    return int(re.search(r"^Used memory:\s+(\d+) KiB", out, re.M).group(1))


class BalloonEvents:
    """The actual sizes VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE reported."""

    def __init__(self, lv, c, dom):
        self.seen = []
        self.cond = threading.Condition()
        self.conn = c
        self.id = c.domainEventRegisterAny(
            dom, lv.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, self._cb, None)

    def _cb(self, c, dom, actual, opaque):
        with self.cond:
            self.seen.append((dom.name(), actual))
            self.cond.notify_all()

    def wait(self, name, actual, timeout=BOOT_TIMEOUT):
        with self.cond:
            assert self.cond.wait_for(lambda: (name, actual) in self.seen,
                                      timeout=timeout), self.seen
        return self.seen

    def close(self):
        self.conn.domainEventDeregisterAny(self.id)


def test_setmem_live_dommemstat_dominfo(daemon, conn, libvirt):
    lv = libvirt
    dom = conn.defineXML(balloon_domain("bal-live"))
    events = BalloonEvents(lv, conn, dom)
    try:
        dom.create()
        # libvirt's default: a virtio balloon, with its alias when live.
        live = ET.fromstring(dom.XMLDesc(0))
        balloon = live.find("devices/memballoon")
        assert balloon.get("model") == "virtio"
        assert balloon.find("alias").get("name") == "balloon0"
        assert vmm_status(daemon, dom)["balloon"] == "on"
        total = wait_until("MemTotal", lambda: memtotals(daemon, "bal-live"))[-1]
        assert used_memory(daemon, "bal-live") == 256 * MIB_KIB
        # The guest's own figures arrived when its driver started.
        stats = wait_until("guest statistics", lambda: (
            s if "available" in (s := dommemstat(daemon, "bal-live")) else None))
        assert stats["actual"] == 256 * MIB_KIB
        assert stats["available"] == total
        assert 0 < stats["unused"] < total and 0 < stats["usable"] <= total
        assert stats["swap_in"] == stats["swap_out"] == 0
        assert stats["minor_fault"] > 0 and stats["rss"] > 0
        for tag in ("major_fault", "last_update", "disk_caches",
                    "hugetlb_pgalloc", "hugetlb_pgfail"):
            assert tag in stats, stats

        virsh(daemon.uri, "setmem", "bal-live", "192M", "--live")
        events.wait("bal-live", 192 * MIB_KIB)
        wait_until("dominfo's used memory", lambda: used_memory(
            daemon, "bal-live") == 192 * MIB_KIB)
        wait_until("a smaller MemTotal", lambda: memtotals(
            daemon, "bal-live")[-1] == total - 64 * MIB_KIB)
        live = ET.fromstring(dom.XMLDesc(0))
        assert live.findtext("currentMemory") == str(192 * MIB_KIB)
        assert dom.info()[1:3] == [256 * MIB_KIB, 192 * MIB_KIB]
        assert dommemstat(daemon, "bal-live")["actual"] == 192 * MIB_KIB

        # Fresh statistics every second from now on.
        before = dommemstat(daemon, "bal-live")["last_update"]
        virsh(daemon.uri, "dommemstat", "bal-live", "--period", "1", "--live")
        after = wait_until("fresh statistics", lambda: (
            s if (s := dommemstat(daemon, "bal-live"))["last_update"] >
            before else None))
        assert after["available"] == total - 64 * MIB_KIB
        live = ET.fromstring(dom.XMLDesc(0))
        assert live.find("devices/memballoon/stats").get("period") == "1"

        # libvirt's refusals.
        r = virsh(daemon.uri, "setmem", "bal-live", "300M", "--live",
                  check=False)
        assert r.returncode != 0
        assert "cannot set memory higher than max memory" in r.stderr
        r = virsh(daemon.uri, "setmaxmem", "bal-live", "512M", "--live",
                  check=False)
        assert r.returncode != 0 and "active domain" in r.stderr

        # The configuration is apart from what the guest has now.
        virsh(daemon.uri, "setmem", "bal-live", "200M", "--config")
        inactive = ET.fromstring(dom.XMLDesc(lv.VIR_DOMAIN_XML_INACTIVE))
        assert inactive.findtext("currentMemory") == str(200 * MIB_KIB)
        assert inactive.find("devices/memballoon/stats") is None

        # And back up.
        dom.setMemoryFlags(256 * MIB_KIB, lv.VIR_DOMAIN_AFFECT_LIVE)
        events.wait("bal-live", 256 * MIB_KIB)
        wait_until("the whole MemTotal", lambda: memtotals(
            daemon, "bal-live")[-1] == total)
        assert used_memory(daemon, "bal-live") == 256 * MIB_KIB
        dom.destroy()
        inactive = ET.fromstring(dom.XMLDesc(0))
        assert inactive.findtext("currentMemory") == str(200 * MIB_KIB)
        assert used_memory(daemon, "bal-live") == 200 * MIB_KIB
    finally:
        events.close()


def test_current_memory_below_memory_at_boot(daemon, conn, libvirt):
    xml = balloon_domain("bal-boot", current_mib=192, memballoon=(
        "<memballoon model='virtio'><stats period='2'/></memballoon>"))
    dom = conn.defineXML(xml)
    events = BalloonEvents(libvirt, conn, dom)
    try:
        dom.create()
        log = (daemon.log_dir / "bal-boot.log").read_text()
        assert "--balloon=stats-period=2,free-page-reporting=on,target=196608K" in log, log
        events.wait("bal-boot", 192 * MIB_KIB)
        wait_until("dominfo's used memory", lambda: used_memory(
            daemon, "bal-boot") == 192 * MIB_KIB)
        # The guest's MemTotal, as it says on its console and in its
        # statistics, is 64 MiB short of what the same guest has with no
        # balloon inflated (test_setmem_live_dommemstat_dominfo).
        stats = wait_until("statistics of the inflated guest", lambda: (
            s if (s := dommemstat(daemon, "bal-boot")).get("available")
            == (memtotals(daemon, "bal-boot") or [0])[-1] else None))
        assert stats["actual"] == 192 * MIB_KIB
        assert stats["available"] < 192 * MIB_KIB
    finally:
        events.close()
        dom.destroy()


def test_setmem_live_needs_a_balloon(daemon, conn, libvirt):
    dom = conn.defineXML(balloon_domain(
        "bal-none", memballoon="<memballoon model='none'/>"))
    dom.create()
    try:
        assert "--balloon" not in (daemon.log_dir / "bal-none.log").read_text()
        assert vmm_status(daemon, dom)["balloon"] == "none"
        r = virsh(daemon.uri, "setmem", "bal-none", "128M", "--live",
                  check=False)
        assert r.returncode != 0
        assert "without the balloon device" in r.stderr, r.stderr
        r = virsh(daemon.uri, "dommemstat", "bal-none", "--period", "2",
                  check=False)
        assert r.returncode != 0
        assert "No memory balloon device configured" in r.stderr, r.stderr
        stats = dommemstat(daemon, "bal-none")
        assert set(stats) == {"actual", "rss"}
        assert stats["actual"] == 256 * MIB_KIB
    finally:
        dom.destroy()
