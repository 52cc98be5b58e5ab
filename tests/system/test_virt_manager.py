# SPDX-License-Identifier: GPL-2.0-or-later
"""virt-manager (Debian's 4.1, unmodified) on a private X server (Xvfb),
connected to our daemon: it lists a domain, starts and pauses it,
follows a resume made elsewhere (it trusts our events and stops
polling), opens the serial text console, where a command typed runs in
the guest, and shuts the guest down.  virt_manager_ui.py drives it;
screenshots and virt-manager's log go to build/test-artifacts/
(DUVISOR_ARTIFACTS).
"""
import importlib.util
import os
import pathlib
import shutil
import signal
import subprocess

import pytest

from sysfixtures import (BOOT_TIMEOUT, ROOT, conn, daemon,  # noqa: F401
                         domain_xml, events, libvirt)

NAME = "vm-ui"
TOOLS = ("virt-manager", "Xvfb", "xdotool", "import", "dbus-run-session")
ARTIFACTS = pathlib.Path(os.environ.get("DUVISOR_ARTIFACTS",
                                        ROOT / "build/test-artifacts"))
DRIVER = pathlib.Path(__file__).with_name("virt_manager_ui.py")


@pytest.fixture
def display():
    missing = [t for t in TOOLS if not shutil.which(t)]
    if not importlib.util.find_spec("dogtail"):
        missing.append("python3-dogtail")
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} "
                    "(tools/install-deps)")
    r, w = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0",
                             "1280x800x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    try:
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        xvfb.send_signal(signal.SIGTERM)
        xvfb.wait(10)


def test_virt_manager(daemon, conn, events, libvirt, display, tmp_path):
    lv = libvirt
    dom = conn.defineXML(domain_xml(NAME, action="shell"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, DISPLAY=display, HOME=str(home),
               XDG_CONFIG_HOME=str(home / ".config"),
               XDG_CACHE_HOME=str(home / ".cache"),
               XDG_RUNTIME_DIR=str(home),
               DUVISOR_BOOT_TIMEOUT=str(BOOT_TIMEOUT))
    r = subprocess.run(["dbus-run-session", "--", "/usr/bin/python3",
                        str(DRIVER), daemon.uri, NAME, str(ARTIFACTS)],
                       env=env, capture_output=True, text=True,
                       timeout=4 * BOOT_TIMEOUT)
    steps = [line[4:] for line in r.stdout.splitlines()
             if line.startswith("ok: ")]
    assert r.returncode == 0, r.stdout + r.stderr[-4000:]
    assert steps == ["Shutoff", "Running", "Paused", "Running", "console",
                     "Shutoff"]

    # What virt-manager did, as the daemon saw it.
    assert dom.state() == [lv.VIR_DOMAIN_SHUTOFF,
                           lv.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
    assert events.of(NAME) == [
        (lv.VIR_DOMAIN_EVENT_STARTED, lv.VIR_DOMAIN_EVENT_STARTED_BOOTED),
        (lv.VIR_DOMAIN_EVENT_SUSPENDED, lv.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
        (lv.VIR_DOMAIN_EVENT_RESUMED, lv.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
        (lv.VIR_DOMAIN_EVENT_SHUTDOWN, lv.VIR_DOMAIN_EVENT_SHUTDOWN_HOST),
        (lv.VIR_DOMAIN_EVENT_STOPPED, lv.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)]
    console = (daemon.log_dir / f"{NAME}.console.log").read_text(
        errors="replace")
    assert "vm-42" in console
    log = (ARTIFACTS / "virt-manager.log").read_text(errors="replace")
    assert "Using domain events" in log
    for shot in ("list", "console", "shutoff"):
        assert (ARTIFACTS / f"virt-manager-{shot}.png").stat().st_size > 0
