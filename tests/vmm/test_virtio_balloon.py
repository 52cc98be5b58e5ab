# SPDX-License-Identifier: GPL-2.0-or-later
"""virtio-balloon with a real guest: the target set over the control
channel, the guest's MemTotal and the VMM's resident memory following it,
the statistics queue, the sandbox, a target at boot and across reboots."""
import re
import time

from conftest import BOOT_TIMEOUT, READY
from dvcontrol import Client

MIB = 1 << 20

# The guest's MemTotal, once a second (kB), after `prelude`.
MEMTOTAL_LOOP = ("while :; do echo MT=$(awk '/^MemTotal:/ {print $2}' "
                 "/proc/meminfo); sleep 1; done")


def fill_then_report(mib_each):
    """Writes and deletes mib_each MiB in /tmp and in /dev/shm (two tmpfs,
    each capped at half the RAM): the pages are free in the guest again
    but resident in the VMM, so that inflating must give some back."""
    return (f"dd if=/dev/zero of=/tmp/fill bs=1M count={mib_each} 2>/dev/null; "
            f"dd if=/dev/zero of=/dev/shm/fill bs=1M count={mib_each} 2>/dev/null; "
            "rm -f /tmp/fill /dev/shm/fill; echo FILLED; " + MEMTOTAL_LOOP)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def memtotals(vm):
    return [int(m.group(1)) for line in list(vm.lines)
            for m in [re.search(r"MT=(\d+)$", line)] if m]


def wait_memtotal(vm, kb, timeout=BOOT_TIMEOUT):
    """Waits until the guest reports MemTotal == kb (its latest line)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = memtotals(vm)
        if seen and seen[-1] == kb:
            return
        assert time.monotonic() < deadline, \
            f"MemTotal never {kb} kB; last reports {seen[-5:]}"
        time.sleep(0.5)


def balloon_stats(client):
    ok, st = client.request("balloon-stats")
    assert ok, st
    return st


def start(run_vmm, tmp_path, balloon_args, **kw):
    sock = tmp_path / "control.sock"
    extra = [*balloon_args, "--control", f"unix:{sock}",
             *kw.pop("extra_args", ())]
    vm = run_vmm(action="wait", extra_args=extra, **kw)
    return vm, Client(sock)


def check_stats(st, memtotal_kb):
    """Figures a 6.1 guest reports, as bytes and counts that make sense."""
    total = int(st["stat.total_memory"])
    assert total == memtotal_kb * 1024, (st, memtotal_kb)
    assert 0 < int(st["stat.free_memory"]) < total, st
    assert 0 < int(st["stat.available_memory"]) <= total, st
    assert 0 <= int(st["stat.disk_caches"]) < total, st
    assert int(st["stat.minor_faults"]) > 0, st
    assert int(st["stat.major_faults"]) >= 0, st
    assert st["stat.swap_in"] == st["stat.swap_out"] == "0", st
    assert int(st["last_update"]) > 1_600_000_000, st


def wait_fresh_stats(client, after, timeout=60):
    """Balloon statistics reported after the Unix time `after`."""
    deadline = time.monotonic() + timeout
    while True:
        st = balloon_stats(client)
        if int(st.get("last_update", 0)) > after:
            return st
        assert time.monotonic() < deadline, f"no statistics after {after}: {st}"
        time.sleep(0.5)


def test_inflate_returns_memory_deflate_gives_it_back(run_vmm, tmp_path):
    vm, c = start(run_vmm, tmp_path, ["--balloon"], memory="512M",
                  command=fill_then_report(180))
    vm.wait_for("FILLED")
    vm.wait_for("MT=")
    total_kb = memtotals(vm)[-1]
    ok, status = c.request("status")
    assert ok and status["balloon"] == "on"
    st = balloon_stats(c)
    assert st["target"] == st["actual"] == str(512 * MIB), st
    assert st["stats_period"] == "0" and st["deflate_on_oom"] == "off"
    # The driver reports once when it starts, unasked.
    check_stats(st, total_kb)
    rss_before = rss_kib(vm.proc.pid)
    # The filled pages made the VMM big: the check below can fail.
    assert rss_before > 360 * 1024, rss_before

    ok, r = c.request("balloon-set", target=str(256 * MIB))
    assert ok, r
    c.wait_event("balloon-change", actual=str(256 * MIB))
    # Without deflate-on-oom the guest's RAM shrinks by the balloon.
    wait_memtotal(vm, total_kb - 256 * 1024)
    st = balloon_stats(c)
    assert st["target"] == st["actual"] == str(256 * MIB), st
    assert st["ignored_pfns"] == "0", st
    rss_inflated = rss_kib(vm.proc.pid)
    assert rss_inflated < rss_before - 64 * 1024, (rss_before, rss_inflated)

    ok, r = c.request("balloon-set", target=f"{512}M")
    assert ok, r
    c.wait_event("balloon-change", actual=str(512 * MIB))
    wait_memtotal(vm, total_kb)
    # Deflated pages come back only when the guest touches them.
    assert rss_kib(vm.proc.pid) < rss_before - 64 * 1024

    # Asking for statistics: every second from now, the first at once.
    now = int(time.time())
    ok, r = c.request("balloon-set", stats_period="1")
    assert ok, r
    first = wait_fresh_stats(c, now - 1)
    check_stats(first, total_kb)
    second = wait_fresh_stats(c, int(first["last_update"]))
    assert int(second["stat.minor_faults"]) >= int(first["stat.minor_faults"])
    assert second["stats_period"] == "1"

    # Targets out of range and empty requests are refused.
    for fields in ({"target": "0"}, {"target": str(512 * MIB + 4096)},
                   {"target": "lots"}, {}, {"stats_period": "-1"}):
        ok, r = c.request("balloon-set", **fields)
        assert not ok and r["error"] == "invalid-argument", (fields, r)
    assert balloon_stats(c)["target"] == str(512 * MIB)
    ok, _ = c.request("quit")
    assert ok and vm.wait_exit() == 0


def test_balloon_under_the_sandbox(run_vmm, tmp_path):
    # Options as a separate word, polling from the start.
    vm, c = start(run_vmm, tmp_path, ["--balloon", "stats-period=1"],
                  memory="256M", command=fill_then_report(80),
                  extra_args=["--sandbox", "on"])
    vm.wait_for("FILLED")
    vm.wait_for("MT=")
    total_kb = memtotals(vm)[-1]
    ok, status = c.request("status")
    assert ok and status["sandbox"] == "on" and status["balloon"] == "on"
    rss_before = rss_kib(vm.proc.pid)
    ok, r = c.request("balloon-set", target=str(160 * MIB))
    assert ok, r
    c.wait_event("balloon-change", actual=str(160 * MIB))
    wait_memtotal(vm, total_kb - 96 * 1024)
    assert rss_kib(vm.proc.pid) < rss_before - 32 * 1024
    st = wait_fresh_stats(c, int(time.time()))
    check_stats(st, total_kb - 96 * 1024)
    ok, r = c.request("balloon-set", target=str(256 * MIB))
    assert ok, r
    c.wait_event("balloon-change", actual=str(256 * MIB))
    wait_memtotal(vm, total_kb)
    ok, _ = c.request("powerdown")
    assert ok
    # A forbidden call would have ended it with SIGSYS.
    assert vm.wait_exit() == 0, vm.stderr()


def test_target_at_boot_and_after_reboot_deflate_on_oom(run_vmm, tmp_path):
    features = ("for d in /sys/bus/virtio/devices/*; do "
                "[ $(cat $d/device) = 0x0005 ] && "
                "echo BALLOON-FEATURES=$(cat $d/features); done; ")
    vm, c = start(run_vmm, tmp_path,
                  ["--balloon=target=384M,deflate-on-oom=on"],
                  memory="512M", command=features + MEMTOTAL_LOOP)
    vm.wait_for(READY)
    c.wait_event("balloon-change", actual=str(384 * MIB))
    bits = vm.value("BALLOON-FEATURES")
    # Bit 1 statistics, bit 2 deflate-on-oom, bit 32 VERSION_1; never bit
    # 0 (must tell host) nor free page hinting, poisoning, reporting.
    assert bits[1] == bits[2] == bits[32] == "1", bits
    assert bits[0] == bits[3] == bits[4] == bits[5] == "0", bits
    st = balloon_stats(c)
    assert st["target"] == st["actual"] == str(384 * MIB), st
    assert st["deflate_on_oom"] == "on"
    # With deflate-on-oom the guest keeps counting the pages as its RAM.
    vm.wait_for("MT=")
    total_kb = memtotals(vm)[-1]
    assert total_kb > 448 * 1024, total_kb

    # The target outlives a reboot: the new driver inflates to it again.
    c.events.clear()
    ok, _ = c.request("reset")
    assert ok
    c.wait_event("boot", boots="2")
    c.wait_event("balloon-change", actual=str(384 * MIB))
    assert balloon_stats(c)["target"] == str(384 * MIB)
    vm.wait_for(READY, occurrences=2)
    ok, _ = c.request("quit")
    assert ok and vm.wait_exit() == 0


def test_free_page_reporting_returns_freed_memory(run_vmm, tmp_path):
    """Memory the guest filled and freed again goes back to the host with
    no target set; without the feature it stays resident (the control)."""
    features = ("for d in /sys/bus/virtio/devices/*; do "
                "[ $(cat $d/device) = 0x0005 ] && "
                "echo BALLOON-FEATURES=$(cat $d/features); done; ")
    rss = {}
    for reporting in ("on", "off"):
        sub = tmp_path / reporting
        sub.mkdir()
        vm, c = start(run_vmm, sub, [f"--balloon=free-page-reporting={reporting}"],
                      memory="512M", command=features + fill_then_report(180))
        vm.wait_for("FILLED")
        bits = vm.value("BALLOON-FEATURES")
        assert bits[5] == ("1" if reporting == "on" else "0"), bits
        # Linux reports free runs about 2 s after they were freed.
        deadline = time.monotonic() + 60
        while True:
            st = balloon_stats(c)
            rss[reporting] = rss_kib(vm.proc.pid)
            if reporting == "off" or rss[reporting] < 200 * 1024 or \
                    time.monotonic() > deadline:
                break
            time.sleep(1)
        assert st["free_page_reporting"] == reporting, st
        if reporting == "on":
            assert int(st["reported_bytes"]) >= 256 * MIB, st
        else:
            time.sleep(5)
            rss[reporting] = rss_kib(vm.proc.pid)
            assert st["reported_bytes"] == "0", st
        vm.kill()
    # The 360 MiB filled and freed: resident without reporting, gone with.
    assert rss["off"] > 360 * 1024, rss
    assert rss["on"] < rss["off"] - 200 * 1024, rss
