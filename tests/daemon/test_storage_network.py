# SPDX-License-Identifier: GPL-2.0-or-later
"""Storage pools, volumes and networks through virtduvisord, which hands
them to libvirt's own drivers (src/driver-duvisor/delegate.h): here a
private libvirtd (privlibvirtd.py) that the tests start themselves, driven
by virsh and python3-libvirt through duvisor:///system?socket=...

Skipped when the host cannot run a privileged libvirtd (not root, or
libvirt-daemon not installed: tools/install-deps installs it).
"""
import os
import pathlib
import subprocess
import time

import pytest

import privlibvirtd
import rawrpc as rpc
from conftest import Daemon, virsh
from dvhelpers import error_code
from rawrpc import RawClient

SUFFIX = str(os.getpid() % 100000)
POOL = "dvtest-pool-" + SUFFIX
NET = "dvtest-net-" + SUFFIX
BRIDGE = "dvtbr" + SUFFIX          # at most 15 characters
VIR_ERR_NO_SUPPORT = 3
VIR_ERR_OPERATION_DENIED = 29
VIR_ERR_NO_NETWORK = 43
VIR_ERR_NO_STORAGE_POOL = 49
VIR_ERR_NO_STORAGE_VOL = 50


@pytest.fixture(scope="module")
def libvirtd(tmp_path_factory):
    why = privlibvirtd.unavailable()
    if why:
        pytest.skip(why)
    d = privlibvirtd.PrivateLibvirtd(tmp_path_factory.mktemp("libvirtd"))
    d.start()
    yield d
    d.stop()


def delegate_config(libvirtd):
    return (f'storage_uri = "{libvirtd.uri("storage")}"\n'
            f'network_uri = "{libvirtd.uri("network")}"\n')


@pytest.fixture(scope="module")
def dvd(tmp_path_factory, libvirtd):
    """Our daemon, delegating to the private libvirtd."""
    d = Daemon(tmp_path_factory.mktemp("dv"),
               config_text=delegate_config(libvirtd))
    yield d
    assert d.alive(), "virtduvisord died:\n" + d.log()
    d.check_clean_exit()


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("pool")


@pytest.fixture(scope="module")
def pool(dvd, pool_dir):
    """A running directory pool, defined through our daemon."""
    virsh(dvd.uri, "pool-define-as", POOL, "dir", "--target", str(pool_dir))
    virsh(dvd.uri, "pool-build", POOL)
    virsh(dvd.uri, "pool-start", POOL)
    yield POOL
    virsh(dvd.uri, "pool-destroy", POOL, check=False)
    virsh(dvd.uri, "pool-undefine", POOL, check=False)


def free_subnet():
    """A 10.213.N.0/24 that no interface or route of the host uses."""
    used = subprocess.run(["ip", "-4", "addr"], capture_output=True,
                          text=True).stdout
    used += subprocess.run(["ip", "-4", "route"], capture_output=True,
                           text=True).stdout
    for n in [int(SUFFIX) % 200 + 20] + list(range(20, 250)):
        if f"10.213.{n}." not in used:
            return f"10.213.{n}"
    pytest.skip("no free 10.213.N.0/24 subnet")


def network_xml(net=None, name=NET, bridge=BRIDGE):
    net = net or free_subnet()
    return (f"<network><name>{name}</name>"
            f"<bridge name='{bridge}' stp='on' delay='0'/>"
            f"<ip address='{net}.1' netmask='255.255.255.0'>"
            f"<dhcp><range start='{net}.10' end='{net}.50'/></dhcp>"
            f"</ip></network>")


# ---- storage pools and volumes --------------------------------------------

def test_pool_lifecycle_virsh(dvd, libvirtd, pool_dir):
    name = POOL + "-b"
    target = pool_dir / "b"
    virsh(dvd.uri, "pool-define-as", name, "dir", "--target", str(target))
    listed = virsh(dvd.uri, "pool-list", "--all").stdout
    assert name in listed and "inactive" in listed
    virsh(dvd.uri, "pool-build", name)
    assert target.is_dir()
    virsh(dvd.uri, "pool-start", name)
    info = virsh(dvd.uri, "pool-info", name).stdout
    assert "running" in info and "Persistent:     yes" in info
    virsh(dvd.uri, "pool-autostart", name)
    assert "Autostart:      yes" in virsh(dvd.uri, "pool-info", name).stdout
    virsh(dvd.uri, "pool-refresh", name)
    xml = virsh(dvd.uri, "pool-dumpxml", name).stdout
    assert f"<path>{target}</path>" in xml
    # What the real libvirtd says, through us and directly, is the same
    # (not --details: the file system's free space may change meanwhile).
    assert (virsh(dvd.uri, "pool-list", "--all").stdout ==
            virsh(libvirtd.uri("storage"), "pool-list", "--all").stdout)
    virsh(dvd.uri, "pool-destroy", name)
    virsh(dvd.uri, "pool-delete", name)
    assert not target.exists()
    virsh(dvd.uri, "pool-undefine", name)
    assert name not in virsh(dvd.uri, "pool-list", "--all").stdout


def test_pool_transient_create(dvd, pool_dir):
    target = pool_dir / "t"
    target.mkdir()
    virsh(dvd.uri, "pool-create-as", POOL + "-t", "dir", "--target",
          str(target))
    info = virsh(dvd.uri, "pool-info", POOL + "-t").stdout
    assert "Persistent:     no" in info
    virsh(dvd.uri, "pool-destroy", POOL + "-t")


def test_volumes_virsh(dvd, libvirtd, pool, pool_dir):
    virsh(dvd.uri, "vol-create-as", pool, "a.img", "4M")
    path = pool_dir / "a.img"
    assert path.stat().st_size == 4 << 20
    assert virsh(dvd.uri, "vol-path", "a.img", "--pool",
                 pool).stdout.strip() == str(path)
    info = virsh(dvd.uri, "vol-info", str(path)).stdout
    assert "Capacity:       4.00 MiB" in info
    assert "<name>a.img</name>" in virsh(dvd.uri, "vol-dumpxml", "a.img",
                                         "--pool", pool).stdout
    virsh(dvd.uri, "vol-clone", "a.img", "b.img", "--pool", pool)
    virsh(dvd.uri, "vol-resize", "b.img", "8M", "--pool", pool)
    assert (pool_dir / "b.img").stat().st_size == 8 << 20
    virsh(dvd.uri, "vol-wipe", "b.img", "--pool", pool)
    assert (virsh(dvd.uri, "vol-list", pool, "--details").stdout ==
            virsh(libvirtd.uri("storage"), "vol-list", pool,
                  "--details").stdout)
    assert virsh(dvd.uri, "vol-pool", str(path)).stdout.strip() == pool
    virsh(dvd.uri, "vol-delete", "b.img", "--pool", pool)
    virsh(dvd.uri, "vol-delete", str(path))
    assert not path.exists()
    assert "a.img" not in virsh(dvd.uri, "vol-list", pool).stdout


def test_storage_python(dvd, pool, pool_dir, libvirt_mod):
    lv = libvirt_mod
    conn = lv.open(dvd.uri)
    try:
        p = conn.storagePoolLookupByName(pool)
        assert conn.storagePoolLookupByUUIDString(p.UUIDString()).name() == pool
        assert pool in conn.listStoragePools()
        assert conn.numOfStoragePools() >= 1
        assert pool not in conn.listDefinedStoragePools()
        assert conn.numOfDefinedStoragePools() >= 0
        active = conn.listAllStoragePools(
            lv.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE)
        assert pool in [x.name() for x in active]
        assert p.isActive() == 1 and p.isPersistent() == 1
        assert p.info()[0] == lv.VIR_STORAGE_POOL_RUNNING
        xml = ("<volume><name>py.img</name>"
               "<capacity unit='bytes'>1048576</capacity></volume>")
        v = p.createXML(xml, 0)
        assert v.name() == "py.img" and v.key() == str(pool_dir / "py.img")
        assert v.info() == [lv.VIR_STORAGE_VOL_FILE, 1 << 20, v.info()[2]]
        assert p.numOfVolumes() == len(p.listVolumes()) >= 1
        assert "py.img" in [x.name() for x in p.listAllVolumes()]
        assert conn.storageVolLookupByKey(v.key()).name() == "py.img"
        assert conn.storageVolLookupByPath(v.path()).name() == "py.img"
        assert v.storagePoolLookupByVolume().name() == pool
        copy = p.createXMLFrom(xml.replace("py.img", "copy.img"), v, 0)
        assert copy.path() == str(pool_dir / "copy.img")
        copy.wipePattern(lv.VIR_STORAGE_VOL_WIPE_ALG_ZERO, 0)
        copy.delete(0)
        # Source discovery: libvirt's answers arrive as they are.
        assert error_code(lv, conn.findStoragePoolSources, "netfs", None,
                          0) == lv.VIR_ERR_INVALID_ARG
        v.delete(0)
    finally:
        conn.close()


# ---- networks ---------------------------------------------------------------

def test_network_virsh(dvd, libvirtd, tmp_path):
    xml = tmp_path / "net.xml"
    subnet = free_subnet()
    xml.write_text(network_xml(subnet))
    virsh(dvd.uri, "net-define", str(xml))
    try:
        assert "inactive" in virsh(dvd.uri, "net-list", "--all").stdout
        virsh(dvd.uri, "net-start", NET)
        assert pathlib.Path(f"/sys/class/net/{BRIDGE}").exists()
        info = virsh(dvd.uri, "net-info", NET).stdout
        assert f"Bridge:         {BRIDGE}" in info
        assert "Active:         yes" in info
        virsh(dvd.uri, "net-autostart", NET)
        virsh(dvd.uri, "net-update", NET, "add-last", "ip-dhcp-host",
              "<host mac='52:54:00:00:00:07' name='g7' ip='%s.7'/>" % subnet,
              "--live", "--config")
        assert "name='g7'" in virsh(dvd.uri, "net-dumpxml", NET,
                                    "--inactive").stdout
        assert (virsh(dvd.uri, "net-list", "--all").stdout ==
                virsh(libvirtd.uri("network"), "net-list", "--all").stdout)
        uuid = virsh(dvd.uri, "net-uuid", NET).stdout.strip()
        assert virsh(dvd.uri, "net-name", uuid).stdout.strip() == NET
        assert f"<name>{NET}</name>" in virsh(dvd.uri, "net-dumpxml",
                                              NET).stdout
        virsh(dvd.uri, "net-destroy", NET)
        assert not pathlib.Path(f"/sys/class/net/{BRIDGE}").exists()
    finally:
        virsh(dvd.uri, "net-destroy", NET, check=False)
        virsh(dvd.uri, "net-undefine", NET)
    assert NET not in virsh(dvd.uri, "net-list", "--all").stdout


def test_network_python_and_leases(dvd, libvirtd, libvirt_mod):
    lv = libvirt_mod
    conn = lv.open(dvd.uri)
    try:
        subnet = free_subnet()
        net = conn.networkCreateXML(network_xml(subnet))      # transient
        try:
            assert net.isActive() == 1 and net.isPersistent() == 0
            assert net.bridgeName() == BRIDGE
            assert net.autostart() == 0
            assert NET in conn.listNetworks()
            assert conn.numOfNetworks() >= 1
            assert NET not in conn.listDefinedNetworks()
            assert conn.numOfDefinedNetworks() >= 0
            assert conn.networkLookupByUUID(net.UUID()).name() == NET
            assert NET in [n.name() for n in conn.listAllNetworks(
                lv.VIR_CONNECT_LIST_NETWORKS_TRANSIENT)]
            assert net.DHCPLeases() == []
            # A lease as dnsmasq's helper records it for libvirt.
            expiry = int(time.time()) + 3600
            status = (libvirtd.dir / "var-lib-libvirt" / "dnsmasq" /
                      f"{BRIDGE}.status")
            status.write_text(
                '[{"ip-address": "%s.23", "mac-address": '
                '"52:54:00:aa:bb:cc", "hostname": "guest1", "client-id": '
                '"01:52:54:00:aa:bb:cc", "expiry-time": %d}]'
                % (subnet, expiry))
            leases = net.DHCPLeases()
            assert len(leases) == 1
            lease = leases[0]
            assert lease["iface"] == BRIDGE
            assert lease["expirytime"] == expiry
            assert lease["mac"] == "52:54:00:aa:bb:cc"
            assert lease["hostname"] == "guest1"
            assert lease["clientid"] == "01:52:54:00:aa:bb:cc"
            assert lease["iaid"] is None
            assert lease["prefix"] == 24
            assert lease["type"] == lv.VIR_IP_ADDR_TYPE_IPV4
            assert net.DHCPLeases("52:54:00:aa:bb:cc") == leases
            assert net.DHCPLeases("52:54:00:00:00:01") == []
            # virsh formats the same as against libvirtd itself.
            assert (virsh(dvd.uri, "net-dhcp-leases", NET).stdout ==
                    virsh(libvirtd.uri("network"), "net-dhcp-leases",
                          NET).stdout)
        finally:
            net.destroy()
        assert NET not in conn.listNetworks()
    finally:
        conn.close()


# ---- errors -----------------------------------------------------------------

def test_error_codes(dvd, pool, libvirt_mod):
    lv = libvirt_mod
    conn = lv.open(dvd.uri)
    try:
        assert error_code(lv, conn.storagePoolLookupByName,
                          "nosuch") == VIR_ERR_NO_STORAGE_POOL
        assert error_code(lv, conn.storagePoolLookupByUUIDString,
                          "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
                          ) == VIR_ERR_NO_STORAGE_POOL
        p = conn.storagePoolLookupByName(pool)
        assert error_code(lv, p.storageVolLookupByName,
                          "nosuch") == VIR_ERR_NO_STORAGE_VOL
        assert error_code(lv, conn.storageVolLookupByPath,
                          "/nonexistent/x.img") == VIR_ERR_NO_STORAGE_VOL
        assert error_code(lv, conn.storageVolLookupByKey,
                          "/nonexistent/x.img") == VIR_ERR_NO_STORAGE_VOL
        assert error_code(lv, conn.networkLookupByName,
                          "nosuch") == VIR_ERR_NO_NETWORK
        # libvirt's own messages and codes arrive as they are.
        assert error_code(lv, conn.networkDefineXML,
                          "<network>") == lv.VIR_ERR_XML_DETAIL
        assert error_code(lv, p.create, 0) == lv.VIR_ERR_OPERATION_INVALID
    finally:
        conn.close()
    r = virsh(dvd.uri, "pool-info", "nosuch", check=False)
    assert r.returncode == 1
    assert "no storage pool with matching name 'nosuch'" in r.stderr


def test_read_only(dvd, pool, libvirt_mod):
    """Read-only connections read; our daemon refuses every procedure that
    changes something (sent raw: libvirt's client refuses most by itself)."""
    lv = libvirt_mod
    conn = lv.openReadOnly(dvd.ro_uri)
    try:
        p = conn.storagePoolLookupByName(pool)
        assert p.info()[0] == lv.VIR_STORAGE_POOL_RUNNING
        assert pool in [x.name() for x in conn.listAllStoragePools()]
        conn.listAllNetworks()
        uuid = p.UUID()
    finally:
        conn.close()
    xml_flags = rpc.xdr_string("<pool/>") + rpc.u32(0)
    wire_pool = rpc.xdr_string(pool) + uuid
    wire_vol = rpc.xdr_string(pool) + rpc.xdr_string("x") + rpc.xdr_string("x")
    wire_net = rpc.xdr_string(NET) + bytes(16)
    writes = {
        77: xml_flags,                          # STORAGE_POOL_DEFINE_XML
        76: xml_flags,                          # STORAGE_POOL_CREATE_XML
        78: wire_pool + rpc.u32(0),             # STORAGE_POOL_CREATE
        80: wire_pool,                          # STORAGE_POOL_DESTROY
        83: wire_pool + rpc.u32(0),             # STORAGE_POOL_REFRESH
        90: wire_pool + rpc.u32(1),             # STORAGE_POOL_SET_AUTOSTART
        93: wire_pool + rpc.xdr_string("<volume/>") + rpc.u32(0),
        94: wire_vol + rpc.u32(0),              # STORAGE_VOL_DELETE
        165: wire_vol + rpc.u32(0),             # STORAGE_VOL_WIPE
        40: rpc.xdr_string("<network/>"),       # NETWORK_CREATE_XML
        41: rpc.xdr_string("<network/>"),       # NETWORK_DEFINE_XML
        39: wire_net,                           # NETWORK_CREATE
        42: wire_net,                           # NETWORK_DESTROY
        49: wire_net,                           # NETWORK_UNDEFINE
        48: wire_net + rpc.u32(1),              # NETWORK_SET_AUTOSTART
    }
    with RawClient(dvd.ro_sock) as ro:
        ro.open(readonly=True)
        for proc, args in writes.items():
            code = ro.call_error(proc, args)[0]
            assert code == VIR_ERR_OPERATION_DENIED, proc
        # STORAGE_POOL_LOOKUP_BY_NAME answers {name, uuid}.
        r = rpc.Reader(ro.call_ok(84, rpc.xdr_string(pool)))
        assert r.string() == pool
        assert r.data[r.off:] == uuid


def test_events_unsupported(dvd, event_loop):
    """No network or pool events yet: clients (virt-manager) get
    VIR_ERR_NO_SUPPORT and poll instead."""
    lv = event_loop
    conn = lv.open(dvd.uri)
    try:
        assert error_code(lv, conn.networkEventRegisterAny, None,
                          lv.VIR_NETWORK_EVENT_ID_LIFECYCLE,
                          lambda *a: None, None) == VIR_ERR_NO_SUPPORT
        assert error_code(lv, conn.storagePoolEventRegisterAny, None,
                          lv.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                          lambda *a: None, None) == VIR_ERR_NO_SUPPORT
        conn.listAllNetworks()
    finally:
        conn.close()


# ---- <disk type='volume'>: dv_resolve_volume() ------------------------------

def test_resolve_volume(dvd, libvirtd, pool, pool_dir, tmp_path):
    """tests/daemon/test-delegate.c's cases that need libvirt, on the
    private libvirtd."""
    exe = (pathlib.Path(os.path.realpath(dvd.args[0])).parents[2] /
           "tests/daemon/test-delegate")
    if not exe.exists():
        pytest.skip(f"{exe} is not built")
    virsh(dvd.uri, "vol-create-as", pool, "resolve.img", "1M")
    inactive = POOL + "-inactive"
    virsh(dvd.uri, "pool-define-as", inactive, "dir", "--target",
          str(tmp_path))
    try:
        env = dict(os.environ,
                   DUVISOR_TEST_STORAGE_URI=libvirtd.uri("storage"),
                   DUVISOR_TEST_POOL=pool,
                   DUVISOR_TEST_VOLUME="resolve.img",
                   DUVISOR_TEST_VOLUME_PATH=str(pool_dir / "resolve.img"),
                   DUVISOR_TEST_INACTIVE_POOL=inactive)
        r = subprocess.run([str(exe), "--tap", "-p",
                            "/delegate/resolve-volume"], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "ok 1 /delegate/resolve-volume\n" in r.stdout, r.stdout
    finally:
        virsh(dvd.uri, "pool-undefine", inactive, check=False)
        virsh(dvd.uri, "vol-delete", "resolve.img", "--pool", pool,
              check=False)


# ---- the delegate daemon goes away and comes back ---------------------------

def test_libvirtd_restart(dvd, libvirtd, pool, libvirt_mod):
    lv = libvirt_mod
    conn = lv.open(dvd.uri)
    try:
        assert pool in [x.name() for x in conn.listAllStoragePools()]
        libvirtd.stop(clean=False)
        assert error_code(lv, conn.listAllStoragePools) == VIR_ERR_NO_SUPPORT
        assert error_code(lv, conn.listAllNetworks) == VIR_ERR_NO_SUPPORT
        libvirtd.start()
        # The same client connection; our daemon reconnects by itself.
        assert pool in [x.name() for x in conn.listAllStoragePools()]
        conn.listAllNetworks()
    finally:
        conn.close()
    assert dvd.alive()


@pytest.mark.parametrize("uri", ["storage:///system?socket=/nonexistent/s",
                                 ""])
def test_no_libvirtd(fresh_daemon, libvirt_mod, uri):
    """Without libvirt's daemon (or with no URI configured) the storage and
    network procedures answer VIR_ERR_NO_SUPPORT: clients fall back."""
    lv = libvirt_mod
    d = fresh_daemon(config_text=f'storage_uri = "{uri}"\n'
                     f'network_uri = "{uri.replace("storage", "network")}"\n')
    conn = lv.open(d.uri)
    try:
        assert error_code(lv, conn.listAllStoragePools) == VIR_ERR_NO_SUPPORT
        assert error_code(lv, conn.networkLookupByName,
                          "default") == VIR_ERR_NO_SUPPORT
        assert error_code(lv, conn.numOfNetworks) == VIR_ERR_NO_SUPPORT
        assert conn.listAllDomains() == []     # the rest still works
    finally:
        conn.close()
    r = virsh(d.uri, "pool-list", check=False)
    assert r.returncode == 1 and "not available" in r.stderr
    d.check_clean_exit()
