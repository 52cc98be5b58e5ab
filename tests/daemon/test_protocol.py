# SPDX-License-Identifier: GPL-2.0-or-later
"""virtduvisord with raw packets: keepalive, errors, garbage, pipelining."""
import os
import socket
import time

import pytest

import rawrpc as rpc
from rawrpc import RawClient

VIR_ERR_NO_SUPPORT = 3
VIR_ERR_OPERATION_DENIED = 29
VIR_ERR_OPERATION_INVALID = 55
VIR_ERR_RPC = 39
VIR_FROM_DOMAIN = 20


def test_handshake(daemon):
    with RawClient(daemon.sock) as c:
        body = c.call_ok(rpc.AUTH_LIST)
        assert body == rpc.u32(1) + rpc.u32(0)
        for feature, want in ((10, 1), (14, 1), (15, 1), (9, 1), (8, 0), (999, 0)):
            body = c.call_ok(rpc.SUPPORTS_FEATURE, rpc.i32(feature))
            assert rpc.Reader(body).i32() == want, feature
        c.open()
        assert rpc.Reader(c.call_ok(rpc.GET_TYPE)).string() == "DuVisor"
        c.call_ok(rpc.CLOSE)


def test_ping_pong(daemon):
    with RawClient(daemon.sock) as c:
        c.send(rpc.packet(rpc.KEEPALIVE, rpc.PING, rpc.MESSAGE, 0))
        hdr, body = c.recv()
        assert hdr == (rpc.KEEPALIVE, 1, rpc.PONG, rpc.MESSAGE, 0, rpc.OK)
        assert body == b""


def test_call_before_open(daemon):
    with RawClient(daemon.sock) as c:
        code, *_ = c.call_error(rpc.GET_HOSTNAME)
        assert code == VIR_ERR_OPERATION_INVALID


def test_unknown_procedure(daemon):
    with RawClient(daemon.sock) as c:
        c.open()
        code, domain, message, level = c.call_error(9999)
        assert (code, domain, level) == (VIR_ERR_NO_SUPPORT, VIR_FROM_DOMAIN, 2)
        assert "9999" in message
        # Another program (e.g. QEMU's) gets an error reply, not a hang.
        c.send(rpc.packet(0x20008087, 1, rpc.CALL, 77))
        hdr, body = c.recv()
        assert hdr[3:] == (rpc.REPLY, 77, rpc.ERROR)
        assert rpc.decode_error(body)[0] == VIR_ERR_NO_SUPPORT
        assert rpc.Reader(c.call_ok(rpc.GET_HOSTNAME)).string()


def test_truncated_arguments(daemon):
    with RawClient(daemon.sock) as c:
        code, *_ = c.call_error(rpc.OPEN, rpc.u32(1) + rpc.u32(100))
        assert code == VIR_ERR_RPC
        c.open()


def test_readonly_denial(daemon):
    """A mutating procedure on the read-only socket is denied, once it
    exists; until then it is unsupported on both sockets."""
    xml = rpc.xdr_string("<domain")
    with RawClient(daemon.sock) as rw, RawClient(daemon.ro_sock) as ro:
        rw.open()
        ro.open(readonly=True)
        rw_code = rw.call_error(rpc.DOMAIN_DEFINE_XML, xml)[0]
        ro_code = ro.call_error(rpc.DOMAIN_DEFINE_XML, xml)[0]
        if rw_code == VIR_ERR_NO_SUPPORT:
            assert ro_code == VIR_ERR_NO_SUPPORT
        else:
            assert ro_code == VIR_ERR_OPERATION_DENIED
        # Read-only procedures work.
        assert rpc.Reader(ro.call_ok(rpc.GET_HOSTNAME)).string()


def test_socket_permissions(daemon):
    assert daemon.sock.stat().st_mode & 0o777 == 0o600
    assert daemon.ro_sock.stat().st_mode & 0o777 == 0o666


@pytest.mark.parametrize("data", [
    b"\x00\x00\x00\x05hello",                      # length below a header
    b"\x00\x00\x00\x00",                            # zero length
    b"\x02\x00\x00\x05" + b"\0" * 24,               # 4 + 32 MiB + 1
    b"\xff\xff\xff\xff" + b"\0" * 24,
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
], ids=["short", "zero", "oversized", "huge", "http"])
def test_garbage_closes_only_that_client(daemon, libvirt_mod, data):
    conn = libvirt_mod.open(daemon.uri)
    try:
        with RawClient(daemon.sock) as bad:
            bad.send(data)
            assert bad.wait_closed()
        assert conn.getHostname()
        assert daemon.alive()
    finally:
        conn.close()


def test_garbage_headers_keep_connection(daemon):
    with RawClient(daemon.sock) as c:
        c.open()
        # Unknown packet type and a reply from the client: ignored.
        c.send(rpc.packet(rpc.PROGRAM, 3, 99, 5))
        c.send(rpc.packet(rpc.PROGRAM, 3, rpc.REPLY, 6))
        # Stream data for no stream: ignored.
        c.send(rpc.packet(rpc.PROGRAM, 201, rpc.STREAM, 7, rpc.CONTINUE, b"x"))
        # Wrong version, bad status: error replies.
        c.send(rpc.packet(rpc.PROGRAM, 3, rpc.CALL, 8, vers=2))
        hdr, _ = c.recv()
        assert hdr[3:] == (rpc.REPLY, 8, rpc.ERROR)
        c.send(rpc.packet(rpc.PROGRAM, 3, rpc.CALL, 9, status=rpc.ERROR))
        hdr, _ = c.recv()
        assert hdr[3:] == (rpc.REPLY, 9, rpc.ERROR)
        # File descriptor passing is not offered.
        c.send(rpc.packet(rpc.PROGRAM, 3, rpc.CALL_WITH_FDS, 10, payload=rpc.u32(0)))
        hdr, body = c.recv()
        assert hdr[3:] == (rpc.REPLY, 10, rpc.ERROR)
        assert rpc.decode_error(body)[0] == VIR_ERR_NO_SUPPORT
        assert rpc.Reader(c.call_ok(rpc.GET_TYPE)).string() == "DuVisor"


def test_incomplete_huge_packet(daemon, libvirt_mod):
    """A peer that announces the largest packet and stops half way."""
    conn = libvirt_mod.open(daemon.uri)
    try:
        with RawClient(daemon.sock) as c:
            c.send(rpc.u32(4 + 32 * 1024 * 1024) + b"\0" * (4 * 1024 * 1024))
            assert conn.getHostname()
        assert conn.getHostname()
    finally:
        conn.close()


def test_largest_packet_accepted(daemon):
    """A packet of exactly the maximum length is read (and refused as an
    unknown procedure), not treated as garbage."""
    with RawClient(daemon.sock, timeout=30) as c:
        c.open()
        payload = b"\0" * (32 * 1024 * 1024 - 24)
        c.send(rpc.packet(rpc.PROGRAM, 9998, rpc.CALL, 50, payload=payload))
        hdr, body = c.recv()
        assert hdr[3:] == (rpc.REPLY, 50, rpc.ERROR)
        assert rpc.decode_error(body)[0] == VIR_ERR_NO_SUPPORT


def test_pipelined_calls(daemon):
    with RawClient(daemon.sock) as c:
        c.open()
        serials = {c.call_async(rpc.GET_TYPE) for _ in range(300)}
        seen = set()
        while seen != serials:
            hdr, body = c.recv()
            assert hdr[2] == rpc.GET_TYPE and hdr[5] == rpc.OK
            assert hdr[4] in serials
            seen.add(hdr[4])


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_client_that_never_reads(daemon, libvirt_mod):
    """Calls pile up without their replies being read: the daemon stops
    reading from that client instead of buffering without bound, and other
    clients keep being served."""
    hog = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hog.connect(str(daemon.sock))
    hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    hog.setblocking(False)
    call = b"".join(rpc.packet(rpc.PROGRAM, rpc.GET_CAPABILITIES, rpc.CALL, s)
                    for s in range(1, 101))
    opener = rpc.packet(rpc.PROGRAM, rpc.OPEN, rpc.CALL, 0,
                        payload=rpc.xdr_optstring(None) + rpc.u32(0))
    pending = opener + call * 400                  # 40,000 calls
    before = rss_kib(daemon.proc.pid)
    deadline = time.monotonic() + 5
    while pending and time.monotonic() < deadline:
        try:
            n = hog.send(pending)
            pending = pending[n:]
        except BlockingIOError:
            time.sleep(0.05)
    assert pending, "the daemon read every call without anyone reading replies"
    conn = libvirt_mod.open(daemon.uri)
    try:
        assert conn.getHostname()
    finally:
        conn.close()
    grown = rss_kib(daemon.proc.pid) - before
    assert grown < 256 * 1024, f"daemon grew by {grown} KiB"
    hog.close()
    assert daemon.alive()


def test_many_connections(daemon):
    clients = [RawClient(daemon.sock) for _ in range(100)]
    try:
        for c in clients:
            c.open()
        for c in clients:
            assert rpc.Reader(c.call_ok(rpc.GET_TYPE)).string() == "DuVisor"
    finally:
        for c in clients:
            c.close()
