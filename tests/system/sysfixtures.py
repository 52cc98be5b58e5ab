# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures and helpers shared by the tests of tests/system: a private
virtduvisord running the real duvisor-vmm, the guest fixture of
tests/guest, the clients' event loop.

Test modules import what they use (`from sysfixtures import ...`,
fixtures included: pytest only sees fixtures in the test module's
namespace).  This is not a conftest.py because tools/test runs this
directory in one pytest session with tests/vmm, whose test files import
names from their own conftest module.

DUVISOR_VMM and DUVISOR_DAEMON select the binaries (default build/...),
DUVISOR_GUEST_DIR the fixture (default $DUVISOR_CACHE/guest),
DUVISOR_BOOT_TIMEOUT how long a guest boot may take (seconds).
"""
import importlib.util
import os
import pathlib
import re
import signal
import threading
import time

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
dvcontrol = _load("dv_control_client", ROOT / "tests/vmm/dvcontrol.py")

# Every VMM of these tests runs as nobody, inside its seccomp sandbox (the
# daemon's default), with all its resources passed as descriptors.
VMM_USER_CONFIG = 'vmm_user = "nobody"\nvmm_group = "nogroup"\n'


def privlibvirtd():
    """tests/daemon/privlibvirtd.py (a private libvirtd), whose `from
    conftest import ...` must find tests/daemon's conftest (loaded here as
    dvd), not the conftest of whichever directory pytest collected
    first."""
    import sys
    saved = sys.modules.get("conftest")
    sys.modules["conftest"] = dvd
    try:
        return _load("dv_privlibvirtd", ROOT / "tests/daemon/privlibvirtd.py")
    finally:
        if saved is None:
            del sys.modules["conftest"]
        else:
            sys.modules["conftest"] = saved


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


def domain_xml(name, action="shell", uuid=None, extra_cmdline="", kernel=None,
               on_reboot=None, devices=""):
    """The guest fixture doing @action (tests/guest/README.md); @kernel
    replaces its kernel (then without the initrd); @devices is more
    device XML."""
    g = guest_dir()
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    cmdline = f"console=ttyS0 quiet dvaction={action} {extra_cmdline}".strip()
    initrd = "" if kernel else f"<initrd>{g / 'initramfs.cpio.gz'}</initrd>"
    reboot_el = f"\n  <on_reboot>{on_reboot}</on_reboot>" if on_reboot else ""
    return f"""<domain type='kvm'>
  <name>{name}</name>{uuid_el}
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>{kernel or g / 'vmlinuz'}</kernel>{initrd}
    <cmdline>{cmdline}</cmdline>
  </os>{reboot_el}
  <devices>
    <serial type='pty'/>
    <console type='pty'/>{devices}
  </devices>
</domain>
"""


_loop_lock = threading.Lock()
_loop_started = False


@pytest.fixture(scope="module")
def libvirt():
    """python3-libvirt with its default event loop running in a thread
    (started once per process, whichever module asks first)."""
    global _loop_started
    needs_real_kvm()
    import libvirt as lv
    with _loop_lock:
        if not _loop_started:
            lv.registerErrorHandler(lambda ctx, err: None, None)
            lv.virEventRegisterDefaultImpl()

            def run():
                while True:
                    lv.virEventRunDefaultImpl()

            threading.Thread(target=run, daemon=True).start()
            _loop_started = True
    return lv


def dump_logs(d, names=None):
    """Prints a daemon's domain logs, or those of the domains @names
    (pytest shows them when the test fails)."""
    for p in sorted(d.log_dir.glob("*.log")):
        if names is None or p.name.split(".")[0] in names:
            print(f"--- {p.name} ---\n{p.read_text(errors='replace')[-3000:]}")


def serve(d):
    """Yields the daemon @d; then its logs, and it must still be alive and
    stop cleanly; its VMMs are killed in any case."""
    yield d
    alive = d.alive()
    dump_logs(d)
    try:
        assert alive, "virtduvisord died:\n" + d.log()
        d.check_clean_exit()
    finally:
        if d.alive():
            d.stop(signal.SIGKILL)
        d.kill_vmms()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, libvirt):
    yield from serve(dvd.Daemon(tmp_path_factory.mktemp("system"),
                                vmm=vmm_binary(), config_text=VMM_USER_CONFIG))


@pytest.fixture
def fresh_daemon(tmp_path, libvirt):
    """Builds daemons of their own (default: the real VMM); each is
    stopped and its VMMs killed at the end of the test."""
    made = []

    def make(**kwargs):
        kwargs.setdefault("vmm", vmm_binary())
        kwargs.setdefault("config_text", VMM_USER_CONFIG)
        d = dvd.Daemon(tmp_path / f"d{len(made)}", **kwargs)
        made.append(d)
        return d

    yield make
    for d in made:
        dump_logs(d)
        if d.proc and d.proc.poll() is None:
            d.stop(signal.SIGKILL)
        d.kill_vmms()


@pytest.fixture
def conn(daemon, libvirt):
    c = libvirt.open(daemon.uri)
    yield c
    # The module's daemon shows its logs only at the end of the module.
    dump_logs(daemon, [dom.name() for dom in c.listAllDomains()])
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


def vmm_pid(d, name):
    """The pid of the VMM that runs domain @name now (its log's last)."""
    log = (d.log_dir / f"{name}.log").read_text(errors="replace")
    pids = re.findall(r"duvisor-vmm pid (\d+)", log)
    assert pids, log
    return int(pids[-1])


def running(pid):
    """True while process @pid exists and is no zombie (an orphaned VMM
    may wait for a reaper that never comes in the test host)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_not_running(pid, timeout=30):
    deadline = time.monotonic() + timeout
    while running(pid):
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.05)


def vmm_control(d, dom):
    """A client of the control socket the daemon made for @dom's VMM; long
    paths are reached through their directory, as the daemon does."""
    path = d.state / "control" / f"{dom.UUIDString()}.sock"
    dirfd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        return dvcontrol.Client(f"/proc/self/fd/{dirfd}/{path.name}",
                                timeout=10)
    finally:
        os.close(dirfd)


def vmm_status(d, dom):
    """The VMM's own status fields (state, boots, sandbox...)."""
    c = vmm_control(d, dom)
    try:
        ok, fields = c.request("status")
        assert ok, fields
        return fields
    finally:
        c.close()


def vmm_wrapper(name, before_exec="", vmm_args=""):
    """A script the daemon can run as its VMM: runs @before_exec, then
    duvisor-vmm with @vmm_args first.  In a directory of its own that
    nobody (the VMMs' user) may enter: pytest's are private."""
    import stat
    import tempfile
    d = tempfile.mkdtemp(prefix="dv-vmm-")
    os.chmod(d, 0o755)
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\n{before_exec}\nexec {vmm_binary()} {vmm_args} \"$@\"\n")
    os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP |
             stat.S_IROTH | stat.S_IXOTH)
    return path
