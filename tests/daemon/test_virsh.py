# SPDX-License-Identifier: GPL-2.0-or-later
"""virtduvisord driven by Debian's unmodified virsh (libvirt-clients 9.0)."""
import os
import platform
import re
import socket
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import virsh


def online_cpus():
    text = open("/sys/devices/system/cpu/online").read().strip()
    n = 0
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def mem_total_kib():
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    raise AssertionError("no MemTotal")


def test_version(daemon):
    out = virsh(daemon.uri, "version").stdout
    assert "Using API: DuVisor 9.0.0" in out
    assert re.search(r"Running hypervisor: DuVisor \d+\.\d+\.\d+", out), out


def test_hostname(daemon):
    name = virsh(daemon.uri, "hostname").stdout.strip()
    assert name == socket.gethostname() or \
        name.startswith(socket.gethostname() + ".")


def test_uri(daemon):
    assert virsh(daemon.uri, "uri").stdout.strip() == daemon.uri


def test_nodeinfo(daemon):
    out = virsh(daemon.uri, "nodeinfo").stdout
    info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    info = {k.strip(): v.strip() for k, v in info.items()}
    assert info["CPU model"] == platform.machine()
    assert int(info["CPU(s)"]) == online_cpus()
    assert info["Memory size"] == f"{mem_total_kib()} KiB"
    product = 1
    for key in ("CPU socket(s)", "Core(s) per socket", "Thread(s) per core",
                "NUMA cell(s)"):
        product *= int(info[key])
    assert product == online_cpus()


def test_capabilities(daemon):
    root = ET.fromstring(virsh(daemon.uri, "capabilities").stdout)
    assert root.tag == "capabilities"
    assert root.findtext("host/cpu/arch") == platform.machine()
    types = [d.get("type") for d in root.findall("guest/arch/domain")]
    assert "kvm" in types


def test_list_all_empty(daemon):
    out = virsh(daemon.uri, "list", "--all", "--name").stdout
    assert out.strip() == ""
    out = virsh(daemon.uri, "list", "--all").stdout
    assert "Id" in out and "Name" in out


def test_maxvcpus(daemon):
    n = int(virsh(daemon.uri, "maxvcpus").stdout.strip())
    assert 1 <= n <= 254


def test_readonly_socket(daemon):
    r = virsh(daemon.ro_uri, "hostname", readonly=True)
    assert r.stdout.strip()
    out = virsh(daemon.ro_uri, "list", "--all", readonly=True).stdout
    assert "Name" in out
    assert "opened duvisor:///system read-only" in daemon.log()


def test_unsupported_command(daemon):
    # A procedure we do not implement: a clean error, the daemon lives on.
    r = virsh(daemon.uri, "iface-list", check=False)
    assert r.returncode != 0
    assert "not supported" in r.stderr
    assert daemon.alive()


def test_unknown_domain(daemon):
    r = virsh(daemon.uri, "dominfo", "nosuchvm", check=False)
    assert r.returncode != 0
    assert daemon.alive()


def test_event_registration(daemon):
    # Registers a callback for every event ID, waits, deregisters.
    r = virsh(daemon.uri, "event", "--all", "--timeout", "1", check=False)
    # virsh reports the timeout with status 1.
    assert "events received: 0" in r.stdout, r.stdout + r.stderr
    assert "error" not in r.stderr.lower(), r.stderr


@pytest.mark.slow
def test_idle_client_stays_connected(daemon):
    # virsh pings every 5 s and gives up after ~35 s without answers.
    t0 = time.monotonic()
    r = virsh(daemon.uri, "event", "--all", "--loop", "--timeout", "40",
              timeout=90, check=False)
    assert time.monotonic() - t0 >= 39
    assert "events received: 0" in r.stdout, r.stdout + r.stderr
    assert "error" not in r.stderr.lower()


def test_default_uri_env(daemon):
    env_uri = dict(os.environ, LIBVIRT_DEFAULT_URI=daemon.uri)
    import subprocess
    r = subprocess.run(["virsh", "hostname"], capture_output=True, text=True,
                       env=env_uri, timeout=60)
    assert r.returncode == 0, r.stderr
