# SPDX-License-Identifier: GPL-2.0-or-later
"""riscv64 guests on the dvext accelerator (duvisor-vmm --accel dvext on
kmod/'s trap mode), inside the riscv64 test host.

Runs on this (x86) machine: builds the fixtures, the riscv64 VMM and the
module, boots the riscv64 test host once (tests/riscv/run-in-rv-host) to
insmod the module and run tests/riscv/dvext-scenario there (the
guest-scenarios of test_riscv_boot.py with --accel dvext, 1 and 2 vCPUs,
then poweroff and the power button with --accel kvm as the baseline);
each test checks one scenario's records.  See docs/riscv.md and
docs/dvext-kmod.md.

    python3 -m pytest -v tests/riscv/test_riscv_dvext.py
"""

import re
import subprocess

import pytest

from test_riscv_boot import HERE, RESULTS, ROOT, Run, built, cross_build, fixtures

pytestmark = pytest.mark.timeout(5400)


@pytest.fixture(scope="module")
def results():
    fx = fixtures()
    vmm = cross_build(fx)
    kmod = built("build-kmod-test")["kmod"]
    res = RESULTS / "dvext"
    subprocess.run(["rm", "-rf", str(res)], check=True)
    proc = subprocess.run(
        [str(HERE / "run-in-rv-host"), "--timeout", "3000", "--", "sh",
         str(HERE / "dvext-scenario"), kmod, str(vmm), fx["image"],
         fx["guest_initramfs"], str(res)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(proc.stdout)
    assert proc.returncode == 0, f"run-in-rv-host: {proc.returncode}\n{proc.stdout}"
    return res


def stats(r):
    """Exits of a --stats run: (seen by the VMM's loop, handled in the
    accelerator)."""
    m = re.search(r"stats: boots=\d+ runtime_ms=\d+ exits=(\d+)", r.stderr)
    assert m, r
    in_accel = re.search(r"exits\.in-accel=(\d+)", r.stderr)
    return int(m.group(1)), int(in_accel.group(1)) if in_accel else 0


def test_module_loaded_and_unloaded(results):
    log = (results / "kmod.log").read_text()
    for check in ("kmod.insmod", "kmod.rmmod", "kmod.dmesg-clean"):
        assert f"PASS {check}" in log, log
    assert "FAIL" not in log, log


def test_boot_to_ready_and_poweroff(results):
    r = Run(results / "dvext", "poweroff")
    assert "DUVISOR-GUEST-READY" in r.console, r
    assert "DUVISOR-GUEST-POWEROFF" in r.console, r
    assert "DUVISOR-NPROC=1" in r.console, r
    assert r.status == 0, r
    assert "guest powered off" in r.stderr, r
    # UART and PLIC through MMIO decoding; SBI and WFI in the accelerator.
    assert re.search(r"mmio\.uart=\d+", r.stderr), r
    assert re.search(r"mmio\.plic=\d+", r.stderr), r
    assert stats(r)[1] > 0, r


def test_two_vcpus_command_and_sbi_console(results):
    """HSM hart_start, IPIs; the guest's command; earlycon=sbi's legacy
    putchar calls through riscv/sbi.c."""
    r = Run(results / "dvext", "smp")
    assert "DUVISOR-NPROC=2" in r.console, r
    assert "earlycon: sbi0" in r.console, r
    assert re.search(r"DUVISOR-CMD-BEGIN\n2\nDUVISOR-CMD-EXIT=0", r.console), r
    assert r.status == 0, r


def test_reboot_rebuilds_the_vm(results):
    r = Run(results / "dvext", "reboot")  # with --sandbox on
    assert r.console.count("DUVISOR-GUEST-READY") >= 2, r
    assert "DUVISOR-GUEST-REBOOT" in r.console, r
    assert "guest reset: rebooting" in r.stderr, r
    assert r.status == 0, r


def test_power_button(results):
    r = Run(results / "dvext", "powerbutton")
    assert "DUVISOR-GUEST-POWERBUTTON" in r.console, r
    assert r.status == 0, r


def test_virtio_blk_and_rng(results):
    r = Run(results / "dvext", "virtio")  # with --sandbox on
    md5 = (results / "dvext" / "virtio.disk-md5").read_text().strip()
    assert f"DISK-MD5={md5}" in r.console, r
    assert "RNG-BYTES=16" in r.console, r
    assert r.status == 0, r


def test_control_channel(results):
    r = Run(results / "dvext", "control")  # with --sandbox on
    ctl = (results / "dvext" / "control.ctl").read_text()
    assert re.search(r"> status\nstate=paused\n", ctl), ctl
    assert not re.search(r"^< [^0]", ctl, re.M), ctl
    assert r.console.count("DUVISOR-GUEST-READY") == 2, r
    assert r.status == 0, r


def test_illegal_instruction_goes_to_the_guest(results):
    """A guest program reads hgatp (a virtual instruction): the guest
    takes an illegal instruction and kills the program with SIGILL; the
    VM lives on and powers off, as on KVM (test_riscv_boot.py)."""
    r = Run(results / "dvext", "illegal")
    assert "DUVISOR-CMD-EXIT=132" in r.console, r
    assert "DUVISOR-GUEST-POWEROFF" in r.console, r
    assert r.status == 0, r


def test_sandbox_traps_a_forbidden_call(results):
    r = Run(results / "dvext", "forbidden")
    assert "forbidden system call 56 (seccomp)" in r.stderr, r
    assert r.status == 128 + 31, r


def test_two_vcpus_poweroff_reboot_and_power_button(results):
    """Until the module kept an IPI raised while the guest cleared VSSIP,
    some of these stopped early in the boot (docs/riscv.md)."""
    r = Run(results / "dvext-2cpus", "poweroff")
    assert "DUVISOR-NPROC=2" in r.console, r
    assert r.status == 0, r
    r = Run(results / "dvext-2cpus", "reboot")  # with --sandbox on
    assert r.console.count("DUVISOR-GUEST-READY") >= 2, r
    assert "DUVISOR-NPROC=2" in r.console, r
    assert r.status == 0, r
    r = Run(results / "dvext-2cpus", "powerbutton")
    assert "DUVISOR-GUEST-POWERBUTTON" in r.console, r
    assert r.status == 0, r


def test_compare_with_kvm(results):
    """Boot time to the ready marker and exits per boot (VMM start to
    poweroff), dvext vs KVM, same guest, same host run."""
    lines = []
    for accel in ("dvext", "kvm"):
        off = Run(results / accel, "poweroff")
        assert off.status == 0, off
        seen, in_accel = stats(off)
        ready = (results / accel / "powerbutton.ready-seconds").read_text().strip()
        lines.append(f"{accel}: ready after {ready} s; poweroff run "
                     f"{off.seconds} s, exits to the VMM's loop {seen}, "
                     f"handled in the accelerator {in_accel}")
    print("\n" + "\n".join(lines))
