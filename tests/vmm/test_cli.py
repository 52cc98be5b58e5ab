# SPDX-License-Identifier: GPL-2.0-or-later
"""Bad input to duvisor-vmm: one clear error line and exit status 1."""
import subprocess

import pytest

from conftest import vmm_binary


def run(*args, timeout=60):
    return subprocess.run([vmm_binary(), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def assert_one_error(p, *words):
    assert p.returncode == 1, p
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("duvisor-vmm: error: "), p.stderr
    for w in words:
        assert w in lines[0], p.stderr


def test_help_documents_options_and_exit_statuses():
    p = run("--help")
    assert p.returncode == 0
    for word in ["--kernel", "--initrd", "--cmdline", "--memory", "--cpus",
                 "--console", "stdio", "pty", "unix:PATH", "file:PATH",
                 "--console-log", "--no-reboot", "--stats", "Exit status", "32", "33",
                 "--net", "tap=NAME", "fd=N", "mac=", "--balloon", "stats-period=N",
                 "deflate-on-oom=on", "target=SIZE"]:
        assert word in p.stdout


def test_version():
    p = run("--version")
    assert p.returncode == 0 and p.stdout.startswith("duvisor-vmm ")


@pytest.mark.parametrize("args,words", [
    ((), ["no kernel"]),
    (("--kernel", "/nonexistent/bzImage"), ["/nonexistent/bzImage", "No such file"]),
    (("--kernel", "/dev/null"), ["not a regular file"]),
    (("--kernel", "x", "--memory", "lots"), ["memory size", "lots"]),
    (("--kernel", "x", "--memory", "1M"), ["out of range"]),
    (("--kernel", "x", "--memory", "-5"), ["memory size"]),
    (("--kernel", "x", "--cpus", "0"), ["vCPU count"]),
    (("--kernel", "x", "--memory-merge", "yes"), ["--memory-merge", "on or off", "yes"]),
    (("--kernel", "x", "--cpus", "two"), ["vCPU count"]),
    (("--kernel", "x", "--console", "serial0"), ["console", "serial0"]),
    (("--kernel", "x", "--bogus"), ["unknown option", "--bogus"]),
    (("--kernel",), ["needs a value"]),
    (("--kernel", "x", "stray"), ["unexpected argument", "stray"]),
    (("--kernel", "x", "--net", "mac=52:54:00:12:34:56"), ["--net", "one of tap= and fd="]),
    (("--kernel", "x", "--net", "tap=a,fd=3"), ["--net", "one of tap= and fd="]),
    (("--kernel", "x", "--net", "tap=" + "a" * 16), ["--net", "invalid value for 'tap'"]),
    (("--kernel", "x", "--net", "tap=a,mac=01:00:5e:00:00:01"), ["invalid value for 'mac'"]),
    (("--kernel", "x", "--net", "tap=a,mac=52:54:00:12:34"), ["invalid value for 'mac'"]),
    (("--kernel", "x", "--net", "tap=a,queues=2"), ["unknown net option 'queues'"]),
    (("--kernel", "x") + ("--net", "tap=a") * 5, ["at most 4 NICs"]),
    (("--kernel", "x", "--balloon", "pages=5"), ["--balloon", "unknown balloon option 'pages'"]),
    (("--kernel", "x", "--balloon=stats-period=soon"), ["invalid value for 'stats-period'"]),
    (("--kernel", "x", "--balloon=deflate-on-oom=yes"), ["invalid value for 'deflate-on-oom'"]),
    (("--kernel", "x", "--balloon=target=0"), ["invalid value for 'target'"]),
    (("--kernel", "x", "--memory", "256M", "--balloon=target=257M"),
     ["--balloon target= is more than --memory"]),
])
def test_bad_arguments(args, words):
    assert_one_error(run(*args), *words)


@pytest.mark.parametrize("fd,words", [(0, ["NIC 0", "fd 0", "not a tap"]),
                                      (77, ["NIC 0", "fd 77", "not open"])])
def test_net_fd_that_is_no_tap(guest, fd, words):
    assert_one_error(run("--kernel", str(guest / "vmlinuz"), "--net", f"fd={fd}"), *words)


def test_missing_initrd(guest):
    assert_one_error(run("--kernel", str(guest / "vmlinuz"), "--initrd", "/nope.img"),
                     "initrd", "/nope.img")


def test_kernel_that_is_not_a_kernel(tmp_path):
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x7fELF" + b"\0" * 60)
    assert_one_error(run("--kernel", str(junk)), "kernel", "ELF")
    junk.write_bytes(b"MZ" + bytes(range(256)) * 40)
    assert_one_error(run("--kernel", str(junk)), "not a Linux kernel")


def test_too_many_vcpus(guest):
    assert_one_error(run("--kernel", str(guest / "vmlinuz"), "--cpus", "100000"), "vCPUs")


def test_command_line_too_long(guest):
    assert_one_error(run("--kernel", str(guest / "vmlinuz"), "--cmdline", "x" * 5000),
                     "command line")


def test_initrd_larger_than_memory(guest, tmp_path):
    big = tmp_path / "big.img"
    with open(big, "wb") as f:
        f.truncate(128 << 20)
    # 128 MiB leaves the kernel room to decompress but none for this initrd.
    assert_one_error(run("--kernel", str(guest / "vmlinuz"), "--initrd", str(big),
                         "--memory", "128M"), "initrd", "does not fit")
