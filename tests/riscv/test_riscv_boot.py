# SPDX-License-Identifier: GPL-2.0-or-later
"""riscv64 guests on KVM RISC-V, inside the riscv64 test host.

Runs on this (x86) machine: builds the fixtures (tests/riscv/build-rv) and
the riscv64 cross build of duvisor-vmm, then boots the riscv64 test host
once (tests/riscv/run-in-rv-host) to run every scenario of
tests/riscv/guest-scenarios there; each test checks one scenario's
records.  See docs/riscv.md.

    python3 -m pytest -v tests/riscv/test_riscv_boot.py
"""

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "riscv"
CROSS_BUILD = Path(os.environ.get("DUVISOR_RV_BUILD", ROOT / "build-riscv64"))
# The scenarios' records, next to the VMM that made them (the test host
# sees both): in the shared cache, two trees' runs would mix theirs.
RESULTS = CROSS_BUILD / "riscv-results"

pytestmark = pytest.mark.timeout(5400)


def built(script):
    """Runs a build script of tests/riscv (build-rv, build-kmod-test) and
    returns what it built: its NAME=path lines (shell-quoted) as a dict."""
    out = subprocess.run([str(HERE / script)], check=True, cwd=ROOT,
                         stdout=subprocess.PIPE, text=True).stdout
    return dict(shlex.split(line)[0].split("=", 1)
                for line in out.splitlines() if "=" in line)


def fixtures():
    return built("build-rv")


def cross_build(fx):
    """The riscv64 duvisor-vmm with its sandbox, built (niced, -j2) if
    needed."""
    if not (CROSS_BUILD / "build.ninja").exists():
        subprocess.run(["meson", "setup", str(CROSS_BUILD),
                        "--cross-file", str(ROOT / "cross" / "riscv64-linux-gnu.ini"),
                        "--cross-file", fx["seccomp_cross_file"]],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    options = json.loads(subprocess.run(
        ["meson", "introspect", "--buildoptions", str(CROSS_BUILD)],
        check=True, stdout=subprocess.PIPE, text=True).stdout)
    if not any(o["name"] == "sandbox" and o["value"] == "enabled"
               for o in options):
        pytest.fail(f"{CROSS_BUILD} was set up without the sandbox: remove "
                    "it, or set it up with both cross files (docs/riscv.md)")
    subprocess.run(["nice", "-n", "15", "ninja", "-j2", "-C", str(CROSS_BUILD),
                    "src/vmm/duvisor-vmm", "tools/duvisor-ctl"], check=True,
                   stdout=subprocess.DEVNULL)
    return CROSS_BUILD / "src" / "vmm" / "duvisor-vmm"


@pytest.fixture(scope="module")
def results():
    fx = fixtures()
    vmm = cross_build(fx)
    out = RESULTS / "kvm"
    subprocess.run(["rm", "-rf", str(out)], check=True)
    proc = subprocess.run(
        [str(HERE / "run-in-rv-host"), "--", "sh",
         str(HERE / "guest-scenarios"), str(vmm), fx["image"],
         fx["guest_initramfs"], str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(proc.stdout)
    assert proc.returncode == 0, f"run-in-rv-host: {proc.returncode}\n{proc.stdout}"
    return out


class Run:
    def __init__(self, out, name):
        self.name = name
        self.console = (out / f"{name}.console").read_text(errors="replace").replace("\r", "")
        self.stderr = (out / f"{name}.stderr").read_text(errors="replace")
        self.status = int((out / f"{name}.status").read_text())
        self.seconds = float((out / f"{name}.seconds").read_text())

    def __str__(self):
        return (f"{self.name}: status {self.status} after {self.seconds} s\n"
                f"--- stderr\n{self.stderr}\n--- console (tail)\n"
                f"{self.console[-3000:]}")


def run(results, name):
    return Run(results, name)


def test_boot_to_ready_and_poweroff(results):
    r = run(results, "poweroff")
    assert "DUVISOR-GUEST-READY" in r.console, r
    assert "DUVISOR-GUEST-POWEROFF" in r.console, r
    assert "DUVISOR-NPROC=1" in r.console, r
    assert r.status == 0, r
    assert "guest powered off" in r.stderr, r
    # The guest ran on the device tree's UART, PLIC and SBI timer: its
    # console went through our 16550A.
    assert re.search(r"mmio\.uart=\d+", r.stderr), r
    print(f"riscv64 guest in the TCG host: powered off after {r.seconds} s")


def test_two_vcpus_and_sbi_console(results):
    r = run(results, "smp")
    assert "DUVISOR-NPROC=2" in r.console, r
    # earlycon=sbi: legacy SBI putchar calls, forwarded by KVM to us.
    assert "earlycon: sbi0" in r.console, r
    assert re.search(r"exits\.hypercall=[1-9]", r.stderr), r
    assert re.search(r"DUVISOR-CMD-BEGIN\n2\nDUVISOR-CMD-EXIT=0", r.console), r
    assert r.status == 0, r


def test_illegal_instruction_kills_only_the_program(results):
    """A guest program reads hgatp, which its user space has no access
    to: the program dies of a signal, the VM lives on.  (KVM 6.1 in the
    TCG host delivers SIGSEGV here, status 139; the dvext accelerator
    raises an illegal instruction, SIGILL, as the hart would.)"""
    r = run(results, "illegal")
    m = re.search(r"DUVISOR-CMD-EXIT=(\d+)", r.console)
    assert m and int(m.group(1)) > 128, r
    assert "DUVISOR-GUEST-POWEROFF" in r.console, r
    assert r.status == 0, r


def test_virtio_blk_and_rng(results):
    r = run(results, "virtio")  # with --sandbox on
    md5 = (results / "virtio.disk-md5").read_text().strip()
    assert f"DISK-MD5={md5}" in r.console, r
    assert "RNG=virtio_rng.0" in r.console, r
    assert "RNG-BYTES=16" in r.console, r
    assert r.status == 0, r


def test_virtio_net(results):
    r = run(results, "net")  # with --sandbox on
    assert "PING-OK" in r.console, r
    assert "DUVISOR-CMD-EXIT=0" in r.console, r
    assert r.status == 0, r


def test_reboot_rebuilds_the_vm(results):
    r = run(results, "reboot")  # with --sandbox on: rebuilt under seccomp
    assert r.console.count("DUVISOR-GUEST-READY") >= 2, r
    assert "DUVISOR-GUEST-REBOOT" in r.console, r
    assert "guest reset: rebooting" in r.stderr, r
    assert r.status == 0, r     # SIGQUIT: stopped on request


def test_no_reboot_exits_32(results):
    r = run(results, "no-reboot")
    assert r.console.count("DUVISOR-GUEST-READY") == 1, r
    assert r.status == 32, r


def test_power_button(results):
    r = run(results, "powerbutton")
    assert "pressing the power button" in r.stderr, r
    assert "DUVISOR-GUEST-POWERBUTTON" in r.console, r
    assert r.status == 0, r
    ready = (results / "powerbutton.ready-seconds").read_text().strip()
    print(f"riscv64 guest in the TCG host: ready marker after {ready} s")


def test_control_channel(results):
    """duvisor-ctl (cross-built too) steers the riscv VMM."""
    r = run(results, "control")
    ctl = (results / "control.ctl").read_text()
    assert re.search(r"> status\nstate=running\n", ctl), ctl
    assert re.search(r"> status\nstate=paused\n", ctl), ctl
    assert "devices=plic,uart,power-button" in ctl, ctl
    assert "sandbox=on" in ctl, ctl
    assert not re.search(r"^< [^0]", ctl, re.M), ctl
    assert "requested reset: rebooting" in r.stderr, r
    assert r.console.count("DUVISOR-GUEST-READY") == 2, r
    assert "DUVISOR-GUEST-POWERBUTTON" in r.console, r
    assert r.status == 0, r


def test_console_input(results):
    """Typed into the guest's shell through a pty: UART receive interrupts
    (a level-triggered PLIC source)."""
    r = run(results, "console")
    assert "serial console on /dev/pts/" in r.stderr, r
    # The shell's output, not just the echo of what was typed.
    assert re.search(r"^DV-INPUT-42$", r.console, re.M), r
    assert "DUVISOR-GUEST-POWEROFF" in r.console, r
    assert r.status == 0, r


def test_sandbox_traps_a_forbidden_call(results):
    """The riscv64 seccomp filter (libseccomp cross-built) is real: a
    forbidden openat (56 on riscv64) kills the VMM with SIGSYS."""
    r = run(results, "forbidden")
    assert "forbidden system call 56 (seccomp)" in r.stderr, r
    assert r.status == 128 + 31, r
