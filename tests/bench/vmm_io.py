#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""I/O benchmark: duvisor-vmm against QEMU on virtio-net and virtio-blk.

Runs inside the KVM test host (tests/bench/run-io starts it there), as root,
with real KVM. Both VMMs boot the same guest (the fixture plus the bench
tools archive, 1 vCPU) with a virtio-blk disk on the same backing file and
a virtio-net NIC on the same tap (opened here with IFF_VNET_HDR, handed to
both as a descriptor), one VMM at a time, the order alternating per round.
In each boot the guest measures, in this order:

  * TCP guest -> host and host -> guest: dd with 64 KiB blocks on a socket
    (busybox nc -e) against a peer in the tap's network namespace, which
    times each transfer from the first byte to the end of the stream or to
    the guest's acknowledgement of the last byte (host clock);
  * 4 KiB random reads (O_DIRECT, queue depth 1) over the whole disk and
    1 MiB sequential reads: ioping in its rate mode, IOPS and bytes/s.

Results in --out: the table (stdout and io-report.txt), io-runs.csv (one
row per boot) and io-logs/ (console and stderr of every boot).
"""
import argparse
import base64
import csv
import fcntl
import os
import selectors
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmm_boot import (QEMU_ACCEL, QEMU_MACHINE, fmt, median, parse_stats,  # noqa: E402
                      ratio, tool_version)

OURS = "duvisor-vmm"
QEMU = "qemu"
VMMS = (OURS, QEMU)

NS = "dvbenchio"
TAP = "dvbio0"
HOST_IP, GUEST_IP = "10.0.9.1", "10.0.9.15"
MAC = "52:54:00:be:0c:01"

# Goals of the issue, as duvisor-vmm / QEMU.
METRICS = [
    # key, label, unit, goal ratio
    ("net_tx_mbps", "TCP guest -> host", "MB/s", 1.0),
    ("net_rx_mbps", "TCP host -> guest", "MB/s", 1.0),
    ("blk_rand_iops", "blk 4 KiB random read (QD1)", "IOPS", 1.2),
    ("blk_seq_mbps", "blk 1 MiB sequential read", "MB/s", 1.2),
]

# In the tap's namespace: port 5001 takes a stream, port 5002 sends one;
# each prints "PEER-<port> bytes seconds": from the first byte to the end
# of the stream, or to the guest's acknowledgement of the last byte.
PEER = r"""
import fcntl, socket, struct, sys, termios, time
n = int(sys.argv[2])
def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], port)); s.listen(1); s.settimeout(900)
    return s
sink, source = listener(5001), listener(5002)
print("PEER-READY", flush=True)
c, _ = sink.accept(); c.settimeout(900)
got, t0 = 0, None
buf = bytearray(1 << 20)
while True:
    k = c.recv_into(buf)
    if t0 is None: t0 = time.monotonic()
    if not k: break
    got += k
print("PEER-5001", got, time.monotonic() - (t0 or 0), flush=True)
c.close()
c, _ = source.accept(); c.settimeout(900)
chunk = b"\x5a" * (1 << 20)
t0, sent = time.monotonic(), 0
while sent < n:
    sent += c.send(chunk[:min(len(chunk), n - sent)])
def unacked():
    return struct.unpack("i", fcntl.ioctl(c, termios.TIOCOUTQ, b"\0" * 4))[0]
while unacked():
    time.sleep(0.001)
print("PEER-5002", sent, time.monotonic() - t0, flush=True)
c.close()
"""


def log(msg):
    print(f"vmm_io: {msg}", file=sys.stderr, flush=True)


def die(msg):
    log(f"error: {msg}")
    sys.exit(1)


def ns_cmd(*cmd):
    return ["ip", "netns", "exec", NS, *cmd]


def open_tap():
    """The tap both VMMs use, in a namespace of its own with the peer."""
    IFF_TAP, IFF_NO_PI, IFF_VNET_HDR, TUNSETIFF = 0x0002, 0x1000, 0x4000, 0x400454ca
    subprocess.run(["ip", "netns", "del", NS], stderr=subprocess.DEVNULL, check=False)
    subprocess.run(["ip", "netns", "add", NS], check=True)
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", TAP.encode(),
                                           IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
    for cmd in (["ip", "link", "set", TAP, "netns", NS],
                ns_cmd("ip", "link", "set", "lo", "up"),
                ns_cmd("ip", "addr", "add", f"{HOST_IP}/24", "dev", TAP),
                ns_cmd("ip", "link", "set", TAP, "up")):
        subprocess.run(cmd, check=True)
    return fd


def make_disk(path, mib):
    """Non-zero data throughout, so that every read copies real pages."""
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(block)


def guest_command(args):
    count = args.net_mib * 16
    disk = f"{args.disk_mib}m"
    return (f"ip link set eth0 up && ip addr add {GUEST_IP}/24 dev eth0 && "
            f"ping -c 1 -W 20 {HOST_IP} >/dev/null || echo IO-ERROR=net; "
            f"timeout 900 nc {HOST_IP} 5001 -e dd if=/dev/zero bs=64k count={count}; "
            f"timeout 900 nc {HOST_IP} 5002 -e dd of=/dev/null bs=64k; "
            f"echo IO-RAND=$(ioping -R -D -s 4k -S {disk} -w {args.blk_seconds} -B /dev/vda); "
            f"echo IO-SEQ=$(ioping -R -L -D -s 1m -S {disk} -w {args.blk_seconds} -B /dev/vda)")


def vmm_argv(kind, args, files, fd, cmdline):
    if kind == OURS:
        return [files["vmm"], "--kernel", files["kernel"], "--initrd", files["initrd"],
                "--cmdline", cmdline, "--memory", f"{args.mem}M", "--cpus", "1",
                "--console", "stdio", "--stats",
                "--disk", f"path={files['disk']}", "--net", f"fd={fd},mac={MAC}"]
    return [args.qemu, "-M", QEMU_MACHINE, "-accel", QEMU_ACCEL, "-cpu", "host",
            "-smp", "1", "-m", f"{args.mem}M", "-nodefaults", "-no-user-config",
            "-display", "none", "-serial", "stdio",
            "-kernel", files["kernel"], "-initrd", files["initrd"], "-append", cmdline,
            "-drive", f"id=d0,file={files['disk']},format=raw,if=none",
            "-device", "virtio-blk-device,drive=d0",
            "-netdev", f"tap,id=n0,fd={fd},vhost=off",
            "-device", f"virtio-net-device,netdev=n0,mac={MAC}"]


def run_io(kind, argv, args, fd, label, logdir):
    """One boot; returns a dict of results (ok False on failure)."""
    res = {"vmm": kind, "label": label, "ok": False, "problem": ""}
    nbytes = args.net_mib << 20
    peer = subprocess.Popen(ns_cmd("/usr/bin/python3", "-c", PEER, HOST_IP, str(nbytes)),
                            stdout=subprocess.PIPE, text=True)
    if peer.stdout.readline().strip() != "PEER-READY":
        die("the network peer did not start")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, pass_fds=(fd,))
    out, err = bytearray(), bytearray()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    deadline = time.monotonic() + args.timeout
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(max(0.1, deadline - time.monotonic())):
            data = os.read(key.fd, 65536)
            if data:
                key.data.extend(data)
            else:
                sel.unregister(key.fileobj)
    sel.close()
    problems = []
    try:
        rc = proc.wait(timeout=max(10, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        problems.append(f"killed after {args.timeout}s")
    peer.kill()
    peer_out = peer.communicate()[0]
    out_text, err_text = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    with open(os.path.join(logdir, f"{label}.console.log"), "w") as f:
        f.write(out_text)
    with open(os.path.join(logdir, f"{label}.stderr.log"), "w") as f:
        f.write(" ".join(argv) + "\n---\n" + err_text + "\n--- peer ---\n" + peer_out)
    if rc != 0:
        problems.append(f"exit status {rc}")
    if "IO-ERROR" in out_text:
        problems.append("the guest's network did not come up")

    for port, key in ((5001, "net_tx_mbps"), (5002, "net_rx_mbps")):
        words = [line.split() for line in peer_out.splitlines()
                 if line.startswith(f"PEER-{port} ")]
        if not words or int(words[0][1]) != nbytes or float(words[0][2]) <= 0:
            problems.append(f"TCP on port {port} incomplete")
            continue
        res[key] = nbytes / float(words[0][2]) / 1e6
    for marker, key, field, scale in (("IO-RAND=", "blk_rand_iops", 2, 1),
                                      ("IO-SEQ=", "blk_seq_mbps", 3, 1e-6)):
        # ioping -B: count, time (ns), iops, bytes/s, ...
        words = [line.split(marker, 1)[1].split() for line in out_text.splitlines()
                 if marker in line]
        if not words or len(words[0]) < 4:
            problems.append(f"no ioping result for {marker[:-1]}")
            continue
        res[key] = float(words[0][field]) * scale
    if kind == OURS:
        res["stats"] = parse_stats(err_text)
    res["problem"] = "; ".join(problems)
    res["ok"] = not problems
    return res


def summarize(runs, meta):
    good = {k: [r for r in runs if r["vmm"] == k and r["ok"]] for k in VMMS}
    lines = [f"duvisor-vmm vs QEMU: virtio-net and virtio-blk, {meta['rounds']} round(s) "
             f"after {meta['warmup']} warm-up boot(s) each; "
             f"{len(good[OURS])}/{len(good[QEMU])} good boots",
             f"  {meta['qemu_version']}: -M {QEMU_MACHINE} -accel {QEMU_ACCEL}, "
             "virtio-mmio devices, vhost off, drive cache=writeback",
             f"  guest: 1 vCPU, {meta['mem']} MiB; TCP {meta['net_mib']} MiB each way "
             f"(dd on busybox nc -e); disk {meta['disk_mib']} MiB on tmpfs, ioping "
             f"{meta['blk_seconds']} s per test; duvisor-vmm {meta['rev']}",
             "",
             f"{'metric':34} {'unit':>5} {'duvisor-vmm':>12} {'QEMU':>10} {'ratio':>7}  goal",
             "-" * 90]
    for key, label, unit, goal in METRICS:
        ours = median([r.get(key) for r in good[OURS]])
        qemu = median([r.get(key) for r in good[QEMU]])
        r = ratio(ours, qemu)
        verdict = "-" if r is None else ("met" if r >= goal else "NOT met")
        lines.append(f"{label:34} {unit:>5} {fmt(ours, 1):>12} {fmt(qemu, 1):>10} "
                     f"{fmt(r, 2):>7}  >= {goal}x: {verdict}")
        qemu_by_round = {r["round"]: r for r in good[QEMU]}
        per_round = [ratio(a.get(key), qemu_by_round[a["round"]].get(key))
                     for a in good[OURS] if a["round"] in qemu_by_round]
        per_round = [x for x in per_round if x is not None]
        if len(per_round) > 1:
            lines.append(f"{'':34} {'':>5} {'':>12} {'':>10} rounds "
                         f"{min(per_round):.2f}..{max(per_round):.2f}")
    lines.append("")
    lines.append("Medians over the good boots; the ratio is duvisor-vmm / QEMU "
                 "(higher is better).")
    for r in runs:
        if not r["ok"]:
            lines.append(f"left out: {r['label']}: {r['problem']}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vmm", required=True, help="duvisor-vmm binary")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True, help="the fixture's initramfs")
    ap.add_argument("--tools", required=True, help="the bench tools archive (build-guest)")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1, help="uncounted boots per VMM first")
    ap.add_argument("--mem", type=int, default=256, help="guest RAM, MiB")
    ap.add_argument("--net-mib", type=int, default=64, help="TCP data each way, MiB")
    ap.add_argument("--disk-mib", type=int, default=256, help="disk size, MiB")
    ap.add_argument("--blk-seconds", type=int, default=8, help="time per ioping test")
    ap.add_argument("--timeout", type=int, default=900, help="per boot, seconds")
    ap.add_argument("--out", required=True)
    ap.add_argument("--rev", default="?")
    args = ap.parse_args()
    if os.geteuid() != 0 or not os.path.exists("/dev/kvm"):
        die("needs root and /dev/kvm: run it in the KVM test host (tests/bench/run-io)")

    work = "/tmp/vmm-io"
    os.makedirs(work, exist_ok=True)
    files = {"vmm": shutil.copy2(args.vmm, work), "kernel": shutil.copy2(args.kernel, work),
             "initrd": os.path.join(work, "initrd-with-tools"),
             "disk": os.path.join(work, "disk.img")}
    with open(files["initrd"], "wb") as out:
        for part in (args.initrd, args.tools):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
    make_disk(files["disk"], args.disk_mib)
    fd = open_tap()
    logdir = os.path.join(args.out, "io-logs")
    os.makedirs(logdir, exist_ok=True)
    cmdline = ("console=ttyS0 quiet dvaction=poweroff dvcmd=" +
               base64.b64encode(guest_command(args).encode()).decode())

    runs = []
    # Warm-up boots (not counted): the first guest to use the tap, KVM and
    # the disk pays for the test host's cold caches (under TCG, even for
    # translating the host kernel's code paths).
    for rnd in range(1 - args.warmup, args.rounds + 1):
        order = VMMS if rnd % 2 else tuple(reversed(VMMS))
        for kind in order:
            label = f"{kind}-r{rnd}" if rnd > 0 else f"{kind}-warmup{1 - rnd}"
            log(f"{label}: booting")
            res = run_io(kind, vmm_argv(kind, args, files, fd, cmdline), args, fd, label,
                         logdir)
            res["round"] = rnd
            log(f"{label}: " + (", ".join(f"{k}={fmt(res.get(k), 1)}" for k, *_ in METRICS)
                                if res["ok"] else f"FAILED: {res['problem']}"))
            if rnd > 0:
                runs.append(res)

    meta = {"rounds": args.rounds, "warmup": args.warmup, "mem": args.mem, "net_mib": args.net_mib,
            "disk_mib": args.disk_mib, "blk_seconds": args.blk_seconds, "rev": args.rev,
            "qemu_version": tool_version([args.qemu, "--version"])}
    report = summarize(runs, meta)
    print(report, end="")
    with open(os.path.join(args.out, "io-report.txt"), "w") as f:
        f.write(report)
    with open(os.path.join(args.out, "io-runs.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label", "vmm", "ok", "problem"] + [k for k, *_ in METRICS])
        for r in runs:
            w.writerow([r["label"], r["vmm"], int(r["ok"]), r["problem"]] +
                       [fmt(r.get(k), 2) for k, *_ in METRICS])
    subprocess.run(["ip", "netns", "del", NS], check=False)
    sys.exit(0 if runs and all(r["ok"] for r in runs) else 1)


if __name__ == "__main__":
    main()
