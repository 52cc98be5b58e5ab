# SPDX-License-Identifier: GPL-2.0-or-later
"""Console backends: pty, unix socket, file, and the console log."""
import os
import re
import select
import socket
import time

from conftest import READY, BOOT_TIMEOUT


def read_until(read, text, timeout=BOOT_TIMEOUT):
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunk = read()
        if chunk:
            buf += chunk
            if text.encode() in buf:
                return buf.decode("utf-8", "replace")
        else:
            time.sleep(0.05)
    raise AssertionError(f"{text!r} not seen; got:\n{buf[-3000:]!r}")


def test_pty_console(run_vmm):
    vm = run_vmm(action="shell", extra_args=["--console", "pty"], console_stdio=False)
    deadline = time.monotonic() + 60
    path = None
    while time.monotonic() < deadline and not path:
        m = re.search(r"serial console on (/dev/pts/\d+)", vm.stderr())
        path = m and m.group(1)
        time.sleep(0.1)
    assert path, vm.stderr()
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        def read():
            r, _, _ = select.select([fd], [], [], 0.5)
            try:
                return os.read(fd, 4096) if r else b""
            except BlockingIOError:
                return b""
        read_until(read, READY)
        read_until(read, "poweroff")
        os.write(fd, b"echo via-pty-$((1+1))\n")
        read_until(read, "via-pty-2")
        os.write(fd, b"poweroff\n")
        assert vm.wait_exit() == 0
    finally:
        os.close(fd)


def test_unix_socket_console_and_log(run_vmm, tmp_path):
    sock_path = tmp_path / "console.sock"
    log = tmp_path / "console.log"
    vm = run_vmm(action="shell", console_stdio=False,
                 extra_args=["--console", f"unix:{sock_path}", "--console-log", str(log)])
    deadline = time.monotonic() + 60
    while not sock_path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(sock_path))
    s.setblocking(False)

    def read():
        r, _, _ = select.select([s], [], [], 0.5)
        try:
            return s.recv(4096) if r else b""
        except BlockingIOError:
            return b""
    # Output before the client connected is in the log, not lost.
    read_until(lambda: log.read_bytes(), READY)
    s.sendall(b"echo via-socket-$((2+3))\n")
    read_until(read, "via-socket-5")
    # A second client takes the console over.
    s2 = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s2.connect(str(sock_path))
    s2.setblocking(False)
    time.sleep(0.5)

    def read2():
        r, _, _ = select.select([s2], [], [], 0.5)
        try:
            return s2.recv(4096) if r else b""
        except BlockingIOError:
            return b""
    s2.sendall(b"echo second-$((3+4))\n")
    read_until(read2, "second-7")
    s2.sendall(b"poweroff\n")
    assert vm.wait_exit() == 0
    s.close()
    s2.close()
    assert "second-7" in log.read_text(errors="replace")
    assert not sock_path.exists()


def test_file_console(run_vmm, tmp_path):
    out = tmp_path / "serial.txt"
    vm = run_vmm(extra_args=["--console", f"file:{out}"], console_stdio=False)
    assert vm.wait_exit() == 0
    text = out.read_text(errors="replace")
    assert READY in text and "DUVISOR-GUEST-POWEROFF" in text
