# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for tests that boot real guests with duvisor-vmm.

They need a /dev/kvm that runs unmodified Linux: tools/test runs them inside
the KVM test host (tests/host/run-in-host). Paths come from the environment:
DUVISOR_VMM (the binary), DUVISOR_GUEST_DIR (the fixture from
tests/guest/build-guest).
"""
import base64
import os
import pathlib
import shlex
import signal
import subprocess
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
READY = "DUVISOR-GUEST-READY"
# Generous: guests run nested under an emulated CPU here.
BOOT_TIMEOUT = float(os.environ.get("DUVISOR_BOOT_TIMEOUT", "240"))


def vmm_binary():
    path = os.environ.get("DUVISOR_VMM", str(ROOT / "build/src/vmm/duvisor-vmm"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"duvisor-vmm not built at {path} (set DUVISOR_VMM)")
    return path


def guest_dir():
    d = os.environ.get("DUVISOR_GUEST_DIR")
    if not d:
        cache = os.environ.get("DUVISOR_CACHE", "/var/tmp/duvisor-cache")
        d = os.path.join(cache, "guest")
    d = pathlib.Path(d)
    if not (d / "vmlinuz").exists():
        pytest.fail(f"guest fixture missing in {d}: run tests/guest/build-guest")
    return d


def b64(cmd):
    return base64.b64encode(cmd.encode()).decode()


class Vmm:
    """A running duvisor-vmm with its console on a pipe, read line by line."""

    def __init__(self, args, console_stdio=True, pass_fds=()):
        self.args = args
        self.lines = []
        self.stderr_lines = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE if console_stdio else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=pass_fds,
        )
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines), daemon=True),
        ]
        for t in self._readers:
            t.start()

    def _pump(self, stream, sink):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._cond:
                sink.append(line)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def output(self):
        with self._cond:
            return "\n".join(self.lines)

    def stderr(self):
        with self._cond:
            return "\n".join(self.stderr_lines)

    def count(self, text):
        with self._cond:
            return sum(1 for line in self.lines if text in line)

    def wait_for(self, text, timeout=BOOT_TIMEOUT, occurrences=1):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if sum(1 for line in self.lines if text in line) >= occurrences:
                    return
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not any(t.is_alive() for t in self._readers)):
                    break
                self._cond.wait(min(left, 1.0))
        self.kill()
        raise AssertionError(
            f"{text!r} x{occurrences} not seen within {timeout}s "
            f"(exit {self.proc.returncode})\n--- console ---\n{self.output()[-4000:]}"
            f"\n--- stderr ---\n{self.stderr()[-2000:]}")

    def value(self, key):
        """The value of a KEY=value marker line."""
        prefix = key + "="
        with self._cond:
            for line in self.lines:
                idx = line.find(prefix)
                if idx >= 0:
                    return line[idx + len(prefix):].strip()
        raise AssertionError(f"no {key}= line in console output:\n{self.output()[-3000:]}")

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait_exit(self, timeout=BOOT_TIMEOUT):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"duvisor-vmm did not exit within {timeout}s\n"
                                 f"--- console ---\n{self.output()[-4000:]}")
        for t in self._readers:
            t.join(10)
        return rc

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)


@pytest.fixture
def guest():
    return guest_dir()


@pytest.fixture
def run_vmm(guest, request):
    """Starts duvisor-vmm on the fixture guest; kills it after the test."""
    started = []

    def start(cmdline_extra="", action="poweroff", command=None, kernel="vmlinuz",
              memory="256M", cpus=1, extra_args=(), binary=None, console_stdio=True,
              pass_fds=(), wrapper=()):
        cmdline = "console=ttyS0 quiet"
        if command is not None:
            cmdline += f" dvcmd={b64(command)}"
        cmdline += f" dvaction={action}"
        if cmdline_extra:
            cmdline += " " + cmdline_extra
        args = [*wrapper, binary or vmm_binary(), "--kernel", str(guest / kernel),
                "--initrd", str(guest / "initramfs.cpio.gz"),
                "--cmdline", cmdline, "--memory", str(memory),
                "--cpus", str(cpus), *extra_args]
        vm = Vmm(args, console_stdio=console_stdio, pass_fds=pass_fds)
        vm.cmdline = cmdline
        started.append(vm)
        return vm

    yield start
    for vm in started:
        vm.kill()
        if getattr(request.node, "rep_call", None) and request.node.rep_call.failed:
            print(f"command: {shlex.join(vm.args)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
