# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon runs each VMM deprivileged and steers it over its control
channel (docs/sandbox.md, docs/control-protocol.md): the VMM runs as
nobody with no capabilities, no_new_privs and its seccomp filters, gets
every resource as a descriptor, and the daemon follows what the VMM says,
even when someone else pauses it, and after the daemon restarted.
Real guests on real KVM: only inside the KVM test host."""
import os
import pwd
import signal
import time

from sysfixtures import (BOOT_TIMEOUT, conn, console_until, daemon,  # noqa: F401
                         domain_xml, dvh, events, fresh_daemon, libvirt,
                         running, virsh, vmm_control, vmm_pid, vmm_status,
                         vmm_wrapper)


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return fields


def test_vmm_runs_as_nobody_in_its_sandbox(daemon, conn, libvirt):
    nobody = pwd.getpwnam("nobody")
    dom = conn.defineXML(domain_xml("dp-id"))
    dom.create()
    try:
        pid = vmm_pid(daemon, "dp-id")
        st = proc_status(pid)
        assert st["Uid"] == [str(nobody.pw_uid)] * 4, st["Uid"]
        assert st["Gid"] == [str(nobody.pw_gid)] * 4, st["Gid"]
        assert st["Groups"] == []
        assert int(st["CapEff"][0], 16) == 0 and int(st["CapPrm"][0], 16) == 0
        assert st["NoNewPrivs"] == ["1"]
        assert st["Seccomp"] == ["2"]            # filter mode
        assert vmm_status(daemon, dom)["sandbox"] == "on"
        # What it holds was opened for it: /dev/kvm, the images, the pty
        # master, pipes and sockets; the disk-less guest has no file of
        # the daemon's configuration or state open.
        targets = [os.readlink(f"/proc/{pid}/fd/{n}")
                   for n in os.listdir(f"/proc/{pid}/fd")]
        assert "/dev/kvm" in targets and "/dev/ptmx" in targets, targets
        assert not [t for t in targets if str(daemon.state) in t or
                    str(daemon.config_dir) in t], targets
        # The guest works: console I/O as nobody.
        con = dvh.StreamReader(libvirt, conn, dom)
        try:
            con.wait_for("DUVISOR-GUEST-READY", timeout=BOOT_TIMEOUT)
            console_until(con, "echo dp-$((6*7))\r", "dp-42")
        finally:
            con.close()
    finally:
        dom.destroy()
        dom.undefine()
    # Its control socket is gone with it (a sandboxed VMM cannot remove
    # paths).
    assert not list((daemon.state / "control").iterdir())


def test_forbidden_syscall_kills_the_vmm_and_says_why(fresh_daemon, libvirt):
    d = fresh_daemon(vmm=vmm_wrapper(
        "vmm-with-trigger", vmm_args="--test-trigger-forbidden-syscall"))
    c = libvirt.open(d.uri)
    ev = dvh.Events(libvirt, d.uri)
    try:
        dom = c.defineXML(domain_xml("dp-sys", action="wait"))
        dom.create()
        pid = vmm_pid(d, "dp-sys")
        ctl = vmm_control(d, dom)
        try:
            # The VMM answers, then tries to open a file.
            ok, reply = ctl.request("test-forbidden-syscall")
            assert ok, reply
        finally:
            ctl.close()
        dvh.wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF, timeout=60)
        assert dom.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_CRASHED
        assert ev.wait("dp-sys", 2) == [
            (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
            (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED)]
        assert not running(pid)
        log = (d.log_dir / "dp-sys.log").read_text()
        assert "sandbox: forbidden system call" in log, log
        assert "killed by signal 31" in log, log
        # The domain starts again as if nothing happened.
        dom.create()
        assert dom.isActive()
        dom.destroy()
    finally:
        ev.close()
        c.close()


def test_state_follows_the_vmm_across_a_daemon_restart(fresh_daemon, libvirt):
    """Someone with the control socket pauses the VMM: the daemon follows
    (SUSPENDED event); it is resumed while no daemon runs: the next daemon
    finds it running; that daemon steers it (suspend, reset, destroy)."""
    d = fresh_daemon()
    c = libvirt.open(d.uri)
    ev = dvh.Events(libvirt, d.uri)
    try:
        dom = c.defineXML(domain_xml("dp-oob", action="wait"))
        dom.create()
        pid = vmm_pid(d, "dp-oob")
        ctl = vmm_control(d, dom)
        try:
            assert ctl.request("pause")[0]
            dvh.wait_state(dom, libvirt.VIR_DOMAIN_PAUSED, timeout=30)
            assert ev.wait("dp-oob", 2) == [
                (libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
                (libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)]
        finally:
            ctl.close()
    finally:
        ev.close()
        c.close()
    d.stop(signal.SIGKILL)
    ctl = vmm_control(d, dom)
    try:
        assert ctl.request("resume")[0]
    finally:
        ctl.close()

    d.start()
    c = libvirt.open(d.uri)
    ev = dvh.Events(libvirt, d.uri)
    try:
        dom = c.lookupByName("dp-oob")
        dvh.wait_state(dom, libvirt.VIR_DOMAIN_RUNNING, timeout=30)
        assert vmm_pid(d, "dp-oob") == pid
        virsh(d.uri, "suspend", "dp-oob")
        assert vmm_status(d, dom)["state"] == "paused"
        virsh(d.uri, "resume", "dp-oob")
        boots = int(vmm_status(d, dom)["boots"])
        virsh(d.uri, "reset", "dp-oob")
        assert int(vmm_status(d, dom)["boots"]) == boots + 1
        assert running(pid) and vmm_pid(d, "dp-oob") == pid
        dom.destroy()
        # (The daemon may tell of the resume found at its start, too.)
        stopped = (libvirt.VIR_DOMAIN_EVENT_STOPPED,
                   libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
        deadline = time.monotonic() + 30
        while stopped not in ev.of("dp-oob"):
            assert time.monotonic() < deadline, ev.of("dp-oob")
            time.sleep(0.1)
        assert [e for e in ev.of("dp-oob")
                if e != (libvirt.VIR_DOMAIN_EVENT_RESUMED,
                         libvirt.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED)] == [
            (libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
            ("reboot",),
            (libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)]
    finally:
        ev.close()
        c.close()
    d.check_clean_exit()
