"""Shared by every pytest suite.

Inside the KVM test host (QEMU's software emulation of AMD SVM with nested
paging) a guest very rarely dies or stalls at a random point: a triple
fault during SMP bring-up or idle at its shell with no guest device
active, a console that stops mid-line at boot.  QEMU's own microvm resets
the same way at the same point in the same test host, and the test host
has been seen crashing on a page fault inside its own page-fault handler
and livelocking in khugepaged (tests/host/README.md).  So inside the test
host a failed test runs once more, and says so: the terminal summary lists
it under "test-host reruns" with its first failure, the JUnit report
carries a `test-host-rerun` property (tools/count-results lists those),
and a second failure fails it.  Outside the test host nothing is rerun.

A failed test that used a daemon (a fixture with a `log_dir`) carries the
tails of that daemon's domain logs in its report: module-scoped daemons
print them only at the module's end, far from the failure.
"""
import os

import pytest
from _pytest.runner import runtestprotocol

_reruns = []


def _domain_logs(item):
    for value in getattr(item, "funcargs", {}).values():
        log_dir = getattr(value, "log_dir", None)
        if log_dir is None or not hasattr(log_dir, "glob"):
            continue
        for p in sorted(log_dir.glob("*.log")):
            yield p.name, p.read_text(errors="replace")[-4000:]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for name, text in _domain_logs(item):
            report.sections.append((f"domain log {name}", text))


def _first_run_text(report, limit=12000):
    """The first run's failure and domain logs, for the terminal summary:
    the JUnit report keeps only a line of it."""
    parts = [report.longreprtext or ""]
    parts += [f"--- {name} ---\n{text}" for name, text in report.sections
              if name.startswith("domain log")]
    return "\n".join(parts)[-limit:]


def _first_line(report):
    lines = [line for line in (report.longreprtext or "").splitlines()
             if line.startswith("E ")]
    return " ".join((lines[0][1:] if lines else "failed").split())[:300]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    if not os.environ.get("DUVISOR_TEST_HOST"):
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    first = next((r for r in reports if r.failed), None)
    if first is not None:
        _reruns.append((item.nodeid, _first_line(first), _first_run_text(first)))
        item._initrequest()
        item._report_sections = []
        item.user_properties.append(("test-host-rerun", _first_line(first)))
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        note = "\n".join(
            ["run twice: the first run failed", "--- first run ---",
             first.longreprtext] +
            [f"--- first run: {name} ---\n{text}"
             for name, text in first.sections if name.startswith("domain log")])
        for r in reports:
            if r.when == "call":
                r.sections.append(("test-host rerun", note))
    for r in reports:
        item.ihook.pytest_runtest_logreport(report=r)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def pytest_terminal_summary(terminalreporter):
    if _reruns:
        terminalreporter.section("test-host reruns")
        for nodeid, why, _ in _reruns:
            terminalreporter.line(f"rerun after a failure: {nodeid}: {why}")
        for nodeid, _, text in _reruns:
            terminalreporter.section(f"first run of {nodeid}", sep="-")
            terminalreporter.line(text)
