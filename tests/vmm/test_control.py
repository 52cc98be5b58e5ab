# SPDX-License-Identifier: GPL-2.0-or-later
"""The control channel (docs/control-protocol.md) with a real guest."""
import pathlib
import socket
import subprocess
import time

import pytest

import dvcontrol
from conftest import READY
from dvcontrol import Client, encode

EXIT_CRASH = 34

# A counter on the console, one line a second: guest progress made visible.
TICKER = "i=0; while :; do i=$((i+1)); echo TICK=$i; sleep 1; done"


def ticks(vm):
    return vm.count("TICK=")


def wait_clients(client, n, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        ok, st = client.request("status")
        assert ok
        if st["clients"] == str(n):
            return
        assert time.monotonic() < deadline, f"{st['clients']} clients, not {n}"
        time.sleep(0.1)


def start(run_vmm, tmp_path, **kw):
    sock = tmp_path / "control.sock"
    extra = list(kw.pop("extra_args", ()))
    vm = run_vmm(extra_args=["--control", f"unix:{sock}", *extra], **kw)
    return vm, sock


def test_pause_stops_the_guest_and_resume_continues(run_vmm, tmp_path):
    vm, sock = start(run_vmm, tmp_path, action="wait", command=TICKER)
    watcher = Client(sock)
    vm.wait_for("TICK=3")
    ok, _ = watcher.request("pause")
    assert ok
    watcher.wait_event("state", state="paused")
    # Output already on its way through the pipe may still arrive.
    time.sleep(2)
    paused_at = ticks(vm)
    time.sleep(5)
    assert ticks(vm) == paused_at, "the guest made progress while paused"

    # A manager that connects now (a restarted daemon) learns everything.
    watcher.close()
    late = Client(sock)
    ok, st = late.request("status")
    assert ok
    assert st["state"] == "paused"
    assert st["vcpus"] == "1"
    assert st["memory"] == str(256 << 20)
    assert st["boots"] == "1"
    assert int(st["exits"]) > 0 and int(st["exits.io"]) > 0
    for dev in ("com1", "acpi-pm", "pvpanic"):
        assert dev in st["devices"].split(","), st["devices"]
    assert st["balloon"] == "none"

    ok, _ = late.request("resume")
    assert ok
    late.wait_event("state", state="running")
    vm.wait_for("TICK=", occurrences=paused_at + 2)
    ok, _ = late.request("quit")
    assert ok
    late.wait_event("exit", status="0")
    assert vm.wait_exit() == 0


def test_power_button_shuts_the_guest_down(run_vmm, tmp_path):
    vm, sock = start(run_vmm, tmp_path, action="wait")
    watcher = Client(sock)
    vm.wait_for(READY)
    ok, _ = watcher.request("powerdown")
    assert ok
    vm.wait_for("DUVISOR-GUEST-POWERBUTTON")
    watcher.wait_event("guest-poweroff")
    watcher.wait_event("state", state="shutting-down")
    watcher.wait_event("exit", status="0")
    assert vm.wait_exit() == 0


def test_reset_reboots_the_guest_and_quit_exits(run_vmm, tmp_path):
    # --no-reboot governs guest resets only: a manager's reset reboots.
    vm, sock = start(run_vmm, tmp_path, action="wait", extra_args=["--no-reboot"])
    client = Client(sock)
    vm.wait_for(READY)
    ok, _ = client.request("reset")
    assert ok
    client.wait_event("guest-reset", source="manager", rebooting="yes")
    client.wait_event("boot", boots="2")
    vm.wait_for(READY, occurrences=2)
    ok, st = client.request("status")
    assert ok and st["boots"] == "2" and st["state"] == "running"
    ok, _ = client.request("quit")
    assert ok
    client.wait_event("state", state="shutting-down")
    assert vm.wait_exit() == 0
    assert "stopped on request" in vm.stderr()


def test_guest_panic_is_reported(run_vmm, tmp_path):
    drivers = "/sys/bus/platform/drivers/pvpanic-mmio"
    vm, sock = start(run_vmm, tmp_path, action="wait",
                     command=f"if [ -d {drivers} ]; then echo PVPANIC-DRIVER="
                     f"$(ls {drivers} | grep -c QEMU0001); "
                     "echo c > /proc/sysrq-trigger; else echo PVPANIC-NO-DRIVER; fi")
    watcher = Client(sock)
    vm.wait_for(READY)
    vm.wait_for("PVPANIC-")
    if vm.count("PVPANIC-NO-DRIVER"):
        # The guest cache is shared: an older build-guest may have made it.
        pytest.skip("the guest fixture lacks pvpanic_mmio: run tests/guest/build-guest")
    assert vm.value("PVPANIC-DRIVER") == "1", "pvpanic did not bind to QEMU0001"
    vm.wait_for("Kernel panic")
    watcher.wait_event("guest-panic")
    watcher.wait_event("exit", status=str(EXIT_CRASH))
    assert vm.wait_exit() == EXIT_CRASH
    assert "guest crashed" in vm.stderr()


def test_malformed_messages_get_error_replies(run_vmm, tmp_path):
    vm, sock = start(run_vmm, tmp_path, action="wait")
    c = Client(sock)
    cases = [
        (b"abc", "truncated"),
        (encode(2, 1, magic=0x12345678), "bad-magic"),
        (encode(2, 2, version=2), "unsupported-version"),
        (encode(2, 3, b"a=b\n", length=99), "bad-length"),
        (encode(2, 4, b"x" * 8192), "too-large"),
        (encode(2, 5, b"no equals sign\n"), "bad-payload"),
        (encode(2, 6, b"a=\x01\n"), "bad-payload"),
        (encode(0x1234, 7), "unknown-request"),
        (encode(dvcontrol.EVENT, 8), "unknown-request"),
        (encode(0x7F00, 9), "unknown-request"),  # test hook not enabled
        (encode(8, 10, {"target": "lots"}), "unsupported"),  # no balloon yet
    ]
    for data, error in cases:
        c.send_raw(data)
        mtype, _, fields = c.reply()
        assert mtype == dvcontrol.REPLY_ERROR, (data[:20], fields)
        assert fields["error"] == error, (data[:20], fields)
    ok, st = c.request("balloon-stats")
    assert not ok and st["message"] == "no balloon device"
    ok, st = c.request("hello")
    assert ok and st["protocol"] == "1" and st["vmm"] == "duvisor-vmm"

    # A client that never reads is dropped; the VMM carries on.
    greedy = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    greedy.connect(str(sock))
    greedy.setblocking(False)
    request = encode(2, 1)
    for _ in range(20000):
        try:
            greedy.send(request)
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            break
    ok, st = c.request("status")
    assert ok and st["state"] == "running"
    greedy.close()
    wait_clients(c, 1)

    # At most 8 clients; the next one is told why it is turned away.
    extra = [Client(sock) for _ in range(8)]
    _, _, fields = extra[-1].recv()
    assert fields["error"] == "too-many-clients"
    for e in extra:
        e.close()
    ok, _ = c.request("quit")
    assert ok
    assert vm.wait_exit() == 0


def test_duvisor_ctl(run_vmm, tmp_path):
    vm, sock = start(run_vmm, tmp_path, action="wait")
    ctl = dvcontrol.ctl_binary()
    client = Client(sock)
    watch = subprocess.Popen([ctl, str(sock), "watch"], stdout=subprocess.PIPE, text=True)
    wait_clients(client, 2)
    client.close()
    vm.wait_for(READY)

    def run(*args):
        return subprocess.run([ctl, str(sock), *args], capture_output=True, text=True,
                              timeout=60)

    r = run("status")
    assert r.returncode == 0 and "state=running\n" in r.stdout, r
    assert run("pause").returncode == 0
    assert "state=paused\n" in run("status").stdout
    assert run("resume").returncode == 0
    r = run("balloon-set", "128M")
    assert r.returncode == 1 and "error=unsupported" in r.stdout, r
    assert run("bogus").returncode == 2
    assert run("powerdown").returncode == 0
    assert vm.wait_exit() == 0
    out, _ = watch.communicate(timeout=60)
    assert watch.returncode == 0
    lines = out.splitlines()
    for expected in ("state=paused", "state=running", "event=guest-poweroff",
                     "state=shutting-down", "event=exit"):
        assert expected in lines, out
    r = run("status")
    assert r.returncode == 2 and "cannot connect" in r.stderr


MIB = 1 << 20


def block_stats(client):
    ok, st = client.request("block-stats")
    assert ok, st
    return {k: int(v) for k, v in st.items()}


def test_block_stats_follow_the_guest_io(run_vmm, tmp_path):
    """block-stats counts what the guest did, disk by disk in --disk order,
    across a guest reboot; the status names each vCPU's thread."""
    images = []
    for name in ("a.img", "b.img"):
        images.append(tmp_path / name)
        images[-1].write_bytes(b"\0" * (16 * MIB))
    # 4 MiB written and 2 MiB read on the second disk, bypassing the
    # guest's cache, then a flush (conv=fsync).
    cmd = ("dd if=/dev/zero of=/dev/vdb bs=1M count=4 oflag=direct conv=fsync "
           "2>/dev/null && dd if=/dev/vdb of=/dev/null bs=1M count=2 "
           "iflag=direct 2>/dev/null && echo IO-DONE")
    vm, sock = start(run_vmm, tmp_path, action="wait", command=cmd, cpus=2,
                     extra_args=["--disk", f"path={images[0]}",
                                 "--disk", f"path={images[1]},serial=SECOND"])
    c = Client(sock)
    vm.wait_for("IO-DONE")
    st = block_stats(c)
    assert st["disks"] == 2
    assert st["disk.0.size"] == st["disk.1.size"] == 16 * MIB
    # The guest only probed the first disk (its partition table).
    assert st["disk.0.wr_reqs"] == st["disk.0.wr_bytes"] == 0
    assert st["disk.1.wr_bytes"] >= 4 * MIB and st["disk.1.wr_reqs"] >= 4
    assert st["disk.1.rd_bytes"] >= 2 * MIB and st["disk.1.rd_reqs"] >= 2
    assert st["disk.1.fl_reqs"] >= 1
    assert st["disk.1.wr_ns"] > 0 and st["disk.1.rd_ns"] > 0
    assert st["disk.0.errors"] == st["disk.1.errors"] == 0

    ok, status = c.request("status")
    tids = [int(t) for t in status["vcpu_tids"].split(",")]
    assert len(tids) == 2 and all(tids), status
    for tid in tids:
        assert (pathlib.Path("/proc") / status["pid"] / "task" / str(tid)).exists()

    # A reboot rebuilds the disks, not their counters.
    ok, _ = c.request("reset")
    assert ok
    vm.wait_for("IO-DONE", occurrences=2)
    again = block_stats(c)
    assert again["disk.1.wr_bytes"] >= st["disk.1.wr_bytes"] + 4 * MIB
    ok, status = c.request("status")
    assert [int(t) for t in status["vcpu_tids"].split(",")] != tids
    ok, _ = c.request("quit")
    assert vm.wait_exit() == 0
