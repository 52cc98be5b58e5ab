#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boot benchmark: duvisor-vmm against QEMU's microvm machine on one kernel.

Runs inside the KVM test host (tests/bench/run starts it there), as root,
with real KVM. For each round it boots the guest fixture once with each VMM
(the order alternates between rounds) and measures:

  * the time from process start to the DUVISOR-GUEST-READY console line and
    to process exit (the guest powers off: dvaction=poweroff);
  * memory at the ready line, from /proc/PID/smaps: total Rss, the Rss of
    the guest RAM mapping(s) (adjacent anonymous mappings adding up to guest
    RAM) and the difference, the VMM's own overhead;
  * returns from KVM_RUN to user space, counted in the kernel with the
    kvm:kvm_userspace_exit tracepoint (limited to the VMM's threads with
    TGIDs recorded with each event), by exit reason;
  * duvisor-vmm's own --stats line (exits by reason and by device).

After the timed rounds, one extra boot per VMM ("profile") also traces
kvm:kvm_exit so that every user-space exit can be attributed to an I/O port
or MMIO page, for both VMMs alike; tracing every VM exit slows the guest, so
these boots are kept out of the timings.

Results, in --out: the table (on stdout and in report.txt), runs.csv (one
row per boot), summary.csv (median, min, max per metric and VMM), exits.csv
(user-space exits by device) and vm-exits.csv (all VM exits by kind) from
the profile boots, and logs/ (console, stderr and the smaps snapshot of
every boot).

Only Debian-packaged Python (the standard library) is used.
"""
import argparse
import collections
import csv
import faulthandler
import os
import re
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import time

READY = b"DUVISOR-GUEST-READY"
POWEROFF = b"DUVISOR-GUEST-POWEROFF"
GUEST_ERROR = b"DUVISOR-GUEST-ERROR"

OURS = "duvisor-vmm"
QEMU = "qemu-microvm"
VMMS = (OURS, QEMU)

# Goals from the issue.
GOAL_BOOT_RATIO = 0.6
GOAL_OVERHEAD_KIB = 2048
GOAL_EXITS = 500

TOP_VM_EXITS = 15

TRACEFS_DIRS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")


def log(msg):
    print(f"vmm_boot: {msg}", file=sys.stderr, flush=True)


def die(msg):
    log(f"error: {msg}")
    sys.exit(1)


# --------------------------------------------------------------------------
# tracefs


class Tracefs:
    """The kernel's main trace instance. One VMM runs at a time and nothing
    else in the test host runs KVM guests, so each boot has the buffer to
    itself; events are still checked against the VMM's pid (record-tgid)."""

    def __init__(self, buffer_kb):
        self.root = self._find()
        self.buffer_kb = buffer_kb
        self._lost0 = 0

    @staticmethod
    def _find():
        """The tracefs directory, mounting tracefs (or debugfs, which
        carries it at tracing/) if nothing is mounted yet."""
        attempts = (("tracefs", "/sys/kernel/tracing", "/sys/kernel/tracing"),
                    ("debugfs", "/sys/kernel/debug", "/sys/kernel/debug/tracing"))
        for _, _, d in attempts:
            if os.path.exists(os.path.join(d, "trace")):
                return d
        for fstype, mnt, d in attempts:
            if os.path.isdir(mnt):
                subprocess.run(["mount", "-t", fstype, fstype, mnt],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if os.path.exists(os.path.join(d, "trace")):
                    return d
        die("no tracefs: mounting /sys/kernel/tracing (or debugfs) failed")

    def path(self, rel):
        return os.path.join(self.root, rel)

    def write(self, rel, value):
        with open(self.path(rel), "w") as f:
            f.write(value)

    def read(self, rel):
        with open(self.path(rel)) as f:
            return f.read()

    def has_event(self, event):
        return os.path.exists(self.path(f"events/{event}/enable"))

    def configure(self, events):
        """Traces exactly EVENTS, of every task, each line with its TGID."""
        self.write("tracing_on", "0")
        self.write("events/enable", "0")
        self.write("set_event_pid", "")
        self.write("options/record-tgid", "1")
        self.write("buffer_size_kb", str(self.buffer_kb))
        for ev in events:
            if not self.has_event(ev):
                die(f"no tracepoint {ev} (is the kvm module loaded?)")
            self.write(f"events/{ev}/enable", "1")

    def losses(self):
        total = 0
        for cpu in os.listdir(self.path("per_cpu")):
            for line in self.read(f"per_cpu/{cpu}/stats").splitlines():
                key, _, value = line.partition(":")
                if key.strip() in ("overrun", "dropped events"):
                    try:
                        total += int(value.strip())
                    except ValueError:
                        pass
        return total

    def start(self):
        """Clears the buffers and starts tracing."""
        self.write("trace", "")  # clears every CPU's buffer
        self._lost0 = self.losses()
        self.write("tracing_on", "1")

    def stop(self):
        """Stops tracing; returns the number of events lost meanwhile."""
        self.write("tracing_on", "0")
        return self.losses() - self._lost0

    def text(self):
        return self.read("trace")

    def reset(self):
        try:
            self.write("tracing_on", "0")
            self.write("events/enable", "0")
            self.write("options/record-tgid", "0")
            self.write("trace", "")
            self.write("buffer_size_kb", "1408")
        except OSError:
            pass


# One trace line (options/record-tgid): "comm-tid (tgid) [cpu] flags ts:
# event: details"; the tgid is "-------" when unknown.
TRACE_LINE = re.compile(
    r"^\s*(.+)-(\d+)\s+\(\s*([-\d]+)\)\s+\[\d+\]\s+\S+\s+[\d.]+:\s+(\w+):\s+(.*)$")
USER_EXIT = re.compile(r"reason (\S+) \((\d+)\)")
KVM_EXIT = re.compile(r"reason (\S+).*? info1 0x([0-9a-f]+) info2 0x([0-9a-f]+)")


MSR_EVENT = re.compile(r"msr_(read|write) ([0-9a-f]+) = ")


def parse_trace(text, pid):
    """Returns (user-space exits by reason, ignored lines, user-space exits by
    device, VM exits by kind). Devices are known only when kvm_exit was
    traced: a user-space exit's cause is the last kvm_exit of the same
    thread (SVM: IOIO gives the port in info1, NPF the guest physical
    address in info2). VM exits (handled in KVM or not) are keyed by reason,
    port or MMIO page, and MSR (from kvm_msr)."""
    reasons = collections.Counter()
    devices = collections.Counter()
    vm_exits = collections.Counter()
    ignored = collections.Counter()
    last_exit = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = TRACE_LINE.match(line)
        if not m:
            ignored["unparsed"] += 1
            continue
        comm, tid, tgid, event, detail = (m.group(1).strip(), m.group(2), m.group(3),
                                          m.group(4), m.group(5))
        if tgid != str(pid):
            ignored["no tgid" if tgid.startswith("-") else f"other process {comm}-{tid}"] += 1
            continue
        if event == "kvm_exit":
            k = KVM_EXIT.search(detail)
            if k:
                cause = (k.group(1), int(k.group(2), 16), int(k.group(3), 16))
                last_exit[tid] = cause
                if cause[0] in ("io", "npf"):
                    vm_exits[device_of("exit", cause)] += 1
                elif cause[0] != "msr":
                    vm_exits[cause[0]] += 1
        elif event == "kvm_msr":
            k = MSR_EVENT.search(detail)
            if k:
                vm_exits[f"msr:{k.group(1)}:{int(k.group(2), 16):#x}"] += 1
        elif event == "kvm_userspace_exit":
            u = USER_EXIT.search(detail)
            reason = u.group(1) if u else "?"
            reasons[reason] += 1
            cause = last_exit.pop(tid, None)
            devices[device_of(reason, cause)] += 1
    return reasons, ignored, devices, vm_exits


# Names for the ports and MMIO pages either VMM uses.
PORT_NAMES = [
    (0x20, 0x21, "pic"), (0xa0, 0xa1, "pic"), (0x40, 0x43, "pit"),
    (0x60, 0x60, "i8042"), (0x64, 0x64, "i8042"), (0x61, 0x61, "port61"),
    (0x70, 0x71, "rtc"), (0x80, 0x80, "post"), (0x3f8, 0x3ff, "com1"),
    (0x2f8, 0x2ff, "com2"), (0x3e8, 0x3ef, "com3"), (0x2e8, 0x2ef, "com4"),
    (0x510, 0x51b, "fw_cfg"), (0x600, 0x603, "acpi-pm"),
    (0xcf8, 0xcff, "pci-conf"), (0x92, 0x92, "port92"),
]
MMIO_NAMES = [
    (0xfec00000, 0xfec00fff, "ioapic"), (0xfee00000, 0xfee00fff, "lapic"),
    (0xfea00000, 0xfea00fff, "ged"), (0xfeb00000, 0xfebfffff, "virtio-mmio"),
    (0xd0000000, 0xdfffffff, "virtio-mmio"),
]


LOW_RAM_LIMIT = 0xc0000000


def device_of(reason, cause):
    if cause is None:
        return f"{reason}:?"
    kind, info1, info2 = cause
    if reason in ("KVM_EXIT_IO", "exit") and kind == "io":
        port = (info1 >> 16) & 0xffff
        name = next((n for lo, hi, n in PORT_NAMES if lo <= port <= hi), None)
        return f"io:{name}" if name else f"io:{port:#x}"
    if reason in ("KVM_EXIT_MMIO", "exit") and kind == "npf":
        name = next((n for lo, hi, n in MMIO_NAMES if lo <= info2 <= hi), None)
        if name is None and reason == "exit" and (info2 < LOW_RAM_LIMIT or info2 >= 1 << 32):
            name = "guest-ram"  # a nested page table fault on RAM (both VMMs:
            #                     RAM below 3 GiB, the rest above 4 GiB)
        prefix = "npf" if reason == "exit" else "mmio"
        return f"{prefix}:{name}" if name else f"{prefix}:{info2 & ~0xfff:#x}"
    if reason in ("KVM_EXIT_IO", "KVM_EXIT_MMIO"):
        return f"{reason}:after-{kind}"
    return reason


# --------------------------------------------------------------------------
# /proc/PID/smaps

VMA_HEAD = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$")


def read_smaps(pid):
    """Returns a list of dicts (start, end, perms, path, Rss, Anonymous...,
    sizes in KiB), or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/smaps") as f:
            text = f.read()
    except OSError:
        return None
    vmas = []
    for line in text.splitlines():
        m = VMA_HEAD.match(line)
        if m:
            vmas.append({"start": int(m.group(1), 16), "end": int(m.group(2), 16),
                         "perms": m.group(3), "path": m.group(4).strip()})
            continue
        key, _, rest = line.partition(":")
        parts = rest.split()
        if vmas and len(parts) == 2 and parts[1] == "kB":
            vmas[-1][key] = int(parts[0])
    return vmas or None


def is_anon_rw(v):
    return v["perms"].startswith("rw") and (v["path"] == "" or v["path"].startswith("[anon"))


def guest_ram_runs(vmas, ram_bytes):
    """Guest RAM: each run of adjacent anonymous read-write mappings that
    add up to exactly the guest's RAM, as a list of its mappings (QEMU maps
    a 256 MiB guest's RAM as one; duvisor-vmm's is one mmap that its huge
    page advice splits into a few)."""
    runs, i = [], 0
    while i < len(vmas):
        size, j = 0, i
        while j < len(vmas) and is_anon_rw(vmas[j]) and size < ram_bytes and (
                j == i or vmas[j]["start"] == vmas[j - 1]["end"]):
            size += vmas[j]["end"] - vmas[j]["start"]
            j += 1
        if size == ram_bytes:
            runs.append(vmas[i:j])
            i = j
        else:
            i += 1
    return runs


def memory_figures(vmas, ram_bytes):
    """Total Rss, guest RAM Rss and overheads (KiB) from smaps."""
    total = sum(v.get("Rss", 0) for v in vmas)
    anon = sum(v.get("Anonymous", 0) for v in vmas)
    swap = sum(v.get("Swap", 0) for v in vmas)
    runs = guest_ram_runs(vmas, ram_bytes)
    ram = [v for run in runs for v in run]
    ram_rss = sum(v.get("Rss", 0) for v in ram)
    ram_anon = sum(v.get("Anonymous", 0) for v in ram)
    ram_thp = sum(v.get("AnonHugePages", 0) for v in ram)
    return {
        "rss_kib": total,
        "guest_ram_rss_kib": ram_rss,
        "overhead_kib": total - ram_rss,
        "anon_overhead_kib": anon - ram_anon,
        "file_overhead_kib": total - ram_rss - (anon - ram_anon),
        "swap_kib": swap,
        "guest_ram_thp_kib": ram_thp,
        "guest_ram_2m_aligned": int(ram[0]["start"] % (2 << 20) == 0) if ram else None,
        "ram_mappings": len(runs),
        "vmas": len(vmas),
    }


def vma_name(v):
    if v["path"]:
        return v["path"]
    return "[anon]"


def top_mappings(vmas, ram_bytes, n=6):
    """The largest contributors to the overhead: Rss by mapping name (file
    or [heap]/[stack]/[anon]), guest RAM left out."""
    by = collections.Counter()
    ram = {v["start"] for run in guest_ram_runs(vmas, ram_bytes) for v in run}
    for v in vmas:
        if v["start"] not in ram:
            by[vma_name(v)] += v.get("Rss", 0)
    return by.most_common(n)


def smaps_table(vmas):
    lines = [f"{'start':>16} {'size_kib':>10} {'rss_kib':>9} {'anon_kib':>9} {'thp_kib':>9} "
             "perms name"]
    for v in sorted(vmas, key=lambda v: -v.get("Rss", 0)):
        lines.append(f"{v['start']:16x} {(v['end'] - v['start']) >> 10:10d} {v.get('Rss', 0):9d} "
                     f"{v.get('Anonymous', 0):9d} {v.get('AnonHugePages', 0):9d} {v['perms']} "
                     f"{vma_name(v)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Running one VM


def vmm_argv(kind, args, files):
    if kind == OURS:
        return [files["vmm"], "--kernel", files["kernel"], "--initrd", files["initrd"],
                "--cmdline", args.cmdline, "--memory", f"{args.mem}M", "--cpus", "1",
                "--console", "stdio", "--stats"]
    return [args.qemu, "-M", args.qemu_machine, "-accel", args.qemu_accel, "-cpu", "host",
            "-smp", "1", "-m", f"{args.mem}M", "-nodefaults", "-no-user-config",
            "-display", "none", "-serial", "stdio",
            "-kernel", files["kernel"], "-initrd", files["initrd"], "-append", args.cmdline]


# QEMU's microvm as close as it gets to duvisor-vmm's machine: ACPI
# (hardware-reduced, GED: the poweroff goes through its sleep registers),
# the PIC and PIT, one ISA serial port (ttyS0); no PCIe, USB, second IOAPIC,
# option ROMs or virtio devices, and the command line exactly as given.
# Two departures from microvm's defaults, both in QEMU's favour:
#  - rtc=on: without an RTC QEMU does not tell the guest (its FADT lacks the
#    "CMOS RTC not present" flag that duvisor-vmm sets) and Linux 6.1 polls
#    the absent CMOS 10000 times (20000 user-space exits, seconds of boot);
#  - kernel-irqchip=on: microvm defaults to a split irqchip (IOAPIC in QEMU,
#    ~530 MMIO exits per boot); duvisor-vmm keeps the whole irqchip in KVM.
QEMU_MACHINE = ("microvm,acpi=on,pic=on,pit=on,rtc=on,isa-serial=on,ioapic2=off,pcie=off,"
                "usb=off,x-option-roms=off,auto-kernel-cmdline=off")
QEMU_ACCEL = "kvm,kernel-irqchip=on"


STATS_LINE = re.compile(r"duvisor-vmm: stats: (.*)$", re.M)


def parse_stats(stderr_text):
    m = STATS_LINE.search(stderr_text)
    if not m:
        return None
    stats = {}
    for word in m.group(1).split():
        key, sep, value = word.partition("=")
        if sep and value.isdigit():
            stats[key] = int(value)
    return stats


def heartbeat(logdir, text):
    """Progress for tests/bench/run's watchdog (outside the test host): the
    file's mtime tells it that boots are still coming and going."""
    with open(os.path.join(os.path.dirname(logdir), ".heartbeat"), "w") as f:
        f.write(text + "\n")


def run_vm(kind, argv, args, trace, label, logdir):
    """Boots once; returns a dict of results (ok False on failure)."""
    heartbeat(logdir, f"{label} started")
    ram_bytes = args.mem << 20
    res = {"vmm": kind, "label": label, "ok": False, "problem": ""}
    # Should anything below hang (it has no business to), say where and end.
    faulthandler.dump_traceback_later(args.timeout + 180, exit=True)
    trace.start()
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    out, err = bytearray(), bytearray()
    t_ready = None
    vmas = None
    deadline = t0 + args.timeout
    killed = False
    while sel.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            if not killed:
                proc.kill()
                killed = True
                deadline = time.monotonic() + 10
                continue
            break
        for key, _ in sel.select(left):
            data = os.read(key.fd, 65536)
            if not data:
                sel.unregister(key.fileobj)
                continue
            if key.data == "err":
                err += data
                continue
            out += data
            if t_ready is None and READY in out[-(len(data) + len(READY)):]:
                t_ready = time.monotonic()
                vmas = read_smaps(proc.pid)
    sel.close()
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # Unkillable: stuck in the kernel. Record where, and give up.
            rc = None
            err += f"\n[vmm_boot: pid {proc.pid} survives SIGKILL]\n".encode()
            for task in os.listdir(f"/proc/{proc.pid}/task"):
                try:
                    with open(f"/proc/{proc.pid}/task/{task}/stack") as f:
                        err += f"task {task}:\n{f.read()}".encode()
                except OSError:
                    pass
    t_exit = time.monotonic()
    lost = trace.stop()
    proc.stdin.close()
    proc.stdout.close()
    proc.stderr.close()

    out_text = out.decode("utf-8", "replace")
    err_text = err.decode("utf-8", "replace")
    with open(os.path.join(logdir, f"{label}.console.log"), "w") as f:
        f.write(out_text)
    with open(os.path.join(logdir, f"{label}.stderr.log"), "w") as f:
        f.write(" ".join(argv) + "\n---\n" + err_text)

    res["rc"] = rc
    res["ready_ms"] = (t_ready - t0) * 1000 if t_ready else None
    res["exit_ms"] = (t_exit - t0) * 1000
    problems = []
    if killed:
        problems.append(f"killed after {args.timeout}s")
    if t_ready is None:
        problems.append("no ready line")
    if POWEROFF not in out:
        problems.append("no poweroff line")
    if GUEST_ERROR in out:
        problems.append("guest reported an error")
    if rc != 0:
        problems.append(f"exit status {rc}")
    if t_ready is not None:
        if vmas is None:
            problems.append("process gone before smaps was read")
        else:
            mem = memory_figures(vmas, ram_bytes)
            res.update(mem)
            res["top_mappings"] = top_mappings(vmas, ram_bytes)
            with open(os.path.join(logdir, f"{label}.smaps-at-ready.txt"), "w") as f:
                f.write(smaps_table(vmas))
            if mem["ram_mappings"] != 1:
                problems.append(f"{mem['ram_mappings']} mappings of {args.mem} MiB")

    reasons, ignored, devices, vm_exits = parse_trace(trace.text(), proc.pid)
    res["user_exits"] = sum(reasons.values())
    res["exit_reasons"] = dict(reasons)
    res["exit_devices"] = dict(devices)
    res["vm_exits"] = sum(vm_exits.values())
    res["vm_exit_reasons"] = dict(vm_exits)
    res["trace_ignored"] = dict(ignored)
    if ignored:
        problems.append("trace lines not counted: " +
                        ", ".join(f"{k} x{v}" for k, v in ignored.most_common(5)))
    res["trace_lost"] = lost
    if lost:
        problems.append(f"{lost} trace events lost (raise --trace-buffer-kb)")
    if kind == OURS:
        res["stats"] = parse_stats(err_text)
        if res["stats"] is None:
            problems.append("no stats line on stderr")
    res["problem"] = "; ".join(problems)
    res["ok"] = not problems
    faulthandler.cancel_dump_traceback_later()
    heartbeat(logdir, f"{label} done")
    return res


# --------------------------------------------------------------------------
# Report


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "-"
    if isinstance(v, float) and digits:
        return f"{v:.{digits}f}"
    return f"{round(v):d}" if isinstance(v, float) else str(v)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


METRICS = [
    # key, label, unit
    ("ready_ms", "boot: start -> ready line", "ms"),
    ("exit_ms", "boot: start -> exit (poweroff)", "ms"),
    ("rss_kib", "RSS at ready (total)", "KiB"),
    ("guest_ram_rss_kib", "  of which guest RAM touched", "KiB"),
    ("guest_ram_thp_kib", "  of which in huge pages (THP)", "KiB"),
    ("guest_ram_2m_aligned", "guest RAM mapping 2 MiB-aligned", "1=yes"),
    ("overhead_kib", "VMM overhead: RSS - guest RAM", "KiB"),
    ("anon_overhead_kib", "  anonymous part of it", "KiB"),
    ("file_overhead_kib", "  file-backed part of it", "KiB"),
    ("user_exits", "user-space exits per boot", "exits"),
]


def goal_text(key, ours, qemu):
    if key == "ready_ms" or key == "exit_ms":
        r = ratio(ours, qemu)
        if r is None:
            return "-"
        return f"<= {GOAL_BOOT_RATIO}x: {'met' if r <= GOAL_BOOT_RATIO else 'NOT met'}"
    if key == "overhead_kib" and ours is not None:
        return f"<= 2 MiB: {'met' if ours <= GOAL_OVERHEAD_KIB else 'NOT met'}"
    if key == "user_exits" and ours is not None:
        return f"< {GOAL_EXITS}: {'met' if ours < GOAL_EXITS else 'NOT met'}"
    return ""


def summarize(runs, profile, meta):
    timed = {k: [r for r in runs if r["vmm"] == k and r["ok"]] for k in VMMS}
    lines = []
    add = lines.append
    add(f"duvisor-vmm vs QEMU microvm: boot of the guest fixture, {meta['rounds']} round(s); "
        f"medians of good boots (duvisor-vmm {len(timed[OURS])}, qemu {len(timed[QEMU])}); "
        "ratio = duvisor-vmm / qemu")
    add(f"  kernel {meta['kernel']}  initrd {meta['initrd']}")
    add(f"  cmdline '{meta['cmdline']}', 1 vCPU, {meta['mem']} MiB; test host "
        f"{meta['host_kernel']}, {meta['host_cpus']} CPUs")
    add(f"  {meta['qemu_version']}: -M {meta['qemu_machine']} -accel {meta['qemu_accel']}")
    add("")
    head = f"{'metric':34} {'unit':>5} {OURS:>12} {QEMU:>13} {'ratio':>7}  goal (ours)"
    add(head)
    add("-" * len(head) + "-" * 12)
    summary = []
    for key, label, unit in METRICS:
        o = median([r.get(key) for r in timed[OURS]])
        q = median([r.get(key) for r in timed[QEMU]])
        rt = ratio(o, q) if unit != "1=yes" else None
        add(f"{label:34} {unit:>5} {fmt(o):>12} {fmt(q):>13} {fmt(rt, 3):>7}  {goal_text(key, o, q)}")
        for vmm, vals in ((OURS, timed[OURS]), (QEMU, timed[QEMU])):
            xs = [r.get(key) for r in vals if r.get(key) is not None]
            summary.append({"metric": key, "unit": unit, "vmm": vmm, "n": len(xs),
                            "median": median(xs), "min": min(xs) if xs else None,
                            "max": max(xs) if xs else None,
                            "ratio_ours_over_qemu": rt})
    # Each round's two boots ran back to back: the median of the per-round
    # ratios is less sensitive to slow periods than the ratio of medians.
    add("")
    add("same-round ratios (a round's two boots run back to back), median [min..max]:")
    for key, label, unit in METRICS[:2]:
        paired = []
        for rnd in sorted({r["round"] for r in runs}):
            pair = {r["vmm"]: r.get(key) for r in runs if r["round"] == rnd and r["ok"]}
            if pair.get(OURS) and pair.get(QEMU):
                paired.append(pair[OURS] / pair[QEMU])
        if paired:
            m = median(paired)
            add(f"  {label:32} {m:.3f} [{min(paired):.2f}..{max(paired):.2f}], "
                f"{len(paired)} rounds")
            summary.append({"metric": f"{key}_same_round_ratio", "unit": "ratio", "vmm": OURS,
                            "n": len(paired), "median": m, "min": min(paired),
                            "max": max(paired), "ratio_ours_over_qemu": m})
    add("")
    add("spread (min..max):")
    for key, label, unit in [m for m in METRICS if m[0] in
                             ("ready_ms", "exit_ms", "overhead_kib", "user_exits")]:
        parts = []
        for vmm in VMMS:
            xs = [r[key] for r in timed[vmm] if r.get(key) is not None]
            parts.append(f"{vmm} {fmt(min(xs)) if xs else '-'}..{fmt(max(xs)) if xs else '-'}")
        add(f"  {label.strip():32} {unit}: " + ", ".join(parts))

    # What the overhead is made of (the last good boot of each).
    add("")
    add("largest mappings besides guest RAM (Rss KiB, last good boot):")
    for vmm in VMMS:
        tops = [r["top_mappings"] for r in timed[vmm] if r.get("top_mappings")]
        if tops:
            add(f"  {vmm}: " + ", ".join(f"{os.path.basename(name) or name} {kib}"
                                           for name, kib in tops[-1]))

    # User-space exits by KVM exit reason (tracepoint).
    add("")
    add("user-space exits by reason (kvm_userspace_exit, median per boot):")
    add(f"  {'':32} {OURS:>12} {QEMU:>13}")
    keys = sorted({k for vmm in VMMS for r in timed[vmm] for k in r["exit_reasons"]})
    for k in keys:
        o = median([r["exit_reasons"].get(k, 0) for r in timed[OURS]])
        q = median([r["exit_reasons"].get(k, 0) for r in timed[QEMU]])
        add(f"  {k:32} {fmt(o):>12} {fmt(q):>13}")

    # duvisor-vmm's own counters.
    stats = [r["stats"] for r in timed[OURS] if r.get("stats")]
    if stats:
        add("")
        add("duvisor-vmm --stats (median per boot):")
        skeys = [k for k in stats[0] if k not in ("boots",)]
        for k in sorted({k for s in stats for k in s} - {"boots"},
                        key=lambda k: (skeys.index(k) if k in skeys else 99, k)):
            add(f"  {k:32} {fmt(median([s.get(k, 0) for s in stats])):>12}")

    # Profile boots: exits by device for both.
    if profile:
        add("")
        add("user-space exits by device (one profile boot each, kvm_exit traced too; "
            "not in the timings):")
        add(f"  {'':32} {OURS:>12} {QEMU:>12}")
        devs = sorted({k for r in profile for k in r["exit_devices"]},
                      key=lambda k: -max(r["exit_devices"].get(k, 0) for r in profile))
        byvmm = {r["vmm"]: r for r in profile}
        for k in devs:
            add(f"  {k:32} " + " ".join(
                f"{fmt(byvmm[v]['exit_devices'].get(k, 0) if v in byvmm else None):>12}"
                for v in VMMS))
        add(f"  {'total user-space exits':32} " + " ".join(
            f"{fmt(byvmm[v]['user_exits'] if v in byvmm else None):>12}" for v in VMMS))
        add(f"  {'all VM exits (kvm_exit)':32} " + " ".join(
            f"{fmt(byvmm[v]['vm_exits'] if v in byvmm else None):>12}" for v in VMMS))
        add(f"  {'boot to exit, traced (ms)':32} " + " ".join(
            f"{fmt(byvmm[v]['exit_ms'] if v in byvmm else None):>12}" for v in VMMS))
        add("")
        add("all VM exits by kind (same profile boots; MSR accesses by kvm_msr), "
            f"top {TOP_VM_EXITS}:")
        add(f"  {'':32} {OURS:>12} {QEMU:>12}")
        kinds = collections.Counter()
        for r in profile:
            kinds.update(r["vm_exit_reasons"])
        for k, _ in kinds.most_common(TOP_VM_EXITS):
            add(f"  {k:32} " + " ".join(
                f"{fmt(byvmm[v]['vm_exit_reasons'].get(k, 0) if v in byvmm else None):>12}"
                for v in VMMS))

    bad = [r for r in runs + profile if not r["ok"]]
    if bad:
        add("")
        add("failed or incomplete boots (left out of the medians):")
        for r in bad:
            add(f"  {r['label']}: {r['problem']}")
    return "\n".join(lines) + "\n", summary


RUN_FIELDS = ["label", "round", "vmm", "ok", "problem", "rc", "ready_ms", "exit_ms",
              "rss_kib", "guest_ram_rss_kib", "guest_ram_thp_kib", "guest_ram_2m_aligned", "overhead_kib", "anon_overhead_kib",
              "file_overhead_kib", "swap_kib",
              "user_exits", "vm_exits", "trace_lost", "exit_reasons", "stats"]


def write_runs_csv(outdir, runs):
    """runs.csv, rewritten after every boot so that a test host that dies
    mid-way still leaves the boots done so far."""
    p = os.path.join(outdir, "runs.csv")
    with open(p + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, RUN_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in runs:
            row = dict(r)
            row["ready_ms"] = fmt(r.get("ready_ms"), 1)
            row["exit_ms"] = fmt(r.get("exit_ms"), 1)
            row["exit_reasons"] = " ".join(f"{k}={v}" for k, v in sorted(r["exit_reasons"].items()))
            row["stats"] = " ".join(f"{k}={v}" for k, v in (r.get("stats") or {}).items())
            w.writerow(row)
    os.replace(p + ".tmp", p)
    return p


def write_csvs(outdir, runs, profile, summary):
    paths = {"runs": write_runs_csv(outdir, runs + profile)}
    p = os.path.join(outdir, "summary.csv")
    with open(p, "w", newline="") as f:
        w = csv.DictWriter(f, ["metric", "unit", "vmm", "n", "median", "min", "max",
                               "ratio_ours_over_qemu"])
        w.writeheader()
        for row in summary:
            w.writerow({k: (fmt(v, 3) if isinstance(v, float) else v) for k, v in row.items()})
    paths["summary"] = p
    if profile:
        p = os.path.join(outdir, "exits.csv")
        with open(p, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["device", *VMMS])
            byvmm = {r["vmm"]: r["exit_devices"] for r in profile}
            for k in sorted({k for r in profile for k in r["exit_devices"]}):
                w.writerow([k, *(byvmm.get(v, {}).get(k, 0) for v in VMMS)])
        paths["exits"] = p
        p = os.path.join(outdir, "vm-exits.csv")
        with open(p, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["kind", *VMMS])
            byvmm = {r["vmm"]: r["vm_exit_reasons"] for r in profile}
            for k in sorted({k for r in profile for k in r["vm_exit_reasons"]}):
                w.writerow([k, *(byvmm.get(v, {}).get(k, 0) for v in VMMS)])
        paths["vm-exits"] = p
    return paths


# --------------------------------------------------------------------------


def stage_files(args, workdir):
    """Copies the kernel, initrd and duvisor-vmm to a tmpfs so that no boot
    reads them through 9p (slow, and the first boot would pay more)."""
    os.makedirs(workdir, exist_ok=True)
    files = {}
    for key, src in (("kernel", args.kernel), ("initrd", args.initrd), ("vmm", args.vmm)):
        dst = os.path.join(workdir, os.path.basename(src))
        shutil.copy2(src, dst)
        files[key] = dst
    return files


def tool_version(argv):
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=60)
        return r.stdout.splitlines()[0].strip() if r.stdout else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vmm", required=True, help="duvisor-vmm binary")
    ap.add_argument("--kernel", required=True, help="kernel image (both VMMs)")
    ap.add_argument("--initrd", required=True, help="initramfs (both VMMs)")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--qemu-machine", default=QEMU_MACHINE, help="QEMU's -M value")
    ap.add_argument("--qemu-accel", default=QEMU_ACCEL, help="QEMU's -accel value")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1,
                    help="untimed boots per VMM before the rounds (fill caches)")
    ap.add_argument("--no-profile", action="store_true",
                    help="skip the extra boot per VMM that attributes exits to devices")
    ap.add_argument("--mem", type=int, default=256, help="guest RAM in MiB")
    ap.add_argument("--cmdline", default="console=ttyS0 quiet dvaction=poweroff")
    ap.add_argument("--timeout", type=float, default=180, help="seconds per boot")
    ap.add_argument("--trace-buffer-kb", type=int, default=32768,
                    help="trace buffer per CPU")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--rev", default="", help="source revision (for the report)")
    args = ap.parse_args()

    if os.geteuid() != 0:
        die("must run as root (tracefs); run it through tests/bench/run")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        die("/dev/kvm is not usable")
    if shutil.which(args.qemu) is None:
        die(f"{args.qemu} not found")
    outdir = os.path.abspath(args.out)
    logdir = os.path.join(outdir, "logs")
    os.makedirs(logdir, exist_ok=True)
    for name in os.listdir(logdir):
        os.unlink(os.path.join(logdir, name))

    files = stage_files(args, "/tmp/duvisor-bench")
    trace = Tracefs(args.trace_buffer_kb)
    meta = {
        "rounds": args.rounds, "kernel": args.kernel, "initrd": args.initrd,
        "cmdline": args.cmdline, "mem": args.mem, "host_kernel": os.uname().release,
        "host_cpus": os.cpu_count(), "qemu_version": tool_version([args.qemu, "--version"]),
        "qemu_machine": args.qemu_machine, "qemu_accel": args.qemu_accel,
    }
    faulthandler.enable()
    # Ctrl-C / SIGTERM: stop cleanly (the VM in flight is killed with us).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    runs, profile = [], []
    try:
        trace.configure(["kvm/kvm_userspace_exit"])
        for i in range(args.warmup):
            for kind in VMMS:
                r = run_vm(kind, vmm_argv(kind, args, files), args, trace, f"warmup{i}-{kind}", logdir)
                log(f"warm-up {kind}: {'ok' if r['ok'] else r['problem']}")
        for rnd in range(args.rounds):
            order = VMMS if rnd % 2 == 0 else tuple(reversed(VMMS))
            for kind in order:
                r = run_vm(kind, vmm_argv(kind, args, files), args, trace,
                           f"round{rnd + 1}-{kind}", logdir)
                r["round"] = rnd + 1
                runs.append(r)
                write_runs_csv(outdir, runs)
                log(f"round {rnd + 1}/{args.rounds} {kind}: ready {fmt(r['ready_ms'])} ms, "
                    f"exit {fmt(r['exit_ms'])} ms, overhead {fmt(r.get('overhead_kib'))} KiB, "
                    f"user exits {r['user_exits']}" + ("" if r["ok"] else f"  [{r['problem']}]"))
        if not args.no_profile:
            trace.configure(["kvm/kvm_userspace_exit", "kvm/kvm_exit", "kvm/kvm_msr"])
            for kind in VMMS:
                r = run_vm(kind, vmm_argv(kind, args, files), args, trace, f"profile-{kind}", logdir)
                r["round"] = "profile"
                profile.append(r)
                log(f"profile {kind}: {'ok' if r['ok'] else r['problem']}")
    finally:
        trace.reset()

    if args.rev:
        meta["rev"] = args.rev
    report, summary = summarize(runs, profile, meta)
    if args.rev:
        report = report.replace("\n", f"\n  source {args.rev}\n", 1)
    paths = write_csvs(outdir, runs, profile, summary)
    with open(os.path.join(outdir, "report.txt"), "w") as f:
        f.write(report)
    sys.stdout.write(report)
    print()
    for name, p in paths.items():
        print(f"{name} CSV: {p}")
    print(f"report: {os.path.join(outdir, 'report.txt')}; console logs: {logdir}/")
    sys.exit(0 if all(r["ok"] for r in runs) and runs else 1)


if __name__ == "__main__":
    main()
