# SPDX-License-Identifier: GPL-2.0-or-later
"""A raw libvirt-RPC client for tests: framing, a little XDR, no libvirt."""
import socket
import struct
import time

PROGRAM = 0x20008086
KEEPALIVE = 0x6B656570
CALL, REPLY, MESSAGE, STREAM, CALL_WITH_FDS = 0, 1, 2, 3, 4
OK, ERROR, CONTINUE = 0, 1, 2
PING, PONG = 1, 2

# procedures
OPEN, CLOSE, GET_TYPE, GET_VERSION = 1, 2, 3, 4
NODE_GET_INFO, GET_CAPABILITIES, GET_HOSTNAME = 6, 7, 59
SUPPORTS_FEATURE, AUTH_LIST, DOMAIN_DEFINE_XML = 60, 66, 11
LIST_ALL_DOMAINS = 273


def u32(v):
    return struct.pack(">I", v)


def i32(v):
    return struct.pack(">i", v)


def xdr_string(s):
    b = s.encode()
    return u32(len(b)) + b + b"\0" * (-len(b) % 4)


def xdr_optstring(s):
    return u32(0) if s is None else u32(1) + xdr_string(s)


def packet(prog, proc, ptype, serial, status=OK, payload=b"", vers=1):
    body = struct.pack(">IIiiIi", prog, vers, proc, ptype, serial, status) + payload
    return u32(len(body) + 4) + body


class Reader:
    def __init__(self, data):
        self.data = data
        self.off = 0

    def u32(self):
        v = struct.unpack_from(">I", self.data, self.off)[0]
        self.off += 4
        return v

    def i32(self):
        v = struct.unpack_from(">i", self.data, self.off)[0]
        self.off += 4
        return v

    def string(self):
        n = self.u32()
        s = self.data[self.off:self.off + n].decode()
        self.off += n + (-n % 4)
        return s

    def optstring(self):
        return self.string() if self.u32() else None


def decode_error(payload):
    r = Reader(payload)
    code, domain = r.i32(), r.i32()
    message = r.optstring()
    level = r.i32()
    return code, domain, message, level


class Closed(Exception):
    pass


class RawClient:
    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.serial = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise Closed()
            buf += chunk
        return buf

    def recv(self):
        """Next packet: ((prog, vers, proc, type, serial, status), payload)."""
        length = struct.unpack(">I", self._read(4))[0]
        body = self._read(length - 4)
        return struct.unpack(">IIiiIi", body[:24]), body[24:]

    def call_async(self, proc, payload=b""):
        self.serial += 1
        self.send(packet(PROGRAM, proc, CALL, self.serial, OK, payload))
        return self.serial

    def call(self, proc, payload=b""):
        serial = self.call_async(proc, payload)
        while True:
            hdr, body = self.recv()
            if hdr[0] == PROGRAM and hdr[4] == serial and hdr[3] == REPLY:
                assert hdr[2] == proc
                return hdr[5], body

    def call_ok(self, proc, payload=b""):
        status, body = self.call(proc, payload)
        if status != OK:
            raise AssertionError(f"proc {proc}: error {decode_error(body)}")
        return body

    def call_error(self, proc, payload=b""):
        status, body = self.call(proc, payload)
        assert status == ERROR, f"proc {proc} succeeded"
        return decode_error(body)

    def open(self, readonly=False, name="duvisor:///system"):
        self.call_ok(OPEN, xdr_optstring(name) + u32(1 if readonly else 0))

    def wait_closed(self, timeout=5):
        """True if the server closes the connection within timeout."""
        deadline = time.monotonic() + timeout
        self.sock.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                continue
            except OSError:
                return True
        return False
