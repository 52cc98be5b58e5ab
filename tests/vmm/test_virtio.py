# SPDX-License-Identifier: GPL-2.0-or-later
"""virtio-mmio devices seen by a real guest: entropy and disks."""
import hashlib
import os
import re
import shutil
import subprocess

import pytest

from conftest import READY

MIB = 1 << 20


def make_image(path, size, fill=b"\0"):
    with open(path, "wb") as f:
        f.write(fill * size)
    return path


def disk_arg(path, **opts):
    return ",".join([f"path={path}"] + [f"{k}={v}" for k, v in opts.items()])


def run_cmd(run_vmm, command, extra_args, **kw):
    vm = run_vmm(command=command, extra_args=["--stats", *extra_args], **kw)
    vm.wait_for(READY)
    vm.wait_for("DUVISOR-CMD-EXIT=")
    assert vm.wait_exit() == 0, vm.stderr()
    return vm


def marker_lines(vm, prefix):
    """Lines the command printed as "PREFIX value..." (from PREFIX on)."""
    word = prefix + " "
    return [line[line.index(word):] for line in vm.lines if word in line]


def test_hwrng_yields_data(run_vmm):
    vm = run_cmd(run_vmm,
                 "echo RNG-CURRENT $(cat /sys/class/misc/hw_random/rng_current); "
                 "echo RNG-DATA $(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | "
                 "od -An -tx1 | tr -d ' \\n')",
                 ["--rng"])
    assert "virtio_rng" in marker_lines(vm, "RNG-CURRENT")[0]
    data = marker_lines(vm, "RNG-DATA")[0].split()[1]
    assert len(data) == 128 and data != "0" * 128, data


def test_disk_write_read_back(run_vmm, tmp_path):
    image = make_image(tmp_path / "disk.img", 16 * MIB)
    # 1 MiB of a recognisable pattern at 1 MiB into the disk, O_DIRECT-free
    # read back after dropping the guest's cache of the device.
    cmd = ("yes DUVISOR-PATTERN-0123456789 | head -c 1048576 > /tmp/p; "
           "dd if=/tmp/p of=/dev/vda bs=4096 seek=256 conv=fsync 2>/dev/null; "
           "blockdev --flushbufs /dev/vda; "
           "echo SUM-WRITTEN $(md5sum < /tmp/p); "
           "echo SUM-READ $(dd if=/dev/vda bs=4096 skip=256 count=256 2>/dev/null | md5sum); "
           "echo SIZE $(cat /sys/block/vda/size) RO $(cat /sys/block/vda/ro)")
    vm = run_cmd(run_vmm, cmd, ["--disk", disk_arg(image)])
    written = marker_lines(vm, "SUM-WRITTEN")[0].split()[1]
    read = marker_lines(vm, "SUM-READ")[0].split()[1]
    assert written == read
    assert marker_lines(vm, "SIZE")[0].split() == ["SIZE", str(16 * MIB // 512), "RO", "0"]
    data = image.read_bytes()
    pattern = (b"DUVISOR-PATTERN-0123456789\n" * (MIB // 27 + 1))[:MIB]
    assert data[MIB:2 * MIB] == pattern
    assert hashlib.md5(pattern).hexdigest() == written
    assert data[:MIB] == b"\0" * MIB and data[2 * MIB:] == b"\0" * (14 * MIB)


def test_readonly_disk_refuses_writes(run_vmm, tmp_path):
    image = make_image(tmp_path / "ro.img", 4 * MIB, b"\xa5")
    cmd = ("echo RO $(cat /sys/block/vda/ro); "
           "dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync 2>/dev/null; "
           "echo WRITE-RC $?; "
           "echo FIRST $(dd if=/dev/vda bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d ' \\n')")
    vm = run_cmd(run_vmm, cmd, ["--disk", disk_arg(image, readonly="on")])
    assert marker_lines(vm, "RO")[0].split() == ["RO", "1"]
    assert marker_lines(vm, "WRITE-RC")[0].split() != ["WRITE-RC", "0"]
    assert marker_lines(vm, "FIRST")[0].split()[1] == "a5" * 16
    assert image.read_bytes() == b"\xa5" * (4 * MIB)


@pytest.fixture
def loop_device(tmp_path):
    """A loop block device over a 12 MiB file (block devices take O_DIRECT,
    the test host's tmpfs does not)."""
    if os.geteuid() != 0 or not shutil.which("losetup"):
        pytest.skip("needs root and losetup")
    image = make_image(tmp_path / "loop.img", 12 * MIB)
    dev = subprocess.run(["losetup", "-f", "--show", str(image)], check=True,
                         capture_output=True, text=True).stdout.strip()
    yield dev
    subprocess.run(["losetup", "-d", dev], check=False)


def test_two_disks_in_order_with_serials(run_vmm, tmp_path, loop_device):
    a = make_image(tmp_path / "a.img", 8 * MIB)
    fd = os.open(loop_device, os.O_RDWR)
    try:
        cmd = ("for d in vda vdb; do echo DISK $d $(cat /sys/block/$d/size) "
               "$(cat /sys/block/$d/serial); done; "
               "echo hello-loop | dd of=/dev/vdb bs=512 conv=sync,fsync 2>/dev/null")
        vm = run_vmm(command=cmd, extra_args=[
            "--disk", disk_arg(a, serial="DV-SERIAL-A"),
            "--disk", f"fd={fd},serial=DV-SERIAL-B,direct=on"],
            pass_fds=(fd,))
        vm.wait_for("DUVISOR-CMD-EXIT=0")
        assert vm.wait_exit() == 0, vm.stderr()
    finally:
        os.close(fd)
    assert marker_lines(vm, "DISK") == [
        f"DISK vda {8 * MIB // 512} DV-SERIAL-A",
        f"DISK vdb {12 * MIB // 512} DV-SERIAL-B",
    ]
    with open(loop_device, "rb") as f:
        assert f.read(11) == b"hello-loop\n"


def test_direct_on_tmpfs_is_a_clear_error(run_vmm, tmp_path):
    image = make_image(tmp_path / "d.img", MIB)
    try:
        os.close(os.open(image, os.O_RDWR | os.O_DIRECT))
        pytest.skip("this file system takes O_DIRECT")
    except OSError:
        pass
    vm = run_vmm(extra_args=["--disk", disk_arg(image, direct="on")])
    assert vm.wait_exit() == 1
    assert "direct=off" in vm.stderr()


def test_discard_reaches_the_image(run_vmm, tmp_path):
    # (busybox cannot issue WRITE_ZEROES; tests/unit/test-virtio-blk covers it)
    image = make_image(tmp_path / "trim.img", 8 * MIB, b"\x5a")
    cmd = "blkdiscard -o 1048576 -l 1048576 /dev/vda; echo DISCARD-RC $?"
    vm = run_cmd(run_vmm, cmd, ["--disk", disk_arg(image)])
    assert marker_lines(vm, "DISCARD-RC")[0].split() == ["DISCARD-RC", "0"]
    data = image.read_bytes()
    assert data[MIB:2 * MIB] == b"\0" * MIB
    assert data[:MIB] == b"\x5a" * MIB
    assert data[2 * MIB:] == b"\x5a" * (6 * MIB)


def test_disk_io_needs_few_exits(run_vmm, tmp_path):
    """Kicks go through an ioeventfd: an I/O costs only the interrupt's
    status read and ack (2 MMIO exits) at most."""
    image = make_image(tmp_path / "perf.img", 64 * MIB)
    vm = run_cmd(run_vmm,
                 "dd if=/dev/vda of=/dev/null bs=4096 count=4096 iflag=direct 2>/dev/null "
                 "|| dd if=/dev/vda of=/dev/null bs=4096 count=4096 2>/dev/null",
                 ["--disk", disk_arg(image)])
    m = re.search(r"mmio\.virtio-blk0=(\d+)", vm.stderr())
    assert m, vm.stderr()
    exits = int(m.group(1))
    print(f"virtio-blk0 MMIO exits for the whole boot and 16 MiB read: {exits}")
    # Probe and setup take ~60; 4096 requests would take 8192 with
    # per-request interrupts and far more with exits per kick.
    assert exits < 2 * 4096 + 200

