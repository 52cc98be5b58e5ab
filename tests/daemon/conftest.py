# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for virtduvisord tests: a real daemon on private sockets, driven
by the real Debian clients (virsh, python3-libvirt) and by raw packets.

DUVISOR_DAEMON selects the binary (default build/src/driver-duvisor/
virtduvisord), e.g. the ASan+UBSan build's.
"""
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")


def daemon_binary():
    path = os.environ.get(
        "DUVISOR_DAEMON", str(ROOT / "build/src/driver-duvisor/virtduvisord"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"virtduvisord not built at {path} (set DUVISOR_DAEMON)")
    return path


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes 40 s or more")


def _sanitizer_env():
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    return env


def connectable(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Daemon:
    """A virtduvisord on sockets in a private directory."""

    def __init__(self, tmpdir, extra_args=(), config_text="", start=True,
                 ro=True, vmm=None, wrapper=(), env=None):
        """@wrapper runs the daemon (e.g. systemd-socket-activate ... --);
        @env adds environment variables."""
        self.dir = pathlib.Path(tmpdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sock = self.dir / "run" / "virtduvisord-sock"
        self.ro_sock = self.dir / "run" / "virtduvisord-sock-ro"
        self.state = self.dir / "state"
        # Never the system's /etc/libvirt/duvisor or /var/log/libvirt.
        self.config_dir = self.dir / "config"
        self.log_dir = self.dir / "log"
        self.config = self.dir / "virtduvisord.conf"
        self.config.write_text(config_text)
        self.log_path = self.dir / "daemon.log"
        self.ro = ro
        self.args = [daemon_binary(), "--verbose",
                     "--config", str(self.config),
                     "--socket", str(self.sock),
                     "--ro-socket", str(self.ro_sock) if ro else "",
                     "--state-dir", str(self.state),
                     "--config-dir", str(self.config_dir),
                     "--log-dir", str(self.log_dir), *extra_args]
        if vmm:
            self.args += ["--vmm", str(vmm)]
        self.wrapper = list(wrapper)
        self.env = dict(env or {})
        self.proc = None
        if start:
            self.start()

    @property
    def uri(self):
        return f"duvisor:///system?socket={self.sock}"

    @property
    def ro_uri(self):
        return f"duvisor:///system?socket={self.ro_sock}"

    def start(self, wait=True):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.wrapper + self.args,
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     env={**_sanitizer_env(), **self.env})
        if wait:
            deadline = time.monotonic() + 20
            while not (connectable(self.sock) and
                       (not self.ro or connectable(self.ro_sock))):
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"virtduvisord exited with {self.proc.returncode}:\n"
                        + self.log())
                if time.monotonic() > deadline:
                    raise AssertionError("virtduvisord did not start:\n"
                                         + self.log())
                time.sleep(0.05)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stops the daemon; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("virtduvisord did not stop:\n" + self.log())
        self._log.close()
        return rc

    def kill_vmms(self):
        """Kills the VMMs a stopped daemon left running (they outlive it
        by design; a failed test must not leave them behind)."""
        for status in self.state.glob("*.status"):
            for line in status.read_text(errors="replace").splitlines():
                if line.startswith("pid="):
                    try:
                        os.kill(int(line[4:]), signal.SIGKILL)
                    except (ValueError, OSError):
                        pass

    def check_clean_exit(self, sig=signal.SIGTERM):
        rc = self.stop(sig)
        log = self.log()
        assert rc == 0, f"virtduvisord exited with {rc}:\n{log}"
        for mark in SANITIZER_MARKS:
            assert mark not in log, log
        assert not self.sock.exists()
        assert not self.ro_sock.exists()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    """One daemon shared by a test module; checked for a clean exit."""
    d = Daemon(tmp_path_factory.mktemp("daemon"))
    yield d
    try:
        assert d.alive(), "virtduvisord died:\n" + d.log()
        d.check_clean_exit()
    finally:
        d.kill_vmms()


@pytest.fixture
def fresh_daemon(tmp_path):
    """Builds Daemon objects; each is stopped at the end of the test."""
    made = []

    def make(**kwargs):
        d = Daemon(tmp_path / f"d{len(made)}", **kwargs)
        made.append(d)
        return d

    yield make
    for d in made:
        if d.proc and d.proc.poll() is None:
            d.stop(signal.SIGKILL)
        d.kill_vmms()


def virsh(uri, *args, readonly=False, timeout=60, check=True):
    cmd = ["virsh"]
    if readonly:
        cmd.append("-r")
    cmd += ["-c", uri, *args]
    env = dict(os.environ, LC_ALL="C")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       env=env)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}):\n"
                             f"{r.stdout}{r.stderr}")
    return r


_event_loop_started = False
_event_loop_lock = threading.Lock()


@pytest.fixture(scope="session")
def libvirt_mod():
    import libvirt
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    return libvirt


@pytest.fixture(scope="session")
def event_loop(libvirt_mod):
    """libvirt's default event loop running in a thread (needed for
    keepalive and events); must exist before the connections using it."""
    global _event_loop_started
    with _event_loop_lock:
        if not _event_loop_started:
            libvirt_mod.virEventRegisterDefaultImpl()

            def run():
                while True:
                    libvirt_mod.virEventRunDefaultImpl()

            threading.Thread(target=run, daemon=True).start()
            _event_loop_started = True
    return libvirt_mod


@pytest.fixture
def conn(daemon, libvirt_mod):
    """A connection to the daemon; the domains it leaves are undefined."""
    c = libvirt_mod.open(daemon.uri)
    yield c
    for dom in c.listAllDomains():
        try:
            dom.undefine()
        except libvirt_mod.libvirtError:
            pass
    c.close()
