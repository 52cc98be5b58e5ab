# SPDX-License-Identifier: GPL-2.0-or-later
"""End to end: unmodified virsh and python3-libvirt manage real guests
(the fixture of tests/guest) on duvisor-vmm through a private virtduvisord.

Runs inside the KVM test host (tests/host/run-in-host), where /dev/kvm
runs real guests:

  tests/guest/build-guest      # outside, once
  tests/host/run-in-host -- /usr/bin/python3 -m pytest tests/system

DUVISOR_VMM and DUVISOR_DAEMON select the binaries (default build/...),
DUVISOR_GUEST_DIR the fixture (default $DUVISOR_CACHE/guest).  Each guest
boot takes 10-20 s there, so the tests share boots where they can.

(No conftest.py here: tools/test runs this directory in one pytest
session with tests/vmm, whose test files import names from their own
conftest module.)
"""
import importlib.util
import os
import pathlib
import signal
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BOOT_TIMEOUT = float(os.environ.get("DUVISOR_BOOT_TIMEOUT", "240"))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# The daemon harness and helpers of tests/daemon, under names of their own.
dvd = _load("dv_daemon_harness", ROOT / "tests/daemon/conftest.py")
dvh = _load("dv_daemon_helpers", ROOT / "tests/daemon/dvhelpers.py")
virsh = dvd.virsh


def vmm_binary():
    path = os.environ.get("DUVISOR_VMM", str(ROOT / "build/src/vmm/duvisor-vmm"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"duvisor-vmm not built at {path} (set DUVISOR_VMM)")
    return os.path.abspath(path)


def guest_dir():
    d = os.environ.get("DUVISOR_GUEST_DIR") or os.path.join(
        os.environ.get("DUVISOR_CACHE", "/var/tmp/duvisor-cache"), "guest")
    d = pathlib.Path(d)
    if not (d / "vmlinuz").exists():
        pytest.fail(f"guest fixture missing in {d}: run tests/guest/build-guest")
    return d


def needs_real_kvm():
    if not os.environ.get("DUVISOR_TEST_HOST") and \
            os.path.exists("/sys/module/kvm_pvm"):
        pytest.skip("this /dev/kvm cannot run Linux guests: run inside "
                    "tests/host/run-in-host")


def domain_xml(name, action="shell", uuid=None, extra_cmdline=""):
    g = guest_dir()
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    cmdline = f"console=ttyS0 quiet dvaction={action} {extra_cmdline}".strip()
    return f"""<domain type='kvm'>
  <name>{name}</name>{uuid_el}
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>{g / 'vmlinuz'}</kernel>
    <initrd>{g / 'initramfs.cpio.gz'}</initrd>
    <cmdline>{cmdline}</cmdline>
  </os>
  <devices>
    <serial type='pty'/>
    <console type='pty'/>
  </devices>
</domain>
"""


@pytest.fixture(scope="module")
def libvirt():
    needs_real_kvm()
    import libvirt as lv
    lv.registerErrorHandler(lambda ctx, err: None, None)
    lv.virEventRegisterDefaultImpl()

    def run():
        while True:
            lv.virEventRunDefaultImpl()

    threading.Thread(target=run, daemon=True).start()
    return lv


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, libvirt):
    d = dvd.Daemon(tmp_path_factory.mktemp("system"), vmm=vmm_binary())
    yield d
    alive = d.alive()
    for p in sorted(d.log_dir.glob("*.log")):
        print(f"--- {p.name} ---\n{p.read_text(errors='replace')[-3000:]}")
    try:
        assert alive, "virtduvisord died:\n" + d.log()
        d.check_clean_exit()
    finally:
        if d.alive():
            d.stop(signal.SIGKILL)
        d.kill_vmms()


@pytest.fixture
def conn(daemon, libvirt):
    c = libvirt.open(daemon.uri)
    yield c
    for dom in c.listAllDomains():
        try:
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        except libvirt.libvirtError:
            pass
    c.close()


@pytest.fixture
def events(daemon, libvirt):
    e = dvh.Events(libvirt, daemon.uri)
    yield e
    e.close()


def console_until(con, send, want, timeout=BOOT_TIMEOUT):
    """Sends @send every few seconds until @want shows up (the shell may
    not be there yet)."""
    deadline = time.monotonic() + timeout
    while True:
        con.send(send)
        try:
            con.wait_for(want, timeout=5)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def test_virsh_start_console_shutdown(daemon, conn, events, libvirt, tmp_path):
    pexpect = pytest.importorskip("pexpect")
    path = tmp_path / "sys-shell.xml"
    path.write_text(domain_xml("sys-shell"))
    virsh(daemon.uri, "define", str(path))
    out = virsh(daemon.uri, "start", "sys-shell").stdout
    assert "Domain 'sys-shell' started" in out
    dom = conn.lookupByName("sys-shell")
    assert dom.ID() >= 1
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING,
                           libvirt.VIR_DOMAIN_RUNNING_BOOTED]
    root = ET.fromstring(dom.XMLDesc(0))
    assert root.find("devices/serial/source").get("path").startswith("/dev/pts/")
    assert root.find("devices/serial/alias").get("name") == "serial0"

    child = pexpect.spawn("virsh", ["-c", daemon.uri, "console", "sys-shell"],
                          env=dict(os.environ, LC_ALL="C", TERM="dumb"),
                          timeout=BOOT_TIMEOUT)
    try:
        child.expect("Escape character is")
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:
            child.send("echo hi-$((6*7))\r")
            i = child.expect(["hi-42", pexpect.TIMEOUT], timeout=5)
            if i == 0:
                break
            assert time.monotonic() < deadline, child.before[-2000:]
        child.sendcontrol("]")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    assert dom.isActive() == 1

    out = virsh(daemon.uri, "shutdown", "sys-shell").stdout
    assert "is being shutdown" in out
    dvh.wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF, timeout=BOOT_TIMEOUT)
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
    assert virsh(daemon.uri, "domstate", "--reason",
                 "sys-shell").stdout.strip() == "shut off (shutdown)"
    assert events.wait("sys-shell", 3) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_HOST),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]
    log = (daemon.log_dir / "sys-shell.log").read_text()
    assert "pressing the power button" in log and "guest powered off" in log
    # The console is logged whether or not a client was attached.
    console = (daemon.log_dir / "sys-shell.console.log").read_text(errors="replace")
    assert "DUVISOR-GUEST-READY" in console and "hi-42" in console


def test_suspend_resume_destroy(daemon, conn, events, libvirt):
    dom = conn.defineXML(domain_xml("sys-pause"))
    dom.create()
    con = dvh.StreamReader(libvirt, conn, dom)
    try:
        console_until(con, "echo up-$((40+2))\r", "up-42")
        virsh(daemon.uri, "suspend", "sys-pause")
        assert dom.state() == [libvirt.VIR_DOMAIN_PAUSED,
                               libvirt.VIR_DOMAIN_PAUSED_USER]
        con.send("echo back-$((1+1))\r")
        time.sleep(2)
        assert b"back-2" not in con.buf          # the guest is stopped
        virsh(daemon.uri, "resume", "sys-pause")
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        con.wait_for("back-2", timeout=60)
        virsh(daemon.uri, "destroy", "sys-pause")
        con.wait_eof()
    finally:
        con.close()
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
    assert events.wait("sys-pause", 4) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
        (libvirt.VIR_DOMAIN_EVENT_RESUMED, libvirt.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]


def test_transient_guest_poweroff(daemon, conn, events, libvirt, tmp_path):
    """virsh create; the guest powers off by itself; the domain is gone."""
    path = tmp_path / "sys-off.xml"
    path.write_text(domain_xml("sys-off", action="poweroff"))
    assert "created" in virsh(daemon.uri, "create", str(path)).stdout
    assert conn.lookupByName("sys-off").isPersistent() == 0
    dvh.wait_gone(conn, "sys-off", timeout=BOOT_TIMEOUT)
    assert events.wait("sys-off", 3) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_GUEST),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]
    log = (daemon.log_dir / "sys-off.log").read_text()
    assert "guest powered off" in log and "exit status 0" in log


def test_virt_install_pattern_and_destroy(daemon, conn, events, libvirt):
    """createXML then defineXML of the running domain; destroy of a guest
    that waits; it stays defined."""
    u = str(uuidlib.uuid4())
    xml = domain_xml("sys-vi", action="wait", uuid=u)
    dom = conn.createXML(xml, 0)
    domid = dom.ID()
    assert domid >= 1
    con = dvh.StreamReader(libvirt, conn, dom)
    try:
        con.wait_for("DUVISOR-GUEST-READY", timeout=BOOT_TIMEOUT)
    finally:
        con.close()
    conn.defineXML(xml)
    dom = conn.lookupByName("sys-vi")
    assert dom.isPersistent() == 1 and dom.ID() == domid
    out = virsh(daemon.uri, "destroy", "sys-vi").stdout
    assert "destroyed" in out
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
    assert conn.lookupByUUIDString(u).name() == "sys-vi"
    assert events.wait("sys-vi", 2) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]


def test_guest_reboot_and_reset(daemon, conn, events, libvirt):
    """A guest reboot restarts inside the VMM (REBOOT event); a reset
    starts a new VMM with the same id."""
    dom = conn.defineXML(domain_xml("sys-reboot", action="reboot"))
    dom.create()
    domid = dom.ID()
    events.wait("sys-reboot", 2, timeout=BOOT_TIMEOUT)
    assert events.of("sys-reboot")[1] == ("reboot",)
    assert dom.isActive() and dom.ID() == domid
    virsh(daemon.uri, "reset", "sys-reboot")
    assert conn.lookupByName("sys-reboot").ID() == domid
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    dom.destroy()
    assert ("reboot",) in events.of("sys-reboot")[2:]


def test_daemon_restart_keeps_guest(daemon, libvirt):
    """The guest outlives a daemon restart and is managed as before."""
    c = libvirt.open(daemon.uri)
    try:
        dom = c.defineXML(domain_xml("sys-keep"))
        dom.create()
        domid = dom.ID()
        con = dvh.StreamReader(libvirt, c, dom)
        console_until(con, "echo before-$((2*3))\r", "before-6")
        con.close()
        del dom, con
    finally:
        c.close()
    daemon.stop(signal.SIGTERM)
    daemon.start()
    c = libvirt.open(daemon.uri)
    ev = dvh.Events(libvirt, daemon.uri)
    try:
        dom = c.lookupByName("sys-keep")
        assert dom.ID() == domid and dom.isActive() == 1
        con = dvh.StreamReader(libvirt, c, dom)
        console_until(con, "echo after-$((3*3))\r", "after-9", timeout=60)
        con.close()
        virsh(daemon.uri, "shutdown", "sys-keep")
        dvh.wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF, timeout=BOOT_TIMEOUT)
        # Its last words still reach the new daemon: a clean shutdown.
        assert dom.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN
        assert ev.wait("sys-keep", 2) == [
            (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_HOST),
            (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]
        log = (daemon.log_dir / "sys-keep.log").read_text()
        assert "taken over by a new virtduvisord" in log
        assert "guest powered off" in log.split("taken over")[1]
        dom.undefine()
        del dom, con
    finally:
        ev.close()
        c.close()
