# SPDX-License-Identifier: GPL-2.0-or-later
"""virtduvisord under systemd: the unit files, socket activation (sockets
handed in as systemd does, by systemd's own systemd-socket-activate) and
readiness notifications (Type=notify).  Machined registration and real
systemd as PID 1 run in the KVM test host (tests/system)."""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import ROOT, daemon_binary, virsh

UNITS = ("virtduvisord.service", "virtduvisord.socket",
         "virtduvisord-ro.socket")


def built_units(tmp_path):
    """The units as installed, with ExecStart pointing at the daemon under
    test (systemd-analyze checks that the binary exists)."""
    build = pathlib.Path(daemon_binary()).resolve().parents[2]
    src = {"virtduvisord.service": build / "packaging/systemd/virtduvisord.service"}
    for u in UNITS[1:]:
        src[u] = ROOT / "packaging/systemd" / u
    for unit, path in src.items():
        text = path.read_text()
        if unit.endswith(".service"):
            assert "@sbindir@" not in text
            binary = os.path.abspath(daemon_binary())
            lines = [f"ExecStart={binary} $VIRTDUVISORD_ARGS"
                     if line.startswith("ExecStart=") else line
                     for line in text.splitlines()]
            text = "\n".join(lines) + "\n"
        (tmp_path / unit).write_text(text)
    # Relative names: systemd-analyze then finds the sockets' service in
    # the same directory.
    return [f"./{u}" for u in UNITS]


def test_unit_files_verify(tmp_path):
    units = built_units(tmp_path)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", *units],
                       capture_output=True, text=True, cwd=tmp_path)
    # Any complaint (unknown key, missing unit...) is printed: none allowed.
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    service = (tmp_path / "virtduvisord.service").read_text()
    assert "Type=notify" in service and "KillMode=process" in service
    sock = (tmp_path / "virtduvisord.socket").read_text()
    assert "ListenStream=/run/libvirt/virtduvisord-sock\n" in sock


def activated(make, tmp_path, by_name):
    """A daemon whose two sockets are made and handed in by
    systemd-socket-activate.  With @by_name the sockets live elsewhere
    than the daemon's configured paths, so only their names say which
    is which (as with a unit that moved them)."""
    if not shutil.which("systemd-socket-activate"):
        pytest.fail("systemd-socket-activate missing: tools/install-deps "
                    "installs the systemd package")
    sockdir = tmp_path / "activation"
    sockdir.mkdir()
    d = make(start=False)
    rw = sockdir / "rw" if by_name else d.sock
    ro = sockdir / "ro" if by_name else d.ro_sock
    d.sock.parent.mkdir(parents=True, exist_ok=True)
    d.wrapper = ["systemd-socket-activate", "-l", str(rw), "-l", str(ro),
                 "--fdname=virtduvisord.socket:virtduvisord-ro.socket", "--"]
    d.sock, d.ro_sock = rw, ro
    d.start()
    return d


@pytest.mark.parametrize("by_name", [False, True], ids=["by-path", "by-name"])
def test_socket_activation(fresh_daemon, tmp_path, by_name, libvirt_mod):
    d = activated(fresh_daemon, tmp_path, by_name)
    try:
        assert virsh(d.uri, "uri").stdout.strip().startswith("duvisor:///")
        log = d.log()
        assert f"serving the socket handed in for {d.sock}" in log, log
        assert f"serving the socket handed in for {d.ro_sock} (read-only)" in log
        # The read-only one really is read-only.
        r = virsh(d.ro_uri, "define", "/dev/null", check=False)
        assert r.returncode != 0
        ro = libvirt_mod.openReadOnly(d.ro_uri)
        try:
            with pytest.raises(libvirt_mod.libvirtError) as e:
                ro.defineXML("<domain type='kvm'><name>x</name></domain>")
            assert e.value.get_error_code() == libvirt_mod.VIR_ERR_OPERATION_DENIED
        finally:
            ro.close()
        # Our own paths were not created: the sockets are systemd's.
        assert by_name is False or not (d.dir / "run" / "virtduvisord-sock").exists()
    finally:
        rc = d.stop(signal.SIGTERM)
    assert rc == 0, d.log()
    # The socket files belong to whoever made them: still there.
    assert d.sock.exists() and d.ro_sock.exists()


def test_foreign_socket_handed_in_is_closed(fresh_daemon, tmp_path):
    sockdir = tmp_path / "activation"
    sockdir.mkdir()
    d = fresh_daemon(start=False)
    other = sockdir / "other"
    d.sock.parent.mkdir(parents=True, exist_ok=True)
    d.wrapper = ["systemd-socket-activate", "-l", str(other),
                 "--fdname=something-else.socket", "--"]
    d.start(wait=False)
    deadline = time.monotonic() + 20
    while not other.exists():
        assert time.monotonic() < deadline, d.log()
        time.sleep(0.05)
    # The first connection to the foreign socket starts the daemon.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(other))
    s.close()
    try:
        deadline = time.monotonic() + 20
        while not (d.sock.exists() and d.ro_sock.exists()):
            assert d.proc.poll() is None, d.log()
            assert time.monotonic() < deadline, d.log()
            time.sleep(0.05)
        assert virsh(d.uri, "uri").returncode == 0
        assert "not a socket of ours" in d.log()
    finally:
        d.check_clean_exit()


def test_ready_and_stopping_notifications(fresh_daemon, tmp_path):
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    notify.bind(str(path))
    notify.settimeout(20)
    d = fresh_daemon(env={"NOTIFY_SOCKET": str(path)})
    try:
        # READY=1 comes once the sockets listen (start() waited for them).
        assert b"READY=1" in notify.recv(4096)
        assert virsh(d.uri, "uri").returncode == 0
    finally:
        d.check_clean_exit()
    assert b"STOPPING=1" in notify.recv(4096)
    notify.close()
