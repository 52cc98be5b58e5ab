# SPDX-License-Identifier: GPL-2.0-or-later
"""The Debian package, autopkgtest-style: built from the tree by
packaging/build-deb, installed with apt into a fresh debootstrapped
bookworm root (cached, minbase), checked, and purged without leftovers.

DUVISOR_DEB reuses an already built .deb; DUVISOR_CACHE holds the root."""
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE = pathlib.Path(os.environ.get("DUVISOR_CACHE", "/var/tmp/duvisor-cache"))
MIRROR = "http://deb.debian.org/debian"
# Bump when the root's recipe changes: the cached tarball is rebuilt.
ROOT_RECIPE = "bookworm-minbase-1"

FILES = [
    "usr/bin/duvisor-vmm", "usr/sbin/virtduvisord",
    "usr/bin/duvisor-host-validate",
    "lib/systemd/system/virtduvisord.service",
    "lib/systemd/system/virtduvisord.socket",
    "lib/systemd/system/virtduvisord-ro.socket",
    "etc/libvirt/virtduvisord.conf", "etc/logrotate.d/duvisor",
    "usr/share/duvisor/schemas/domain.rng",
    "usr/share/man/man8/virtduvisord.8.gz",
    "usr/share/man/man1/duvisor-vmm.1.gz",
    "usr/bin/duvisor-ctl", "usr/share/man/man1/duvisor-ctl.1.gz",
]
ENABLED = [
    "etc/systemd/system/sockets.target.wants/virtduvisord.socket",
    "etc/systemd/system/sockets.target.wants/virtduvisord-ro.socket",
    "etc/systemd/system/multi-user.target.wants/virtduvisord.service",
]


def run(*cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd}: {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    given = os.environ.get("DUVISOR_DEB")
    if given:
        return pathlib.Path(given)
    out = tmp_path_factory.mktemp("deb")
    run(str(ROOT / "packaging/build-deb"), str(out), timeout=1800)
    return next(p for p in out.glob("duvisor_*.deb"))


def base_tarball():
    tar = CACHE / "pkgtest" / f"{ROOT_RECIPE}.tar"
    if not tar.exists():
        if not shutil.which("debootstrap"):
            pytest.fail("debootstrap missing: tools/install-deps installs it")
        tar.parent.mkdir(parents=True, exist_ok=True)
        work = tar.parent / "root.tmp"
        shutil.rmtree(work, ignore_errors=True)
        run("debootstrap", "--variant=minbase", "bookworm", str(work), MIRROR,
            timeout=1800)
        run("tar", "-C", str(work), "-cf", f"{tar}.tmp", ".")
        os.replace(f"{tar}.tmp", tar)
        shutil.rmtree(work, ignore_errors=True)
    return tar


@pytest.fixture
def chroot(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    run("tar", "-C", str(root), "-xf", str(base_tarball()))
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    # As in any chroot install: no service may start here.
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    return root


def in_root(root, *cmd, timeout=900):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive",
           "LC_ALL": "C"}
    return run("chroot", str(root), *cmd, env=env, timeout=timeout)


def test_install_run_purge(deb, chroot):
    shutil.copy(deb, chroot / "tmp/duvisor.deb")
    in_root(chroot, "apt-get", "update")
    in_root(chroot, "apt-get", "install", "-y", "--no-install-recommends",
            "/tmp/duvisor.deb")
    for f in FILES + ENABLED:
        assert (chroot / f).exists() or (chroot / f).is_symlink(), f
    version = run("dpkg-deb", "-f", str(deb), "Version").strip()
    assert in_root(chroot, "virtduvisord", "--version").strip() == \
        f"virtduvisord (DuVisor) {version.split('-')[0]}"
    assert version.split("-")[0] in in_root(chroot, "duvisor-vmm", "--version")
    assert in_root(chroot, "duvisor-host-validate", "--version").startswith(
        "duvisor-host-validate")
    # The VMMs' own unprivileged user (the daemon's default VMM user).
    user = in_root(chroot, "getent", "passwd", "duvisor-vmm").split(":")
    assert int(user[2]) < 1000 and user[6].strip() == "/usr/sbin/nologin", user
    in_root(chroot, "apt-get", "purge", "-y", "duvisor")
    left = [f for f in FILES + ENABLED
            if (chroot / f).exists() or (chroot / f).is_symlink()]
    assert left == [], left
    assert "duvisor" not in in_root(chroot, "dpkg", "-l")
