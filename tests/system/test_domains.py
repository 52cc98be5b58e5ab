# SPDX-License-Identifier: GPL-2.0-or-later
"""End to end: unmodified virsh and python3-libvirt manage real guests
(the fixture of tests/guest) on duvisor-vmm through a private virtduvisord.

Runs inside the KVM test host (tests/host/run-in-host), where /dev/kvm
runs real guests (fixtures and settings: sysfixtures.py):

  tests/guest/build-guest      # outside, once
  tests/host/run-in-host -- /usr/bin/python3 -m pytest tests/system

Each guest boot takes 10-20 s there, so the tests share boots where
they can.  test_lifecycle.py goes through the rest of the lifecycle.
"""
import base64
import os
import re
import signal
import socket
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

import pytest

from sysfixtures import (BOOT_TIMEOUT, conn, console_until, daemon,  # noqa: F401
                         domain_xml, dvh, events, guest_dir, libvirt, virsh)


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


def test_virtio_disks_and_rng_from_domain_xml(daemon, conn, events, libvirt,
                                              tmp_path):
    """<disk> and <rng> reach the guest: the daemon opens the images and
    hands them to the VMM as descriptors, in target order."""
    data = tmp_path / "data.img"
    data.write_bytes(b"\0" * (8 << 20))
    ro = tmp_path / "ro.img"
    ro.write_bytes(b"\xa5" * (4 << 20))
    devices = f"""
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{ro}'/><target dev='vdb' bus='virtio'/>
      <readonly/><serial>SYS-RO</serial>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='writeback'/>
      <source file='{data}'/><target dev='vda' bus='virtio'/>
      <serial>SYS-DATA</serial>
    </disk>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"""
    cmd = ("echo SERIALS $(cat /sys/block/vda/serial) $(cat /sys/block/vdb/serial) "
           "RO $(cat /sys/block/vda/ro) $(cat /sys/block/vdb/ro); "
           "echo written-by-the-guest | dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null; "
           "dd if=/dev/zero of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null; "
           "echo RNG $(cat /sys/class/misc/hw_random/rng_current)")
    dvcmd = base64.b64encode(cmd.encode()).decode()
    dom = conn.defineXML(domain_xml("sys-disks", action="poweroff",
                                    extra_cmdline=f"dvcmd={dvcmd}",
                                    devices=devices))
    dom.create()
    dvh.wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF, timeout=BOOT_TIMEOUT)
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                           libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
    console = (daemon.log_dir / "sys-disks.console.log").read_text(errors="replace")
    assert "SERIALS SYS-DATA SYS-RO RO 0 1" in console, console[-3000:]
    assert "RNG virtio_rng" in console
    assert data.read_bytes().startswith(b"written-by-the-guest\n")
    assert ro.read_bytes() == b"\xa5" * (4 << 20)
    log = (daemon.log_dir / "sys-disks.log").read_text().replace("'", "")
    argv = next(line for line in log.splitlines() if "starting up: " in line)
    assert re.search(r"--disk fd=\d+,serial=SYS-DATA --disk "
                     r"fd=\d+,readonly=on,serial=SYS-RO --rng", argv), argv
    # The daemon opened every file: no path reaches the sandboxed VMM.
    assert str(data) not in argv and str(ro) not in argv, argv
    assert "--kvm-fd" in argv and "--kernel-fd" in argv, argv
    assert "--sandbox on" in argv, argv
    dom.undefine()


def test_vsock_from_domain_xml(daemon, conn, libvirt, tmp_path):
    """<vsock> with a fixed cid: the daemon makes the domain's sockets in
    its state directory (docs/vsock.md) and hands the listener and the
    directory to the VMM, which runs as nobody in its sandbox. Both
    directions cross."""
    g = guest_dir()
    tools = g / "vsock-tools.cpio.gz"
    if not tools.exists():
        pytest.fail(f"{tools} missing: run tests/guest/build-guest")
    initrd = tmp_path / "initrd-vsock"
    initrd.write_bytes((g / "initramfs.cpio.gz").read_bytes() + tools.read_bytes())
    cmd = ("socat -t 60 VSOCK-LISTEN:1234,fork EXEC:cat & "
           "for i in $(seq 120); do "
           "r=$(echo hi-from-guest | socat -t 60 - VSOCK-CONNECT:2:5000 2>/dev/null) "
           "&& [ -n \"$r\" ] && break; sleep 1; done; echo G2H=$r")
    dvcmd = base64.b64encode(cmd.encode()).decode()
    xml = domain_xml("sys-vsock", action="wait", extra_cmdline=f"dvcmd={dvcmd}",
                     devices="<vsock model='virtio'><cid auto='no' address='42'/></vsock>")
    xml = xml.replace(str(g / "initramfs.cpio.gz"), str(initrd))
    dom = conn.defineXML(xml)
    dom.create()
    try:
        vdir = daemon.state / "vsock" / dom.UUIDString()
        assert oct(vdir.stat().st_mode & 0o777) == "0o711"
        # The path may be too long for a sockaddr_un: go through the
        # directory's descriptor, as the VMM does.
        dfd = os.open(vdir, os.O_PATH | os.O_DIRECTORY)
        base = f"/proc/self/fd/{dfd}/v.sock"
        service = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        service.bind(f"{base}_5000")
        os.chmod(f"{base}_5000", 0o666)    # the VMM runs as nobody
        service.listen(1)
        service.settimeout(BOOT_TIMEOUT)
        c, _ = service.accept()
        with c:
            c.settimeout(60)
            got = b""
            while not got.endswith(b"\n"):
                chunk = c.recv(64)
                assert chunk, got
                got += chunk
            assert got == b"hi-from-guest\n"
            c.sendall(b"hi-from-host\n")
        # Host to guest: the guest's echo service.
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(60)
            s.connect(base)
            s.sendall(b"CONNECT 1234\n")
            line = s.recv(64)
            if line.startswith(b"OK "):
                break
            s.close()
            assert time.monotonic() < deadline, "the guest never answered"
            time.sleep(1)
        with s:
            s.sendall(b"ping\n")
            s.shutdown(socket.SHUT_WR)
            back = b""
            while chunk := s.recv(64):
                back += chunk
            assert back == b"ping\n"
        console = daemon.log_dir / "sys-vsock.console.log"
        deadline = time.monotonic() + 60
        while "G2H=hi-from-host" not in console.read_text(errors="replace"):
            assert time.monotonic() < deadline, console.read_text()[-3000:]
            time.sleep(0.5)
        root = ET.fromstring(dom.XMLDesc(0))
        assert root.find("devices/vsock/cid").get("address") == "42"
        log = (daemon.log_dir / "sys-vsock.log").read_text().replace("'", "")
        argv = next(line for line in log.splitlines() if "starting up: " in line)
        assert re.search(r"--vsock cid=42,uds-fd=\d+,dir-fd=\d+,uds=v.sock", argv), argv
        assert str(vdir) not in argv and "--sandbox on" in argv, argv
    finally:
        dom.destroy()
    # The daemon removes the listener; the service's socket stays.
    dvh.wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF)
    assert not os.path.exists(base)
    assert os.path.exists(f"{base}_5000")
    service.close()
    os.close(dfd)
    dom.undefine()
