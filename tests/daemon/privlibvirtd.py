# SPDX-License-Identifier: GPL-2.0-or-later
"""A private libvirtd for tests of the delegated storage and network
procedures (src/driver-duvisor/delegate.h), started without systemd.

Debian 12 ships only the monolithic libvirtd, whose root ("privileged")
mode keeps its state in fixed places (/etc/libvirt, /run/libvirt,
/var/lib/libvirt, ...).  So that a test never touches the host's libvirt
nor another test's, this one runs in its own mount namespace (unshare -m)
where those directories are bind mounts of a private directory; its socket
is in that directory, outside the bind mounts, so our daemon reaches it as
storage:///system?socket=DIR/sock/libvirt-sock.  LIBVIRT_DRIVER_DIR points
it at a directory holding only the storage and network driver modules:
the QEMU driver would want the libvirt-qemu user and probe QEMU for long.

Shared with the host all the same: bridges, iptables (libvirt's network
driver adds its LIBVIRT_* chains once) and dnsmasq processes, which is why
tests use their own bridge names and destroy their networks (stop() does).
"""
import glob
import os
import pathlib
import shutil
import signal
import subprocess
import time

from conftest import connectable

DRIVERS = ("network", "storage")
MOUNTED = ("/etc/libvirt", "/run/libvirt", "/var/lib/libvirt",
           "/var/cache/libvirt", "/var/log/libvirt")


def unavailable():
    """Why a private libvirtd cannot run here, or None."""
    if os.geteuid() != 0:
        return "a privileged libvirtd needs root"
    for tool in ("libvirtd", "unshare", "mount"):
        if not shutil.which(tool):
            return f"{tool} is not installed (tools/install-deps)"
    if not _driver_dir():
        return "libvirt's storage/network driver modules are not installed"
    return None


def _driver_dir():
    for d in glob.glob("/usr/lib*/*/libvirt/connection-driver") + \
            glob.glob("/usr/lib*/libvirt/connection-driver"):
        if all(os.path.exists(f"{d}/libvirt_driver_{n}.so") for n in DRIVERS):
            return d
    return None


class PrivateLibvirtd:
    def __init__(self, tmpdir, wrapper=()):
        """@wrapper runs it (e.g. ip netns exec NS: its bridges then
        live in that network namespace)."""
        self.dir = pathlib.Path(tmpdir)
        self.wrapper = list(wrapper)
        self.sock = self.dir / "sock" / "libvirt-sock"
        self.log_path = self.dir / "libvirtd.log"
        self.proc = None
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "sock").mkdir(exist_ok=True)
        drivers = self.dir / "drivers"
        drivers.mkdir(exist_ok=True)
        for name in DRIVERS:
            link = drivers / f"libvirt_driver_{name}.so"
            if not link.exists():
                link.symlink_to(f"{_driver_dir()}/libvirt_driver_{name}.so")
        for d in MOUNTED:
            (self.dir / d.strip("/").replace("/", "-")).mkdir(exist_ok=True)
        self.conf = self.dir / "libvirtd.conf"
        self.conf.write_text(
            f'unix_sock_dir = "{self.sock.parent}"\n'
            'unix_sock_rw_perms = "0700"\n'
            'auth_unix_rw = "none"\n'
            'auth_unix_ro = "none"\n')

    def uri(self, scheme):
        return f"{scheme}:///system?socket={self.sock}"

    def start(self):
        mounts = "".join(
            f"mkdir -p {d} && mount --bind "
            f"{self.dir / d.strip('/').replace('/', '-')} {d} && "
            for d in MOUNTED)
        script = (f"mount --make-rprivate / && {mounts}"
                  f"exec libvirtd -f {self.conf} "
                  f"-p {self.dir / 'libvirtd.pid'}")
        env = dict(os.environ, LIBVIRT_DRIVER_DIR=str(self.dir / "drivers"))
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.wrapper +
                                     ["unshare", "-m", "sh", "-c", script],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     env=env)
        deadline = time.monotonic() + 30
        while not connectable(self.sock):
            if self.proc.poll() is not None:
                raise AssertionError("libvirtd exited:\n" + self.log())
            if time.monotonic() > deadline:
                raise AssertionError("libvirtd did not start:\n" + self.log())
            time.sleep(0.05)

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self, clean=True):
        """Stops libvirtd; with clean, first destroys what tests left
        running (networks keep their bridge and dnsmasq otherwise)."""
        if not self.proc or self.proc.poll() is not None:
            return
        if clean:
            self._destroy_all()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        try:
            self.sock.unlink()
        except FileNotFoundError:
            pass

    def _destroy_all(self):
        import libvirt
        for scheme in ("network", "storage"):
            try:
                conn = libvirt.open(self.uri(scheme))
            except libvirt.libvirtError:
                continue
            try:
                objs = (conn.listAllNetworks() if scheme == "network"
                        else conn.listAllStoragePools())
                for obj in objs:
                    # A transient object is gone once destroyed.
                    persistent = obj.isPersistent()
                    if obj.isActive():
                        obj.destroy()
                    if persistent:
                        obj.undefine()
            finally:
                conn.close()
