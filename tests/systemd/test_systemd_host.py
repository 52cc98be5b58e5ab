# SPDX-License-Identifier: GPL-2.0-or-later
"""virtduvisord under a real systemd (PID 1) and a real systemd-machined,
with real KVM: the KVM test host booted with systemd as init.

  tests/guest/build-guest      # outside, once
  flock /tmp/duvisor-testhost.lock tests/host/run-in-host --systemd -- \\
      /usr/bin/python3 -m pytest -p no:cacheprovider -v tests/systemd

Elsewhere (DUVISOR_SYSTEMD_HOST unset) every test is skipped: they install
units into /run/systemd/system and drive the system instance.

The tests run in order and share state: the host checks, then the units
of packaging/systemd installed with ExecStart pointing into the build tree
(socket activation, Type=notify, journal), then one guest (the fixture of
tests/guest) as a domain of duvisor:///system that outlives a stop of the
daemon.  DUVISOR_DAEMON / DUVISOR_VMM select the binaries (default
build/...; the service unit comes from the daemon's build tree),
DUVISOR_GUEST_DIR the fixture (default $DUVISOR_CACHE/guest).
"""
import fcntl
import json
import os
import pathlib
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BOOT_TIMEOUT = float(os.environ.get("DUVISOR_BOOT_TIMEOUT", "240"))
URI = "duvisor:///system"
UNIT_DIR = pathlib.Path("/run/systemd/system")
UNITS = ("virtduvisord.service", "virtduvisord.socket", "virtduvisord-ro.socket")
RW_SOCKET = "/run/libvirt/virtduvisord-sock"
RO_SOCKET = "/run/libvirt/virtduvisord-sock-ro"
LOG_DIR = pathlib.Path("/var/log/libvirt/duvisor")
DOMAIN = "sd-guest"
CONFIG = pathlib.Path("/etc/libvirt/virtduvisord.conf")

pytestmark = pytest.mark.skipif(
    os.environ.get("DUVISOR_SYSTEMD_HOST") != "1",
    reason="needs the KVM test host with systemd as init: "
           "tests/host/run-in-host --systemd -- python3 -m pytest tests/systemd")


def run(*args, check=True, timeout=120):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, LC_ALL="C", SYSTEMD_PAGER="",
                                SYSTEMD_COLORS="0"))
    if check and p.returncode != 0:
        pytest.fail(f"{' '.join(args)}: exit {p.returncode}\n"
                    f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def virsh(*args, check=True, timeout=120):
    return run("virsh", "-q", "-c", URI, *args, check=check, timeout=timeout)


def unit_props(unit, *props):
    out = run("systemctl", "show", unit, *(f"--property={p}" for p in props)).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def journal(unit):
    return run("journalctl", "--no-pager", "-o", "cat", "-u", unit).stdout


def wait_for(what, cond, timeout):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def binary(env, rel):
    path = os.path.abspath(os.environ.get(env) or ROOT / rel)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built (set {env})")
    return path


def guest_dir():
    d = pathlib.Path(os.environ.get("DUVISOR_GUEST_DIR") or os.path.join(
        os.environ.get("DUVISOR_CACHE", "/var/tmp/duvisor-cache"), "guest"))
    if not (d / "vmlinuz").exists():
        pytest.fail(f"guest fixture missing in {d}: run tests/guest/build-guest")
    return d


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes.
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# ---------------------------------------------------------------------------
# The host


def test_pid1_is_systemd():
    assert pathlib.Path("/proc/1/comm").read_text().strip() == "systemd"
    assert os.path.isdir("/run/systemd/system")          # sd_booted()
    state = run("systemctl", "is-system-running", "--wait", check=False,
                timeout=180).stdout.strip()
    failed = run("systemctl", "--failed", "--no-legend", "--plain").stdout
    assert state == "running", f"system state {state}; failed units:\n{failed}"
    # We run as a unit of that systemd.
    assert "0::/system.slice/duvisor-command.service" in \
        pathlib.Path("/proc/self/cgroup").read_text()


def test_machined_answers():
    # machined is bus-activated: the first call starts it.
    run("machinectl", "list", "--no-legend")
    run("busctl", "status", "org.freedesktop.machine1")
    assert unit_props("systemd-machined.service", "ActiveState")["ActiveState"] == "active"


def test_not_a_container():
    """The root comes from a container image here: systemd must still see
    a virtual machine (see tests/host/init) and read the kernel's command
    line."""
    assert run("systemd-detect-virt", "--container", check=False).stdout.strip() == "none"
    assert run("systemd-detect-virt", "--vm", check=False).returncode == 0
    assert run("hostname").stdout.strip() == "duvisor-test-host"


def test_real_kvm():
    assert os.path.isdir("/sys/module/kvm_amd")
    fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    try:
        assert fcntl.ioctl(fd, 0xAE00) == 12                # KVM_GET_API_VERSION
    finally:
        os.close(fd)
    assert not os.path.exists("/sys/module/kvm_pvm")


def test_cgroup_v2():
    mounts = [line.split() for line in open("/proc/self/mounts")]
    assert ["cgroup2", "/sys/fs/cgroup", "cgroup2"] == \
        next(m[:3] for m in mounts if m[1] == "/sys/fs/cgroup")
    ctrl = pathlib.Path("/sys/fs/cgroup/cgroup.controllers").read_text().split()
    for c in ("cpu", "memory", "pids", "io"):
        assert c in ctrl, ctrl
    # systemd enables a controller below the root once a unit asks for it
    # (cpu: CPUAccounting=, checked with the machine's scope below).
    sub = pathlib.Path("/sys/fs/cgroup/cgroup.subtree_control").read_text().split()
    for c in ("memory", "pids"):
        assert c in sub, sub


# ---------------------------------------------------------------------------
# virtduvisord under systemd


@pytest.fixture(scope="module")
def units():
    """Installs the packaging's units (ExecStart: the build tree) in
    /run/systemd/system and starts the two sockets."""
    daemon = binary("DUVISOR_DAEMON", "build/src/driver-duvisor/virtduvisord")
    vmm = binary("DUVISOR_VMM", "build/src/vmm/duvisor-vmm")
    build = pathlib.Path(daemon).resolve().parents[2]
    service = build / "packaging/systemd/virtduvisord.service"
    if not service.exists():
        pytest.fail(f"{service} missing: build first (meson)")
    text, n = re.subn(r"(?m)^ExecStart=\S+",
                      f"ExecStart={daemon} --vmm {vmm}", service.read_text())
    assert n == 1, "no ExecStart= in virtduvisord.service"
    UNIT_DIR.mkdir(parents=True, exist_ok=True)
    (UNIT_DIR / "virtduvisord.service").write_text(text)
    for sock in UNITS[1:]:
        shutil.copy(ROOT / "packaging/systemd" / sock, UNIT_DIR / sock)
    run("systemctl", "daemon-reload")
    run("systemctl", "start", "virtduvisord.socket", "virtduvisord-ro.socket")
    yield
    subprocess.run(["virsh", "-c", URI, "destroy", DOMAIN], capture_output=True, timeout=60)
    subprocess.run(["virsh", "-c", URI, "undefine", DOMAIN], capture_output=True, timeout=60)
    subprocess.run(["systemctl", "stop", *UNITS], capture_output=True, timeout=120)
    for u in UNITS:
        (UNIT_DIR / u).unlink(missing_ok=True)
    subprocess.run(["systemctl", "daemon-reload"], capture_output=True, timeout=60)


def test_sockets_listen_without_daemon(units):
    for sock, path in (("virtduvisord.socket", RW_SOCKET),
                       ("virtduvisord-ro.socket", RO_SOCKET)):
        p = unit_props(sock, "ActiveState", "SubState", "Listen")
        assert (p["ActiveState"], p["SubState"]) == ("active", "listening"), p
        assert path in p["Listen"]
        assert pathlib.Path(path).is_socket()
    assert run("systemctl", "is-active", "virtduvisord.service",
               check=False).stdout.strip() == "inactive"


def test_socket_activation_and_notify(units):
    t0 = time.monotonic()
    out = virsh("version").stdout
    took = time.monotonic() - t0
    assert "Running hypervisor" in out or "hypervisor" in out.lower(), out
    p = unit_props("virtduvisord.service", "Type", "ActiveState", "SubState",
                   "MainPID", "Result", "TriggeredBy",
                   "InactiveExitTimestampMonotonic", "ActiveEnterTimestampMonotonic")
    assert p["Type"] == "notify"
    assert (p["ActiveState"], p["SubState"], p["Result"]) == \
        ("active", "running", "success"), p
    assert "virtduvisord.socket" in p["TriggeredBy"]
    # Readiness came from sd_notify: "activating" -> "active" well before
    # TimeoutStartSec (90 s), and virsh did not wait for a timeout either.
    ready = (int(p["ActiveEnterTimestampMonotonic"])
             - int(p["InactiveExitTimestampMonotonic"])) / 1e6
    assert 0 <= ready < 30, ready
    assert took < 60, took
    pid = int(p["MainPID"])
    assert pathlib.Path(f"/proc/{pid}/exe").resolve() == \
        pathlib.Path(binary("DUVISOR_DAEMON", "build/src/driver-duvisor/virtduvisord")).resolve()
    # Both sockets were handed over (the service now runs them).
    assert unit_props("virtduvisord.socket", "SubState")["SubState"] == "running"
    # The read-only socket serves read-only clients.
    ro = run("virsh", "-r", "-q", "-c", URI, "list", "--all")
    assert ro.returncode == 0


def journal_entries(unit):
    out = run("journalctl", "--no-pager", "-o", "json", "-u", unit).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_daemon_logs_to_journal(units):
    """The daemon saw that stderr is the journal (JOURNAL_STREAM) and
    sends its messages natively, with priority and source location, not
    as lines of text on stderr."""
    log = journal("virtduvisord.service")
    assert "serving duvisor:///system" in log, log
    pid = unit_props("virtduvisord.service", "MainPID")["MainPID"]
    ours = [e for e in journal_entries("virtduvisord.service")
            if e.get("_PID") == pid]
    serving = [e for e in ours if "serving duvisor:///system" in e["MESSAGE"]]
    assert len(serving) == 1, ours
    e = serving[0]
    assert e["_TRANSPORT"] == "journal", e
    assert e["PRIORITY"] == "6" and e["SYSLOG_IDENTIFIER"] == "virtduvisord", e
    assert e["CODE_FILE"].endswith("src/driver-duvisor/main.c"), e
    assert e["CODE_FUNC"] == "run" and int(e["CODE_LINE"]) > 0, e
    # Nothing of the daemon came through the stderr stream.
    assert not [x for x in ours if x["_TRANSPORT"] == "stdout"], ours


# ---------------------------------------------------------------------------
# A real guest through the socket-activated daemon


def domain_xml():
    g = guest_dir()
    return f"""<domain type='kvm'>
  <name>{DOMAIN}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>{g / 'vmlinuz'}</kernel>
    <initrd>{g / 'initramfs.cpio.gz'}</initrd>
    <cmdline>console=ttyS0 quiet dvaction=wait</cmdline>
  </os>
  <devices>
    <serial type='pty'/>
    <console type='pty'/>
  </devices>
</domain>
"""


def vmm_pid():
    log = (LOG_DIR / f"{DOMAIN}.log").read_text(errors="replace")
    pids = re.findall(r"duvisor-vmm pid (\d+)", log)
    assert pids, log
    return int(pids[-1])


def console_log():
    try:
        return (LOG_DIR / f"{DOMAIN}.console.log").read_text(errors="replace")
    except FileNotFoundError:
        return ""


@pytest.fixture(scope="module")
def guest(units, tmp_path_factory):
    """The guest fixture running as a persistent domain; yields its
    VMM's pid."""
    xml = tmp_path_factory.mktemp("systemd") / f"{DOMAIN}.xml"
    xml.write_text(domain_xml())
    virsh("define", str(xml))
    virsh("start", DOMAIN)
    wait_for("the guest's DUVISOR-GUEST-READY",
             lambda: "DUVISOR-GUEST-READY" in console_log(), BOOT_TIMEOUT)
    return vmm_pid()


def test_guest_runs(guest):
    assert virsh("domstate", DOMAIN).stdout.strip() == "running"
    assert alive(guest)


def test_vm_registered_with_machined(guest):
    """systemd-machined registration (src/driver-duvisor/machined.c):
    the VM is a machine of class vm, its VMM the leader, in its own scope
    under machine.slice."""
    domid = int(virsh("domid", DOMAIN).stdout.strip())
    name = f"duvisor-{domid}-{DOMAIN}"
    machines = run("machinectl", "list", "--no-legend").stdout
    assert name in machines, machines + journal("virtduvisord.service")
    out = run("machinectl", "show", name).stdout
    props = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert props["Class"] == "vm", props
    assert props["Service"] == "duvisor", props
    assert int(props["Leader"]) == guest, props
    assert props["State"] == "running", props
    cgroup = pathlib.Path(f"/proc/{guest}/cgroup").read_text()
    assert "/machine.slice/" in cgroup, cgroup
    unit = props["Unit"]
    assert unit.startswith("machine-") and unit.endswith(".scope"), props
    assert unit in cgroup, cgroup
    # Accounting as requested at registration.
    sp = unit_props(unit, "MemoryAccounting", "CPUAccounting", "TasksAccounting",
                    "Slice")
    assert sp["Slice"] == "machine.slice", sp
    assert sp["MemoryAccounting"] == sp["CPUAccounting"] == "yes", sp
    # ... and so the cgroup of the scope has the cpu and memory controllers.
    path = cgroup.split("0::", 1)[1].splitlines()[0]
    scope = pathlib.Path("/sys/fs/cgroup" + path)
    assert scope.name == unit, cgroup
    for f in ("cpu.stat", "cpu.weight", "memory.current", "pids.current"):
        assert (scope / f).exists(), f


def test_nothing_of_the_vm_left_in_daemon_cgroup(guest):
    """Everything of the VM (the VMM and KVM's kernel threads working for
    it, which join the cgroup of the process creating the VM) is accounted
    to its scope: the daemon's cgroup has the daemon only (systemd would
    say "Unit process ... remains running after unit stopped" otherwise).
    The VMM creates its VM only after the daemon registered it (--wait-fd)."""
    main = unit_props("virtduvisord.service", "MainPID")["MainPID"]
    procs = pathlib.Path(
        "/sys/fs/cgroup/system.slice/virtduvisord.service/cgroup.procs").read_text().split()
    names = {p: pathlib.Path(f"/proc/{p}/comm").read_text().strip()
             for p in procs if os.path.exists(f"/proc/{p}")}
    assert procs == [main], names


def test_journal_fields_of_domain_messages(guest):
    """Messages about the domain carry its name and UUID as fields:
    journalctl -u virtduvisord DUVISOR_DOMAIN=NAME finds them."""
    uuid = virsh("domuuid", DOMAIN).stdout.strip()
    out = run("journalctl", "--no-pager", "-o", "json", "-u",
              "virtduvisord.service", f"DUVISOR_DOMAIN={DOMAIN}").stdout
    entries = [json.loads(line) for line in out.splitlines() if line.strip()]
    started = [e for e in entries
               if f"domain '{DOMAIN}': duvisor-vmm started (pid {guest})"
               in e["MESSAGE"]]
    assert len(started) == 1, entries
    e = started[0]
    assert e["DUVISOR_DOMAIN"] == DOMAIN, e
    assert e["DUVISOR_DOMAIN_UUID"] == uuid, e
    assert e["PRIORITY"] == "6", e
    assert all(e["DUVISOR_DOMAIN"] == DOMAIN and f"'{DOMAIN}'" in e["MESSAGE"]
               for e in entries), entries
    # Messages about no domain have no such fields.
    serving = [e for e in journal_entries("virtduvisord.service")
               if "serving duvisor:///system" in e.get("MESSAGE", "")]
    assert serving and not any("DUVISOR_DOMAIN" in e for e in serving)


def status_text():
    return unit_props("virtduvisord.service", "StatusText")["StatusText"]


def reload_daemon(expect):
    """systemctl reload, then the daemon's STATUS= once it is done (the
    reload job itself only sends SIGHUP)."""
    run("systemctl", "reload", "virtduvisord.service")
    wait_for(f"the status {expect!r}",
             lambda: status_text().startswith(expect), 60)
    return status_text()


def journal_has(what, match):
    return wait_for(what, lambda: [e for e in journal_entries("virtduvisord.service")
                                   if match(e)], 30)


def test_systemctl_reload(guest):
    """systemctl reload: the same daemon and VM go on, the new settings
    apply, a changed definition of the running domain waits for its next
    start; a broken file is refused and changes nothing."""
    p = unit_props("virtduvisord.service", "MainPID", "ExecReload")
    main = str(p["MainPID"])
    assert "/bin/kill" in p["ExecReload"] and "-HUP" in p["ExecReload"], p
    live = ET.fromstring(virsh("dumpxml", DOMAIN).stdout)
    assert live.find("memory").get("unit") == "KiB"
    running_kib = int(live.findtext("memory"))
    def_file = pathlib.Path("/etc/libvirt/duvisor") / f"{DOMAIN}.xml"
    old_xml = def_file.read_text()
    root = ET.fromstring(old_xml)
    root.find("memory").attrib = {"unit": "KiB"}
    root.find("memory").text = str(running_kib * 2)
    def_file.write_text(ET.tostring(root, encoding="unicode"))
    CONFIG.write_text('hypervisor_version = "7.7.7"\nlog_level = "debug"\n')
    try:
        status = reload_daemon("Configuration reloaded")
        assert status == f"Configuration reloaded from {CONFIG}", status
        p = unit_props("virtduvisord.service", "ActiveState", "SubState",
                       "MainPID")
        assert (p["ActiveState"], p["SubState"]) == ("active", "running"), p
        assert p["MainPID"] == main
        assert alive(guest)
        assert virsh("domstate", DOMAIN).stdout.strip() == "running"
        assert "Running hypervisor: DuVisor 7.7.7" in virsh("version").stdout
        # The running domain keeps its memory; its next start gets the
        # file's.
        live = ET.fromstring(virsh("dumpxml", DOMAIN).stdout)
        inactive = ET.fromstring(virsh("dumpxml", "--inactive", DOMAIN).stdout)
        assert int(live.findtext("memory")) == running_kib
        assert int(inactive.findtext("memory")) == running_kib * 2
        journal_has("the reload in the journal", lambda e: e["MESSAGE"] ==
                    f"domain '{DOMAIN}': definition reloaded (for its next start)"
                    and e.get("DUVISOR_DOMAIN") == DOMAIN)
        # The new log level applies: debug messages now.
        virsh("hostname")
        journal_has("a debug message", lambda e: e["PRIORITY"] == "7" and
                    e["_PID"] == main)

        CONFIG.write_text('hypervisor_version = "8.8.8"\nmax_clients = 0\n')
        status = reload_daemon("Reload refused")
        assert f"{CONFIG}:2: max_clients: must be a number" in status, status
        journal_has("the refusal", lambda e: e["PRIORITY"] == "3" and
                    e["MESSAGE"].startswith("reload refused, the configuration "
                                            "in effect stays: "))
        p = unit_props("virtduvisord.service", "ActiveState", "MainPID")
        assert (p["ActiveState"], p["MainPID"]) == ("active", main), p
        assert "Running hypervisor: DuVisor 7.7.7" in virsh("version").stdout
    finally:
        CONFIG.unlink(missing_ok=True)
        def_file.write_text(old_xml)
    # Back to the defaults and the running definition.
    assert reload_daemon("Configuration reloaded") == \
        "Configuration reloaded from the defaults (no file)"
    inactive = ET.fromstring(virsh("dumpxml", "--inactive", DOMAIN).stdout)
    assert int(inactive.findtext("memory")) == running_kib
    assert unit_props("virtduvisord.service", "MainPID")["MainPID"] == main
    assert alive(guest)


def test_daemon_stop_keeps_vm(guest):
    """KillMode=process: stopping the daemon stops no VM; the next
    client re-activates the daemon, which takes the VM over."""
    main = int(unit_props("virtduvisord.service", "MainPID")["MainPID"])
    run("systemctl", "stop", "virtduvisord.service")
    assert run("systemctl", "is-active", "virtduvisord.service",
               check=False).stdout.strip() == "inactive"
    assert not alive(main)
    time.sleep(1)
    assert alive(guest), "the VMM died with the daemon"
    # The sockets stay, ready to activate the daemon again.
    assert unit_props("virtduvisord.socket", "SubState")["SubState"] == "listening"
    assert virsh("domstate", DOMAIN).stdout.strip() == "running"
    p = unit_props("virtduvisord.service", "ActiveState", "MainPID")
    assert p["ActiveState"] == "active" and int(p["MainPID"]) != main, p
    assert vmm_pid() == guest


def test_shutdown_after_takeover(guest):
    domid = virsh("domid", DOMAIN).stdout.strip()
    virsh("shutdown", DOMAIN)
    wait_for("the domain to shut off",
             lambda: virsh("domstate", DOMAIN).stdout.strip() == "shut off",
             BOOT_TIMEOUT)
    wait_for("the VMM to exit", lambda: not alive(guest), 30)
    assert "DUVISOR-GUEST-POWERBUTTON" in console_log()
    # machined forgot the machine.
    wait_for("machined to drop the machine",
             lambda: f"duvisor-{domid}-{DOMAIN}" not in
             run("machinectl", "list", "--no-legend").stdout, 30)
    virsh("undefine", DOMAIN)
