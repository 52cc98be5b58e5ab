# SPDX-License-Identifier: GPL-2.0-or-later
"""The two management stacks the benchmarks compare, each started by the
benchmark in a private directory so that it never touches the machine's
own libvirt:

  * "duvisor": virtduvisord (private sockets, state, config and log
    directories) running duvisor-vmm, one process per domain;
  * "qemu": Debian 12's libvirtd with its QEMU driver running
    qemu-system-x86_64 with KVM.  Debian ships only the monolithic libvirtd,
    whose privileged mode keeps its files in fixed places (/etc/libvirt,
    /run/libvirt, /var/lib/libvirt, ...), so it runs in a mount namespace of
    its own where those are bind mounts of private directories, and so
    are /etc/passwd and /etc/group: its QEMU driver resolves the
    'libvirt-qemu' user before it reads qemu.conf, and that user exists only
    where libvirt-daemon-system is installed.  qemu.conf runs QEMU as root
    without a security driver, with its output in plain files (no
    virtlogd) and without a private /dev per domain (in the test host QEMU
    did not find /dev/kvm in it); everything else (cgroups, QEMU's seccomp
    sandbox, ...) is libvirt's default, as a user gets it.

Both get the same guest: one domain XML (kernel, initrd, command line,
memory, one vCPU with the host's CPU, ACPI, a 16550 serial console written
to a file, no balloon, no USB); libvirt's QEMU driver adds what its
machine type always has (i440fx PCI host, PS/2), which is QEMU as users run
it.
"""
import glob
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import time

OURS = "duvisor"
QEMU = "qemu"
STACKS = (OURS, QEMU)
LABELS = {OURS: "virtduvisord + duvisor-vmm", QEMU: "libvirtd + QEMU"}

READY = b"DUVISOR-GUEST-READY"
START_TIMEOUT = 60


def connectable(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_socket(proc, path, what, log_path, timeout=START_TIMEOUT):
    deadline = time.monotonic() + timeout
    while not connectable(path):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n"
                               + tail(log_path))
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not open {path}:\n" + tail(log_path))
        time.sleep(0.02)


def tail(path, n=3000):
    try:
        return pathlib.Path(path).read_text(errors="replace")[-n:]
    except OSError:
        return f"({path} unreadable)"


def children_map():
    """ppid -> [pid] for every process."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def with_descendants(pids):
    """@pids and all their descendants (a VM may be more than one process)."""
    kids = children_map()
    out, todo = [], list(pids)
    while todo:
        p = todo.pop()
        if p not in out:
            out.append(p)
            todo.extend(kids.get(p, []))
    return out


def memory_kib(pid):
    """(Rss, Pss) of process @pid in KiB from smaps_rollup, or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            text = f.read()
    except OSError:
        return None
    vals = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB":
            vals[key] = int(parts[0])
    return vals.get("Rss", 0), vals.get("Pss", 0)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Stack:
    key = None

    def __init__(self, workdir):
        self.dir = pathlib.Path(workdir) / self.key
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self.console_dir = self.dir / "consoles"
        self.console_dir.mkdir()
        self.log_path = self.dir / "daemon.log"
        self.proc = None
        self._log = None

    @property
    def label(self):
        return LABELS[self.key]

    def console(self, name):
        return self.console_dir / f"{name}.console"

    def domain_xml(self, name, kernel, initrd, mem_mib, action="wait",
                   balloon=False):
        """The domain both stacks run; @balloon: a virtio balloon with free
        page reporting (the guest hands back the memory it freed), else
        none."""
        con = self.console(name)
        if balloon:
            balloon_xml = "<memballoon model='virtio' freePageReporting='on'/>"
        else:
            balloon_xml = "<memballoon model='none'/>"
        return f"""<domain type='kvm'>
  <name>{name}</name>
  <memory unit='MiB'>{mem_mib}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>console=ttyS0 quiet dvaction={action}</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <cpu mode='host-passthrough'/>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <serial type='file'><source path='{con}'/><target port='0'/></serial>
    <console type='file'><source path='{con}'/><target type='serial' port='0'/></console>
    <controller type='usb' model='none'/>
    {balloon_xml}
  </devices>
</domain>
"""

    def daemon_pid(self):
        return self.proc.pid

    def vm_pids(self, name):
        """The processes running domain @name (empty when it does not run)."""
        raise NotImplementedError

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        return tail(self.log_path)

    def _spawn(self, argv, env=None):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log, env=env, start_new_session=True)

    def stop(self):
        """Stops the daemon and kills every VM it left (by pid: only ours)."""
        if self.proc is None:
            return
        vms = self.all_vm_pids()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in with_descendants(vms):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        self._log.close()
        self.proc = None

    def all_vm_pids(self):
        raise NotImplementedError

    def log_dirs(self):
        """Directories worth keeping: the consoles and the VMs' logs."""
        return {"consoles": self.console_dir, "vm-logs": self.vm_log_dir}


def _pid_file(path):
    try:
        return int(pathlib.Path(path).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class DuvisorStack(Stack):
    key = OURS

    def __init__(self, workdir, daemon, vmm):
        super().__init__(workdir)
        self.daemon = daemon
        self.vmm = vmm
        self.sock = self.dir / "run" / "virtduvisord-sock"
        self.state = self.dir / "state"
        self.conf = self.dir / "virtduvisord.conf"
        self.vm_log_dir = self.dir / "log"
        # No storage/network delegation: nothing here uses it.
        self.conf.write_text('storage_uri = ""\nnetwork_uri = ""\n')

    @property
    def uri(self):
        return f"duvisor:///system?socket={self.sock}"

    def start(self):
        self._spawn([self.daemon, "--config", str(self.conf), "--socket", str(self.sock),
                     "--ro-socket", "", "--state-dir", str(self.state),
                     "--config-dir", str(self.dir / "config"),
                     "--log-dir", str(self.vm_log_dir), "--vmm", self.vmm])
        wait_socket(self.proc, self.sock, "virtduvisord", self.log_path)

    def vm_pids(self, name):
        text = tail(self.state / f"{name}.status", 1 << 20)
        for line in text.splitlines():
            if line.startswith("pid="):
                pid = int(line[4:])
                return with_descendants([pid]) if alive(pid) else []
        return []

    def all_vm_pids(self):
        return [p for f in self.state.glob("*.status") for p in self.vm_pids(f.stem)]


def _driver_dir():
    for d in glob.glob("/usr/lib*/*/libvirt/connection-driver") + \
            glob.glob("/usr/lib*/libvirt/connection-driver"):
        if os.path.exists(f"{d}/libvirt_driver_qemu.so"):
            return d
    return None


# libvirtd's fixed directories, each replaced by a private one.
PRIVATE_DIRS = ("/etc/libvirt", "/run/libvirt", "/var/lib/libvirt",
                "/var/cache/libvirt", "/var/log/libvirt")


def qemu_unavailable():
    """Why the libvirt+QEMU stack cannot run here, or None."""
    if os.geteuid() != 0:
        return "a privileged libvirtd needs root"
    for tool in ("libvirtd", "unshare", "mount", "qemu-system-x86_64"):
        if not shutil.which(tool):
            return f"{tool} is not installed (tools/install-deps)"
    if not _driver_dir():
        return "libvirt's QEMU driver is not installed (libvirt-daemon-driver-qemu)"
    return None


class QemuStack(Stack):
    key = QEMU

    def __init__(self, workdir, qemu_cache=None):
        """@qemu_cache: a directory kept between runs for libvirt's cache of
        QEMU's capabilities (probing QEMU takes seconds; it is redone when
        QEMU or libvirt change)."""
        super().__init__(workdir)
        why = qemu_unavailable()
        if why:
            raise RuntimeError(why)
        self.sock = self.dir / "sock" / "libvirt-sock"
        self.sock.parent.mkdir()
        self.private = {d: self.dir / d.strip("/").replace("/", "-") for d in PRIVATE_DIRS}
        for p in self.private.values():
            p.mkdir()
        if qemu_cache:
            pathlib.Path(qemu_cache).mkdir(parents=True, exist_ok=True)
            self.private["/var/cache/libvirt"] = pathlib.Path(qemu_cache)
        self.vm_log_dir = self.private["/var/log/libvirt"]
        drivers = self.dir / "drivers"
        drivers.mkdir()
        (drivers / "libvirt_driver_qemu.so").symlink_to(
            f"{_driver_dir()}/libvirt_driver_qemu.so")
        self.conf = self.dir / "libvirtd.conf"
        self.conf.write_text(
            f'unix_sock_dir = "{self.sock.parent}"\n'
            'unix_sock_rw_perms = "0700"\n'
            'auth_unix_rw = "none"\n'
            'auth_unix_ro = "none"\n')
        (self.private["/etc/libvirt"] / "qemu.conf").write_text(
            'user = "root"\n'
            'group = "root"\n'
            'security_driver = "none"\n'
            'stdio_handler = "file"\n'
            'namespaces = []\n')
        self._users()

    def _users(self):
        passwd = pathlib.Path("/etc/passwd").read_text()
        group = pathlib.Path("/etc/group").read_text()
        if not any(line.startswith("libvirt-qemu:") for line in passwd.splitlines()):
            passwd += "libvirt-qemu:x:64055:64055:benchmark:/var/lib/libvirt:/usr/sbin/nologin\n"
        for g in ("libvirt-qemu", "kvm"):
            if not any(line.startswith(g + ":") for line in group.splitlines()):
                group += f"{g}:x:{64055 if g == 'libvirt-qemu' else 64056}:\n"
        (self.dir / "passwd").write_text(passwd)
        (self.dir / "group").write_text(group)

    @property
    def uri(self):
        return f"qemu:///system?socket={self.sock}"

    def start(self):
        binds = [(self.dir / "passwd", "/etc/passwd"), (self.dir / "group", "/etc/group")]
        binds += [(src, dst) for dst, src in self.private.items()]
        script = "mount --make-rprivate / && " + "".join(
            f"{{ [ -e {dst} ] || mkdir -p {dst}; }} && mount --bind {src} {dst} && " for src, dst in binds)
        script += f"exec libvirtd -f {self.conf} -p {self.dir / 'libvirtd.pid'}"
        env = dict(os.environ, LIBVIRT_DRIVER_DIR=str(self.dir / "drivers"))
        # unshare and sh exec: the pid is libvirtd's.
        self._spawn(["unshare", "-m", "sh", "-c", script], env=env)
        wait_socket(self.proc, self.sock, "libvirtd", self.log_path)

    def _run_dir(self):
        return self.private["/run/libvirt"] / "qemu"

    def vm_pids(self, name):
        pid = _pid_file(self._run_dir() / f"{name}.pid")
        return with_descendants([pid]) if pid and alive(pid) else []

    def all_vm_pids(self):
        return [p for f in self._run_dir().glob("*.pid") for p in self.vm_pids(f.stem)]


def make(key, workdir, args):
    if key == OURS:
        return DuvisorStack(workdir, args.daemon, args.vmm)
    return QemuStack(workdir, args.qemu_cache)
