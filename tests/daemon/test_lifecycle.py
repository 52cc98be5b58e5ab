# SPDX-License-Identifier: GPL-2.0-or-later
"""Running domains through virtduvisord with the real clients, on a
stand-in VMM (fake-vmm: duvisor-vmm's interface without a guest), so that
every transition, event and error path runs on any machine in seconds.
tests/system does the same with real guests in the KVM test host."""
import os
import pathlib
import re
import signal
import subprocess
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

import pytest

from conftest import Daemon, virsh

HERE = pathlib.Path(__file__).resolve().parent
FAKE_VMM = HERE / "fake-vmm"


def domain_xml(name, kernel, cmdline="console=ttyS0", uuid=None, extra="",
               on_reboot=None):
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    reboot_el = f"<on_reboot>{on_reboot}</on_reboot>" if on_reboot else ""
    return f"""<domain type='kvm'>
  <name>{name}</name>{uuid_el}
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>{kernel}</kernel>
      <cmdline>{cmdline}</cmdline></os>{reboot_el}
  <devices><serial type='pty'/><console type='pty'/></devices>{extra}
</domain>
"""


class Events:
    """Lifecycle and reboot events seen by one connection."""

    def __init__(self, libvirt, uri):
        self.libvirt = libvirt
        self.conn = libvirt.open(uri)
        self.seen = []
        self.cond = threading.Condition()
        self.ids = [
            self.conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle, None),
            self.conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, self._reboot, None),
        ]

    def _lifecycle(self, conn, dom, event, detail, opaque):
        with self.cond:
            self.seen.append((dom.name(), event, detail))
            self.cond.notify_all()

    def _reboot(self, conn, dom, opaque):
        with self.cond:
            self.seen.append((dom.name(), "reboot"))
            self.cond.notify_all()

    def of(self, name, defines=False):
        """Events about @name; without defines, no DEFINED/UNDEFINED."""
        skip = () if defines else (self.libvirt.VIR_DOMAIN_EVENT_DEFINED,
                                   self.libvirt.VIR_DOMAIN_EVENT_UNDEFINED)
        with self.cond:
            return [e[1:] for e in self.seen
                    if e[0] == name and e[1] not in skip]

    def wait(self, name, count, timeout=30, defines=False):
        with self.cond:
            self.cond.wait_for(
                lambda: len(self.of(name, defines)) >= count, timeout=timeout)
        return self.of(name, defines)

    def close(self):
        for i in self.ids:
            self.conn.domainEventDeregisterAny(i)
        self.conn.close()


@pytest.fixture
def kernel(tmp_path):
    k = tmp_path / "vmlinuz"
    k.write_bytes(b"not really a kernel")
    return k


@pytest.fixture
def fdaemon(tmp_path_factory):
    """A daemon with the stand-in VMM, shared by the module."""
    d = Daemon(tmp_path_factory.mktemp("fake"), vmm=FAKE_VMM)
    yield d
    assert d.alive(), "virtduvisord died:\n" + d.log()
    d.check_clean_exit()


@pytest.fixture
def conn(fdaemon, event_loop):
    libvirt = event_loop
    c = libvirt.open(fdaemon.uri)
    yield c
    for dom in c.listAllDomains():
        try:
            if dom.isActive():
                dom.destroy()
        except libvirt.libvirtError:
            pass
        try:
            dom.undefine()
        except libvirt.libvirtError:
            pass
    c.close()


@pytest.fixture
def events(fdaemon, event_loop):
    e = Events(event_loop, fdaemon.uri)
    yield e
    e.close()


def wait_state(dom, state, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if dom.state()[0] == state:
                return dom.state()
        except Exception:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{dom.name()} not in state {state}: {dom.state()}")


def wait_gone(conn, name, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if name not in [d.name() for d in conn.listAllDomains()]:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} is still there")


def vmm_pid(fdaemon, name):
    for line in (fdaemon.log_dir / f"{name}.log").read_text().splitlines()[::-1]:
        m = re.search(r"duvisor-vmm pid (\d+)", line)
        if m:
            return int(m.group(1))
    raise AssertionError("no pid in the log")


class StreamReader:
    """Reads a console stream in the background."""

    def __init__(self, libvirt, conn, dom, flags=0):
        self.st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        dom.openConsole(None, self.st, flags)
        self.buf = b""
        self.eof = False
        self.cond = threading.Condition()
        self.st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE |
                                 libvirt.VIR_STREAM_EVENT_HANGUP |
                                 libvirt.VIR_STREAM_EVENT_ERROR, self._cb, None)

    def _cb(self, st, events, opaque):
        while True:
            try:
                data = st.recv(65536)
            except Exception:
                data = b""
            with self.cond:
                if data == -2:
                    return
                if not data:
                    self.eof = True
                    self.cond.notify_all()
                    try:
                        st.eventRemoveCallback()
                    except Exception:
                        pass
                    return
                self.buf += data
                self.cond.notify_all()

    def wait_for(self, text, timeout=20):
        with self.cond:
            ok = self.cond.wait_for(lambda: text.encode() in self.buf or self.eof,
                                    timeout=timeout)
            assert ok and text.encode() in self.buf, self.buf[-500:]

    def wait_eof(self, timeout=20):
        with self.cond:
            assert self.cond.wait_for(lambda: self.eof, timeout=timeout)

    def send(self, text):
        self.st.send(text.encode())

    def close(self):
        try:
            self.st.eventRemoveCallback()
        except Exception:
            pass
        try:
            self.st.abort()
        except Exception:
            pass


def test_start_destroy_with_virsh(fdaemon, conn, events, kernel, event_loop):
    libvirt = event_loop
    conn.defineXML(domain_xml("f-basic", kernel))
    out = virsh(fdaemon.uri, "start", "f-basic").stdout
    assert "Domain 'f-basic' started" in out
    dom = conn.lookupByName("f-basic")
    assert dom.ID() >= 1 and dom.isActive() == 1
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING,
                           libvirt.VIR_DOMAIN_RUNNING_BOOTED]
    lst = virsh(fdaemon.uri, "list").stdout
    assert re.search(rf"^\s*{dom.ID()}\s+f-basic\s+running", lst, re.M), lst
    assert conn.lookupByID(dom.ID()).name() == "f-basic"
    assert conn.listDomainsID() == [dom.ID()]
    # Live XML: id, the pty and the alias virt-manager looks for.
    root = ET.fromstring(dom.XMLDesc(0))
    assert root.get("id") == str(dom.ID())
    pty = root.find("devices/serial/source").get("path")
    assert pty.startswith("/dev/pts/")
    assert root.find("devices/serial/alias").get("name") == "serial0"
    assert root.find("devices/console").get("tty") == pty
    inactive = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert inactive.get("id") is None
    assert inactive.find("devices/serial/source") is None
    info = dom.info()
    assert info[0] == libvirt.VIR_DOMAIN_RUNNING and info[3] == 1
    assert "State:          running" in virsh(fdaemon.uri, "dominfo",
                                              "f-basic").stdout
    # Starting it again is refused.
    r = virsh(fdaemon.uri, "start", "f-basic", check=False)
    assert r.returncode != 0 and "already active" in r.stderr
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "already running" in str(e.value)
    out = virsh(fdaemon.uri, "destroy", "f-basic").stdout
    assert "destroyed" in out
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
    assert dom.ID() == -1 or conn.lookupByName("f-basic").ID() == -1
    assert events.wait("f-basic", 2) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]
    assert not list(fdaemon.state.glob("*.status"))
    log = (fdaemon.log_dir / "f-basic.log").read_text()
    assert "starting up:" in log and "serial console on /dev/pts/" in log
    # Ids keep growing.
    first = int(root.get("id"))
    dom.create()
    assert conn.lookupByName("f-basic").ID() > first


def test_shutdown_and_guest_poweroff(fdaemon, conn, events, kernel, event_loop):
    libvirt = event_loop
    dom = conn.defineXML(domain_xml("f-off", kernel))
    dom.create()
    assert "is being shutdown" in virsh(fdaemon.uri, "shutdown", "f-off").stdout
    wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF)
    assert dom.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN
    assert events.wait("f-off", 3) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_HOST),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]
    # The guest powers off by itself.
    dom.create()
    con = StreamReader(libvirt, conn, dom)
    con.wait_for("DUVISOR-GUEST-READY")
    con.send("poweroff\r")
    con.wait_eof()
    con.close()
    wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF)
    assert dom.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN
    assert events.wait("f-off", 6)[3:] == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_GUEST),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]
    # Modes other than the power button do not exist.
    dom.create()
    r = virsh(fdaemon.uri, "shutdown", "--mode", "agent", "f-off", check=False)
    assert r.returncode != 0
    assert dom.isActive() == 1


def test_suspend_resume(fdaemon, conn, events, kernel, event_loop):
    libvirt = event_loop
    dom = conn.defineXML(domain_xml("f-pause", kernel))
    dom.create()
    pid = vmm_pid(fdaemon, "f-pause")
    virsh(fdaemon.uri, "suspend", "f-pause")
    assert dom.state() == [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER]
    time.sleep(0.2)
    assert open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "T"
    assert "paused" in virsh(fdaemon.uri, "list").stdout
    dom.suspend()     # already paused: fine
    virsh(fdaemon.uri, "resume", "f-pause")
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING,
                           libvirt.VIR_DOMAIN_RUNNING_UNPAUSED]
    dom.resume()      # already running: fine
    assert events.wait("f-pause", 3) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
        (libvirt.VIR_DOMAIN_EVENT_RESUMED, libvirt.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)]
    # A paused domain is destroyed all the same.
    dom.suspend()
    dom.destroy()
    assert dom.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED
    # Start paused.
    out = virsh(fdaemon.uri, "start", "--paused", "f-pause").stdout
    assert "started" in out
    assert dom.state() == [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER]
    assert events.wait("f-pause", 7)[-2:] == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)]


def test_virsh_console(fdaemon, conn, kernel):
    pexpect = pytest.importorskip("pexpect")
    dom = conn.defineXML(domain_xml("f-con", kernel))
    r = virsh(fdaemon.uri, "console", "f-con", check=False)
    assert r.returncode != 0 and "not active" in r.stderr.lower() or \
        "not running" in r.stderr.lower(), r.stderr
    dom.create()
    child = pexpect.spawn("virsh", ["-c", fdaemon.uri, "console", "f-con"],
                          env=dict(os.environ, LC_ALL="C"), timeout=20)
    try:
        child.expect("Escape character is")
        child.expect("DUVISOR-GUEST-READY")
        child.send("echo hi-42\r")
        child.expect("hi-42")
        # A second console is refused while this one is open...
        r = virsh(fdaemon.uri, "console", "f-con", check=False, timeout=20)
        assert r.returncode != 0 and "active console session" in r.stderr
        child.sendcontrol("]")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    # ... and fine once it is closed.
    child = pexpect.spawn("virsh", ["-c", fdaemon.uri, "console", "--force",
                                    "f-con"],
                          env=dict(os.environ, LC_ALL="C"), timeout=20)
    try:
        child.expect("Escape character is")
        child.send("echo again-7\r")
        child.expect("again-7")
        # The guest powers off: virsh console ends by itself.
        child.send("poweroff\r")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    wait_state(dom, 5)


def test_console_stream_and_force(fdaemon, conn, kernel, event_loop):
    libvirt = event_loop
    dom = conn.defineXML(domain_xml("f-stream", kernel))
    st = conn.newStream(0)
    with pytest.raises(libvirt.libvirtError) as e:
        dom.openConsole(None, st, 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    dom.create()
    a = StreamReader(libvirt, conn, dom)
    a.wait_for("DUVISOR-GUEST-READY")
    a.send("echo one\r")
    a.wait_for("one")
    with pytest.raises(libvirt.libvirtError):
        StreamReader(libvirt, conn, dom)
    b = StreamReader(libvirt, conn, dom, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
    a.wait_eof()
    b.send("echo two\r")
    b.wait_for("two")
    with pytest.raises(libvirt.libvirtError) as e:
        dom.openConsole("serial1", conn.newStream(0), 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_INVALID_ARG
    dom.destroy()
    b.wait_eof()
    a.close()
    b.close()


def test_reboot_reset_and_crash(fdaemon, conn, events, kernel, event_loop):
    libvirt = event_loop
    dom = conn.defineXML(domain_xml("f-boot", kernel))
    dom.create()
    domid = dom.ID()
    con = StreamReader(libvirt, conn, dom)
    con.wait_for("DUVISOR-GUEST-READY")
    # The guest reboots inside the VMM.
    con.send("reboot\r")
    events.wait("f-boot", 2)
    con.close()
    assert dom.isActive() and conn.lookupByName("f-boot").ID() == domid
    # Hard reset: a new VMM, same id.
    pid = vmm_pid(fdaemon, "f-boot")
    virsh(fdaemon.uri, "reset", "f-boot")
    assert conn.lookupByName("f-boot").ID() == domid
    assert vmm_pid(fdaemon, "f-boot") != pid
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    events.wait("f-boot", 3)
    # reboot: power button, then a new VMM once the guest is off.
    pid = vmm_pid(fdaemon, "f-boot")
    virsh(fdaemon.uri, "reboot", "f-boot")
    events.wait("f-boot", 4)
    assert conn.lookupByName("f-boot").ID() == domid
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert vmm_pid(fdaemon, "f-boot") != pid
    assert events.of("f-boot") == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        ("reboot",), ("reboot",), ("reboot",)]
    # A guest crash (exit 34) and a triple fault (exit 33).
    for word in ("crash", "triple"):
        if not dom.isActive():
            dom.create()
        con = StreamReader(libvirt, conn, dom)
        con.wait_for("DUVISOR-GUEST-READY")
        con.send(word + "\r")
        wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF)
        con.close()
        assert dom.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_CRASHED
        assert events.of("f-boot")[-1] == (libvirt.VIR_DOMAIN_EVENT_STOPPED,
                                           libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED)


def test_on_reboot_destroy(fdaemon, conn, events, kernel, event_loop):
    libvirt = event_loop
    dom = conn.defineXML(domain_xml("f-noreboot", kernel, on_reboot="destroy"))
    dom.create()
    con = StreamReader(libvirt, conn, dom)
    con.wait_for("DUVISOR-GUEST-READY")
    con.send("reboot\r")
    wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF)
    con.close()
    assert dom.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN


def test_start_failures(fdaemon, conn, events, kernel, event_loop, tmp_path):
    libvirt = event_loop
    dom = conn.defineXML(domain_xml("f-fail", tmp_path / "missing-kernel"))
    r = virsh(fdaemon.uri, "start", "f-fail", check=False)
    assert r.returncode != 0
    assert "cannot open kernel" in r.stderr and "missing-kernel" in r.stderr
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_FAILED]
    assert events.wait("f-fail", 1) == [
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_FAILED)]
    # Failing after it printed its console.
    dom = conn.defineXML(domain_xml("f-fail", kernel, uuid=dom.UUIDString(),
                                    cmdline="console=ttyS0 fake_fail_late"))
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert "not a bzImage" in str(e.value)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_FAILED
    # A transient domain that fails to start is gone.
    with pytest.raises(libvirt.libvirtError):
        conn.createXML(domain_xml("f-fail-t", tmp_path / "missing"), 0)
    assert "f-fail-t" not in [d.name() for d in conn.listAllDomains()]
    # What the VMM cannot do: a clear error, no process.
    with pytest.raises(libvirt.libvirtError) as e:
        conn.createXML(domain_xml("f-fail-t", kernel).replace(
            "<kernel>", "<xkernel>").replace("</kernel>", "</xkernel>"), 0)
    assert "f-fail-t" not in [d.name() for d in conn.listAllDomains()]


def test_wrong_vmm_path(fresh_daemon, kernel, libvirt_mod, tmp_path):
    libvirt = libvirt_mod
    d = fresh_daemon(vmm=tmp_path / "no-such-vmm")
    conn = libvirt.open(d.uri)
    try:
        dom = conn.defineXML(domain_xml("f-novmm", kernel))
        with pytest.raises(libvirt.libvirtError) as e:
            dom.create()
        assert "no-such-vmm" in str(e.value)
        assert dom.isActive() == 0
    finally:
        conn.close()
    d.check_clean_exit()


def test_transient_domains(fdaemon, conn, events, kernel, event_loop, tmp_path):
    libvirt = event_loop
    path = tmp_path / "t.xml"
    path.write_text(domain_xml("f-trans", kernel))
    out = virsh(fdaemon.uri, "create", str(path)).stdout
    assert "Domain 'f-trans' created" in out
    dom = conn.lookupByName("f-trans")
    assert dom.isPersistent() == 0 and dom.isActive() == 1
    names = [d.name() for d in conn.listAllDomains(
        libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)]
    assert names == ["f-trans"]
    with pytest.raises(libvirt.libvirtError) as e:
        dom.setAutostart(1)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    with pytest.raises(libvirt.libvirtError) as e:
        dom.undefine()
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    virsh(fdaemon.uri, "shutdown", "f-trans")
    wait_gone(conn, "f-trans")
    assert not (fdaemon.config_dir / "f-trans.xml").exists()
    # Auto-destroyed with the connection that created it.
    c2 = libvirt.open(fdaemon.uri)
    c2.createXML(domain_xml("f-auto", kernel), libvirt.VIR_DOMAIN_START_AUTODESTROY)
    assert conn.lookupByName("f-auto").isActive()
    c2.close()
    wait_gone(conn, "f-auto")


def test_virt_install_pattern(fdaemon, conn, events, kernel, event_loop):
    """virt-install: createXML, then defineXML of the same domain."""
    libvirt = event_loop
    u = str(uuidlib.uuid4())
    xml = domain_xml("f-vi", kernel, uuid=u)
    dom = conn.createXML(xml, 0)
    assert dom.ID() >= 1
    dom2 = conn.defineXML(xml)
    assert dom2.ID() == dom.ID()
    assert dom.isPersistent() == 1 and dom.isActive() == 1
    assert (fdaemon.config_dir / "f-vi.xml").exists()
    assert events.wait("f-vi", 2, defines=True) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED)]
    dom.destroy()
    assert conn.lookupByName("f-vi").state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    # createXML of a defined, inactive domain runs it once with that XML.
    dom = conn.createXML(domain_xml("f-vi", kernel, uuid=u,
                                    cmdline="console=ttyS0 once"), 0)
    assert "once" in dom.XMLDesc(0)
    assert "once" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.destroy()
    assert "once" not in dom.XMLDesc(0)
    with pytest.raises(libvirt.libvirtError):
        conn.createXML(domain_xml("f-vi", kernel), 0)   # other uuid


def test_undefine_and_redefine_while_running(fdaemon, conn, kernel, event_loop):
    libvirt = event_loop
    u = str(uuidlib.uuid4())
    dom = conn.defineXML(domain_xml("f-redef", kernel, uuid=u))
    dom.create()
    conn.defineXML(domain_xml("f-redef", kernel, uuid=u,
                              cmdline="console=ttyS0 next-time"))
    assert dom.isUpdated() == 1
    assert "next-time" not in dom.XMLDesc(0)
    assert "next-time" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.destroy()
    assert "next-time" in dom.XMLDesc(0) and dom.isUpdated() == 0
    dom.create()
    virsh(fdaemon.uri, "undefine", "f-redef")
    assert dom.isPersistent() == 0 and dom.isActive() == 1
    assert not (fdaemon.config_dir / "f-redef.xml").exists()
    dom.destroy()
    wait_gone(conn, "f-redef")


def test_graceful_destroy(fdaemon, conn, kernel, event_loop):
    libvirt = event_loop
    dom = conn.defineXML(domain_xml("f-grace", kernel))
    dom.create()
    dom.destroyFlags(libvirt.VIR_DOMAIN_DESTROY_GRACEFUL)
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
    assert "stopped on request" in (fdaemon.log_dir / "f-grace.log").read_text()


def test_autostart_and_restart_safety(fresh_daemon, kernel, event_loop):
    """Domains keep running across daemon restarts and are taken over."""
    libvirt = event_loop
    d = fresh_daemon(vmm=FAKE_VMM)
    conn = libvirt.open(d.uri)
    conn.defineXML(domain_xml("r-auto", kernel)).setAutostart(1)
    conn.defineXML(domain_xml("r-keep", kernel)).create()
    conn.createXML(domain_xml("r-trans", kernel), 0)
    conn.defineXML(domain_xml("r-paused", kernel)).createWithFlags(
        libvirt.VIR_DOMAIN_START_PAUSED)
    ids = {n: conn.lookupByName(n).ID() for n in ("r-keep", "r-trans", "r-paused")}
    pids = {n: vmm_pid(d, n) for n in ids}
    conn.close()
    assert sorted(p.name for p in d.state.glob("*.status")) == [
        "r-keep.status", "r-paused.status", "r-trans.status"]
    d.check_clean_exit()
    for pid in pids.values():
        os.kill(pid, 0)                   # still running without a daemon

    d.start()
    conn = libvirt.open(d.uri)
    try:
        for n, i in ids.items():
            dom = conn.lookupByName(n)
            assert dom.ID() == i and dom.isActive(), n
        assert conn.lookupByName("r-trans").isPersistent() == 0
        assert conn.lookupByName("r-paused").state() == [
            libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER]
        auto = conn.lookupByName("r-auto")
        wait_state(auto, libvirt.VIR_DOMAIN_RUNNING)
        assert auto.ID() > max(ids.values())
        # Taken-over domains work as before: console, events, stop.
        keep = conn.lookupByName("r-keep")
        con = StreamReader(libvirt, conn, keep)
        con.send("echo still-here\r")
        con.wait_for("still-here")
        ev = Events(libvirt, d.uri)
        con.send("reboot\r")
        ev.wait("r-keep", 1)
        assert ev.of("r-keep") == [("reboot",)]
        con.send("poweroff\r")
        con.wait_eof()
        con.close()
        wait_state(keep, libvirt.VIR_DOMAIN_SHUTOFF)
        assert keep.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN
        assert ev.wait("r-keep", 3)[1:] == [
            (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_GUEST),
            (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]
        ev.close()
        conn.lookupByName("r-trans").destroy()
        wait_gone(conn, "r-trans")
        conn.lookupByName("r-paused").resume()
        # A VMM that ends while no daemon runs: shut off on the next start.
        conn.close()
        conn = None
        d.stop(signal.SIGKILL)
        os.kill(pids["r-paused"], signal.SIGKILL)
        d.start()
        conn = libvirt.open(d.uri)
        dom = conn.lookupByName("r-paused")
        assert dom.isActive() == 0
        assert conn.lookupByName("r-auto").isActive() == 1
        conn.lookupByName("r-auto").destroy()
    finally:
        if conn:
            conn.close()
    d.check_clean_exit()
    assert not list(d.state.glob("*.status"))


def test_daemon_timeout_waits_for_running_domains(fresh_daemon, kernel,
                                                  libvirt_mod):
    libvirt = libvirt_mod
    d = fresh_daemon(vmm=FAKE_VMM, extra_args=["--timeout=1"])
    conn = libvirt.open(d.uri)
    dom = conn.defineXML(domain_xml("t-run", kernel))
    dom.create()
    conn.close()
    time.sleep(3)
    assert d.alive()
    conn = libvirt.open(d.uri)
    conn.lookupByName("t-run").destroy()
    conn.close()
    assert d.proc.wait(20) == 0
