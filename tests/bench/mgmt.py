#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Management benchmarks: virtduvisord + duvisor-vmm against libvirtd + QEMU
(stacks.py), measured in the same run, one part per invocation.

Parts (--part):
  lifecycle    define, start (to RUNNING and to the guest's ready line on its
               console), destroy, undefine: medians of --rounds rounds, the
               two stacks alternating; without --guests only define/undefine
  density      --density domains of --density-mem MiB, with a balloon with
               free page reporting on both stacks, started one after the
               other, each once its predecessor's guest is ready and ran
               --settle seconds (and then paused, unless --no-pause):
               total time (to each ready line), Rss/Pss of the VM
               processes, the host memory they took, the daemon's Rss (needs
               --guests)
  list         `virsh list --all` (the real binary) with each of --list-counts
               domains defined, both daemons up and measured alternately
  rpc          --clients client processes, one connection and one domain
               each, for --duration seconds: virDomainGetInfo calls, then
               define+undefine cycles; with --guests also lifecycle cycles
               (define, start paused, destroy, undefine)

--guests means real KVM that boots Linux (the KVM test host, see
tests/host/README.md); without it nothing is started.  Results in --out:
figures.csv (one row per figure: both stacks' values), samples.csv (every
sample), logs/ (the daemons' logs).  Progress goes to stderr, and
--out/.heartbeat is touched at every step (tests/bench/bench's watchdog).
Exit status 0 when every figure got a value from both stacks.
"""
import argparse
import csv
import json
import multiprocessing
import os
import pathlib
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stacks  # noqa: E402
from stacks import STACKS  # noqa: E402

import libvirt  # noqa: E402

libvirt.registerErrorHandler(lambda ctx, err: None, None)

OUT = None


def log(msg):
    print(f"mgmt: {msg}", file=sys.stderr, flush=True)


def heartbeat():
    pathlib.Path(OUT, ".heartbeat").touch()


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


class Results:
    """Figures (both stacks side by side) and raw samples."""

    def __init__(self, where):
        self.where = where
        self.rows = []
        self.samples = []

    def sample(self, figure, stack, value, i=""):
        self.samples.append({"figure": figure, "stack": stack, "i": i, "value": value})

    def figure_quiet(self, part, figure, label, unit, values, better="lower", n=None,
                     errors=None, note=""):
        """@values: {stack: value}; @errors: {stack: count}."""
        row = {"part": part, "figure": figure, "label": label, "unit": unit,
               "where": self.where, "better": better, "note": note}
        for s in STACKS:
            row[s] = values.get(s)
            row[f"n_{s}"] = (n or {}).get(s, "")
            row[f"errors_{s}"] = (errors or {}).get(s, "")
        self.rows.append(row)
        return row

    def figure(self, *a, **kw):
        row = self.figure_quiet(*a, **kw)
        log(f"{row['label']}: " + ", ".join(f"{s} {fmt(row[s])}" for s in STACKS) +
            f" {row['unit']}")

    def write(self, outdir):
        fields = ["part", "figure", "label", "unit", "where", "better", *STACKS,
                  *(f"n_{s}" for s in STACKS), *(f"errors_{s}" for s in STACKS), "note"]
        with open(os.path.join(outdir, "figures.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fields)
            w.writeheader()
            for r in self.rows:
                w.writerow({k: fmt(v) if isinstance(v, float) else v for k, v in r.items()})
        with open(os.path.join(outdir, "samples.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, ["figure", "stack", "i", "value"])
            w.writeheader()
            for r in self.samples:
                w.writerow({k: fmt(v) if isinstance(v, float) else v for k, v in r.items()})

    def complete(self):
        return bool(self.rows) and all(r[s] is not None for r in self.rows for s in STACKS)


def fmt(v, digits=3):
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


# --------------------------------------------------------------------------
# Guests


# Console lines after which the ready line will not come.
GUEST_FAILED = (b"Kernel panic", b"DUVISOR-GUEST-ERROR")


def wait_ready(path, timeout):
    """Polls the console file for the ready line: (its time, None), or
    (None, why not)."""
    deadline = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < deadline:
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            size = 0
        if size != seen:
            seen = size
            with open(path, "rb") as f:
                text = f.read()
            if stacks.READY in text:
                return time.monotonic(), None
            bad = next((m for m in GUEST_FAILED if m in text), None)
            if bad:
                return None, f"'{bad.decode()}' on the console ({path})"
        time.sleep(0.005)
    return None, f"no ready line in {timeout:g} s ({path})"


def host_used_kib():
    info = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, _, rest = line.partition(":")
            info[key] = int(rest.split()[0])
    return info["MemTotal"] - info["MemAvailable"], info["MemAvailable"]


class Env:
    """Both stacks, their connections and the guest files."""

    def __init__(self, args):
        self.args = args
        self.work = pathlib.Path(args.workdir)
        self.stacks = {}
        self.conns = {}
        # The guest's files on the working directory's file system (a tmpfs
        # in the test host): no stack reads them through 9p.
        gdir = self.work / "guest"
        gdir.mkdir(parents=True, exist_ok=True)
        self.kernel = str(gdir / os.path.basename(args.kernel))
        self.initrd = str(gdir / os.path.basename(args.initrd))
        shutil.copy2(args.kernel, self.kernel)
        shutil.copy2(args.initrd, self.initrd)

    def start(self, keys=STACKS):
        for k in keys:
            s = stacks.make(k, self.work, self.args)
            s.start()
            self.stacks[k] = s
            self.conns[k] = libvirt.open(s.uri)
            # The first define makes libvirtd probe QEMU (seconds, cached
            # in --qemu-cache); no figure includes it.
            self.conns[k].defineXML(self.xml(k, "prime")).undefine()
            log(f"{s.label} up: {s.uri}")

    def xml(self, key, name, mem=None, action="wait", balloon=False):
        return self.stacks[key].domain_xml(name, self.kernel, self.initrd,
                                           mem or self.args.mem, action,
                                           balloon)

    def stop(self):
        logs = pathlib.Path(OUT, "logs")
        logs.mkdir(exist_ok=True)
        for k, s in self.stacks.items():
            try:
                self.conns[k].close()
            except libvirt.libvirtError:
                pass
            alive = s.alive()
            s.stop()
            shutil.copy(s.log_path, logs / f"{k}-daemon.log")
            for name, src in s.log_dirs().items():
                if src.is_dir():
                    shutil.copytree(src, logs / f"{k}-{name}", dirs_exist_ok=True)
            if not alive:
                log(f"error: {s.label}'s daemon died:\n{s.log()}")
        self.stacks.clear()


def timed(fn, *a):
    t = time.monotonic()
    r = fn(*a)
    return r, (time.monotonic() - t) * 1000


# --------------------------------------------------------------------------
# lifecycle


def lifecycle(env, res):
    args = env.args
    keys = ("define_ms", "start_running_ms", "start_ready_ms", "destroy_ms", "undefine_ms")
    if not args.guests:
        keys = ("define_ms", "undefine_ms")
    samples = {k: {s: [] for s in STACKS} for k in keys}
    errors = {s: 0 for s in STACKS}
    for rnd in range(-args.warmup, args.rounds):
        order = STACKS if rnd % 2 == 0 else STACKS[::-1]
        for s in order:
            heartbeat()
            try:
                got = lifecycle_once(env, s, f"lc{rnd + args.warmup}", args.guests)
            except (libvirt.libvirtError, RuntimeError) as e:
                errors[s] += rnd >= 0
                log(f"round {rnd}: {s}: {e}")
                continue
            if rnd < 0:
                continue
            for k, v in got.items():
                samples[k][s].append(v)
                res.sample(k, s, v, rnd)
            log(f"round {rnd + 1}/{args.rounds} {s}: " +
                " ".join(f"{k} {v:.0f}" for k, v in got.items()))
    labels = {"define_ms": "define", "start_running_ms": "start -> RUNNING",
              "start_ready_ms": "start -> guest ready line", "destroy_ms": "destroy",
              "undefine_ms": "undefine"}
    for k in keys:
        res.figure("lifecycle", k, labels[k], "ms",
                   {s: median(samples[k][s]) for s in STACKS},
                   n={s: len(samples[k][s]) for s in STACKS}, errors=errors,
                   note="median; python-libvirt calls")


def lifecycle_once(env, s, name, guests):
    conn = env.conns[s]
    dom, t_def = timed(conn.defineXML, env.xml(s, name))
    got = {"define_ms": t_def}
    if guests:
        con = env.stacks[s].console(name)
        t0 = time.monotonic()
        dom.create()
        t_run = (time.monotonic() - t0) * 1000
        if dom.state()[0] != libvirt.VIR_DOMAIN_RUNNING:
            raise RuntimeError(f"{name}: state {dom.state()} after start")
        ready, why = wait_ready(con, env.args.boot_timeout)
        if ready is None:
            dom.destroy()
            dom.undefine()
            raise RuntimeError(f"{name}: {why}")
        got["start_running_ms"] = t_run
        got["start_ready_ms"] = (ready - t0) * 1000
        _, got["destroy_ms"] = timed(dom.destroy)
        if dom.state()[0] != libvirt.VIR_DOMAIN_SHUTOFF:
            raise RuntimeError(f"{name}: state {dom.state()} after destroy")
    _, got["undefine_ms"] = timed(dom.undefine)
    return {k: got[k] for k in ("define_ms", "start_running_ms", "start_ready_ms",
                                "destroy_ms", "undefine_ms") if k in got}


# --------------------------------------------------------------------------
# density


DENSITY_KEYS = ("count", "total_s", "rss", "pss", "per_vm", "host", "daemon", "errors")


def density(env, res):
    """Both stacks in turn.  The emulated test host has crashed (kernel
    stack overflow in a vCPU thread) with many guests running, so the state
    is saved after every few domains (density-progress.json, figures.csv):
    a crash still leaves what was reached, and a rerun of the part keeps a
    stack that had finished."""
    args = env.args
    path = pathlib.Path(OUT, "density-progress.json")
    try:
        progress = json.loads(path.read_text())
    except (OSError, ValueError):
        progress = {}

    def publish():
        path.write_text(json.dumps(progress))
        res.rows = [r for r in res.rows if r["part"] != "density"]
        density_figures(res, args, progress)
        res.write(OUT)

    for s in STACKS:
        heartbeat()
        if progress.get(s, {}).get("complete"):
            log(f"density {s}: kept from the previous attempt")
            continue
        progress[s] = {"note": "incomplete: the test host died"}
        density_one(env, s, progress[s], publish)
        progress[s]["complete"] = True
        publish()
    res.rows = [r for r in res.rows if r["part"] != "density"]
    density_figures(res, args, progress, final=True)


def density_figures(res, args, progress, final=False):
    vals = {k: {s: progress.get(s, {}).get(k) for s in STACKS} for k in DENSITY_KEYS}
    note = "; ".join(f"{s}: {progress[s]['note']}" for s in STACKS
                     if progress.get(s, {}).get("note"))
    n = vals["count"]
    fig = res.figure if final else res.figure_quiet
    fig("density", "density_count", f"density: domains started (of {args.density})", "VMs",
        vals["count"], better="higher", note=note)
    fig("density", "density_total_s", "density: time to start them in turn", "s",
        vals["total_s"], n=n, errors=vals["errors"],
        note="sum over the domains of start -> ready line")
    fig("density", "density_vm_rss_mib", "density: Rss of the VM processes, sum", "MiB",
        vals["rss"], n=n)
    fig("density", "density_vm_rss_per_vm_mib", "density: Rss per VM (sum / domains)", "MiB",
        vals["per_vm"], n=n)
    fig("density", "density_vm_pss_mib", "density: Pss of the VM processes, sum", "MiB",
        vals["pss"], n=n)
    fig("density", "density_host_mib", "density: host memory used by the VMs", "MiB",
        vals["host"], n=n, note="MemTotal - MemAvailable, after - before")
    fig("density", "density_daemon_rss_mib", "density: daemon Rss with the VMs running",
        "MiB", vals["daemon"], n=n)


def density_measure(st, doms, used0, state):
    running = [d for d in doms if d.isActive()]
    pids = [p for d in running for p in st.vm_pids(d.name())]
    mem = [m for m in (stacks.memory_kib(p) for p in pids) if m]
    used1, _ = host_used_kib()
    daemon = stacks.memory_kib(st.daemon_pid())
    state.update(count=len(running), processes=len(pids),
                 rss=sum(m[0] for m in mem) / 1024 if running else None,
                 pss=sum(m[1] for m in mem) / 1024 if running else None,
                 per_vm=sum(m[0] for m in mem) / 1024 / len(running) if running else None,
                 host=(used1 - used0) / 1024 if running else None,
                 daemon=daemon[0] / 1024 if daemon and running else None)


def density_one(env, s, state, publish):
    """Starts the domains of stack @s one after the other into @state."""
    args = env.args
    conn, st = env.conns[s], env.stacks[s]
    doms = []
    used0, _ = host_used_kib()
    state.update(errors=0, total_s=0.0)
    for i in range(args.density):
        heartbeat()
        _, avail = host_used_kib()
        if avail < (args.density_mem + args.reserve) * 1024:
            state["stopped"] = f"stopped at {i}: {avail >> 10} MiB available"
            break
        name = f"dense{i:03d}"
        try:
            dom = conn.defineXML(env.xml(s, name, mem=args.density_mem,
                                         balloon=args.density_balloon))
            doms.append(dom)
            t0 = time.monotonic()
            dom.create()
            ready, why = wait_ready(st.console(name), args.boot_timeout)
        except libvirt.libvirtError as e:
            ready, why = None, str(e)
        if ready is None:
            state["errors"] += 1
            log(f"density {s} {name}: {why}")
            try:
                dom.destroy()  # not counted: only guests that came up are
            except libvirt.libvirtError:
                pass
            continue
        state["total_s"] += ready - t0
        # Free page reporting starts 2 s after the guest's balloon driver
        # comes up, then hands back what the boot freed.  Without a balloon
        # there is nothing to wait for.
        if args.density_balloon:
            time.sleep(args.settle)
        if args.pause:
            try:
                dom.suspend()
            except libvirt.libvirtError as e:
                state["errors"] += 1
                log(f"density {s} {name}: pausing: {e}")
        if (i + 1) % 5 == 0:
            density_measure(st, doms, used0, state)
            publish()
            log(f"density {s}: {i + 1} started, Rss {state['rss']:.0f} MiB")
    density_measure(st, doms, used0, state)
    state["note"] = state.get("stopped", "")
    log(f"density {s}: {state['count']} running, {state['processes']} processes, "
        f"Rss {state['rss'] or 0:.0f} MiB, Pss {state['pss'] or 0:.0f} MiB, "
        f"host {state['host'] or 0:.0f} MiB, {state['errors']} errors, "
        f"{state['total_s']:.1f} s")
    if not state["count"]:
        state.update(total_s=None, note=state["note"] or "nothing started")
    for d in doms:
        try:
            if d.isActive():
                d.destroy()
            d.undefine()
        except libvirt.libvirtError as e:
            log(f"density {s}: cleaning up {d.name()}: {e}")


# --------------------------------------------------------------------------
# list


def define_many(env, s, start, end):
    """Defines list0000... from @start to @end; returns domains/s."""
    conn = env.conns[s]
    t = time.monotonic()
    for i in range(start, end):
        conn.defineXML(env.xml(s, f"list{i:05d}"))
        if i % 500 == 0:
            heartbeat()
    return (end - start) / (time.monotonic() - t)


def virsh_list(uri):
    t = time.monotonic()
    r = subprocess.run(["virsh", "-c", uri, "list", "--all"], capture_output=True,
                       text=True, env=dict(os.environ, LC_ALL="C"), timeout=600)
    ms = (time.monotonic() - t) * 1000
    if r.returncode != 0:
        raise RuntimeError(f"virsh list failed: {r.stderr.strip()}")
    return ms, len(r.stdout.splitlines()) - 3  # header, rule, trailing blank


def list_part(env, res):
    args = env.args
    have = 0
    for count in args.list_counts:
        rates = {}
        for s in STACKS:
            heartbeat()
            rates[s] = define_many(env, s, have, count)
            log(f"{s}: {count} defined ({rates[s]:.0f} defines/s)")
        have = count
        samples = {s: [] for s in STACKS}
        errors = {s: 0 for s in STACKS}
        for i in range(args.list_runs):
            heartbeat()
            for s in (STACKS if i % 2 == 0 else STACKS[::-1]):
                try:
                    ms, lines = virsh_list(env.stacks[s].uri)
                except (RuntimeError, subprocess.TimeoutExpired) as e:
                    errors[s] += 1
                    log(f"{s}: {e}")
                    continue
                if lines != count:
                    errors[s] += 1
                    log(f"{s}: virsh list printed {lines} domains, not {count}")
                    continue
                samples[s].append(ms)
                res.sample(f"list_{count}_ms", s, ms, i)
        res.figure("list", f"list_{count}_ms", f"virsh list --all, {count} defined", "ms",
                   {s: median(samples[s]) for s in STACKS},
                   n={s: len(samples[s]) for s in STACKS}, errors=errors,
                   note="median; the real virsh, connection included")
        res.figure("list", f"define_rate_{count}", f"defines/s up to {count} domains",
                   "1/s", rates, better="higher", note="one client, sequential")
        res.figure("list", f"daemon_rss_{count}_mib", f"daemon Rss, {count} defined", "MiB",
                   {s: mem_mib(env.stacks[s].daemon_pid()) for s in STACKS})


def mem_mib(pid):
    m = stacks.memory_kib(pid)
    return m[0] / 1024 if m else None


# --------------------------------------------------------------------------
# rpc: concurrent clients


def client_main(uri, name, xml, op, duration, go, results):
    """One client process: its own connection and domain."""
    errs, count, first = 0, 0, ""
    try:
        conn = libvirt.open(uri)
        # The cycles define their domain themselves (a second define of
        # the name would need its UUID).
        dom = conn.defineXML(xml) if op == "info" else None
    except libvirt.libvirtError as e:
        results.put((0, 1, f"setup: {e}"))
        go.wait()
        return
    go.wait()
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        try:
            if op == "info":
                dom.info()
            elif op == "define":
                conn.defineXML(xml).undefine()
            else:
                dom = conn.defineXML(xml)
                dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
                dom.destroy()
                dom.undefine()
            count += 1
        except libvirt.libvirtError as e:
            errs += 1
            first = first or str(e)
            if op == "lifecycle":  # leave the domain as the next cycle wants it
                try:
                    if dom.isActive():
                        dom.destroy()
                    dom.undefine()
                except libvirt.libvirtError:
                    pass
    try:
        if dom is not None and op == "info":
            dom.undefine()
        conn.close()
    except libvirt.libvirtError:
        pass
    results.put((count, errs, first))


def run_clients(env, s, op):
    args = env.args
    ctx = multiprocessing.get_context("fork")
    go = ctx.Event()
    results = ctx.Queue()
    procs = []
    for i in range(args.clients):
        name = f"c{i:03d}"
        p = ctx.Process(target=client_main,
                        args=(env.stacks[s].uri, name, env.xml(s, name), op,
                              args.duration, go, results))
        p.start()
        procs.append(p)
    # Every client connected (and its domain defined) before the clock runs.
    time.sleep(min(30, 1 + 0.2 * args.clients))
    go.set()
    t = time.monotonic()
    out = []
    for _ in procs:
        try:
            out.append(results.get(timeout=args.duration + 300))
        except queue.Empty:
            out.append((0, 1, "a client did not report within 300 s of the end"))
    wall = time.monotonic() - t
    for p in procs:
        p.join(30)
        if p.is_alive():
            p.kill()
    count = sum(o[0] for o in out)
    errs = sum(o[1] for o in out)
    firsts = sorted({o[2] for o in out if o[2]})
    for f in firsts[:3]:
        log(f"{s} {op}: error: {f}")
    return count / wall, errs, count


def rpc_part(env, res):
    args = env.args
    ops = [("info", "rpc_info_per_s", "virDomainGetInfo calls/s"),
           ("define", "define_undefine_per_s", "define+undefine cycles/s")]
    if args.guests:
        ops.append(("lifecycle", "lifecycle_per_s",
                    "define+start paused+destroy+undefine/s"))
    for op, fig, label in ops:
        vals, errs, ns = {}, {}, {}
        for s in STACKS:
            heartbeat()
            vals[s], errs[s], ns[s] = run_clients(env, s, op)
            log(f"{s} {op}: {vals[s]:.1f}/s, {errs[s]} errors")
        res.figure("rpc", fig, f"{args.clients} clients: {label}", "1/s", vals,
                   better="higher", n=ns, errors=errs,
                   note=f"{args.duration:g} s; one client process and domain each")


PARTS = {"lifecycle": lifecycle, "density": density, "list": list_part, "rpc": rpc_part}


def main():
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", required=True, choices=sorted(PARTS))
    ap.add_argument("--where", required=True, help="'machine' or 'testhost' (for the CSV)")
    ap.add_argument("--guests", action="store_true", help="start guests (real KVM)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--workdir", help="scratch directory (default: a new one in /tmp)")
    ap.add_argument("--daemon", required=True, help="virtduvisord")
    ap.add_argument("--vmm", required=True, help="duvisor-vmm")
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--qemu-cache", help="kept directory for libvirt's QEMU capabilities")
    ap.add_argument("--mem", type=int, default=256, help="guest MiB (lifecycle, rpc)")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--density", type=int, default=50)
    ap.add_argument("--density-mem", type=int, default=128,
                    help="MiB per domain (the guest fixture runs out of memory in 64)")
    ap.add_argument("--no-pause", dest="pause", action="store_false",
                    help="density: leave the guests running (by default each is paused "
                    "once ready: with dozens of guests running the emulated test host "
                    "has crashed)")
    ap.add_argument("--no-density-balloon", dest="density_balloon",
                    action="store_false",
                    help="density: no balloon (by default both stacks get a virtio "
                    "balloon with free page reporting)")
    ap.add_argument("--settle", type=float, default=8,
                    help="density: seconds each guest runs once ready, before it "
                    "is paused and the next one starts")
    ap.add_argument("--reserve", type=int, default=384,
                    help="MiB left available when density stops starting domains")
    ap.add_argument("--list-counts", default="1000,10000")
    ap.add_argument("--list-runs", type=int, default=5)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--boot-timeout", type=float, default=180)
    args = ap.parse_args()
    args.list_counts = sorted(int(x) for x in args.list_counts.split(","))
    OUT = os.path.abspath(args.out)
    for k in ("daemon", "vmm", "kernel", "initrd"):
        setattr(args, k, os.path.abspath(getattr(args, k)))
    os.makedirs(OUT, exist_ok=True)
    heartbeat()
    if args.part == "density" and not args.guests:
        sys.exit("mgmt: density needs --guests")
    res = Results(args.where)
    # A directory of its own: another run may be going on on this machine.
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="duvisor-bench-")
    env = Env(args)
    try:
        env.start()
        PARTS[args.part](env, res)
    except (libvirt.libvirtError, RuntimeError, OSError) as e:
        log(f"error: {args.part}: {e}")
    finally:
        env.stop()
        res.write(OUT)
        shutil.rmtree(env.work, ignore_errors=True)
    ok = res.complete()
    log(f"{args.part} on {args.where}: " + ("every figure from both stacks" if ok
                                             else "FIGURES MISSING"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
