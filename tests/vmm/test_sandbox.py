# SPDX-License-Identifier: GPL-2.0-or-later
"""Deprivileged start (docs/sandbox.md): every resource handed in as an fd,
an unprivileged uid, seccomp; and what a forbidden system call does."""
import hashlib
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import READY, BOOT_TIMEOUT, ROOT, Vmm, b64, guest_dir, vmm_binary
from dvcontrol import Client

NOBODY = 65534
MIB = 1 << 20
# Forbidden in every thread: the sandbox opens no paths.
SYS_OPENAT = 257


def binaries():
    """The normal build, and the ASan+UBSan one when it was built
    (DUVISOR_VMM_ASAN overrides its path)."""
    out = [pytest.param(None, id="normal")]
    asan = pathlib.Path(os.environ.get("DUVISOR_VMM_ASAN",
                                       ROOT / "build-asan/src/vmm/duvisor-vmm"))
    out.append(pytest.param(str(asan), id="asan", marks=pytest.mark.skipif(
        not asan.exists(), reason="no ASan build")))
    return out


class SocketConsole:
    """The other end of a --console fd:N socket pair."""

    def __init__(self, sock, vm):
        self.sock = sock
        self.vm = vm
        self.data = b""
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self):
        while True:
            try:
                chunk = self.sock.recv(4096)
            except OSError:
                chunk = b""
            with self._cond:
                if not chunk:
                    self._cond.notify_all()
                    return
                self.data += chunk
                self._cond.notify_all()

    def wait_for(self, text, timeout=BOOT_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self._cond:
            while text.encode() not in self.data:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    raise AssertionError(
                        f"{text!r} not on the console:\n"
                        f"{self.data[-3000:].decode(errors='replace')}\n"
                        f"--- stderr ---\n{self.vm.stderr()[-2000:]}")
                self._cond.wait(min(left, 1.0))

    def send(self, text):
        self.sock.sendall(text.encode())


def proc_status(pid):
    fields = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.split()
    return fields


@pytest.fixture
def cleanup():
    things = []
    yield things
    for t in things:
        if isinstance(t, Vmm):
            t.kill()
        else:
            t.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another uid needs root")
@pytest.mark.parametrize("binary", binaries())
def test_boot_with_fds_as_nobody_under_seccomp(binary, tmp_path, cleanup):
    guest = guest_dir()
    image = tmp_path / "disk.img"
    image.write_bytes(b"\xa5" * (4 * MIB))
    kvm = os.open("/dev/kvm", os.O_RDWR)
    kernel = os.open(guest / "vmlinuz", os.O_RDONLY)
    initrd = os.open(guest / "initramfs.cpio.gz", os.O_RDONLY)
    disk = os.open(image, os.O_RDWR)
    console_ours, console_vmm = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    control.bind(str(tmp_path / "control.sock"))
    control.listen(4)
    fds = (kvm, kernel, initrd, disk, console_vmm.fileno(), control.fileno())
    # The guest reads the disk's first MiB, then writes a pattern at 1 MiB.
    cmd = ("echo SUM-READ $(dd if=/dev/vda bs=4096 count=256 2>/dev/null | md5sum); "
           "yes SANDBOXED | head -c 4096 | dd of=/dev/vda bs=4096 seek=256 conv=fsync "
           "2>/dev/null; echo WRITE-DONE")
    cmdline = f"console=ttyS0 quiet dvcmd={b64(cmd)} dvaction=shell"
    args = [binary or vmm_binary(), "--kvm-fd", str(kvm), "--kernel-fd", str(kernel),
            "--initrd-fd", str(initrd), "--disk", f"fd={disk}",
            "--console", f"fd:{console_vmm.fileno()}", "--control-fd", str(control.fileno()),
            "--cmdline", cmdline, "--user", str(NOBODY), "--group", str(NOBODY),
            "--sandbox", "on"]
    vm = Vmm(args, console_stdio=False, pass_fds=fds)
    cleanup.append(vm)
    for fd in (kvm, kernel, initrd, disk):
        os.close(fd)
    console_vmm.close()
    control.close()
    console = SocketConsole(console_ours, vm)
    cleanup.append(console_ours)

    console.wait_for(READY)
    console.wait_for("WRITE-DONE")
    expected = hashlib.md5(b"\xa5" * MIB).hexdigest()
    assert f"SUM-READ {expected}".encode() in console.data
    console.wait_for("poweroff")  # the shell banner
    console.send("echo typed-$((40+2))\n")
    console.wait_for("typed-42")

    st = proc_status(vm.proc.pid)
    assert st["Uid"] == [str(NOBODY)] * 4 and st["Gid"] == [str(NOBODY)] * 4
    assert st["Groups"] == []
    assert st["CapEff"] == ["0000000000000000"] and st["CapPrm"] == ["0000000000000000"]
    assert st["NoNewPrivs"] == ["1"] and st["Seccomp"] == ["2"]
    client = Client(tmp_path / "control.sock")
    cleanup.append(client)
    ok, status = client.request("status")
    assert ok and status["sandbox"] == "on" and status["state"] == "running"

    console.send("poweroff\n")
    assert vm.wait_exit() == 0, vm.stderr()
    assert "forbidden" not in vm.stderr()
    data = image.read_bytes()
    assert data[MIB:MIB + 4096] == (b"SANDBOXED\n" * 410)[:4096]


@pytest.mark.parametrize("binary", binaries())
def test_forbidden_syscall_kills_with_a_clear_reason(binary, run_vmm, tmp_path):
    sock = tmp_path / "control.sock"
    vm = run_vmm(action="wait", binary=binary,
                 extra_args=["--control", f"unix:{sock}", "--sandbox", "on",
                             "--test-trigger-forbidden-syscall"])
    client = Client(sock)
    vm.wait_for(READY)
    ok, _ = client.request("test-forbidden-syscall")
    assert ok
    assert vm.wait_exit() == -signal.SIGSYS
    assert f"forbidden system call {SYS_OPENAT}" in vm.stderr()
    assert client.recv() is None  # the manager's connection ends too


def test_sandbox_survives_reboots_and_devices(run_vmm, tmp_path):
    """Rebuilding the machine on a guest reset works inside the sandbox."""
    image = tmp_path / "disk.img"
    image.write_bytes(b"\0" * (4 * MIB))
    vm = run_vmm(action="reboot", cpus=2,
                 extra_args=["--sandbox", "on", "--rng", "--disk", f"path={image}"])
    vm.wait_for(READY, occurrences=2)
    vm.signal(signal.SIGQUIT)
    assert vm.wait_exit() == 0, vm.stderr()
    assert "forbidden" not in vm.stderr()


@pytest.mark.parametrize("args,words", [
    (("--kernel", "x", "--kvm-fd", "987"), ["--kvm-fd", "987", "not open"]),
    (("--kernel-fd", "0", "--kernel", "x"), ["--kernel", "--kernel-fd"]),
    (("--kernel", "x", "--user", "65534"), ["--user and --group"]),
    (("--kernel", "x", "--user", "nobody", "--group", "1"), ["numeric", "nobody"]),
    (("--kernel", "x", "--sandbox", "maybe"), ["--sandbox", "maybe"]),
    (("--kernel", "x", "--control", "tcp:1"), ["control", "tcp:1"]),
    (("--kernel", "x", "--console", "fd:x"), ["console", "fd:x"]),
])
def test_bad_deprivileging_arguments(args, words):
    p = subprocess.run([vmm_binary(), *args], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 1, p
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("duvisor-vmm: error: "), p.stderr
    for w in words:
        assert w in lines[0], p.stderr


def test_control_fd_must_be_a_seqpacket_socket(guest):
    stream, other = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with stream, other:
        p = subprocess.run([vmm_binary(), "--kernel", str(guest / "vmlinuz"),
                            "--control-fd", str(stream.fileno())],
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL, pass_fds=(stream.fileno(),))
    assert p.returncode == 1, p
    assert "not a SOCK_SEQPACKET socket" in p.stderr
