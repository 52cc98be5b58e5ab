# SPDX-License-Identifier: GPL-2.0-or-later
"""virtio-vsock seen by a real guest (docs/vsock.md).

The guest gets socat (the fixture's vsock-tools archive, appended to its
initramfs) and talks AF_VSOCK; this side is Python on unix sockets. One
boot per way of configuring the device does everything at once, the two
directions running at the same time: the guest connects to host services
(1 MiB echoed back on three connections at once, a service that says
goodbye and closes, a port nobody listens on, another CID), while the host
connects to guest services (1 MiB echoed back, four connections at once, a
service that closes, a port nobody listens on, a malformed request). Data
is compared by MD5 on both ends.
"""
import hashlib
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import READY, Vmm, b64, guest_dir, vmm_binary

MIB = 1 << 20
NOBODY = 65534
CID = 42
# Host services the guest connects to, and guest services the host
# connects to (socat in the guest).
H_ECHO, H_BYE, H_NOBODY = 5000, 5001, 5999
G_ECHO, G_HELLO, G_NOBODY = 1234, 1236, 4321
# Not a multiple of anything the stacks batch by.
BIG = MIB + 4321

GUEST_CMD = f"""
socat -t 300 VSOCK-LISTEN:{G_ECHO},fork EXEC:cat &
socat VSOCK-LISTEN:{G_HELLO},fork SYSTEM:'echo hello-from-guest' &
head -c {BIG} /dev/urandom >/tmp/d
echo G2H-SENT=$(md5sum </tmp/d | cut -c1-32)
p=
for i in 1 2 3; do
  (socat -t 300 -T 300 - VSOCK-CONNECT:2:{H_ECHO} </tmp/d | md5sum | cut -c1-32 >/tmp/r$i) &
  p="$p $!"
done
wait $p
echo G2H-BACK=$(cat /tmp/r1 /tmp/r2 /tmp/r3)
socat -u VSOCK-CONNECT:2:{H_BYE} - ; echo G2H-BYE-RC=$?
socat - VSOCK-CONNECT:2:{H_NOBODY} </dev/null 2>/tmp/e
echo G2H-REFUSED-RC=$? $(grep -c 'reset by peer' /tmp/e)
socat - VSOCK-CONNECT:7:{H_ECHO} </dev/null 2>/tmp/e
echo OTHER-CID-RC=$? $(grep -c 'reset by peer' /tmp/e)
echo VSOCK-GUEST-DONE
"""


def md5(data):
    return hashlib.md5(data).hexdigest()


class HostServices:
    """Unix stream services at UDS_PATH_<port>: an echo server (any
    number of connections, echoing as it reads) and one that says
    goodbye and closes."""

    def __init__(self, base, world_writable=False):
        self.echoed = []          # (bytes echoed, md5) per connection
        self.errors = []
        self._lock = threading.Lock()
        self.socks = []
        for port, handler in ((H_ECHO, self._echo), (H_BYE, self._bye)):
            path = f"{base}_{port}"
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            if world_writable:
                os.chmod(path, 0o666)
            s.listen(16)
            self.socks.append(s)
            threading.Thread(target=self._serve, args=(s, handler), daemon=True).start()

    def _serve(self, sock, handler):
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(handler, conn), daemon=True).start()

    def _run(self, handler, conn):
        try:
            with conn:
                conn.settimeout(300)
                handler(conn)
        except OSError as e:
            with self._lock:
                self.errors.append(repr(e))

    def _echo(self, conn):
        h = hashlib.md5()
        n = 0
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            conn.sendall(chunk)
            h.update(chunk)
            n += len(chunk)
        with self._lock:
            self.echoed.append((n, h.hexdigest()))

    def _bye(self, conn):
        conn.sendall(b"bye-from-host\n")

    def close(self):
        for s in self.socks:
            s.close()


def connect_guest(uds, port, timeout=60):
    """A host client's connection to the guest's port: returns the socket
    and the first line the VMM answered (None: closed instead)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(uds)
    s.sendall(f"CONNECT {port}\n".encode())
    line = b""
    while not line.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            return s, None
        line += c
    return s, line.decode()


def echo_through_guest(uds, data):
    """Sends data to the guest's echo service while reading what comes
    back; returns (OK line, MD5 of the echo, its length)."""
    s, line = connect_guest(uds, G_ECHO, timeout=300)
    with s:
        if line is None:
            return None, None, 0
        err = []

        def writer():
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError as e:
                err.append(e)

        t = threading.Thread(target=writer)
        t.start()
        h = hashlib.md5()
        n = 0
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
        t.join()
        assert not err, err
        return line, h.hexdigest(), n


def wait_guest_listening(uds, vm, timeout=240):
    wait_guest_listening_on(uds, G_HELLO, vm, timeout)


def wait_guest_listening_on(uds, port, vm, timeout=240):
    """The guest's services start with it: retry until one answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s, line = connect_guest(uds, port)
        s.close()
        if line is not None:
            return
        assert vm.proc.poll() is None, vm.stderr()
        time.sleep(1)
    raise AssertionError(f"the guest's services never answered\n{vm.output()[-3000:]}")


def exercise_host_to_guest(uds, vm):
    wait_guest_listening(uds, vm)
    # 1 MiB and a bit, echoed back intact.
    data = os.urandom(BIG)
    line, digest, n = echo_through_guest(uds, data)
    assert line is not None and re.fullmatch(r"OK \d+\n", line), line
    assert int(line.split()[1]) >= 1 << 30    # ports the VMM picks
    assert (n, digest) == (len(data), md5(data))

    # Several connections at once, each its own data.
    blobs = [os.urandom(256 * 1024 + i) for i in range(4)]
    results = [None] * len(blobs)

    def run(i):
        results[i] = echo_through_guest(uds, blobs[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(blobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    for blob, (line, digest, n) in zip(blobs, results):
        assert line is not None and (n, digest) == (len(blob), md5(blob))
    ports = {r[0] for r in results}
    assert len(ports) == len(blobs)           # one local port each

    # The guest's service writes and closes: the data, then EOF.
    s, line = connect_guest(uds, G_HELLO)
    with s:
        assert line is not None and line.startswith("OK ")
        got = b""
        while chunk := s.recv(4096):
            got += chunk
        assert got == b"hello-from-guest\n"

    # Nobody listens there: closed without an OK, at once.
    start = time.monotonic()
    s, line = connect_guest(uds, G_NOBODY)
    s.close()
    assert line is None
    assert time.monotonic() - start < 30

    # Not a request: closed, the guest not bothered.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    with s:
        s.connect(uds)
        s.sendall(b"HELLO 1234\n")
        assert s.recv(64) == b""


def guest_initrd(tmp_path):
    """The fixture's initramfs with socat appended."""
    guest = guest_dir()
    tools = guest / "vsock-tools.cpio.gz"
    if not tools.exists():
        pytest.fail(f"{tools} missing: run tests/guest/build-guest")
    path = tmp_path / "initrd-vsock"
    path.write_bytes((guest / "initramfs.cpio.gz").read_bytes() + tools.read_bytes())
    return path


def run_guest(vm_args, pass_fds=(), command=GUEST_CMD):
    cmdline = f"console=ttyS0 quiet dvcmd={b64(command)} dvaction=wait"
    assert len(cmdline) < 2048
    return Vmm([vmm_binary(), "--kernel", str(guest_dir() / "vmlinuz"),
                "--cmdline", cmdline, "--memory", "256M", *vm_args],
               pass_fds=pass_fds)


def check_guest_side(vm, services):
    vm.wait_for("VSOCK-GUEST-DONE", timeout=600)
    sent = vm.value("G2H-SENT")
    # Three connections, each echoed whole, in both directions.
    assert vm.value("G2H-BACK").split() == [sent] * 3
    assert sorted(services.echoed) == [(BIG, sent)] * 3, services.errors
    assert "bye-from-host" in vm.output()
    assert vm.value("G2H-BYE-RC") == "0"
    # Refused at once with a reset, not a timeout.
    rc, resets = vm.value("G2H-REFUSED-RC").split()
    assert rc != "0" and resets == "1", vm.output()[-2000:]
    rc, resets = vm.value("OTHER-CID-RC").split()
    assert rc != "0" and resets == "1", vm.output()[-2000:]


def stop(vm):
    vm.signal(signal.SIGQUIT)
    assert vm.wait_exit() == 0, vm.stderr()
    # A well-behaved guest never trips the device's protocol checks.
    assert "virtio-vsock" not in vm.stderr(), vm.stderr()
    assert "forbidden" not in vm.stderr(), vm.stderr()


def test_vsock_by_path(tmp_path):
    uds = str(tmp_path / "v.sock")
    services = HostServices(uds)
    vm = run_guest(["--initrd", str(guest_initrd(tmp_path)),
                    "--vsock", f"cid={CID},uds={uds}"])
    try:
        vm.wait_for(READY)
        assert os.path.exists(uds)
        exercise_host_to_guest(uds, vm)
        check_guest_side(vm, services)
        stop(vm)
    finally:
        vm.kill()
        services.close()
    # We bound it, we remove it.
    assert not os.path.exists(uds)


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another uid needs root")
def test_vsock_by_fds_as_nobody_under_seccomp(tmp_path):
    """As a manager starts it: the listener and the directory handed in,
    the VMM running as nobody inside its sandbox. The directory is reached
    through its descriptor only: nobody may not even enter its parent."""
    sockdir = tmp_path / "vsock"
    sockdir.mkdir()
    os.chmod(tmp_path, 0o700)
    os.chmod(sockdir, 0o711)
    uds = str(sockdir / "v.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(uds)
    listener.listen(8)
    services = HostServices(uds, world_writable=True)
    dir_fd = os.open(sockdir, os.O_PATH | os.O_DIRECTORY)
    initrd = os.open(guest_initrd(tmp_path), os.O_RDONLY)
    fds = (listener.fileno(), dir_fd, initrd)
    vm = run_guest(["--initrd-fd", str(initrd),
                    "--vsock", f"cid={CID},uds-fd={listener.fileno()},dir-fd={dir_fd},uds=v.sock",
                    "--user", str(NOBODY), "--group", str(NOBODY), "--sandbox", "on"],
                   pass_fds=fds)
    for fd in (dir_fd, initrd):
        os.close(fd)
    listener.close()
    try:
        vm.wait_for(READY)
        exercise_host_to_guest(uds, vm)
        check_guest_side(vm, services)
        stop(vm)
    finally:
        vm.kill()
        services.close()
    # Sandboxed, the manager removes what it bound.
    assert os.path.exists(uds)


def test_vsock_across_guest_reboot(tmp_path):
    """The host's sockets outlive the machine: after the guest reboots,
    the rebuilt device serves both ways on the same listener. The host's
    answer tells the guest whether to reboot."""
    uds = str(tmp_path / "v.sock")
    service = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    service.bind(f"{uds}_{H_ECHO}")
    service.listen(4)
    service.settimeout(300)
    asked = []

    def answer():
        for word in (b"reboot\n", b"stay\n"):
            try:
                c, _ = service.accept()
            except OSError:
                return
            with c:
                c.settimeout(60)
                asked.append(c.recv(64))
                c.sendall(word)

    threading.Thread(target=answer, daemon=True).start()
    cmd = (f"socat -t 300 VSOCK-LISTEN:{G_ECHO},fork EXEC:cat & "
           f"a=$(echo hi | socat -t 60 - VSOCK-CONNECT:2:{H_ECHO}); echo ANSWER=$a; "
           "[ \"$a\" = reboot ] && reboot -f; echo STAYING")
    vm = run_guest(["--initrd", str(guest_initrd(tmp_path)),
                    "--vsock", f"cid={CID},uds={uds}"], command=cmd)
    try:
        vm.wait_for("STAYING", timeout=600)
        assert vm.count(READY) == 2
        assert asked == [b"hi\n", b"hi\n"]
        assert vm.count("ANSWER=reboot") == 1 and vm.count("ANSWER=stay") == 1
        wait_guest_listening_on(uds, G_ECHO, vm)
        data = os.urandom(300 * 1024)
        line, digest, n = echo_through_guest(uds, data)
        assert line is not None and (n, digest) == (len(data), md5(data))
        stop(vm)
    finally:
        vm.kill()
        service.close()


@pytest.mark.parametrize("spec,words", [
    ("uds=/tmp/x", ["cid="]),
    ("cid=2,uds=/tmp/x", ["cid"]),
    ("cid=4294967295,uds=/tmp/x", ["cid"]),
    ("cid=3", ["uds=", "uds-fd="]),
    ("cid=3,uds=/tmp/x,port=1", ["unknown vsock option 'port'"]),
    ("cid=3,dir-fd=0", ["dir-fd=", "uds=NAME"]),
    ("cid=3,dir-fd=0,uds=a/b", ["dir-fd=", "uds=NAME"]),
    ("cid=3,uds=/tmp/" + "x" * 65, ["socket name"]),
    ("cid=3,uds=/tmp/", ["socket name"]),
])
def test_bad_vsock_options(spec, words):
    p = subprocess.run([vmm_binary(), "--kernel", "x", "--vsock", spec],
                       capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 1, p
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("duvisor-vmm: error: --vsock"), p.stderr
    for w in words:
        assert w in lines[0], p.stderr


def test_vsock_fd_must_be_a_listening_stream_socket(tmp_path):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    kernel = guest_dir() / "vmlinuz"
    with a, b:
        p = subprocess.run([vmm_binary(), "--kernel", str(kernel),
                            "--vsock", f"cid=3,uds-fd={a.fileno()}"],
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL, pass_fds=(a.fileno(),))
    assert p.returncode == 1, p
    assert "not a listening socket" in p.stderr
