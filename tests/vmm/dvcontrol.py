# SPDX-License-Identifier: GPL-2.0-or-later
"""A client of the duvisor-vmm control protocol (docs/control-protocol.md),
independent of the C codec so that the tests check the wire format too."""
import os
import pathlib
import select
import socket
import struct
import time

MAGIC = 0x54435644
VERSION = 1
HEADER = struct.Struct("<IHHII")
MAX_MESSAGE = 4096

REQUESTS = {
    "hello": 1, "status": 2, "pause": 3, "resume": 4, "powerdown": 5,
    "reset": 6, "quit": 7, "balloon-set": 8, "balloon-stats": 9,
    "block-stats": 10,
    "test-forbidden-syscall": 0x7F00,
}
REPLY_OK = 0x8000
REPLY_ERROR = 0x8001
EVENT = 0x8100


def encode(mtype, mid=0, payload=b"", magic=MAGIC, version=VERSION, length=None):
    if isinstance(payload, dict):
        payload = "".join(f"{k}={v}\n" for k, v in payload.items()).encode()
    if length is None:
        length = len(payload)
    return HEADER.pack(magic, version, mtype, mid, length) + payload


def decode(data):
    magic, version, mtype, mid, length = HEADER.unpack_from(data)
    assert magic == MAGIC and version == VERSION, data[:16]
    payload = data[HEADER.size:]
    assert len(payload) == length, (length, len(payload))
    fields = {}
    for line in payload.decode().splitlines():
        key, _, value = line.partition("=")
        fields.setdefault(key, value)
    return mtype, mid, fields


def ctl_binary():
    path = os.environ.get("DUVISOR_CTL")
    if path:
        return path
    vmm = pathlib.Path(os.environ.get("DUVISOR_VMM", "build/src/vmm/duvisor-vmm"))
    return str(vmm.resolve().parents[2] / "tools" / "duvisor-ctl")


class Client:
    """One connection: requests with replies; notifications are kept."""

    def __init__(self, path=None, sock=None, timeout=60):
        self.events = []
        self._next_id = 100
        if sock is not None:
            self.sock = sock
            return
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                s.connect(str(path))
                self.sock = s
                return
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.send(data)

    def recv(self, timeout=60):
        """The next message as (type, id, fields); None on hang-up."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            raise AssertionError(f"no message from the VMM within {timeout}s")
        try:
            data = self.sock.recv(MAX_MESSAGE + 1)
        except ConnectionResetError:
            return None
        if not data:
            return None
        return decode(data)

    def reply(self, mid=None, timeout=60):
        """The next reply (events before it are kept in self.events)."""
        while True:
            msg = self.recv(timeout)
            if msg is None:
                raise AssertionError("the VMM hung up before replying")
            if msg[0] == EVENT:
                self.events.append(msg[2])
                continue
            if mid is None or msg[1] == mid:
                return msg

    def request(self, name, **fields):
        """Sends a request; returns (ok, fields of the reply)."""
        self._next_id += 1
        self.send_raw(encode(REQUESTS[name], self._next_id, fields))
        mtype, _, reply = self.reply(self._next_id)
        return mtype == REPLY_OK, reply

    def wait_event(self, event, timeout=240, **match):
        """Waits for a notification event=EVENT (whose fields include match)."""
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if ev.get("event") == event and all(ev.get(k) == v for k, v in match.items()):
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no event {event} {match}; got {self.events}")
            msg = self.recv(left)
            if msg is None:
                raise AssertionError(f"hang-up before event {event}; got {self.events}")
            if msg[0] == EVENT:
                self.events.append(msg[2])
