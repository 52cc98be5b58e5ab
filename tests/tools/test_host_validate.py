# SPDX-License-Identifier: GPL-2.0-or-later
"""duvisor-host-validate on the machine it runs on: here (where /dev/kvm
may be PVM) and inside the KVM test host (real kvm-amd).  The verdicts are
checked against facts read independently of the tool."""
import os
import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LINE = re.compile(r"^DUVISOR: Checking (.+?)\s+: (PASS|WARN|FAIL|NOTE)( \(.+\))?$")


def tool():
    path = os.environ.get("DUVISOR_HOST_VALIDATE",
                          str(ROOT / "build/tools/duvisor-host-validate"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"duvisor-host-validate not built at {path}")
    return path


def run(*args):
    r = subprocess.run([tool(), *args], capture_output=True, text=True,
                       timeout=60)
    verdicts = {}
    for line in r.stdout.splitlines():
        m = LINE.match(line)
        assert m, f"malformed line: {line!r}"
        verdicts[m.group(1)] = (m.group(2), m.group(3) or "")
    return r, verdicts


def cpu_has_virt():
    flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
    return bool({"vmx", "svm"} & set(flags.split()))


def test_verdicts_match_the_host():
    r, v = run()
    assert r.stderr == ""
    assert r.returncode == (1 if any(s == "FAIL" for s, _ in v.values()) else 0)
    hw = v["for hardware virtualization"][0]
    assert (hw == "PASS") == cpu_has_virt()
    assert v["if device /dev/kvm exists"][0] == (
        "PASS" if os.path.exists("/dev/kvm") else "FAIL")
    assert v["if device /dev/net/tun exists"][0] == (
        "PASS" if os.path.exists("/dev/net/tun") else "FAIL")
    real_kvm = v.get("if KVM runs unmodified guests")
    if os.path.exists("/sys/module/kvm_pvm"):
        assert real_kvm[0] == "WARN" and "PVM" in real_kvm[1]
    elif os.environ.get("DUVISOR_TEST_HOST"):
        # kvm-amd with nested paging: everything DuVisor needs is there.
        assert real_kvm[0] == "PASS"
        assert v["for KVM ioeventfd"][0] == v["for KVM irqfd"][0] == "PASS"
    seccomp = pathlib.Path("/proc/sys/kernel/seccomp/actions_avail")
    assert v["for seccomp filters"][0] == (
        "PASS" if seccomp.exists() and "kill_process" in seccomp.read_text()
        else "FAIL")


def test_quiet_lists_only_problems():
    _, full = run()
    r, quiet = run("-q")
    assert set(quiet) == {k for k, (s, _) in full.items() if s in ("WARN", "FAIL")}


def test_usage_errors():
    r = subprocess.run([tool(), "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "Usage:" in r.stderr
    r = subprocess.run([tool(), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("duvisor-host-validate")
