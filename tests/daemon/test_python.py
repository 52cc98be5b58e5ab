# SPDX-License-Identifier: GPL-2.0-or-later
"""virtduvisord driven by Debian's python3-libvirt 9.0."""
import concurrent.futures
import socket
import time

import pytest

from dvhelpers import error_code


def test_connection_calls(daemon, libvirt_mod):
    conn = libvirt_mod.open(daemon.uri)
    try:
        assert conn.getType() == "DuVisor"
        assert conn.getLibVersion() >= 8000000
        assert conn.getVersion() > 0
        assert conn.getHostname().split(".")[0] == socket.gethostname().split(".")[0]
        assert conn.getURI() == daemon.uri
        assert conn.isSecure() == 1
        assert conn.isEncrypted() == 0
        assert conn.isAlive() == 1
        info = conn.getInfo()
        assert info[2] > 0 and info[1] > 0
        assert "<capabilities>" in conn.getCapabilities()
        assert conn.listAllDomains() == []
        assert conn.listAllDomains(libvirt_mod.VIR_CONNECT_LIST_DOMAINS_ACTIVE) == []
        assert 1 <= conn.getMaxVcpus(None) <= 254
    finally:
        conn.close()


def test_read_only(daemon, libvirt_mod):
    conn = libvirt_mod.openReadOnly(daemon.ro_uri)
    try:
        assert conn.getHostname()
        assert conn.listAllDomains() == []
    finally:
        conn.close()


def test_unknown_procedure_is_no_support(daemon, libvirt_mod):
    conn = libvirt_mod.open(daemon.uri)
    try:
        assert error_code(libvirt_mod, conn.listAllInterfaces,
                          0) == libvirt_mod.VIR_ERR_NO_SUPPORT
        # The connection is still usable.
        assert conn.getHostname()
    finally:
        conn.close()


def test_bad_uri_refused(daemon, libvirt_mod):
    with pytest.raises(libvirt_mod.libvirtError):
        libvirt_mod.open(f"duvisor:///session?socket={daemon.sock}")


def test_concurrent_clients(daemon, libvirt_mod):
    expected = socket.gethostname()

    def worker(i):
        conn = libvirt_mod.open(daemon.uri)
        try:
            for _ in range(10):
                assert conn.getHostname().split(".")[0] == expected.split(".")[0]
            return conn.listAllDomains()
        finally:
            conn.close()

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(worker, range(20)))
    assert results == [[]] * 20


def test_keepalive_and_close_callback(daemon, event_loop):
    libvirt = event_loop
    conn = libvirt.open(daemon.uri)
    closed = []
    try:
        conn.registerCloseCallback(lambda c, reason, opaque: closed.append(reason),
                                   None)
        # Ping after 1 s of silence, give up after 2 unanswered pings.
        conn.setKeepAlive(1, 2)
        time.sleep(8)
        assert conn.isAlive() == 1
        assert conn.getHostname()
        assert closed == []
        conn.unregisterCloseCallback()
    finally:
        conn.close()


def test_domain_event_callbacks(daemon, event_loop):
    libvirt = event_loop
    conn = libvirt.open(daemon.uri)
    try:
        ids = [conn.domainEventRegisterAny(None, ev, lambda *a: None, None)
               for ev in (libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                          libvirt.VIR_DOMAIN_EVENT_ID_REBOOT)]
        assert len(set(ids)) == 2
        for cb in ids:
            conn.domainEventDeregisterAny(cb)
    finally:
        conn.close()


def test_domain_capabilities(daemon, libvirt_mod):
    conn = libvirt_mod.open(daemon.uri)
    try:
        xml = conn.getDomainCapabilities(None, None, None, None, 0)
        assert "<domainCapabilities>" in xml
        assert error_code(libvirt_mod, conn.getDomainCapabilities, None, None,
                          "no-such-machine", None, 0) in (
            libvirt_mod.VIR_ERR_INVALID_ARG,
            libvirt_mod.VIR_ERR_CONFIG_UNSUPPORTED)
        assert error_code(libvirt_mod, conn.getDomainCapabilities, None, None,
                          None, None, 1) == libvirt_mod.VIR_ERR_INVALID_ARG
    finally:
        conn.close()
