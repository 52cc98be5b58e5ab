# SPDX-License-Identifier: GPL-2.0-or-later
"""SIGHUP (systemctl reload): virtduvisord reads its configuration file and
the persistent domain definitions again, keeps its clients, tells systemd
(RELOADING=1, READY=1 on NOTIFY_SOCKET), and refuses a broken file.  Also
the log outputs (log_outputs), which a reload changes.  The journal itself
is checked under systemd in tests/systemd."""
import os
import re
import signal
import socket
import stat
import uuid as uuidlib
import xml.etree.ElementTree as ET

import pytest

from conftest import virsh
from rawrpc import RawClient
from test_domains import domain_xml

GET_HOSTNAME = 59               # REMOTE_PROC_CONNECT_GET_HOSTNAME


class Notifications:
    """The datagrams of sd_notify() on our own NOTIFY_SOCKET."""

    def __init__(self, tmp_path):
        self.path = tmp_path / "notify"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.settimeout(30)

    def env(self):
        return {"NOTIFY_SOCKET": str(self.path)}

    def next(self):
        return dict(line.split("=", 1) for line in
                    self.sock.recv(4096).decode().splitlines())

    def wait_for(self, key):
        while True:
            msg = self.next()
            if key in msg:
                return msg

    def close(self):
        self.sock.close()


@pytest.fixture
def notify(tmp_path):
    n = Notifications(tmp_path)
    yield n
    n.close()


def reload(d, notify):
    """SIGHUP, and what the daemon told systemd when done."""
    d.proc.send_signal(signal.SIGHUP)
    start = notify.wait_for("RELOADING")
    assert start["RELOADING"] == "1"
    assert int(start["MONOTONIC_USEC"]) > 0
    done = notify.wait_for("READY")
    assert done["READY"] == "1"
    assert d.alive(), d.log()
    return done["STATUS"]


def started(make, notify, config_text="", verbose=True, **kwargs):
    d = make(start=False, config_text=config_text,
             env=notify.env(), **kwargs)
    if not verbose:
        d.args.remove("--verbose")
    d.start()
    assert notify.wait_for("READY")["READY"] == "1"
    return d


def test_reload_keeps_daemon_and_clients(fresh_daemon, notify, event_loop):
    libvirt = event_loop
    d = started(fresh_daemon, notify, 'hypervisor_version = "1.2.3"\n')
    pid = d.proc.pid
    conn = libvirt.open(d.uri)
    raw = RawClient(d.sock)
    try:
        raw.open()
        assert conn.getVersion() == 1002003
        d.config.write_text('hypervisor_version = "4.5.6"\n')
        status = reload(d, notify)
        assert status == f"Configuration reloaded from {d.config}", status
        # The same process, the same connections, the new setting.
        assert d.proc.pid == pid and d.alive()
        assert conn.isAlive() == 1
        assert conn.getVersion() == 4005006
        assert conn.getHostname()
        raw.call_ok(GET_HOSTNAME)
    finally:
        raw.close()
        conn.close()
    log = d.log()
    assert "reloading on SIGHUP" in log
    assert f"configuration reloaded from {d.config}" in log
    d.check_clean_exit()


def new_lines(d, seen):
    log = d.log()
    return log[seen:], len(log)


def test_reload_changes_log_level(fresh_daemon, notify):
    d = started(fresh_daemon, notify, 'log_level = "warning"\n',
                verbose=False)
    virsh(d.uri, "hostname")
    out, seen = new_lines(d, 0)
    assert " debug: " not in out and " info: " not in out, out
    # libvirt's numbers: 1 is debug.
    d.config.write_text("log_level = 1\n")
    reload(d, notify)
    virsh(d.uri, "hostname")
    out, seen = new_lines(d, seen)
    assert "configuration reloaded" in out and "(log level debug, to stderr)" in out
    assert re.search(r" debug: client \d+: call DV_PROC_CONNECT_GET_HOSTNAME",
                     out), out
    d.config.write_text('log_level = "error"\n')
    reload(d, notify)
    virsh(d.uri, "hostname")
    out, seen = new_lines(d, seen)
    # What came after the reload of "error": nothing below it.
    after = out.split("reloading on SIGHUP", 1)[1].split("\n", 1)[1]
    assert " debug: " not in after and " info: " not in after, after
    d.check_clean_exit()


def test_broken_config_refused_old_one_kept(fresh_daemon, notify):
    good = 'hypervisor_version = "8.2.1"\nlog_level = "info"\n'
    d = started(fresh_daemon, notify, good, verbose=False)
    d.config.write_text('hypervisor_version = "9.0.0"\nlog_level = "loud"\n')
    status = reload(d, notify)
    assert status.startswith("Reload refused: ") and \
        f"{d.config}:2: log_level: unknown log level" in status, status
    log = d.log()
    assert (f"error: reload refused, the configuration in effect stays: "
            f"{d.config}:2: log_level: unknown log level") in log, log
    # Nothing of the broken file applies, not even its valid first line.
    assert "Running hypervisor: DuVisor 8.2.1" in virsh(d.uri, "version").stdout
    assert " debug: " not in d.log()
    # A missing file is refused the same way.
    d.config.unlink()
    status = reload(d, notify)
    assert status.startswith("Reload refused: ") and str(d.config) in status
    assert "Running hypervisor: DuVisor 8.2.1" in virsh(d.uri, "version").stdout
    # Mended, it applies.
    d.config.write_text('hypervisor_version = "9.0.0"\n')
    assert reload(d, notify).startswith("Configuration reloaded")
    assert "Running hypervisor: DuVisor 9.0.0" in virsh(d.uri, "version").stdout
    d.check_clean_exit()


def test_reload_changes_client_limits(fresh_daemon, notify):
    d = started(fresh_daemon, notify, "max_clients = 5\n")
    clients = [RawClient(d.sock) for _ in range(3)]
    try:
        for c in clients:
            c.open()
        d.config.write_text("max_clients = 2\n")
        reload(d, notify)
        # Connected clients stay beyond the new limit; new ones wait for
        # room.
        for c in clients:
            c.call_ok(GET_HOSTNAME)
        with RawClient(d.sock) as extra:
            assert extra.wait_closed()
        assert "too many clients (3), refusing one" in d.log()
        d.config.write_text("max_clients = 10\n")
        reload(d, notify)
        with RawClient(d.sock) as extra:
            extra.open()
            extra.call_ok(GET_HOSTNAME)
    finally:
        for c in clients:
            c.close()
    d.check_clean_exit()


def test_restart_only_settings_named_and_kept(fresh_daemon, notify):
    d = started(fresh_daemon, notify)
    d.config.write_text('unix_sock_rw_perms = "0666"\n'
                        'storage_uri = ""\n'
                        'hypervisor_version = "3.0.0"\n')
    assert reload(d, notify).startswith("Configuration reloaded")
    assert ("warning: changed settings kept until the daemon restarts: "
            "unix_sock_rw_perms, storage_uri") in d.log()
    assert stat.S_IMODE(d.sock.stat().st_mode) == 0o600
    # The rest of the file applies.
    assert "DuVisor 3.0.0" in virsh(d.uri, "version").stdout
    d.check_clean_exit()


def test_command_line_stays_over_the_file(fresh_daemon, notify):
    """--verbose and the paths of the command line win over the file at
    a reload as at the start."""
    d = started(fresh_daemon, notify)
    d.config.write_text('log_level = "error"\nconfig_dir = "/nonexistent"\n')
    reload(d, notify)
    log = d.log()
    assert "config_dir" not in log.split("reloading on SIGHUP", 1)[1]
    virsh(d.uri, "hostname")
    assert "call DV_PROC_CONNECT_GET_HOSTNAME" in d.log().split(
        "configuration reloaded", 1)[1]
    d.check_clean_exit()


def inactive_memory_kib(dom, libvirt):
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    return int(root.findtext("memory"))


def test_reload_reads_domain_definitions(fresh_daemon, notify, event_loop):
    """As libvirt's daemons on SIGHUP: new files define domains, changed
    files replace definitions, autostart follows the links; unreadable
    files and removed files change nothing."""
    from dvhelpers import Events

    libvirt = event_loop
    d = started(fresh_daemon, notify)
    conn = libvirt.open(d.uri)
    events = Events(libvirt, d.uri)
    try:
        kept = conn.defineXML(domain_xml("vm-kept", memory_mib=128))
        changed = conn.defineXML(domain_xml("vm-changed", memory_mib=128))
        broken = conn.defineXML(domain_xml("vm-broken", memory_mib=128))
        gone = conn.defineXML(domain_xml("vm-gone", memory_mib=128))
        cfg = d.config_dir
        # An administrator edits the files.
        (cfg / "vm-changed.xml").write_text(domain_xml(
            "vm-changed", uuid=changed.UUIDString(), memory_mib=512))
        new_uuid = str(uuidlib.uuid4())
        (cfg / "vm-new.xml").write_text(domain_xml("vm-new", uuid=new_uuid))
        (cfg / "vm-broken.xml").write_text("<domain type='kvm'><name>")
        (cfg / "vm-gone.xml").unlink()
        (cfg / "autostart").mkdir(exist_ok=True)
        os.symlink(cfg / "vm-kept.xml", cfg / "autostart" / "vm-kept.xml")
        status = reload(d, notify)
        assert status.startswith("Configuration reloaded"), status

        assert inactive_memory_kib(changed, libvirt) == 512 * 1024
        assert inactive_memory_kib(kept, libvirt) == 128 * 1024
        assert inactive_memory_kib(broken, libvirt) == 128 * 1024
        new = conn.lookupByName("vm-new")
        assert new.UUIDString() == new_uuid and new.isPersistent() == 1
        assert kept.autostart() == 1 and changed.autostart() == 0
        assert gone.isPersistent() == 1 and \
            "vm-gone" in [x.name() for x in conn.listAllDomains()]
        # Nothing was started.
        assert conn.numOfDomains() == 0

        E = libvirt
        assert events.wait("vm-new", 1, defines=True) == \
            [(E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED)]
        assert (E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_UPDATED) \
            in events.wait("vm-changed", 2, defines=True)
        log = d.log()
        assert "domain 'vm-new' defined (reload)" in log
        assert "domain 'vm-changed': definition reloaded" in log
        assert re.search(r"warning: skipping \S*vm-broken\.xml: ", log), log
        assert "domain definition(s) read again: 1 new, 1 changed" in log
        # The unchanged one got no event of the reload.
        assert events.of("vm-kept", defines=True) == \
            [(E.VIR_DOMAIN_EVENT_DEFINED, E.VIR_DOMAIN_EVENT_DEFINED_ADDED)]
    finally:
        events.close()
        conn.close()
    d.check_clean_exit()


def test_reload_refuses_clashing_definition(fresh_daemon, notify, libvirt_mod):
    d = started(fresh_daemon, notify)
    conn = libvirt_mod.open(d.uri)
    try:
        a = conn.defineXML(domain_xml("vm-a"))
        # Another name with vm-a's UUID.
        (d.config_dir / "vm-b.xml").write_text(
            domain_xml("vm-b", uuid=a.UUIDString()))
        reload(d, notify)
        assert [x.name() for x in conn.listAllDomains()] == ["vm-a"]
        assert ("not reloading the definition of 'vm-b': another domain "
                "has its name or UUID") in d.log()
    finally:
        conn.close()
    d.check_clean_exit()


# ---------------------------------------------------------------------------
# log_outputs


def test_log_outputs_file_and_levels(fresh_daemon, notify, tmp_path):
    first = tmp_path / "logs" / "first.log"
    second = tmp_path / "second.log"
    d = started(fresh_daemon, notify,
                f'log_outputs = "1:file:{first} 4:stderr"\n')
    virsh(d.uri, "hostname")
    text = first.read_text()
    assert "info: DuVisor" in text and "serving duvisor:///system" in text
    assert "debug: client" in text
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    # stderr takes errors only: none so far.
    assert "serving" not in d.log() and " debug: " not in d.log()
    d.config.write_text(f'log_outputs = "2:file:{second}"\n')
    reload(d, notify)
    virsh(d.uri, "hostname")
    assert (f"configuration reloaded from {d.config} (log level debug, "
            f"to file:{second} (info and above))") in second.read_text()
    assert " debug: " not in second.read_text()
    # The first file no longer grows.
    assert "configuration reloaded" not in first.read_text()
    # An output that cannot be opened is refused like any error.
    d.config.write_text(f'log_outputs = "file:{d.config}/x.log"\n')
    status = reload(d, notify)
    assert status.startswith("Reload refused: cannot open the log file "), status
    assert "reload refused" in second.read_text()
    d.check_clean_exit()


@pytest.mark.parametrize("spec, why", [
    ("syslog:virtduvisord", "expected journald, stderr or file:/ABSOLUTE/PATH"),
    ("file:relative.log", "expected journald, stderr or file:/ABSOLUTE/PATH"),
    ("7:stderr", "the level must be 1 (debug) to 4 (error)"),
])
def test_bad_log_outputs_refused_at_start(fresh_daemon, spec, why):
    d = fresh_daemon(start=False, config_text=f'log_outputs = "{spec}"\n')
    d.start(wait=False)
    assert d.proc.wait(20) == 1
    assert f'virtduvisord.conf:1: log_outputs: log output "{spec}": {why}' \
        in d.log(), d.log()


def test_journald_output_without_journal(fresh_daemon):
    """Where no journal runs, a journald output writes to stderr rather
    than losing the messages (libsystemd would drop them silently)."""
    if os.path.exists("/run/systemd/journal/socket"):
        pytest.skip("a journal runs here: tests/systemd checks what it gets")
    d = fresh_daemon(config_text='log_outputs = "journald"\n')
    virsh(d.uri, "hostname")
    log = d.log()
    assert "info: DuVisor" in log and "serving duvisor:///system" in log, log
    assert "debug: client" in log
    d.check_clean_exit()
