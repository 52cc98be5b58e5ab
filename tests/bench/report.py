# SPDX-License-Identifier: GPL-2.0-or-later
"""The report of tests/bench/bench: reads each part's results, prints the
table of ratios, writes bench.csv, bench.png (gnuplot), report.txt and an
optional JUnit file (pass = the part ran and produced every figure for both
stacks; never on the numbers)."""
import csv
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import xml.etree.ElementTree as ET

STACKS = ("duvisor", "qemu")

# Goals of the issues, on duvisor / qemu unless absolute.
GOALS = {
    "start_running_ms": ("ratio", 0.25),
    "start_ready_ms": ("ratio", 0.25),
    "density_vm_rss_per_vm_mib": ("ratio", 0.3),
    "list_10000_ms": ("ratio", 0.5),
    "boot_ready_ms": ("ratio", 0.6),
    "boot_exit_ms": ("ratio", 0.6),
    "boot_overhead_kib": ("max", 2048),
    "boot_user_exits": ("below", 500),
}

# vmm_boot.py's summary.csv metrics shown in the table.
VMM_BOOT = [
    ("ready_ms", "boot_ready_ms", "VMM boot to the ready line", "ms"),
    ("exit_ms", "boot_exit_ms", "VMM boot to exit (guest poweroff)", "ms"),
    ("rss_kib", "boot_rss_kib", "VMM Rss at the ready line", "KiB"),
    ("overhead_kib", "boot_overhead_kib", "VMM overhead (Rss - guest RAM)", "KiB"),
    ("user_exits", "boot_user_exits", "user-space exits per boot", "exits"),
]

SECTIONS = [
    ("machine", "On this machine, no guest (QEMU = libvirtd's QEMU driver)"),
    ("vmm", "In the KVM test host, VMM level (QEMU = qemu-system-x86_64 -M microvm, "
            "no libvirt)"),
    ("testhost", "In the KVM test host with guests (QEMU = libvirtd + qemu-system-x86_64)"),
    ("testhost-mini", "The same with the minimal guest kernel (tests/guest/build-mini-kernel; "
                      "density: 64 MiB domains)"),
]
MINI_SUFFIX = "-mini"

CAVEAT = """Caveat: the KVM test host is QEMU/TCG with emulated AMD SVM (nested KVM); absolute
times there are slow and weigh VM exits heavily: only the ratios mean something, and
only within one run.  The machine has 2 cores shared with other work: noisy.  Figures
with 'higher' are throughputs (ratio > 1 is better for duvisor); all others: lower is
better.  Goals are checked on duvisor / qemu unless stated."""


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


class PartResult:
    def __init__(self, part, status, figures, skipped=None):
        self.part = part
        self.status = status
        self.figures = figures
        self.skipped = skipped

    def problem(self):
        if self.skipped:
            return None
        if self.status != 0:
            return f"exit status {self.status}"
        if not self.figures:
            return "no figures"
        missing = [f["label"] for f in self.figures
                   if any(num(f.get(s)) is None for s in STACKS)]
        if missing:
            return "missing values: " + "; ".join(missing)
        return None

    def ok(self):
        return self.problem() is None


def read_csv(path):
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return None


def read_part(part, outdir):
    """The part's figures as dicts (keys of mgmt.py's figures.csv)."""
    rows = read_csv(os.path.join(outdir, "figures.csv"))
    if rows is not None:
        for r in rows:
            r.setdefault("part", part)
            r.setdefault("where", "testhost")
            r.setdefault("better", "lower")
            r["section"] = section_of(part, r)
            if part.endswith(MINI_SUFFIX):
                r["figure"] += "_mini"
        return rows
    summary = read_csv(os.path.join(outdir, "summary.csv"))
    if summary is not None:
        return from_summary(part, summary)
    runs = read_csv(os.path.join(outdir, "io-runs.csv"))
    if runs is not None:
        return from_runs(part, runs)
    return []


def section_of(part, row):
    if part.startswith("vmm-"):
        return "vmm"
    if part.endswith(MINI_SUFFIX):
        return "testhost-mini"
    return "machine" if row.get("where") == "machine" else "testhost"


def from_summary(part, summary):
    """Figures from a summary.csv in vmm_boot.py's format (metric, unit,
    vmm, n, median, ...; vmm 'duvisor-vmm' or another, QEMU's)."""
    by = {}
    for r in summary:
        stack = "duvisor" if r["vmm"] == "duvisor-vmm" else "qemu"
        by.setdefault(r["metric"], {})[stack] = r
    wanted = VMM_BOOT if part == "vmm-boot" else \
        [(m, f"{part}:{m}", m, next(iter(v.values()))["unit"]) for m, v in by.items()
         if len(v) == 2]
    out = []
    same_round = by.get("ready_ms_same_round_ratio", {}).get("duvisor")
    for metric, fig, label, unit in wanted:
        v = by.get(metric, {})
        row = {"part": part, "figure": fig, "label": label, "unit": unit,
               "where": "testhost", "better": "lower", "section": "vmm", "note": ""}
        for s in STACKS:
            row[s] = v.get(s, {}).get("median", "")
            row[f"n_{s}"] = v.get(s, {}).get("n", "")
        if metric == "ready_ms" and same_round:
            row["note"] = (f"median of same-round ratios {same_round['median']} "
                           f"[{same_round['min']}..{same_round['max']}]")
        out.append(row)
    return out


def from_runs(part, runs):
    """Figures from run-io's io-runs.csv (label, vmm, ok, problem, then one
    column per metric; vmm 'duvisor-vmm' or QEMU's): the medians of the
    good boots.  Labels, units and goals from vmm_io.METRICS when it has
    them (key, label, unit, goal: duvisor / qemu >= goal, higher better)."""
    keys = [k for k in (runs[0] if runs else {}) if k not in ("label", "vmm", "ok", "problem")]
    meta = {k: (k, "", None) for k in keys}
    try:
        import vmm_io
        meta.update({m[0]: tuple(m[1:4]) for m in vmm_io.METRICS})
    except (ImportError, AttributeError, IndexError, TypeError):
        pass
    out = []
    for k in keys:
        label, unit, goal_ratio = meta[k]
        fig = f"io_{k}"
        if goal_ratio is not None:
            GOALS[fig] = ("min_ratio", goal_ratio)
        row = {"part": part, "figure": fig, "label": label, "unit": unit, "where": "testhost",
               "better": "higher", "section": "vmm", "note": ""}
        for s in STACKS:
            xs = [num(r.get(k)) for r in runs if r.get("ok") in ("1", "True", "true")
                  and (r.get("vmm") == "duvisor-vmm") == (s == "duvisor")]
            xs = sorted(x for x in xs if x is not None)
            row[s] = statistics.median(xs) if xs else ""
            row[f"n_{s}"] = len(xs)
        out.append(row)
    return out


def ratio(row):
    d, q = num(row.get("duvisor")), num(row.get("qemu"))
    if d is None or q is None or q == 0 or row["unit"] in ("VMs",):
        return None
    return d / q


def goal_of(figure):
    """The goal of a figure; a minimal-kernel figure has its base's."""
    return GOALS.get(figure) or GOALS.get(figure.removesuffix("_mini"))


def goal(row):
    """(text, met) for the figure's goal, or ("", None)."""
    g = goal_of(row["figure"])
    if not g:
        return "", None
    kind, limit = g
    if kind in ("ratio", "min_ratio"):
        r = ratio(row)
        if kind == "min_ratio":
            return f">= {limit}x", (None if r is None else r >= limit)
        return f"<= {limit}x", (None if r is None else r <= limit)
    d = num(row.get("duvisor"))
    if kind == "max":
        return f"<= {limit:g} {row['unit']}", (None if d is None else d <= limit)
    return f"< {limit:g} {row['unit']}", (None if d is None else d < limit)


def fmt(v):
    x = num(v)
    if x is None:
        return "-" if v in (None, "") else str(v)
    if abs(x) >= 100 or x == int(x):
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def metadata(root, args, bins, guest):
    def out(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, cwd=root,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"
    rev = out(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    if out(["git", "status", "--porcelain", "--untracked-files=no", "--", "src"]):
        rev += "+dirty(src)"
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "mode": "quick (smoke) run" if args.quick else "full run",
        "rev": rev,
        "machine": f"{os.cpu_count()} CPUs ({cpu}), {platform.release()}",
        "libvirt": out(["libvirtd", "--version"]),
        "qemu": out(["qemu-system-x86_64", "--version"]).splitlines()[0]
        if shutil.which("qemu-system-x86_64") else "?",
        "guest": f"the fixture in {os.path.dirname(guest.get('initramfs', '?'))}: "
                 f"{getattr(args, 'kernel', '?')} + initramfs.cpio.gz (vmm-io: vmlinuz)"
                 + (f"; minimal kernel {guest['mini']} with "
                    f"{os.path.basename(guest['initramfs_nomodules'])}"
                    if guest.get("mini") else ""),
    }


def table(results, meta):
    lines = [f"DuVisor vs libvirt + QEMU: {meta['mode']}, {meta['date']}, source {meta['rev']}",
             f"  machine: {meta['machine']}",
             f"  {meta['libvirt']}; {meta['qemu']}",
             f"  guest: {meta['guest']}", ""]
    lines += CAVEAT.splitlines()
    head = f"{'figure':56} {'unit':>6} {'duvisor':>10} {'qemu':>10} {'ratio':>7}  goal"
    rows = [f for r in results for f in r.figures]
    for key, title in SECTIONS:
        sec = [f for f in rows if f["section"] == key]
        if not sec:
            continue
        lines += ["", title, head, "-" * (len(head) + 16)]
        for f in sec:
            text, met = goal(f)
            r = ratio(f)
            mark = "" if met is None else (" met" if met else " NOT met")
            label = f["label"] + (" (higher)" if f.get("better") == "higher" else "")
            errs = [f"{s} {f.get(f'errors_{s}')}" for s in STACKS
                    if f.get(f"errors_{s}") not in (None, "", "0")]
            extra = f"  [errors: {', '.join(errs)}]" if errs else ""
            lines.append(f"{label[:56]:56} {f['unit']:>6} {fmt(f.get('duvisor')):>10} "
                         f"{fmt(f.get('qemu')):>10} {fmt(r) if r is not None else '-':>7}  "
                         f"{text}{mark}{extra}")
        notes = sorted({f"{f['label']}: {f['note']}" for f in sec
                        if f.get("note") and any(w in f["note"] for w in (
                            "stopped", "same-round", "nothing", "incomplete"))})
        lines += [f"  note: {n}" for n in notes]
    lines.append("")
    for r in results:
        if r.skipped:
            lines.append(f"part {r.part}: SKIPPED: {r.skipped}")
        elif not r.ok():
            lines.append(f"part {r.part}: FAILED: {r.problem()}")
    ran = [r for r in results if not r.skipped]
    lines.append(f"{sum(r.ok() for r in ran)} of {len(ran)} parts produced every figure "
                 "for both stacks")
    return "\n".join(lines) + "\n"


CSV_FIELDS = ["part", "where", "figure", "label", "unit", "better", "duvisor", "qemu", "ratio",
              "goal", "goal_met", "n_duvisor", "n_qemu", "errors_duvisor", "errors_qemu", "note"]


def write_csv(path, results):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        for r in results:
            for fig in r.figures:
                text, met = goal(fig)
                rt = ratio(fig)
                w.writerow({**fig, "ratio": f"{rt:.4f}" if rt is not None else "",
                            "goal": text, "goal_met": "" if met is None else int(met)})


def write_png(outdir, results, meta):
    """Bars of duvisor / qemu from 1 (log scale), goals as marks."""
    if not shutil.which("gnuplot"):
        return "gnuplot is not installed (gnuplot-nox): no chart"
    figs = [f for r in results for f in r.figures if ratio(f) is not None]
    if not figs:
        return "no ratios to plot"
    dat = os.path.join(outdir, "bench.dat")
    with open(dat, "w") as f:
        for i, fig in enumerate(figs):
            rt = ratio(fig)
            good = rt >= 1 if fig.get("better") == "higher" else rt <= 1
            g = goal_of(fig["figure"])
            gv = g[1] if g and g[0] in ("ratio", "min_ratio") else "NaN"
            where = {"machine": "machine", "vmm": "VMM", "testhost": "host",
                     "testhost-mini": "host, minimal kernel"}[fig["section"]]
            label = f"{fig['label']} [{where}]".replace('"', "'")
            f.write(f'{i} {rt:.5g} {min(rt, 1):.5g} {max(rt, 1):.5g} '
                    f'{0x2e8b57 if good else 0xcd3333} {gv} "{label}"\n')
    script = f"""set terminal pngcairo size 1600,1000 font "DejaVu Sans,9" noenhanced
set output "{os.path.join(outdir, 'bench.png')}"
set title "duvisor / QEMU, {meta['mode']}, {meta['date']} ({meta['rev']}); green: duvisor better, x: goal; nested KVM, 2 noisy cores"
set logscale y 10
set ylabel "ratio duvisor / qemu (log)"
set grid ytics
set key off
set xtics rotate by 50 right nomirror
set xrange [-1:{len(figs)}]
set bmargin 26
set rmargin 4
set style fill solid 0.85 noborder
plot "{dat}" using 1:2:($1-0.38):($1+0.38):3:4:5:xtic(7) with boxxyerror lc rgb variable, \\
     1 with lines lc rgb "black" dt 2, \\
     "{dat}" using 1:6 with points pt 2 ps 2 lc rgb "#1f3fbf"
"""
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode != 0:
        return f"gnuplot failed: {r.stderr.strip()[:500]}"
    return None


def write_junit(path, results, report_problem):
    suite = ET.Element("testsuite", name="bench")
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    cases = [(r.part, r.problem(), r.skipped) for r in results]
    cases.append(("report", report_problem, None))
    for name, problem, skipped in cases:
        case = ET.SubElement(suite, "testcase", classname="tests.bench", name=name)
        counts["tests"] += 1
        if skipped:
            ET.SubElement(case, "skipped", message=skipped)
            counts["skipped"] += 1
        elif problem:
            ET.SubElement(case, "failure", message=problem)
            counts["failures"] += 1
    for k, v in counts.items():
        suite.set(k, str(v))
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)


def write_all(outdir, results, meta, junit=None):
    text = table(results, meta)
    write_csv(os.path.join(outdir, "bench.csv"), results)
    chart = write_png(outdir, results, meta)
    text += ("chart: " + chart if chart else
             f"chart: {os.path.join(outdir, 'bench.png')}") + "\n"
    text += f"CSV: {os.path.join(outdir, 'bench.csv')}; each part's data in {outdir}/PART/\n"
    with open(os.path.join(outdir, "report.txt"), "w") as f:
        f.write(text)
    if junit:
        write_junit(junit, results, chart)
    return text
