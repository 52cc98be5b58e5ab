# SPDX-License-Identifier: GPL-2.0-or-later
"""The rest of a domain's life through virtduvisord with unmodified virsh
and python3-libvirt, on the real duvisor-vmm booting the guest fixture
(test_domains.py has the main paths): ids, lists and live XML, consoles,
pause, reset, reboot, crashes, start failures, transient domains,
redefinition, autostart, daemon restarts and deaths, interrupted starts.

Runs inside the KVM test host like test_domains.py (sysfixtures.py).
Guests that need not boot are destroyed while they do; the others boot
side by side where the test allows.

A VMM that is slow to start is a real one whose kernel is a FIFO nobody
writes to: it waits in open() before it builds the machine.
"""
import os
import re
import signal
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

import pytest

from sysfixtures import (BOOT_TIMEOUT, conn, console_until, daemon,  # noqa: F401
                         vmm_status, vmm_wrapper,
                         domain_xml, dvh, events, fresh_daemon, libvirt,
                         running, virsh, vmm_pid, wait_not_running)

ENV = dict(os.environ, LC_ALL="C", TERM="dumb")


def started_pids(d, name):
    """The VMMs the daemon @d spawned for @name, oldest first."""
    return [int(p) for p in re.findall(
        rf"domain '{name}': duvisor-vmm started \(pid (\d+)\)", d.log())]


def wait_started(d, name, count, timeout=60):
    deadline = time.monotonic() + timeout
    while len(started_pids(d, name)) < count:
        assert time.monotonic() < deadline, d.log()
        time.sleep(0.05)
    return started_pids(d, name)[-1]


def spawn_virsh_console(uri, *args):
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn("virsh", ["-c", uri, "console", *args], env=ENV,
                          timeout=BOOT_TIMEOUT)
    child.expect("Escape character is")
    return child


def shell_until(child, send, want, timeout=BOOT_TIMEOUT):
    """console_until for a pexpect virsh console."""
    import pexpect
    deadline = time.monotonic() + timeout
    while True:
        child.send(send)
        if child.expect([want, pexpect.TIMEOUT], timeout=5) == 0:
            return
        assert time.monotonic() < deadline, child.before[-2000:]


def stream_when_free(libvirt, conn, dom, timeout=30):
    """A console stream once the session virsh just left is closed (the
    daemon learns that on virsh's connection, not on ours)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return dvh.StreamReader(libvirt, conn, dom)
        except libvirt.libvirtError as e:
            if "active console session" not in str(e) or \
                    time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def test_start_list_xml_destroy(daemon, conn, events, libvirt):
    conn.defineXML(domain_xml("lc-basic", action="wait"))
    out = virsh(daemon.uri, "start", "lc-basic").stdout
    assert "Domain 'lc-basic' started" in out
    dom = conn.lookupByName("lc-basic")
    domid = dom.ID()
    pid = vmm_pid(daemon, "lc-basic")
    assert domid >= 1 and dom.isActive() == 1 and running(pid)
    lst = virsh(daemon.uri, "list").stdout
    assert re.search(rf"^\s*{domid}\s+lc-basic\s+running", lst, re.M), lst
    assert conn.lookupByID(domid).name() == "lc-basic"
    assert conn.listDomainsID() == [domid]
    # Live XML: the id and the pty (serial and console alike).
    root = ET.fromstring(dom.XMLDesc(0))
    assert root.get("id") == str(domid)
    pty = root.find("devices/serial/source").get("path")
    assert pty.startswith("/dev/pts/") and os.path.exists(pty)
    assert root.find("devices/console").get("tty") == pty
    inactive = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert inactive.get("id") is None
    assert inactive.find("devices/serial/source") is None
    info = dom.info()
    assert info[0] == libvirt.VIR_DOMAIN_RUNNING and info[3] == 1
    assert "State:          running" in virsh(daemon.uri, "dominfo",
                                              "lc-basic").stdout
    # Starting it again is refused.
    r = virsh(daemon.uri, "start", "lc-basic", check=False)
    assert r.returncode != 0 and "already active" in r.stderr
    assert dvh.error_code(libvirt, dom.create) == \
        libvirt.VIR_ERR_OPERATION_INVALID
    assert "destroyed" in virsh(daemon.uri, "destroy", "lc-basic").stdout
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
    assert conn.lookupByName("lc-basic").ID() == -1
    assert not running(pid)
    assert events.wait("lc-basic", 2) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]
    assert not list(daemon.state.glob("*.status"))
    log = (daemon.log_dir / "lc-basic.log").read_text()
    assert "starting up:" in log and "serial console on /dev/pts/" in log
    # Ids keep growing.  A graceful destroy asks the VMM to quit and
    # waits for it.
    dom.create()
    assert dom.ID() > domid
    pid = vmm_pid(daemon, "lc-basic")
    dom.destroyFlags(libvirt.VIR_DOMAIN_DESTROY_GRACEFUL)
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
    assert not running(pid)
    last = (daemon.log_dir / "lc-basic.log").read_text().split(
        "destroying the domain (gracefully)")[-1]
    assert "stopped on request" in last and "exit status 0" in last, last


def test_consoles_and_guest_poweroff(daemon, conn, events, libvirt):
    """virsh console and console streams: one session at a time, --force
    takes over; the guest powers off from its shell."""
    pexpect = pytest.importorskip("pexpect")
    dom = conn.defineXML(domain_xml("lc-con"))
    out, rc = pexpect.run(f"virsh -c {daemon.uri} console lc-con",
                          withexitstatus=True, env=ENV, timeout=60)
    assert rc != 0 and b"not running" in out.lower(), out
    assert dvh.error_code(libvirt, dom.openConsole, None, conn.newStream(0),
                          0) == libvirt.VIR_ERR_OPERATION_INVALID
    dom.create()
    a = b = None
    child = spawn_virsh_console(daemon.uri, "lc-con")
    try:
        shell_until(child, "echo hi-$((6*7))\r", "hi-42")
        out, rc = pexpect.run(f"virsh -c {daemon.uri} console lc-con",
                              withexitstatus=True, env=ENV, timeout=60)
        assert rc != 0 and b"active console session" in out, out
        assert dvh.error_code(libvirt, dom.openConsole, None,
                              conn.newStream(0), 0) == \
            libvirt.VIR_ERR_OPERATION_FAILED
        child.sendcontrol("]")
        child.expect(pexpect.EOF, timeout=30)
        child.close(force=True)
        # Free again once it is closed; FORCE takes a session over.
        a = stream_when_free(libvirt, conn, dom)
        console_until(a, "echo one-$((0+1))\r", "one-1", timeout=60)
        assert dvh.error_code(libvirt, dom.openConsole, None,
                              conn.newStream(0), 0) == \
            libvirt.VIR_ERR_OPERATION_FAILED
        b = dvh.StreamReader(libvirt, conn, dom,
                             libvirt.VIR_DOMAIN_CONSOLE_FORCE)
        a.wait_eof()
        console_until(b, "echo two-$((1+1))\r", "two-2", timeout=60)
        assert dvh.error_code(libvirt, dom.openConsole, "serial1",
                              conn.newStream(0), 0) == \
            libvirt.VIR_ERR_INVALID_ARG
        # Only the power button exists.
        r = virsh(daemon.uri, "shutdown", "--mode", "agent", "lc-con",
                  check=False)
        assert r.returncode != 0 and dom.isActive() == 1
        child = spawn_virsh_console(daemon.uri, "--force", "lc-con")
        b.wait_eof()
        shell_until(child, "echo again-$((3+4))\r", "again-7", timeout=60)
        # The guest powers off: virsh console ends by itself.
        child.send("poweroff\r")
        child.expect(pexpect.EOF, timeout=BOOT_TIMEOUT)
    finally:
        child.close(force=True)
        for s in (a, b):
            if s:
                s.close()
    dvh.wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF, timeout=BOOT_TIMEOUT)
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
    assert events.wait("lc-con", 3) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_GUEST),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]
    log = (daemon.log_dir / "lc-con.log").read_text()
    assert "guest powered off" in log


def test_pause_states_and_start_paused(daemon, conn, events, libvirt):
    dom = conn.defineXML(domain_xml("lc-pause", action="wait"))
    dom.create()
    pid = vmm_pid(daemon, "lc-pause")
    virsh(daemon.uri, "suspend", "lc-pause")
    assert dom.state() == [libvirt.VIR_DOMAIN_PAUSED,
                           libvirt.VIR_DOMAIN_PAUSED_USER]
    assert vmm_status(daemon, dom)["state"] == "paused"
    assert re.search(r"lc-pause\s+paused", virsh(daemon.uri, "list").stdout)
    dom.suspend()     # already paused: fine
    virsh(daemon.uri, "resume", "lc-pause")
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING,
                           libvirt.VIR_DOMAIN_RUNNING_UNPAUSED]
    assert vmm_status(daemon, dom)["state"] == "running"
    dom.resume()      # already running: fine
    assert events.wait("lc-pause", 3) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
        (libvirt.VIR_DOMAIN_EVENT_RESUMED, libvirt.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)]
    # A paused domain is destroyed all the same.
    dom.suspend()
    dom.destroy()
    assert dom.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED
    assert not running(pid)
    # Started paused, it boots once resumed.
    assert "started" in virsh(daemon.uri, "start", "--paused",
                              "lc-pause").stdout
    assert dom.state() == [libvirt.VIR_DOMAIN_PAUSED,
                           libvirt.VIR_DOMAIN_PAUSED_USER]
    assert vmm_status(daemon, dom)["state"] == "paused"
    assert events.wait("lc-pause", 7)[-2:] == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)]
    con = dvh.StreamReader(libvirt, conn, dom)
    try:
        dom.resume()
        con.wait_for("DUVISOR-GUEST-READY", timeout=BOOT_TIMEOUT)
    finally:
        con.close()
    dom.destroy()


def test_reset_reboot_and_crashes(daemon, conn, events, libvirt):
    """reset rebuilds the machine in the same VMM; virsh reboot starts a
    new VMM under the same id; a killed VMM and a guest kernel panic are
    crashes; on_reboot=destroy."""
    # Boots alongside: its guest reboots at once, which ends the domain.
    nor = conn.defineXML(domain_xml("lc-noreboot", action="reboot",
                                    on_reboot="destroy"))
    nor.create()
    # panic=-1 reboot=t: a panic resets through a triple fault.
    dom = conn.defineXML(domain_xml("lc-boot",
                                    extra_cmdline="panic=-1 reboot=t"))
    dom.create()
    domid = dom.ID()
    pid = vmm_pid(daemon, "lc-boot")
    virsh(daemon.uri, "reset", "lc-boot")
    assert dom.ID() == domid and running(pid)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert vmm_pid(daemon, "lc-boot") == pid
    assert vmm_status(daemon, dom)["boots"] == "2"
    # The VMM dies.
    os.kill(pid, signal.SIGKILL)
    dvh.wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF)
    assert dom.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_CRASHED
    assert events.wait("lc-boot", 3) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        ("reboot",),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED)]
    # reboot: the power button, then a new VMM once the guest is off.
    dom.create()
    domid = dom.ID()
    pid = vmm_pid(daemon, "lc-boot")
    con = dvh.StreamReader(libvirt, conn, dom)
    try:
        con.wait_for("DUVISOR-GUEST-READY", timeout=BOOT_TIMEOUT)
        virsh(daemon.uri, "reboot", "lc-boot")
        con.wait_eof(timeout=BOOT_TIMEOUT)
    finally:
        con.close()
    events.wait("lc-boot", 5, timeout=BOOT_TIMEOUT)
    assert events.of("lc-boot")[3:] == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        ("reboot",)]
    assert dom.ID() == domid and dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert vmm_pid(daemon, "lc-boot") != pid
    assert "DUVISOR-GUEST-POWERBUTTON" in con.buf.decode(errors="replace")
    # A guest kernel panic.
    con = dvh.StreamReader(libvirt, conn, dom)
    try:
        console_until(con, "echo up-$((5*5))\r", "up-25")
        con.send("echo c > /proc/sysrq-trigger\r")
        dvh.wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF, timeout=BOOT_TIMEOUT)
        assert "Kernel panic" in con.buf.decode(errors="replace")
    finally:
        con.close()
    assert dom.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_CRASHED
    assert events.wait("lc-boot", 6)[5:] == [
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED)]
    log = (daemon.log_dir / "lc-boot.log").read_text()
    assert "killed by signal 9" in log, log
    # Linux resets by a triple fault after its panic, unless the VMM
    # heard about the panic first (pvpanic): a crash either way.
    last = log.split("reboot requested")[-1]
    assert "triple fault" in last or "guest crashed" in last, last
    # on_reboot=destroy: the guest's reboot ends the domain.
    dvh.wait_state(nor, libvirt.VIR_DOMAIN_SHUTOFF, timeout=BOOT_TIMEOUT)
    assert nor.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN
    assert events.wait("lc-noreboot", 3) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_GUEST),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]
    assert "--no-reboot" in (daemon.log_dir / "lc-noreboot.log").read_text()


def test_start_failures(daemon, conn, events, libvirt, tmp_path):
    dom = conn.defineXML(domain_xml("lc-fail", kernel=tmp_path / "missing-kernel"))
    r = virsh(daemon.uri, "start", "lc-fail", check=False)
    assert r.returncode != 0
    assert "cannot open kernel" in r.stderr and "missing-kernel" in r.stderr
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_FAILED]
    assert events.wait("lc-fail", 1) == [
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_FAILED)]
    # No kernel inside: the VMM fails after it set up its console.
    bad = tmp_path / "bad-kernel"
    bad.write_bytes(b"not really a kernel\n" * 64)
    dom = conn.defineXML(domain_xml("lc-fail", uuid=dom.UUIDString(),
                                    kernel=bad))
    r = virsh(daemon.uri, "start", "lc-fail", check=False)
    assert r.returncode != 0 and "not a Linux kernel" in r.stderr, r.stderr
    assert dvh.error_code(libvirt, dom.create) == libvirt.VIR_ERR_OPERATION_FAILED
    last = (daemon.log_dir / "lc-fail.log").read_text().split("starting up:")[-1]
    assert "serial console on /dev/pts/" in last and "exit status 1" in last
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_FAILED]
    # A FIFO where a kernel should be: refused at once, the daemon does
    # not wait for a writer.
    fifo = tmp_path / "kernel-fifo"
    os.mkfifo(fifo)
    conn.defineXML(domain_xml("lc-fail", uuid=dom.UUIDString(), kernel=fifo))
    r = virsh(daemon.uri, "start", "lc-fail", check=False)
    assert r.returncode != 0 and "not a file or device" in r.stderr, r.stderr
    # A transient domain that fails to start is gone.
    with pytest.raises(libvirt.libvirtError):
        conn.createXML(domain_xml("lc-fail-t", kernel=tmp_path / "missing"), 0)
    assert "lc-fail-t" not in [d.name() for d in conn.listAllDomains()]
    # What the VMM cannot do: a clear error, no process.
    with pytest.raises(libvirt.libvirtError) as e:
        conn.createXML(domain_xml("lc-fail-t").replace(
            "<kernel>", "<xkernel>").replace("</kernel>", "</xkernel>"), 0)
    assert "kernel" in str(e.value)
    assert "lc-fail-t" not in [d.name() for d in conn.listAllDomains()]
    # Neither failure got as far as a VMM process.
    assert started_pids(daemon, "lc-fail-t") == []


def test_wrong_vmm_path(fresh_daemon, libvirt, tmp_path):
    d = fresh_daemon(vmm=tmp_path / "no-such-vmm")
    c = libvirt.open(d.uri)
    try:
        dom = c.defineXML(domain_xml("lc-novmm"))
        with pytest.raises(libvirt.libvirtError) as e:
            dom.create()
        assert "no-such-vmm" in str(e.value)
        assert dom.isActive() == 0
        del dom
    finally:
        c.close()
    d.check_clean_exit()


def test_transient_domains(daemon, conn, events, libvirt, tmp_path):
    path = tmp_path / "t.xml"
    path.write_text(domain_xml("lc-trans", action="wait"))
    out = virsh(daemon.uri, "create", str(path)).stdout
    assert "Domain 'lc-trans' created" in out
    dom = conn.lookupByName("lc-trans")
    assert dom.isPersistent() == 0 and dom.isActive() == 1
    names = [d.name() for d in conn.listAllDomains(
        libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)]
    assert names == ["lc-trans"]
    assert dvh.error_code(libvirt, dom.setAutostart, 1) == \
        libvirt.VIR_ERR_OPERATION_INVALID
    assert dvh.error_code(libvirt, dom.undefine) == \
        libvirt.VIR_ERR_OPERATION_INVALID
    virsh(daemon.uri, "destroy", "lc-trans")
    dvh.wait_gone(conn, "lc-trans")
    assert not (daemon.config_dir / "lc-trans.xml").exists()
    assert events.wait("lc-trans", 2) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]
    # Destroyed with the connection that created it.
    c2 = libvirt.open(daemon.uri)
    c2.createXML(domain_xml("lc-auto", action="wait"),
                 libvirt.VIR_DOMAIN_START_AUTODESTROY)
    assert conn.lookupByName("lc-auto").isActive()
    pid = vmm_pid(daemon, "lc-auto")
    c2.close()
    dvh.wait_gone(conn, "lc-auto")
    wait_not_running(pid)


def test_virt_install_and_redefinition(daemon, conn, events, libvirt):
    """createXML then defineXML (virt-install); createXML of a defined
    domain runs its XML once; a redefinition waits for the next start;
    undefine while running leaves a transient domain.  The guest shows
    which command line it got."""
    u = str(uuidlib.uuid4())
    xml = domain_xml("lc-vi", action="wait", uuid=u)
    dom = conn.createXML(xml, 0)
    assert dom.ID() >= 1
    dom2 = conn.defineXML(xml)
    assert dom2.ID() == dom.ID()
    assert dom.isPersistent() == 1 and dom.isActive() == 1
    assert (daemon.config_dir / "lc-vi.xml").exists()
    assert events.wait("lc-vi", 2, defines=True) == [
        (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED)]
    dom.destroy()
    assert conn.lookupByName("lc-vi").state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    # createXML of the defined, inactive domain: once with that XML.
    dom = conn.createXML(domain_xml("lc-vi", action="wait", uuid=u,
                                    extra_cmdline="dvrun=once"), 0)
    con = dvh.StreamReader(libvirt, conn, dom)
    try:
        con.wait_for("DUVISOR-GUEST-READY", timeout=BOOT_TIMEOUT)
        assert re.search(rb"DUVISOR-CMDLINE=.*dvrun=once", con.buf)
    finally:
        con.close()
    assert "once" in dom.XMLDesc(0)
    assert "once" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.destroy()
    assert "once" not in dom.XMLDesc(0) and dom.isPersistent() == 1
    # Another domain of that name (another uuid) is refused.
    assert dvh.error_code(libvirt, conn.createXML,
                          domain_xml("lc-vi", action="wait"), 0) == \
        libvirt.VIR_ERR_OPERATION_FAILED
    # Redefined while it runs: the new XML applies from the next start.
    dom.create()
    conn.defineXML(domain_xml("lc-vi", action="wait", uuid=u,
                              extra_cmdline="dvrun=next-time"))
    assert dom.isUpdated() == 1
    assert "next-time" not in dom.XMLDesc(0)
    assert "next-time" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.destroy()
    assert "next-time" in dom.XMLDesc(0) and dom.isUpdated() == 0
    dom.create()
    con = dvh.StreamReader(libvirt, conn, dom)
    try:
        con.wait_for("DUVISOR-GUEST-READY", timeout=BOOT_TIMEOUT)
        assert re.search(rb"DUVISOR-CMDLINE=.*dvrun=next-time", con.buf)
    finally:
        con.close()
    # Undefined while it runs: transient until it stops.
    virsh(daemon.uri, "undefine", "lc-vi")
    assert dom.isPersistent() == 0 and dom.isActive() == 1
    assert not (daemon.config_dir / "lc-vi.xml").exists()
    dom.destroy()
    dvh.wait_gone(conn, "lc-vi")


def test_autostart_and_restart_safety(fresh_daemon, libvirt):
    """Domains keep running across daemon restarts and are taken over,
    paused and transient ones too; autostart; a VMM that ends while no
    daemon runs."""
    d = fresh_daemon()
    c = libvirt.open(d.uri)
    try:
        c.defineXML(domain_xml("r-auto", action="wait")).setAutostart(1)
        c.defineXML(domain_xml("r-keep")).create()
        c.createXML(domain_xml("r-trans", action="wait"), 0)
        c.defineXML(domain_xml("r-paused", action="wait")).createWithFlags(
            libvirt.VIR_DOMAIN_START_PAUSED)
        names = ("r-keep", "r-trans", "r-paused")
        ids = {n: c.lookupByName(n).ID() for n in names}
    finally:
        c.close()
    pids = {n: vmm_pid(d, n) for n in names}
    assert sorted(p.name for p in d.state.glob("*.status")) == [
        "r-keep.status", "r-paused.status", "r-trans.status"]
    d.check_clean_exit()
    for pid in pids.values():
        assert running(pid)           # without a daemon

    d.start()
    c = libvirt.open(d.uri)
    ev = dvh.Events(libvirt, d.uri)
    try:
        for n, i in ids.items():
            dom = c.lookupByName(n)
            assert dom.ID() == i and dom.isActive(), n
        assert c.lookupByName("r-trans").isPersistent() == 0
        assert c.lookupByName("r-paused").state() == [
            libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER]
        assert vmm_status(d, c.lookupByName("r-paused"))["state"] == "paused"
        auto = c.lookupByName("r-auto")
        dvh.wait_state(auto, libvirt.VIR_DOMAIN_RUNNING, timeout=60)
        assert auto.ID() > max(ids.values())
        c.lookupByName("r-trans").destroy()
        dvh.wait_gone(c, "r-trans")
        assert not running(pids["r-trans"])
        # A taken-over domain works as before: console, events, stop.
        keep = c.lookupByName("r-keep")
        con = dvh.StreamReader(libvirt, c, keep)
        try:
            console_until(con, "echo still-$((2*3))\r", "still-6")
            con.send("reboot\r")
            ev.wait("r-keep", 1, timeout=BOOT_TIMEOUT)
            assert ev.of("r-keep") == [("reboot",)]
            console_until(con, "echo again-$((2*4))\r", "again-8")
            con.send("poweroff\r")
            con.wait_eof(timeout=BOOT_TIMEOUT)
        finally:
            con.close()
        dvh.wait_state(keep, libvirt.VIR_DOMAIN_SHUTOFF, timeout=BOOT_TIMEOUT)
        assert keep.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN
        assert ev.wait("r-keep", 3)[1:] == [
            (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_GUEST),
            (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]
        assert pids["r-keep"] == vmm_pid(d, "r-keep")   # rebooted inside
        c.lookupByName("r-paused").resume()
        assert vmm_status(d, c.lookupByName("r-paused"))["state"] == "running"
        del dom, auto, keep
    finally:
        ev.close()
        c.close()
    # A VMM that ends while no daemon runs: shut off on the next start.
    d.stop(signal.SIGKILL)
    os.kill(pids["r-paused"], signal.SIGKILL)
    wait_not_running(pids["r-paused"])
    d.start()
    c = libvirt.open(d.uri)
    try:
        assert c.lookupByName("r-paused").isActive() == 0
        assert c.lookupByName("r-auto").isActive() == 1
        c.lookupByName("r-auto").destroy()
    finally:
        c.close()
    d.check_clean_exit()
    assert not list(d.state.glob("*.status"))


def test_daemon_killed_with_two_running_domains(fresh_daemon, libvirt):
    """kill -9 of the daemon: a new one takes both guests over, with
    their ids, and shuts them down cleanly."""
    d = fresh_daemon()
    names = ["k-one", "k-two"]
    c = libvirt.open(d.uri)
    cons = []
    try:
        # One boot after the other (both then run together): concurrent
        # early boots of nested guests in the emulated test host once
        # ended in a triple fault (see tests/host/README.md).
        for n in names:
            dom = c.defineXML(domain_xml(n, action="wait"))
            dom.create()
            cons.append(dvh.StreamReader(libvirt, c, dom))
            # acpid runs once it is ready: the power button works.
            cons[-1].wait_for("DUVISOR-GUEST-READY", timeout=BOOT_TIMEOUT)
        ids = {n: c.lookupByName(n).ID() for n in names}
        del dom
    finally:
        for con in cons:
            con.close()
        c.close()
    pids = {n: vmm_pid(d, n) for n in names}
    d.stop(signal.SIGKILL)
    assert all(running(p) for p in pids.values())
    d.start()
    c = libvirt.open(d.uri)
    ev = dvh.Events(libvirt, d.uri)
    try:
        lst = virsh(d.uri, "list").stdout
        for n in names:
            assert re.search(rf"^\s*{ids[n]}\s+{n}\s+running", lst, re.M), lst
            dom = c.lookupByName(n)
            assert dom.ID() == ids[n]
            assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING,
                                   libvirt.VIR_DOMAIN_RUNNING_BOOTED]
        for n in names:
            assert "is being shutdown" in virsh(d.uri, "shutdown", n).stdout
        for n in names:
            dom = c.lookupByName(n)
            dvh.wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF, timeout=BOOT_TIMEOUT)
            assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                                   libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
            assert ev.wait(n, 2) == [
                (libvirt.VIR_DOMAIN_EVENT_SHUTDOWN, libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_HOST),
                (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]
            assert not running(pids[n])
            log = (d.log_dir / f"{n}.log").read_text()
            assert "guest powered off" in log.split(
                "taken over by a new virtduvisord")[-1], log
        del dom
    finally:
        ev.close()
        c.close()
    d.check_clean_exit()
    assert not list(d.state.glob("*.status"))


def test_daemon_timeout_waits_for_running_domains(fresh_daemon, libvirt):
    d = fresh_daemon(extra_args=["--timeout=1"])
    c = libvirt.open(d.uri)
    c.defineXML(domain_xml("t-run", action="wait")).create()
    c.close()      # (a virDomain object would keep it open)
    time.sleep(3)
    assert d.alive()
    c = libvirt.open(d.uri)
    c.lookupByName("t-run").destroy()
    c.close()
    assert d.proc.wait(60) == 0


def slow_vmm():
    """A VMM that takes its time to start (its start timeout is 60 s)."""
    return vmm_wrapper("slow-vmm", before_exec="exec sleep 600")


def test_destroy_while_starting(fresh_daemon, libvirt):
    daemon = fresh_daemon(vmm=slow_vmm())
    conn = libvirt.open(daemon.uri)
    events = dvh.Events(libvirt, daemon.uri)
    dom = conn.defineXML(domain_xml("lc-slow"))
    result = {}

    def start():
        c = libvirt.open(daemon.uri)
        try:
            c.lookupByName("lc-slow").create()
            result["ok"] = True
        except libvirt.libvirtError as e:
            result["error"] = e
        finally:
            c.close()

    t = threading.Thread(target=start)
    t.start()
    pid = wait_started(daemon, "lc-slow", 1)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING  # starting is active
    assert running(pid)
    assert dvh.error_code(libvirt, dom.suspend) == \
        libvirt.VIR_ERR_OPERATION_INVALID
    dom.destroy()
    t.join(60)
    assert result["error"].get_error_code() == libvirt.VIR_ERR_OPERATION_ABORTED
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
    assert events.wait("lc-slow", 1) == [
        (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]
    assert not running(pid)
    events.close()
    conn.close()


def test_daemon_stops_while_starting(fresh_daemon, libvirt, tmp_path):
    """A VMM that is not running yet when the daemon stops is killed: the
    next daemon could not take it over."""
    d = fresh_daemon(vmm=slow_vmm())
    result = {}

    def start():
        c = libvirt.open(d.uri)
        try:
            c.lookupByName("s-slow").create()
        except libvirt.libvirtError as e:
            result["error"] = e
        finally:
            try:
                c.close()
            except libvirt.libvirtError:
                pass

    c = libvirt.open(d.uri)
    c.defineXML(domain_xml("s-slow"))
    c.close()
    t = threading.Thread(target=start)
    t.start()
    pid = wait_started(d, "s-slow", 1)
    d.check_clean_exit()
    t.join(60)
    assert "error" in result
    wait_not_running(pid)
    d.start()
    c = libvirt.open(d.uri)
    try:
        assert c.lookupByName("s-slow").isActive() == 0
    finally:
        c.close()
    assert not list(d.state.glob("*.status"))
    # The daemon dies (no chance to clean up) while a VMM starts: the next
    # one kills that VMM instead of leaving it orphaned.
    result.clear()
    t = threading.Thread(target=start)
    t.start()
    pid = wait_started(d, "s-slow", 2)
    d.stop(signal.SIGKILL)
    t.join(60)
    assert "error" in result
    assert running(pid)                   # orphaned meanwhile
    d.start()
    wait_not_running(pid)
    assert "which was still starting" in d.log()
    c = libvirt.open(d.uri)
    try:
        assert c.lookupByName("s-slow").isActive() == 0
    finally:
        c.close()
    d.check_clean_exit()
    assert not list(d.state.glob("*.status"))
