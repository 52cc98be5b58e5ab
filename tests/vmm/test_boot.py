# SPDX-License-Identifier: GPL-2.0-or-later
"""duvisor-vmm boots the fixture guest on real KVM: SMP, memory, command
line, both kernel formats, and the power semantics managers rely on."""
import os
import re
import signal
import time

import pytest

from conftest import READY

EXIT_RESET = 32


@pytest.mark.parametrize("kernel", ["vmlinuz", "vmlinux"])
def test_boot_to_ready_and_poweroff(run_vmm, kernel):
    vm = run_vmm(kernel=kernel, command="echo hello-$((6*7)); uname -m")
    vm.wait_for(READY)
    vm.wait_for("DUVISOR-CMD-EXIT=0")
    assert "hello-42" in vm.output()
    assert "x86_64" in vm.output()
    vm.wait_for("DUVISOR-GUEST-POWEROFF")
    assert vm.wait_exit() == 0, vm.stderr()


@pytest.mark.parametrize("cpus", [1, 4])
def test_guest_sees_all_vcpus(run_vmm, cpus):
    vm = run_vmm(cpus=cpus, command="grep -c ^processor /proc/cpuinfo")
    vm.wait_for(READY)
    assert int(vm.value("DUVISOR-NPROC")) == cpus
    vm.wait_for("DUVISOR-CMD-EXIT=0")
    assert vm.wait_exit() == 0


# The guest's firmware memory map, one "start end type" line per range.
MEMMAP_CMD = ("for d in /sys/firmware/memmap/*; do "
              "echo MEMMAP $(cat $d/start) $(cat $d/end) $(cat $d/type | tr ' ' _); done")
LEGACY_HOLE = 0x100000 - 0x9fc00  # EBDA/BIOS area below 1 MiB


def system_ram(vm):
    ranges = []
    for line in vm.lines:
        if line.startswith("MEMMAP "):
            _, start, end, kind = line.split()
            ranges.append((int(start, 16), int(end, 16), kind))
    assert ranges, vm.output()[-3000:]
    return sorted(r for r in ranges if r[2] == "System_RAM")


@pytest.mark.parametrize("mib", [128, 512])
def test_memory_size_reaches_the_guest(run_vmm, mib):
    vm = run_vmm(memory=f"{mib}M", command=MEMMAP_CMD)
    vm.wait_for("DUVISOR-CMD-EXIT=0")
    ram = system_ram(vm)
    assert sum(end + 1 - start for start, end, _ in ram) == (mib << 20) - LEGACY_HOLE
    assert ram[-1][1] + 1 == mib << 20
    # MemTotal is what is left after the kernel's own image and tables.
    total_kib = int(vm.value("DUVISOR-MEMTOTAL-KB"))
    assert (mib << 10) - 48 * 1024 < total_kib < mib << 10
    assert vm.wait_exit() == 0


def guest_ram_mappings(pid, mib):
    """[(size, VmFlags)] of the VMM's mappings that make up guest RAM: the
    run of adjacent mappings, @mib MiB in all, that starts on a 2 MiB
    boundary (parts of it may differ in their huge page advice)."""
    with open(f"/proc/{pid}/smaps") as f:
        smaps = f.read()
    maps = []
    for block in re.split(r"\n(?=[0-9a-f]+-[0-9a-f]+ )", smaps):
        start, end = (int(x, 16) for x in block.split()[0].split("-"))
        flags = re.search(r"^VmFlags:(.*)$", block, re.M).group(1).split()
        maps.append((start, end, flags))
    runs = []
    for i, (start, _, _) in enumerate(maps):
        if start % (2 << 20):
            continue
        pos, run = start, []
        for s, e, flags in maps[i:]:
            if s != pos or pos - start >= mib << 20:
                break
            run.append((e - s, flags))
            pos = e
        if pos - start == mib << 20:
            runs.append(run)
    assert len(runs) == 1, runs
    return runs[0]


@pytest.mark.parametrize("merge", [None, "on", "off"])
def test_guest_memory_offered_to_ksm(run_vmm, merge):
    """Guest RAM is mergeable (KSM) unless --memory-merge off and stays out
    of core dumps; it asks for huge pages, but for its sparsely used parts:
    the first 2 MiB (boot tables, the real-mode area) and the kernel's
    alignment padding."""
    args = () if merge is None else ("--memory-merge", merge)
    vm = run_vmm(memory="192M", action="wait", extra_args=args)
    vm.wait_for(READY)
    ram = guest_ram_mappings(vm.proc.pid, 192)
    for _, flags in ram:
        assert ("mg" in flags) == (merge != "off"), ram
        assert "dd" in flags, ram
    assert ram[0][0] == 2 << 20 and "nh" in ram[0][1], ram
    huge = sum(size for size, flags in ram if "hg" in flags)
    assert huge >= (192 - 16) << 20, ram
    vm.signal(signal.SIGQUIT)
    assert vm.wait_exit() == 0


def test_memory_above_the_device_hole(run_vmm):
    """RAM past 3 GiB continues above 4 GiB and the guest gets all of it."""
    vm = run_vmm(memory="3584M", command=MEMMAP_CMD)
    vm.wait_for("DUVISOR-CMD-EXIT=0")
    ram = system_ram(vm)
    assert sum(end + 1 - start for start, end, _ in ram) == (3584 << 20) - LEGACY_HOLE
    assert ram[-1][0] == 1 << 32 and ram[-1][1] + 1 == (1 << 32) + (512 << 20)
    assert all(end < 0xc0000000 or start >= 1 << 32 for start, end, _ in ram)
    assert vm.wait_exit() == 0


def test_kernel_command_line_arrives_intact(run_vmm):
    extra = "dvtest=a,b:c/d%e_f-0x1F quoted=\"x\" long=" + "z" * 300
    vm = run_vmm(cmdline_extra=extra)
    vm.wait_for(READY)
    assert vm.value("DUVISOR-CMDLINE") == vm.cmdline
    assert vm.wait_exit() == 0


def test_guest_reboot_restarts_in_the_same_process(run_vmm):
    vm = run_vmm(action="reboot")
    vm.wait_for(READY, occurrences=2)
    assert vm.proc.poll() is None
    assert "guest reset: rebooting" in vm.stderr()
    vm.signal(signal.SIGQUIT)
    assert vm.wait_exit() == 0


def test_no_reboot_exits_with_the_reset_status(run_vmm):
    vm = run_vmm(action="reboot", extra_args=["--no-reboot"])
    vm.wait_for(READY)
    assert vm.wait_exit() == EXIT_RESET
    assert vm.count(READY) == 1


def test_power_button_shuts_the_guest_down_cleanly(run_vmm):
    vm = run_vmm(action="wait")
    vm.wait_for(READY)
    vm.signal(signal.SIGTERM)
    vm.wait_for("DUVISOR-GUEST-POWERBUTTON")
    assert vm.wait_exit() == 0
    assert "pressing the power button" in vm.stderr()


def test_serial_console_input_reaches_the_guest_shell(run_vmm):
    vm = run_vmm(action="shell")
    vm.wait_for(READY)
    vm.wait_for("poweroff")  # the shell banner
    vm.send("echo typed-$((40+2))\n")
    vm.wait_for("typed-42")
    vm.send("poweroff\n")
    assert vm.wait_exit() == 0


def test_typed_ahead_input_arrives_whole(run_vmm):
    """Many times the UART's 16-byte FIFO in one write: input pauses while
    the FIFO is full and must resume every time, however the guest's
    reads and the VMM's pausing interleave (a lost wakeup left the console
    deaf for good)."""
    vm = run_vmm(action="shell")
    vm.wait_for(READY)
    vm.wait_for("poweroff")  # the shell banner
    lines = 60
    vm.send("".join(f"echo ahead-$(({i}*1))-x\n" for i in range(lines)))
    vm.wait_for(f"ahead-{lines - 1}-x")
    out = vm.output()
    missing = [i for i in range(lines) if f"ahead-{i}-x" not in out]
    assert not missing, f"lines lost: {missing}"
    vm.send("poweroff\n")
    assert vm.wait_exit() == 0


def test_stats_count_exits_by_device(run_vmm):
    vm = run_vmm(extra_args=["--stats"])
    vm.wait_for(READY)
    assert vm.wait_exit() == 0
    stats = next(l for l in vm.stderr_lines if "stats:" in l)
    fields = dict(f.split("=", 1) for f in stats.split()[2:] if "=" in f)
    assert int(fields["boots"]) == 1
    assert int(fields["exits"]) > 0
    assert int(fields["io.com1"]) > 0
    # Powering off goes through the ACPI PM block.
    assert int(fields["io.acpi-pm"]) >= 1


def test_wait_fd_holds_the_vm_until_the_manager_is_done(run_vmm):
    """--wait-fd: no VM (and so no vCPU thread, no guest output) before
    the manager closes its end; then the guest boots normally."""
    r, w = os.pipe()
    try:
        vm = run_vmm(action="poweroff", extra_args=["--wait-fd", str(r)],
                     pass_fds=(r,))
        os.close(r)
        # Held: the process lives with its main thread only and the guest
        # has printed nothing, however long we look.
        time.sleep(3)
        assert vm.proc.poll() is None, vm.stderr()
        threads = os.listdir(f"/proc/{vm.proc.pid}/task")
        assert len(threads) == 1, threads
        assert vm.count(READY) == 0
    finally:
        os.close(w)
    vm.wait_for(READY)
    assert vm.wait_exit() == 0
