# SPDX-License-Identifier: GPL-2.0-or-later
"""Domain definitions through virtduvisord with the real clients: define,
undefine, lists, lookups, XML, autostart, persistence across daemon
restarts, events, errors.  No domain is started here: running domains
are real guests on the real VMM, in tests/system (KVM test host)."""
import os
import signal
import threading
import uuid as uuidlib
import xml.etree.ElementTree as ET

import pytest

from conftest import virsh
from dvhelpers import error_code as code_of

KERNEL = "/boot/does-not-need-to-exist/vmlinuz"


def domain_xml(name, uuid=None, memory_mib=256, vcpus=1, extra=""):
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    return f"""<domain type='kvm'>
  <name>{name}</name>{uuid_el}
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>{vcpus}</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>{KERNEL}</kernel>
      <cmdline>console=ttyS0</cmdline></os>
  <devices><serial type='pty'/><console type='pty'/></devices>{extra}
</domain>
"""



def test_define_list_dominfo_dumpxml(daemon, conn, tmp_path):
    path = tmp_path / "d.xml"
    path.write_text(domain_xml("vm-a", memory_mib=300, vcpus=2))
    out = virsh(daemon.uri, "define", str(path)).stdout
    assert "Domain 'vm-a' defined" in out
    out = virsh(daemon.uri, "list", "--all").stdout
    assert any(line.split()[:3] == ["-", "vm-a", "shut"]
               for line in out.splitlines()), out
    assert "vm-a" not in virsh(daemon.uri, "list").stdout
    info = dict(line.split(":", 1) for line in
                virsh(daemon.uri, "dominfo", "vm-a").stdout.splitlines()
                if ":" in line)
    info = {k.strip(): v.strip() for k, v in info.items()}
    assert info["Id"] == "-"
    assert info["Name"] == "vm-a"
    assert info["OS Type"] == "hvm"
    assert info["State"] == "shut off"
    assert info["CPU(s)"] == "2"
    assert info["Max memory"] == "307200 KiB"
    assert info["Persistent"] == "yes"
    assert info["Autostart"] == "disable"
    assert info["Managed save"] == "no"
    uuidlib.UUID(info["UUID"])
    assert virsh(daemon.uri, "domstate", "--reason",
                 "vm-a").stdout.strip() == "shut off (unknown)"
    xml = virsh(daemon.uri, "dumpxml", "vm-a").stdout
    root = ET.fromstring(xml)
    assert root.get("type") == "kvm" and root.get("id") is None
    assert root.findtext("name") == "vm-a"
    assert root.findtext("uuid") == info["UUID"]
    assert root.findtext("os/kernel") == KERNEL
    assert virsh(daemon.uri, "dumpxml", "--inactive", "vm-a").stdout == xml
    vc = virsh(daemon.uri, "vcpucount", "vm-a").stdout
    assert "maximum      config         2" in vc
    # The definition is on disk, private, and alone (no temporary files).
    cfg = daemon.config_dir / "vm-a.xml"
    assert cfg.stat().st_mode & 0o777 == 0o600
    assert ET.fromstring(cfg.read_text()).findtext("uuid") == info["UUID"]
    assert set(os.listdir(daemon.config_dir)) - {"autostart"} == {"vm-a.xml"}
    virsh(daemon.uri, "undefine", "vm-a")
    assert not cfg.exists()
    r = virsh(daemon.uri, "domstate", "vm-a", check=False)
    assert r.returncode != 0 and "failed to get domain" in r.stderr


def test_lookups(daemon, conn, libvirt_mod):
    libvirt = libvirt_mod
    u = str(uuidlib.uuid4())
    dom = conn.defineXML(domain_xml("vm-look", uuid=u))
    assert dom.name() == "vm-look" and dom.UUIDString() == u
    assert dom.ID() == -1
    assert conn.lookupByName("vm-look").UUIDString() == u
    assert conn.lookupByUUIDString(u).name() == "vm-look"
    assert virsh(daemon.uri, "domname", u).stdout.strip() == "vm-look"
    assert virsh(daemon.uri, "domuuid", "vm-look").stdout.strip() == u
    assert code_of(libvirt, conn.lookupByName, "nope") == libvirt.VIR_ERR_NO_DOMAIN
    assert code_of(libvirt, conn.lookupByUUIDString,
                   str(uuidlib.uuid4())) == libvirt.VIR_ERR_NO_DOMAIN
    assert code_of(libvirt, conn.lookupByID, 1) == libvirt.VIR_ERR_NO_DOMAIN
    assert dom.isActive() == 0 and dom.isPersistent() == 1
    assert dom.isUpdated() == 0
    assert dom.hasManagedSaveImage() == 0
    assert dom.OSType() == "hvm"
    assert dom.maxMemory() == 256 * 1024
    assert dom.maxVcpus() == 1 or True   # inactive: libvirt may refuse
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_UNKNOWN]
    info = dom.info()
    assert info[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert info[1] == info[2] == 256 * 1024 and info[3] == 1 and info[4] == 0
    assert dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG |
                          libvirt.VIR_DOMAIN_VCPU_MAXIMUM) == 1
    assert code_of(libvirt, dom.vcpusFlags,
                   libvirt.VIR_DOMAIN_AFFECT_LIVE) == libvirt.VIR_ERR_OPERATION_INVALID


def test_list_filters_and_legacy_lists(daemon, conn, libvirt_mod):
    libvirt = libvirt_mod
    for n in ("vm-l1", "vm-l2", "vm-l3"):
        conn.defineXML(domain_xml(n))
    conn.lookupByName("vm-l2").setAutostart(1)
    names = lambda flags=0: sorted(d.name() for d in conn.listAllDomains(flags))
    assert names() == ["vm-l1", "vm-l2", "vm-l3"]
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE) == names()
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE) == []
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT) == names()
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT) == []
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART) == ["vm-l2"]
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART) == ["vm-l1", "vm-l3"]
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_SHUTOFF) == names()
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING |
                 libvirt.VIR_CONNECT_LIST_DOMAINS_PAUSED) == []
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT) == names()
    assert names(libvirt.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT) == []
    assert code_of(libvirt, conn.listAllDomains, 1 << 30) == libvirt.VIR_ERR_INVALID_ARG
    # The legacy APIs (libvirt-tck, old tools).
    assert conn.numOfDomains() == 0 and conn.listDomainsID() == []
    assert conn.numOfDefinedDomains() == 3
    assert sorted(conn.listDefinedDomains()) == ["vm-l1", "vm-l2", "vm-l3"]
    out = virsh(daemon.uri, "list", "--all", "--autostart", "--name").stdout
    assert out.split() == ["vm-l2"]


def test_autostart_marker(daemon, conn):
    conn.defineXML(domain_xml("vm-auto"))
    link = daemon.config_dir / "autostart" / "vm-auto.xml"
    assert "marked as autostarted" in virsh(daemon.uri, "autostart",
                                            "vm-auto").stdout
    assert link.is_symlink() and link.resolve() == daemon.config_dir / "vm-auto.xml"
    assert conn.lookupByName("vm-auto").autostart() == 1
    assert "Autostart:      enable" in virsh(daemon.uri, "dominfo",
                                             "vm-auto").stdout
    virsh(daemon.uri, "autostart", "--disable", "vm-auto")
    assert not link.exists() and not link.is_symlink()
    assert conn.lookupByName("vm-auto").autostart() == 0
    virsh(daemon.uri, "autostart", "vm-auto")
    virsh(daemon.uri, "undefine", "vm-auto")
    assert not link.is_symlink()


def test_redefine_and_identity_clashes(daemon, conn, libvirt_mod):
    libvirt = libvirt_mod
    u = str(uuidlib.uuid4())
    conn.defineXML(domain_xml("vm-r", uuid=u, memory_mib=128))
    dom = conn.defineXML(domain_xml("vm-r", uuid=u, memory_mib=512))
    assert dom.UUIDString() == u and dom.maxMemory() == 512 * 1024
    # Without a UUID: libvirt generates one, which clashes with vm-r's.
    with pytest.raises(libvirt.libvirtError) as e:
        conn.defineXML(domain_xml("vm-r"))
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    assert f"domain 'vm-r' already exists with uuid {u}" in str(e.value)
    with pytest.raises(libvirt.libvirtError) as e:
        conn.defineXML(domain_xml("vm-other", uuid=u))
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    assert "vm-r" in str(e.value) and u in str(e.value)
    assert [d.name() for d in conn.listAllDomains()] == ["vm-r"]


def test_error_codes(daemon, conn, libvirt_mod):
    libvirt = libvirt_mod
    dom = conn.defineXML(domain_xml("vm-err"))
    assert code_of(libvirt, dom.destroy) == libvirt.VIR_ERR_OPERATION_INVALID
    assert code_of(libvirt, dom.suspend) == libvirt.VIR_ERR_OPERATION_INVALID
    assert code_of(libvirt, dom.resume) == libvirt.VIR_ERR_OPERATION_INVALID
    assert code_of(libvirt, dom.shutdown) == libvirt.VIR_ERR_OPERATION_INVALID
    assert code_of(libvirt, dom.reset, 0) == libvirt.VIR_ERR_OPERATION_INVALID
    assert code_of(libvirt, dom.reboot, 0) == libvirt.VIR_ERR_OPERATION_INVALID
    assert code_of(libvirt, dom.XMLDesc, 1 << 10) == libvirt.VIR_ERR_INVALID_ARG
    assert code_of(libvirt, dom.undefineFlags, 1 << 12) == libvirt.VIR_ERR_INVALID_ARG
    assert code_of(libvirt, dom.createWithFlags, 1 << 12) == libvirt.VIR_ERR_INVALID_ARG
    assert code_of(libvirt, dom.destroyFlags, 1 << 12) == libvirt.VIR_ERR_INVALID_ARG
    assert code_of(libvirt, dom.shutdownFlags,
                   libvirt.VIR_DOMAIN_SHUTDOWN_GUEST_AGENT) == libvirt.VIR_ERR_NO_SUPPORT
    assert code_of(libvirt, conn.defineXMLFlags, domain_xml("vm-x"),
                   2) == libvirt.VIR_ERR_INVALID_ARG
    assert code_of(libvirt, dom.state, 1) == libvirt.VIR_ERR_INVALID_ARG
    # virsh undefine --nvram / --managed-save are accepted (nothing to do).
    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM |
                      libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    assert code_of(libvirt, dom.undefine) == libvirt.VIR_ERR_NO_DOMAIN
    assert code_of(libvirt, dom.create) == libvirt.VIR_ERR_NO_DOMAIN
    assert code_of(libvirt, dom.XMLDesc, 0) == libvirt.VIR_ERR_NO_DOMAIN


def test_define_validate_and_bad_xml(daemon, conn, libvirt_mod, tmp_path):
    libvirt = libvirt_mod
    path = tmp_path / "v.xml"
    path.write_text(domain_xml("vm-valid"))
    assert "defined" in virsh(daemon.uri, "define", "--validate",
                              str(path)).stdout
    conn.lookupByName("vm-valid")
    assert code_of(libvirt, conn.defineXML, "<domain") == libvirt.VIR_ERR_XML_ERROR
    assert code_of(libvirt, conn.defineXML,
                   domain_xml("vm-bad", extra="<sound model='ich9'/>")
                   .replace("</devices><sound model='ich9'/>",
                            "<sound model='ich9'/></devices>")) \
        == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
    assert code_of(libvirt, conn.defineXML,
                   domain_xml("vm-bad").replace("<vcpu>1</vcpu>",
                                                "<vcpu>zero</vcpu>")) \
        == libvirt.VIR_ERR_XML_ERROR
    assert code_of(libvirt, conn.defineXML,
                   domain_xml("a/b")) == libvirt.VIR_ERR_XML_ERROR
    r = virsh(daemon.uri, "define", "/dev/null", check=False)
    assert r.returncode != 0
    assert [d.name() for d in conn.listAllDomains()] == ["vm-valid"]


def test_hostile_xml(daemon, conn, libvirt_mod):
    libvirt = libvirt_mod
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{"&lol{};".format(i - 1 if i > 1 else "") * 10}">'
                        for i in range(1, 10))
              + ']><domain type="kvm"><name>&lol9;</name></domain>')
    external = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM '
                '"file:///etc/passwd">]><domain type="kvm"><name>&x;</name>'
                '</domain>')
    deep = "<domain type='kvm'>" + "<a>" * 100000 + "</a>" * 100000 + "</domain>"
    hostile = [laughs, external, deep, "", "<domain>\xff</domain>",
               "<domain type='kvm'><name>x</name>" + "<x/>" * 200000 + "</domain>",
               domain_xml("vm\nh")]
    for text in hostile:
        code = code_of(libvirt, conn.defineXML, text)
        assert code in (libvirt.VIR_ERR_XML_ERROR,
                        libvirt.VIR_ERR_CONFIG_UNSUPPORTED), (code, text[:80])
    # Over the RPC string limit: the client or the daemon refuses it.
    with pytest.raises(libvirt.libvirtError):
        conn.defineXML(domain_xml("vm-huge", extra="<!--" + "x" * (5 << 20) + "-->"))
    assert daemon.alive()
    assert conn.listAllDomains() == []
    assert conn.getHostname()


def test_read_only_connection(daemon, conn, libvirt_mod, tmp_path):
    libvirt = libvirt_mod
    conn.defineXML(domain_xml("vm-ro"))
    ro = libvirt.openReadOnly(daemon.ro_uri)
    try:
        assert code_of(libvirt, ro.defineXML,
                       domain_xml("vm-ro2")) == libvirt.VIR_ERR_OPERATION_DENIED
        dom = ro.lookupByName("vm-ro")
        assert dom.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        assert "<name>vm-ro</name>" in dom.XMLDesc(0)
        for fn, args in ((dom.undefine, ()), (dom.create, ()),
                         (dom.setAutostart, (1,)), (dom.destroy, ()),
                         (dom.XMLDesc, (libvirt.VIR_DOMAIN_XML_SECURE,))):
            assert code_of(libvirt, fn, *args) == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        ro.close()
    path = tmp_path / "ro.xml"
    path.write_text(domain_xml("vm-ro3"))
    r = virsh(daemon.ro_uri, "define", str(path), readonly=True, check=False)
    assert r.returncode != 0 and "read only" in r.stderr.lower() or \
        "read-only" in r.stderr.lower(), r.stderr
    assert [d.name() for d in conn.listAllDomains()] == ["vm-ro"]


def test_define_undefine_events(daemon, conn, event_loop):
    libvirt = event_loop
    econn = libvirt.open(daemon.uri)
    seen = []
    cond = threading.Condition()

    def cb(c, dom, event, detail, opaque):
        with cond:
            seen.append((dom.name(), event, detail))
            cond.notify_all()

    cid = econn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                       cb, None)
    try:
        u = str(uuidlib.uuid4())
        conn.defineXML(domain_xml("vm-ev", uuid=u))
        conn.defineXML(domain_xml("vm-ev", uuid=u, memory_mib=512))
        conn.lookupByName("vm-ev").undefine()
        want = [("vm-ev", libvirt.VIR_DOMAIN_EVENT_DEFINED,
                 libvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED),
                ("vm-ev", libvirt.VIR_DOMAIN_EVENT_DEFINED,
                 libvirt.VIR_DOMAIN_EVENT_DEFINED_UPDATED),
                ("vm-ev", libvirt.VIR_DOMAIN_EVENT_UNDEFINED,
                 libvirt.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)]
        with cond:
            cond.wait_for(lambda: len(seen) >= 3, timeout=20)
        assert seen == want
    finally:
        econn.domainEventDeregisterAny(cid)
        econn.close()


def test_persistence_across_restart(fresh_daemon, libvirt_mod):
    libvirt = libvirt_mod
    d = fresh_daemon()
    conn = libvirt.open(d.uri)
    uuids = {}
    for n in ("p1", "p2", "p 3 with spaces"):
        uuids[n] = conn.defineXML(domain_xml(n)).UUIDString()
    conn.lookupByName("p2").setAutostart(1)   # its start fails: no VMM
    xml_before = conn.lookupByName("p1").XMLDesc(0)
    conn.close()
    # A crash: no chance to write anything more.
    d.stop(signal.SIGKILL)
    # Leftovers of an interrupted write, a broken file, a misnamed one.
    (d.config_dir / "p1.xml.tmp-AbC123").write_text("<domain")
    (d.config_dir / "broken.xml").write_text("<domain type='kvm'><name>")
    (d.config_dir / "misnamed.xml").write_text(domain_xml("othername"))
    d.start()
    conn = libvirt.open(d.uri)
    try:
        got = {dom.name(): dom.UUIDString() for dom in conn.listAllDomains()}
        assert got == uuids
        assert conn.lookupByName("p1").XMLDesc(0) == xml_before
        assert conn.lookupByName("p2").autostart() == 1
        assert conn.lookupByName("p1").autostart() == 0
        # The autostart attempt failed (no duvisor-vmm there): shut off.
        assert conn.lookupByName("p2").isActive() == 0
    finally:
        conn.close()
    assert not (d.config_dir / "p1.xml.tmp-AbC123").exists()
    assert (d.config_dir / "broken.xml").exists()      # left for the admin
    log = d.log()
    assert "broken.xml" in log and "misnamed.xml" in log
    d.check_clean_exit()


def test_many_redefinitions_leave_no_temp_files(daemon, conn):
    u = str(uuidlib.uuid4())
    for i in range(30):
        conn.defineXML(domain_xml("vm-atomic", uuid=u, memory_mib=64 + i))
    files = set(os.listdir(daemon.config_dir)) - {"autostart"}
    assert files == {"vm-atomic.xml"}
    assert "<memory unit='KiB'>95232</memory>" in \
        (daemon.config_dir / "vm-atomic.xml").read_text()


def test_interface_addresses_refusals(daemon, conn, libvirt_mod):
    """domifaddr: no guest agent to ask, and only of a running domain."""
    lv = libvirt_mod
    dom = conn.defineXML(domain_xml("ifaddr"))
    assert code_of(lv, dom.interfaceAddresses,
                   lv.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT) == \
        lv.VIR_ERR_ARGUMENT_UNSUPPORTED
    for source in (lv.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
                   lv.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP):
        assert code_of(lv, dom.interfaceAddresses, source) == \
            lv.VIR_ERR_OPERATION_INVALID
    r = virsh(daemon.uri, "domifaddr", "ifaddr", check=False)
    assert r.returncode != 0 and "is not running" in r.stderr, r
    dom.undefine()
