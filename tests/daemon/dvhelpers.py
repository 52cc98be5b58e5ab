# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for tests that drive virtduvisord with python3-libvirt
(tests/daemon, and tests/system with real guests): an event recorder, a
console stream reader, state waits, libvirt error codes.  The
connection's event loop must run (the event_loop fixture of
tests/daemon/conftest.py, the libvirt fixture of
tests/system/sysfixtures.py)."""
import gc
import threading
import time

from pytest import raises as _raises


class Events:
    """Lifecycle and reboot events seen by one connection."""

    def __init__(self, libvirt, uri):
        self.libvirt = libvirt
        self.conn = libvirt.open(uri)
        self.seen = []
        self.cond = threading.Condition()
        self.ids = [
            self.conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle, None),
            self.conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, self._reboot, None),
        ]

    def _lifecycle(self, conn, dom, event, detail, opaque):
        with self.cond:
            self.seen.append((dom.name(), event, detail))
            self.cond.notify_all()

    def _reboot(self, conn, dom, opaque):
        with self.cond:
            self.seen.append((dom.name(), "reboot"))
            self.cond.notify_all()

    def of(self, name, defines=False):
        """Events about @name; without defines, no DEFINED/UNDEFINED."""
        skip = () if defines else (self.libvirt.VIR_DOMAIN_EVENT_DEFINED,
                                   self.libvirt.VIR_DOMAIN_EVENT_UNDEFINED)
        with self.cond:
            return [e[1:] for e in self.seen
                    if e[0] == name and e[1] not in skip]

    def wait(self, name, count, timeout=30, defines=False):
        with self.cond:
            self.cond.wait_for(
                lambda: len(self.of(name, defines)) >= count, timeout=timeout)
        return self.of(name, defines)

    def close(self):
        for i in self.ids:
            self.conn.domainEventDeregisterAny(i)
        self.conn.close()


def wait_state(dom, state, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if dom.state()[0] == state:
                return dom.state()
        except Exception:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{dom.name()} not in state {state}: {dom.state()}")


def wait_gone(conn, name, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if name not in [d.name() for d in conn.listAllDomains()]:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} is still there")


class StreamReader:
    """Reads a console stream in the background."""

    def __init__(self, libvirt, conn, dom, flags=0):
        self.st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        dom.openConsole(None, self.st, flags)
        self.buf = b""
        self.eof = False
        self.cond = threading.Condition()
        self.st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE |
                                 libvirt.VIR_STREAM_EVENT_HANGUP |
                                 libvirt.VIR_STREAM_EVENT_ERROR, self._cb, None)

    def _cb(self, st, events, opaque):
        while True:
            try:
                data = st.recv(65536)
            except Exception:
                data = b""
            with self.cond:
                if data == -2:
                    return
                if not data:
                    self.eof = True
                    self.cond.notify_all()
                    try:
                        st.eventRemoveCallback()
                    except Exception:
                        pass
                    return
                self.buf += data
                self.cond.notify_all()

    def wait_for(self, text, timeout=20):
        with self.cond:
            ok = self.cond.wait_for(lambda: text.encode() in self.buf or self.eof,
                                    timeout=timeout)
            assert ok and text.encode() in self.buf, self.buf[-500:]

    def wait_eof(self, timeout=20):
        with self.cond:
            assert self.cond.wait_for(lambda: self.eof, timeout=timeout)

    def send(self, text):
        self.st.send(text.encode())

    def close(self):
        try:
            self.st.eventRemoveCallback()
        except Exception:
            pass
        try:
            self.st.abort()
        except Exception:
            pass


def error_code(libvirt, fn, *args):
    """The libvirt error code of the failing call fn(*args), which must
    come from the daemon, not from the client's RPC layer."""
    # python-libvirt builds libvirtError from the thread's last error after
    # the call returns; a garbage collection in between may free a cyclic
    # virDomain whose virDomainFree() resets that error.  Collect first and
    # keep the collector off for the call.
    gc.collect()
    gc.disable()
    try:
        with _raises(libvirt.libvirtError) as e:
            fn(*args)
    finally:
        gc.enable()
    assert e.value.get_error_domain() not in (libvirt.VIR_FROM_REMOTE,
                                              libvirt.VIR_FROM_RPC), e.value
    return e.value.get_error_code()
