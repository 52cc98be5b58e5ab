# SPDX-License-Identifier: GPL-2.0-or-later
"""Domain memory through virtduvisord with the real clients, on defined
domains: the default <memballoon>, setmem/setmaxmem --config, dommemstat
--period --config, and libvirt's errors for what cannot be done.  The live
side (a real balloon in a real guest) is tests/system/test_balloon.py."""
import xml.etree.ElementTree as ET


from conftest import virsh
from dvhelpers import error_code as code_of

KERNEL = "/boot/does-not-need-to-exist/vmlinuz"


def domain_xml(name, memballoon="", current_mib=None):
    current = (f"<currentMemory unit='MiB'>{current_mib}</currentMemory>"
               if current_mib else "")
    return f"""<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>{current}
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>{KERNEL}</kernel></os>
  <devices>{memballoon}</devices>
</domain>
"""



def inactive(dom, libvirt):
    return ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))


def dominfo(uri, name):
    return dict(line.split(":", 1) for line in
                virsh(uri, "dominfo", name).stdout.splitlines() if ":" in line)


def test_memballoon_by_default(daemon, conn, libvirt_mod):
    dom = conn.defineXML(domain_xml("mem-default"))
    balloons = inactive(dom, libvirt_mod).findall("devices/memballoon")
    assert [b.attrib for b in balloons] == [{"model": "virtio"}]
    assert list(balloons[0]) == []
    none = conn.defineXML(domain_xml("mem-none", "<memballoon model='none'/>"))
    balloons = inactive(none, libvirt_mod).findall("devices/memballoon")
    assert [b.attrib for b in balloons] == [{"model": "none"}]
    # Saved as formatted: the next daemon reads the same.
    saved = (daemon.config_dir / "mem-default.xml").read_text()
    assert "<memballoon model='virtio'/>" in saved


def test_setmem_config(daemon, conn, libvirt_mod):
    lv = libvirt_mod
    dom = conn.defineXML(domain_xml("mem-set"))
    virsh(daemon.uri, "setmem", "mem-set", "131072", "--config")
    info = dominfo(daemon.uri, "mem-set")
    assert info["Max memory"].strip() == "262144 KiB"
    assert info["Used memory"].strip() == "131072 KiB"
    root = inactive(dom, lv)
    assert root.findtext("currentMemory") == "131072"
    assert root.findtext("memory") == "262144"
    assert "<currentMemory unit='KiB'>131072</currentMemory>" in \
        (daemon.config_dir / "mem-set.xml").read_text()
    # AFFECT_CURRENT on an inactive domain is its configuration.
    dom.setMemoryFlags(196608, lv.VIR_DOMAIN_AFFECT_CURRENT)
    assert dom.info()[2] == 196608

    # Above <memory>: libvirt's error, and nothing changes.
    r = virsh(daemon.uri, "setmem", "mem-set", "300M", "--config",
              check=False)
    assert r.returncode != 0
    assert "cannot set memory higher than max memory" in r.stderr, r.stderr
    assert code_of(lv, dom.setMemoryFlags, 262145,
                   lv.VIR_DOMAIN_AFFECT_CONFIG) == lv.VIR_ERR_INVALID_ARG
    assert dom.info()[2] == 196608
    # Live needs a running domain.
    r = virsh(daemon.uri, "setmem", "mem-set", "131072", "--live",
              check=False)
    assert r.returncode != 0 and "domain is not running" in r.stderr
    assert code_of(lv, dom.setMemory, 131072) == lv.VIR_ERR_OPERATION_INVALID
    assert code_of(lv, dom.setMemoryFlags, 131072, 1 << 7) == \
        lv.VIR_ERR_INVALID_ARG


def test_setmaxmem_config(daemon, conn, libvirt_mod):
    lv = libvirt_mod
    dom = conn.defineXML(domain_xml("mem-max", current_mib=200))
    # Lowering <memory> below <currentMemory> takes it along.
    virsh(daemon.uri, "setmaxmem", "mem-max", "160M", "--config")
    root = inactive(dom, lv)
    assert root.findtext("memory") == str(160 * 1024)
    assert root.findtext("currentMemory") == str(160 * 1024)
    dom.setMemoryFlags(512 * 1024, lv.VIR_DOMAIN_MEM_MAXIMUM |
                       lv.VIR_DOMAIN_AFFECT_CONFIG)
    assert dom.maxMemory() == 512 * 1024
    assert dom.info()[2] == 160 * 1024
    virsh(daemon.uri, "setmem", "mem-max", "400M", "--config")
    assert dom.info()[2] == 400 * 1024


def test_dommemstat_period_config(daemon, conn, libvirt_mod):
    lv = libvirt_mod
    dom = conn.defineXML(domain_xml("mem-period"))
    virsh(daemon.uri, "dommemstat", "mem-period", "--period", "7", "--config")
    stats = inactive(dom, lv).find("devices/memballoon/stats")
    assert stats is not None and stats.get("period") == "7"
    dom.setMemoryStatsPeriod(0, lv.VIR_DOMAIN_AFFECT_CONFIG)
    assert inactive(dom, lv).find("devices/memballoon/stats") is None
    assert code_of(lv, dom.setMemoryStatsPeriod, -1,
                   lv.VIR_DOMAIN_AFFECT_CONFIG) == lv.VIR_ERR_INVALID_ARG
    r = virsh(daemon.uri, "dommemstat", "mem-period", "--period", "3",
              "--live", check=False)
    assert r.returncode != 0 and "domain is not running" in r.stderr
    # Without a balloon there is no period to set.
    conn.defineXML(domain_xml("mem-noballoon", "<memballoon model='none'/>"))
    r = virsh(daemon.uri, "dommemstat", "mem-noballoon", "--period", "3",
              "--config", check=False)
    assert r.returncode != 0
    assert "No memory balloon device configured" in r.stderr, r.stderr


def test_memory_changes_need_write_access(daemon, conn, libvirt_mod):
    conn.defineXML(domain_xml("mem-ro"))
    ro = libvirt_mod.openReadOnly(daemon.ro_uri)
    try:
        dom = ro.lookupByName("mem-ro")
        assert code_of(libvirt_mod, dom.setMemoryFlags, 131072,
                       libvirt_mod.VIR_DOMAIN_AFFECT_CONFIG) == \
            libvirt_mod.VIR_ERR_OPERATION_DENIED
        assert code_of(libvirt_mod, dom.setMemoryStatsPeriod, 5,
                       libvirt_mod.VIR_DOMAIN_AFFECT_CONFIG) == \
            libvirt_mod.VIR_ERR_OPERATION_DENIED
    finally:
        ro.close()


def test_balloon_change_callbacks_register(daemon, conn, libvirt_mod,
                                           event_loop):
    """python-libvirt registers for the event through procedure 316; the
    events themselves come from running guests (tests/system)."""
    lv = libvirt_mod
    dom = conn.defineXML(domain_xml("mem-events"))
    cb = conn.domainEventRegisterAny(
        dom, lv.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
        lambda *args: None, None)
    assert cb >= 0
    conn.domainEventDeregisterAny(cb)
