# SPDX-License-Identifier: GPL-2.0-or-later
"""virtduvisord as a program: options, configuration, signals, sockets."""
import os
import re
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import ROOT, Daemon, connectable, daemon_binary, virsh
from rawrpc import RawClient


def run(*args, timeout=30):
    return subprocess.run([daemon_binary(), *args], capture_output=True,
                          text=True, timeout=timeout)


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.startswith("virtduvisord (DuVisor) ")
    r = run("--help")
    assert r.returncode == 0
    for opt in ("--socket", "--ro-socket", "--timeout", "--config",
                "--verbose", "--version"):
        assert opt in r.stdout


def test_bad_option():
    r = run("--no-such-option")
    assert r.returncode == 1
    assert "virtduvisord:" in r.stderr
    r = run("--timeout", "-3")
    assert r.returncode == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_shutdown(fresh_daemon, sig):
    d = fresh_daemon()
    with RawClient(d.sock) as c:
        c.open()
        d.check_clean_exit(sig)
        assert c.wait_closed()
    assert "shutting down" in d.log()


def test_sockets_and_dirs_created(fresh_daemon):
    d = fresh_daemon()
    assert stat.S_ISSOCK(d.sock.stat().st_mode)
    assert d.sock.stat().st_mode & 0o777 == 0o600
    assert d.ro_sock.stat().st_mode & 0o777 == 0o666
    assert d.state.is_dir()
    d.check_clean_exit()


def test_second_daemon_refused(fresh_daemon):
    d = fresh_daemon()
    other = fresh_daemon(start=False)
    other.args[other.args.index("--socket") + 1] = str(d.sock)
    other.start(wait=False)
    assert other.proc.wait(20) == 1
    assert "in use" in other.log()
    assert connectable(d.sock)
    d.check_clean_exit()


def test_stale_socket_replaced(fresh_daemon):
    d = fresh_daemon(start=False)
    d.sock.parent.mkdir(parents=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(d.sock))
    s.close()                                  # a leftover socket file
    d.start()
    virsh(d.uri, "hostname")
    d.check_clean_exit()


def test_not_a_socket_refused(fresh_daemon):
    d = fresh_daemon(start=False)
    d.sock.parent.mkdir(parents=True)
    d.sock.write_text("precious")
    d.start(wait=False)
    assert d.proc.wait(20) == 1
    assert d.sock.read_text() == "precious"


def test_no_ro_socket(fresh_daemon):
    d = fresh_daemon(ro=False)
    assert not d.ro_sock.exists()
    virsh(d.uri, "hostname")
    d.check_clean_exit()


def test_config_file(fresh_daemon, tmp_path):
    d = fresh_daemon(start=False, config_text=(
        "# virtduvisord.conf\n"
        'unix_sock_rw_perms = "0660"\n'
        'unix_sock_ro_perms = "0644"\n'
        'log_level = "debug"\n'
        'hypervisor_version = "8.2.1"\n'
        "max_clients = 3\n"))
    d.start()
    assert d.sock.stat().st_mode & 0o777 == 0o660
    assert d.ro_sock.stat().st_mode & 0o777 == 0o644
    out = virsh(d.uri, "version").stdout
    assert "Running hypervisor: DuVisor 8.2.1" in out
    # virsh has gone, but the daemon counts its connection until it has
    # seen the hang-up (slower under ASan): wait for that (debug log).
    deadline = time.monotonic() + 20
    while (len(re.findall(r"client \d+: connected", d.log())) !=
           len(re.findall(r"client \d+: closed", d.log()))):
        assert time.monotonic() < deadline, d.log()
        time.sleep(0.05)
    # max_clients: a fourth connection is refused, the first three work.
    clients = [RawClient(d.sock) for _ in range(3)]
    try:
        for c in clients:
            c.open()
        with RawClient(d.sock) as extra:
            assert extra.wait_closed()
        for c in clients:
            c.call_ok(3)
    finally:
        for c in clients:
            c.close()
    d.check_clean_exit()


def test_shipped_config_file_parses(fresh_daemon):
    """Every setting the packaged virtduvisord.conf documents is accepted
    with its documented value (the paths are then overridden by the
    command line, as Daemon does)."""
    shipped = (ROOT / "packaging/virtduvisord.conf").read_text()
    enabled = "\n".join(line[1:] if re.match(r"#[a-z_]+ = ", line) else line
                        for line in shipped.splitlines())
    assert enabled.count(" = ") >= 15
    # The VMM user comes with the package; here, an existing one stands in.
    assert 'vmm_user = "duvisor-vmm"' in enabled
    enabled = enabled.replace('vmm_user = "duvisor-vmm"', 'vmm_user = "nobody"')
    enabled = enabled.replace('vmm_group = "duvisor-vmm"', 'vmm_group = "nogroup"')
    d = fresh_daemon(start=False, config_text=enabled)
    d.start()
    assert virsh(d.uri, "uri").returncode == 0
    d.check_clean_exit()


def test_bad_config_file(fresh_daemon):
    d = fresh_daemon(start=False, config_text='state_dir = "/x"\nbogus line\n')
    d.start(wait=False)
    assert d.proc.wait(20) == 1
    assert "virtduvisord.conf:2:" in d.log()


def test_missing_config_file():
    r = run("--config", "/nonexistent/virtduvisord.conf")
    assert r.returncode == 1


def test_timeout_exits_when_idle(fresh_daemon):
    d = fresh_daemon(extra_args=["--timeout=2"])
    with RawClient(d.sock) as c:
        c.open()
        time.sleep(3.5)
        assert d.alive(), "exited with a client connected"
    t0 = time.monotonic()
    assert d.proc.wait(20) == 0
    assert time.monotonic() - t0 < 10
    assert not d.sock.exists()


def test_session_default_paths(tmp_path):
    """--session puts the socket in $XDG_RUNTIME_DIR/libvirt/ and has no
    read-only socket."""
    runtime = tmp_path / "xdg"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime),
               XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    proc = subprocess.Popen([daemon_binary(), "--session", "--timeout=30"],
                            env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    sock = runtime / "libvirt" / "virtduvisord-sock"
    try:
        deadline = time.monotonic() + 20
        while not connectable(sock):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert not (runtime / "libvirt" / "virtduvisord-sock-ro").exists()
        r = virsh(f"duvisor:///session?socket={sock}", "hostname")
        assert r.stdout.strip()
        # This daemon serves /session only.
        r = virsh(f"duvisor:///system?socket={sock}", "hostname", check=False)
        assert r.returncode != 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert not sock.exists()
